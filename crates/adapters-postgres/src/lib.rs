//! The repository ports of the domain, implemented with SeaORM for PostgreSQL (production,
//! Neon included) and SQLite (the embedded default). One implementation serves both; the few
//! places where their SQL differs are in `sql.rs`.

mod change_log;
mod entity;
mod error;
mod idempotency_store;
mod list_repository;
mod live;
mod reminders;
mod sql;
mod store;
mod task_repository;
#[cfg(feature = "testing")]
pub mod testing;
mod user_repository;
mod write;

pub use change_log::SeaChangeLog;
pub use idempotency_store::SeaIdempotencyStore;
pub use list_repository::SeaListRepository;
pub use live::{ChangeFeed, Wake};
pub use reminders::SeaReminders;
pub use store::{DbSettings, MigrationState, PoolUse, Store};
pub use task_repository::SeaTaskRepository;
pub use user_repository::SeaUserRepository;
