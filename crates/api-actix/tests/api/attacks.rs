//! Hostile tokens at the HTTP layer (OWASP API2, RFC 8725): each is a 401 that names its
//! reason in `error_description`, never a 500, and never echoes the token.

use std::time::Duration;

use adapters_postgres::testing::TestDatabase;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::{SECRET, TestApp, assert_problem, spawn_app, token};

const RSA_PRIVATE: &[u8] = include_bytes!("../../../adapters-jwt/tests/keys/rsa.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("../../../adapters-jwt/tests/keys/rsa.pub.pem");
const ED25519_PRIVATE: &[u8] = include_bytes!("../../../adapters-jwt/tests/keys/ed25519.pem");

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

/// Lists the caller's tasks with `token`.
async fn list_with(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/api/me/tasks", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Sends `token` and checks the 401: its reason, and that neither the token nor a 500 leaks.
async fn assert_refused(app: &TestApp, name: &str, token: &str, reason: &str) {
    let response = list_with(app, token).await;

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
            "a token that is not ASCII",
            format!("{message}.sïgnature"),
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

    let not_utf8 = app
        .client
        .get(format!("{}/api/me/tasks", app.address))
        .header(
            "Authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe.\xfd.\xfc").unwrap(),
        )
        .send()
        .await
        .unwrap();
    let problem = assert_problem(not_utf8, 401, "unauthorized").await;
    assert_eq!(problem["detail"], "the token is malformed");
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

/// Answers every request on a loopback port with `jwks`, as Better Auth's key endpoint would;
/// returns its URL.
async fn serve_jwks(jwks: Value) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/auth/jwks", listener.local_addr().unwrap());
    let body = jwks.to_string();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        }
    });
    url
}

#[tokio::test]
async fn a_token_without_iss_or_aud_is_refused_in_both_modes_when_both_are_configured() {
    const ORIGIN: &str = "http://localhost:3000";
    let eddsa = EncodingKey::from_ed_pem(ED25519_PRIVATE).unwrap();
    let mut jwk = Jwk::from_encoding_key(&eddsa, Algorithm::EdDSA).unwrap();
    jwk.common.key_id = Some("key-1".into());
    let jwks_url = serve_jwks(json!({ "keys": [jwk] })).await;
    let app = spawn_app(
        TestDatabase::sqlite().await,
        &[
            ("BETTER_AUTH_JWKS_URL", &jwks_url),
            ("BETTER_AUTH_ISSUER", ORIGIN),
            ("BETTER_AUTH_AUDIENCE", ORIGIN),
        ],
    )
    .await;
    let mut eddsa_header = Header::new(Algorithm::EdDSA);
    eddsa_header.kid = Some("key-1".into());
    let hs256 = Header::new(Algorithm::HS256);
    let mut full = claims(&json!("alice"));
    full["iss"] = ORIGIN.into();
    full["aud"] = ORIGIN.into();

    for (missing, reason) in [
        ("iss", "the token has no issuer (iss)"),
        ("aud", "the token has no audience (aud)"),
    ] {
        let mut partial = full.clone();
        partial.as_object_mut().unwrap().remove(missing);
        let payload = serde_json::to_vec(&partial).unwrap();
        let name = format!("HS256 without {missing}");
        assert_refused(&app, &name, &with_secret(&hs256, &payload), reason).await;
        let name = format!("EdDSA without {missing}");
        assert_refused(
            &app,
            &name,
            &signed(&eddsa_header, &payload, &eddsa),
            reason,
        )
        .await;
    }
    // The same tokens with both claims pass: what was refused was the missing claim.
    let payload = serde_json::to_vec(&full).unwrap();
    for token in [
        with_secret(&hs256, &payload),
        signed(&eddsa_header, &payload, &eddsa),
    ] {
        assert_eq!(list_with(&app, &token).await.status(), 200);
    }
}
