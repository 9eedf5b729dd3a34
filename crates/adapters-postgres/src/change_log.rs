//! `ChangeLog` on the numbered rows: each task and list carries the number of its last change
//! and its creation, and the `changes` table holds the tombstones of deleted ones (see the
//! migration `number_rows`). The writes number what they change (`write::changing`); this
//! module reads the numbers and purges old tombstones.

use async_trait::async_trait;
use domain::list::ListId;
use domain::repo::RepoError;
use domain::sync::{
    Change, ChangeLog, ChangePage, Cursor, CursorError, Entry, Reading, SnapshotKey, SyncError,
};
use domain::task::TaskId;
use domain::user::UserId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, Statement, TransactionTrait,
};
use time::OffsetDateTime;

use crate::entity::{list, task, user};
use crate::error::translate;
use crate::list_repository::{ListOrder, counted};
use crate::reminders::REMINDER_OP;
use crate::sql::{Written, greatest};
use crate::store::Store;
use crate::task_repository::{TASK_COLUMNS, column, task_columns, task_in_row, tasks_by_id};

/// `changes.kind` of a list's tombstone, and of a list in a page.
const LIST: i32 = 0;
/// `changes.kind` of a task's tombstone or reminder, and of a task in a page.
const TASK: i32 = 1;
/// `changes.op` of a tombstone.
const DELETED: i16 = 2;
/// What a page's numbered row stands for in the place of `changes.op`: a change.
const CHANGED: i32 = 1;

/// The change log of the store's database.
#[derive(Debug, Clone)]
pub struct SeaChangeLog {
    db: DatabaseConnection,
}

