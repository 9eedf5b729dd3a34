//! The Todo API's schema. Migrations declare their own identifiers and never import the
//! adapter's entities, so that an old migration keeps meaning what it meant when it shipped.

pub use sea_orm_migration::MigrationStatus;
pub use sea_orm_migration::prelude::*;

mod m20260101_000001_create_users;
mod m20260101_000002_create_tasks;
mod m20260101_000003_create_idempotency_keys;
mod m20261126_000004_create_lists;
mod m20261126_000005_create_changes;
mod m20261126_000006_number_rows;
mod m20261127_000007_recurrence_and_reminders;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_create_users::Migration),
            Box::new(m20260101_000002_create_tasks::Migration),
            Box::new(m20260101_000003_create_idempotency_keys::Migration),
            Box::new(m20261126_000004_create_lists::Migration),
            Box::new(m20261126_000005_create_changes::Migration),
            Box::new(m20261126_000006_number_rows::Migration),
            Box::new(m20261127_000007_recurrence_and_reminders::Migration),
        ]
    }
}
