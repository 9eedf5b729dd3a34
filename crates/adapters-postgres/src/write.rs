//! The unit of work of every write that places a task or list, or changes a family (a parent
//! and its subtasks): one transaction that first locks the owner. Writes of one owner that need
//! it therefore run one at a time, so that what they read (the last sibling, a parent's
//! subtasks) is still true when they commit; other owners are not held up.
//!
//! This is the one place such writes begin and commit: what must be recorded with every
//! change (the sync's change log) belongs here.

use domain::user::UserId;
use sea_orm::sea_query::{Expr, LockType, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    TransactionTrait,
};

use crate::entity::user;

/// A transaction holding the lock of one owner.
pub(crate) struct OwnerWrite {
    txn: DatabaseTransaction,
}

impl OwnerWrite {
    /// Begins a transaction and takes the owner's lock: on PostgreSQL the row lock of the
    /// owner's user row; on SQLite a write to it, which takes the database's write lock at once
    /// (a transaction that read first could fail to upgrade its lock later).
    pub(crate) async fn begin(db: &DatabaseConnection, owner: &UserId) -> Result<Self, DbErr> {
        let txn = db.begin().await?;
        let backend = txn.get_database_backend();
        let statement = if backend == DbBackend::Postgres {
            backend.build(
                Query::select()
                    .expr(Expr::val(1))
                    .from(user::Entity)
                    .and_where(user::Column::Id.eq(owner.as_str()))
                    .lock(LockType::Update),
            )
        } else {
            // A column no foreign key refers to, so that SQLite checks no child table.
            backend.build(
                Query::update()
                    .table(user::Entity)
                    .value(user::Column::UpdatedAt, Expr::col(user::Column::UpdatedAt))
                    .and_where(user::Column::Id.eq(owner.as_str())),
            )
        };
        txn.execute_raw(statement).await?;
        Ok(Self { txn })
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
