//! The connection pool as patched in vendor/sqlx-core: a released connection is flushed, not
//! pinged, and one with nothing to flush is back in the pool at once, without a task. What a
//! cancelled query or a dropped transaction left behind must still be cleaned up: the
//! rollback sent at once (its locks released with it), the answers drained. And as the store
//! sets it up: an in-memory SQLite's one connection survives a cancelled checkout.

use std::time::Duration;

use adapters_postgres::testing::{TestDatabase, connection};
use adapters_postgres::{SeaTaskRepository, SeaUserRepository, Store, Wake};
use domain::task::{Task, TaskId, TaskRepository};
use domain::testing::new_task;
use domain::user::UserRepository;
use futures_util::FutureExt;
use futures_util::future::join_all;
use sea_orm::sqlx::postgres::PgPoolOptions;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

/// More statements at once than the pool has connections, so that every pooled connection
/// serves one; each must answer its own question, and none may see the row of a transaction
/// that was dropped (a connection still inside it would).
async fn every_connection_is_clean(db: &TestDatabase) {
    let pool = connection(db.store());
    let answers = join_all((0..12_i32).map(|n| async move {
        pool.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT $1::int, (SELECT COUNT(*) FROM users WHERE id = 'dropped'), \
             pg_sleep(0.05)::text",
            [n.into()],
        ))
        .await
        .expect("a pooled connection answers")
        .expect("a row")
    }))
    .await;
    for (n, row) in (0..12_i32).zip(answers) {
        assert_eq!(
            row.try_get_by_index::<i32>(0).unwrap(),
            n,
            "another's answer"
        );
        assert_eq!(
            row.try_get_by_index::<i64>(1).unwrap(),
            0,
            "a connection was left inside the dropped transaction"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_query_leaves_its_connection_clean() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let pool = connection(db.store());
    let cancelled = tokio::time::timeout(
        Duration::from_millis(50),
        pool.execute_unprepared("SELECT pg_sleep(0.5)"),
    )
    .await;
    assert!(
        cancelled.is_err(),
        "the query was to be cancelled mid-flight"
    );
    every_connection_is_clean(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_transaction_is_rolled_back_at_once() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    db.execute("INSERT INTO users (id, created_at, updated_at) VALUES ('u', now(), now())")
        .await;
    let pool = connection(db.store());
    let dropped = pool.begin().await.unwrap();
    dropped
        .execute_unprepared(
            "INSERT INTO users (id, created_at, updated_at) VALUES ('dropped', now(), now()); \
             UPDATE users SET name = 'dropped' WHERE id = 'u'",
        )
        .await
        .unwrap();
    // On a connection of its own, taken while the other still holds the row's lock.
    let waiting = pool.begin().await.unwrap();
    waiting
        .execute_unprepared("SET LOCAL lock_timeout = '2s'")
        .await
        .unwrap();
    drop(dropped);
    // The rollback is sent on release, not whenever the connection is next used: the lock
    // is gone.
    waiting
        .execute_unprepared("UPDATE users SET name = 'waited' WHERE id = 'u'")
        .await
        .expect("the dropped transaction's lock was released");
    waiting.commit().await.unwrap();
    every_connection_is_clean(&db).await;
}

// One thread: a task spawned to return the connection could not have run before the check.
#[tokio::test(flavor = "current_thread")]
async fn a_clean_connection_is_back_in_the_pool_as_it_is_released() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let pool = connection(db.store()).get_postgres_connection_pool();
    let mut used = pool.acquire().await.unwrap();
    sea_orm::sqlx::query("SELECT 1")
        .execute(&mut *used)
        .await
        .unwrap();
    let idle = pool.num_idle();
    drop(used);
    assert_eq!(
        pool.num_idle(),
        idle + 1,
        "is vendor/sqlx-core's patch still applied?"
    );
    every_connection_is_clean(&db).await;
}

#[tokio::test]
async fn an_in_memory_database_outlives_a_cancelled_checkout() {
    let db = TestDatabase::sqlite().await;
    // A checkout given up at its first wait, as when a client leaves mid-request. Were the
    // connection pinged on checkout, giving up during the ping would close it, and the
    // database with it: the pool would open a new, empty one.
    drop(
        connection(db.store())
            .get_sqlite_connection_pool()
            .acquire()
            .now_or_never(),
    );
    connection(db.store())
        .execute_unprepared("SELECT COUNT(*) FROM users")
        .await
        .expect("the migrated database is still there");
}

#[tokio::test]
async fn returning_a_connection_is_a_small_future() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let pool = connection(db.store()).get_postgres_connection_pool();
    let mut conn = pool.acquire().await.unwrap();
    let returning = conn.return_to_pool();
    // Every release boxes it (vendor/sqlx-core); unpatched, the upkeep of `min_connections`
    // it ends with (rarely: after a connection was closed) held a connect future inline.
    assert!(
        size_of_val(&returning) < 1024,
        "{} bytes: is vendor/sqlx-core's patch still applied?",
        size_of_val(&returning)
    );
    returning.await;
}

#[tokio::test]
async fn acquiring_a_connection_is_a_small_future() {
    // Unpatched, it held a whole connect-and-TLS-handshake future: 14.5 KB, copied at every
    // boxing on SeaORM's way to the driver.
    let pool = PgPoolOptions::new()
        .connect_lazy("postgres://nobody@127.0.0.1:1/none")
        .unwrap();
    let acquire = pool.acquire();
    assert!(
        size_of_val(&acquire) < 2048,
        "{} bytes: is vendor/sqlx-core's patch still applied?",
        size_of_val(&acquire)
    );
}

adapters_postgres::on_both_backends! {
    setup = crate::database;
    the_requests_pool_serves_the_same_database_and_wakes_the_same_followers,
}

/// The requests have a pool of their own (on PostgreSQL): the database is one, and a write
/// through either pool wakes the store's followers.
async fn the_requests_pool_serves_the_same_database_and_wakes_the_same_followers(
    db: &TestDatabase,
) {
    let requests = db.store().pool_for_requests(db.settings()).await.unwrap();
    let size = |store: &Store| {
        connection(store)
            .get_postgres_connection_pool()
            .options()
            .get_max_connections()
    };
    if db.store().backend() == DbBackend::Postgres {
        // The settings' size; the listener's connection is the store's, not the requests'.
        assert_eq!(db.settings().max_connections, 5);
        assert_eq!(size(&requests), 5);
        assert_eq!(size(db.store()), 6);
    }
    // On SQLite `requests` is the store itself: a second in-memory pool would be a second
    // database, and the read at the end would find nothing.
    let (woken, mut wakes) = tokio::sync::mpsc::unbounded_channel();
    assert!(db.store().feed().follow(move |wake| {
        if let Wake::Owner(owner) = wake {
            woken.send(owner.to_owned()).unwrap();
        }
    }));
    let alice = crate::user("alice");
    SeaUserRepository::new(&requests)
        .ensure(&alice, crate::NOW)
        .await
        .unwrap();
    let task = Task::create(
        TaskId::generate(),
        alice.id().clone(),
        new_task("shared"),
        crate::NOW,
    )
    .unwrap();
    SeaTaskRepository::new(&requests)
        .insert(&task)
        .await
        .unwrap();
    assert_eq!(wakes.try_recv().unwrap(), "alice");
    let read = SeaTaskRepository::new(db.store())
        .get(alice.id(), task.id())
        .await
        .unwrap();
    assert_eq!(read.title().as_str(), "shared");
}