impl SeaChangeLog {
    /// A change log on the store's pool.
    pub fn new(store: &Store) -> Self {
        Self {
            db: store.connection().clone(),
        }
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// The owner's last change number and the greatest number purged (0 and 0 for an owner
    /// who never wrote).
    async fn bounds(&self, owner: &UserId) -> Result<(u64, u64), RepoError> {
        let row = user::Entity::find()
            .select_only()
            .expr(Expr::cust(head(self.backend())))
            .column(user::Column::HistoryFloor)
            .filter(user::Column::Id.eq(owner.as_str()))
            .into_tuple::<(i64, i64)>()
            .one(&self.db)
            .await
            .map_err(translate)?;
        Ok(row.map_or((0, 0), |(head, floor)| (number(head), number(floor))))
    }

    /// Refuses a cursor the owner's history cannot resume from.
    async fn check(&self, owner: &UserId, cursor: Cursor) -> Result<(), SyncError> {
        let (head, floor) = self.bounds(owner).await?;
        Ok(resumable(cursor.seq(), head, floor)?)
    }

    /// A page of a snapshot taken when the owner's last change was `upto`: the lists, then
    /// the tasks, after `resume`.
    async fn snapshot(
        &self,
        owner: &UserId,
        upto: u64,
        resume: Option<SnapshotKey>,
        limit: u32,
    ) -> Result<ChangePage, SyncError> {
        // One more than asked tells whether there is more.
        let wanted = u64::from(limit) + 1;
        let mut entries = Vec::new();
        if !matches!(resume, Some(SnapshotKey::Task(_))) {
            let after = match resume {
                Some(SnapshotKey::List(id)) => list::Column::Id.gt(*id.as_uuid()),
                _ => Expr::value(true),
            };
            let lists = counted(
                &self.db,
                owner,
                sea_orm::Condition::all().add(after),
                ListOrder::ById(Some(wanted)),
            )
            .await?;
            entries.extend(lists.into_iter().map(Entry::List));
        }
        if let Some(room) = wanted.checked_sub(entries.len() as u64).filter(|n| *n > 0) {
            let after = match resume {
                Some(SnapshotKey::Task(id)) => task::Column::Id.gt(*id.as_uuid()),
                _ => Expr::value(true),
            };
            let tasks = tasks_by_id(
                &self.db,
                owner,
                sea_orm::Condition::all().add(after),
                Some(room),
            )
            .await?;
            entries.extend(tasks.into_iter().map(Entry::Task));
        }
        let has_more = entries.len() as u64 > u64::from(limit);
        entries.truncate(limit as usize);
        let cursor = match entries.last() {
            Some(Entry::List(list)) if has_more => Cursor::Snapshot {
                upto,
                last: SnapshotKey::List(list.id()),
            },
            Some(Entry::Task(task)) if has_more => Cursor::Snapshot {
                upto,
                last: SnapshotKey::Task(task.id()),
            },
            _ => Cursor::After(upto),
        };
        let changes = entries
            .into_iter()
            .map(|entry| Change {
                seq: upto,
                created: true,
                entry,
            })
            .collect();
        Ok(ChangePage {
            changes,
            cursor,
            has_more,
        })
    }

    /// The entities changed after `since`, in the order of their last change, read as they
    /// are now; for [`Reading::Events`], with the reminders fired since among them.
    async fn since(
        &self,
        owner: &UserId,
        since: u64,
        limit: u32,
        reading: Reading,
    ) -> Result<ChangePage, SyncError> {
        let statement = page(self.backend(), reading, owner, since, limit);
        let rows = self.db.query_all_raw(statement).await.map_err(translate)?;
        let Some(first) = rows.first() else {
            // An owner who never wrote has no history: only 0 is theirs.
            resumable(since, 0, 0)?;
            return Ok(ChangePage {
                changes: Vec::new(),
                cursor: Cursor::After(0),
                has_more: false,
            });
        };
        // The page's own columns, after the task's.
        let at = |n: usize| TASK_COLUMNS + n;
        let head = number(column(first, at(0)).map_err(translate)?);
        let floor = number(column(first, at(1)).map_err(translate)?);
        resumable(since, head, floor)?;
        // The page's entries, by number; `None` for a reminder of a task deleted since,
        // which its tombstone reports.
        let mut entries = Vec::with_capacity(rows.len());
        let mut lists = Vec::new();
        for row in &rows {
            let Some(kind) = column::<Option<i32>>(row, at(2)).map_err(translate)? else {
                continue;
            };
            let id: uuid::Uuid = column(row, at(3)).map_err(translate)?;
            let op: i32 = column(row, at(6)).map_err(translate)?;
            let entry = if kind == TASK {
                match (task_in_row(row, owner)?, op == i32::from(REMINDER_OP)) {
                    (Some(task), true) => Some(Entry::Reminder(task)),
                    (None, true) => None,
                    (Some(task), false) => Some(Entry::Task(task)),
                    (None, false) => Some(Entry::DeletedTask(TaskId::from(id))),
                }
            } else {
                // Filled in below, with the counts.
                lists.push(id);
                Some(Entry::DeletedList(ListId::from(id)))
            };
            let seq = number(column(row, at(4)).map_err(translate)?);
            let created = column::<i32>(row, at(5)).map_err(translate)? == 1;
            entries.push((
                seq,
                entry.map(|entry| Change {
                    seq,
                    created,
                    entry,
                }),
            ));
        }
        let has_more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        let cursor = match entries.last() {
            Some((seq, _)) if has_more => Cursor::After(*seq),
            _ => Cursor::After(head),
        };
        let mut changes: Vec<Change> = entries.into_iter().filter_map(|(_, c)| c).collect();
        if !lists.is_empty() {
            self.fill_lists(owner, lists, &mut changes).await?;
        }
        Ok(ChangePage {
            changes,
            cursor,
            has_more,
        })
    }

    /// Replaces the lists of a page (placeholders as deleted) by the lists as they are now,
    /// with their counts; those not found stay deleted.
    async fn fill_lists(
        &self,
        owner: &UserId,
        ids: Vec<uuid::Uuid>,
        changes: &mut [Change],
    ) -> Result<(), RepoError> {
        let filter = sea_orm::Condition::all().add(list::Column::Id.is_in(ids));
        let mut lists = counted(&self.db, owner, filter, ListOrder::ById(None)).await?;
        for change in changes {
            if let Entry::DeletedList(id) = change.entry
                && let Some(at) = lists.iter().position(|l| l.id() == id)
            {
                change.entry = Entry::List(lists.swap_remove(at));
            }
        }
        Ok(())
    }
}

/// The number of the owner's last change, in a statement on their `users` row: the greatest
/// of their rows' and tombstones', or, when greater, the greatest purged. Numbers are handed
/// out under the owner's lock, so every change of theirs still to commit will have a greater
/// one.
fn head(backend: DbBackend) -> String {
    format!(
        "{greatest}(\
         COALESCE((SELECT MAX(x.changed_seq) FROM tasks x WHERE x.owner = users.id), 0), \
         COALESCE((SELECT MAX(x.changed_seq) FROM lists x WHERE x.owner = users.id), 0), \
         COALESCE((SELECT MAX(x.seq) FROM changes x WHERE x.owner = users.id), 0), \
         users.history_floor)",
        greatest = greatest(backend),
    )
}

/// The statement of a page of `owner`'s history after `since`, `limit` entries at most and
/// one more (which tells whether there is more): [`page_sql`], written once per backend and
/// reading.
fn page(backend: DbBackend, reading: Reading, owner: &UserId, since: u64, limit: u32) -> Statement {
    static WRITTEN: Written<Reading> = Written::new();
    let values = || {
        vec![
            owner.as_str().into(),
            i64::try_from(since).unwrap_or(i64::MAX).into(),
            i64::from(limit + 1).into(),
        ]
    };
    WRITTEN.statement(backend, reading, values, || {
        Statement::from_sql_and_values(backend, page_sql(backend, reading), values())
    })
}

/// The SQL of a page after `$2` of owner `$1`'s history, `$3` entries at most.
fn page_sql(backend: DbBackend, reading: Reading) -> String {
    // One statement: the page (rows and log entries numbered after `since`) with each task
    // as it is now, and the owner's last number, all from one snapshot, so that a page
    // that is not full holds every change up to that number. Lists, with their counts,
    // take a second when there are any. An entity is new to the reader when its creation
    // (its last change, while `created_seq` is NULL) is after `since`. The owner's last
    // number is computed once, in a derived table that its LIMIT keeps PostgreSQL from
    // merging into the join: in the select list it was computed again for every row.
    let numbered = |kind: i32, table: &str| {
        format!(
            "SELECT {kind} AS kind, id AS entity, changed_seq AS seq, \
                    CASE WHEN COALESCE(created_seq, changed_seq) > $2 THEN 1 ELSE 0 END \
                    AS created, {CHANGED} AS op \
             FROM {table} WHERE owner = $1 AND changed_seq > $2"
        )
    };
    let logged = match reading {
        Reading::Changes => format!("op = {DELETED}"),
        Reading::Events => format!("op IN ({DELETED}, {REMINDER_OP})"),
    };
    format!(
        "SELECT {tasks}, o.head, o.history_floor, p.kind, p.entity, p.seq, p.created, p.op \
         FROM (SELECT {head} AS head, users.history_floor FROM users \
               WHERE users.id = $1 LIMIT 1) o \
         LEFT JOIN ( \
             SELECT * FROM ({listed} UNION ALL {tasked} UNION ALL \
                 SELECT CAST(kind AS INTEGER), entity, seq, 0, CAST(op AS INTEGER) \
                 FROM changes WHERE owner = $1 AND seq > $2 AND {logged}) AS u \
             ORDER BY seq LIMIT $3 \
         ) p ON 1 = 1 \
         LEFT JOIN tasks t ON p.kind = {TASK} AND t.owner = $1 AND t.id = p.entity \
         ORDER BY p.seq",
        tasks = task_columns("t"),
        head = head(backend),
        listed = numbered(LIST, "lists"),
        tasked = numbered(TASK, "tasks"),
    )
}

/// Whether a history whose last change is `head` and whose greatest purged one is `floor`
/// can resume after `seq`: not past its end (no such cursor was handed out), not before what
/// was purged (what came after it may be gone).
fn resumable(seq: u64, head: u64, floor: u64) -> Result<(), CursorError> {
    if seq > head {
        Err(CursorError::Unknown)
    } else if seq < floor {
        Err(CursorError::Expired)
    } else {
        Ok(())
    }
}

/// A stored counter: never negative.
fn number(stored: i64) -> u64 {
    u64::try_from(stored).unwrap_or(0)
}

#[async_trait]
impl ChangeLog for SeaChangeLog {
    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn read(
        &self,
        owner: &UserId,
        from: Option<Cursor>,
        limit: u32,
        reading: Reading,
    ) -> Result<ChangePage, SyncError> {
        match from {
            None => {
                // Read before the snapshot: whatever commits during it is after this number.
                let (head, _) = self.bounds(owner).await?;
                self.snapshot(owner, head, None, limit).await
            }
            Some(cursor @ Cursor::Snapshot { upto, last }) => {
                self.check(owner, cursor).await?;
                self.snapshot(owner, upto, Some(last), limit).await
            }
            Some(Cursor::After(since)) => self.since(owner, since, limit, reading).await,
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn head(&self, owner: &UserId) -> Result<u64, RepoError> {
        Ok(self.bounds(owner).await?.0)
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn purge(&self, before: OffsetDateTime) -> Result<u64, RepoError> {
        let cutoff = before.unix_timestamp();
        let txn = self.db.begin().await.map_err(translate)?;
        // First the floors, so that a cursor into what goes is refused from the commit on.
        txn.execute_raw(Statement::from_sql_and_values(
            self.backend(),
            "UPDATE users SET history_floor = \
                 (SELECT MAX(seq) FROM changes c WHERE c.owner = users.id AND c.recorded_at < $1) \
             WHERE id IN (SELECT owner FROM changes WHERE recorded_at < $1)",
            [cutoff.into()],
        ))
        .await
        .map_err(translate)?;
        let purged = txn
            .execute_raw(Statement::from_sql_and_values(
                self.backend(),
                "DELETE FROM changes WHERE recorded_at < $1",
                [cutoff.into()],
            ))
            .await
            .map_err(translate)?;
        txn.commit().await.map_err(translate)?;
        Ok(purged.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_binds_its_values_to_the_sql_of_its_backend_and_reading() {
        let owner = UserId::parse("alice").expect("a user id");
        // Twice round: the second time, every statement comes from what the first wrote.
        for _ in 0..2 {
            for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
                for reading in [Reading::Changes, Reading::Events] {
                    let built = Statement::from_sql_and_values(
                        backend,
                        page_sql(backend, reading),
                        [owner.as_str().into(), 7_i64.into(), 11_i64.into()],
                    );
                    assert_eq!(page(backend, reading, &owner, 7, 10), built);
                }
            }
        }
    }
}
