//! Better Auth's JSON Web Key Set: fetched over HTTP(S), cached, refreshed when a token names a
//! key the cache lacks (at most once per interval, concurrent requests sharing one fetch), and
//! kept when a refresh fails, so that a key server outage logs out nobody whose key is cached.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use domain::auth::AuthError;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// A verification key and the one algorithm it may be used with.
#[derive(Clone)]
pub(crate) struct VerificationKey {
    pub key: Arc<DecodingKey>,
    pub algorithm: Algorithm,
}

/// The keys by `kid`.
type KeySet = HashMap<String, VerificationKey>;

/// A cached key set and how to refresh it.
pub(crate) struct Jwks {
    url: String,
    client: reqwest::Client,
    min_refresh_interval: Duration,
    keys: RwLock<Arc<KeySet>>,
    /// When the last fetch started; held across the fetch, so concurrent misses share it.
    last_refresh: tokio::sync::Mutex<Option<Instant>>,
}

#[derive(Deserialize)]
struct RawKeySet {
    keys: Vec<serde_json::Value>,
}

impl Jwks {
    pub(crate) fn new(
        url: String,
        fetch_timeout: Duration,
        min_refresh_interval: Duration,
    ) -> Self {
        let client = reqwest::Client::builder()
            .timeout(fetch_timeout)
            .connect_timeout(fetch_timeout)
            .build()
            .expect("a TLS backend is compiled in");
        Self {
            url,
            client,
            min_refresh_interval,
            keys: RwLock::new(Arc::new(KeySet::new())),
            last_refresh: tokio::sync::Mutex::new(None),
        }
    }

    /// The key named `kid` (or the only key, for a token without `kid`), refreshing once if
    /// the cache lacks it.
    pub(crate) async fn key(&self, kid: Option<&str>) -> Result<VerificationKey, AuthError> {
        if let Some(key) = self.lookup(kid) {
            return Ok(key);
        }
        self.refresh().await;
        self.lookup(kid).ok_or(AuthError::UnknownKey)
    }

    fn lookup(&self, kid: Option<&str>) -> Option<VerificationKey> {
        let keys = Arc::clone(
            &self
                .keys
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        match kid {
            Some(kid) => keys.get(kid).cloned(),
            None if keys.len() == 1 => keys.values().next().cloned(),
            None => None,
        }
    }

    /// Fetches the set unless a fetch started less than the minimum interval ago.
    async fn refresh(&self) {
        let mut last = self.last_refresh.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.min_refresh_interval) {
            return;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "JWKS refreshed");
                *self
                    .keys
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(keys);
            }
            Err(error) => {
                tracing::warn!(error = %error, "JWKS refresh failed; keeping the cached keys");
            }
        }
    }

    async fn fetch(&self) -> Result<KeySet, String> {
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("key server answered {}", response.status()));
        }
        let raw: RawKeySet = response
            .json()
            .await
            .map_err(|e| format!("not a JWK set: {e}"))?;
        // Key by key, so that one key this library cannot use (ES512) does not hide the others.
        let mut keys = KeySet::new();
        for value in raw.keys {
            match verification_key(value) {
                Ok((kid, key)) => {
                    keys.insert(kid, key);
                }
                Err(reason) => tracing::warn!(reason, "JWKS key skipped"),
            }
        }
        Ok(keys)
    }
}

/// A usable key from one JWK, with its `kid`.
fn verification_key(value: serde_json::Value) -> Result<(String, VerificationKey), &'static str> {
    let jwk: Jwk = serde_json::from_value(value).map_err(|_| "unsupported or malformed key")?;
    let kid = jwk.common.key_id.clone().ok_or("key without kid")?;
    let algorithm = match jwk.common.key_algorithm {
        Some(declared) => Algorithm::from_str(&declared.to_string())
            .map_err(|_| "key algorithm cannot verify signatures")?,
        None => implied_algorithm(&jwk.algorithm).ok_or("key type without a default algorithm")?,
    };
    if matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        return Err("symmetric keys are not accepted from a JWKS");
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| "key material is invalid")?;
    Ok((
        kid,
        VerificationKey {
            key: Arc::new(key),
            algorithm,
        },
    ))
}

/// The algorithm a key without `alg` is meant for.
fn implied_algorithm(parameters: &AlgorithmParameters) -> Option<Algorithm> {
    match parameters {
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Some(Algorithm::EdDSA)
        }
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn better_auths_okp_key_without_use_is_an_eddsa_key() {
        let (kid, key) = verification_key(json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            "kid": "Zl3b7nBmVH1YrKWs1Hng4bgr0qR3kpNx"
        }))
        .unwrap();
        assert_eq!(kid, "Zl3b7nBmVH1YrKWs1Hng4bgr0qR3kpNx");
        assert_eq!(key.algorithm, Algorithm::EdDSA);
    }

    #[test]
    fn an_es512_key_is_skipped_not_fatal() {
        let es512 = json!({
            "kty": "EC", "crv": "P-521", "alg": "ES512", "kid": "k",
            "x": "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk",
            "y": "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"
        });
        assert!(verification_key(es512).is_err());
    }

    #[test]
    fn a_symmetric_key_in_a_jwks_is_refused() {
        let oct = json!({"kty": "oct", "k": "c2VjcmV0", "alg": "HS256", "kid": "k"});
        assert!(verification_key(oct).is_err());
    }
}
