//! The layers a request passes through before its handler, outermost first: the request context
//! and the deadline (every request), then on `/api` the authentication and the rate limit.

mod authenticate;
mod context;
mod rate_limit;

pub use authenticate::authenticate;
pub use context::{deadline, request_context};
pub use rate_limit::{RateLimiter, rate_limit};
