//! The domain's `TokenVerifier`, implemented with jsonwebtoken for the two ways Better Auth
//! tokens reach this server: HS256 with the shared `BETTER_AUTH_SECRET`, and the `jwt` plugin's
//! asymmetric tokens (EdDSA by default; ES256, RS256, PS256) checked against its JWKS.
//!
//! The algorithm is decided by the key, never by the token: an HS256 token is only checked
//! against the secret, an asymmetric one only against the JWKS key its `kid` names, and the
//! header's `alg` must be that key's algorithm.

mod claims;
mod jwks;

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use domain::auth::{AuthError, TokenVerifier};
use domain::user::AuthenticatedUser;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use moka::Expiry;
use moka::sync::Cache;
use secrecy::{ExposeSecret, SecretSlice};
use sha2::{Digest, Sha256};

use crate::claims::{Claims, peek_header, reason};
use crate::jwks::{Jwks, VerificationKey};

/// Tokens longer than this are refused before any parsing: Better Auth's are under 1 KiB.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// How tokens are verified. At least one of `secret` and `jwks_url` is required.
#[derive(Debug)]
pub struct JwtSettings {
    /// HS256 shared secret (`BETTER_AUTH_SECRET`); its `Debug` prints no byte of it.
    pub secret: Option<SecretSlice<u8>>,
    /// Better Auth's key set (`BETTER_AUTH_JWKS_URL`).
    pub jwks_url: Option<String>,
    /// Required `iss`, when set.
    pub issuer: Option<String>,
    /// Required member of `aud`, when set.
    pub audience: Option<String>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// Longest wait for the key server.
    pub fetch_timeout: Duration,
    /// Least time between two fetches of the key set.
    pub min_refresh_interval: Duration,
    /// Verified tokens remembered (0 turns the cache off).
    pub cache_capacity: u64,
}

impl JwtSettings {
    /// The defaults: 60 s leeway, 5 s fetch timeout, one refresh per 30 s, 10 000 tokens.
    pub fn new(secret: Option<SecretSlice<u8>>, jwks_url: Option<String>) -> Self {
        Self {
            secret,
            jwks_url,
            issuer: None,
            audience: None,
            leeway: Duration::from_mins(1),
            fetch_timeout: Duration::from_secs(5),
            min_refresh_interval: Duration::from_secs(30),
            cache_capacity: 10_000,
        }
    }
}

/// Neither a secret nor a key set was configured: no token could ever be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("neither BETTER_AUTH_SECRET nor BETTER_AUTH_JWKS_URL is set")]
pub struct NoVerificationMethod;

/// A verified caller, remembered until their token expires.
#[derive(Clone)]
struct Verified {
    user: Arc<AuthenticatedUser>,
    valid_for: Duration,
}

struct UntilExpiry;

impl Expiry<[u8; 32], Verified> for UntilExpiry {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        value: &Verified,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.valid_for)
    }
}

/// Verifies bearer tokens by secret and/or JWKS.
pub struct JwtVerifier {
    secret: Option<DecodingKey>,
    jwks: Option<Jwks>,
    validation: Validation,
    leeway: Duration,
    /// Keyed by the SHA-256 of the token, so no token is kept in memory. The keys are digests
    /// already, so the map spreads them with foldhash (seeded per process) rather than the
    /// default `SipHash`, whose resistance to crafted keys buys nothing here: only verified
    /// tokens are inserted.
    cache: Option<Cache<[u8; 32], Verified, foldhash::fast::RandomState>>,
}

