//! Authentication: the one step that finds out who calls, on every `/api` request.

use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use crate::error::ApiError;
use crate::extract::{Authentication, bearer_token};
use crate::state::AppState;

/// Verifies the request's token and leaves the outcome in the request as an
/// [`Authentication`], which the rate limit and the extractors only read. A refusal is not
/// answered here but by the extractors, so that a route that does not exist still answers 404.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(ApiError::Internal(anyhow::anyhow!("AppState is not registered")).into());
    };
    let outcome = match bearer_token(req.request(), &state.cookie_name) {
        Ok(token) => state.verifier.verify(&token).await.map(Rc::new),
        Err(reason) => Err(reason),
    };
    req.extensions_mut().insert(Authentication(outcome));
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}
