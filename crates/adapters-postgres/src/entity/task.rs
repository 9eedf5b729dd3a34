//! `tasks`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub completed_at: Option<TimeDateTimeWithTimeZone>,
    pub priority: i16,
    /// JSON array of the tags as written.
    pub tags: String,
    pub due_date: Option<TimeDateTimeWithTimeZone>,
    pub list_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    /// Fractional-index key among siblings; compared in byte order.
    pub position: String,
    /// Maintained under the owner's lock by every write that changes the subtasks.
    pub subtask_count: i32,
    pub completed_subtask_count: i32,
    pub version: i64,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
    /// RFC 5545 rule in canonical form.
    pub recurrence: Option<String>,
    /// IANA name.
    pub timezone: String,
    /// Armed in `reminders` by triggers whenever it changes (migration 7).
    pub remind_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
