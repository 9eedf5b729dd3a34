//! `ChangeLog` on the `changes` table, which triggers fill with every change of a task or list
//! (see the migration `create_changes`): this module only reads and purges it.

use async_trait::async_trait;
use domain::list::ListId;
use domain::repo::RepoError;
use domain::sync::{
    Change, ChangeLog, ChangePage, Cursor, CursorError, Entry, SnapshotKey, SyncError,
};
use domain::task::TaskId;
use domain::user::UserId;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, Statement, TransactionTrait,
};
use time::OffsetDateTime;

use crate::entity::{list, task, user};
use crate::error::translate;
use crate::list_repository::{ListOrder, counted};
use crate::store::Store;
use crate::task_repository::tasks_by_id;

/// `changes.kind` of a list; a task's is 1.
const LIST: i32 = 0;

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
            .columns([user::Column::ChangeSeq, user::Column::HistoryFloor])
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
        if cursor.seq() > head {
            return Err(CursorError::Unknown.into());
        }
        if cursor.seq() < floor {
            return Err(CursorError::Expired.into());
        }
        Ok(())
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
                _ => sea_orm::sea_query::Expr::value(true),
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
                _ => sea_orm::sea_query::Expr::value(true),
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
    /// are now.
    async fn since(&self, owner: &UserId, since: u64, limit: u32) -> Result<ChangePage, SyncError> {
        // The page of the log and the owner's last number, in one statement so that both come
        // from one snapshot: when the page is not full, it holds every change up to that number.
        let sql = "SELECT u.change_seq, u.history_floor, p.kind, p.entity, p.seq, p.created \
             FROM users u LEFT JOIN ( \
                 SELECT CAST(kind AS INTEGER) AS kind, entity, MAX(seq) AS seq, \
                        CASE WHEN MIN(op) = 0 THEN 1 ELSE 0 END AS created \
                 FROM changes WHERE owner = $1 AND seq > $2 \
                 GROUP BY kind, entity ORDER BY MAX(seq) LIMIT $3 \
             ) p ON 1 = 1 \
             WHERE u.id = $1 ORDER BY p.seq";
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                self.backend(),
                sql,
                [
                    owner.as_str().into(),
                    i64::try_from(since).unwrap_or(i64::MAX).into(),
                    i64::from(limit + 1).into(),
                ],
            ))
            .await
            .map_err(translate)?;
        let Some(first) = rows.first() else {
            // An owner who never wrote has no history: only 0 is theirs.
            return if since == 0 {
                Ok(ChangePage {
                    changes: Vec::new(),
                    cursor: Cursor::After(0),
                    has_more: false,
                })
            } else {
                Err(CursorError::Unknown.into())
            };
        };
        let head = number(first.try_get_by_index::<i64>(0).map_err(translate)?);
        let floor = number(first.try_get_by_index::<i64>(1).map_err(translate)?);
        if since > head {
            return Err(CursorError::Unknown.into());
        }
        if since < floor {
            return Err(CursorError::Expired.into());
        }
        let mut logged = Vec::with_capacity(rows.len());
        for row in &rows {
            let Some(kind) = row.try_get_by_index::<Option<i32>>(2).map_err(translate)? else {
                continue;
            };
            let entity: uuid::Uuid = row.try_get_by_index(3).map_err(translate)?;
            let seq = number(row.try_get_by_index::<i64>(4).map_err(translate)?);
            let created = row.try_get_by_index::<i32>(5).map_err(translate)? == 1;
            logged.push((kind, entity, seq, created));
        }
        let has_more = logged.len() > limit as usize;
        logged.truncate(limit as usize);
        let cursor = match logged.last() {
            Some(&(_, _, seq, _)) if has_more => Cursor::After(seq),
            _ => Cursor::After(head),
        };
        let changes = self.current(owner, logged).await?;
        Ok(ChangePage {
            changes,
            cursor,
            has_more,
        })
    }

    /// The logged entities as they are now (or deleted), in the log's order.
    async fn current(
        &self,
        owner: &UserId,
        logged: Vec<(i32, uuid::Uuid, u64, bool)>,
    ) -> Result<Vec<Change>, RepoError> {
        let ids = |wanted: bool| -> Vec<uuid::Uuid> {
            logged
                .iter()
                .filter(|(kind, ..)| (*kind == LIST) == wanted)
                .map(|&(_, id, ..)| id)
                .collect()
        };
        let (list_ids, task_ids) = (ids(true), ids(false));
        let mut lists = if list_ids.is_empty() {
            Vec::new()
        } else {
            let filter = sea_orm::Condition::all().add(list::Column::Id.is_in(list_ids));
            counted(&self.db, owner, filter, ListOrder::ById(None)).await?
        };
        let mut tasks = if task_ids.is_empty() {
            Vec::new()
        } else {
            let filter = sea_orm::Condition::all().add(task::Column::Id.is_in(task_ids));
            tasks_by_id(&self.db, owner, filter, None).await?
        };
        Ok(logged
            .into_iter()
            .map(|(kind, id, seq, created)| {
                let entry = if kind == LIST {
                    let id = ListId::from(id);
                    match lists.iter().position(|l| l.id() == id) {
                        Some(at) => Entry::List(lists.swap_remove(at)),
                        None => Entry::DeletedList(id),
                    }
                } else {
                    let id = TaskId::from(id);
                    match tasks.iter().position(|t| t.id() == id) {
                        Some(at) => Entry::Task(tasks.swap_remove(at)),
                        None => Entry::DeletedTask(id),
                    }
                };
                Change {
                    seq,
                    created,
                    entry,
                }
            })
            .collect())
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
            Some(Cursor::After(since)) => self.since(owner, since, limit).await,
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
