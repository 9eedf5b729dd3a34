//! The error every repository port returns, in business terms: adapters translate driver errors
//! into it, so nothing about SQL or drivers reaches the services or the client.

/// Why a repository call failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// No such record for this owner.
    #[error("record not found")]
    NotFound,
    /// The record exists but its version is not the one expected.
    #[error("record changed since it was read")]
    VersionMismatch,
    /// A uniqueness rule refused the write.
    #[error("conflicting record")]
    Conflict,
    /// A rule that depends on what is stored refused the write (a limit reached, a parent that
    /// is not top-level, a list that is not the owner's); the error names the request's field.
    #[error("{0}")]
    Rule(crate::validation::FieldError),
    /// The store could not be reached in time; worth retrying later.
    #[error("storage unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else; the cause is kept for the log.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}
