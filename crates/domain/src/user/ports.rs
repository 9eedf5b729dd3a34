//! The user repository port.

use time::OffsetDateTime;

use super::model::{AuthenticatedUser, User, UserId};
use crate::repo::RepoError;

/// Where users are kept.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait UserRepository: Send + Sync + 'static {
    /// Creates the user if absent, else refreshes `email` and `name` from the claims.
    /// Implementations may skip the write when they saw the same claims recently.
    ///
    /// # Errors
    /// MUST return `RepoError::Unavailable` when the database is unreachable.
    async fn ensure(&self, user: &AuthenticatedUser, now: OffsetDateTime) -> Result<(), RepoError>;

    /// The stored user, if any.
    ///
    /// # Errors
    /// MUST return `RepoError::Unavailable` when the database is unreachable.
    async fn get(&self, id: &UserId) -> Result<Option<User>, RepoError>;
}
