//! The verifier against real tokens: keys made for the tests, Better Auth's token and key-set
//! shapes, a key server on loopback.

mod attacks;
mod keyserver;
mod modes;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adapters_jwt::{JwtSettings, JwtVerifier};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const ORIGIN: &str = "http://localhost:3000";
const SECRET: &[u8] = b"a-development-secret-of-at-least-32-bytes";

/// A signing key of the tests and the `kid` it is published under.
struct TestKey {
    encoding: EncodingKey,
    algorithm: Algorithm,
    kid: String,
}

impl TestKey {
    fn eddsa() -> Self {
        Self::new(
            include_bytes!("../keys/ed25519.pem"),
            Algorithm::EdDSA,
            "Zl3b7nBmVH1YrKWs1Hng4bgr0qR3kpNx",
        )
    }
    fn eddsa_rotated() -> Self {
        Self::new(
            include_bytes!("../keys/ed25519-rotated.pem"),
            Algorithm::EdDSA,
            "Q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6",
        )
    }
    fn es256() -> Self {
        Self::new(
            include_bytes!("../keys/p256.pem"),
            Algorithm::ES256,
            "p256-key",
        )
    }
    fn rs256() -> Self {
        Self::new(
            include_bytes!("../keys/rsa.pem"),
            Algorithm::RS256,
            "rsa-rs256",
        )
    }
    fn ps256() -> Self {
        Self::new(
            include_bytes!("../keys/rsa.pem"),
            Algorithm::PS256,
            "rsa-ps256",
        )
    }

    fn new(pem: &[u8], algorithm: Algorithm, kid: &str) -> Self {
        let encoding = match algorithm {
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem),
            _ => EncodingKey::from_rsa_pem(pem),
        }
        .unwrap();
        Self {
            encoding,
            algorithm,
            kid: kid.to_owned(),
        }
    }

    /// The public key as Better Auth publishes it: `kid` and `alg`, no `use`.
    fn jwk(&self) -> Value {
        let mut jwk = Jwk::from_encoding_key(&self.encoding, self.algorithm).unwrap();
        jwk.common.key_id = Some(self.kid.clone());
        jwk.common.public_key_use = None;
        serde_json::to_value(jwk).unwrap()
    }

    /// A token signed with this key: header `{"alg", "kid"}` without `typ`, like Better Auth.
    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        header.typ = None;
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// The payload Better Auth's `jwt` plugin issues: the user row's fields, 15 minutes of life.
fn better_auth_claims() -> Value {
    let now = now();
    json!({
        "iat": now,
        "name": "Alice",
        "email": "alice@example.com",
        "emailVerified": false,
        "image": null,
        "createdAt": "2026-01-08T10:15:30.123Z",
        "updatedAt": "2026-01-08T10:15:30.123Z",
        "id": "Yx3kQ9aBcDeFgHiJkLmNoPqRsTuVwXyZ",
        "sub": "Yx3kQ9aBcDeFgHiJkLmNoPqRsTuVwXyZ",
        "exp": now + 900,
        "iss": ORIGIN,
        "aud": ORIGIN,
    })
}

/// A shared-secret token as a frontend would mint it.
fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// Settings for Better Auth's plugin at `jwks_url`, issuer and audience set, quick refreshes.
fn jwks_settings(jwks_url: &str) -> JwtSettings {
    let mut settings = JwtSettings::new(None, Some(jwks_url.to_owned()));
    settings.issuer = Some(ORIGIN.into());
    settings.audience = Some(ORIGIN.into());
    settings.fetch_timeout = Duration::from_millis(500);
    settings.min_refresh_interval = Duration::ZERO;
    settings
}

fn secret_verifier() -> JwtVerifier {
    JwtVerifier::new(JwtSettings::new(Some(SECRET.to_vec().into()), None)).unwrap()
}
