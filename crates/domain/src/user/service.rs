//! User use cases: who owns a path, and the signed-in user's record.

use std::sync::Arc;

use anyhow::anyhow;

use super::model::{AuthenticatedUser, User, UserId};
use super::ports::UserRepository;
use crate::clock::Clock;
use crate::repo::RepoError;

/// The path names another user than the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this resource belongs to another user")]
pub struct Forbidden;

/// Why a user use case failed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The store could not be reached.
    #[error("storage unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<RepoError> for UserError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Unavailable(cause) => Self::Unavailable(cause),
            RepoError::Unexpected(cause) => Self::Unexpected(cause),
            other => Self::Unexpected(other.into()),
        }
    }
}

impl AuthenticatedUser {
    /// The owner a request may act for: the `{user_id}` of a path must be the caller's own id
    /// (or the literal `me`), so nobody reaches another user's tasks by naming them.
    pub fn authorize_path(&self, path_user: &str) -> Result<&UserId, Forbidden> {
        if path_user == "me" || path_user == self.id().as_str() {
            Ok(self.id())
        } else {
            Err(Forbidden)
        }
    }
}

/// User use cases.
#[derive(Clone)]
pub struct UserService {
    users: Arc<dyn UserRepository>,
    clock: Arc<dyn Clock>,
}

impl UserService {
    /// A service over the given ports.
    pub fn new(users: Arc<dyn UserRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { users, clock }
    }

    /// Makes sure the caller has a row, created from their claims on first sight.
    pub async fn provision(&self, caller: &AuthenticatedUser) -> Result<(), UserError> {
        Ok(self.users.ensure(caller, self.clock.now()).await?)
    }

    /// The caller as the server knows them, provisioning them on first contact.
    pub async fn me(&self, caller: &AuthenticatedUser) -> Result<User, UserError> {
        self.provision(caller).await?;
        self.users
            .get(caller.id())
            .await?
            .ok_or_else(|| UserError::Unexpected(anyhow!("user missing right after ensure")))
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;
    use time::macros::datetime;

    use super::*;
    use crate::clock::MockClock;
    use crate::user::MockUserRepository;

    fn alice() -> AuthenticatedUser {
        AuthenticatedUser::new(
            UserId::parse("alice").unwrap(),
            Some("alice@example.com".into()),
            None,
        )
    }

    fn fixed_clock() -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(datetime!(2026-01-08 10:00 UTC));
        Arc::new(clock)
    }

    #[test]
    fn the_callers_own_id_in_the_path_is_allowed() {
        assert_eq!(alice().authorize_path("alice"), Ok(alice().id()));
    }

    #[test]
    fn me_in_the_path_stands_for_the_caller() {
        assert_eq!(alice().authorize_path("me"), Ok(alice().id()));
    }

    #[test]
    fn another_users_id_in_the_path_is_forbidden() {
        assert_eq!(alice().authorize_path("bob"), Err(Forbidden));
    }

    #[tokio::test]
    async fn me_ensures_the_user_then_reads_them() {
        let mut users = MockUserRepository::new();
        users
            .expect_ensure()
            .with(eq(alice()), eq(datetime!(2026-01-08 10:00 UTC)))
            .times(1)
            .returning(|_, _| Ok(()));
        let stored = User {
            id: alice().id().clone(),
            email: Some("alice@example.com".into()),
            name: None,
            created_at: datetime!(2026-01-01 0:00 UTC),
        };
        let returned = stored.clone();
        users
            .expect_get()
            .with(eq(alice().id().clone()))
            .times(1)
            .return_once(move |_| Ok(Some(returned)));
        let service = UserService::new(Arc::new(users), fixed_clock());

        assert_eq!(service.me(&alice()).await.unwrap(), stored);
    }

    #[tokio::test]
    async fn me_reports_an_unreachable_store_as_unavailable() {
        let mut users = MockUserRepository::new();
        users
            .expect_ensure()
            .return_once(|_, _| Err(RepoError::Unavailable(anyhow!("connection refused"))));
        let service = UserService::new(Arc::new(users), fixed_clock());

        assert!(matches!(
            service.me(&alice()).await,
            Err(UserError::Unavailable(_))
        ));
    }
}
