//! The unit of work of every write that places a task or list, or changes a family (a parent
//! and its subtasks): one transaction that first locks the owner. Writes of one owner that need
//! it therefore run one at a time, so that what they read (the siblings around a move, a
//! parent's subtasks) is still true when they commit; other owners are not held up.
//!
//! This is the one place such writes begin and commit: what must be recorded with every
//! change (the sync's change log) belongs here.

use domain::position::Position;
use domain::repo::RepoError;
use domain::user::UserId;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait,
};

use crate::entity::user;

/// A transaction holding the lock of one owner.
pub(crate) struct OwnerWrite {
    txn: DatabaseTransaction,
    /// The owner's `append_seq` after this write took its number; `None` when the owner has no
    /// row (and so nothing to write).
    appended: Option<u64>,
}

impl OwnerWrite {
    /// Begins a transaction and takes the owner's lock by taking the next number of the
    /// owner's `append_seq`: a write to their `users` row, which on PostgreSQL locks that row
    /// and on SQLite takes the database's write lock at once (a transaction that read first
    /// could fail to upgrade its lock later). The number is what puts something last.
    pub(crate) async fn begin(db: &DatabaseConnection, owner: &UserId) -> Result<Self, DbErr> {
        let txn = db.begin().await?;
        let backend = txn.get_database_backend();
        let statement = backend.build(
            Query::update()
                .table(user::Entity)
                .value(
                    user::Column::AppendSeq,
                    Expr::col(user::Column::AppendSeq).add(1),
                )
                .and_where(user::Column::Id.eq(owner.as_str()))
                .returning_col(user::Column::AppendSeq),
        );
        let appended = txn
            .query_one_raw(statement)
            .await?
            .map(|row| row.try_get_by_index::<i64>(0))
            .transpose()?
            .and_then(|n| u64::try_from(n).ok());
        Ok(Self { txn, appended })
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

    /// Commits the write.
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}
