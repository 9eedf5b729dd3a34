//! Tasks and their tags.
//!
//! Tags are kept twice: as a JSON array on the task (their order and spelling, read with the
//! task) and as lower-cased rows in `task_tags`, indexed by owner, which the tag filter joins.
//! Both databases index a plain table the same way, where array or JSON indexes would differ.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, boolean, small_integer, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid,
};

use crate::m20260101_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    Owner,
    Title,
    Description,
    Completed,
    CompletedAt,
    Priority,
    Tags,
    DueDate,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TaskTags {
    Table,
    TaskId,
    Owner,
    TagKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .col(uuid(Tasks::Id).primary_key())
                    .col(text(Tasks::Owner))
                    // The contract's limits, enforced here too: `length` counts characters in
                    // both PostgreSQL and SQLite.
                    .col(text(Tasks::Title).check(Expr::cust("length(title) BETWEEN 1 AND 200")))
                    .col(text_null(Tasks::Description).check(Expr::cust(
                        "description IS NULL OR length(description) BETWEEN 1 AND 1000",
                    )))
                    .col(boolean(Tasks::Completed))
                    .col(timestamp_with_time_zone_null(Tasks::CompletedAt))
                    // 0 low, 1 medium, 2 high: sorts by importance as stored.
                    .col(
                        small_integer(Tasks::Priority)
                            .check(Expr::cust("priority BETWEEN 0 AND 2")),
                    )
                    .col(text(Tasks::Tags))
                    .col(timestamp_with_time_zone_null(Tasks::DueDate))
                    .col(big_integer(Tasks::Version).check(Expr::cust("version >= 1")))
                    .col(timestamp_with_time_zone(Tasks::CreatedAt))
                    .col(timestamp_with_time_zone(Tasks::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tasks_owner")
                            .from(Tasks::Table, Tasks::Owner)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Every listing is one owner's; these serve its default sort, the due-date sort and
        // filters, and the status filter without touching other owners' rows.
        for (name, columns) in [
            ("idx_tasks_owner_created", [Tasks::CreatedAt, Tasks::Id]),
            ("idx_tasks_owner_due", [Tasks::DueDate, Tasks::Id]),
            ("idx_tasks_owner_completed", [Tasks::Completed, Tasks::Id]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Tasks::Table).col(Tasks::Owner);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(TaskTags::Table)
                    .col(uuid(TaskTags::TaskId))
                    .col(text(TaskTags::Owner))
                    .col(text(TaskTags::TagKey))
                    .primary_key(Index::create().col(TaskTags::TaskId).col(TaskTags::TagKey))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_task_tags_task")
                            .from(TaskTags::Table, TaskTags::TaskId)
                            .to(Tasks::Table, Tasks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_task_tags_owner_tag")
                    .table(TaskTags::Table)
                    .col(TaskTags::Owner)
                    .col(TaskTags::TagKey)
                    .col(TaskTags::TaskId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TaskTags::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Tasks::Table).to_owned())
            .await
    }
}
