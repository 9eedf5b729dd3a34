//! PostgreSQL outages. The server reaches the database through a TCP proxy that the test
//! cuts (connections closed, as when PostgreSQL stops) or silences (connections open and
//! unanswered, as in a network partition) and restores: requests answer 503 with
//! `Retry-After` within 5 s, `/ready` follows the database and `/health` does not, service
//! resumes without a restart, and no acknowledged task is lost.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use adapters_postgres::testing::TestDatabase;
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::helpers::{EventStream, TestApp, spawn_app};

/// The longest any request may take, outage or not.
const DEADLINE: Duration = Duration::from_secs(5);
const WRITERS: usize = 4;

/// What the proxy does with the database's traffic.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Forwards it.
    Up,
    /// Closes every connection, open or new, at once: PostgreSQL stopped.
    Down,
    /// Keeps every connection open and forwards nothing: a network partition.
    Silent,
}

/// A TCP proxy in front of the database whose `Link` the test sets.
struct Proxy {
    port: u16,
    link: watch::Sender<Link>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (link, _) = watch::channel(Link::Up);
        let state = link.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut link = state.subscribe();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if *link.borrow_and_update() == Link::Up
                        && let Ok(mut server) = TcpStream::connect(upstream).await
                    {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            _ = link.wait_for(|link| *link != Link::Up) => {}
                        }
                    }
                    // Silent: hold the connection, unanswered, until the link changes.
                    if *link.borrow() == Link::Silent {
                        let _ = link.wait_for(|link| *link != Link::Silent).await;
                    }
                });
            }
        });
        Self { port, link }
    }

    fn set(&self, link: Link) {
        self.link.send_replace(link);
    }
}

