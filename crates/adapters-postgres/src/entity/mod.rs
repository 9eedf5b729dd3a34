//! Table mappings, private to this crate: the domain never sees a row.

pub mod idempotency_key;
pub mod list;
pub mod task;
pub mod task_tag;
pub mod user;
