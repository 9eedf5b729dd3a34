//! Liveness and readiness probes.

use std::time::Duration;

use actix_web::{HttpResponse, web};

use crate::dto::StatusResponse;
use crate::error::ApiError;
use crate::state::AppState;

/// A readiness probe never waits longer than this for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Liveness: the process answers. Touches no database.
#[utoipa::path(get, path = "/health", tag = "operations", security(()),
    responses((status = 200, description = "The process is alive", body = StatusResponse)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(StatusResponse { status: "ok" })
}

/// Readiness: the database answers within two seconds, and no stop has begun.
#[utoipa::path(get, path = "/ready", tag = "operations", security(()),
    responses(
        (status = 200, description = "The database answers", body = StatusResponse),
        (status = 503, description = "The database does not answer, or the server is draining before a stop", body = crate::error::Problem),
    ))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.draining.is_on() {
        return Err(ApiError::Unavailable(anyhow::anyhow!(
            "draining before a stop"
        )));
    }
    match tokio::time::timeout(READY_TIMEOUT, state.readiness.is_ready()).await {
        Ok(true) => Ok(HttpResponse::Ok().json(StatusResponse { status: "ready" })),
        Ok(false) => Err(ApiError::Unavailable(anyhow::anyhow!(
            "readiness ping failed"
        ))),
        Err(_) => Err(ApiError::Unavailable(anyhow::anyhow!(
            "readiness ping timed out"
        ))),
    }
}
