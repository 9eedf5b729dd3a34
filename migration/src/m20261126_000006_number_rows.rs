//! The change log moves onto the rows themselves: each task and list carries the number of its
//! last change (`changed_seq`) and of its creation (`created_seq`, NULL while it is the same),
//! and the `changes` table keeps only deletions (tombstones). A log row and a trigger call on
//! every write cost a fifth to a quarter of a toggle's throughput; a number written by the
//! statement itself costs a few percent (docs/benchmarks.md).
//!
//! Numbers still come from one counter for everything, and an owner's are still handed out
//! under the owner's lock (see migration 5), so a number is still a cursor. On PostgreSQL a
//! sequence, `change_numbers`, numbers inserted rows by default, updated rows by the
//! application's update statements (every one starts from one helper, the adapter's
//! `write::changing`), and tombstones by a trigger on `DELETE`. SQLite has no sequences: a
//! one-row table is the counter, and triggers number every insert, update and delete.
//!
//! Existing history carries over: each row gets the numbers of its last change and creation
//! from the old log, the log keeps its deletions, and the counter starts above every number
//! handed out.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null};
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261126_000005_create_changes::{create_triggers, drop_triggers};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Numbered {
    ChangedSeq,
    CreatedSeq,
}

/// The numbered tables, with the kind their tombstones carry (`changes.kind`).
const NUMBERED: [(&str, i16); 2] = [("lists", 0), ("tasks", 1)];

/// `changes.op` of a deletion; 0 (insert) and 1 (update) remain only in migration 5's log.
const DELETION: i16 = 2;

/// PostgreSQL: the tombstone of a deleted row; the kind comes as the trigger's argument. A row
/// deleted with its owner (the user's deletion cascading) leaves none: no one is left to sync.
const RECORD_DELETION_FUNCTION: &str = r"
CREATE FUNCTION record_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.owner) THEN
        RETURN NULL;
    END IF;
    -- Already held when the application deleted: taking it again is only a count.
    PERFORM pg_advisory_xact_lock(hashtextextended(OLD.owner, 0));
    INSERT INTO changes (owner, kind, entity, op, recorded_at)
    VALUES (OLD.owner, TG_ARGV[0]::smallint, OLD.id, 2, extract(epoch FROM now())::bigint);
    RETURN NULL;
END
$$";

/// SQLite: the triggers that number a table's rows and record its deletions. Recursive
/// triggers are off, and the update trigger fires only when the statement left the number
/// as it was, so the triggers' own updates number nothing twice.
fn sqlite_triggers(table: &str, kind: i16) -> [String; 3] {
    let next = "UPDATE change_numbers SET last = last + 1;";
    let last = "(SELECT last FROM change_numbers)";
    [
        format!(
            "CREATE TRIGGER {table}_numbered_insert AFTER INSERT ON {table} BEGIN {next} \
             UPDATE {table} SET changed_seq = {last} WHERE id = NEW.id; END"
        ),
        format!(
            "CREATE TRIGGER {table}_numbered_update AFTER UPDATE ON {table} \
             WHEN NEW.changed_seq IS OLD.changed_seq BEGIN {next} \
             UPDATE {table} SET created_seq = COALESCE(created_seq, changed_seq), \
             changed_seq = {last} WHERE id = NEW.id; END"
        ),
        format!(
            "CREATE TRIGGER {table}_deletions AFTER DELETE ON {table} \
             WHEN EXISTS (SELECT 1 FROM users WHERE id = OLD.owner) BEGIN {next} \
             INSERT INTO changes (seq, owner, kind, entity, op, recorded_at) \
             VALUES ({last}, OLD.owner, {kind}, OLD.id, {DELETION}, unixepoch()); END"
        ),
    ]
}

/// The greatest number handed out so far, from migration 5's log and its purged floors.
const GREATEST_NUMBER: &str = "SELECT COALESCE((SELECT MAX(seq) FROM changes), 0) AS logged, \
     COALESCE((SELECT MAX(history_floor) FROM users), 0) AS purged";

