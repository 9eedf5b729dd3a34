//! Extractors: the authenticated caller, JSON bodies with every error as problem+json, and the
//! conditional and idempotency headers.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::{Bytes, Data};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use domain::auth::AuthError;
use domain::idempotency::{Fingerprint, IdempotencyKey};
use domain::task::Version;
use domain::user::AuthenticatedUser;
use domain::validation::FieldError;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The outcome of verifying a request's token, left in the request's extensions by the rate
/// limiter (which must know the caller first) so that it is not verified twice.
#[derive(Clone)]
pub(crate) struct Verification(pub Result<AuthenticatedUser, AuthError>);

/// The bearer token of a request: the `Authorization` header, else the configured cookie.
pub(crate) fn bearer_token(req: &HttpRequest, cookie_name: &str) -> Result<String, AuthError> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| AuthError::Malformed)?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::Malformed);
        }
        let token = token.trim();
        return if token.is_empty() {
            Err(AuthError::Missing)
        } else {
            Ok(token.to_owned())
        };
    }
    req.cookie(cookie_name)
        .map(|c| c.value().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Missing)
}

/// The caller, authenticated by the token verifier port.
pub struct AuthUser(pub AuthenticatedUser);

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let known = req.extensions().get::<Verification>().cloned();
        let state = req.app_data::<Data<AppState>>().cloned();
        let token = state.as_ref().map(|s| bearer_token(req, &s.cookie_name));
        Box::pin(async move {
            let verified = match (known, state, token) {
                (Some(Verification(result)), _, _) => result,
                (None, Some(state), Some(token)) => match token {
                    Ok(token) => state.verifier.verify(&token).await,
                    Err(reason) => Err(reason),
                },
                _ => {
                    return Err(ApiError::Internal(anyhow::anyhow!(
                        "AppState is not registered"
                    )));
                }
            };
            let user = verified.map_err(ApiError::Unauthorized)?;
            tracing::Span::current().record("user_id", user.id().as_str());
            Ok(Self(user))
        })
    }
}

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

    /// A digest of the raw body, to recognise a retried request.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::new(format!("{:x}", Sha256::digest(&self.raw)))
    }
}

/// Field names that exist on a task but are set by the server.
const READ_ONLY_FIELDS: [&str; 6] = [
    "id",
    "user_id",
    "created_at",
    "updated_at",
    "completed_at",
    "version",
];

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

/// An `If-Match` precondition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current version.
    Any,
    /// This version must be current.
    Version(Version),
    /// A well-formed tag that is no version of ours: never current.
    Never,
}

impl IfMatch {
    /// The version to guard a write with, or a 412 when the tag can never match.
    pub fn expected(header: Option<Self>) -> Result<Option<Version>, ApiError> {
        match header {
            None | Some(Self::Any) => Ok(None),
            Some(Self::Version(version)) => Ok(Some(version)),
            Some(Self::Never) => Err(ApiError::PreconditionFailed),
        }
    }
}

/// Reads `If-Match`: `*` or one strong entity tag. Weak tags never match (RFC 9110 uses strong
/// comparison for `If-Match`).
pub fn if_match(headers: &HeaderMap) -> Result<Option<IfMatch>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || ApiError::BadRequest("If-Match must be * or one entity tag such as \"3\"".into());
    let value = value.to_str().map_err(|_| bad())?.trim();
    if value == "*" {
        return Ok(Some(IfMatch::Any));
    }
    if value.starts_with("W/") {
        return Ok(Some(IfMatch::Never));
    }
    let tag = quoted(value).ok_or_else(bad)?;
    Ok(Some(
        tag.parse()
            .ok()
            .and_then(Version::new)
            .map_or(IfMatch::Never, IfMatch::Version),
    ))
}

/// Whether `If-None-Match` names the current version (weak comparison, as for `GET`).
pub fn if_none_match(headers: &HeaderMap, current: Version) -> Result<bool, ApiError> {
    let Some(value) = headers.get(header::IF_NONE_MATCH) else {
        return Ok(false);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::BadRequest("If-None-Match must be * or entity tags".into()))?;
    let current = current.get().to_string();
    for tag in value.split(',').map(str::trim) {
        if tag == "*" {
            return Ok(true);
        }
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        let tag = quoted(tag).ok_or_else(|| {
            ApiError::BadRequest("If-None-Match must be * or entity tags such as \"3\"".into())
        })?;
        if tag == current {
            return Ok(true);
        }
    }
    Ok(false)
}

fn quoted(tag: &str) -> Option<&str> {
    tag.strip_prefix('"')?
        .strip_suffix('"')
        .filter(|inner| !inner.contains('"'))
}

/// The `ETag` of a version.
pub fn etag(version: Version) -> String {
    format!("\"{}\"", version.get())
}

/// The `Idempotency-Key` header, if sent.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    headers
        .get("Idempotency-Key")
        .map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|v| IdempotencyKey::parse(v).ok())
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
                    )
                })
        })
        .transpose()
}

/// Query strings are parsed by the domain: pairs, in order, repeated names kept.
pub struct QueryPairs(pub Vec<(String, String)>);

impl FromRequest for QueryPairs {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(
            form_urlencoded::parse(req.query_string().as_bytes())
                .into_owned()
                .collect(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn if_match_reads_star_a_strong_tag_or_refuses_garbage() {
        assert_eq!(if_match(&HeaderMap::new()).unwrap(), None);
        assert_eq!(
            if_match(&headers(header::IF_MATCH, "*")).unwrap(),
            Some(IfMatch::Any)
        );
        assert_eq!(
            if_match(&headers(header::IF_MATCH, "\"3\"")).unwrap(),
            Some(IfMatch::Version(Version::new(3).unwrap()))
        );
        assert_eq!(
            if_match(&headers(header::IF_MATCH, "W/\"3\"")).unwrap(),
            Some(IfMatch::Never)
        );
        assert_eq!(
            if_match(&headers(header::IF_MATCH, "\"abc\"")).unwrap(),
            Some(IfMatch::Never)
        );
        assert!(if_match(&headers(header::IF_MATCH, "3")).is_err());
    }

    #[test]
    fn if_none_match_compares_weakly_and_reads_lists() {
        let v3 = Version::new(3).unwrap();
        assert!(if_none_match(&headers(header::IF_NONE_MATCH, "W/\"3\""), v3).unwrap());
        assert!(if_none_match(&headers(header::IF_NONE_MATCH, "\"1\", \"3\""), v3).unwrap());
        assert!(!if_none_match(&headers(header::IF_NONE_MATCH, "\"2\""), v3).unwrap());
        assert!(if_none_match(&headers(header::IF_NONE_MATCH, "nope"), v3).is_err());
    }

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
