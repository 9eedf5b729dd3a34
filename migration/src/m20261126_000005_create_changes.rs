//! The change log that sync reads: one row for every insert, update and delete of a task or a
//! list, written by triggers in the same transaction as the change, so that no write path,
//! cascade or hand-written statement can change a row unrecorded.
//!
//! Each row is numbered from one sequence for all users (an identity column on PostgreSQL,
//! never cached, so numbers are handed out in time order; `AUTOINCREMENT` on SQLite, never
//! reused). On PostgreSQL the trigger holds the owner's lock, a transaction-level advisory lock
//! on `hashtextextended(owner, 0)`, until the commit: one owner's changes therefore commit in
//! the order of their numbers, and a reader that has seen number `n` committed never finds a
//! smaller one of that owner's appear later. That is what makes a number a cursor. The
//! application's writes take the same lock before any row's (see the adapter's `write.rs`),
//! so that no two writes can each hold what the other waits for. SQLite has one writer at a
//! time.
//!
//! `users.history_floor` is the greatest number purged from the owner's log: a cursor below it
//! may have missed something and is refused.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, small_integer, text, uuid};
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20260101_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UsersFloor {
    #[sea_orm(iden = "users")]
    Table,
    HistoryFloor,
}

#[derive(DeriveIden)]
enum Changes {
    Table,
    Owner,
    Seq,
    Kind,
    Entity,
    Op,
    RecordedAt,
}

/// What a trigger records, as the kind of row (`changes.kind`: 0 a list, 1 a task) it is on.
const LOGGED: [(&str, i16); 2] = [("lists", 0), ("tasks", 1)];

/// The operations and their codes in `changes.op`.
const OPERATIONS: [(&str, i16); 3] = [("INSERT", 0), ("UPDATE", 1), ("DELETE", 2)];

/// PostgreSQL: one function for every trigger; the kind comes as its argument. A row deleted
/// with its owner (the user's deletion cascading) is not logged: no one is left to sync.
const RECORD_CHANGE_FUNCTION: &str = r"
CREATE FUNCTION record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed := OLD;
        IF NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.owner) THEN
            RETURN NULL;
        END IF;
    ELSE
        changed := NEW;
    END IF;
    -- Already held when the application wrote: taking it again is only a count.
    PERFORM pg_advisory_xact_lock(hashtextextended(changed.owner, 0));
    INSERT INTO changes (owner, kind, entity, op, recorded_at)
    VALUES (changed.owner, TG_ARGV[0]::smallint, changed.id,
            CASE TG_OP WHEN 'INSERT' THEN 0 WHEN 'UPDATE' THEN 1 ELSE 2 END,
            extract(epoch FROM now())::bigint);
    RETURN NULL;
END
$$";

fn trigger_name(table: &str, operation: &str) -> String {
    format!("{table}_{}_changes", operation.to_lowercase())
}

/// SQLite: a trigger per table and operation, since its triggers have no arguments.
fn sqlite_trigger(table: &str, kind: i16, operation: &str, op: i16) -> String {
    let row = if operation == "DELETE" { "OLD" } else { "NEW" };
    format!(
        "CREATE TRIGGER {name} AFTER {operation} ON {table} BEGIN \
         INSERT INTO changes (owner, kind, entity, op, recorded_at) \
         SELECT {row}.owner, {kind}, {row}.id, {op}, unixepoch() \
         WHERE EXISTS (SELECT 1 FROM users WHERE id = {row}.owner); \
         END",
        name = trigger_name(table, operation),
    )
}

/// The `changes` table: on PostgreSQL keyed by owner and number, the number an identity; on
/// SQLite the number is the row id (`AUTOINCREMENT`), with an index by owner and number.
async fn create_changes_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let postgres = manager.get_database_backend() == DbBackend::Postgres;
    let mut seq = ColumnDef::new(Changes::Seq);
    let mut table = Table::create();
    table.table(Changes::Table).col(text(Changes::Owner));
    if postgres {
        seq.big_integer()
            .not_null()
            .extra("GENERATED ALWAYS AS IDENTITY");
        table
            .col(seq)
            .primary_key(Index::create().col(Changes::Owner).col(Changes::Seq));
    } else {
        seq.integer().not_null().primary_key().auto_increment();
        table.col(seq);
    }
    table
        .col(small_integer(Changes::Kind))
        .col(uuid(Changes::Entity))
        .col(small_integer(Changes::Op))
        // Unix seconds: compared, never shown, and alike on both backends.
        .col(big_integer(Changes::RecordedAt))
        .foreign_key(
            ForeignKey::create()
                .from(Changes::Table, Changes::Owner)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::Cascade),
        );
    manager.create_table(table).await?;
    if !postgres {
        manager
            .create_index(
                Index::create()
                    .name("idx_changes_owner_seq")
                    .table(Changes::Table)
                    .col(Changes::Owner)
                    .col(Changes::Seq)
                    .to_owned(),
            )
            .await?;
    }
    // The purge finds old rows by this; rows arrive in its order, so on PostgreSQL a BRIN
    // index (a few pages for millions of rows) does, at almost no cost to each insert.
    let mut by_age = Index::create();
    by_age
        .name("idx_changes_recorded_at")
        .table(Changes::Table)
        .col(Changes::RecordedAt);
    if postgres {
        by_age.index_type(IndexType::Custom(SeaRc::new(Alias::new("BRIN"))));
    }
    manager.create_index(by_age).await
}

/// The triggers that log every insert, update and delete of a task or list.
pub(crate) async fn create_triggers(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let db = manager.get_connection();
    if backend == DbBackend::Postgres {
        db.execute_unprepared(RECORD_CHANGE_FUNCTION).await?;
    }
    for (table, kind) in LOGGED {
        if backend == DbBackend::Postgres {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_changes AFTER INSERT OR UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION record_change('{kind}')"
            ))
            .await?;
        } else {
            for (operation, op) in OPERATIONS {
                db.execute_unprepared(&sqlite_trigger(table, kind, operation, op))
                    .await?;
            }
        }
    }
    Ok(())
}

/// Drops what [`create_triggers`] created.
pub(crate) async fn drop_triggers(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let db = manager.get_connection();
    for (table, _) in LOGGED {
        if backend == DbBackend::Postgres {
            db.execute_unprepared(&format!("DROP TRIGGER {table}_changes ON {table}"))
                .await?;
        } else {
            for (operation, _) in OPERATIONS {
                db.execute_unprepared(&format!("DROP TRIGGER {}", trigger_name(table, operation)))
                    .await?;
            }
        }
    }
    if backend == DbBackend::Postgres {
        db.execute_unprepared("DROP FUNCTION record_change()")
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(UsersFloor::Table)
                    .add_column(big_integer(UsersFloor::HistoryFloor).default(0))
                    .to_owned(),
            )
            .await?;
        create_changes_table(manager).await?;
        create_triggers(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_triggers(manager).await?;
        manager
            .drop_table(Table::drop().table(Changes::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(UsersFloor::Table)
                    .drop_column(UsersFloor::HistoryFloor)
                    .to_owned(),
            )
            .await
    }
}