async fn greatest_number(db: &SchemaManagerConnection<'_>) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
            db.get_database_backend(),
            GREATEST_NUMBER,
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("an aggregate returned no row".into()))?;
    let logged: i64 = row.try_get("", "logged")?;
    let purged: i64 = row.try_get("", "purged")?;
    Ok(Ord::max(logged, purged))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        let db = manager.get_connection();
        drop_triggers(manager).await?;
        let greatest = greatest_number(db).await?;
        if postgres {
            db.execute_unprepared(&format!(
                "CREATE SEQUENCE change_numbers START WITH {}",
                greatest + 1
            ))
            .await?;
        } else {
            db.execute_unprepared("CREATE TABLE change_numbers (last INTEGER NOT NULL)")
                .await?;
            db.execute_unprepared(&format!(
                "INSERT INTO change_numbers (last) VALUES ({greatest})"
            ))
            .await?;
        }
        for (table, kind) in NUMBERED {
            // Not null with a constant default: PostgreSQL adds it without rewriting the table,
            // and only rows with history are written below.
            for column in [
                big_integer(Numbered::ChangedSeq).default(0).to_owned(),
                big_integer_null(Numbered::CreatedSeq),
            ] {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Alias::new(table))
                            .add_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
            db.execute_unprepared(&format!(
                "UPDATE {table} SET changed_seq = c.changed, created_seq = c.created \
                 FROM (SELECT entity, MAX(seq) AS changed, \
                              MIN(CASE WHEN op = 0 THEN seq END) AS created \
                       FROM changes WHERE kind = {kind} GROUP BY entity) AS c \
                 WHERE c.entity = {table}.id"
            ))
            .await?;
            if postgres {
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} ALTER COLUMN changed_seq SET DEFAULT nextval('change_numbers')"
                ))
                .await?;
            }
        }
        db.execute_unprepared(&format!("DELETE FROM changes WHERE op <> {DELETION}"))
            .await?;
        if postgres {
            db.execute_unprepared(
                "ALTER TABLE changes ALTER COLUMN seq DROP IDENTITY, \
                 ALTER COLUMN seq SET DEFAULT nextval('change_numbers')",
            )
            .await?;
            db.execute_unprepared(RECORD_DELETION_FUNCTION).await?;
        }
        for (table, kind) in NUMBERED {
            if postgres {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_deletions AFTER DELETE ON {table} \
                     FOR EACH ROW EXECUTE FUNCTION record_deletion('{kind}')"
                ))
                .await?;
            } else {
                for trigger in sqlite_triggers(table, kind) {
                    db.execute_unprepared(&trigger).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        let db = manager.get_connection();
        for (table, kind) in NUMBERED {
            if postgres {
                db.execute_unprepared(&format!("DROP TRIGGER {table}_deletions ON {table}"))
                    .await?;
            } else {
                for operation in ["numbered_insert", "numbered_update", "deletions"] {
                    db.execute_unprepared(&format!("DROP TRIGGER {table}_{operation}"))
                        .await?;
                }
            }
            // Back into the log: each row's creation and last change, with their numbers.
            for (op, seq, numbered) in [
                (0, "COALESCE(created_seq, changed_seq)", "changed_seq > 0"),
                (1, "changed_seq", "changed_seq > created_seq"),
            ] {
                db.execute_unprepared(&format!(
                    "INSERT INTO changes (seq, owner, kind, entity, op, recorded_at) \
                     SELECT {seq}, owner, {kind}, id, {op}, {now} FROM {table} WHERE {numbered}",
                    now = if postgres {
                        "extract(epoch FROM now())::bigint"
                    } else {
                        "unixepoch()"
                    },
                ))
                .await?;
            }
            for column in [Numbered::ChangedSeq, Numbered::CreatedSeq] {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Alias::new(table))
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        if postgres {
            db.execute_unprepared("DROP FUNCTION record_deletion()")
                .await?;
            let next = greatest_number(db).await? + 1;
            db.execute_unprepared(&format!(
                "ALTER TABLE changes ALTER COLUMN seq DROP DEFAULT, \
                 ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (START WITH {next})"
            ))
            .await?;
            db.execute_unprepared("DROP SEQUENCE change_numbers")
                .await?;
        } else {
            db.execute_unprepared("DROP TABLE change_numbers").await?;
        }
        create_triggers(manager).await
    }
}
