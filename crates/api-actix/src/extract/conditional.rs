//! The conditional and idempotency headers, read with actix-web's typed headers where it has
//! them. Any malformed one, or one given twice, is a 400.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{self, EntityTag, Header, HeaderName, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use domain::idempotency::IdempotencyKey;
use domain::task::Version;

use crate::error::ApiError;

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The one value of a header that may be given only once.
fn single<'a>(
    req: &'a HttpRequest,
    name: &HeaderName,
) -> Result<Option<&'a HeaderValue>, ApiError> {
    let mut values = req.headers().get_all(name);
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::BadRequest(format!("{name} must be given once")));
    }
    Ok(first)
}

/// The version an `If-Match` requires, read before the write: `None` without the header or
/// for `*`; a 412 for a tag that is no version of ours, so never current (a weak tag included:
/// RFC 9110 compares strongly for `If-Match`).
pub(super) fn precondition(req: &HttpRequest) -> Result<Option<Version>, ApiError> {
    let bad = || ApiError::BadRequest("If-Match must be * or one entity tag such as \"3\"".into());
    if single(req, &header::IF_MATCH)?.is_none() {
        return Ok(None);
    }
    match header::IfMatch::parse(req).map_err(|_| bad())? {
        header::IfMatch::Any => Ok(None),
        header::IfMatch::Items(tags) => match tags.as_slice() {
            [tag] if !tag.weak => version_named(tag)
                .map(Some)
                .ok_or(ApiError::PreconditionFailed),
            [_] => Err(ApiError::PreconditionFailed),
            _ => Err(bad()),
        },
    }
}

/// `If-None-Match`, compared weakly as for `GET`.
pub struct IfNoneMatch(Option<header::IfNoneMatch>);

impl IfNoneMatch {
    /// Whether it names `current` (or is `*`).
    pub fn matches(&self, current: Version) -> bool {
        match &self.0 {
            None => false,
            Some(header::IfNoneMatch::Any) => true,
            // Weak comparison: the opaque tags are equal, whether either is weak or not.
            Some(header::IfNoneMatch::Items(tags)) => {
                tags.iter().any(|tag| version_named(tag) == Some(current))
            }
        }
    }
}

impl FromRequest for IfNoneMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if !req.headers().contains_key(header::IF_NONE_MATCH) {
            return ready(Ok(Self(None)));
        }
        ready(
            match header::IfNoneMatch::parse(req) {
                Ok(header::IfNoneMatch::Items(tags)) if tags.is_empty() => Err(()),
                Ok(value) => Ok(Self(Some(value))),
                Err(_) => Err(()),
            }
            .map_err(|()| {
                ApiError::BadRequest("If-None-Match must be * or entity tags such as \"3\"".into())
            }),
        )
    }
}

/// The `ETag` header value of a version: `"3"`. Written into the value's own buffer, not
/// through `format!` and a copy: it goes out with every task answered.
pub fn etag(version: Version) -> HeaderValue {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(version.get()).as_bytes();
    let mut tag = Vec::with_capacity(digits.len() + 2);
    tag.push(b'"');
    tag.extend_from_slice(digits);
    tag.push(b'"');
    HeaderValue::from_maybe_shared(Bytes::from(tag)).expect("a quoted number is a header value")
}

/// The version a tag names: its opaque text is exactly the decimal form [`etag`] writes
/// (digits only, no sign, no leading zero), so that comparing versions compares the tags.
fn version_named(tag: &EntityTag) -> Option<Version> {
    let text = tag.tag();
    if text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().and_then(Version::new)
}

/// The `Idempotency-Key` header, if sent.
pub struct IdempotencyKeyHeader(pub Option<IdempotencyKey>);

impl FromRequest for IdempotencyKeyHeader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = single(req, &IDEMPOTENCY_KEY).and_then(|value| {
            value
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
        });
        ready(key.map(Self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_names_a_version_only_in_its_plain_decimal_form() {
        let three = Version::new(3);
        assert_eq!(version_named(&EntityTag::new_strong("3".into())), three);
        assert_eq!(version_named(&EntityTag::new_weak("3".into())), three);
        for other in ["03", "+3", "0", "", "3a", "-1"] {
            assert_eq!(
                version_named(&EntityTag::new_strong(other.into())),
                None,
                "{other}"
            );
        }
    }
}
