//! The caller: the bearer token a request carries, the outcome of verifying it, and the
//! extractors that hand the verified caller to handlers.

use std::borrow::Cow;
use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use domain::auth::AuthError;
use domain::user::{AuthenticatedUser, UserId};

use crate::error::ApiError;

/// What the authentication middleware found out about the caller, kept in the request. The
/// user is shared, not copied, with the extractors that hand it to handlers.
pub(crate) struct Authentication(pub Result<Arc<AuthenticatedUser>, AuthError>);

/// The bearer token of a request: the `Authorization` header (borrowed), else the configured
/// cookie. Either given twice is refused: a proxy that reads the other one would see another
/// caller (RFC 9110 allows the header once; RFC 6750 one token per request).
pub(crate) fn bearer_token<'r>(
    req: &'r HttpRequest,
    cookie_name: &str,
) -> Result<Cow<'r, str>, AuthError> {
    let mut headers = req.headers().get_all(header::AUTHORIZATION);
    if let Some(value) = headers.next() {
        if headers.next().is_some() {
            return Err(AuthError::Ambiguous);
        }
        // UTF-8, checked a word at a time, rather than `to_str()`'s visible ASCII, checked a
        // byte at a time: a token of anything but base64url and dots is malformed to the
        // verifier all the same.
        let value = std::str::from_utf8(value.as_bytes()).map_err(|_| AuthError::Malformed)?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::Malformed);
        }
        let token = token.trim();
        return if token.is_empty() {
            Err(AuthError::Missing)
        } else {
            Ok(Cow::Borrowed(token))
        };
    }
    // Unparseable cookies carry no token of ours.
    let Ok(cookies) = req.cookies() else {
        return Err(AuthError::Missing);
    };
    let mut named = cookies.iter().filter(|c| c.name() == cookie_name);
    match (named.next(), named.next()) {
        (Some(_), Some(_)) => Err(AuthError::Ambiguous),
        (Some(cookie), None) if !cookie.value().is_empty() => {
            Ok(Cow::Owned(cookie.value().to_owned()))
        }
        _ => Err(AuthError::Missing),
    }
}

/// The verified caller, or the 401 (400 for two tokens) that refuses them.
fn caller(req: &HttpRequest) -> Result<Arc<AuthenticatedUser>, ApiError> {
    let extensions = req.extensions();
    let Some(Authentication(outcome)) = extensions.get::<Authentication>() else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "the authenticate middleware does not wrap this route"
        )));
    };
    let user = outcome.clone().map_err(ApiError::Unauthorized)?;
    tracing::Span::current().record("user_id", user.id().as_str());
    Ok(user)
}

/// The authenticated caller.
pub struct AuthUser(pub Arc<AuthenticatedUser>);

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller(req).map(Self))
    }
}

/// The caller, allowed to act for the path's `{user_id}`: their own id or `me` (else 403).
pub struct Owner(pub Arc<AuthenticatedUser>);

impl Owner {
    /// The id whose data the request reaches.
    pub fn id(&self) -> &UserId {
        self.0.id()
    }
}

impl FromRequest for Owner {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(owner(req))
    }
}

pub(super) fn owner(req: &HttpRequest) -> Result<Owner, ApiError> {
    let user = caller(req)?;
    let path_user = req.match_info().get("user_id").ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("the route has no {{user_id}} segment"))
    })?;
    user.authorize_path(path_user)?;
    Ok(Owner(user))
}
