//! Listing parameters and headers, stats, clearing completed tasks.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem_fields};

adapters_postgres::on_both_backends!(
    setup = crate::app;
    each_listing_parameter_filters_and_sorts,
    pages_carry_the_total_and_next_and_prev_links,
    unknown_parameters_and_values_are_422,
    a_search_with_a_nul_or_control_character_is_422_not_500,
    stats_count_by_state_and_priority,
    clearing_deletes_only_completed_tasks_and_accepts_no_other_filter,
);

async fn each_listing_parameter_filters_and_sorts(app: &TestApp) {
    app.create_ok("alice", &json!({"title": "banana", "priority": "low", "tags": ["Fruit"], "due_date": "2026-03-01T00:00:00Z"})).await;
    app.create_ok("alice", &json!({"title": "Apple", "priority": "high", "tags": ["fruit", "red"], "due_date": "2026-01-01T00:00:00Z"})).await;
    app.create_ok(
        "alice",
        &json!({"title": "carrot", "description": "orange VEGETABLE", "completed": true}),
    )
    .await;

    assert_eq!(app.titles("alice", "").await, ["carrot", "Apple", "banana"]);
    assert_eq!(app.titles("alice", "?status=completed").await, ["carrot"]);
    assert_eq!(
        app.titles("alice", "?status=pending&sort=title").await,
        ["Apple", "banana"]
    );
    assert_eq!(app.titles("alice", "?q=vegetable").await, ["carrot"]);
    assert_eq!(app.titles("alice", "?priority=high").await, ["Apple"]);
    assert_eq!(
        app.titles("alice", "?tag=FRUIT&sort=title").await,
        ["Apple", "banana"]
    );
    assert_eq!(app.titles("alice", "?tag=fruit&tag=red").await, ["Apple"]);
    assert_eq!(
        app.titles("alice", "?due_before=2026-02-01T00:00:00Z")
            .await,
        ["Apple"]
    );
    assert_eq!(
        app.titles("alice", "?due_after=2026-02-01T00:00:00Z").await,
        ["banana"]
    );
    assert_eq!(
        app.titles("alice", "?sort=due_date").await,
        ["Apple", "banana", "carrot"]
    );
    assert_eq!(
        app.titles("alice", "?sort=due_date&order=desc").await,
        ["banana", "Apple", "carrot"]
    );
    assert_eq!(
        app.titles("alice", "?sort=priority").await,
        ["Apple", "carrot", "banana"]
    );
    assert_eq!(
        app.titles("alice", "?sort=title&order=desc").await,
        ["carrot", "banana", "Apple"]
    );
    assert_eq!(
        app.titles("alice", "?sort=created&order=asc").await,
        ["banana", "Apple", "carrot"]
    );
}

async fn pages_carry_the_total_and_next_and_prev_links(app: &TestApp) {
    for i in 0..5 {
        app.create_ok("alice", &json!({"title": format!("task {i}")}))
            .await;
    }

    let first = app
        .get("alice", "/api/alice/tasks?limit=2&status=all")
        .await;
    assert_eq!(first.headers()["x-total-count"], "5");
    assert_eq!(
        first.headers()["link"],
        "</api/alice/tasks?status=all&limit=2&offset=2>; rel=\"next\""
    );
    let middle = app.get("alice", "/api/alice/tasks?limit=2&offset=2").await;
    assert_eq!(
        middle.headers()["link"],
        "</api/alice/tasks?limit=2&offset=4>; rel=\"next\", </api/alice/tasks?limit=2&offset=0>; rel=\"prev\""
    );
    let last = app.get("alice", "/api/alice/tasks?limit=2&offset=4").await;
    assert_eq!(
        last.headers()["link"],
        "</api/alice/tasks?limit=2&offset=2>; rel=\"prev\""
    );
    let tasks: Vec<Value> = last.json().await.unwrap();
    assert_eq!(tasks.len(), 1);
    let beyond = app.get("alice", "/api/alice/tasks?offset=50").await;
    assert_eq!(beyond.headers()["x-total-count"], "5");
}

async fn unknown_parameters_and_values_are_422(app: &TestApp) {
    for (query, field) in [
        ("?status=done", "status"),
        ("?sort=size", "sort"),
        ("?order=up", "order"),
        ("?priority=urgent", "priority"),
        ("?limit=0", "limit"),
        ("?limit=501", "limit"),
        ("?offset=-1", "offset"),
        ("?offset=9223372036854775808", "offset"),
        ("?due_before=soon", "due_before"),
        ("?stauts=pending", "stauts"),
    ] {
        let response = app.get("alice", &format!("/api/alice/tasks{query}")).await;
        assert_eq!(problem_fields(response).await, [field], "{query}");
    }
}

async fn a_search_with_a_nul_or_control_character_is_422_not_500(app: &TestApp) {
    app.create_ok("alice", &json!({"title": "a b"})).await;

    for query in ["?q=%00", "?q=a%00b", "?q=a%0Ab", "?q=%7F"] {
        let response = app.get("alice", &format!("/api/alice/tasks{query}")).await;
        assert_eq!(problem_fields(response).await, ["q"], "{query}");
    }
    assert_eq!(app.titles("alice", "?q=a%20b").await, ["a b"]);
}

async fn stats_count_by_state_and_priority(app: &TestApp) {
    app.create_ok(
        "alice",
        &json!({"title": "late", "priority": "high", "due_date": "2020-01-01T00:00:00Z"}),
    )
    .await;
    app.create_ok(
        "alice",
        &json!({"title": "done", "completed": true, "due_date": "2020-01-01T00:00:00Z"}),
    )
    .await;
    app.create_ok(
        "alice",
        &json!({"title": "later", "priority": "low", "due_date": "2099-01-01T00:00:00Z"}),
    )
    .await;

    let stats: Value = app
        .get("alice", "/api/alice/tasks/stats")
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(
        stats,
        json!({"total": 3, "completed": 1, "pending": 2, "overdue": 1,
               "by_priority": {"low": 1, "medium": 1, "high": 1}})
    );
}

async fn clearing_deletes_only_completed_tasks_and_accepts_no_other_filter(app: &TestApp) {
    app.create_ok("alice", &json!({"title": "done", "completed": true}))
        .await;
    app.create_ok("alice", &json!({"title": "open"})).await;
    app.create_ok("bob", &json!({"title": "bob's done", "completed": true}))
        .await;
    let clear = |query: &str| {
        app.request(
            Method::DELETE,
            &format!("/api/alice/tasks{query}"),
            Some("alice"),
        )
        .send()
    };

    assert_eq!(problem_fields(clear("").await.unwrap()).await, ["status"]);
    assert_eq!(
        problem_fields(clear("?status=pending").await.unwrap()).await,
        ["status"]
    );
    assert_eq!(
        problem_fields(clear("?status=completed&priority=high").await.unwrap()).await,
        ["priority"]
    );

    let cleared = clear("?status=completed").await.unwrap();
    assert_eq!(cleared.status(), 200);
    assert_eq!(
        cleared.json::<Value>().await.unwrap(),
        json!({"deleted": 1})
    );
    assert_eq!(app.titles("alice", "").await, ["open"]);
    assert_eq!(app.titles("bob", "").await, ["bob's done"]);
}
