//! Many clients on the same task at once: no 500, no lost update under `If-Match`, and a final
//! state that matches the operations the server acknowledged.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::TestApp;

adapters_postgres::on_both_backends!(
    setup = crate::shared_app;
    updates_under_if_match_lose_nothing,
    concurrent_toggles_leave_the_parity_of_their_number,
    unguarded_updates_and_toggles_all_count,
);

const CLIENTS: usize = 8;
const ROUNDS: usize = 6;

/// The version in a response's `ETag`.
fn version(response: &reqwest::Response) -> u64 {
    response.headers()["etag"]
        .to_str()
        .unwrap()
        .trim_matches('"')
        .parse()
        .unwrap()
}

/// Creates a task for alice and returns its path.
async fn task_path(app: &TestApp) -> String {
    let task = app.create_ok("alice", &json!({"title": "shared"})).await;
    format!("/api/alice/tasks/{}", task["id"].as_str().unwrap())
}

/// Runs `CLIENTS` copies of `client(app, path, index)` at once and collects what they return.
async fn in_parallel<F, Fut, T>(app: &Arc<TestApp>, path: &str, client: F) -> Vec<T>
where
    F: Fn(Arc<TestApp>, String, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut clients = JoinSet::new();
    for index in 0..CLIENTS {
        clients.spawn(client(Arc::clone(app), path.to_owned(), index));
    }
    clients.join_all().await
}

/// The current task and its version.
async fn current(app: &TestApp, path: &str) -> (Value, u64) {
    let response = app.get("alice", path).await;
    assert_eq!(response.status(), 200);
    let version = version(&response);
    (response.json().await.unwrap(), version)
}

async fn updates_under_if_match_lose_nothing(app: &Arc<TestApp>) {
    let path = task_path(app).await;

    // Each client reads, then writes under the version it read; the server must refuse (412)
    // every write whose read went stale, so that each 200 built on the latest state.
    let won: Vec<Vec<String>> = in_parallel(app, &path, |app, path, client| async move {
        let mut won = Vec::new();
        for round in 0..ROUNDS {
            let (_, read) = current(&app, &path).await;
            let title = format!("client {client} round {round}");
            let response = app
                .request(Method::PATCH, &path, Some("alice"))
                .header("If-Match", format!("\"{read}\""))
                .json(&json!({"title": title}))
                .send()
                .await
                .unwrap();
            match response.status().as_u16() {
                200 => {
                    assert_eq!(version(&response), read + 1, "a write skipped a version");
                    won.push(title);
                }
                412 => {}
                other => panic!("unexpected status {other}"),
            }
        }
        won
    })
    .await;

    let won: Vec<String> = won.into_iter().flatten().collect();
    let (task, final_version) = current(app, &path).await;
    assert!(!won.is_empty());
    assert_eq!(
        final_version,
        1 + won.len() as u64,
        "every acknowledged write, and only those, moved the version"
    );
    assert!(won.contains(&task["title"].as_str().unwrap().to_owned()));
}

async fn concurrent_toggles_leave_the_parity_of_their_number(app: &Arc<TestApp>) {
    let path = task_path(app).await;
    let toggle = format!("{path}/complete");

    let statuses: Vec<Vec<u16>> = in_parallel(app, &toggle, |app, toggle, _| async move {
        let mut statuses = Vec::new();
        for _ in 0..ROUNDS {
            let response = app
                .request(Method::PATCH, &toggle, Some("alice"))
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        statuses
    })
    .await;

    let toggles = statuses.iter().flatten().filter(|s| **s == 200).count();
    assert_eq!(toggles, CLIENTS * ROUNDS, "{statuses:?}");
    let (task, final_version) = current(app, &path).await;
    assert_eq!(task["completed"], toggles % 2 == 1);
    assert_eq!(task["completed_at"].is_string(), toggles % 2 == 1);
    assert_eq!(final_version, 1 + toggles as u64);
}

async fn unguarded_updates_and_toggles_all_count(app: &Arc<TestApp>) {
    let path = task_path(app).await;

    // Half the clients toggle, half rename without If-Match: the server re-applies a rename
    // that lost a race on the fresh task, and answers 409 only when it keeps losing.
    let acknowledged: Vec<(usize, usize)> =
        in_parallel(app, &path, |app, path, client| async move {
            let (mut toggled, mut renamed) = (0, 0);
            for round in 0..ROUNDS {
                if client % 2 == 0 {
                    let response = app
                        .request(Method::PATCH, &format!("{path}/complete"), Some("alice"))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200, "a toggle is one statement");
                    toggled += 1;
                } else {
                    let response = app
                        .request(Method::PUT, &path, Some("alice"))
                        .json(&json!({"title": format!("client {client} round {round}")}))
                        .send()
                        .await
                        .unwrap();
                    match response.status().as_u16() {
                        200 => renamed += 1,
                        409 => {}
                        other => panic!("unexpected status {other}"),
                    }
                }
            }
            (toggled, renamed)
        })
        .await;

    let toggled: usize = acknowledged.iter().map(|(t, _)| t).sum();
    let renamed: usize = acknowledged.iter().map(|(_, r)| r).sum();
    let (task, final_version) = current(app, &path).await;
    assert!(renamed > 0);
    assert_eq!(task["completed"], toggled % 2 == 1);
    assert_eq!(final_version, 1 + (toggled + renamed) as u64);
    assert!(task["title"].as_str().unwrap().starts_with("client "));
}
