//! `Reminders` on the `reminders` table that triggers keep armed (migration 7).
//!
//! Firing is one transaction per owner with a due reminder, under the owner's lock (so that
//! the entry's number is a cursor like every other): delete the owner's due rows, and record
//! a `reminder` entry for each of a pending task. The delete is the claim: instances firing
//! at the same moment queue on the owner's lock, and the later ones find the rows gone. No
//! row is locked before the owner is, the order every write keeps (see `write.rs`).

use async_trait::async_trait;
use domain::reminder::Reminders;
use domain::repo::RepoError;
use domain::user::UserId;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use time::OffsetDateTime;

use crate::error::translate;
use crate::live::ChangeFeed;
use crate::store::Store;
use crate::write::OwnerWrite;

/// `changes.op` of a fired reminder.
pub(crate) const REMINDER_OP: i16 = 3;
/// Owners served in one round: a backlog (after downtime) is worked through round by round.
const OWNERS_PER_ROUND: i64 = 100;

/// The reminders of the store's database.
#[derive(Debug, Clone)]
pub struct SeaReminders {
    db: DatabaseConnection,
    feed: ChangeFeed,
}

impl SeaReminders {
    /// Reminders on the store's pool.
    pub fn new(store: &Store) -> Self {
        Self {
            db: store.connection().clone(),
            feed: store.feed().clone(),
        }
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Fires the owner's reminders due at `now` (Unix milliseconds); returns how many fired.
    async fn fire_owner(&self, owner: &UserId, now: i64) -> Result<u64, RepoError> {
        let write = OwnerWrite::begin(&self.db, &self.feed, owner)
            .await
            .map_err(translate)?;
        let txn = write.txn();
        let backend = self.backend();
        let claimed = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "DELETE FROM reminders WHERE owner = $1 AND fire_at <= $2 RETURNING task_id",
                [owner.as_str().into(), now.into()],
            ))
            .await
            .map_err(translate)?;
        let mut fired = 0;
        for row in claimed {
            let task: uuid::Uuid = row.try_get_by_index(0).map_err(translate)?;
            // PostgreSQL numbers the entry by the column's default; SQLite by its counter row.
            let (number_column, number) = if backend == DbBackend::Postgres {
                ("", "")
            } else {
                txn.execute_unprepared("UPDATE change_numbers SET last = last + 1")
                    .await
                    .map_err(translate)?;
                (", seq", ", (SELECT last FROM change_numbers)")
            };
            let recorded = txn
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "INSERT INTO changes (owner, kind, entity, op, recorded_at{number_column}) \
                         SELECT owner, 1, id, {REMINDER_OP}, $3{number} FROM tasks \
                         WHERE owner = $1 AND id = $2 AND NOT completed"
                    ),
                    [owner.as_str().into(), task.into(), (now / 1000).into()],
                ))
                .await
                .map_err(translate)?;
            fired += recorded.rows_affected();
        }
        write.commit().await.map_err(translate)?;
        Ok(fired)
    }
}

#[async_trait]
impl Reminders for SeaReminders {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn fire_due(&self, now: OffsetDateTime) -> Result<u64, RepoError> {
        let now = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        let mut fired = 0;
        loop {
            let owners = self
                .db
                .query_all_raw(Statement::from_sql_and_values(
                    self.backend(),
                    "SELECT DISTINCT owner FROM reminders WHERE fire_at <= $1 \
                     ORDER BY owner LIMIT $2",
                    [now.into(), OWNERS_PER_ROUND.into()],
                ))
                .await
                .map_err(translate)?;
            let round = owners.len();
            for row in owners {
                let owner: String = row.try_get_by_index(0).map_err(translate)?;
                let owner = UserId::parse(owner).map_err(|_| {
                    RepoError::Unexpected(anyhow::anyhow!("stored owner is invalid"))
                })?;
                fired += self.fire_owner(&owner, now).await?;
            }
            if round < usize::try_from(OWNERS_PER_ROUND).unwrap_or(usize::MAX) {
                return Ok(fired);
            }
        }
    }
}
