//! Every error response: `application/problem+json` (RFC 9457) with a readable `detail`, a
//! stable `code`, every field problem on 422, and the request id. A 5xx logs its cause chain
//! here, once, and sends nothing internal.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use domain::auth::AuthError;
use domain::idempotency::KeyRefusal;
use domain::list::ListError;
use domain::repo::RepoError;
use domain::sync::{CursorError, SyncError};
use domain::task::TaskError;
use domain::user::{Forbidden, UserError};
use domain::validation::{FieldError, ValidationErrors};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_id::current_request_id;

/// Seconds a client should wait before retrying after a 503.
const UNAVAILABLE_RETRY_AFTER: u32 = 5;

/// Why a request failed, as the client is told.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A malformed header.
    #[error("{0}")]
    BadRequest(String),
    /// No token, or a token refused.
    #[error("{0}")]
    Unauthorized(AuthError),
    /// The path names another user.
    #[error("this resource belongs to another user")]
    Forbidden,
    /// No such task or list for this user, or no such route.
    #[error("{0}")]
    NotFound(&'static str),
    /// The route exists, the method does not.
    #[error("method not allowed; allowed: {}", join_methods(.0))]
    MethodNotAllowed(&'static [Method]),
    /// An idempotent request still in flight, or a task too busy to update.
    #[error("{0}")]
    Conflict(String),
    /// A sync cursor older than the history kept.
    #[error("the cursor is older than the history kept; start over without `since`")]
    CursorExpired,
    /// Stale `If-Match`.
    #[error("the task or list has changed since the version in If-Match")]
    PreconditionFailed,
    /// Body over the limit.
    #[error("the request body is larger than 64 KiB")]
    PayloadTooLarge,
    /// Body that is not JSON.
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// Every field problem of the request.
    #[error("{}", join_fields(.0))]
    Validation(Vec<FieldError>),
    /// Too many requests.
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited {
        /// The burst size (`RateLimit-Limit`).
        limit: u32,
        /// Whole seconds until a request is allowed.
        retry_after: u64,
    },
    /// The database is unreachable, or the server is draining; the cause is for the log only.
    #[error("the service is temporarily unavailable; retry shortly")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else; the cause is for the log only.
    #[error("an internal error occurred")]
    Internal(#[source] anyhow::Error),
    /// An error raised by actix or a middleware, kept with its status.
    #[error("{detail}")]
    Other {
        /// Its status.
        status: StatusCode,
        /// Its message, safe to show.
        detail: String,
    },
}

/// The `detail` of a 422: every problem, as `field: message`, in order.
fn join_fields(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn join_methods(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `/problems/{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, fixed per status.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, readable.
    pub detail: String,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// On 422 only: one entry per problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemField>>,
    /// The request's `X-Request-Id`, to find it in the log.
    pub request_id: String,
}

/// One field problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// A path such as `title` or `tags[3]`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// The `code` and `title` of a status.
fn code_and_title(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        401 => ("unauthorized", "Unauthorized"),
        403 => ("forbidden", "Forbidden"),
        404 => ("not_found", "Not found"),
        405 => ("method_not_allowed", "Method not allowed"),
        409 => ("conflict", "Conflict"),
        410 => ("cursor_expired", "Cursor expired"),
        412 => ("precondition_failed", "Precondition failed"),
        413 => ("payload_too_large", "Payload too large"),
        415 => ("unsupported_media_type", "Unsupported media type"),
        422 => ("validation_failed", "Validation failed"),
        429 => ("rate_limited", "Too many requests"),
        503 => ("service_unavailable", "Service unavailable"),
        400..=499 => ("bad_request", "Bad request"),
        _ => ("internal", "Internal error"),
    }
}

impl ApiError {
    /// Wraps an error that did not come from this crate (actix's own, a middleware's), keeping
    /// its status; its text is shown only for client errors.
    pub fn foreign(error: &actix_web::Error) -> Self {
        let status = error.as_response_error().status_code();
        if status.is_server_error() {
            return Self::Internal(anyhow::anyhow!("{error}"));
        }
        Self::Other {
            status,
            detail: error.to_string(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            // RFC 6750's `invalid_request`: a request carrying two tokens is malformed.
            Self::BadRequest(_) | Self::Unauthorized(AuthError::Ambiguous) => {
                StatusCode::BAD_REQUEST
            }
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::CursorExpired => StatusCode::GONE,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Other { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let request_id = current_request_id();
        match self {
            Self::Internal(cause) => {
                tracing::error!(error.cause_chain = ?cause, request_id, "request failed");
            }
            Self::Unavailable(cause) => {
                tracing::warn!(error.cause_chain = ?cause, request_id, "unavailable");
            }
            _ => {}
        }
        let (code, title) = code_and_title(status);
        let problem = Problem {
            kind: format!("/problems/{code}"),
            title,
            status: status.as_u16(),
            detail: self.to_string(),
            code,
            errors: match self {
                Self::Validation(errors) => Some(
                    errors
                        .iter()
                        .map(|e| ProblemField {
                            field: e.field().to_owned(),
                            message: e.message().to_owned(),
                        })
                        .collect(),
                ),
                _ => None,
            },
            request_id,
        };
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        match self {
            Self::Unauthorized(AuthError::Missing) => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="todo""#));
            }
            Self::Unauthorized(reason) => {
                let error = if *reason == AuthError::Ambiguous {
                    "invalid_request"
                } else {
                    "invalid_token"
                };
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!(
                        r#"Bearer realm="todo", error="{error}", error_description="{reason}""#
                    ),
                ));
            }
            Self::MethodNotAllowed(allowed) => {
                response.insert_header((header::ALLOW, join_methods(allowed)));
            }
            Self::RateLimited { limit, retry_after } => {
                response
                    .insert_header((header::RETRY_AFTER, retry_after.to_string()))
                    .insert_header(("RateLimit-Limit", limit.to_string()))
                    .insert_header(("RateLimit-Remaining", "0"))
                    .insert_header(("RateLimit-Reset", retry_after.to_string()));
            }
            Self::Unavailable(_) => {
                response.insert_header((
                    header::RETRY_AFTER,
                    HeaderValue::from(UNAVAILABLE_RETRY_AFTER),
                ));
            }
            _ => {}
        }
        response.json(problem)
    }
}

impl From<KeyRefusal> for ApiError {
    fn from(refusal: KeyRefusal) -> Self {
        match refusal {
            KeyRefusal::InFlight => Self::Conflict(refusal.to_string()),
            KeyRefusal::Mismatch => Self::Validation(vec![FieldError::new(
                "Idempotency-Key",
                "was already used with a different request body",
            )]),
        }
    }
}

impl From<TaskError> for ApiError {
    fn from(error: TaskError) -> Self {
        match error {
            TaskError::NotFound => Self::NotFound("no such task"),
            TaskError::ListNotFound => Self::NotFound("no such list"),
            TaskError::Invalid(field) => Self::Validation(vec![field]),
            TaskError::PreconditionFailed => Self::PreconditionFailed,
            TaskError::Busy => Self::Conflict(error.to_string()),
            TaskError::Key(refusal) => refusal.into(),
            TaskError::Unavailable(cause) => Self::Unavailable(cause),
            TaskError::Unexpected(cause) => Self::Internal(cause),
        }
    }
}

impl From<ListError> for ApiError {
    fn from(error: ListError) -> Self {
        match error {
            ListError::NotFound => Self::NotFound("no such list"),
            ListError::Invalid(field) => Self::Validation(vec![field]),
            ListError::PreconditionFailed => Self::PreconditionFailed,
            ListError::NameTaken | ListError::Busy => Self::Conflict(error.to_string()),
            ListError::Key(refusal) => refusal.into(),
            ListError::Unavailable(cause) => Self::Unavailable(cause),
            ListError::Unexpected(cause) => Self::Internal(cause),
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(error: SyncError) -> Self {
        match error {
            SyncError::Cursor(CursorError::Expired) => Self::CursorExpired,
            SyncError::Cursor(unknown @ CursorError::Unknown) => {
                Self::Validation(vec![FieldError::new("since", unknown.to_string())])
            }
            SyncError::Repo(error) => error.into(),
        }
    }
}

impl From<RepoError> for ApiError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Unavailable(cause) => Self::Unavailable(cause),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<UserError> for ApiError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::Unavailable(cause) => Self::Unavailable(cause),
            UserError::Unexpected(cause) => Self::Internal(cause),
        }
    }
}

impl From<Forbidden> for ApiError {
    fn from(_: Forbidden) -> Self {
        Self::Forbidden
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors.errors().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    async fn body(error: &ApiError) -> serde_json::Value {
        let bytes = to_bytes(error.error_response().into_body()).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[actix_web::test]
    async fn a_validation_problem_lists_every_field_and_joins_them_in_detail() {
        let error = ApiError::Validation(vec![
            FieldError::new("title", "must be 1 to 200 characters"),
            FieldError::new("tags[3]", "must be 1 to 32 characters"),
        ]);
        let problem = body(&error).await;
        assert_eq!(problem["type"], "/problems/validation_failed");
        assert_eq!(problem["status"], 422);
        assert_eq!(problem["code"], "validation_failed");
        assert_eq!(
            problem["detail"],
            "title: must be 1 to 200 characters; tags[3]: must be 1 to 32 characters"
        );
        assert_eq!(problem["errors"][1]["field"], "tags[3]");
    }

    #[actix_web::test]
    async fn an_internal_error_reveals_nothing_of_its_cause() {
        let error = ApiError::Internal(anyhow::anyhow!("relation \"tasks\" does not exist"));
        let problem = body(&error).await;
        assert_eq!(problem["detail"], "an internal error occurred");
        assert!(problem.get("errors").is_none());
    }

    #[test]
    fn a_refused_token_says_why_in_www_authenticate() {
        let response = ApiError::Unauthorized(AuthError::Expired).error_response();
        let header = response.headers().get(header::WWW_AUTHENTICATE).unwrap();
        assert_eq!(
            header,
            r#"Bearer realm="todo", error="invalid_token", error_description="the token has expired""#
        );
    }

    #[test]
    fn unavailable_asks_to_retry_later() {
        let response = ApiError::Unavailable(anyhow::anyhow!("timeout")).error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "5");
    }
}
