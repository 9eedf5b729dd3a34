//! The signed-in user.

use actix_web::{HttpResponse, web};

use crate::dto::MeResponse;
use crate::error::ApiError;
use crate::extract::AuthUser;
use crate::state::AppState;

/// The signed-in user as this server knows them (created on first contact).
#[utoipa::path(get, path = "/api/me", tag = "users", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The user", body = MeResponse),
        (status = 401, description = "No token, or a token refused", body = crate::error::Problem),
        (status = 503, description = "Database unavailable", body = crate::error::Problem),
    ))]
pub async fn me(state: web::Data<AppState>, caller: AuthUser) -> Result<HttpResponse, ApiError> {
    let user = state.users.me(&caller.0).await?;
    Ok(HttpResponse::Ok().json(MeResponse::from(&user)))
}
