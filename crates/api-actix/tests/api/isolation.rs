//! Two users: nothing of one reaches the other, on any route.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, assert_problem};

adapters_postgres::on_both_backends!(setup = crate::app; every_route_keeps_users_apart);

async fn every_route_keeps_users_apart(app: &TestApp) {
    let secret = "alice's secret plans";
    let task = app
        .create_ok(
            "alice",
            &json!({"title": secret, "tags": ["private"], "completed": true}),
        )
        .await;
    let id = task["id"].as_str().unwrap();

    // Bob naming Alice in the path: 403 on every task route.
    for (method, path) in [
        (Method::GET, "/api/alice/tasks".to_owned()),
        (Method::POST, "/api/alice/tasks".to_owned()),
        (
            Method::DELETE,
            "/api/alice/tasks?status=completed".to_owned(),
        ),
        (Method::GET, "/api/alice/tasks/stats".to_owned()),
        (Method::GET, format!("/api/alice/tasks/{id}")),
        (Method::PUT, format!("/api/alice/tasks/{id}")),
        (Method::PATCH, format!("/api/alice/tasks/{id}")),
        (Method::DELETE, format!("/api/alice/tasks/{id}")),
        (Method::PATCH, format!("/api/alice/tasks/{id}/complete")),
    ] {
        let response = app
            .request(method.clone(), &path, Some("bob"))
            .json(&json!({"title": "mine"}))
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 403, "forbidden").await;
        assert!(!problem.to_string().contains(secret), "{method} {path}");
    }

    // Bob naming himself with Alice's task id: 404, exactly like a task that does not exist.
    let rename = json!({"title": "mine"});
    for (method, path, body) in [
        (Method::GET, format!("/api/bob/tasks/{id}"), None),
        (Method::PUT, format!("/api/me/tasks/{id}"), Some(&rename)),
        (Method::PATCH, format!("/api/bob/tasks/{id}"), Some(&rename)),
        (Method::DELETE, format!("/api/bob/tasks/{id}"), None),
        (
            Method::PATCH,
            format!("/api/me/tasks/{id}/complete"),
            Some(&json!({"completed": false})),
        ),
    ] {
        let request = app
            .request(method.clone(), &path, Some("bob"))
            .header("If-Match", "*");
        let request = match body {
            Some(body) => request.json(body),
            None => request,
        };
        let response = request.send().await.unwrap();
        let problem = assert_problem(response, 404, "not_found").await;
        assert_eq!(problem["detail"], "no such task", "{method} {path}");
    }

    // Bob's own views show nothing of Alice's, whatever the query.
    let listing = app
        .get(
            "bob",
            "/api/bob/tasks?status=completed&tag=private&q=secret",
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(listing, "[]");
    let stats = app
        .get("bob", "/api/me/tasks/stats")
        .await
        .text()
        .await
        .unwrap();
    assert!(stats.contains("\"total\":0"));
    let cleared = app
        .request(
            Method::DELETE,
            "/api/bob/tasks?status=completed",
            Some("bob"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(cleared, r#"{"deleted":0}"#);

    // And Alice's task is untouched.
    let alice: serde_json::Value = app
        .get("alice", &format!("/api/alice/tasks/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alice, task);
}
