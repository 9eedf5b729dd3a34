//! Rows as read through vendor/sqlx-postgres and vendor/sqlx-core: `fetch_all`,
//! `fetch_optional` and `execute` read a statement's results straight from the connection and
//! a stream from its one generator, each value borrows its column's type from the statement
//! rather than cloning it, and over TLS the plaintext is copied out of rustls' records as they
//! come.

use adapters_postgres::testing::{TestDatabase, connection};
use sea_orm::sqlx::{self, Row};
use time::macros::datetime;

/// A PostgreSQL database of the test's own and the store's pool on it; `None` (the test
/// skipped) without `TEST_DATABASE_URL`.
async fn postgres() -> Option<(TestDatabase, sqlx::PgPool)> {
    let db = TestDatabase::postgres().await?;
    let pool = connection(db.store())
        .get_postgres_connection_pool()
        .clone();
    Some((db, pool))
}

/// A statement whose rows of 1 and 2 are sent before 3 divides by zero.
const FAILING_AT_ITS_THIRD_ROW: &str = "SELECT 10 / (3 - x) FROM generate_series(1, 5) AS x";

fn assert_divided_by_zero<T: std::fmt::Debug>(result: &Result<T, sqlx::Error>) {
    assert!(
        matches!(result, Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("22012")),
        "{result:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_statement_failing_after_its_first_rows_fails_whole_and_leaves_its_connection_clean() {
    let Some((_db, pool)) = postgres().await else {
        return;
    };
    let mut conn = pool.acquire().await.unwrap();
    let failed = sqlx::query(FAILING_AT_ITS_THIRD_ROW)
        .fetch_all(&mut *conn)
        .await;
    assert_divided_by_zero(&failed);
    let rows = sqlx::query("SELECT x FROM generate_series(1, 3) AS x")
        .fetch_all(&mut *conn)
        .await
        .expect("the connection answers its next statement");
    let numbers: Vec<i32> = rows.iter().map(|row| row.get(0)).collect();
    assert_eq!(numbers, [1, 2, 3]);
    // One row wanted: the statement is still read to its end, and its error is the answer.
    let failed = sqlx::query(FAILING_AT_ITS_THIRD_ROW)
        .fetch_optional(&mut *conn)
        .await;
    assert_divided_by_zero(&failed);
    let row = sqlx::query("SELECT 7::int4")
        .fetch_optional(&mut *conn)
        .await
        .expect("the connection answers its next statement")
        .expect("a row");
    assert_eq!(row.get::<i32, _>(0), 7);
    // Only the count wanted: the error after rows is still the answer.
    let failed = sqlx::query(FAILING_AT_ITS_THIRD_ROW)
        .execute(&mut *conn)
        .await;
    assert_divided_by_zero(&failed);
    let done = sqlx::query("SELECT 1")
        .execute(&mut *conn)
        .await
        .expect("the connection answers its next statement");
    assert_eq!(done.rows_affected(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn execute_counts_the_rows_of_every_statement() {
    let Some((_db, pool)) = postgres().await else {
        return;
    };
    let mut conn = pool.acquire().await.unwrap();
    let done = sqlx::raw_sql(
        "CREATE TEMPORARY TABLE t AS SELECT generate_series(1, 3) AS x; \
         UPDATE t SET x = x + 1; DELETE FROM t WHERE x > 2",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    assert_eq!(done.rows_affected(), 3 + 3 + 2);
    let done = sqlx::query("UPDATE t SET x = x * 10 WHERE x >= $1")
        .bind(2_i32)
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    let left: Vec<i32> = sqlx::query_scalar("SELECT x FROM t")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    assert_eq!(left, [20]);
}

#[tokio::test(flavor = "current_thread")]
async fn the_rows_of_several_statements_are_read_by_each_ones_columns() {
    let Some((_db, pool)) = postgres().await else {
        return;
    };
    let mut conn = pool.acquire().await.unwrap();
    let rows = sqlx::raw_sql("SELECT 1::int4 AS n; SELECT 'x'::text AS s, 2::int8 AS m")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let [first, second] = &rows[..] else {
        panic!("two rows expected, got {}", rows.len());
    };
    assert_eq!(first.try_get::<i32, _>("n").unwrap(), 1);
    assert_eq!(second.try_get::<&str, _>("s").unwrap(), "x");
    assert_eq!(second.try_get::<i64, _>("m").unwrap(), 2);
    let none = sqlx::query("SELECT 1 WHERE false")
        .fetch_optional(&mut *conn)
        .await
        .unwrap();
    assert!(none.is_none());
}

#[tokio::test]
async fn values_decode_by_their_columns_types() {
    let Some((_db, pool)) = postgres().await else {
        return;
    };
    let rows = sqlx::query(
        "SELECT ARRAY['a', NULL, 'c']::text[], NULL::int4, 'x'::text, 42::int8, \
         '2026-01-08 10:00+00'::timestamptz, (-2)::int2, (-70000)::int4, (-5000000000)::int8",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let [row] = &rows[..] else {
        panic!("one row expected, got {}", rows.len());
    };
    // An array's elements take their type from the array's.
    assert_eq!(
        row.try_get::<Vec<Option<String>>, _>(0).unwrap(),
        [Some("a".to_owned()), None, Some("c".to_owned())]
    );
    assert_eq!(row.try_get::<Option<i32>, _>(1).unwrap(), None);
    assert_eq!(row.try_get::<&str, _>(2).unwrap(), "x");
    assert_eq!(row.try_get::<i64, _>(3).unwrap(), 42);
    assert_eq!(
        row.try_get::<time::OffsetDateTime, _>(4).unwrap(),
        datetime!(2026-01-08 10:00 UTC)
    );
    // Integers of each width, and read wider (as the store reads a count), sign-extended.
    assert_eq!(row.try_get::<i16, _>(5).unwrap(), -2);
    assert_eq!(row.try_get::<i32, _>(6).unwrap(), -70_000);
    assert_eq!(row.try_get::<i64, _>(7).unwrap(), -5_000_000_000);
    assert_eq!(row.try_get_unchecked::<i64, _>(5).unwrap(), -2);
    assert_eq!(row.try_get_unchecked::<i64, _>(6).unwrap(), -70_000);
    // Read as what it is not, a column is refused by its own type's name.
    let error = row.try_get::<i64, _>(2).unwrap_err();
    assert!(error.to_string().contains("TEXT"), "{error}");
}

/// Far more than the read buffer (8 KiB) and a TLS record (16 KiB) hold: every byte arrives,
/// in order, across as many reads as it takes (over TLS when the server offers it, as the
/// test server does and `sslmode=prefer` takes).
#[tokio::test]
async fn a_large_result_arrives_whole() {
    let Some((_db, pool)) = postgres().await else {
        return;
    };
    let rows = sqlx::query(
        "SELECT x, repeat(chr(65 + x % 26), 1000 + x) FROM generate_series(1, 500) AS x",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 500);
    for (row, x) in rows.iter().zip(1_i32..) {
        let letter = char::from(b'A' + u8::try_from(x % 26).unwrap());
        let expected: String =
            std::iter::repeat_n(letter, usize::try_from(1000 + x).unwrap()).collect();
        assert_eq!(row.get::<i32, _>(0), x);
        assert_eq!(row.get::<&str, _>(1), expected, "row {x}");
    }
}
