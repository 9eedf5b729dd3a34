//! Verifications per second, HS256 and EdDSA, with and without the verified-token cache.
//!
//! `cargo run --release -p adapters-jwt --example verify_bench [iterations]`
//!
//! A frontend sends the same token with every request until it expires; the cache turns all
//! but the first verification into a hash and a lookup. The EdDSA key set is served from
//! loopback and fetched once, as in production.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpResponse, HttpServer, web};
use adapters_jwt::{JwtSettings, JwtVerifier};
use domain::auth::TokenVerifier;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

const SECRET: &[u8] = b"a-benchmark-secret-of-at-least-32-bytes!";

#[tokio::main]
async fn main() {
    let iterations: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims =
        json!({"sub": "bench-user", "email": "b@example.com", "iat": now, "exp": now + 900});

    let ed = EncodingKey::from_ed_pem(include_bytes!("../tests/keys/ed25519.pem")).unwrap();
    let mut jwk = Jwk::from_encoding_key(&ed, Algorithm::EdDSA).unwrap();
    jwk.common.key_id = Some("bench".into());
    let jwks = json!({ "keys": [jwk] });
    let server = HttpServer::new(move || {
        let jwks = jwks.clone();
        App::new().route(
            "/jwks",
            web::get().to(move || {
                let jwks = jwks.clone();
                async move { HttpResponse::Ok().json(jwks) }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let jwks_url = format!("http://127.0.0.1:{}/jwks", server.addrs()[0].port());
    tokio::spawn(server.run());

    let hs_token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    let mut ed_header = Header::new(Algorithm::EdDSA);
    ed_header.kid = Some("bench".into());
    ed_header.typ = None;
    let ed_token = jsonwebtoken::encode(&ed_header, &claims, &ed).unwrap();

    println!("{iterations} verifications of one token per row");
    println!(
        "{:<8} {:<8} {:>14} {:>12}",
        "alg", "cache", "verifications/s", "µs each"
    );
    for (alg, token, secret, url) in [
        ("HS256", &hs_token, Some(SECRET.to_vec()), None),
        ("EdDSA", &ed_token, None, Some(jwks_url.clone())),
    ] {
        for cache_capacity in [0, 10_000] {
            let mut settings = JwtSettings::new(secret.clone().map(Into::into), url.clone());
            settings.cache_capacity = cache_capacity;
            let verifier = JwtVerifier::new(settings).unwrap();
            verifier.verify(token).await.expect("the token verifies");
            let started = Instant::now();
            for _ in 0..iterations {
                verifier.verify(token).await.unwrap();
            }
            let elapsed = started.elapsed();
            let per = elapsed / iterations;
            println!(
                "{alg:<8} {:<8} {:>14.0} {:>12.2}",
                if cache_capacity > 0 { "on" } else { "off" },
                f64::from(iterations) / elapsed.as_secs_f64(),
                per.as_secs_f64() * 1e6,
            );
        }
    }
}
