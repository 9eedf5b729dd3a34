//! The Todo API server: actix-web routes over the domain's use cases, wired to the SeaORM and
//! jsonwebtoken adapters. `main.rs` only calls [`cli::run`].

pub mod cli;
pub mod config;
pub mod dto;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod middleware;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
