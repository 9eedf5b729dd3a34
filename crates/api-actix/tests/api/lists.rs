//! The section "Lists, subtasks and manual order" of shared/API.md, route by route and refusal
//! by refusal, isolation included.

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, problem_fields};

adapters_postgres::on_both_backends!(
    setup = crate::app;
    a_list_is_created_last_read_renamed_recoloured_and_deleted_with_its_tasks,
    list_names_are_unique_ignoring_case_and_validated,
    lists_move_first_after_and_last,
    if_match_and_idempotency_keys_work_on_lists,
    a_subtask_joins_its_parent_and_the_counts_follow,
    completing_a_parent_completes_its_subtasks_and_reopening_reopens_none,
    the_move_route_reorders_without_touching_siblings,
    a_move_with_stale_if_match_is_412_and_bad_destinations_are_422,
    sort_position_lists_the_inbox_then_each_list_and_refuses_order,
    the_new_filters_combine_with_the_old_and_unknown_ids_are_404,
    clear_completed_takes_a_list_and_counts_subtasks,
    stats_accept_a_list,
    another_users_lists_and_tasks_are_unreachable_in_every_field,
);

impl TestApp {
    async fn send(&self, method: Method, user: &str, path: &str, body: Option<&Value>) -> Response {
        let request = self.request(method, path, Some(user));
        let request = match body {
            Some(body) => request.json(body),
            None => request,
        };
        request.send().await.unwrap()
    }

