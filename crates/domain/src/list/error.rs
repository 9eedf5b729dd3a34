//! Why a list use case failed.

use crate::idempotency::KeyRefusal;
use crate::repo::RepoError;
use crate::validation::FieldError;

/// The failures of the list use cases, in terms the HTTP layer maps to statuses.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// No such list for this user (including another user's list).
    #[error("no such list")]
    NotFound,
    /// The user has a list of that name already (ignoring case).
    #[error("a list with this name already exists")]
    NameTaken,
    /// A rule that depends on the user's data refused the request.
    #[error("{0}")]
    Invalid(FieldError),
    /// The client's `If-Match` names a version that is no longer current.
    #[error("the list has changed since the version given")]
    PreconditionFailed,
    /// The list kept changing under concurrent writers; the client may retry.
    #[error("the list is being changed by other requests; retry")]
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

impl From<RepoError> for ListError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::NotFound => Self::NotFound,
            RepoError::VersionMismatch => Self::PreconditionFailed,
            RepoError::Conflict => Self::NameTaken,
            RepoError::Rule(field) => Self::Invalid(field),
            RepoError::Unavailable(cause) => Self::Unavailable(cause),
            RepoError::Unexpected(cause) => Self::Unexpected(cause),
        }
    }
}

impl crate::repo::OptimisticError for ListError {
    fn precondition_failed() -> Self {
        Self::PreconditionFailed
    }

    fn busy() -> Self {
        Self::Busy
    }
}
