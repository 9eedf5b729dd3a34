//! Why a task use case failed.

use crate::repo::RepoError;

/// The failures of the task use cases, in terms the HTTP layer maps to statuses.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// No such task for this user (including another user's task).
    #[error("no such task")]
    NotFound,
    /// The client's `If-Match` names a version that is no longer current.
    #[error("the task has changed since the version given")]
    PreconditionFailed,
    /// The task kept changing under concurrent writers; the client may retry.
    #[error("the task is being changed by other requests; retry")]
    Busy,
    /// The idempotency key was used with a different request.
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    /// The first request with this idempotency key is still running.
    #[error("a request with this Idempotency-Key is still in progress")]
    InFlight,
    /// The store could not be reached.
    #[error("storage unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<RepoError> for TaskError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::NotFound => Self::NotFound,
            RepoError::VersionMismatch => Self::PreconditionFailed,
            RepoError::Unavailable(cause) => Self::Unavailable(cause),
            RepoError::Unexpected(cause) => Self::Unexpected(cause),
            RepoError::Conflict => Self::Unexpected(error.into()),
        }
    }
}