/// The server on a fresh PostgreSQL schema reached through a proxy, with this acquire
/// timeout; `None` when PostgreSQL tests are skipped.
async fn behind_a_proxy(acquire_timeout_secs: &str) -> Option<(Proxy, Arc<TestApp>)> {
    let db = TestDatabase::postgres().await?;
    let mut url = Url::parse(&db.settings().url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = Proxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let vars = [
        ("DATABASE_URL", url.as_str()),
        ("DB_ACQUIRE_TIMEOUT_SECS", acquire_timeout_secs),
    ];
    let app = spawn_app(db, &vars).await;
    Some((proxy, Arc::new(app)))
}

/// What the writers saw.
#[derive(Default)]
struct Outcome {
    acknowledged: Vec<String>,
    unavailable: usize,
}

/// Creates tasks until `stop`, checking each answer is a 201 or a prompt 503 with `Retry-After`.
async fn writer(app: Arc<TestApp>, writer: usize, stop: Arc<AtomicBool>) -> Outcome {
    let mut outcome = Outcome::default();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let started = Instant::now();
        let response = app
            .create(
                "alice",
                &json!({"title": format!("writer {writer} task {n}")}),
            )
            .await;
        assert!(started.elapsed() < DEADLINE, "took {:?}", started.elapsed());
        match response.status() {
            StatusCode::CREATED => {
                let task: Value = response.json().await.unwrap();
                outcome
                    .acknowledged
                    .push(task["id"].as_str().unwrap().to_owned());
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(response.headers().contains_key("retry-after"));
                outcome.unavailable += 1;
            }
            other => panic!("unexpected status {other}: {:?}", response.text().await),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    outcome
}

async fn status_of(app: &TestApp, path: &str) -> u16 {
    let started = Instant::now();
    let status = app.get_anonymous(path).await.status().as_u16();
    assert!(
        started.elapsed() < DEADLINE,
        "{path} took {:?}",
        started.elapsed()
    );
    status
}

/// Polls `path` until it answers `want`, and returns how long that took.
async fn until_status(app: &TestApp, path: &str, want: u16) -> Duration {
    let started = Instant::now();
    while status_of(app, path).await != want {
        assert!(started.elapsed() < DEADLINE, "{path} never answered {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

/// Every task id of alice's, page by page.
async fn all_task_ids(app: &TestApp) -> HashSet<String> {
    let mut ids = HashSet::new();
    loop {
        let page: Vec<Value> = app
            .get(
                "alice",
                &format!("/api/alice/tasks?limit=100&offset={}", ids.len()),
            )
            .await
            .json()
            .await
            .unwrap();
        if page.is_empty() {
            return ids;
        }
        ids.extend(page.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_and_service_resumes_without_a_restart() {
    let Some((proxy, app)) = behind_a_proxy("2").await else {
        return;
    };
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = JoinSet::new();
    for n in 0..WRITERS {
        writers.spawn(writer(Arc::clone(&app), n, Arc::clone(&stop)));
    }

    tokio::time::sleep(Duration::from_secs(1)).await;
    proxy.set(Link::Down);
    until_status(&app, "/ready", 503).await;
    assert_eq!(status_of(&app, "/health").await, 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(status_of(&app, "/ready").await, 503);

    proxy.set(Link::Up);
    let recovery = until_status(&app, "/ready", 200).await;
    let after = app
        .create("alice", &json!({"title": "after the outage"}))
        .await;
    assert_eq!(after.status(), 201, "service resumed without a restart");
    let after: Value = after.json().await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let outcomes = writers.join_all().await;

    let mut acknowledged: Vec<&String> = outcomes.iter().flat_map(|o| &o.acknowledged).collect();
    let after = after["id"].as_str().unwrap().to_owned();
    acknowledged.push(&after);
    let unavailable: usize = outcomes.iter().map(|o| o.unavailable).sum();
    assert!(unavailable > 0, "the outage was seen by the writers");
    let stored = all_task_ids(&app).await;
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|id| !stored.contains(id.as_str()))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    // A create cut after its commit answers 503 yet exists; nothing else may appear.
    assert!(stored.len() <= acknowledged.len() + unavailable);
    eprintln!(
        "outage: {} tasks acknowledged, {unavailable} answered 503, {} stored; ready again {recovery:?} after the database",
        acknowledged.len(),
        stored.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_stops_answering_gets_503_within_the_deadline() {
    // A request's deadline is twice the acquire timeout: 2 s here.
    let Some((proxy, app)) = behind_a_proxy("1").await else {
        return;
    };
    let before = app.create("alice", &json!({"title": "before"})).await;
    assert_eq!(before.status(), 201);

    proxy.set(Link::Silent);
    let mut clients = JoinSet::new();
    for n in 0..WRITERS {
        let app = Arc::clone(&app);
        clients.spawn(async move {
            let started = Instant::now();
            let response = app
                .create("alice", &json!({"title": format!("during {n}")}))
                .await;
            (
                response.status(),
                response.headers().contains_key("retry-after"),
                started.elapsed(),
            )
        });
    }
    for (status, retry_after, took) in clients.join_all().await {
        assert_eq!(status, 503);
        assert!(retry_after);
        assert!(took < DEADLINE, "took {took:?}");
    }
    assert_eq!(status_of(&app, "/ready").await, 503);
    assert_eq!(status_of(&app, "/health").await, 200);

    proxy.set(Link::Up);
    until_status(&app, "/ready", 200).await;
    let after = app.create("alice", &json!({"title": "after"})).await;
    assert_eq!(after.status(), 201, "service resumed without a restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stream_resumes_after_an_outage_with_what_was_written_since() {
    let Some((proxy, app)) = behind_a_proxy("2").await else {
        return;
    };
    let mut live = EventStream::open(&app.address, "alice", None).await;
    app.create_ok("alice", &json!({"title": "before"})).await;
    let before = live.next().await.expect("an event");

    proxy.set(Link::Down);
    until_status(&app, "/ready", 503).await;
    proxy.set(Link::Up);
    until_status(&app, "/ready", 200).await;
    app.create_ok("alice", &json!({"title": "after"})).await;
    let mut resumed = EventStream::open(&app.address, "alice", Some(&before.id)).await;
    let event = resumed
        .next()
        .await
        .expect("the change made after the outage");
    assert!(event.data.contains("\"after\""), "{event:?}");
}
