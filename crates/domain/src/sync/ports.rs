//! The change log port.

use time::OffsetDateTime;

use super::cursor::{Cursor, CursorError};
use crate::list::{List, ListId};
use crate::repo::RepoError;
use crate::task::{Task, TaskId};
use crate::user::UserId;

/// An entity as a reader receives it: as it is now, or gone.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A list as it is now.
    List(List),
    /// A task as it is now.
    Task(Task),
    /// A list deleted.
    DeletedList(ListId),
    /// A task deleted (its list's or its parent's deletion included).
    DeletedTask(TaskId),
    /// A task's reminder fired (the task as it is now); read only by [`Reading::Events`].
    Reminder(Task),
}

/// What a read of the history is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reading {
    /// `/changes`: the entities changed. A reminder is not a change of its task.
    Changes,
    /// The event stream: the changes and the reminders fired, in the order they happened.
    Events,
}

/// One entity changed since a cursor, however many times; or one reminder fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The number of its last change: a cursor that resumes right after it. In a snapshot,
    /// the snapshot's.
    pub seq: u64,
    /// Whether it was created since the cursor (it is new to the reader).
    pub created: bool,
    /// The entity.
    pub entry: Entry,
}

/// A page of a user's history, in the order of each entity's last change.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePage {
    /// The entities changed.
    pub changes: Vec<Change>,
    /// Where the next read starts.
    pub cursor: Cursor,
    /// Whether a read from `cursor` has more at once.
    pub has_more: bool,
}

/// Why a read of the history failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The cursor given cannot be resumed from.
    #[error(transparent)]
    Cursor(#[from] CursorError),
    /// The store failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Where every change to tasks and lists is recorded, by the store itself, with the change.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait ChangeLog: Send + Sync + 'static {
    /// At most `limit` entries: from `from` on (with the reminders fired, for
    /// [`Reading::Events`]), or (without) a snapshot of all the owner has.
    ///
    /// # Errors
    /// `Cursor` when `from` is not one of the owner's or is older than the history kept;
    /// `Repo(Unavailable)` when the store is unreachable.
    async fn read(
        &self,
        owner: &UserId,
        from: Option<Cursor>,
        limit: u32,
        reading: Reading,
    ) -> Result<ChangePage, SyncError>;

    /// The number of the owner's last change (0 before any): where a live follower starts.
    ///
    /// # Errors
    /// `Unavailable` when the store is unreachable.
    async fn head(&self, owner: &UserId) -> Result<u64, RepoError>;

    /// Forgets every change recorded before `before`; returns how many.
    ///
    /// # Errors
    /// `Unavailable` when the store is unreachable.
    async fn purge(&self, before: OffsetDateTime) -> Result<u64, RepoError>;
}
