//! Errors actix raises itself, and body handling, all as problem+json.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, assert_problem, problem_fields};

adapters_postgres::on_both_backends!(
    setup = crate::app;
    unknown_routes_are_404_and_wrong_methods_405_with_allow,
    bodies_over_64_kib_are_413,
    non_json_bodies_are_415,
    malformed_json_is_422,
    a_task_id_that_is_not_a_uuid_is_404,
    a_header_that_must_be_single_given_twice_is_400,
);

async fn unknown_routes_are_404_and_wrong_methods_405_with_allow(app: &TestApp) {
    let missing = app.get("alice", "/api/alice/nothing-here").await;
    assert_problem(missing, 404, "not_found").await;

    let wrong = app
        .request(Method::PUT, "/api/alice/tasks", Some("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.headers()["allow"], "GET, POST, DELETE");
    assert_problem(wrong, 405, "method_not_allowed").await;
    let health = app
        .request(Method::POST, "/health", None)
        .send()
        .await
        .unwrap();
    assert_eq!(health.headers()["allow"], "GET");
}

async fn bodies_over_64_kib_are_413(app: &TestApp) {
    let huge = json!({"title": "t", "description": "x".repeat(70 * 1024)});

    let response = app.create("alice", &huge).await;

    assert_problem(response, 413, "payload_too_large").await;
}

async fn non_json_bodies_are_415(app: &TestApp) {
    let response = app
        .request(Method::POST, "/api/alice/tasks", Some("alice"))
        .header("Content-Type", "text/plain")
        .body("title=milk")
        .send()
        .await
        .unwrap();

    assert_problem(response, 415, "unsupported_media_type").await;
}

async fn malformed_json_is_422(app: &TestApp) {
    let send = |body: &'static [u8]| {
        app.request(Method::POST, "/api/alice/tasks", Some("alice"))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };

    assert_eq!(
        problem_fields(send(b"{\"title\": ").await.unwrap()).await,
        ["title"]
    );
    assert_eq!(
        problem_fields(send(b"{\"title\": 5}").await.unwrap()).await,
        ["title"]
    );
    assert_eq!(
        problem_fields(send(b"{\"title\": \"a\", \"tags\": [1]}").await.unwrap()).await,
        ["tags[0]"]
    );
    assert_eq!(
        problem_fields(
            send(b"{\"title\": \"a\", \"colour\": \"red\"}")
                .await
                .unwrap()
        )
        .await,
        ["colour"]
    );
    assert_eq!(
        problem_fields(send(b"{\"title\": \"a\", \"title\": \"b\"}").await.unwrap()).await,
        ["body"]
    );
    assert_eq!(
        problem_fields(send(b"{\"title\": \"\xff\xfe\"}").await.unwrap()).await,
        ["title"]
    );
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep = app
        .request(Method::POST, "/api/alice/tasks", Some("alice"))
        .header("Content-Type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_eq!(deep.status(), 422);
    assert_eq!(
        app.titles("alice", "").await.len(),
        0,
        "nothing was created"
    );
}

async fn a_task_id_that_is_not_a_uuid_is_404(app: &TestApp) {
    let response = app.get("alice", "/api/alice/tasks/42").await;
    assert_problem(response, 404, "not_found").await;
}

/// A request of a header test: its name, method, path and headers.
type HeaderCase<'a> = (&'a str, Method, &'a str, Vec<(&'a str, &'a str)>);

/// RFC 9110 allows these once; a proxy that reads the other copy would see another request.
async fn a_header_that_must_be_single_given_twice_is_400(app: &TestApp) {
    let task = app.create_ok("alice", &json!({"title": "t"})).await;
    let path = format!("/api/alice/tasks/{}", task["id"].as_str().unwrap());
    let token = crate::helpers::token("alice");
    let bearer = format!("Bearer {token}");
    let cookie = format!("access_token={token}");
    let cookies = format!("access_token={token}; access_token=x");
    let send = |method: Method, path: &str, headers: &[(&str, &str)]| {
        let mut request = app.client.request(method, format!("{}{path}", app.address));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.json(&json!({"title": "u"})).send()
    };

    let cases: [HeaderCase<'_>; 6] = [
        (
            "a valid token, then garbage",
            Method::GET,
            "/api/me/tasks",
            vec![
                ("Authorization", &bearer),
                ("Authorization", "Bearer garbage"),
            ],
        ),
        (
            "garbage, then a valid token",
            Method::GET,
            "/api/me/tasks",
            vec![
                ("Authorization", "Bearer garbage"),
                ("Authorization", &bearer),
            ],
        ),
        (
            "the token cookie in two Cookie headers",
            Method::GET,
            "/api/me/tasks",
            vec![("Cookie", &cookie), ("Cookie", "access_token=x")],
        ),
        (
            "the token cookie twice in one header",
            Method::GET,
            "/api/me/tasks",
            vec![("Cookie", &cookies)],
        ),
        (
            "Idempotency-Key twice",
            Method::POST,
            "/api/alice/tasks",
            vec![
                ("Authorization", &bearer),
                ("Idempotency-Key", "a"),
                ("Idempotency-Key", "b"),
            ],
        ),
        (
            "If-Match twice",
            Method::PATCH,
            &path,
            vec![
                ("Authorization", &bearer),
                ("If-Match", "\"1\""),
                ("If-Match", "\"1\""),
            ],
        ),
    ];
    for (name, method, path, headers) in cases {
        let response = send(method, path, &headers).await.unwrap();
        let problem = assert_problem(response, 400, "bad_request").await;
        assert!(!problem.to_string().contains(&token), "{name}");
    }
    let unchanged = app.get("alice", &path).await;
    assert_eq!(
        unchanged.json::<serde_json::Value>().await.unwrap()["title"],
        "t"
    );
}
