//! Every way a token is refused, each with its reason.

use adapters_jwt::JwtVerifier;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::auth::{AuthError, TokenVerifier};
use serde_json::{Value, json};

use crate::keyserver::KeyServer;
use crate::{SECRET, TestKey, better_auth_claims, hs256, jwks_settings, now, secret_verifier};

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A token with the given header and claims and a meaningless signature.
fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.{}",
        b64(header),
        b64(claims),
        URL_SAFE_NO_PAD.encode("sig")
    )
}

fn jwks_verifier() -> (KeyServer, JwtVerifier) {
    let server = KeyServer::start(vec![TestKey::eddsa().jwk(), TestKey::rs256().jwk()]);
    let verifier = JwtVerifier::new(jwks_settings(&server.url)).unwrap();
    (server, verifier)
}

async fn refused(verifier: &JwtVerifier, token: &str) -> AuthError {
    verifier
        .verify(token)
        .await
        .expect_err("the token must be refused")
}

#[tokio::test]
async fn a_tampered_payload_fails_the_signature() {
    let (_server, verifier) = jwks_verifier();
    let token = TestKey::eddsa().sign(&better_auth_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = better_auth_claims();
    claims["sub"] = "mallory".into();
    let forged = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);

    assert_eq!(refused(&verifier, &forged).await, AuthError::BadSignature);
}

#[tokio::test]
async fn a_tampered_or_stripped_signature_is_refused() {
    let (_server, verifier) = jwks_verifier();
    let token = TestKey::eddsa().sign(&better_auth_claims());
    let (message, signature) = token.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };

    let tampered = format!("{message}.{flipped}{}", &signature[1..]);
    assert_eq!(refused(&verifier, &tampered).await, AuthError::BadSignature);
    assert!(verifier.verify(&format!("{message}.")).await.is_err());
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_refused_beyond_the_leeway() {
    let verifier = secret_verifier();
    let token = |claims: Value| hs256(&claims, SECRET);

    assert_eq!(
        refused(&verifier, &token(json!({"sub": "a", "exp": now() - 120}))).await,
        AuthError::Expired
    );
    verifier
        .verify(&token(json!({"sub": "a", "exp": now() - 30})))
        .await
        .unwrap();
    assert_eq!(
        refused(
            &verifier,
            &token(json!({"sub": "a", "exp": now() + 600, "nbf": now() + 300}))
        )
        .await,
        AuthError::NotYetValid
    );
    assert_eq!(
        refused(
            &verifier,
            &token(json!({"sub": "a", "exp": now() + 600, "iat": now() + 300}))
        )
        .await,
        AuthError::NotYetValid
    );
    assert_eq!(
        refused(&verifier, &token(json!({"sub": "a"}))).await,
        AuthError::MissingExpiry
    );
}

