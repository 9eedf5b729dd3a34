//! Extractors: what a handler needs from a request, each refusing with the contract's error so
//! that a handler's signature says what it needs and its body only does the work.

mod auth;
mod body;
mod conditional;
mod query;
mod target;

pub use auth::{AuthUser, Owner};
pub(crate) use auth::{Authentication, bearer_token};
pub use body::{Body, MAX_BODY_BYTES};
pub use conditional::{IdempotencyKeyHeader, IfNoneMatch, etag};
pub use query::Query;
pub use target::{ListPath, ListWrite, TaskPath, TaskWrite};
