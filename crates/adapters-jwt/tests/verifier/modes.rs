//! Both verification modes, rotation, outages and caching.

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters_jwt::{JwtSettings, JwtVerifier, NoVerificationMethod};
use domain::auth::{AuthError, TokenVerifier};
use serde_json::json;
use tokio::net::TcpListener;

use crate::keyserver::KeyServer;
use crate::{SECRET, TestKey, better_auth_claims, hs256, jwks_settings, now, secret_verifier};

#[tokio::test]
async fn every_supported_algorithm_verifies_through_the_jwks() {
    let keys = [
        TestKey::eddsa(),
        TestKey::es256(),
        TestKey::rs256(),
        TestKey::ps256(),
    ];
    let server = KeyServer::start(keys.iter().map(TestKey::jwk).collect());
    let verifier = JwtVerifier::new(jwks_settings(&server.url)).unwrap();

    for key in &keys {
        let user = verifier
            .verify(&key.sign(&better_auth_claims()))
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e}", key.algorithm));
        assert_eq!(user.id().as_str(), "Yx3kQ9aBcDeFgHiJkLmNoPqRsTuVwXyZ");
        assert_eq!(user.email(), Some("alice@example.com"));
        assert_eq!(user.name(), Some("Alice"));
    }
    assert_eq!(server.hits(), 1, "one fetch serves every key of the set");
}

#[tokio::test]
async fn a_token_signed_with_the_shared_secret_verifies() {
    let claims = json!({"sub": "alice", "exp": now() + 60});

    let user = secret_verifier()
        .verify(&hs256(&claims, SECRET))
        .await
        .unwrap();

    assert_eq!(user.id().as_str(), "alice");
}

#[tokio::test]
async fn both_modes_work_at_once() {
    let key = TestKey::eddsa();
    let server = KeyServer::start(vec![key.jwk()]);
    let mut settings = jwks_settings(&server.url);
    settings.secret = Some(SECRET.to_vec().into());
    let verifier = JwtVerifier::new(settings).unwrap();

    verifier
        .verify(&key.sign(&better_auth_claims()))
        .await
        .unwrap();
    verifier
        .verify(&hs256(&better_auth_claims(), SECRET))
        .await
        .unwrap();
}

#[test]
fn a_verifier_without_secret_or_jwks_cannot_be_built() {
    assert!(matches!(
        JwtVerifier::new(JwtSettings::new(None, None)),
        Err(NoVerificationMethod)
    ));
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_without_a_restart() {
    let (old, new) = (TestKey::eddsa(), TestKey::eddsa_rotated());
    let server = KeyServer::start(vec![old.jwk()]);
    let verifier = JwtVerifier::new(jwks_settings(&server.url)).unwrap();
    verifier
        .verify(&old.sign(&better_auth_claims()))
        .await
        .unwrap();

    server.set_keys(vec![new.jwk(), old.jwk()]);

    verifier
        .verify(&new.sign(&better_auth_claims()))
        .await
        .unwrap();
    verifier
        .verify(&old.sign(&better_auth_claims()))
        .await
        .unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn cached_keys_keep_working_when_the_key_server_is_gone() {
    let key = TestKey::eddsa();
    let server = KeyServer::start(vec![key.jwk()]);
    let verifier = JwtVerifier::new(jwks_settings(&server.url)).unwrap();
    verifier
        .verify(&key.sign(&better_auth_claims()))
        .await
        .unwrap();
    server.stop().await;
    let started = Instant::now();

    let mut fresh = better_auth_claims();
    fresh["jti"] = "another token, not in the token cache".into();
    verifier.verify(&key.sign(&fresh)).await.unwrap();
    let unknown = TestKey::eddsa_rotated().sign(&better_auth_claims());
    assert_eq!(verifier.verify(&unknown).await, Err(AuthError::UnknownKey));

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_key_server_that_never_answers_costs_at_most_the_fetch_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/auth/jwks", listener.local_addr().unwrap());
    // Accepts connections and never answers.
    let _hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let verifier = JwtVerifier::new(jwks_settings(&url)).unwrap();
    let started = Instant::now();

    let result = verifier
        .verify(&TestKey::eddsa().sign(&better_auth_claims()))
        .await;

    assert_eq!(result, Err(AuthError::UnknownKey));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn unknown_kids_refresh_at_most_once_per_interval_and_concurrent_misses_share_it() {
    let server = KeyServer::start(vec![TestKey::eddsa().jwk()]);
    let mut settings = jwks_settings(&server.url);
    settings.min_refresh_interval = Duration::from_secs(30);
    let verifier = Arc::new(JwtVerifier::new(settings).unwrap());
    let stranger = TestKey::eddsa_rotated();

    let attempts: Vec<_> = (0..20)
        .map(|i| {
            let verifier = Arc::clone(&verifier);
            let mut claims = better_auth_claims();
            claims["jti"] = i.into();
            let token = stranger.sign(&claims);
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for attempt in attempts {
        assert_eq!(attempt.await.unwrap(), Err(AuthError::UnknownKey));
    }

    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_cached_verification_ends_when_the_token_expires() {
    let mut settings = JwtSettings::new(Some(SECRET.to_vec().into()), None);
    settings.leeway = Duration::ZERO;
    let verifier = JwtVerifier::new(settings).unwrap();
    let token = hs256(&json!({"sub": "alice", "exp": now() + 1}), SECRET);
    verifier.verify(&token).await.unwrap();

    tokio::time::sleep(Duration::from_millis(2100)).await;

    assert_eq!(verifier.verify(&token).await, Err(AuthError::Expired));
}
