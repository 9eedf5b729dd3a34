//! The task repository port. Every method takes the owner, and implementations put it in every
//! `WHERE`: a task of another user is indistinguishable from one that does not exist.
//!
//! Writes that place a task or change a family (a parent and its subtasks) run under a lock on
//! the owner, so that positions among siblings stay distinct and subtask counts exact whatever
//! runs concurrently; the placement rules are checked again under that lock.

use time::OffsetDateTime;

use super::model::{Completion, Task, TaskId, Version};
use super::placement::Destination;
use super::query::{ListFilter, TaskPage, TaskQuery, TaskStats};
use crate::position::End;
use crate::repo::RepoError;
use crate::user::UserId;

/// What [`TaskRepository::set_completion`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "returned once and unpacked at once, never kept: a box would only add an allocation"
)]
pub enum CompletionWrite {
    /// The task as it is now.
    Done(Task),
    /// Nothing: the task repeats, and its completion goes through `update` or `advance`.
    Recurring,
}

/// Where tasks are kept.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait TaskRepository: Send + Sync + 'static {
    /// Stores a new task last among its siblings; returns it as stored (with its position).
    /// Its owner must exist; its list, if any, must be the owner's; its parent, if any, must
    /// accept it ([`ParentFacts::accepts`](super::ParentFacts::accepts)).
    ///
    /// # Errors
    /// `Conflict` if the id is taken; `Rule` (naming `list_id` or `parent_id`) when the list or
    /// parent does not qualify; MUST return `Unavailable` when the database is unreachable.
    async fn insert(&self, task: &Task) -> Result<Task, RepoError>;

    /// The owner's task with this id.
    ///
    /// # Errors
    /// `NotFound` when the owner has no such task; `Unavailable` when unreachable.
    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Task, RepoError>;

    /// Replaces the stored task by `task`, only if it is still `previous` (as read: same
    /// version). What did not change between the two (the tags, say) need not be written.
    /// Completing a top-level task completes its pending subtasks with it (same
    /// `completed_at`); completing or reopening a subtask updates its parent's counts.
    /// Returns the task as stored.
    ///
    /// # Errors
    /// `NotFound` when the owner has no such task, `VersionMismatch` when it has another
    /// version; `Unavailable` when unreachable.
    async fn update(&self, previous: &Task, task: &Task) -> Result<Task, RepoError>;

    /// As `update`, for a recurring task moved to its next occurrence (`task`,
    /// [`Applied::Advanced`](super::Applied::Advanced)): its completed subtasks are reopened
    /// with it, so that its checklist starts afresh.
    ///
    /// # Errors
    /// As `update`.
    async fn advance(&self, previous: &Task, task: &Task) -> Result<Task, RepoError>;

    /// Deletes the task and its subtasks, if `expected` is `None` or the stored version.
    ///
    /// # Errors
    /// `NotFound`, `VersionMismatch` as for `update`; `Unavailable` when unreachable.
    async fn delete(
        &self,
        owner: &UserId,
        id: TaskId,
        expected: Option<Version>,
    ) -> Result<(), RepoError>;

    /// Changes the completion state atomically (the new state computed from the stored one),
    /// so that concurrent toggles never lose one; bumps the version only if the state changed.
    /// Subtasks and counts follow as in `update`. A recurring task is left as it is
    /// ([`CompletionWrite::Recurring`]): what completing it does is the domain's to decide.
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
    ) -> Result<CompletionWrite, RepoError>;

    /// One page of the owner's tasks matching the query, and the number of matches.
    ///
    /// # Errors
    /// `Unavailable` when unreachable.
    async fn list(&self, owner: &UserId, query: &TaskQuery) -> Result<TaskPage, RepoError>;

    /// Moves the task, still at `version`, to `destination`, writing no sibling: its list,
    /// parent and position change, and its subtasks follow it to a new list.
    ///
    /// # Errors
    /// `NotFound`, `VersionMismatch` as for `update`; `Rule` (naming `list_id`, `parent_id`
    /// or `after`) when the destination does not qualify; `Unavailable` when unreachable.
    async fn place(
        &self,
        owner: &UserId,
        id: TaskId,
        destination: &Destination,
        version: Version,
        now: OffsetDateTime,
    ) -> Result<Task, RepoError>;

    /// Moves the owner's task, if it is a top-level one (still at `expected`, when given), to
    /// one end of the siblings it has, in one write that reads nothing before: its position and
    /// version change, nothing else. `None`, and nothing written, when it is not such a task or
    /// not at `expected`, or when this move needs what `place` does (a sibling below the front
    /// the repository would give, a backend that moves in a transaction only).
    ///
    /// # Errors
    /// `Unavailable` when unreachable.
    async fn place_at_end(
        &self,
        owner: &UserId,
        id: TaskId,
        end: End,
        expected: Option<Version>,
        now: OffsetDateTime,
    ) -> Result<Option<Task>, RepoError>;

    /// The owner's stats (of one list, or the inbox, when given), `overdue` judged at `now`.
    ///
    /// # Errors
    /// `Unavailable` when unreachable.
    async fn stats(
        &self,
        owner: &UserId,
        list: Option<ListFilter>,
        now: OffsetDateTime,
    ) -> Result<TaskStats, RepoError>;

    /// Deletes the owner's completed tasks (of one list, or the inbox, when given) with all
    /// their subtasks; returns how many tasks were deleted, subtasks included.
    ///
    /// # Errors
    /// `Unavailable` when unreachable.
    async fn delete_completed(
        &self,
        owner: &UserId,
        list: Option<ListFilter>,
    ) -> Result<u64, RepoError>;
}
