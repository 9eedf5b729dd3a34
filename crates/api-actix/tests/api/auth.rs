//! Authentication: header, cookie, refusals, `me`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, token};

adapters_postgres::on_both_backends!(
    setup = crate::app;
    no_token_is_401_with_a_bearer_challenge,
    a_refused_token_says_why_without_echoing_it,
    the_access_token_cookie_is_read_when_there_is_no_header,
    api_me_returns_the_user_and_me_works_in_paths,
);

async fn no_token_is_401_with_a_bearer_challenge(app: &TestApp) {
    let response = app.get_anonymous("/api/me/tasks").await;

    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"todo\""
    );
    assert_problem(response, 401, "unauthorized").await;
}

async fn a_refused_token_says_why_without_echoing_it(app: &TestApp) {
    let forged = adapters_jwt::sign_hs256(
        b"not-the-servers-secret-but-long-enough-anyway",
        &adapters_jwt::DevTokenRequest {
            subject: "alice",
            email: None,
            ttl: std::time::Duration::from_mins(1),
            issuer: None,
            audience: None,
        },
    );

    let response = app
        .client
        .get(format!("{}/api/alice/tasks", app.address))
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();

    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        challenge,
        "Bearer realm=\"todo\", error=\"invalid_token\", error_description=\"the token's signature is invalid\""
    );
    let problem = assert_problem(response, 401, "unauthorized").await;
    assert!(!problem.to_string().contains(&forged));
    let basic = app
        .client
        .get(format!("{}/api/alice/tasks", app.address))
        .header("Authorization", "Basic YWxpY2U6cHc=")
        .send()
        .await
        .unwrap();
    assert_problem(basic, 401, "unauthorized").await;
}

async fn the_access_token_cookie_is_read_when_there_is_no_header(app: &TestApp) {
    let response = app
        .client
        .get(format!("{}/api/me", app.address))
        .header(
            "Cookie",
            format!("theme=dark; access_token={}", token("carol")),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["id"], "carol");
}

async fn api_me_returns_the_user_and_me_works_in_paths(app: &TestApp) {
    let me: Value = app.get("dave", "/api/me").await.json().await.unwrap();
    assert_eq!(me["id"], "dave");
    assert_eq!(me["email"], "someone@example.com");
    assert_eq!(me["name"], Value::Null);
    assert!(me["created_at"].is_string());

    let created = app
        .request(Method::POST, "/api/me/tasks", Some("dave"))
        .json(&json!({"title": "via me"}))
        .send()
        .await
        .unwrap();
    assert!(
        created.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/api/dave/tasks/")
    );
    assert_eq!(app.titles("dave", "").await, ["via me"]);
}
