//! Sync: every change to a user's tasks and lists, read as pages from a cursor (`/changes`) or
//! followed as it happens (`/events`).

mod cursor;
mod ports;
mod service;

pub use cursor::{Cursor, CursorError, SnapshotKey};
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockChangeLog;
pub use ports::{Change, ChangeLog, ChangePage, Entry, Reading, SyncError};
pub use service::{HISTORY_KEPT, PageSize, SyncService};
