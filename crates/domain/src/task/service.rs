//! The task use cases: ownership, provisioning, optimistic concurrency, idempotent creation.

use std::sync::Arc;

use super::error::TaskError;
use super::model::{Completion, NewTask, Task, TaskId, TaskPatch, Version};
use super::ports::TaskRepository;
use super::query::{TaskPage, TaskQuery, TaskStats};
use crate::clock::Clock;
use crate::idempotency::{
    Fingerprint, IdempotencyKey, IdempotencyStore, RETENTION, Reservation, StoredResponse,
};
use crate::repo::RepoError;
use crate::user::{AuthenticatedUser, UserId, UserRepository};

/// How often an update without `If-Match` re-reads and re-applies after losing a race.
const UPDATE_ATTEMPTS: usize = 5;

/// The result of a create with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedCreate {
    /// The response to send: the first one, when `replayed`.
    pub response: StoredResponse,
    /// Whether this is a replay of an earlier request.
    pub replayed: bool,
}

/// Task use cases. Every method acts for one owner, already authorised by the caller.
#[derive(Clone)]
pub struct TaskService {
    tasks: Arc<dyn TaskRepository>,
    users: Arc<dyn UserRepository>,
    keys: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
}

impl TaskService {
    /// A service over the given ports.
    pub fn new(
        tasks: Arc<dyn TaskRepository>,
        users: Arc<dyn UserRepository>,
        keys: Arc<dyn IdempotencyStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            tasks,
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
        let task = Task::create(TaskId::generate(), caller.id().clone(), new, now);
        self.tasks.insert(&task).await?;
        Ok(task)
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
        let owner = caller.id();
        let now = self.clock.now();
        self.users.ensure(caller, now).await?;
        match self.keys.reserve(owner, key, fingerprint, now).await? {
            Reservation::Reserved => {}
            Reservation::Replay(response) => {
                return Ok(KeyedCreate {
                    response,
                    replayed: true,
                });
            }
            Reservation::InFlight => return Err(TaskError::InFlight),
            Reservation::Mismatch => return Err(TaskError::IdempotencyMismatch),
        }
        let task = Task::create(TaskId::generate(), owner.clone(), new, now);
        if let Err(error) = self.tasks.insert(&task).await {
            // Free the key so that the client's retry is not refused as in flight.
            if let Err(release) = self.keys.release(owner, key).await {
                tracing::warn!(error = %release, "could not release an idempotency key");
            }
            return Err(error.into());
        }
        let response = StoredResponse {
            task_id: task.id(),
            version: task.version(),
            body: render(&task),
        };
        // The task exists: the client gets it even if the key cannot be completed, in which
        // case a retry is refused as in flight until the reservation counts as abandoned.
        if let Err(error) = self.keys.complete(owner, key, &response).await {
            tracing::warn!(error = %error, "could not store an idempotent response");
        }
        Ok(KeyedCreate {
            response,
            replayed: false,
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
        for _ in 0..UPDATE_ATTEMPTS {
            let previous = self.tasks.get(owner, id).await?;
            if expected.is_some_and(|v| v != previous.version()) {
                return Err(TaskError::PreconditionFailed);
            }
            let mut task = previous.clone();
            if !task.apply(patch.clone(), self.clock.now()) {
                return Ok(task);
            }
            match self.tasks.update(&previous, &task).await {
                Ok(()) => return Ok(task),
                Err(RepoError::VersionMismatch) if expected.is_none() => {}
                Err(error) => return Err(error.into()),
            }
        }
        Err(TaskError::Busy)
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

    /// Toggles or sets completion atomically.
    pub async fn set_completion(
        &self,
        owner: &UserId,
        id: TaskId,
        change: Completion,
        expected: Option<Version>,
    ) -> Result<Task, TaskError> {
        let now = self.clock.now();
        Ok(self
            .tasks
            .set_completion(owner, id, change, expected, now)
            .await?)
    }

    /// A page of the owner's tasks.
    pub async fn list(&self, owner: &UserId, query: &TaskQuery) -> Result<TaskPage, TaskError> {
        Ok(self.tasks.list(owner, query).await?)
    }

    /// The owner's stats now.
    pub async fn stats(&self, owner: &UserId) -> Result<TaskStats, TaskError> {
        Ok(self.tasks.stats(owner, self.clock.now()).await?)
    }

    /// Forgets idempotency keys older than their retention; returns how many.
    pub async fn purge_expired_keys(&self) -> Result<u64, TaskError> {
        Ok(self.keys.purge(self.clock.now() - RETENTION).await?)
    }

    /// Deletes the owner's completed tasks.
    pub async fn delete_completed(&self, owner: &UserId) -> Result<u64, TaskError> {
        Ok(self.tasks.delete_completed(owner).await?)
    }
}

#[cfg(test)]
mod tests;
