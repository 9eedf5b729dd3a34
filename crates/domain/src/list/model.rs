//! The list: a named, coloured group of tasks with a place in the user's manual order.

use std::fmt;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::position::Position;
use crate::task::Version;
use crate::user::UserId;
use crate::validation::{FieldError, single_line};

/// A list's id: a time-ordered UUID (version 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListId(Uuid);

impl ListId {
    /// A fresh version-7 id.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// Any UUID in its textual form, reported as `field` when it is not one.
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        Uuid::parse_str(raw)
            .map(Self)
            .map_err(|_| FieldError::new(field, "must be a UUID"))
    }

    /// The UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl From<Uuid> for ListId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl fmt::Display for ListId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A list's name: trimmed, 1 to 100 characters, no control characters; unique per user
/// ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListName(String);

impl ListName {
    /// Longest name, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Trims, then checks length and content.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        single_line("name", name, 1, Self::MAX_CHARS)?;
        Ok(Self(name.to_owned()))
    }

    /// The name as the user wrote it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form names are compared in for uniqueness.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A colour, `#rrggbb`, kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Color(String);

impl Color {
    /// `#` and six hex digits in any case.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let digits = raw.strip_prefix('#').unwrap_or_default();
        if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(raw.to_ascii_lowercase()))
        } else {
            Err(FieldError::new("color", "must be #rrggbb"))
        }
    }

    /// `#rrggbb`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a client gives to create a list, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewList {
    /// Required.
    pub name: ListName,
    /// Optional.
    pub color: Option<Color>,
}

/// A rename or recolour: `None` keeps a field; `Some(None)` clears the colour.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListPatch {
    /// New name.
    pub name: Option<ListName>,
    /// New colour, or `Some(None)` to clear it.
    pub color: Option<Option<Color>>,
}

/// How many tasks a list holds; derived from the tasks when read, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListCounts {
    /// Its tasks, subtasks included.
    pub tasks: u64,
    /// Those not completed.
    pub pending: u64,
}

/// Every stored field of a list, for adapters to rebuild one from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRecord {
    /// Id.
    pub id: ListId,
    /// Owner.
    pub owner: UserId,
    /// Name.
    pub name: ListName,
    /// Colour.
    pub color: Option<Color>,
    /// Place among the owner's lists.
    pub position: Position,
    /// Version (the `ETag`).
    pub version: Version,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// Its tasks, as counted when it was read.
    pub counts: ListCounts,
}

/// A list. Fields are private so that `version` and `updated_at` move with every change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List(ListRecord);

impl List {
    /// Most lists one user may have.
    pub const MAX_PER_USER: u64 = 1000;

    /// Refuses one list more when the owner has `existing` already.
    pub fn check_room(existing: u64) -> Result<(), FieldError> {
        if existing >= Self::MAX_PER_USER {
            return Err(FieldError::new(
                "lists",
                "a user has at most 1000 lists; delete one first",
            ));
        }
        Ok(())
    }

    /// A new, empty list; the repository gives it its position (last) when storing it.
    pub fn create(id: ListId, owner: UserId, new: NewList, now: OffsetDateTime) -> Self {
        Self(ListRecord {
            id,
            owner,
            name: new.name,
            color: new.color,
            position: Position::first(),
            version: Version::INITIAL,
            created_at: now,
            updated_at: now,
            counts: ListCounts::default(),
        })
    }

    /// A list as stored.
    pub fn restore(record: ListRecord) -> Self {
        Self(record)
    }

    /// The same list at `position`, as the repository stored it.
    #[must_use]
    pub fn placed(mut self, position: Position) -> Self {
        self.0.position = position;
        self
    }

    /// Applies the patch; returns whether anything changed, and only then moves the version.
    pub fn apply(&mut self, patch: ListPatch, now: OffsetDateTime) -> bool {
        let before = self.0.clone();
        if let Some(name) = patch.name {
            self.0.name = name;
        }
        if let Some(color) = patch.color {
            self.0.color = color;
        }
        let changed = self.0 != before;
        if changed {
            self.0.version = before.version.next();
            self.0.updated_at = now;
        }
        changed
    }

    /// Id.
    pub fn id(&self) -> ListId {
        self.0.id
    }
    /// Owner.
    pub fn owner(&self) -> &UserId {
        &self.0.owner
    }
    /// Name.
    pub fn name(&self) -> &ListName {
        &self.0.name
    }
    /// Colour.
    pub fn color(&self) -> Option<&Color> {
        self.0.color.as_ref()
    }
    /// Place among the owner's lists.
    pub fn position(&self) -> &Position {
        &self.0.position
    }
    /// Version (the `ETag`).
    pub fn version(&self) -> Version {
        self.0.version
    }
    /// Creation time.
    pub fn created_at(&self) -> OffsetDateTime {
        self.0.created_at
    }
    /// Last change.
    pub fn updated_at(&self) -> OffsetDateTime {
        self.0.updated_at
    }
    /// Its tasks, as counted when read.
    pub fn counts(&self) -> ListCounts {
        self.0.counts
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_name_is_trimmed_and_1_to_100_characters() {
        assert_eq!(ListName::parse("  Work ").unwrap().as_str(), "Work");
        assert!(ListName::parse(&"x".repeat(100)).is_ok());
        assert!(ListName::parse(&"x".repeat(101)).is_err());
        assert!(ListName::parse("   ").is_err());
        assert!(ListName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn names_compare_ignoring_case() {
        assert_eq!(
            ListName::parse("Work").unwrap().key(),
            ListName::parse("WORK").unwrap().key()
        );
    }

    #[test]
    fn a_color_is_six_hex_digits_returned_in_lower_case() {
        assert_eq!(Color::parse("#A0b1C2").unwrap().as_str(), "#a0b1c2");
        for bad in ["a0b1c2", "#a0b1c", "#a0b1c2d", "#g0b1c2", "", "#"] {
            assert!(Color::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_a_real_change_moves_the_version() {
        let now = datetime!(2026-11-26 10:00 UTC);
        let new = NewList {
            name: ListName::parse("Work").unwrap(),
            color: None,
        };
        let mut list = List::create(ListId::generate(), UserId::parse("u").unwrap(), new, now);
        let same = ListPatch {
            name: Some(ListName::parse("Work").unwrap()),
            color: Some(None),
        };
        assert!(!list.apply(same, now));
        assert_eq!(list.version(), Version::INITIAL);
        let later = datetime!(2026-11-26 11:00 UTC);
        let recolour = ListPatch {
            name: None,
            color: Some(Some(Color::parse("#ffffff").unwrap())),
        };
        assert!(list.apply(recolour, later));
        assert_eq!((list.version().get(), list.updated_at()), (2, later));
    }
}