impl JwtVerifier {
    /// A verifier for the given settings.
    pub fn new(settings: JwtSettings) -> Result<Self, NoVerificationMethod> {
        if settings.secret.is_none() && settings.jwks_url.is_none() {
            return Err(NoVerificationMethod);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = settings.leeway.as_secs();
        validation.validate_nbf = true;
        // A configured claim is also required: jsonwebtoken compares `iss` and `aud` only when
        // the token carries them, so a token leaving one out would dodge the check.
        let mut required = vec!["exp"];
        if let Some(issuer) = &settings.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &settings.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            // Without a configured audience, a token's `aud` is not ours to judge.
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        Ok(Self {
            secret: settings
                .secret
                .as_ref()
                .map(|secret| DecodingKey::from_secret(secret.expose_secret())),
            jwks: settings
                .jwks_url
                .map(|url| Jwks::new(url, settings.fetch_timeout, settings.min_refresh_interval)),
            validation,
            leeway: settings.leeway,
            cache: (settings.cache_capacity > 0).then(|| {
                Cache::builder()
                    .max_capacity(settings.cache_capacity)
                    .expire_after(UntilExpiry)
                    .build_with_hasher(foldhash::fast::RandomState::default())
            }),
        })
    }

    /// The key a token must be verified with, chosen from its header.
    async fn key_for(&self, alg: &str, kid: Option<&str>) -> Result<VerificationKey, AuthError> {
        match alg {
            "HS256" => self
                .secret
                .as_ref()
                .map(|key| VerificationKey {
                    key: Arc::new(key.clone()),
                    algorithm: Algorithm::HS256,
                })
                .ok_or(AuthError::AlgorithmNotAllowed),
            "ES512" => Err(AuthError::UnsupportedAlgorithm),
            "EdDSA" | "ES256" | "ES384" | "RS256" | "RS384" | "RS512" | "PS256" | "PS384"
            | "PS512" => {
                let jwks = self.jwks.as_ref().ok_or(AuthError::AlgorithmNotAllowed)?;
                let key = jwks.key(kid).await?;
                // The key decides the algorithm; a header claiming another one is refused.
                if Algorithm::from_str(alg).ok() != Some(key.algorithm) {
                    return Err(AuthError::AlgorithmNotAllowed);
                }
                Ok(key)
            }
            // `none`, HS384/HS512 and anything unknown.
            _ => Err(AuthError::AlgorithmNotAllowed),
        }
    }

    async fn verify_uncached(&self, token: &str) -> Result<Verified, AuthError> {
        let header = peek_header(token)?;
        let key = self.key_for(&header.alg, header.kid.as_deref()).await?;
        let mut validation = self.validation.clone();
        validation.algorithms = vec![key.algorithm];
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|e| reason(e.kind()))?
            .claims;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        claims.check_issued_at(now, self.leeway.as_secs())?;
        let user = claims.user()?;
        Ok(Verified {
            user: Arc::new(user),
            valid_for: Duration::from_secs(claims.expires_at().saturating_sub(now)),
        })
    }
}

#[async_trait]
impl TokenVerifier for JwtVerifier {
    async fn verify(&self, token: &str) -> Result<Arc<AuthenticatedUser>, AuthError> {
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed);
        }
        let Some(cache) = &self.cache else {
            return Ok(self.verify_uncached(token).await?.user);
        };
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(hit) = cache.get(&digest) {
            return Ok(hit.user);
        }
        let verified = self.verify_uncached(token).await?;
        cache.insert(digest, verified.clone());
        Ok(verified.user)
    }
}

/// What `todo-api token` puts in a development token.
#[derive(Debug, Clone)]
pub struct DevTokenRequest<'a> {
    /// The user id (`sub`).
    pub subject: &'a str,
    /// Optional `email`.
    pub email: Option<&'a str>,
    /// Lifetime.
    pub ttl: Duration,
    /// `iss`, when the server requires one.
    pub issuer: Option<&'a str>,
    /// `aud`, when the server requires one.
    pub audience: Option<&'a str>,
}

/// An HS256 token signed with `secret`, as a frontend that mints its own tokens would make it.
///
/// # Panics
/// Never in practice: the claims are plain JSON and HMAC accepts any key.
pub fn sign_hs256(secret: &[u8], request: &DevTokenRequest<'_>) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut claims = serde_json::json!({
        "sub": request.subject,
        "iat": now,
        "exp": now + request.ttl.as_secs(),
    });
    for (name, value) in [
        ("email", request.email),
        ("iss", request.issuer),
        ("aud", request.audience),
    ] {
        if let Some(value) = value {
            claims[name] = value.into();
        }
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("JSON claims always sign with HMAC")
}
