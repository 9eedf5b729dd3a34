//! JSON request bodies, with every error as problem+json.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use domain::idempotency::Fingerprint;
use domain::validation::FieldError;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A request body, read up to [`MAX_BODY_BYTES`] (413 beyond). Its media type and JSON are
/// judged only when a handler asks, after the caller and the path were authorised, so that
/// 401/403/404 come before 415/422.
pub struct Body {
    raw: Bytes,
    is_json: bool,
    has_content_type: bool,
}

impl Body {
    /// The body as `T`; it is required.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if !self.is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse_json(&self.raw)
    }

    /// The body as `T`, or `None` when no body (and no content type) or a JSON `null` was sent.
    pub fn optional_json<T: DeserializeOwned>(&self) -> Result<Option<T>, ApiError> {
        if self.raw.is_empty() && !self.has_content_type {
            return Ok(None);
        }
        if !self.is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse_json(&self.raw)
    }

    /// A digest of the raw body and of the collection it is posted to, to recognise a retried
    /// request: a key reused on another collection is another request. Task creations hash the
    /// body alone, as they did before lists existed, so keys stored then still match.
    pub fn fingerprint(&self, collection: &str) -> Fingerprint {
        let mut digest = Sha256::new();
        if collection != "tasks" {
            digest.update(collection.as_bytes());
            digest.update([0]);
        }
        digest.update(&self.raw);
        Fingerprint::new(format!("{:x}", digest.finalize()))
    }
}

/// Field names that exist on a task or list but are set by the server.
const READ_ONLY_FIELDS: [&str; 11] = [
    "id",
    "user_id",
    "created_at",
    "updated_at",
    "completed_at",
    "version",
    "position",
    "subtask_count",
    "completed_subtask_count",
    "task_count",
    "pending_count",
];

/// Fields that only the move route changes.
const MOVED_FIELDS: [&str; 2] = ["list_id", "parent_id"];

impl FromRequest for Body {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req.mime_type().ok().flatten().is_some_and(|mime| {
            mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json")
        });
        let has_content_type = req.headers().contains_key(header::CONTENT_TYPE);
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            let raw = bytes.await.map_err(|e| {
                if e.as_response_error().status_code()
                    == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
                {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::foreign(&e)
                }
            })?;
            Ok(Self {
                raw,
                is_json,
                has_content_type,
            })
        })
    }
}

/// Parses JSON, reporting the path of the offending field.
fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(raw);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        // serde_json appends the position; the field path says more.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_owned();
        let field_error = match unknown_field(&message) {
            Some(name) if READ_ONLY_FIELDS.contains(&name) => {
                FieldError::new(name, "is read-only and cannot be set")
            }
            Some(name) if MOVED_FIELDS.contains(&name) => {
                FieldError::new(name, "is changed by the move route, not by an update")
            }
            Some(name) => FieldError::new(name, "is not a known field"),
            // `.` is the document itself; `?` marks a syntax error before any field was read.
            None if path == "." || path.contains('?') => FieldError::new("body", message),
            None => FieldError::new(path, message),
        };
        ApiError::Validation(vec![field_error])
    })
}

/// The name in serde's "unknown field `x`, expected ..." message.
fn unknown_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_name_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            title: String,
            tags: Option<Vec<String>>,
        }
        let field = |raw: &str| match parse_json::<Body>(raw.as_bytes()).unwrap_err() {
            ApiError::Validation(errors) => errors[0].field().to_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(field(r#"{"title": "a", "tags": ["x", 3]}"#), "tags[1]");
        assert_eq!(field(r#"{"title": "a", "id": "x"}"#), "id");
        assert_eq!(field(r#"{"title": 5}"#), "title");
        assert_eq!(field("{"), "body");
    }
}
