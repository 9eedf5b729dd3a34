//! The list repository port. Every method takes the owner, and implementations put it in every
//! `WHERE`: another user's list is indistinguishable from one that does not exist.

use time::OffsetDateTime;

use super::model::{List, ListId};
use crate::position::Slot;
use crate::repo::RepoError;
use crate::task::Version;
use crate::user::UserId;

/// Where lists are kept.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait ListRepository: Send + Sync + 'static {
    /// Stores a new list after the owner's others; returns it as stored (with its position).
    ///
    /// # Errors
    /// `Conflict` when the owner has a list of that name (ignoring case); `Rule` when the
    /// owner has [`List::MAX_PER_USER`] lists; `Unavailable` when unreachable.
    async fn insert(&self, list: &List) -> Result<List, RepoError>;

    /// The owner's list, with its counts.
    ///
    /// # Errors
    /// `NotFound` when the owner has no such list; `Unavailable` when unreachable.
    async fn get(&self, owner: &UserId, id: ListId) -> Result<List, RepoError>;

    /// Every list of the owner with its counts, in manual order.
    ///
    /// # Errors
    /// `Unavailable` when unreachable.
    async fn all(&self, owner: &UserId) -> Result<Vec<List>, RepoError>;

    /// Replaces the stored list by `list`, only if it is still at `previous`'s version.
    ///
    /// # Errors
    /// `NotFound`, `VersionMismatch` (another version), `Conflict` (the new name is taken);
    /// `Unavailable` when unreachable.
    async fn update(&self, previous: &List, list: &List) -> Result<(), RepoError>;

    /// Deletes the list and every task in it, if `expected` is `None` or the stored version.
    ///
    /// # Errors
    /// `NotFound`, `VersionMismatch` as for `update`; `Unavailable` when unreachable.
    async fn delete(
        &self,
        owner: &UserId,
        id: ListId,
        expected: Option<Version>,
    ) -> Result<(), RepoError>;

    /// Puts the list at `slot` among the owner's lists, writing no other list.
    ///
    /// # Errors
    /// `NotFound`, `VersionMismatch` as for `update`; `Rule` (field `after`) when the list to
    /// follow is not another of the owner's; `Unavailable` when unreachable.
    async fn place(
        &self,
        owner: &UserId,
        id: ListId,
        slot: Slot<ListId>,
        expected: Option<Version>,
        now: OffsetDateTime,
    ) -> Result<List, RepoError>;
}
