//! The unit of work of every write that places a task or list, or changes a family (a parent
//! and its subtasks): one transaction that first locks the owner. Writes of one owner that need
//! it therefore run one at a time, so that what they read (the siblings around a move, a
//! parent's subtasks) is still true when they commit; other owners are not held up.
//!
//! Every change is recorded in the change log by triggers, which take the owner's counter
//! (`users.change_seq`) and with it the owner's lock. Locks must be taken in one order, the
//! owner's first, or a write holding a row and waiting for the owner would deadlock with one
//! holding the owner and waiting for the row: an `OwnerWrite` starts with the owner, and a
//! statement that writes alone takes it first with [`owner_first`].
//!
//! Both end by waking the owner's followers ([`ChangeFeed::changed`]) once committed.

use domain::position::Position;
use domain::repo::RepoError;
use domain::user::UserId;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, TransactionTrait, UpdateMany,
};

use crate::entity::user;
use crate::live::ChangeFeed;

/// A transaction holding the lock of one owner.
pub(crate) struct OwnerWrite<'a> {
    txn: DatabaseTransaction,
    owner: &'a UserId,
    feed: &'a ChangeFeed,
    /// The owner's counter after this write took its number; `None` when the owner has no
    /// row (and so nothing to write).
    appended: Option<u64>,
}

impl<'a> OwnerWrite<'a> {
    /// Begins a transaction and takes the owner's lock by taking the next number of the
    /// owner's counter: a write to their `users` row, which on PostgreSQL locks that row and
    /// on SQLite takes the database's write lock at once (a transaction that read first could
    /// fail to upgrade its lock later). The number is what puts something last.
    pub(crate) async fn begin(
        db: &DatabaseConnection,
        feed: &'a ChangeFeed,
        owner: &'a UserId,
    ) -> Result<Self, DbErr> {
        let txn = db.begin().await?;
        let backend = txn.get_database_backend();
        let statement = backend.build(
            Query::update()
                .table(user::Entity)
                .value(
                    user::Column::ChangeSeq,
                    Expr::col(user::Column::ChangeSeq).add(1),
                )
                .and_where(user::Column::Id.eq(owner.as_str()))
                .returning_col(user::Column::ChangeSeq),
        );
        let appended = txn
            .query_one_raw(statement)
            .await?
            .map(|row| row.try_get_by_index::<i64>(0))
            .transpose()?
            .and_then(|n| u64::try_from(n).ok());
        Ok(Self {
            txn,
            owner,
            feed,
            appended,
        })
    }

    /// The position that puts something last among any siblings of the owner's: after every
    /// position there, since the owner's counter only grows and other keys stay below it.
    pub(crate) fn last_position(&self) -> Result<Position, RepoError> {
        self.appended
            .map(Position::appended)
            .ok_or(RepoError::NotFound)
    }

    /// The position right after `before` and before `after`, two siblings next to each other
    /// (either may be absent); with nothing after, last, by the owner's counter.
    pub(crate) fn position_between(
        &self,
        before: Option<&Position>,
        after: Option<&Position>,
    ) -> Result<Position, RepoError> {
        match after {
            None => self.last_position(),
            Some(after) => Position::between(before, Some(after)).ok_or_else(|| {
                RepoError::Unexpected(anyhow::anyhow!("stored sibling positions are out of order"))
            }),
        }
    }

    /// The transaction, for the statements of the write.
    pub(crate) fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Commits the write and wakes the owner's followers.
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        self.feed.changed(self.owner.as_str());
        Ok(())
    }
}

/// A statement writing the owner's rows outside an [`OwnerWrite`], made to take the owner's
/// lock before any row's. On PostgreSQL the uncorrelated `EXISTS` runs once, as a one-time
/// filter, before the scan that finds (and locks) the rows. SQLite has one writer at a time
/// and needs nothing.
pub(crate) fn owner_first<E: EntityTrait>(
    update: UpdateMany<E>,
    backend: DbBackend,
    owner: &UserId,
) -> UpdateMany<E> {
    if backend != DbBackend::Postgres {
        return update;
    }
    update.filter(Expr::cust_with_values(
        "EXISTS (SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE)",
        [owner.as_str()],
    ))
}
