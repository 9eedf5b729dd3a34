//! The Todo API's business core, free of any framework, database or runtime.
//!
//! Validated types parse raw input once ("parse, don't validate"); entities keep their invariants;
//! services hold the use cases and reach the outside world only through the ports (traits) defined
//! next to them, which the adapter crates implement.

pub mod auth;
pub mod clock;
pub mod idempotency;
pub mod list;
pub mod position;
pub mod reminder;
pub mod repo;
pub mod sync;
pub mod task;
#[cfg(any(test, feature = "mocks"))]
pub mod testing;
pub mod user;
pub mod validation;