#[tokio::test]
async fn wrong_issuer_or_audience_is_refused_and_an_audience_list_is_accepted() {
    let (_server, verifier) = jwks_verifier();
    let key = TestKey::eddsa();
    let with = |name: &str, value: Value| {
        let mut claims = better_auth_claims();
        claims[name] = value;
        key.sign(&claims)
    };

    assert_eq!(
        refused(&verifier, &with("iss", "https://evil.example".into())).await,
        AuthError::WrongIssuer
    );
    assert_eq!(
        refused(&verifier, &with("aud", "https://other.example".into())).await,
        AuthError::WrongAudience
    );
    verifier
        .verify(&with(
            "aud",
            json!(["https://other.example", crate::ORIGIN]),
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_token_without_iss_or_aud_is_refused_when_both_are_configured() {
    let (_server, verifier) = jwks_verifier();
    let mut secret_settings = jwks_settings("http://127.0.0.1:9/unused");
    secret_settings.jwks_url = None;
    secret_settings.secret = Some(SECRET.to_vec().into());
    let secret_verifier = JwtVerifier::new(secret_settings).unwrap();
    let key = TestKey::eddsa();
    let without = |name: &str| {
        let mut claims = better_auth_claims();
        claims.as_object_mut().unwrap().remove(name);
        claims
    };

    for (name, reason) in [
        ("iss", AuthError::MissingIssuer),
        ("aud", AuthError::MissingAudience),
    ] {
        assert_eq!(refused(&verifier, &key.sign(&without(name))).await, reason);
        assert_eq!(
            refused(&secret_verifier, &hs256(&without(name), SECRET)).await,
            reason
        );
    }
}

#[tokio::test]
async fn alg_none_is_refused() {
    let (_server, verifier) = jwks_verifier();
    let token = format!(
        "{}.{}.",
        b64(&json!({"alg": "none"})),
        b64(&better_auth_claims())
    );

    assert_eq!(
        refused(&verifier, &token).await,
        AuthError::AlgorithmNotAllowed
    );
    assert_eq!(
        refused(&secret_verifier(), &token).await,
        AuthError::AlgorithmNotAllowed
    );
}

#[tokio::test]
async fn hs256_keyed_with_the_public_key_is_refused() {
    let public_pem = include_bytes!("../keys/rsa.pub.pem");
    let (server, verifier) = jwks_verifier();
    let mut forged_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    forged_header.kid = Some("rsa-rs256".into());
    let forged = jsonwebtoken::encode(
        &forged_header,
        &better_auth_claims(),
        &jsonwebtoken::EncodingKey::from_secret(public_pem),
    )
    .unwrap();

    assert_eq!(
        refused(&verifier, &forged).await,
        AuthError::AlgorithmNotAllowed
    );
    let mut both = jwks_settings(&server.url);
    both.secret = Some(SECRET.to_vec().into());
    let both = JwtVerifier::new(both).unwrap();
    assert_eq!(refused(&both, &forged).await, AuthError::BadSignature);
}

#[tokio::test]
async fn an_asymmetric_token_is_never_checked_against_the_secret() {
    let token = TestKey::eddsa().sign(&better_auth_claims());

    assert_eq!(
        refused(&secret_verifier(), &token).await,
        AuthError::AlgorithmNotAllowed
    );
}

#[tokio::test]
async fn a_header_algorithm_other_than_the_keys_is_refused() {
    let (_server, verifier) = jwks_verifier();
    let eddsa_kid = TestKey::eddsa().kid;
    let token = unsigned(
        &json!({"alg": "RS256", "kid": eddsa_kid}),
        &better_auth_claims(),
    );

    assert_eq!(
        refused(&verifier, &token).await,
        AuthError::AlgorithmNotAllowed
    );
}

#[tokio::test]
async fn es512_is_refused_as_unsupported() {
    let (_server, verifier) = jwks_verifier();
    let token = unsigned(
        &json!({"alg": "ES512", "kid": "any"}),
        &better_auth_claims(),
    );

    let reason = refused(&verifier, &token).await;

    assert_eq!(reason, AuthError::UnsupportedAlgorithm);
    assert!(reason.to_string().contains("not supported"));
}

#[tokio::test]
async fn a_kid_full_of_path_and_sql_characters_is_just_an_unknown_key() {
    let (_server, verifier) = jwks_verifier();
    let header = json!({"alg": "EdDSA", "kid": "../../../etc/passwd' OR '1'='1; --\\0"});

    assert_eq!(
        refused(&verifier, &unsigned(&header, &better_auth_claims())).await,
        AuthError::UnknownKey
    );
}

#[tokio::test]
async fn jku_and_x5u_headers_are_ignored() {
    let (server, verifier) = jwks_verifier();
    let key = TestKey::eddsa();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some("attacker-kid".into());
    header.jku = Some("http://127.0.0.1:9/evil-jwks".into());
    header.x5u = Some("http://127.0.0.1:9/evil-cert".into());
    let token = jsonwebtoken::encode(&header, &better_auth_claims(), &key.encoding).unwrap();

    assert_eq!(refused(&verifier, &token).await, AuthError::UnknownKey);
    assert_eq!(server.hits(), 1, "only the configured key set was fetched");
}

/// Signed by a key the server serves and valid but for its size: refused as malformed, and
/// before its key was looked up (nothing of it parsed).
#[tokio::test]
async fn a_100_kb_token_is_refused_before_any_parsing() {
    let (server, verifier) = jwks_verifier();
    let mut claims = better_auth_claims();
    claims["padding"] = "x".repeat(100 * 1024).into();
    let token = TestKey::eddsa().sign(&claims);

    assert_eq!(refused(&verifier, &token).await, AuthError::Malformed);
    assert_eq!(server.hits(), 0, "the key set was fetched for it");
}

#[tokio::test]
async fn malformed_tokens_and_payloads_are_refused() {
    let verifier = secret_verifier();
    for token in ["", "abc", "a.b", "a.b.c.d", "!!.??.##"] {
        assert!(verifier.verify(token).await.is_err(), "{token:?}");
    }
    // Validly signed, so that the payload itself is what gets judged.
    let message = format!(
        "{}.{}",
        b64(&json!({"alg": "HS256"})),
        URL_SAFE_NO_PAD.encode("not json")
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    let not_json = format!("{message}.{signature}");
    assert_eq!(refused(&verifier, &not_json).await, AuthError::Malformed);
    let unsigned_not_json = format!("{message}.c2ln");
    assert_eq!(
        refused(&verifier, &unsigned_not_json).await,
        AuthError::BadSignature
    );
}

#[tokio::test]
async fn numeric_or_empty_subjects_are_refused() {
    let verifier = secret_verifier();
    for sub in [json!(12345), json!(""), json!(null)] {
        let token = hs256(&json!({"sub": sub, "exp": now() + 60}), SECRET);
        assert_eq!(
            refused(&verifier, &token).await,
            AuthError::NoSubject,
            "{sub}"
        );
    }
}

#[tokio::test]
async fn no_refusal_reason_contains_the_token() {
    let verifier = secret_verifier();
    let token = hs256(&json!({"sub": "a", "exp": now() - 999}), SECRET);

    let reason = refused(&verifier, &token).await.to_string();

    assert!(!reason.contains(&token) && !reason.contains(token.split('.').nth(1).unwrap()));
}
