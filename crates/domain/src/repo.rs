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

/// How often a write without `If-Match` re-reads and tries again after losing a race.
pub(crate) const WRITE_ATTEMPTS: usize = 5;

/// What one attempt of an optimistic write came to.
pub(crate) enum Attempt<T> {
    /// It was written (or there was nothing to write).
    Done(T),
    /// Another writer changed the record since it was read.
    Lost,
}

impl<T> Attempt<T> {
    /// A write guarded by the version read: a version mismatch means the race was lost.
    pub(crate) fn of(result: Result<T, RepoError>) -> Result<Self, RepoError> {
        match result {
            Ok(value) => Ok(Self::Done(value)),
            Err(RepoError::VersionMismatch) => Ok(Self::Lost),
            Err(error) => Err(error),
        }
    }
}

/// The errors of a use case that writes optimistically.
pub(crate) trait OptimisticError: From<RepoError> {
    /// The client's `If-Match` names a version that is no longer current.
    fn precondition_failed() -> Self;
    /// Other writers won every attempt.
    fn busy() -> Self;
}

/// Optimistic concurrency, for every use case that reads, decides and writes: `attempt` reads
/// the record (refusing a version other than `expected`, the client's `If-Match`) and writes
/// guarded by the version it read. A lost race is retried on a fresh read when the client
/// named no version, and refused as a failed precondition when it did.
pub(crate) async fn optimistically<T, E: OptimisticError>(
    expected: Option<crate::task::Version>,
    mut attempt: impl AsyncFnMut() -> Result<Attempt<T>, E>,
) -> Result<T, E> {
    for _ in 0..WRITE_ATTEMPTS {
        match attempt().await? {
            Attempt::Done(value) => return Ok(value),
            Attempt::Lost if expected.is_none() => {}
            Attempt::Lost => return Err(E::precondition_failed()),
        }
    }
    Err(E::busy())
}

/// Refuses a record read at `read` when the client expected another version.
pub(crate) fn check_expected<E: OptimisticError>(
    expected: Option<crate::task::Version>,
    read: crate::task::Version,
) -> Result<(), E> {
    match expected {
        Some(version) if version != read => Err(E::precondition_failed()),
        _ => Ok(()),
    }
}
