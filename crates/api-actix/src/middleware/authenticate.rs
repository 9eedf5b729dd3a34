//! Authentication: the one step that finds out who calls, on every `/api` request.

use std::borrow::Cow;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};

use domain::auth::AuthError;

use super::RateLimiter;
use crate::error::ApiError;
use crate::extract::{Authentication, bearer_token};
use crate::state::AppState;

/// Verifies the request's token and leaves the outcome in the request as an
/// [`Authentication`], which the extractors only read. A refusal is not answered here but by
/// the extractors, so that a route that does not exist still answers 404. Then, when a
/// [`RateLimiter`] is registered (`RATE_LIMIT_RPS` > 0), counts the request against its
/// caller: a step of this layer rather than a layer of its own, since each layer is another
/// boxed future on every request's path.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(ApiError::Internal(anyhow::anyhow!("AppState is not registered")).into());
    };
    // Borrowed from the request where it can be; moved into the match, so gone before `next`.
    let token = match bearer_token(req.request(), &state.cookie_name) {
        Err(AuthError::Missing) if is_events_route(req.path()) => query_token(req.query_string()),
        found => found,
    };
    let outcome = match token {
        Ok(token) => state.verifier.verify(&token).await,
        Err(reason) => Err(reason),
    };
    req.extensions_mut().insert(Authentication(outcome));
    let admitted = match req.app_data::<web::Data<RateLimiter>>() {
        Some(limiter) => match limiter.admit(&req) {
            Ok(admitted) => Some(admitted),
            Err(refused) => return Ok(req.into_response(refused.error_response())),
        },
        None => None,
    };
    let mut response = next.call(req).await?.map_into_boxed_body();
    if let Some(admitted) = admitted {
        admitted.mark(&mut response);
    }
    Ok(response)
}

/// `/api/{user_id}/events`: the one route that takes the token from the query, since a
/// browser's `EventSource` cannot send headers.
fn is_events_route(path: &str) -> bool {
    let mut segments = path.split('/');
    matches!(
        (segments.next(), segments.next(), segments.next(), segments.next(), segments.next()),
        (Some(""), Some("api"), Some(user), Some("events"), None) if !user.is_empty()
    )
}

/// The `access_token` query parameter, given once.
fn query_token(query: &str) -> Result<Cow<'_, str>, AuthError> {
    let mut tokens = form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "access_token")
        .map(|(_, value)| value);
    match (tokens.next(), tokens.next()) {
        (Some(_), Some(_)) => Err(AuthError::Ambiguous),
        (Some(token), None) if !token.is_empty() => Ok(token),
        _ => Err(AuthError::Missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_events_route_takes_a_token_from_the_query() {
        assert!(is_events_route("/api/me/events"));
        assert!(is_events_route("/api/alice/events"));
        for path in [
            "/api/me/tasks/events",
            "/api/events",
            "/api//events",
            "/api/me/events/x",
        ] {
            assert!(!is_events_route(path), "{path}");
        }
    }

    #[test]
    fn the_query_token_is_taken_once() {
        assert_eq!(query_token("access_token=abc&x=1"), Ok("abc".into()));
        assert_eq!(query_token("x=1"), Err(AuthError::Missing));
        assert_eq!(query_token("access_token="), Err(AuthError::Missing));
        assert_eq!(
            query_token("access_token=a&access_token=b"),
            Err(AuthError::Ambiguous)
        );
    }
}
