//! `Idempotency-Key` on create.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{TestApp, assert_problem};

adapters_postgres::on_both_backends!(
    setup = crate::app;
    a_retry_with_the_same_key_replays_the_first_response,
    the_same_key_with_another_body_is_422,
    keys_are_scoped_per_user,
    a_malformed_key_is_400,
);

async fn post(app: &TestApp, user: &str, key: &str, body: &str) -> reqwest::Response {
    app.request(Method::POST, &format!("/api/{user}/tasks"), Some(user))
        .header("Idempotency-Key", key)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn a_retry_with_the_same_key_replays_the_first_response(app: &TestApp) {
    let body = r#"{"title": "pay rent"}"#;
    let first = post(app, "alice", "rent-2026-11", body).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers()["location"].clone();
    let first_body = first.text().await.unwrap();

    let retry = post(app, "alice", "rent-2026-11", body).await;

    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.headers()["location"], location);
    assert_eq!(retry.headers()["etag"], "\"1\"");
    assert_eq!(retry.text().await.unwrap(), first_body);
    assert_eq!(app.titles("alice", "").await, ["pay rent"]);
}

async fn the_same_key_with_another_body_is_422(app: &TestApp) {
    post(app, "alice", "k", r#"{"title": "one"}"#).await;

    let other = post(app, "alice", "k", r#"{"title": "two"}"#).await;

    let problem = assert_problem(other, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(app.titles("alice", "").await, ["one"]);
}

async fn keys_are_scoped_per_user(app: &TestApp) {
    post(app, "alice", "shared-key", r#"{"title": "alice's"}"#).await;

    let bob = post(app, "bob", "shared-key", r#"{"title": "alice's"}"#).await;

    assert_eq!(bob.status(), 201);
    assert!(bob.headers().get("idempotent-replayed").is_none());
    let task: Value = bob.json().await.unwrap();
    assert_eq!(task["user_id"], "bob");
    assert_eq!(app.titles("bob", "").await, ["alice's"]);
}

async fn a_malformed_key_is_400(app: &TestApp) {
    let response = post(app, "alice", &"k".repeat(256), r#"{"title": "x"}"#).await;
    assert_problem(response, 400, "bad_request").await;
}
