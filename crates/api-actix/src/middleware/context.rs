//! The request context: its id, span and access log, the deadline it is held to, and
//! problem+json for errors that did not come from a handler.

use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use tracing::Instrument;

use crate::error::ApiError;
use crate::request_id::REQUEST_ID;
use crate::state::AppState;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client's request id is kept when it is short and plain, so it cannot forge log lines.
fn sane_request_id(value: Option<&HeaderValue>) -> Option<Rc<str>> {
    let id = value?.to_str().ok()?;
    let plain = (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    plain.then(|| id.into())
}

/// Outermost middleware: gives every request an id (the client's when sane), a span with
/// method, route, status, latency and user id (never the query string or a token), answers 503
/// (with `Retry-After`) for a request still running after `limit`, and makes every error that
/// did not come from a handler problem+json too.
///
/// The deadline: a database that stops answering without closing its connections (a network
/// partition) would otherwise hold the client until the operating system gives up on the
/// socket. It is kept here rather than in a layer of its own, which would box another future
/// on every request's path.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    limit: Duration,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = sane_request_id(req.headers().get(X_REQUEST_ID)).unwrap_or_else(|| {
        // Without `now_v7`'s shared context, whose lock and counter keep the ids of one
        // millisecond in order: a request id has no use for that.
        let id = uuid::Uuid::new_v7(uuid::Timestamp::now(uuid::NoContext));
        (&*id.simple().encode_lower(&mut uuid::Uuid::encode_buffer())).into()
    });
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        route = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    let started = Instant::now();
    let method = req.method().clone();
    let call = async move {
        match tokio::time::timeout(limit, next.call(req)).await {
            Ok(outcome) => outcome,
            // The request went with the abandoned future; the error is rendered below.
            Err(_) => {
                Err(ApiError::Unavailable(anyhow::anyhow!("no answer within {limit:?}")).into())
            }
        }
    };
    let outcome = REQUEST_ID
        .scope(Rc::clone(&id), call.instrument(span.clone()))
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
                    let problem = REQUEST_ID.sync_scope(Rc::clone(&id), || error.error_response());
                    ServiceResponse::new(request, problem)
                }
                None => response.map_into_boxed_body(),
            }
        }
        // The request is gone with the error; actix renders what we return, outside this
        // request's scope, so the problem is rendered here first.
        Err(error) => {
            let mut problem =
                REQUEST_ID.sync_scope(Rc::clone(&id), || match error.as_error::<ApiError>() {
                    Some(ours) => ours.error_response(),
                    None => ApiError::foreign(&error).error_response(),
                });
            if let Ok(value) = HeaderValue::from_str(&id) {
                problem.headers_mut().insert(X_REQUEST_ID, value);
            }
            let elapsed = started.elapsed();
            crate::metrics::record_request(&method, "-", problem.status().as_u16(), elapsed);
            return Err(Rendered::from(problem).into());
        }
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    // While draining, no connection is kept for another request that could be cut off.
    if response
        .request()
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.draining.is_on())
    {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    let (status, elapsed) = (response.status().as_u16(), started.elapsed());
    // actix-web finds the pattern by matching the path against the routes again and joining
    // the scopes' patterns into a new string: only when a log line or a metric takes it.
    if !span.is_disabled() || crate::metrics::enabled() {
        let route = response.request().match_pattern();
        let route = route.as_deref().unwrap_or("-");
        span.record("route", route);
        crate::metrics::record_request(&method, route, status, elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
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
}
