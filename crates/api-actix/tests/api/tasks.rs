//! Single-task routes: create, get, update, complete, delete.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, problem_fields};

adapters_postgres::on_both_backends!(
    setup = crate::app;
    create_returns_201_with_location_etag_and_the_normalised_task,
    create_reports_every_broken_rule,
    get_returns_the_task_with_its_etag_and_304_when_unchanged,
    update_sets_given_fields_clears_nulls_and_keeps_the_rest,
    put_and_patch_behave_the_same,
    a_stale_if_match_is_412_and_changes_nothing,
    complete_toggles_without_a_body_and_sets_with_one,
    delete_returns_204_then_the_task_is_gone,
    sql_and_html_in_fields_come_back_verbatim,
);

async fn create_returns_201_with_location_etag_and_the_normalised_task(app: &TestApp) {
    let response = app
        .create(
            "alice",
            &json!({"title": "  Buy milk  ", "description": "", "tags": ["Home", "home", " errand "],
                    "priority": "high", "due_date": "2026-12-01T10:00:00+02:00"}),
        )
        .await;

    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let task: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/alice/tasks/{}", task["id"].as_str().unwrap())
    );
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["description"], Value::Null);
    assert_eq!(task["tags"], json!(["Home", "errand"]));
    assert_eq!(task["priority"], "high");
    assert_eq!(task["due_date"], "2026-12-01T08:00:00.000Z");
    assert_eq!(task["completed"], false);
    assert_eq!(task["completed_at"], Value::Null);
    assert_eq!(task["user_id"], "alice");
    let created = task["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");
    let id = uuid::Uuid::parse_str(task["id"].as_str().unwrap()).unwrap();
    assert_eq!(id.get_version_num(), 7);
}

async fn create_reports_every_broken_rule(app: &TestApp) {
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let response = app
        .create(
            "alice",
            &json!({"title": "x".repeat(201), "priority": "urgent", "tags": eleven,
                    "description": "d".repeat(1001), "due_date": "tomorrow"}),
        )
        .await;

    assert_eq!(
        problem_fields(response).await,
        ["title", "description", "priority", "tags", "due_date"]
    );
    let emoji = app
        .create("alice", &json!({"title": "😀".repeat(200)}))
        .await;
    assert_eq!(emoji.status(), 201);
    let bell = app.create("alice", &json!({"title": "ring\u{7}"})).await;
    assert_eq!(problem_fields(bell).await, ["title"]);
    let missing = app
        .create("alice", &json!({"description": "no title"}))
        .await;
    assert_eq!(problem_fields(missing).await, ["title"]);
}

async fn get_returns_the_task_with_its_etag_and_304_when_unchanged(app: &TestApp) {
    let task = app.create_ok("alice", &json!({"title": "read me"})).await;
    let path = format!("/api/alice/tasks/{}", task["id"].as_str().unwrap());

    let response = app.get("alice", &path).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"1\"");
    assert_eq!(response.json::<Value>().await.unwrap(), task);

    let cached = app
        .request(Method::GET, &path, Some("alice"))
        .header("If-None-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    assert_eq!(cached.headers()["etag"], "\"1\"");
    let changed = app
        .request(Method::GET, &path, Some("alice"))
        .header("If-None-Match", "\"0\"")
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
}

