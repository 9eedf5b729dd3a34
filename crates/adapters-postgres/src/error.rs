//! Driver errors translated into the ports' `RepoError`: what a client may be told (busy, gone,
//! conflict) is decided here, and the cause is kept only for the log.

use domain::repo::RepoError;
use sea_orm::sqlx;
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
                sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                    // PostgreSQL: connection exceptions (08), shutdown and recovery (57P0x),
                    // too many connections (53300). SQLite: busy (5) and locked (6).
                    code.starts_with("08")
                        || code.starts_with("57P0")
                        || code == "53300"
                        || code == "5"
                        || code == "6"
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

    #[test]
    fn a_record_not_found_from_the_driver_is_unexpected() {
        assert!(matches!(
            translate(DbErr::RecordNotFound("x".into())),
            RepoError::Unexpected(_)
        ));
    }
}
