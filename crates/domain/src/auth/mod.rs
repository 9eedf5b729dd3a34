//! The token-verifier port: a bearer token in, the authenticated caller (or why not) out.

use std::sync::Arc;

use crate::user::AuthenticatedUser;

/// Why a token was refused. The text of each variant is safe to show a client (it becomes the
/// `error_description` of the 401) and never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Two `Authorization` headers, or the token cookie twice: which one counts is ambiguous.
    #[error("the request carries more than one token")]
    Ambiguous,
    /// No token in the header or the cookie.
    #[error("no bearer token was given")]
    Missing,
    /// Not a well-formed JWT, or its claims are not the expected JSON.
    #[error("the token is malformed")]
    Malformed,
    /// `exp` is in the past (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `exp` is missing.
    #[error("the token has no expiry (exp)")]
    MissingExpiry,
    /// `nbf` or `iat` is in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// The signature does not match.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// The token names a key the key set does not have.
    #[error("the token's signing key is unknown")]
    UnknownKey,
    /// The algorithm in the header is not one the configured keys allow.
    #[error("the token's algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// A real algorithm this server cannot verify (ES512).
    #[error("the token's algorithm is not supported; use EdDSA, ES256, RS256 or PS256")]
    UnsupportedAlgorithm,
    /// `iss` is not the configured issuer.
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    /// `iss` is missing while an issuer is configured.
    #[error("the token has no issuer (iss)")]
    MissingIssuer,
    /// `aud` is missing while an audience is configured.
    #[error("the token has no audience (aud)")]
    MissingAudience,
    /// `aud` does not name the configured audience.
    #[error("the token's audience is not accepted")]
    WrongAudience,
    /// None of `sub`, `userId`, `id` is a usable user id.
    #[error("the token has no usable subject")]
    NoSubject,
}

/// Verifies bearer tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait TokenVerifier: Send + Sync + 'static {
    /// The caller the token identifies, shared: a verifier that remembers tokens hands out
    /// the same caller again rather than a copy per request.
    ///
    /// # Errors
    /// The reason the token is refused. A key server that cannot be reached is not an error of
    /// its own: tokens whose keys are cached still verify, others are `UnknownKey`.
    async fn verify(&self, token: &str) -> Result<Arc<AuthenticatedUser>, AuthError>;
}
