//! The sync use cases.

use std::sync::Arc;
use std::time::Duration;

use super::cursor::Cursor;
use super::ports::{ChangeLog, ChangePage, Reading, SyncError};
use crate::repo::RepoError;
use crate::user::UserId;
use crate::validation::FieldError;

/// How long changes are kept: a cursor older than this may be refused as expired.
pub const HISTORY_KEPT: Duration = Duration::from_hours(24 * 30);

/// How many entities a page of changes holds at most: 1 to 1000, 500 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u32);

impl PageSize {
    /// The most a page holds.
    pub const MAX: u32 = 1000;
    /// What a page holds when the client does not say.
    pub const DEFAULT: Self = Self(500);

    /// A page size from the client's `limit`.
    ///
    /// # Errors
    /// When it is not a whole number from 1 to [`PageSize::MAX`].
    pub fn parse(limit: &str) -> Result<Self, FieldError> {
        limit
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=Self::MAX).contains(n))
            .map(Self)
            .ok_or_else(|| FieldError::new("limit", "must be 1 to 1000"))
    }

    /// A page size the server chooses itself: `n`, brought within 1 to [`PageSize::MAX`].
    pub const fn at_most(n: u32) -> Self {
        if n == 0 {
            Self(1)
        } else if n > Self::MAX {
            Self(Self::MAX)
        } else {
            Self(n)
        }
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Sync use cases. Every method acts for one owner, already authorised by the caller.
#[derive(Clone)]
pub struct SyncService {
    log: Arc<dyn ChangeLog>,
    clock: Arc<dyn crate::clock::Clock>,
}

impl SyncService {
    /// A service over the change log.
    pub fn new(log: Arc<dyn ChangeLog>, clock: Arc<dyn crate::clock::Clock>) -> Self {
        Self { log, clock }
    }

    /// A page of the owner's changes after `since`, or of a snapshot without it.
    ///
    /// # Errors
    /// `Cursor` for a cursor not of the owner's or expired; `Repo` when the store fails.
    pub async fn changes(
        &self,
        owner: &UserId,
        since: Option<Cursor>,
        size: PageSize,
    ) -> Result<ChangePage, SyncError> {
        self.log
            .read(owner, since, size.get(), Reading::Changes)
            .await
    }

    /// A page of the owner's events after `since`: the changes and the reminders fired.
    ///
    /// # Errors
    /// As [`SyncService::changes`].
    pub async fn events(
        &self,
        owner: &UserId,
        since: Cursor,
        size: PageSize,
    ) -> Result<ChangePage, SyncError> {
        self.log
            .read(owner, Some(since), size.get(), Reading::Events)
            .await
    }

    /// Where a live follower of the owner's changes starts: after the last one.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn head(&self, owner: &UserId) -> Result<Cursor, RepoError> {
        Ok(Cursor::After(self.log.head(owner).await?))
    }

    /// Forgets the changes older than [`HISTORY_KEPT`]; returns how many.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn purge(&self) -> Result<u64, RepoError> {
        self.log.purge(self.clock.now() - HISTORY_KEPT).await
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;
    use time::macros::datetime;

    use super::*;
    use crate::clock::MockClock;
    use crate::sync::MockChangeLog;

    fn owner() -> UserId {
        UserId::parse("alice").expect("a user id")
    }

    fn service(log: MockChangeLog) -> SyncService {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(datetime!(2026-11-26 12:00 UTC));
        SyncService::new(Arc::new(log), Arc::new(clock))
    }

    #[test]
    fn a_page_holds_1_to_1000() {
        assert_eq!(PageSize::parse("1").map(PageSize::get), Ok(1));
        assert_eq!(PageSize::parse("1000").map(PageSize::get), Ok(1000));
        assert_eq!(PageSize::at_most(0).get(), 1);
        assert_eq!(PageSize::at_most(100).get(), 100);
        assert_eq!(PageSize::at_most(5000).get(), 1000);
        for refused in ["0", "1001", "-1", "ten", ""] {
            assert_eq!(PageSize::parse(refused).unwrap_err().field(), "limit");
        }
    }

    #[tokio::test]
    async fn changes_are_read_from_the_cursor_with_the_page_size() {
        let mut log = MockChangeLog::new();
        log.expect_read()
            .with(
                eq(owner()),
                eq(Some(Cursor::After(41))),
                eq(20),
                eq(Reading::Changes),
            )
            .return_once(|_, _, _, _| {
                Ok(ChangePage {
                    changes: Vec::new(),
                    cursor: Cursor::After(41),
                    has_more: false,
                })
            });
        let page = service(log)
            .changes(
                &owner(),
                Some(Cursor::After(41)),
                PageSize::parse("20").unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(page.cursor, Cursor::After(41));
    }

    #[tokio::test]
    async fn a_follower_starts_after_the_last_change() {
        let mut log = MockChangeLog::new();
        log.expect_head().with(eq(owner())).return_once(|_| Ok(17));
        assert_eq!(
            service(log).head(&owner()).await.unwrap(),
            Cursor::After(17)
        );
    }

    #[tokio::test]
    async fn the_purge_keeps_thirty_days() {
        let mut log = MockChangeLog::new();
        log.expect_purge()
            .with(eq(datetime!(2026-10-27 12:00 UTC)))
            .return_once(|_| Ok(3));
        assert_eq!(service(log).purge().await.unwrap(), 3);
    }
}
