//! Lists, subtasks and manual order.
//!
//! Adds `lists`, and to `tasks` their list, their parent and their place among siblings.
//! Existing tasks land in the inbox, top-level, with positions in their creation order.
//!
//! Positions are fractional-index keys written as lower-case hex; they must sort in byte
//! order, which SQLite's default collation does and PostgreSQL's needs `COLLATE "C"` for.
//!
//! On PostgreSQL the foreign keys include the owner, so that a list and its tasks, or a task
//! and its subtasks, can only belong to one user, and the cascades find their rows through
//! indexes that start with the owner. SQLite cannot add a composite foreign key to an existing
//! table; there they are column foreign keys, and the application keeps owners equal.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, integer, text, text_null, timestamp_with_time_zone, uuid,
};
use sea_orm_migration::sea_orm::prelude::Uuid;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, TryGetable};

use crate::m20260101_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Lists {
    Table,
    Id,
    Owner,
    Name,
    NameKey,
    Color,
    Position,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UsersAppend {
    #[sea_orm(iden = "users")]
    Table,
    AppendSeq,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    TaskId,
    ResourceId,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    Owner,
    Completed,
    ListId,
    ParentId,
    Position,
    SubtaskCount,
    CompletedSubtaskCount,
}

/// Byte-order collation where the backend needs one spelled out.
fn byte_order(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "COLLATE \"C\"",
        _ => "",
    }
}

/// `count` evenly spaced positions of one width, in order, short and balanced. They stay in
/// the lower half of the key space (first byte below 0x80): the repository puts whatever goes
/// last after them with keys from the owner's `append_seq`, which start at 0xf0.
fn spread(count: usize) -> Vec<String> {
    let mut width = 1;
    while 256_u128.pow(width) / 2 <= count as u128 {
        width += 1;
    }
    let span = 256_u128.pow(width) / 2;
    (1..=count as u128)
        .map(|i| {
            let value = i * span / (count as u128 + 1);
            let digits = usize::try_from(width * 2).unwrap_or(usize::MAX);
            // The terminator byte 0x80 ends every key.
            format!("{value:0digits$x}80")
        })
        .collect()
}

/// Gives every existing task a position among its owner's tasks, in creation order.
async fn place_existing_tasks(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let created = match backend {
        // Text timestamps with a variable number of fraction digits: compare a fixed form.
        DbBackend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', created_at)",
        _ => "created_at",
    };
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT owner, id FROM tasks ORDER BY owner, {created}, id"),
        ))
        .await?;
    let mut start = 0;
    while start < rows.len() {
        let owner = String::try_get_by(&rows[start], "owner")?;
        let mut end = start;
        while end < rows.len() && String::try_get_by(&rows[end], "owner")? == owner {
            end += 1;
        }
        for (row, position) in rows[start..end].iter().zip(spread(end - start)) {
            let id = Uuid::try_get_by(row, "id")?;
            let update = Query::update()
                .table(Tasks::Table)
                .value(Tasks::Position, position)
                .and_where(Expr::col(Tasks::Id).eq(id))
                .to_owned();
            manager.exec_stmt(update).await?;
        }
        start = end;
    }
    Ok(())
}