async fn update(app: &TestApp, method: Method, path: &str, body: &Value) -> reqwest::Response {
    app.request(method, path, Some("alice"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn update_sets_given_fields_clears_nulls_and_keeps_the_rest(app: &TestApp) {
    let task = app
        .create_ok("alice", &json!({"title": "t", "description": "keep?", "due_date": "2026-12-01T00:00:00Z", "tags": ["a"]}))
        .await;
    let path = format!("/api/alice/tasks/{}", task["id"].as_str().unwrap());

    let response = update(
        app,
        Method::PATCH,
        &path,
        &json!({"title": "renamed", "due_date": null, "completed": true}),
    )
    .await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["title"], "renamed");
    assert_eq!(updated["due_date"], Value::Null);
    assert_eq!(updated["description"], "keep?");
    assert_eq!(updated["tags"], json!(["a"]));
    assert!(updated["completed_at"].is_string());
    assert_eq!(updated["created_at"], task["created_at"]);

    let nulls = update(
        app,
        Method::PATCH,
        &path,
        &json!({"title": null, "priority": null}),
    )
    .await;
    assert_eq!(problem_fields(nulls).await, ["title", "priority"]);
    let read_only = update(
        app,
        Method::PATCH,
        &path,
        &json!({"created_at": "2020-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(problem_fields(read_only).await, ["created_at"]);
}

async fn put_and_patch_behave_the_same(app: &TestApp) {
    let task = app.create_ok("alice", &json!({"title": "t"})).await;
    let path = format!("/api/alice/tasks/{}", task["id"].as_str().unwrap());

    let put: Value = update(app, Method::PUT, &path, &json!({"priority": "low"}))
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(put["priority"], "low");
    assert_eq!(put["title"], "t");
}

async fn a_stale_if_match_is_412_and_changes_nothing(app: &TestApp) {
    let task = app.create_ok("alice", &json!({"title": "original"})).await;
    let path = format!("/api/alice/tasks/{}", task["id"].as_str().unwrap());
    let with_if_match = |method: Method, tag: &'static str| {
        app.request(method, &path, Some("alice"))
            .header("If-Match", tag)
    };

    let stale = with_if_match(Method::PATCH, "\"9\"")
        .json(&json!({"title": "lost"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412, "precondition_failed").await;
    let stale_delete = with_if_match(Method::DELETE, "\"9\"").send().await.unwrap();
    assert_problem(stale_delete, 412, "precondition_failed").await;
    let malformed = with_if_match(Method::PATCH, "9")
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(malformed, 400, "bad_request").await;
    let current: Value = app.get("alice", &path).await.json().await.unwrap();
    assert_eq!(current["title"], "original");

    let fresh = with_if_match(Method::PATCH, "\"1\"")
        .json(&json!({"title": "won"}))
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    let delete = with_if_match(Method::DELETE, "\"2\"").send().await.unwrap();
    assert_eq!(delete.status(), 204);
}

async fn complete_toggles_without_a_body_and_sets_with_one(app: &TestApp) {
    let task = app.create_ok("alice", &json!({"title": "t"})).await;
    let path = format!("/api/alice/tasks/{}/complete", task["id"].as_str().unwrap());
    let complete = |body: Option<Value>| {
        let request = app.request(Method::PATCH, &path, Some("alice"));
        async move {
            let response = match body {
                Some(body) => request.json(&body).send().await.unwrap(),
                None => request.send().await.unwrap(),
            };
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };

    let done = complete(None).await;
    assert_eq!(done["completed"], true);
    assert!(done["completed_at"].is_string());
    let still_done = complete(Some(json!({"completed": true}))).await;
    assert_eq!(still_done["completed_at"], done["completed_at"]);
    let reopened = complete(None).await;
    assert_eq!(reopened["completed"], false);
    assert_eq!(reopened["completed_at"], Value::Null);
    let set = complete(Some(json!({"completed": true}))).await;
    assert_eq!(set["completed"], true);
    let null_body_toggles = complete(Some(Value::Null)).await;
    assert_eq!(null_body_toggles["completed"], false);
}

async fn delete_returns_204_then_the_task_is_gone(app: &TestApp) {
    let task = app.create_ok("alice", &json!({"title": "t"})).await;
    let path = format!("/api/alice/tasks/{}", task["id"].as_str().unwrap());

    let deleted = app
        .request(Method::DELETE, &path, Some("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    assert_problem(app.get("alice", &path).await, 404, "not_found").await;
    let again = app
        .request(Method::DELETE, &path, Some("alice"))
        .send()
        .await
        .unwrap();
    assert_problem(again, 404, "not_found").await;
}

async fn sql_and_html_in_fields_come_back_verbatim(app: &TestApp) {
    let hostile = "'); DROP TABLE tasks; -- <script>alert(1)</script> %_\\";
    let task = app
        .create_ok(
            "alice",
            &json!({"title": hostile, "description": hostile, "tags": ["<b>", "' OR 1=1"]}),
        )
        .await;

    assert_eq!(task["title"], hostile);
    assert_eq!(task["description"], hostile);
    assert_eq!(app.titles("alice", "?q=DROP%20TABLE").await, [hostile]);
    assert_eq!(
        app.titles("alice", "?tag=%27%20OR%201%3D1").await,
        [hostile]
    );
}
