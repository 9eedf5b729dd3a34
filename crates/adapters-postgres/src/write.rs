//! The unit of work of every write that places a task or list, or changes a family (a parent
//! and its subtasks): one transaction that first locks the owner. Writes of one owner that need
//! it therefore run one at a time, so that what they read (the siblings around a move, a
//! parent's subtasks) is still true when they commit; other owners are not held up.
//!
//! Every change is numbered for the change log, from one counter, while the owner's lock is
//! held: on PostgreSQL a transaction-level advisory lock held to the commit, so that an owner's
//! changes commit in the order of their numbers. Inserted rows are numbered by their column's
//! default, deleted ones by a trigger writing their tombstone, and updated ones by the update
//! statement itself, which therefore always starts from [`changing`] (clippy refuses
//! `update_many` elsewhere). Locks must be taken in one order, the owner's first,
//! or a write holding a row and waiting for the owner would deadlock with one holding the owner
//! and waiting for the row: an `OwnerWrite` starts with the owner, and a statement that writes
//! alone takes it first with [`owner_first`], or, when it places something at an end, by
//! starting from the owner's number ([`appended`]).
//!
//! All end by waking the owner's followers ([`ChangeFeed::changed`]) once committed.

use domain::position::Position;
use domain::repo::RepoError;
use domain::user::UserId;
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, Query, SimpleExpr, UpdateStatement, WithClause,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, Statement, TransactionTrait, UpdateMany, Value,
};

use crate::entity::user;
use crate::live::ChangeFeed;
use crate::sql::Written;

/// A transaction holding the lock of one owner.
pub(crate) struct OwnerWrite<'a> {
    txn: DatabaseTransaction,
    owner: &'a UserId,
    feed: &'a ChangeFeed,
    /// The owner's `append_seq` after this write took its number; `None` when the owner has
    /// no row (and so nothing to write).
    appended: Option<u64>,
}

impl<'a> OwnerWrite<'a> {
    /// Begins a transaction and takes the owner's locks, then the next number of the owner's
    /// `append_seq`, in one statement: on PostgreSQL the owner's advisory lock (before any row,
    /// see the module), then their `users` row by writing it; on SQLite the write takes the
    /// database's write lock at once (a transaction that read first could fail to upgrade its
    /// lock later). The number is what puts something last (or first, counting down).
    pub(crate) async fn begin(
        db: &DatabaseConnection,
        feed: &'a ChangeFeed,
        owner: &'a UserId,
    ) -> Result<Self, DbErr> {
        let txn = db.begin().await?;
        let appended = txn
            .query_one_raw(appending(txn.get_database_backend(), owner))
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
        self.number().map(Position::appended)
    }

    /// The owner's number of this write; an owner without a row has none to place by.
    fn number(&self) -> Result<u64, RepoError> {
        self.appended.ok_or(RepoError::NotFound)
    }

