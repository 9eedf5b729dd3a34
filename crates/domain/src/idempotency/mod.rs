//! Idempotent creation: a client-chosen key makes a retried `POST` return the first result
//! instead of creating a second task.

use time::{Duration, OffsetDateTime};

use crate::repo::RepoError;
use crate::task::{TaskId, Version};
use crate::user::UserId;
use crate::validation::{FieldError, single_line};

/// How long a completed key is remembered.
pub const RETENTION: Duration = Duration::hours(24);

/// How long a reservation may stay unfinished before it is considered abandoned (its request
/// died). Far above any request's lifetime, which the pool's acquire timeout bounds to seconds.
pub const ABANDONED_AFTER: Duration = Duration::minutes(2);

/// A client-chosen key: 1 to 255 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest key, in characters.
    pub const MAX_CHARS: usize = 255;

    /// Checks the key; it is used verbatim (not trimmed): two keys differing in spaces differ.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        single_line("Idempotency-Key", raw, 1, Self::MAX_CHARS)?;
        Ok(Self(raw.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A digest of the request a key was first used with, to tell a retry from a different request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Wraps a digest computed by the caller (the HTTP layer hashes the raw body).
    pub fn new(digest: impl Into<String>) -> Self {
        Self(digest.into())
    }

    /// The digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The first response to a keyed request, as sent, so that a replay is byte-for-byte the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The task created.
    pub task_id: TaskId,
    /// Its version then (the `ETag` sent).
    pub version: Version,
    /// The body sent, opaque to the domain.
    pub body: String,
}

/// What reserving a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key is new (or its record expired or was abandoned): go ahead.
    Reserved,
    /// The same request was done before: answer with this.
    Replay(StoredResponse),
    /// The same key is being used by a request still running.
    InFlight,
    /// The key was used with a different request.
    Mismatch,
}

/// Where keys and first responses are kept, per user.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Claims `key` for `owner` unless a live record has it, and says what was found. Records
    /// older than [`RETENTION`], and unfinished ones older than [`ABANDONED_AFTER`], count as
    /// absent and are replaced.
    ///
    /// # Errors
    /// MUST return `RepoError::Unavailable` when the database is unreachable.
    async fn reserve(
        &self,
        owner: &UserId,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
        now: OffsetDateTime,
    ) -> Result<Reservation, RepoError>;

    /// Stores the response of a reserved key.
    ///
    /// # Errors
    /// MUST return `RepoError::Unavailable` when the database is unreachable.
    async fn complete(
        &self,
        owner: &UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), RepoError>;

    /// Forgets an unfinished reservation, so that the client can retry at once.
    ///
    /// # Errors
    /// MUST return `RepoError::Unavailable` when the database is unreachable.
    async fn release(&self, owner: &UserId, key: &IdempotencyKey) -> Result<(), RepoError>;

    /// Deletes the records created before `before`; returns how many.
    ///
    /// # Errors
    /// MUST return `RepoError::Unavailable` when the database is unreachable.
    async fn purge(&self, before: OffsetDateTime) -> Result<u64, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_of_255_characters_is_accepted() {
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
    }

    #[test]
    fn empty_or_256_character_key_is_rejected() {
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }

    #[test]
    fn key_with_a_tab_is_rejected() {
        assert!(IdempotencyKey::parse("a\tb").is_err());
    }
}
