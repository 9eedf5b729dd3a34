//! Idempotent creation: a client-chosen key makes a retried `POST` return the first result
//! instead of creating a second task or list.

use std::future::Future;

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::repo::RepoError;
use crate::task::Version;
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
    /// The id of what was created (a task or a list).
    pub resource: Uuid,
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

/// Why a key cannot be used for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    /// The key was used with a different request.
    #[error("this Idempotency-Key was used with a different request")]
    Mismatch,
    /// The first request with this key is still running.
    #[error("a request with this Idempotency-Key is still in progress")]
    InFlight,
}

/// The result of a create with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedCreate {
    /// The response to send: the first one, when `replayed`.
    pub response: StoredResponse,
    /// Whether this is a replay of an earlier request.
    pub replayed: bool,
}

/// Runs `create` at most once per key: a retry with the same request gets the first response,
/// the same key with another request is refused. The key must already be parsed; `create`
/// runs only once the key is reserved.
pub async fn create_once<E, F>(
    keys: &dyn IdempotencyStore,
    owner: &UserId,
    key: &IdempotencyKey,
    fingerprint: &Fingerprint,
    now: OffsetDateTime,
    create: F,
) -> Result<KeyedCreate, E>
where
    E: From<RepoError> + From<KeyRefusal>,
    F: Future<Output = Result<StoredResponse, E>> + Send,
{
    match keys.reserve(owner, key, fingerprint, now).await? {
        Reservation::Reserved => {}
        Reservation::Replay(response) => {
            return Ok(KeyedCreate {
                response,
                replayed: true,
            });
        }
        Reservation::InFlight => return Err(KeyRefusal::InFlight.into()),
        Reservation::Mismatch => return Err(KeyRefusal::Mismatch.into()),
    }
    let response = match create.await {
        Ok(response) => response,
        Err(error) => {
            // Free the key so that the client's retry is not refused as in flight.
            if let Err(release) = keys.release(owner, key).await {
                tracing::warn!(error = %release, "could not release an idempotency key");
            }
            return Err(error);
        }
    };
    // The resource exists: the client gets it even if the key cannot be completed, in which
    // case a retry is refused as in flight until the reservation counts as abandoned.
    if let Err(error) = keys.complete(owner, key, &response).await {
        tracing::warn!(error = %error, "could not store an idempotent response");
    }
    Ok(KeyedCreate {
        response,
        replayed: false,
    })
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
