//! Route handlers, one module per resource.

pub mod health;
pub mod lists;
pub mod me;
pub mod sync;
pub mod tasks;