/// The `lists` table and its indexes, each starting with the owner.
async fn create_lists_table(manager: &SchemaManager<'_>, collate: &str) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Lists::Table)
                .col(uuid(Lists::Id).primary_key())
                .col(text(Lists::Owner))
                .col(text(Lists::Name).check(Expr::cust("length(name) BETWEEN 1 AND 100")))
                // The name lower-cased: names are unique per user ignoring case.
                .col(text(Lists::NameKey))
                .col(text_null(Lists::Color).check(Expr::cust(
                    "color IS NULL OR (length(color) = 7 AND color LIKE '#%')",
                )))
                .col(text(Lists::Position).extra(collate))
                .col(big_integer(Lists::Version).check(Expr::cust("version >= 1")))
                .col(timestamp_with_time_zone(Lists::CreatedAt))
                .col(timestamp_with_time_zone(Lists::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_lists_owner")
                        .from(Lists::Table, Lists::Owner)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    for (name, columns, unique) in [
        ("idx_lists_owner_id", [Lists::Id], true),
        ("idx_lists_owner_name", [Lists::NameKey], true),
        ("idx_lists_owner_position", [Lists::Position], false),
    ] {
        let mut index = Index::create();
        index.name(name).table(Lists::Table).col(Lists::Owner);
        for column in columns {
            index.col(column);
        }
        if unique {
            index.unique();
        }
        manager.create_index(index).await?;
    }
    Ok(())
}

/// The tasks' indexes for lists, subtasks and order.
async fn index_tasks(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    // One index for siblings in order (and the first of them), a parent's subtasks, and the
    // composite key to the parent. Each index a task has makes every write that cannot be a
    // heap-only update dearer: the status filter's `(owner, completed, id)` goes, so a toggle
    // touches no index at all, and listings filter by status on `(owner, created_at, id)`.
    manager
        .create_index(
            Index::create()
                .name("idx_tasks_owner_place")
                .table(Tasks::Table)
                .col(Tasks::Owner)
                .col(Tasks::ParentId)
                .col(Tasks::ListId)
                .col(Tasks::Position)
                .to_owned(),
        )
        .await?;
    manager
        .drop_index(
            Index::drop()
                .name("idx_tasks_owner_completed")
                .table(Tasks::Table)
                .to_owned(),
        )
        .await?;
    // A key now remembers the creation of a list as well as of a task.
    manager
        .alter_table(
            Table::alter()
                .table(IdempotencyKeys::Table)
                .rename_column(IdempotencyKeys::TaskId, IdempotencyKeys::ResourceId)
                .to_owned(),
        )
        .await?;
    Ok(())
}

/// The tasks' list, parent, position and counts, their keys and indexes, and the positions
/// of the tasks already there.
async fn extend_tasks(manager: &SchemaManager<'_>, collate: &str) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let is_postgres = backend == DbBackend::Postgres;
    if is_postgres {
        // The target of the composite foreign key from subtasks to their parent.
        manager
            .create_index(
                Index::create()
                    .name("idx_tasks_owner_id")
                    .table(Tasks::Table)
                    .col(Tasks::Owner)
                    .col(Tasks::Id)
                    .unique()
                    .to_owned(),
            )
            .await?;
    }
    let references = |target: &str| {
        if is_postgres {
            String::new()
        } else {
            format!("REFERENCES {target}(id) ON DELETE CASCADE")
        }
    };
    for column in [
        ColumnDef::new(Tasks::ListId)
            .uuid()
            .null()
            .extra(references("lists"))
            .to_owned(),
        ColumnDef::new(Tasks::ParentId)
            .uuid()
            .null()
            .extra(references("tasks"))
            .to_owned(),
        ColumnDef::new(Tasks::Position)
            .text()
            .not_null()
            .default("")
            .extra(collate)
            .to_owned(),
        integer(Tasks::SubtaskCount).default(0).to_owned(),
        integer(Tasks::CompletedSubtaskCount).default(0).to_owned(),
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
    if is_postgres {
        manager
            .create_foreign_key(
                ForeignKey::create()
                    .name("fk_tasks_list")
                    .from(Tasks::Table, (Tasks::Owner, Tasks::ListId))
                    .to(Lists::Table, (Lists::Owner, Lists::Id))
                    .on_delete(ForeignKeyAction::Cascade)
                    .to_owned(),
            )
            .await?;
        manager
            .create_foreign_key(
                ForeignKey::create()
                    .name("fk_tasks_parent")
                    .from(Tasks::Table, (Tasks::Owner, Tasks::ParentId))
                    .to(Tasks::Table, (Tasks::Owner, Tasks::Id))
                    .on_delete(ForeignKeyAction::Cascade)
                    .to_owned(),
            )
            .await?;
    }
    // Siblings in order (and the last of them, for a new task); subtasks of a parent.
    index_tasks(manager).await?;
    place_existing_tasks(manager).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let collate = byte_order(backend);
        create_lists_table(manager, collate).await?;
        // The last number handed out for putting something last among its siblings: taken
        // with the owner's lock, so appends need no read of the current last.
        manager
            .alter_table(
                Table::alter()
                    .table(UsersAppend::Table)
                    .add_column(big_integer(UsersAppend::AppendSeq).default(0))
                    .to_owned(),
            )
            .await?;
        extend_tasks(manager, collate).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IdempotencyKeys::Table)
                    .rename_column(IdempotencyKeys::ResourceId, IdempotencyKeys::TaskId)
                    .to_owned(),
            )
            .await?;
        let is_postgres = manager.get_database_backend() == DbBackend::Postgres;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tasks_owner_place")
                    .table(Tasks::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tasks_owner_completed")
                    .table(Tasks::Table)
                    .col(Tasks::Owner)
                    .col(Tasks::Completed)
                    .col(Tasks::Id)
                    .to_owned(),
            )
            .await?;
        if is_postgres {
            for name in ["fk_tasks_list", "fk_tasks_parent"] {
                manager
                    .drop_foreign_key(ForeignKey::drop().name(name).table(Tasks::Table).to_owned())
                    .await?;
            }
            manager
                .drop_index(
                    Index::drop()
                        .name("idx_tasks_owner_id")
                        .table(Tasks::Table)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            Tasks::CompletedSubtaskCount,
            Tasks::SubtaskCount,
            Tasks::Position,
            Tasks::ParentId,
            Tasks::ListId,
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
        manager
            .alter_table(
                Table::alter()
                    .table(UsersAppend::Table)
                    .drop_column(UsersAppend::AppendSeq)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Lists::Table).to_owned())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_positions_are_ordered_distinct_and_of_one_width() {
        for count in [1, 2, 254, 255, 256, 1000, 70_000] {
            let positions = spread(count);
            assert_eq!(positions.len(), count);
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "count {count}");
            assert!(positions.iter().all(|p| p.len() == positions[0].len()));
            assert!(positions.iter().all(|p| p.ends_with("80")));
            assert!(
                positions.iter().all(|p| p.as_str() < "80"),
                "below the appended keys"
            );
        }
    }
}
