//! The Todo API server: actix-web routes over the domain's use cases, wired to the SeaORM and
//! jsonwebtoken adapters. `main.rs` only calls [`cli::run`].

pub mod cli;
pub mod config;
mod dto;
mod error;
mod extract;
mod handlers;
pub mod live;
mod metrics;
mod middleware;
mod openapi;
mod params;
mod request_id;
pub mod routes;
mod schema;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use middleware::RateLimiter;
