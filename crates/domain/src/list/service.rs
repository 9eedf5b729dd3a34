//! The list use cases: creation (idempotent when keyed), rename, recolour, order, deletion.

use std::sync::Arc;

use super::error::ListError;
use super::model::{List, ListId, ListPatch, NewList};
use super::ports::ListRepository;
use crate::clock::Clock;
use crate::idempotency::{
    Fingerprint, IdempotencyKey, IdempotencyStore, KeyedCreate, StoredResponse, create_once,
};
use crate::position::Slot;
use crate::repo::{Attempt, check_expected, optimistically};
use crate::task::Version;
use crate::user::{AuthenticatedUser, UserId, UserRepository};

/// List use cases. Every method acts for one owner, already authorised by the caller.
#[derive(Clone)]
pub struct ListService {
    lists: Arc<dyn ListRepository>,
    users: Arc<dyn UserRepository>,
    keys: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
}

impl ListService {
    /// A service over the given ports.
    pub fn new(
        lists: Arc<dyn ListRepository>,
        users: Arc<dyn UserRepository>,
        keys: Arc<dyn IdempotencyStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            lists,
            users,
            keys,
            clock,
        }
    }

    /// Creates a list, last in the caller's order, provisioning their user row first.
    pub async fn create(
        &self,
        caller: &AuthenticatedUser,
        new: NewList,
    ) -> Result<List, ListError> {
        let now = self.clock.now();
        self.users.ensure(caller, now).await?;
        let list = List::create(ListId::generate(), caller.id().clone(), new, now);
        Ok(self.lists.insert(&list).await?)
    }

    /// Creates a list at most once per key; `render` turns it into the body to send and keep.
    pub async fn create_once(
        &self,
        caller: &AuthenticatedUser,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
        new: NewList,
        render: impl FnOnce(&List) -> String + Send,
    ) -> Result<KeyedCreate, ListError> {
        let now = self.clock.now();
        self.users.ensure(caller, now).await?;
        let owner = caller.id();
        let create = async {
            let list = List::create(ListId::generate(), owner.clone(), new, now);
            let list = self.lists.insert(&list).await?;
            Ok::<_, ListError>(StoredResponse {
                resource: *list.id().as_uuid(),
                version: list.version(),
                body: render(&list),
            })
        };
        create_once(&*self.keys, owner, key, fingerprint, now, create).await
    }

    /// The owner's list.
    pub async fn get(&self, owner: &UserId, id: ListId) -> Result<List, ListError> {
        Ok(self.lists.get(owner, id).await?)
    }

    /// Every list of the owner, in manual order.
    pub async fn all(&self, owner: &UserId) -> Result<Vec<List>, ListError> {
        Ok(self.lists.all(owner).await?)
    }

    /// Renames or recolours. With `expected` (the client's `If-Match`), a list at another
    /// version is refused; without it, a lost race is retried on the fresh list.
    pub async fn update(
        &self,
        owner: &UserId,
        id: ListId,
        patch: ListPatch,
        expected: Option<Version>,
    ) -> Result<List, ListError> {
        optimistically(expected, async || {
            let previous = self.lists.get(owner, id).await?;
            check_expected::<ListError>(expected, previous.version())?;
            let mut list = previous.clone();
            if !list.apply(patch.clone(), self.clock.now()) {
                return Ok(Attempt::Done(list));
            }
            let written = self.lists.update(&previous, &list).await;
            Ok(Attempt::of(written.map(|()| list))?)
        })
        .await
    }

    /// Deletes the list and its tasks, if still at `expected` when given.
    pub async fn delete(
        &self,
        owner: &UserId,
        id: ListId,
        expected: Option<Version>,
    ) -> Result<(), ListError> {
        Ok(self.lists.delete(owner, id, expected).await?)
    }

    /// Puts the list at `slot` in the owner's order.
    pub async fn place(
        &self,
        owner: &UserId,
        id: ListId,
        slot: Slot<ListId>,
        expected: Option<Version>,
    ) -> Result<List, ListError> {
        if slot == Slot::After(id) {
            return Err(ListError::Invalid(crate::validation::FieldError::new(
                "after",
                "cannot be the list being moved",
            )));
        }
        let now = self.clock.now();
        Ok(self.lists.place(owner, id, slot, expected, now).await?)
    }
}

#[cfg(test)]
mod tests;