    async fn create_list(&self, user: &str, name: &str) -> Value {
        let response = self
            .send(
                Method::POST,
                user,
                &format!("/api/{user}/lists"),
                Some(&json!({"name": name})),
            )
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    async fn list_names(&self, user: &str) -> Vec<String> {
        let response = self.get(user, &format!("/api/{user}/lists")).await;
        assert_eq!(response.status(), 200);
        let lists: Vec<Value> = response.json().await.unwrap();
        lists
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn move_task(&self, user: &str, id: &str, body: &Value) -> Response {
        self.send(
            Method::POST,
            user,
            &format!("/api/{user}/tasks/{id}/move"),
            Some(body),
        )
        .await
    }

    async fn task(&self, user: &str, id: &str) -> Value {
        self.get(user, &format!("/api/{user}/tasks/{id}"))
            .await
            .json()
            .await
            .unwrap()
    }
}

fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

async fn a_list_is_created_last_read_renamed_recoloured_and_deleted_with_its_tasks(app: &TestApp) {
    app.create_list("alice", "Home").await;
    let response = app
        .send(
            Method::POST,
            "alice",
            "/api/me/lists",
            Some(&json!({"name": "  Work ", "color": "#A0B1C2"})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(response.headers().contains_key("etag"));
    let work: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/alice/lists/{}", id(&work)));
    assert_eq!(
        (work["name"].as_str(), work["color"].as_str()),
        (Some("Work"), Some("#a0b1c2"))
    );
    assert_eq!(
        (work["task_count"].as_u64(), work["pending_count"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(app.list_names("alice").await, ["Home", "Work"]);

    let task = app
        .create_ok("alice", &json!({"title": "in work", "list_id": id(&work)}))
        .await;
    app.create_ok("alice", &json!({"title": "child", "parent_id": id(&task)}))
        .await;
    let read = app.get("alice", &location).await;
    assert_eq!(read.status(), 200);
    let read: Value = read.json().await.unwrap();
    assert_eq!(
        (read["task_count"].as_u64(), read["pending_count"].as_u64()),
        (Some(2), Some(2))
    );

    let renamed = app
        .send(
            Method::PATCH,
            "alice",
            &location,
            Some(&json!({"name": "Office", "color": null})),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(
        (renamed["name"].as_str(), renamed["color"].is_null()),
        (Some("Office"), true)
    );

    let deleted = app.send(Method::DELETE, "alice", &location, None).await;
    assert_eq!(deleted.status(), 204);
    assert_problem(app.get("alice", &location).await, 404, "not_found").await;
    let gone = app
        .get("alice", &format!("/api/alice/tasks/{}", id(&task)))
        .await;
    assert_problem(gone, 404, "not_found").await;
    assert!(app.titles("alice", "").await.is_empty());
}

async fn list_names_are_unique_ignoring_case_and_validated(app: &TestApp) {
    app.create_list("alice", "Work").await;
    let twin = app
        .send(
            Method::POST,
            "alice",
            "/api/alice/lists",
            Some(&json!({"name": "WORK"})),
        )
        .await;
    assert_problem(twin, 409, "conflict").await;
    let other = app.create_list("alice", "Other").await;
    let rename = app
        .send(
            Method::PATCH,
            "alice",
            &format!("/api/alice/lists/{}", id(&other)),
            Some(&json!({"name": "work"})),
        )
        .await;
    assert_problem(rename, 409, "conflict").await;
    app.create_list("bob", "work").await;

    let bad = app
        .send(
            Method::POST,
            "alice",
            "/api/alice/lists",
            Some(&json!({"name": "x".repeat(101), "color": "red", "position": "80"})),
        )
        .await;
    assert_eq!(problem_fields(bad).await, ["position"]);
    let bad = app
        .send(
            Method::POST,
            "alice",
            "/api/alice/lists",
            Some(&json!({"name": "x".repeat(101), "color": "red"})),
        )
        .await;
    assert_eq!(problem_fields(bad).await, ["name", "color"]);
}

async fn lists_move_first_after_and_last(app: &TestApp) {
    let a = app.create_list("alice", "A").await;
    let b = app.create_list("alice", "B").await;
    let c = app.create_list("alice", "C").await;
    let path = |list: &Value| format!("/api/alice/lists/{}/move", id(list));

    let moved = app
        .send(
            Method::POST,
            "alice",
            &path(&c),
            Some(&json!({"after": null})),
        )
        .await;
    assert_eq!(moved.status(), 200);
    assert_eq!(app.list_names("alice").await, ["C", "A", "B"]);
    app.send(
        Method::POST,
        "alice",
        &path(&c),
        Some(&json!({"after": id(&a)})),
    )
    .await;
    assert_eq!(app.list_names("alice").await, ["A", "C", "B"]);
    app.send(Method::POST, "alice", &path(&a), Some(&json!({})))
        .await;
    assert_eq!(app.list_names("alice").await, ["C", "B", "A"]);
    let lists: Vec<Value> = app
        .get("alice", "/api/alice/lists")
        .await
        .json()
        .await
        .unwrap();
    let b_now = lists.iter().find(|l| l["id"] == b["id"]).unwrap();
    assert_eq!(
        b_now["position"], b["position"],
        "no other list is rewritten"
    );

    let itself = app
        .send(
            Method::POST,
            "alice",
            &path(&a),
            Some(&json!({"after": id(&a)})),
        )
        .await;
    assert_eq!(problem_fields(itself).await, ["after"]);
    let unknown = app
        .send(
            Method::POST,
            "alice",
            &path(&a),
            Some(&json!({"after": "not-a-uuid"})),
        )
        .await;
    assert_eq!(problem_fields(unknown).await, ["after"]);
}

async fn if_match_and_idempotency_keys_work_on_lists(app: &TestApp) {
    let list = app.create_list("alice", "Work").await;
    let path = format!("/api/alice/lists/{}", id(&list));
    let stale = app
        .request(Method::PATCH, &path, Some("alice"))
        .header("If-Match", "\"7\"")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412, "precondition_failed").await;
    let fresh = app
        .request(Method::DELETE, &path, Some("alice"))
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 204);

    let keyed = || {
        app.request(Method::POST, "/api/alice/lists", Some("alice"))
            .header("Idempotency-Key", "list-1")
            .json(&json!({"name": "Keyed"}))
            .send()
    };
    let first = keyed().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = keyed().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    // The same key on the tasks collection is another request.
    let task = app
        .request(Method::POST, "/api/alice/tasks", Some("alice"))
        .header("Idempotency-Key", "list-1")
        .json(&json!({"name": "Keyed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(task.status(), 422);
    assert_eq!(app.list_names("alice").await, ["Keyed"]);
}

async fn a_subtask_joins_its_parent_and_the_counts_follow(app: &TestApp) {
    let work = app.create_list("alice", "Work").await;
    let parent = app
        .create_ok("alice", &json!({"title": "parent", "list_id": id(&work)}))
        .await;
    assert_eq!(parent["list_id"], work["id"]);
    assert!(parent["parent_id"].is_null());
    let child = app
        .create_ok(
            "alice",
            &json!({"title": "child", "parent_id": id(&parent), "completed": true}),
        )
        .await;
    assert_eq!(
        (child["list_id"].clone(), child["parent_id"].clone()),
        (work["id"].clone(), parent["id"].clone())
    );
    let parent = app.task("alice", id(&parent)).await;
    assert_eq!(
        (
            parent["subtask_count"].as_u64(),
            parent["completed_subtask_count"].as_u64()
        ),
        (Some(1), Some(1))
    );

    let wrong_list = app
        .create(
            "alice",
            &json!({"title": "x", "parent_id": id(&parent), "list_id": null}),
        )
        .await;
    assert_eq!(problem_fields(wrong_list).await, ["list_id"]);
    let grandchild = app
        .create("alice", &json!({"title": "x", "parent_id": id(&child)}))
        .await;
    assert_eq!(problem_fields(grandchild).await, ["parent_id"]);
    let set_later = app
        .send(
            Method::PATCH,
            "alice",
            &format!("/api/alice/tasks/{}", id(&child)),
            Some(&json!({"parent_id": null})),
        )
        .await;
    assert_eq!(problem_fields(set_later).await, ["parent_id"]);
    let counts = app
        .send(
            Method::PATCH,
            "alice",
            &format!("/api/alice/tasks/{}", id(&parent)),
            Some(&json!({"subtask_count": 3})),
        )
        .await;
    assert_eq!(problem_fields(counts).await, ["subtask_count"]);
}

async fn completing_a_parent_completes_its_subtasks_and_reopening_reopens_none(app: &TestApp) {
    let parent = app.create_ok("alice", &json!({"title": "parent"})).await;
    let kids: Vec<Value> = [1, 2]
        .into_iter()
        .map(|i| json!({"title": format!("kid {i}"), "parent_id": id(&parent)}))
        .collect();
    let mut children = Vec::new();
    for kid in &kids {
        children.push(app.create_ok("alice", kid).await);
    }
    let done = app
        .send(
            Method::PUT,
            "alice",
            &format!("/api/alice/tasks/{}", id(&parent)),
            Some(&json!({"completed": true})),
        )
        .await;
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["completed_subtask_count"], 2);
    for child in &children {
        let child = app.task("alice", id(child)).await;
        assert_eq!(child["completed"], true);
        assert_eq!(child["completed_at"], done["completed_at"]);
    }
    let reopened = app
        .send(
            Method::PATCH,
            "alice",
            &format!("/api/alice/tasks/{}/complete", id(&parent)),
            None,
        )
        .await;
    let reopened: Value = reopened.json().await.unwrap();
    assert_eq!(
        (
            reopened["completed"].as_bool(),
            reopened["completed_subtask_count"].as_u64()
        ),
        (Some(false), Some(2))
    );
}

async fn the_move_route_reorders_without_touching_siblings(app: &TestApp) {
    let a = app.create_ok("alice", &json!({"title": "a"})).await;
    let b = app.create_ok("alice", &json!({"title": "b"})).await;
    let c = app.create_ok("alice", &json!({"title": "c"})).await;
    assert!(a["position"].as_str() < b["position"].as_str());

    let moved = app
        .move_task("alice", id(&c), &json!({"after": null}))
        .await;
    assert_eq!(moved.status(), 200);
    assert_eq!(moved.headers()["etag"], "\"2\"");
    assert_eq!(app.titles("alice", "?sort=position").await, ["c", "a", "b"]);
    app.move_task("alice", id(&c), &json!({"after": id(&a)}))
        .await;
    assert_eq!(app.titles("alice", "?sort=position").await, ["a", "c", "b"]);
    for sibling in [&a, &b] {
        let now = app.task("alice", id(sibling)).await;
        assert_eq!(
            (now["position"].clone(), now["updated_at"].clone()),
            (sibling["position"].clone(), sibling["updated_at"].clone())
        );
    }

    // Under a parent, then to a list with it: subtasks follow.
    let child = app
        .move_task("alice", id(&b), &json!({"parent_id": id(&a)}))
        .await;
    let child: Value = child.json().await.unwrap();
    assert_eq!(child["parent_id"], a["id"]);
    let work = app.create_list("alice", "Work").await;
    let moved = app
        .move_task("alice", id(&a), &json!({"list_id": id(&work)}))
        .await;
    assert_eq!(moved.status(), 200);
    assert_eq!(app.task("alice", id(&b)).await["list_id"], work["id"]);
    assert_eq!(
        app.titles("alice", &format!("?list_id={}&sort=position", id(&work)))
            .await,
        ["a", "b"]
    );
}

async fn a_move_with_stale_if_match_is_412_and_bad_destinations_are_422(app: &TestApp) {
    let a = app.create_ok("alice", &json!({"title": "a"})).await;
    let b = app.create_ok("alice", &json!({"title": "b"})).await;
    app.create_ok("alice", &json!({"title": "a's child", "parent_id": id(&a)}))
        .await;
    let stale = app
        .request(
            Method::POST,
            &format!("/api/alice/tasks/{}/move", id(&b)),
            Some("alice"),
        )
        .header("If-Match", "\"9\"")
        .json(&json!({"after": null}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412, "precondition_failed").await;

    for (body, field) in [
        (json!({"parent_id": id(&b)}), "parent_id"),
        (json!({"after": id(&b)}), "after"),
        (
            json!({"list_id": "5f0c1b2e-0000-7000-8000-000000000000"}),
            "list_id",
        ),
        (json!({"parent_id": "nope"}), "parent_id"),
        (
            json!({"after": id(&a), "list_id": null, "parent_id": id(&a)}),
            "after",
        ),
        (json!({"sideways": true}), "sideways"),
    ] {
        let response = app.move_task("alice", id(&b), &body).await;
        assert_eq!(problem_fields(response).await, [field], "{body}");
    }
    let has_children = app
        .move_task("alice", id(&a), &json!({"parent_id": id(&b)}))
        .await;
    assert_eq!(problem_fields(has_children).await, ["parent_id"]);
    let missing = app
        .move_task("alice", "5f0c1b2e-0000-7000-8000-000000000000", &json!({}))
        .await;
    assert_problem(missing, 404, "not_found").await;
}

async fn sort_position_lists_the_inbox_then_each_list_and_refuses_order(app: &TestApp) {
    let home = app.create_list("alice", "Home").await;
    let work = app.create_list("alice", "Work").await;
    app.send(
        Method::POST,
        "alice",
        &format!("/api/alice/lists/{}/move", id(&work)),
        Some(&json!({"after": null})),
    )
    .await;
    let h = app
        .create_ok("alice", &json!({"title": "h", "list_id": id(&home)}))
        .await;
    app.create_ok("alice", &json!({"title": "w", "list_id": id(&work)}))
        .await;
    app.create_ok("alice", &json!({"title": "i"})).await;
    app.create_ok("alice", &json!({"title": "h.1", "parent_id": id(&h)}))
        .await;

    assert_eq!(
        app.titles("alice", "?sort=position").await,
        ["i", "w", "h", "h.1"]
    );
    let page = app
        .get("alice", "/api/alice/tasks?sort=position&limit=2")
        .await;
    assert_eq!(page.headers()["x-total-count"], "4");
    assert!(
        page.headers()["link"]
            .to_str()
            .unwrap()
            .contains("sort=position")
    );
    let refused = app
        .get("alice", "/api/alice/tasks?sort=position&order=asc")
        .await;
    assert_eq!(problem_fields(refused).await, ["order"]);
}

async fn the_new_filters_combine_with_the_old_and_unknown_ids_are_404(app: &TestApp) {
    let work = app.create_list("alice", "Work").await;
    let p = app
        .create_ok(
            "alice",
            &json!({"title": "p", "list_id": id(&work), "priority": "high"}),
        )
        .await;
    app.create_ok("alice", &json!({"title": "p.1", "parent_id": id(&p)}))
        .await;
    app.create_ok(
        "alice",
        &json!({"title": "p.2", "parent_id": id(&p), "completed": true}),
    )
    .await;
    app.create_ok("alice", &json!({"title": "inbox", "priority": "high"}))
        .await;

    assert_eq!(app.titles("alice", "?list_id=inbox").await, ["inbox"]);
    assert_eq!(
        app.titles("alice", "?parent_id=none&priority=high&sort=title")
            .await,
        ["inbox", "p"]
    );
    assert_eq!(
        app.titles("alice", &format!("?parent_id={}&status=pending", id(&p)))
            .await,
        ["p.1"]
    );
    assert_eq!(
        app.titles("alice", &format!("?list_id={}&status=completed", id(&work)))
            .await,
        ["p.2"]
    );

    for query in [
        "?list_id=5f0c1b2e-0000-7000-8000-000000000000",
        "?parent_id=5f0c1b2e-0000-7000-8000-000000000000",
    ] {
        let response = app.get("alice", &format!("/api/alice/tasks{query}")).await;
        assert_problem(response, 404, "not_found").await;
    }
    for (query, field) in [
        ("?list_id=nope", "list_id"),
        ("?parent_id=top", "parent_id"),
    ] {
        let response = app.get("alice", &format!("/api/alice/tasks{query}")).await;
        assert_eq!(problem_fields(response).await, [field]);
    }
}

async fn clear_completed_takes_a_list_and_counts_subtasks(app: &TestApp) {
    let work = app.create_list("alice", "Work").await;
    let done = app
        .create_ok("alice", &json!({"title": "done", "list_id": id(&work)}))
        .await;
    app.create_ok(
        "alice",
        &json!({"title": "its child", "parent_id": id(&done)}),
    )
    .await;
    app.send(
        Method::PATCH,
        "alice",
        &format!("/api/alice/tasks/{}/complete", id(&done)),
        None,
    )
    .await;
    app.create_ok("alice", &json!({"title": "inbox done", "completed": true}))
        .await;

    let cleared = app
        .send(
            Method::DELETE,
            "alice",
            &format!("/api/alice/tasks?status=completed&list_id={}", id(&work)),
            None,
        )
        .await;
    assert_eq!(cleared.status(), 200);
    assert_eq!(cleared.json::<Value>().await.unwrap()["deleted"], 2);
    let inbox = app
        .send(
            Method::DELETE,
            "alice",
            "/api/alice/tasks?status=completed&list_id=inbox",
            None,
        )
        .await;
    assert_eq!(inbox.json::<Value>().await.unwrap()["deleted"], 1);
    let foreign = app
        .send(
            Method::DELETE,
            "alice",
            "/api/alice/tasks?status=completed&list_id=5f0c1b2e-0000-7000-8000-000000000000",
            None,
        )
        .await;
    assert_problem(foreign, 404, "not_found").await;
}

async fn stats_accept_a_list(app: &TestApp) {
    let work = app.create_list("alice", "Work").await;
    app.create_ok(
        "alice",
        &json!({"title": "w", "list_id": id(&work), "completed": true}),
    )
    .await;
    app.create_ok("alice", &json!({"title": "i"})).await;

    let stats: Value = app
        .get(
            "alice",
            &format!("/api/alice/tasks/stats?list_id={}", id(&work)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (stats["total"].as_u64(), stats["completed"].as_u64()),
        (Some(1), Some(1))
    );
    let inbox: Value = app
        .get("alice", "/api/alice/tasks/stats?list_id=inbox")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["total"], 1);
    let unknown = app.get("alice", "/api/alice/tasks/stats?colour=red").await;
    assert_eq!(problem_fields(unknown).await, ["colour"]);
}

async fn another_users_lists_and_tasks_are_unreachable_in_every_field(app: &TestApp) {
    let secret = "alice's secret list";
    let list = app.create_list("alice", secret).await;
    let task = app
        .create_ok(
            "alice",
            &json!({"title": "alice's task", "list_id": id(&list)}),
        )
        .await;
    let mine = app.create_ok("bob", &json!({"title": "bob's"})).await;
    let (list_id, task_id) = (id(&list), id(&task));

    for (method, path) in [
        (Method::GET, "/api/alice/lists".to_owned()),
        (Method::POST, "/api/alice/lists".to_owned()),
        (Method::GET, format!("/api/alice/lists/{list_id}")),
        (Method::PATCH, format!("/api/alice/lists/{list_id}")),
        (Method::DELETE, format!("/api/alice/lists/{list_id}")),
        (Method::POST, format!("/api/alice/lists/{list_id}/move")),
        (Method::POST, format!("/api/alice/tasks/{task_id}/move")),
    ] {
        let response = app
            .send(method.clone(), "bob", &path, Some(&json!({})))
            .await;
        let problem = assert_problem(response, 403, "forbidden").await;
        assert!(!problem.to_string().contains(secret), "{method} {path}");
    }
    for (method, path) in [
        (Method::GET, format!("/api/bob/lists/{list_id}")),
        (Method::PATCH, format!("/api/bob/lists/{list_id}")),
        (Method::DELETE, format!("/api/bob/lists/{list_id}")),
        (Method::POST, format!("/api/bob/lists/{list_id}/move")),
        (Method::POST, format!("/api/bob/tasks/{task_id}/move")),
        (Method::GET, format!("/api/bob/tasks?list_id={list_id}")),
        (Method::GET, format!("/api/bob/tasks?parent_id={task_id}")),
        (
            Method::GET,
            format!("/api/bob/tasks/stats?list_id={list_id}"),
        ),
    ] {
        let response = app
            .send(method.clone(), "bob", &path, Some(&json!({})))
            .await;
        let problem = assert_problem(response, 404, "not_found").await;
        assert!(!problem.to_string().contains(secret), "{method} {path}");
    }
    for (body, field) in [
        (json!({"title": "x", "list_id": list_id}), "list_id"),
        (json!({"title": "x", "parent_id": task_id}), "parent_id"),
    ] {
        assert_eq!(
            problem_fields(app.create("bob", &body).await).await,
            [field]
        );
    }
    for (body, field) in [
        (json!({"list_id": list_id}), "list_id"),
        (json!({"parent_id": task_id}), "parent_id"),
        (json!({"after": task_id}), "after"),
    ] {
        let response = app.move_task("bob", id(&mine), &body).await;
        assert_eq!(problem_fields(response).await, [field]);
    }
    let bobs_move = app
        .send(
            Method::POST,
            "bob",
            &format!(
                "/api/bob/lists/{}/move",
                id(&app.create_list("bob", "B").await)
            ),
            Some(&json!({"after": list_id})),
        )
        .await;
    assert_eq!(problem_fields(bobs_move).await, ["after"]);
    assert_eq!(app.list_names("alice").await, [secret]);
}
