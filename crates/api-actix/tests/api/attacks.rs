//! Hostile tokens at the HTTP layer (OWASP API2, RFC 8725): each is a 401 that names its
//! reason in `error_description`, never a 500, and never echoes the token.

use std::time::Duration;

use adapters_postgres::testing::TestDatabase;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::helpers::{SECRET, TestApp, assert_problem, spawn_app, token};

const RSA_PRIVATE: &[u8] = include_bytes!("../../../adapters-jwt/tests/keys/rsa.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("../../../adapters-jwt/tests/keys/rsa.pub.pem");

fn claims(sub: &Value) -> Value {
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 600;
    json!({"sub": sub, "exp": exp, "email": "mallory@example.com"})
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token of this header and payload, signed with `key` under `header.alg`.
fn signed(header: &Header, payload: &[u8], key: &EncodingKey) -> String {
    let message = format!(
        "{}.{}",
        b64(serde_json::to_vec(header).unwrap()),
        b64(payload)
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, header.alg).unwrap();
    format!("{message}.{signature}")
}

fn with_secret(header: &Header, payload: &[u8]) -> String {
    signed(
        header,
        payload,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
}

/// Sends `token` and checks the 401: its reason, and that neither the token nor a 500 leaks.
async fn assert_refused(app: &TestApp, name: &str, token: &str, reason: &str) {
    let response = app
        .client
        .get(format!("{}/api/me/tasks", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 401, "{name}");
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(&format!("error_description=\"{reason}\"")),
        "{name}: {challenge}"
    );
    let problem = assert_problem(response, 401, "unauthorized").await;
    assert_eq!(problem["detail"], reason, "{name}");
    assert!(!problem.to_string().contains(token), "{name}");
}

#[tokio::test]
async fn every_hostile_token_is_a_401_with_its_reason() {
    let app = spawn_app(TestDatabase::sqlite().await, &[]).await;
    let hs256 = Header::new(Algorithm::HS256);
    let valid = token("mallory");
    let (message, _) = valid.rsplit_once('.').unwrap();
    let payload = serde_json::to_vec(&claims(&json!("alice"))).unwrap();
    let mut long_claims = claims(&json!("alice"));
    long_claims["padding"] = "x".repeat(100 * 1024).into();
    let mut odd_kid = Header::new(Algorithm::EdDSA);
    odd_kid.kid = Some("../../etc/passwd' OR '1'='1; --".into());

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(r#"{"alg":"none","typ":"JWT"}"#),
                b64(&payload)
            ),
            "the token's algorithm is not allowed",
        ),
        (
            "stripped signature",
            format!("{message}."),
            "the token's signature is invalid",
        ),
        (
            "HS256 keyed with the RSA public key",
            signed(&hs256, &payload, &EncodingKey::from_secret(RSA_PUBLIC)),
            "the token's signature is invalid",
        ),
        (
            "RS256 where only the shared secret is configured",
            signed(
                &Header::new(Algorithm::RS256),
                &payload,
                &EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
            ),
            "the token's algorithm is not allowed",
        ),
        (
            "a kid of path and SQL characters",
            format!(
                "{}.{}.c2ln",
                b64(serde_json::to_vec(&odd_kid).unwrap()),
                b64(&payload)
            ),
            "the token's algorithm is not allowed",
        ),
        (
            "a 100 KB token",
            with_secret(&hs256, &serde_json::to_vec(&long_claims).unwrap()),
            "the token is malformed",
        ),
        (
            "a payload that is not JSON",
            with_secret(&hs256, b"not json"),
            "the token is malformed",
        ),
        (
            "a numeric sub",
            with_secret(&hs256, &serde_json::to_vec(&claims(&json!(12345))).unwrap()),
            "the token has no usable subject",
        ),
        (
            "an empty sub",
            with_secret(&hs256, &serde_json::to_vec(&claims(&json!(""))).unwrap()),
            "the token has no usable subject",
        ),
    ];
    for (name, token, reason) in &cases {
        assert_refused(&app, name, token, reason).await;
    }
}

#[tokio::test]
async fn jku_and_x5u_headers_send_the_server_nowhere() {
    let app = spawn_app(TestDatabase::sqlite().await, &[]).await;
    let elsewhere = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", elsewhere.local_addr().unwrap());
    let mut header = Header::new(Algorithm::HS256);
    header.jku = Some(url.clone());
    header.x5u = Some(url);
    let payload = serde_json::to_vec(&claims(&json!("mallory"))).unwrap();
    let forged = signed(
        &header,
        &payload,
        &EncodingKey::from_secret(b"the attacker's own secret, long enough"),
    );

    assert_refused(&app, "jku", &forged, "the token's signature is invalid").await;
    let contacted = tokio::time::timeout(Duration::from_millis(200), elsewhere.accept()).await;
    assert!(contacted.is_err(), "the server fetched the header's URL");
}
