//! Recurring tasks and reminders: a task's `recurrence` (an RFC 5545 rule), its `timezone`
//! and `remind_at`; and `reminders`, the reminders armed and not yet fired.
//!
//! A row of `reminders` exists while a task's reminder waits: triggers put it there when a
//! task is inserted with a `remind_at` or its `remind_at` changes (an earlier or later time,
//! a recurring task's next occurrence), so that no write path can forget to arm or re-arm
//! one, and the foreign key's cascade removes it with its task. The instance that fires a
//! reminder deletes its row, under the owner's lock, in the transaction that records the
//! `reminder` entry in the owner's history (`changes.op` 3): of several instances, only the
//! one whose delete found the row fires it. A task completed when its reminder falls due
//! loses it unfired. `fire_at` is `remind_at` in Unix milliseconds, alike on both backends
//! and ordered by a plain index.
//!
//! The triggers' `WHEN` leaves every write that does not touch `remind_at` (a toggle, a
//! rename) without a call: tasks without reminders cost nothing more to write.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, text_null, timestamp_with_time_zone_null};
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Repeating {
    Recurrence,
    Timezone,
    RemindAt,
}

#[derive(DeriveIden)]
enum Reminders {
    Table,
    TaskId,
    Owner,
    FireAt,
}

/// `changes.op` of a fired reminder (0 to 2 are insert, update and delete).
const REMINDER: i16 = 3;

/// PostgreSQL: arms a task's reminder anew, or disarms it when `remind_at` was cleared.
const ARM_REMINDER_FUNCTION: &str = r"
CREATE FUNCTION arm_reminder() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reminders WHERE task_id = NEW.id;
    IF NEW.remind_at IS NOT NULL THEN
        INSERT INTO reminders (task_id, owner, fire_at)
        VALUES (NEW.id, NEW.owner, (extract(epoch FROM NEW.remind_at) * 1000)::bigint);
    END IF;
    RETURN NULL;
END
$$";

/// SQLite: the same, one trigger per case; `remind_at` is RFC 3339 text there.
const SQLITE_TRIGGERS: [&str; 2] = [
    "CREATE TRIGGER tasks_arm_inserted AFTER INSERT ON tasks \
     WHEN NEW.remind_at IS NOT NULL BEGIN \
     INSERT INTO reminders (task_id, owner, fire_at) VALUES (NEW.id, NEW.owner, \
     CAST(ROUND((julianday(NEW.remind_at) - 2440587.5) * 86400000.0) AS INTEGER)); END",
    "CREATE TRIGGER tasks_arm_updated AFTER UPDATE OF remind_at ON tasks \
     WHEN NEW.remind_at IS NOT OLD.remind_at BEGIN \
     DELETE FROM reminders WHERE task_id = NEW.id; \
     INSERT INTO reminders (task_id, owner, fire_at) SELECT NEW.id, NEW.owner, \
     CAST(ROUND((julianday(NEW.remind_at) - 2440587.5) * 86400000.0) AS INTEGER) \
     WHERE NEW.remind_at IS NOT NULL; END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        let db = manager.get_connection();
        for column in [
            text_null(Repeating::Recurrence),
            text(Repeating::Timezone).default("UTC").to_owned(),
            timestamp_with_time_zone_null(Repeating::RemindAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tasks::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Reminders::Table)
                    .col(
                        ColumnDef::new(Reminders::TaskId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(Reminders::Owner))
                    .col(big_integer(Reminders::FireAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Reminders::Table, Reminders::TaskId)
                            .to(Tasks::Table, Tasks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_reminders_fire_at")
                    .table(Reminders::Table)
                    .col(Reminders::FireAt)
                    .to_owned(),
            )
            .await?;
        if postgres {
            db.execute_unprepared(ARM_REMINDER_FUNCTION).await?;
            db.execute_unprepared(
                "CREATE TRIGGER tasks_arm_inserted AFTER INSERT ON tasks FOR EACH ROW \
                 WHEN (NEW.remind_at IS NOT NULL) EXECUTE FUNCTION arm_reminder()",
            )
            .await?;
            db.execute_unprepared(
                "CREATE TRIGGER tasks_arm_updated AFTER UPDATE OF remind_at ON tasks FOR EACH ROW \
                 WHEN (NEW.remind_at IS DISTINCT FROM OLD.remind_at) \
                 EXECUTE FUNCTION arm_reminder()",
            )
            .await?;
        } else {
            for trigger in SQLITE_TRIGGERS {
                db.execute_unprepared(trigger).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        let db = manager.get_connection();
        for trigger in ["tasks_arm_inserted", "tasks_arm_updated"] {
            let on = if postgres { " ON tasks" } else { "" };
            db.execute_unprepared(&format!("DROP TRIGGER {trigger}{on}"))
                .await?;
        }
        if postgres {
            db.execute_unprepared("DROP FUNCTION arm_reminder()")
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Reminders::Table).to_owned())
            .await?;
        // The earlier log knows no reminders.
        db.execute_unprepared(&format!("DELETE FROM changes WHERE op = {REMINDER}"))
            .await?;
        for column in [
            Repeating::Recurrence,
            Repeating::Timezone,
            Repeating::RemindAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tasks::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
