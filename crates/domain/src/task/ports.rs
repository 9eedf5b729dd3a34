//! The task repository port. Every method takes the owner, and implementations put it in every
//! `WHERE`: a task of another user is indistinguishable from one that does not exist.

use time::OffsetDateTime;

use super::model::{Completion, Task, TaskId, Version};
use super::query::{TaskPage, TaskQuery, TaskStats};
use crate::repo::RepoError;
use crate::user::UserId;

/// Where tasks are kept.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait TaskRepository: Send + Sync + 'static {
    /// Stores a new task. Its owner must exist.
    ///
    /// # Errors
    /// `Conflict` if the id is taken; MUST return `Unavailable` when the database is unreachable.
    async fn insert(&self, task: &Task) -> Result<(), RepoError>;

    /// The owner's task with this id.
    ///
    /// # Errors
    /// `NotFound` when the owner has no such task; `Unavailable` when unreachable.
    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Task, RepoError>;

    /// Replaces the stored task by `task`, only if it is still `previous` (as read: same
    /// version). What did not change between the two (the tags, say) need not be written.
    ///
    /// # Errors
    /// `NotFound` when the owner has no such task, `VersionMismatch` when it has another
    /// version; `Unavailable` when unreachable.
    async fn update(&self, previous: &Task, task: &Task) -> Result<(), RepoError>;

    /// Deletes the task, if `expected` is `None` or the stored version.
    ///
    /// # Errors
    /// `NotFound`, `VersionMismatch` as for `update`; `Unavailable` when unreachable.
    async fn delete(
        &self,
        owner: &UserId,
        id: TaskId,
        expected: Option<Version>,
    ) -> Result<(), RepoError>;

    /// Changes the completion state in one atomic statement (no read-then-write), so that
    /// concurrent toggles never lose one; bumps the version only if the state changed.
    ///
    /// # Errors
    /// `NotFound`, `VersionMismatch` as for `update`; `Unavailable` when unreachable.
    async fn set_completion(
        &self,
        owner: &UserId,
        id: TaskId,
        change: Completion,
        expected: Option<Version>,
        now: OffsetDateTime,
    ) -> Result<Task, RepoError>;

    /// One page of the owner's tasks matching the query, and the number of matches.
    ///
    /// # Errors
    /// `Unavailable` when unreachable.
    async fn list(&self, owner: &UserId, query: &TaskQuery) -> Result<TaskPage, RepoError>;

    /// The owner's stats, `overdue` judged at `now`.
    ///
    /// # Errors
    /// `Unavailable` when unreachable.
    async fn stats(&self, owner: &UserId, now: OffsetDateTime) -> Result<TaskStats, RepoError>;

    /// Deletes the owner's completed tasks; returns how many.
    ///
    /// # Errors
    /// `Unavailable` when unreachable.
    async fn delete_completed(&self, owner: &UserId) -> Result<u64, RepoError>;
}
