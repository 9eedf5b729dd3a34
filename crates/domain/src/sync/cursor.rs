//! Cursors: where a reader of a user's history stands.
//!
//! Every change of a user's has a number, larger than any before it (see the adapter's change
//! log for how that holds under concurrent writers). A cursor is the number of the last change
//! the reader has, and, partway through a snapshot, the last entity of the snapshot it has.
//! Their text form is opaque to clients; an event's `id` is a cursor.

use std::fmt;

use uuid::Uuid;

use crate::list::ListId;
use crate::task::TaskId;

/// An entity of a snapshot, which lists every list then every task, each in id order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SnapshotKey {
    /// A list.
    List(ListId),
    /// A task.
    Task(TaskId),
}

/// Where a read of a user's history starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// Every change numbered after this one.
    After(u64),
    /// Partway through a snapshot begun when the user's last change was `upto`: the entities
    /// after `last`, then every change after `upto` (which a long snapshot may have missed).
    Snapshot {
        /// The user's last change when the snapshot began.
        upto: u64,
        /// The last entity of the snapshot read so far.
        last: SnapshotKey,
    },
}

impl Cursor {
    /// The number of the last change this cursor covers in full.
    pub fn seq(&self) -> u64 {
        match *self {
            Self::After(seq) | Self::Snapshot { upto: seq, .. } => seq,
        }
    }
}

/// A cursor that the server did not hand out, or that is too old to resume from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not a cursor of ours.
    #[error("not a cursor this server handed out")]
    Unknown,
    /// Older than the history kept: the client must start over with a snapshot.
    #[error("the cursor is older than the history kept")]
    Expired,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::After(seq) => write!(f, "{seq}"),
            Self::Snapshot {
                upto,
                last: SnapshotKey::List(id),
            } => write!(f, "{upto}.l.{}", id.as_uuid().simple()),
            Self::Snapshot {
                upto,
                last: SnapshotKey::Task(id),
            } => write!(f, "{upto}.t.{}", id.as_uuid().simple()),
        }
    }
}

impl std::str::FromStr for Cursor {
    type Err = CursorError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let number = |digits: &str| {
            // Digits only: `u64::from_str` also takes a leading `+`.
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CursorError::Unknown);
            }
            digits.parse::<u64>().map_err(|_| CursorError::Unknown)
        };
        let mut parts = text.split('.');
        let seq = number(parts.next().unwrap_or_default())?;
        let Some(kind) = parts.next() else {
            return Ok(Self::After(seq));
        };
        let id = parts
            .next()
            .filter(|id| id.len() == 32)
            .and_then(|id| Uuid::try_parse(id).ok())
            .ok_or(CursorError::Unknown)?;
        let last = match kind {
            "l" => SnapshotKey::List(ListId::from(id)),
            "t" => SnapshotKey::Task(TaskId::from(id)),
            _ => return Err(CursorError::Unknown),
        };
        if parts.next().is_some() {
            return Err(CursorError::Unknown);
        }
        Ok(Self::Snapshot { upto: seq, last })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_as_written() {
        let cursors = [
            Cursor::After(0),
            Cursor::After(u64::MAX),
            Cursor::Snapshot {
                upto: 7,
                last: SnapshotKey::List(ListId::generate()),
            },
            Cursor::Snapshot {
                upto: 0,
                last: SnapshotKey::Task(TaskId::generate()),
            },
        ];
        for cursor in cursors {
            assert_eq!(cursor.to_string().parse::<Cursor>(), Ok(cursor));
        }
    }

    #[test]
    fn anything_else_is_not_a_cursor() {
        let uuid = Uuid::now_v7().simple().to_string();
        for text in [
            String::new(),
            "+5".into(),
            "-1".into(),
            "5.".into(),
            "abc".into(),
            "18446744073709551616".into(),
            format!("5.x.{uuid}"),
            format!("5.t.{uuid}.1"),
            format!("5.t.{}", Uuid::now_v7()),
            "5.t.00".into(),
        ] {
            assert_eq!(text.parse::<Cursor>(), Err(CursorError::Unknown), "{text}");
        }
    }

    #[test]
    fn snapshot_order_is_lists_then_tasks() {
        let list = SnapshotKey::List(ListId::generate());
        let task = SnapshotKey::Task(TaskId::generate());
        assert!(list < task);
    }
}
