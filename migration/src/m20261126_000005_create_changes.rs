//! The change log that sync reads: one row for every insert, update and delete of a task or a
//! list, written by triggers in the same transaction as the change, so that no write path,
//! cascade or hand-written statement can change a row unrecorded.
//!
//! Each row takes the next number of its owner's counter, `users.change_seq` (until now
//! `append_seq`, which placed things last and keeps doing so). Taking it updates the owner's
//! row, which holds that row's lock until the transaction ends: an owner's changes therefore
//! commit in the order of their numbers, and a reader that has seen number `n` committed will
//! never later find a smaller one appear. That is what makes a number a cursor.
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
enum UsersSeq {
    #[sea_orm(iden = "users")]
    Table,
    AppendSeq,
    ChangeSeq,
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

/// PostgreSQL: one function for every trigger; the kind comes as its argument. A row whose
/// owner is gone (deleted with the user) is not logged: there is no one left to sync.
const RECORD_CHANGE_FUNCTION: &str = r"
CREATE FUNCTION record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed_owner text;
    changed_id uuid;
    number bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed_owner := OLD.owner;
        changed_id := OLD.id;
    ELSE
        changed_owner := NEW.owner;
        changed_id := NEW.id;
    END IF;
    UPDATE users SET change_seq = change_seq + 1 WHERE id = changed_owner
        RETURNING change_seq INTO number;
    IF FOUND THEN
        INSERT INTO changes (owner, seq, kind, entity, op, recorded_at)
        VALUES (changed_owner, number, TG_ARGV[0]::smallint, changed_id,
                CASE TG_OP WHEN 'INSERT' THEN 0 WHEN 'UPDATE' THEN 1 ELSE 2 END,
                extract(epoch FROM now())::bigint);
    END IF;
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
         UPDATE users SET change_seq = change_seq + 1 WHERE id = {row}.owner; \
         INSERT INTO changes (owner, seq, kind, entity, op, recorded_at) \
         SELECT {row}.owner, change_seq, {kind}, {row}.id, {op}, unixepoch() \
         FROM users WHERE id = {row}.owner; \
         END",
        name = trigger_name(table, operation),
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .alter_table(
                Table::alter()
                    .table(UsersSeq::Table)
                    .rename_column(UsersSeq::AppendSeq, UsersSeq::ChangeSeq)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(UsersSeq::Table)
                    .add_column(big_integer(UsersSeq::HistoryFloor).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Changes::Table)
                    .col(text(Changes::Owner))
                    .col(big_integer(Changes::Seq))
                    .col(small_integer(Changes::Kind))
                    .col(uuid(Changes::Entity))
                    .col(small_integer(Changes::Op))
                    // Unix seconds: compared, never shown, and alike on both backends.
                    .col(big_integer(Changes::RecordedAt))
                    .primary_key(Index::create().col(Changes::Owner).col(Changes::Seq))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Changes::Table, Changes::Owner)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The purge finds old rows by this; rows arrive in its order, so on PostgreSQL a BRIN
        // index (a few pages for millions of rows) does, at almost no cost to each insert.
        let mut by_age = Index::create();
        by_age
            .name("idx_changes_recorded_at")
            .table(Changes::Table)
            .col(Changes::RecordedAt);
        if backend == DbBackend::Postgres {
            by_age.index_type(IndexType::Custom(SeaRc::new(Alias::new("BRIN"))));
        }
        manager.create_index(by_age).await?;
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

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        for (table, _) in LOGGED {
            if backend == DbBackend::Postgres {
                db.execute_unprepared(&format!("DROP TRIGGER {table}_changes ON {table}"))
                    .await?;
            } else {
                for (operation, _) in OPERATIONS {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER {}",
                        trigger_name(table, operation)
                    ))
                    .await?;
                }
            }
        }
        if backend == DbBackend::Postgres {
            db.execute_unprepared("DROP FUNCTION record_change()")
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Changes::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(UsersSeq::Table)
                    .drop_column(UsersSeq::HistoryFloor)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(UsersSeq::Table)
                    .rename_column(UsersSeq::ChangeSeq, UsersSeq::AppendSeq)
                    .to_owned(),
            )
            .await
    }
}
