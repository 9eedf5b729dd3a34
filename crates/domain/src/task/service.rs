//! The task use cases: ownership, provisioning, optimistic concurrency, idempotent creation.

use std::sync::Arc;

use super::error::TaskError;
use super::model::{Applied, Completion, NewTask, Task, TaskId, TaskPatch, Version};
use super::placement::{MoveRequest, ParentFacts};
use super::ports::{CompletionWrite, TaskRepository};
use super::query::{ListFilter, ParentFilter, TaskPage, TaskQuery, TaskStats};
use crate::clock::Clock;
use crate::idempotency::{
    Fingerprint, IdempotencyKey, IdempotencyStore, KeyedCreate, RETENTION, StoredResponse,
    create_once,
};
use crate::list::ListRepository;
use crate::repo::{Attempt, RepoError, check_expected, optimistically};
use crate::user::{AuthenticatedUser, UserId, UserRepository};
use crate::validation::FieldError;

/// Task use cases. Every method acts for one owner, already authorised by the caller.
#[derive(Clone)]
pub struct TaskService {
    tasks: Arc<dyn TaskRepository>,
    lists: Arc<dyn ListRepository>,
    users: Arc<dyn UserRepository>,
    keys: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
}

impl TaskService {
    /// A service over the given ports.
    pub fn new(
        tasks: Arc<dyn TaskRepository>,
        lists: Arc<dyn ListRepository>,
        users: Arc<dyn UserRepository>,
        keys: Arc<dyn IdempotencyStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            tasks,
            lists,
            users,
            keys,
            clock,
        }
    }

    /// Creates a task for the caller, provisioning their user row first.
    pub async fn create(
        &self,
        caller: &AuthenticatedUser,
        new: NewTask,
    ) -> Result<Task, TaskError> {
        let now = self.clock.now();
        self.users.ensure(caller, now).await?;
        self.insert(caller.id(), new, now).await
    }

    /// Creates a task at most once per key: a retry with the same request gets the first
    /// response, the same key with another request is refused. `render` turns the new task into
    /// the body to send and keep.
    pub async fn create_once(
        &self,
        caller: &AuthenticatedUser,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
        new: NewTask,
        render: impl FnOnce(&Task) -> String + Send,
    ) -> Result<KeyedCreate, TaskError> {
        let now = self.clock.now();
        self.users.ensure(caller, now).await?;
        let owner = caller.id();
        let create = async {
            let task = self.insert(owner, new, now).await?;
            Ok::<_, TaskError>(StoredResponse {
                resource: *task.id().as_uuid(),
                version: task.version(),
                body: render(&task),
            })
        };
        create_once(&*self.keys, owner, key, fingerprint, now, create).await
    }

    /// Inserts a new task; a subtask joins its parent's list.
    async fn insert(
        &self,
        owner: &UserId,
        mut new: NewTask,
        now: time::OffsetDateTime,
    ) -> Result<Task, TaskError> {
        if let Some(parent) = new.parent {
            let parent = self.field_task(owner, parent, "parent_id").await?;
            let facts = ParentFacts::from(&parent);
            let list = facts
                .list_of_new_subtask(new.list)
                .map_err(TaskError::Invalid)?;
            facts.accepts(list, true).map_err(TaskError::Invalid)?;
            new.list = Some(list);
        }
        let task = Task::create(TaskId::generate(), owner.clone(), new, now)
            .map_err(TaskError::Invalid)?;
        Ok(self.tasks.insert(&task).await?)
    }

    /// The owner's task named in a request's `field`: another's, or none, is a 422 there.
    async fn field_task(&self, owner: &UserId, id: TaskId, field: &str) -> Result<Task, TaskError> {
        self.tasks
            .get(owner, id)
            .await
            .map_err(|error| match error {
                RepoError::NotFound => TaskError::Invalid(FieldError::new(field, "no such task")),
                error => error.into(),
            })
    }

    /// The owner's task.
    pub async fn get(&self, owner: &UserId, id: TaskId) -> Result<Task, TaskError> {
        Ok(self.tasks.get(owner, id).await?)
    }

    /// Applies a partial update. With `expected` (the client's `If-Match`), a task at another
    /// version is refused; without it, a lost race is retried on the fresh task.
    pub async fn update(
        &self,
        owner: &UserId,
        id: TaskId,
        patch: TaskPatch,
        expected: Option<Version>,
    ) -> Result<Task, TaskError> {
        self.change(owner, id, expected, |_| patch.clone()).await
    }

    /// Reads the task, applies the patch `patch_of` makes of it and writes the result guarded
    /// by the version read, as [`TaskService::update`] describes.
    async fn change(
        &self,
        owner: &UserId,
        id: TaskId,
        expected: Option<Version>,
        patch_of: impl Fn(&Task) -> TaskPatch,
    ) -> Result<Task, TaskError> {
        optimistically(expected, async || {
            let previous = self.tasks.get(owner, id).await?;
            check_expected::<TaskError>(expected, previous.version())?;
            let mut task = previous.clone();
            let applied = task
                .apply(patch_of(&previous), self.clock.now())
                .map_err(TaskError::Invalid)?;
            let written = match applied {
                Applied::Unchanged => return Ok(Attempt::Done(task)),
                Applied::Changed => self.tasks.update(&previous, &task).await,
                Applied::Advanced => self.tasks.advance(&previous, &task).await,
            };
            Ok(Attempt::of(written)?)
        })
        .await
    }

    /// Moves a task (with its subtasks) to another list, parent or place among its siblings.
    /// Without `expected`, a lost race is retried on the fresh task.
    pub async fn place(
        &self,
        owner: &UserId,
        id: TaskId,
        request: MoveRequest,
        expected: Option<Version>,
    ) -> Result<Task, TaskError> {
        // To an end of the siblings it has, a top-level task is moved without a read first;
        // anything else that write leaves, the read below sorts out.
        if let Some(end) = request.end_of_siblings()
            && let Some(task) = self
                .tasks
                .place_at_end(owner, id, end, expected, self.clock.now())
                .await?
        {
            return Ok(task);
        }
        optimistically(expected, async || {
            let task = self.tasks.get(owner, id).await?;
            check_expected::<TaskError>(expected, task.version())?;
            let destination = request.destination(&task).map_err(TaskError::Invalid)?;
            if let Some(parent) = destination.parent {
                let parent = self.field_task(owner, parent, "parent_id").await?;
                let joining = task.parent() != Some(parent.id());
                ParentFacts::from(&parent)
                    .accepts(destination.list, joining)
                    .map_err(TaskError::Invalid)?;
            }
            let now = self.clock.now();
            let placed = self
                .tasks
                .place(owner, id, &destination, task.version(), now)
                .await;
            Ok(Attempt::of(placed)?)
        })
        .await
    }

    /// Deletes the owner's task, if still at `expected` when given.
    pub async fn delete(
        &self,
        owner: &UserId,
        id: TaskId,
        expected: Option<Version>,
    ) -> Result<(), TaskError> {
        Ok(self.tasks.delete(owner, id, expected).await?)
    }

    /// Toggles or sets completion atomically. Completing a recurring task moves it to its next
    /// occurrence, read and written as an update.
    pub async fn set_completion(
        &self,
        owner: &UserId,
        id: TaskId,
        change: Completion,
        expected: Option<Version>,
    ) -> Result<Task, TaskError> {
        let now = self.clock.now();
        match self
            .tasks
            .set_completion(owner, id, change, expected, now)
            .await?
        {
            CompletionWrite::Done(task) => Ok(task),
            CompletionWrite::Recurring => {
                let patch_of = |task: &Task| TaskPatch {
                    completed: Some(change.apply_to(task.completed())),
                    ..TaskPatch::default()
                };
                self.change(owner, id, expected, patch_of).await
            }
        }
    }

    /// A page of the owner's tasks. A list or parent named by the query that is not the
    /// owner's is `ListNotFound` or `NotFound`: checked only when nothing matched, since a
    /// match proves it exists.
    pub async fn list(&self, owner: &UserId, query: &TaskQuery) -> Result<TaskPage, TaskError> {
        let page = self.tasks.list(owner, query).await?;
        if page.total == 0 {
            self.check_filters(owner, query.list, query.parent).await?;
        }
        Ok(page)
    }

    /// Whether the list and parent a query names are the owner's.
    async fn check_filters(
        &self,
        owner: &UserId,
        list: Option<ListFilter>,
        parent: Option<ParentFilter>,
    ) -> Result<(), TaskError> {
        if let Some(ListFilter::List(id)) = list {
            self.lists
                .get(owner, id)
                .await
                .map_err(|error| match error {
                    RepoError::NotFound => TaskError::ListNotFound,
                    error => error.into(),
                })?;
        }
        if let Some(ParentFilter::Of(id)) = parent {
            self.tasks.get(owner, id).await?;
        }
        Ok(())
    }

    /// The owner's stats now, of one list (or the inbox) when given.
    pub async fn stats(
        &self,
        owner: &UserId,
        list: Option<ListFilter>,
    ) -> Result<TaskStats, TaskError> {
        let stats = self.tasks.stats(owner, list, self.clock.now()).await?;
        if stats.total == 0 {
            self.check_filters(owner, list, None).await?;
        }
        Ok(stats)
    }

    /// Forgets idempotency keys older than their retention; returns how many.
    pub async fn purge_expired_keys(&self) -> Result<u64, TaskError> {
        Ok(self.keys.purge(self.clock.now() - RETENTION).await?)
    }

    /// Deletes the owner's completed tasks (of one list, or the inbox, when given) and their
    /// subtasks.
    pub async fn delete_completed(
        &self,
        owner: &UserId,
        list: Option<ListFilter>,
    ) -> Result<u64, TaskError> {
        let deleted = self.tasks.delete_completed(owner, list).await?;
        if deleted == 0 {
            self.check_filters(owner, list, None).await?;
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests;
