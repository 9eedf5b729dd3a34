//! The layers a request passes through before its handler, outermost first: the request context
//! with its deadline (every request), then on `/api` the authentication with the rate limit.

mod authenticate;
mod context;
mod rate_limit;

pub use authenticate::authenticate;
pub use context::request_context;
pub use rate_limit::RateLimiter;
