//! Request context (id, span, access log, problem+json for foreign errors), a deadline for
//! every request, and per-user rate limiting.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Governor};
use tracing::Instrument;

use crate::config::RateLimitSettings;
use crate::error::{ApiError, REQUEST_ID};
use crate::extract::{Verification, bearer_token};
use crate::state::AppState;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client's request id is kept when it is short and plain, so it cannot forge log lines.
fn sane_request_id(value: Option<&HeaderValue>) -> Option<String> {
    let id = value?.to_str().ok()?;
    let plain = (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    plain.then(|| id.to_owned())
}

/// Outermost middleware: gives every request an id (the client's when sane), a span with
/// method, route, status, latency and user id (never the query string or a token), and makes
/// every error that did not come from a handler problem+json too.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = sane_request_id(req.headers().get(X_REQUEST_ID))
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        route = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    let started = Instant::now();
    let outcome = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await;
    let mut response = match outcome {
        Ok(response) => {
            let foreign = response
                .response()
                .error()
                .filter(|e| e.as_error::<ApiError>().is_none())
                .map(ApiError::foreign);
            match foreign {
                Some(error) => {
                    let (request, _) = response.into_parts();
                    let problem = REQUEST_ID.sync_scope(id.clone(), || error.error_response());
                    ServiceResponse::new(request, problem)
                }
                None => response.map_into_boxed_body(),
            }
        }
        // The request is gone with the error; actix renders what we return, outside this
        // request's scope, so the problem is rendered here first.
        Err(error) => {
            let mut problem =
                REQUEST_ID.sync_scope(id.clone(), || match error.as_error::<ApiError>() {
                    Some(ours) => ours.error_response(),
                    None => ApiError::foreign(&error).error_response(),
                });
            if let Ok(value) = HeaderValue::from_str(&id) {
                problem.headers_mut().insert(X_REQUEST_ID, value);
            }
            return Err(Rendered::from(problem).into());
        }
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    span.record(
        "route",
        response.request().match_pattern().as_deref().unwrap_or("-"),
    );
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    Ok(response)
}

/// An error response rendered in advance, for errors that leave the middleware stack as `Err`.
#[derive(Debug)]
struct Rendered {
    status: actix_web::http::StatusCode,
    headers: actix_web::http::header::HeaderMap,
    body: actix_web::web::Bytes,
}

impl From<actix_web::HttpResponse> for Rendered {
    fn from(response: actix_web::HttpResponse) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().try_into_bytes().unwrap_or_default();
        Self {
            status,
            headers,
            body,
        }
    }
}

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.status)
    }
}

impl ResponseError for Rendered {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.status
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let mut response = actix_web::HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            response.append_header((name.clone(), value.clone()));
        }
        response.body(self.body.clone())
    }
}

/// Who a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Caller {
    /// A verified user: every token of theirs shares one budget.
    User(String),
    /// Before authentication (no token, or a refused one): the client address.
    Address(Option<IpAddr>),
}

type Limiter =
    Governor<Caller, DefaultKeyedStateStore<Caller>, DefaultClock, StateInformationMiddleware>;

/// Per-caller token buckets.
pub struct RateLimiter {
    limiter: Limiter,
    settings: RateLimitSettings,
}

impl RateLimiter {
    /// Buckets of `burst` requests refilled at `per_second`.
    pub fn new(settings: RateLimitSettings) -> Self {
        let quota =
            Quota::per_second(NonZeroU32::new(settings.per_second).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(settings.burst).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: Governor::dashmap(quota).with_middleware::<StateInformationMiddleware>(),
            settings,
        }
    }

    /// Forgets callers whose buckets are full again, so memory follows active callers.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Seconds until `remaining` requests become `burst` again.
    fn seconds_to_full(&self, remaining: u32) -> u64 {
        u64::from(self.settings.burst - remaining.min(self.settings.burst))
            .div_ceil(u64::from(self.settings.per_second))
    }
}

/// Answers 503 (with `Retry-After`) for a request still running after `limit`. A database
/// that stops answering without closing its connections (a network partition) would
/// otherwise hold the client until the operating system gives up on the socket.
pub async fn deadline(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    limit: Duration,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(outcome) => outcome.map(ServiceResponse::map_into_boxed_body),
        // The request went with the abandoned future; `request_context` renders the error.
        Err(_) => Err(ApiError::Unavailable(anyhow::anyhow!("no answer within {limit:?}")).into()),
    }
}

/// Applies the rate limit of the caller (the verified user, or the address before
/// authentication) to `/api` routes. The verification is left for the `AuthUser` extractor.
/// Without a `RateLimiter` (`RATE_LIMIT_RPS=0`) it only passes requests on.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(limiter), Some(state)) = (limiter, state) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let verification = match bearer_token(req.request(), &state.cookie_name) {
        Ok(token) => state.verifier.verify(&token).await,
        Err(reason) => Err(reason),
    };
    let caller = match &verification {
        Ok(user) => Caller::User(user.id().as_str().to_owned()),
        Err(_) => Caller::Address(req.peer_addr().map(|a| a.ip())),
    };
    req.extensions_mut().insert(Verification(verification));
    match limiter.limiter.check_key(&caller) {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            let mut response = next.call(req).await?.map_into_boxed_body();
            let headers = response.headers_mut();
            for (name, value) in [
                ("ratelimit-limit", u64::from(limiter.settings.burst)),
                ("ratelimit-remaining", u64::from(remaining)),
                ("ratelimit-reset", limiter.seconds_to_full(remaining)),
            ] {
                headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
            }
            Ok(response)
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let error = ApiError::RateLimited {
                limit: limiter.settings.burst,
                retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            };
            Ok(req.into_response(error.error_response()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_request_ids_are_kept() {
        let id = |s: &str| sane_request_id(Some(&HeaderValue::from_str(s).unwrap()));
        assert_eq!(id("abc-123_x.y"), Some("abc-123_x.y".into()));
        assert_eq!(id("has space"), None);
        assert_eq!(id(&"a".repeat(65)), None);
        assert_eq!(sane_request_id(None), None);
    }

    #[test]
    fn the_reset_is_the_time_to_refill_the_bucket() {
        let limiter = RateLimiter::new(RateLimitSettings {
            per_second: 10,
            burst: 100,
        });
        assert_eq!(limiter.seconds_to_full(100), 0);
        assert_eq!(limiter.seconds_to_full(0), 10);
        assert_eq!(limiter.seconds_to_full(95), 1);
    }
}