    /// The position right after `before` and before `after`, two siblings next to each other
    /// (either may be absent); with nothing after, last, and with nothing before, first, by
    /// the owner's counter.
    pub(crate) fn position_between(
        &self,
        before: Option<&Position>,
        after: Option<&Position>,
    ) -> Result<Position, RepoError> {
        let placed = match (before, after) {
            (_, None) => return self.last_position(),
            (None, Some(first)) => Position::before(self.number()?, first),
            (Some(_), Some(_)) => Position::between(before, after),
        };
        placed.ok_or_else(|| {
            RepoError::Unexpected(anyhow::anyhow!("stored sibling positions are out of order"))
        })
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

/// The statement of [`OwnerWrite::begin`] ([`appending_built`]), written once per backend.
fn appending(backend: DbBackend, owner: &UserId) -> Statement {
    static WRITTEN: Written<()> = Written::new();
    let postgres = backend == DbBackend::Postgres;
    WRITTEN.statement(
        backend,
        (),
        || appending_values(owner, postgres),
        || appending_built(backend, owner),
    )
}

fn appending_built(backend: DbBackend, owner: &UserId) -> Statement {
    backend.build(&appending_update(backend, owner))
}

/// The values [`appending_update`] binds, in its order: its `+ 1`, the owner, and on
/// PostgreSQL the owner again for the lock.
pub(crate) fn appending_values(owner: &UserId, postgres: bool) -> Vec<Value> {
    let mut values = vec![1_i32.into(), owner.as_str().into()];
    if postgres {
        values.push(owner.as_str().into());
    }
    values
}

/// The name of the [`appended`] table, which holds the owner's new `append_seq`.
pub(crate) const APPENDED: &str = "appended";

/// On PostgreSQL, the owner's locks and next append number as the first part of a statement
/// that places something at an end by itself, the number in the table [`APPENDED`]; its values,
/// [`appending_values`], come first.
pub(crate) fn appended(owner: &UserId) -> WithClause {
    WithClause::new()
        .cte(
            CommonTableExpression::new()
                .query(appending_update(DbBackend::Postgres, owner))
                .table_name(Alias::new(APPENDED))
                .to_owned(),
        )
        .to_owned()
}

/// The owner's locks and next append number, in one statement ([`OwnerWrite::begin`]'s).
fn appending_update(backend: DbBackend, owner: &UserId) -> UpdateStatement {
    let mut update = Query::update();
    update
        .table(user::Entity)
        .value(
            user::Column::AppendSeq,
            Expr::col(user::Column::AppendSeq).add(1),
        )
        .and_where(user::Column::Id.eq(owner.as_str()))
        .returning_col(user::Column::AppendSeq);
    if let Some(lock) = owner_lock(backend, owner) {
        update.and_where(lock);
    }
    update
}

/// An update of task or list rows, numbering each as the owner's latest change: the number
/// of its last change (`changed_seq`) from the counter of all changes; the number of its
/// creation (`created_seq`) kept from before, when the creation was the last change. Only
/// PostgreSQL needs it; SQLite's triggers number rows (the migration `number_rows`).
#[expect(
    clippy::disallowed_methods,
    reason = "the one place that builds updates of numbered rows"
)]
pub(crate) fn changing<E: EntityTrait>(backend: DbBackend) -> UpdateMany<E> {
    let update = E::update_many();
    if backend != DbBackend::Postgres {
        return update;
    }
    // Assignments read the row as it was: the creation's number is the old `changed_seq`.
    update
        .col_expr(
            Alias::new("created_seq"),
            Expr::cust("COALESCE(created_seq, changed_seq)"),
        )
        .col_expr(
            Alias::new("changed_seq"),
            Expr::cust("nextval('change_numbers')"),
        )
}

/// A statement writing the owner's rows outside an [`OwnerWrite`], made to take the owner's
/// lock before any row's.
pub(crate) fn owner_first<E: EntityTrait>(
    update: UpdateMany<E>,
    backend: DbBackend,
    owner: &UserId,
) -> UpdateMany<E> {
    match owner_lock(backend, owner) {
        Some(lock) => update.filter(lock),
        None => update,
    }
}

/// A condition that takes the owner's lock, on PostgreSQL: a transaction-level advisory lock
/// on `hashtextextended(owner, 0)` (the key the tombstones' trigger takes too), held to the
/// commit; no WAL, no row written. Uncorrelated, the sub-select runs once, as a one-time
/// filter, before the scan that finds (and locks) any row. It must select *from* the call:
/// PostgreSQL drops the select list of an `EXISTS`, and with it a lock taken there.
/// SQLite has one writer at a time and needs none.
fn owner_lock(backend: DbBackend, owner: &UserId) -> Option<SimpleExpr> {
    (backend == DbBackend::Postgres).then(|| {
        Expr::cust_with_values(
            "(SELECT TRUE FROM (SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) AS locked)",
            [owner.as_str()],
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_of_a_write_s_start_is_the_one_sea_query_builds() {
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for owner in ["alice", "bob"] {
                let owner = UserId::parse(owner).unwrap();
                assert_eq!(appending(backend, &owner), appending_built(backend, &owner));
            }
        }
    }
}
