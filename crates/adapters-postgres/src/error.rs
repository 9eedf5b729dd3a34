//! Driver errors translated into the ports' `RepoError`: what a client may be told (busy, gone,
//! conflict) is decided here, and the cause is kept only for the log.

use domain::repo::RepoError;
use sea_orm::sqlx;
use sea_orm::sqlx::sqlite::SqliteError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// The `RepoError` for a SeaORM error.
pub(crate) fn translate(error: DbErr) -> RepoError {
    if let Some(SqlErr::UniqueConstraintViolation(_)) = error.sql_err() {
        return RepoError::Conflict;
    }
    if is_unavailable(&error) {
        RepoError::Unavailable(error.into())
    } else {
        RepoError::Unexpected(error.into())
    }
}

/// Whether the database could not be reached or is refusing work for now, so that a retry
/// later may succeed (the API answers 503).
fn is_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match &**e {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(db) if db.try_downcast_ref::<SqliteError>().is_some() => {
                    // Busy (5) and locked (6), whichever extended code sqlx reports (a
                    // snapshot gone stale is 517, busy recovery 261...): the low byte is the
                    // primary code.
                    db.code()
                        .and_then(|code| code.parse::<i32>().ok())
                        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
                }
                sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                    // Connection exceptions (08), shutdown and recovery (57P0x), too many
                    // connections (53300).
                    code.starts_with("08") || code.starts_with("57P0") || code == "53300"
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::ConnAcquireErr;

    use super::*;

    #[test]
    fn a_pool_timeout_is_unavailable() {
        assert!(matches!(
            translate(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
            RepoError::Unavailable(_)
        ));
    }

    #[tokio::test]
    async fn a_stale_sqlite_snapshot_is_unavailable() {
        use sea_orm::sqlx::{Connection, Executor, SqliteConnection};

        let file = std::env::temp_dir().join(format!("busy-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let mut reader = SqliteConnection::connect(&url).await.expect("a database");
        let mut writer = SqliteConnection::connect(&url).await.expect("a database");
        for statement in [
            "PRAGMA journal_mode = WAL",
            "CREATE TABLE t (n INTEGER)",
            "BEGIN",
            "SELECT * FROM t",
        ] {
            reader.execute(statement).await.expect("a statement");
        }
        writer
            .execute("INSERT INTO t VALUES (1)")
            .await
            .expect("a write");
        // The reader's snapshot predates that write: its own write cannot proceed, however
        // long it waits (SQLITE_BUSY_SNAPSHOT, an extended code of busy).
        let error = reader
            .execute("INSERT INTO t VALUES (2)")
            .await
            .unwrap_err();
        let code = error
            .as_database_error()
            .and_then(sqlx::error::DatabaseError::code);
        assert_eq!(code.as_deref(), Some("517"));
        let translated = translate(DbErr::Exec(RuntimeErr::SqlxError(error.into())));
        drop((reader, writer));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
        assert!(matches!(translated, RepoError::Unavailable(_)));
    }

    #[test]
    fn a_record_not_found_from_the_driver_is_unexpected() {
        assert!(matches!(
            translate(DbErr::RecordNotFound("x".into())),
            RepoError::Unexpected(_)
        ));
    }
}
