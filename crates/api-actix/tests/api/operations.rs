//! Probes, documentation, request ids, CORS, rate limits, outages, the `token` command.

use std::time::{Duration, Instant};

use adapters_postgres::testing::TestDatabase;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, assert_problem, spawn_app};

adapters_postgres::on_both_backends!(
    setup = crate::app;
    health_and_ready_answer_without_a_token,
    the_openapi_document_and_docs_page_are_served,
    a_sane_request_id_is_echoed_and_others_replaced,
    cors_allows_the_configured_origin_and_refuses_others,
);

async fn health_and_ready_answer_without_a_token(app: &TestApp) {
    let health = app.get_anonymous("/health").await;
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
    let ready = app.get_anonymous("/ready").await;
    assert_eq!(ready.status(), 200);
}

async fn the_openapi_document_and_docs_page_are_served(app: &TestApp) {
    let spec: Value = app
        .get_anonymous("/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/{user_id}/tasks",
        "/api/{user_id}/tasks/{id}",
        "/api/{user_id}/tasks/{id}/complete",
        "/api/{user_id}/tasks/stats",
        "/api/me",
        "/health",
        "/ready",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} is documented");
    }
    let task = &spec["components"]["schemas"]["Task"]["properties"];
    for field in [
        "id",
        "user_id",
        "title",
        "description",
        "completed",
        "completed_at",
        "priority",
        "tags",
        "due_date",
        "created_at",
        "updated_at",
    ] {
        assert!(task[field].is_object(), "Task.{field} is documented");
    }
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let mut seen = std::collections::HashSet::new();
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let key = (parameter["name"].to_string(), parameter["in"].to_string());
                assert!(seen.insert(key), "{method} {path} lists a parameter twice");
            }
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status} is documented as problem+json"
                    );
                }
            }
        }
    }

    let docs = app.get_anonymous("/docs").await;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let script = app.get_anonymous("/docs/swagger-initializer.js").await;
    assert!(script.text().await.unwrap().contains("/openapi.json"));
}

async fn a_sane_request_id_is_echoed_and_others_replaced(app: &TestApp) {
    let echoed = app
        .request(Method::GET, "/api/alice/tasks/not-a-task", Some("alice"))
        .header("X-Request-Id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-123");
    let problem: Value = echoed.json().await.unwrap();
    assert_eq!(problem["request_id"], "trace-123");

    let replaced = app
        .request(Method::GET, "/health", None)
        .header("X-Request-Id", "evil\tinjected line")
        .send()
        .await
        .unwrap();
    let id = replaced.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 32, "{id}");
    assert_eq!(uuid::Uuid::try_parse(id).unwrap().get_version_num(), 7);
}

async fn cors_allows_the_configured_origin_and_refuses_others(app: &TestApp) {
    let preflight = |origin: &'static str| {
        app.request(Method::OPTIONS, "/api/alice/tasks", None)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type, idempotency-key",
            )
            .send()
    };

    let allowed = preflight("http://localhost:3000").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    assert!(allowed.headers().contains_key("access-control-max-age"));

    let refused = preflight("http://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert_problem(refused, 400, "bad_request").await;

    let actual = app
        .request(Method::GET, "/api/alice/tasks", Some("alice"))
        .header("Origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    let exposed = actual.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in [
        "etag",
        "location",
        "link",
        "x-total-count",
        "x-request-id",
        "retry-after",
        "idempotent-replayed",
    ] {
        assert!(exposed.contains(header), "{header} is exposed");
    }
}

#[tokio::test]
async fn a_caller_over_the_rate_limit_gets_429_with_retry_after() {
    let db = TestDatabase::sqlite().await;
    let app = spawn_app(db, &[("RATE_LIMIT_RPS", "1"), ("RATE_LIMIT_BURST", "3")]).await;

    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..4 {
        let response = app.get("alice", "/api/alice/tasks").await;
        statuses.push(response.status().as_u16());
        last = Some(response);
    }

    assert_eq!(statuses, [200, 200, 200, 429]);
    let limited = last.unwrap();
    assert_eq!(limited.headers()["ratelimit-limit"], "3");
    assert_eq!(limited.headers()["ratelimit-remaining"], "0");
    assert_eq!(limited.headers()["retry-after"], "1");
    assert_problem(limited, 429, "rate_limited").await;
    let bob = app.get("bob", "/api/bob/tasks").await;
    assert_eq!(bob.status(), 200, "another user has a budget of their own");
    assert_eq!(bob.headers()["ratelimit-remaining"], "2");
}

#[tokio::test]
async fn an_unreachable_database_answers_503_quickly_and_health_stays_up() {
    let db = TestDatabase::sqlite().await;
    let app = spawn_app(
        db,
        &[
            ("DATABASE_URL", "postgres://postgres@127.0.0.1:9/nothing"),
            ("RUN_MIGRATIONS", "false"),
            ("DB_ACQUIRE_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    let started = Instant::now();

    let create = app.create("alice", &json!({"title": "t"})).await;
    assert_eq!(create.headers()["retry-after"], "5");
    assert_problem(create, 503, "service_unavailable").await;
    let ready = app.get_anonymous("/ready").await;
    assert_problem(ready, 503, "service_unavailable").await;
    let health = app.get_anonymous("/health").await;
    assert_eq!(health.status(), 200);

    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_token_printed_by_the_cli_is_accepted_by_the_server() {
    let app = spawn_app(TestDatabase::sqlite().await, &[]).await;
    let dir = std::env::temp_dir().join(format!("todo-cli-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_todo-api"))
        .args(["token", "--sub", "erin", "--email", "erin@example.com"])
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("RUST_LOG", "error")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap();

    let me: Value = app
        .client
        .get(format!("{}/api/me", app.address))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], "erin");
    assert_eq!(me["email"], "erin@example.com");
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_and_name_no_user_or_task() {
    let app = spawn_app(
        TestDatabase::sqlite().await,
        &[("METRICS_ADDR", "127.0.0.1:0")],
    )
    .await;
    let user = "metrics-user-7f3a";
    app.create_ok(user, &json!({"title": "A title only the database knows"}))
        .await;
    assert_eq!(
        app.get(user, &format!("/api/{user}/tasks")).await.status(),
        200
    );

    let metrics_url = format!("{}/metrics", app.metrics_address.as_ref().unwrap());
    let response = app.client.get(&metrics_url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();

    for expected in [
        r#"http_requests_total{method="POST",route="/api/{user_id}/tasks",status="201"}"#,
        r#"http_requests_total{method="GET",route="/api/{user_id}/tasks",status="200"}"#,
        r#"http_request_duration_seconds_bucket{method="GET",route="/api/{user_id}/tasks",le="0.005"}"#,
        r#"db_pool_connections{state="idle"}"#,
        r#"db_pool_connections{state="in_use"}"#,
        "event_streams_open ",
        "events_delivered_total ",
        "reminders_fired_total ",
    ] {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
    assert!(!text.contains(user) && !text.contains("only the database knows"));

    // A reminder fired is counted (by any app of this test process: the recorder is global).
    app.create_ok(
        user,
        &json!({"title": "remind me", "remind_at": "2026-01-01T00:00:00Z"}),
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let text = app
            .client
            .get(&metrics_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let fired: u64 = text
            .lines()
            .find_map(|line| line.strip_prefix("reminders_fired_total "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        if fired >= 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no reminder counted:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // The API's own port does not serve them.
    let on_api = app.get_anonymous("/metrics").await;
    assert_eq!(on_api.status(), 404);
}
