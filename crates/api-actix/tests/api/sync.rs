//! shared/API.md, "Sync and live events": `/changes` and `/events`, on both backends; and
//! across instances on one PostgreSQL database.

use adapters_postgres::testing::TestDatabase;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{EventStream, TestApp, assert_problem, instance, problem_fields, token};

adapters_postgres::on_both_backends!(
    setup = crate::app;
    a_snapshot_then_changes_since_its_cursor,
    pages_hold_at_most_limit_entries,
    bad_and_expired_cursors_are_refused,
    a_stream_delivers_changes_live_and_replays_after_last_event_id,
    a_stream_that_cannot_resume_is_told_to_reset,
    only_the_events_route_takes_the_token_from_the_query,
    a_user_holds_at_most_ten_streams,
);

async fn changes(app: &TestApp, query: &str) -> Value {
    let response = app
        .get("alice", &format!("/api/alice/changes{query}"))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn titles(page: &Value) -> Vec<&str> {
    page["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect()
}

async fn a_snapshot_then_changes_since_its_cursor(app: &TestApp) {
    let list = app
        .request(Method::POST, "/api/alice/lists", Some("alice"))
        .json(&json!({"name": "Errands"}))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 201);
    let kept = app.create_ok("alice", &json!({"title": "kept"})).await;
    let gone = app.create_ok("alice", &json!({"title": "gone"})).await;
    app.create_ok("bob", &json!({"title": "bob's"})).await;

    let snapshot = changes(app, "").await;
    assert_eq!(snapshot["lists"][0]["name"], "Errands");
    assert_eq!(titles(&snapshot), ["kept", "gone"]);
    assert_eq!(snapshot["has_more"], false);

    let patched = app
        .request(
            Method::PATCH,
            &format!("/api/alice/tasks/{}", kept["id"].as_str().unwrap()),
            Some("alice"),
        )
        .json(&json!({"title": "renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let deleted = app
        .request(
            Method::DELETE,
            &format!("/api/alice/tasks/{}", gone["id"].as_str().unwrap()),
            Some("alice"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    let cursor = snapshot["cursor"].as_str().unwrap();
    let page = changes(app, &format!("?since={cursor}")).await;
    assert_eq!(titles(&page), ["renamed"]);
    assert_eq!(page["deleted_tasks"], json!([gone["id"]]));
    assert_eq!(page["lists"], json!([]));
    assert_eq!(page["deleted_lists"], json!([]));

    // Nothing since: the same cursor back, nothing in the page.
    let cursor = page["cursor"].as_str().unwrap();
    let quiet = changes(app, &format!("?since={cursor}")).await;
    assert_eq!(quiet["cursor"], cursor);
    assert_eq!(quiet["tasks"], json!([]));
}

async fn pages_hold_at_most_limit_entries(app: &TestApp) {
    for n in 0..5 {
        app.create_ok("alice", &json!({"title": format!("task {n}")}))
            .await;
    }
    for since in [String::new(), "&since=0".to_owned()] {
        let mut seen = Vec::new();
        let mut query = format!("?limit=2{since}");
        loop {
            let page = changes(app, &query).await;
            let entries = titles(&page);
            assert!(entries.len() <= 2);
            seen.extend(entries.into_iter().map(str::to_owned));
            if page["has_more"] == false {
                break;
            }
            query = format!("?limit=2&since={}", page["cursor"].as_str().unwrap());
        }
        assert_eq!(seen, ["task 0", "task 1", "task 2", "task 3", "task 4"]);
    }
}

async fn bad_and_expired_cursors_are_refused(app: &TestApp) {
    app.create_ok("alice", &json!({"title": "one"})).await;
    for query in [
        "?since=abc",
        "?since=99999",
        "?since=-1",
        "?limit=0",
        "?limit=1001",
    ] {
        let response = app
            .get("alice", &format!("/api/alice/changes{query}"))
            .await;
        let field = if query.contains("limit") {
            "limit"
        } else {
            "since"
        };
        assert_eq!(problem_fields(response).await, [field], "{query}");
    }
    // Purged history: a cursor below what was purged has to start over. (An in-memory SQLite
    // is the server's own: only PostgreSQL's can be reached from here.)
    if app.db.backend_name() == "sqlite" {
        return;
    }
    app.db
        .execute("UPDATE users SET history_floor = 1 WHERE id = 'alice'")
        .await;
    let response = app.get("alice", "/api/alice/changes?since=0").await;
    assert_problem(response, 410, "cursor_expired").await;
}

async fn a_stream_delivers_changes_live_and_replays_after_last_event_id(app: &TestApp) {
    let mut stream = EventStream::open(&app.address, "alice", None).await;
    let created = app.create_ok("alice", &json!({"title": "live"})).await;
    app.create_ok("bob", &json!({"title": "not alice's"})).await;
    let event = stream.next().await.unwrap();
    assert_eq!(event.name, "task.created");
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(data["id"], created["id"]);
    assert_eq!(data["title"], "live");
    let last_seen = event.id.clone();
    drop(stream);

    // While away: a change, a deletion, and a list.
    let id = created["id"].as_str().unwrap();
    let toggled = app
        .request(
            Method::PATCH,
            &format!("/api/alice/tasks/{id}/complete"),
            Some("alice"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(toggled.status(), 200);
    let other = app
        .create_ok("alice", &json!({"title": "short-lived"}))
        .await;
    let other_id = other["id"].as_str().unwrap();
    let deleted = app
        .request(
            Method::DELETE,
            &format!("/api/alice/tasks/{other_id}"),
            Some("alice"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let list = app
        .request(Method::POST, "/api/alice/lists", Some("alice"))
        .json(&json!({"name": "Later"}))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 201);

    let mut stream = EventStream::open(&app.address, "alice", Some(&last_seen)).await;
    let replayed = stream.until("list.created").await;
    let kinds: Vec<&str> = replayed.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(kinds, ["task.updated", "task.deleted", "list.created"]);
    assert_eq!(
        serde_json::from_str::<Value>(&replayed[0].data).unwrap()["completed"],
        true
    );
    assert_eq!(replayed[1].data, json!({"id": other_id}).to_string());
    let ids: Vec<u64> = replayed.iter().map(|e| e.id.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(ids[0] > last_seen.parse().unwrap());

    // Then live again.
    app.create_ok("alice", &json!({"title": "after the replay"}))
        .await;
    let event = stream.next().await.unwrap();
    assert_eq!(event.name, "task.created");
}

async fn a_stream_that_cannot_resume_is_told_to_reset(app: &TestApp) {
    for bad in ["not-a-cursor", "99999"] {
        let mut stream = EventStream::open(&app.address, "alice", Some(bad)).await;
        let event = stream.next().await.unwrap();
        assert_eq!(event.name, "reset");
        assert_eq!(event.data, "{}");
        // The reset carries where the stream goes on from.
        app.create_ok("alice", &json!({"title": bad})).await;
        let next = stream.next().await.unwrap();
        assert_eq!(next.name, "task.created");
        assert!(next.id.parse::<u64>().unwrap() > event.id.parse::<u64>().unwrap());
    }
}

async fn only_the_events_route_takes_the_token_from_the_query(app: &TestApp) {
    let client = reqwest::Client::new();
    let token = token("alice");
    let events = client
        .get(format!(
            "{}/api/me/events?access_token={token}",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    drop(events);
    let tasks = client
        .get(format!("{}/api/me/tasks?access_token={token}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(tasks.status(), 401);
}

async fn a_user_holds_at_most_ten_streams(app: &TestApp) {
    let mut open = Vec::new();
    for _ in 0..10 {
        open.push(EventStream::open(&app.address, "alice", None).await);
    }
    let refused = app.get("alice", "/api/me/events").await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_problem(refused, 429, "rate_limited").await;
    // Others are not held up. (A closed stream's place is given back when the server notices,
    // at its next heartbeat at the latest: actix sees a pending stream's client go only when
    // it writes to it. The live module's tests cover the giving back.)
    drop(EventStream::open(&app.address, "bob", None).await);
    drop(open);
}

async fn create(address: &str, title: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{address}/api/me/tasks"))
        .bearer_auth(token("alice"))
        .json(&json!({"title": title}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// The titles of `task.created` events until the one titled `last`.
async fn created_until(stream: &mut EventStream, last: &str) -> Vec<String> {
    let mut titles = Vec::new();
    loop {
        let event = stream.next().await.expect("the stream goes on");
        let data: Value = serde_json::from_str(&event.data).unwrap();
        let title = data["title"].as_str().unwrap_or_default().to_owned();
        titles.push(title.clone());
        if title == last {
            return titles;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_stream_each_others_writes_and_resume_across_restarts() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let (a, stop_a) = instance(&db).await;
    let (b, stop_b) = instance(&db).await;

    // A write on one instance reaches a stream held by the other.
    let mut on_a = EventStream::open(&a, "alice", None).await;
    create(&b, "written on b").await;
    assert_eq!(
        created_until(&mut on_a, "written on b").await,
        ["written on b"]
    );

    // A restarts: its stream ends; what B writes meanwhile is replayed on the new A.
    let mut last = on_a.next_id_after(&b, "probe").await;
    stop_a.graceful().await;
    assert!(
        on_a.next().await.is_none(),
        "a stopping instance ends its streams"
    );
    create(&b, "while a was down").await;
    let (a, _stop_a) = instance(&db).await;
    let mut on_a = EventStream::open(&a, "alice", Some(&last)).await;
    assert_eq!(
        created_until(&mut on_a, "while a was down").await,
        ["while a was down"]
    );

    // B restarts: its stream resumes on A, with what was written on A meanwhile.
    let mut on_b = EventStream::open(&b, "alice", None).await;
    last = on_b.next_id_after(&a, "probe b").await;
    stop_b.graceful().await;
    assert!(on_b.next().await.is_none());
    create(&a, "while b was down").await;
    let (b, _stop_b) = instance(&db).await;
    let mut on_b = EventStream::open(&b, "alice", Some(&last)).await;
    assert_eq!(
        created_until(&mut on_b, "while b was down").await,
        ["while b was down"]
    );
}

impl EventStream {
    /// Creates a task titled `title` through `address` and returns the id of its event here.
    async fn next_id_after(&mut self, address: &str, title: &str) -> String {
        create(address, title).await;
        loop {
            let event = self.next().await.expect("the stream goes on");
            if event.data.contains(title) {
                return event.id;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_listener_reconnects_and_its_streams_miss_nothing() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let (a, _stop_a) = instance(&db).await;
    let (b, _stop_b) = instance(&db).await;
    let mut on_a = EventStream::open(&a, "alice", None).await;
    create(&b, "before the cut").await;
    assert_eq!(
        created_until(&mut on_a, "before the cut").await,
        ["before the cut"]
    );

    // Every listener on the server loses its connection (other tests' too: they catch up the
    // same way). What B writes meanwhile reaches A's stream within the event timeout (10 s),
    // well before the stream's own 15 s heartbeat would read it.
    db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    )
    .await;
    create(&b, "after the cut").await;
    assert_eq!(
        created_until(&mut on_a, "after the cut").await,
        ["after the cut"]
    );
}
