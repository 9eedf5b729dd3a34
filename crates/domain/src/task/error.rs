//! Why a task use case failed.

use crate::idempotency::KeyRefusal;
use crate::repo::RepoError;
use crate::validation::FieldError;

/// The failures of the task use cases, in terms the HTTP layer maps to statuses.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// No such task for this user (including another user's task).
    #[error("no such task")]
    NotFound,
    /// A list named by a query is not one of the user's.
    #[error("no such list")]
    ListNotFound,
    /// A rule that depends on the user's data refused the request (a parent that is not
    /// top-level, a list that is not theirs, a limit reached).
    #[error("{0}")]
    Invalid(FieldError),
    /// The client's `If-Match` names a version that is no longer current.
    #[error("the task has changed since the version given")]
    PreconditionFailed,
    /// The task kept changing under concurrent writers; the client may retry.
    #[error("the task is being changed by other requests; retry")]
    Busy,
    /// The idempotency key was used with a different request, or is still in use.
    #[error(transparent)]
    Key(#[from] KeyRefusal),
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
            RepoError::Rule(field) => Self::Invalid(field),
            RepoError::Conflict => Self::Unexpected(error.into()),
        }
    }
}

impl crate::repo::OptimisticError for TaskError {
    fn precondition_failed() -> Self {
        Self::PreconditionFailed
    }

    fn busy() -> Self {
        Self::Busy
    }
}
