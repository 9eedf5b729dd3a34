//! User identity types.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::validation::{FieldError, single_line};

/// The opaque id Better Auth gives a user: 1 to 255 characters, no control characters.
///
/// Shared rather than owned: every request carries its caller's id and every task read
/// carries its owner's, so a copy is a count, not an allocation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(Arc<str>);

impl UserId {
    /// Longest id accepted, in characters (the `users.id` column's width).
    pub const MAX_CHARS: usize = 255;

    /// Accepts the id as issued: opaque, so it is not trimmed, only checked.
    pub fn parse(raw: impl Into<String>) -> Result<Self, FieldError> {
        let raw = raw.into();
        single_line("user_id", &raw, 1, Self::MAX_CHARS)?;
        if raw.trim().is_empty() {
            return Err(FieldError::new("user_id", "must not be blank"));
        }
        Ok(Self(raw.into()))
    }

    /// The id as issued.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who a verified token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthenticatedUser {
    id: UserId,
    email: Option<String>,
    name: Option<String>,
}

impl AuthenticatedUser {
    /// Longest `email` or `name` kept, in characters.
    pub const MAX_PROFILE_CHARS: usize = 320;

    /// The caller `id`, with the `email` and `name` claims when the token has them. A claim
    /// that is not a plain line of at most [`Self::MAX_PROFILE_CHARS`] characters is dropped:
    /// it is stored for `/api/me`, and a token is not a reason to refuse the caller.
    pub fn new(id: UserId, email: Option<String>, name: Option<String>) -> Self {
        let plain = |text: Option<String>, field| {
            text.filter(|t| single_line(field, t, 1, Self::MAX_PROFILE_CHARS).is_ok())
        };
        Self {
            id,
            email: plain(email, "email"),
            name: plain(name, "name"),
        }
    }

    /// The caller's id.
    pub fn id(&self) -> &UserId {
        &self.id
    }

    /// The `email` claim, if any.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The `name` claim, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// The user as the server keeps them: created on their first write, updated from their claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The id Better Auth issued.
    pub id: UserId,
    /// Email from the most recent claims seen.
    pub email: Option<String>,
    /// Display name from the most recent claims seen.
    pub name: Option<String>,
    /// When the server first saw this user.
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_of_255_characters_is_accepted() {
        let id = "é".repeat(255);
        assert_eq!(UserId::parse(id.clone()).unwrap().as_str(), id);
    }

    #[test]
    fn user_id_of_256_characters_is_rejected() {
        assert!(UserId::parse("a".repeat(256)).is_err());
    }

    #[test]
    fn blank_user_id_is_rejected() {
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("   ").is_err());
    }

    #[test]
    fn user_id_is_kept_verbatim() {
        assert_eq!(
            UserId::parse("Yx3kQ9-Ab_c").unwrap().as_str(),
            "Yx3kQ9-Ab_c"
        );
    }

    #[test]
    fn user_id_with_a_newline_is_rejected() {
        assert!(UserId::parse("abc\n").is_err());
    }

    #[test]
    fn profile_claims_with_controls_or_over_320_characters_are_dropped() {
        let id = UserId::parse("a").unwrap();
        let user =
            AuthenticatedUser::new(id.clone(), Some("a\0@x.io".into()), Some("n".repeat(321)));
        assert_eq!((user.email(), user.name()), (None, None));
        let user = AuthenticatedUser::new(id, Some("a@x.io".into()), Some("n".repeat(320)));
        assert_eq!(user.email(), Some("a@x.io"));
        assert_eq!(user.name().map(str::len), Some(320));
    }
}
