//! `spawn_app` and a client with one helper per route.

use std::collections::HashMap;
use std::time::Duration;

use adapters_jwt::{DevTokenRequest, sign_hs256};
use adapters_postgres::testing::TestDatabase;
use api_actix::config::Settings;
use api_actix::startup::Application;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

pub const SECRET: &str = "a-test-secret-that-is-at-least-32-bytes-long";

/// A running server and what it runs on.
pub struct TestApp {
    pub address: String,
    /// Where `/metrics` is served, when the test asked for it (`METRICS_ADDR`).
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    /// Dropped with the app: the PostgreSQL schema goes with it.
    pub db: TestDatabase,
}

/// Starts the server on a random port with the test secret, rate limiting off unless `extra`
/// says otherwise.
pub async fn spawn_app(db: TestDatabase, extra: &[(&str, &str)]) -> TestApp {
    let application = Application::build(test_settings(&db, extra))
        .await
        .expect("the app builds");
    serve(application, db)
}

/// Runs a built server in the background.
pub fn serve(application: Application, db: TestDatabase) -> TestApp {
    let address = format!("http://127.0.0.1:{}", application.port());
    let metrics_address = application
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        db,
    }
}

/// Starts an instance on `db`, draining for one second when stopped: one of several on one
/// database. Returns its address and what stops it.
pub async fn instance(db: &TestDatabase) -> (String, api_actix::shutdown::Shutdown) {
    let application = Application::build(test_settings(db, &[("SHUTDOWN_DELAY_SECS", "1")]))
        .await
        .expect("the instance comes up");
    let address = format!("http://127.0.0.1:{}", application.port());
    let shutdown = application.shutdown();
    tokio::spawn(application.run_until_stopped());
    (address, shutdown)
}

/// The settings of a test server on `db`: a random port, the test secret, rate limiting off
/// unless `extra` says otherwise.
pub fn test_settings(db: &TestDatabase, extra: &[(&str, &str)]) -> Settings {
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", db.settings().url.as_str()),
        ("DB_MAX_CONNECTIONS", "5"),
        ("PORT", "0"),
        ("BETTER_AUTH_SECRET", SECRET),
        ("RATE_LIMIT_RPS", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    Settings::from_vars(&vars, &std::env::temp_dir()).expect("test settings")
}

/// An HS256 token for `sub`, as a frontend would mint it.
pub fn token(sub: &str) -> String {
    sign_hs256(
        SECRET.as_bytes(),
        &DevTokenRequest {
            subject: sub,
            email: Some("someone@example.com"),
            ttl: Duration::from_mins(10),
            issuer: None,
            audience: None,
        },
    )
}

impl TestApp {
    /// A request as `user` (no token when `None`).
    pub fn request(&self, method: Method, path: &str, user: Option<&str>) -> RequestBuilder {
        let builder = self
            .client
            .request(method, format!("{}{path}", self.address));
        match user {
            Some(user) => builder.bearer_auth(token(user)),
            None => builder,
        }
    }

    /// A `GET` without a token.
    pub async fn get_anonymous(&self, path: &str) -> Response {
        self.request(Method::GET, path, None).send().await.unwrap()
    }

    pub async fn create(&self, user: &str, body: &Value) -> Response {
        self.request(Method::POST, &format!("/api/{user}/tasks"), Some(user))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a task and returns its JSON.
    pub async fn create_ok(&self, user: &str, body: &Value) -> Value {
        let response = self.create(user, body).await;
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    pub async fn get(&self, user: &str, path: &str) -> Response {
        self.request(Method::GET, path, Some(user))
            .send()
            .await
            .unwrap()
    }

    /// The titles of a listing, in order.
    pub async fn titles(&self, user: &str, query: &str) -> Vec<String> {
        let response = self.get(user, &format!("/api/{user}/tasks{query}")).await;
        assert_eq!(response.status(), 200, "{query}");
        let tasks: Vec<Value> = response.json().await.unwrap();
        tasks
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The `field`s of a 422 problem.
pub async fn problem_fields(response: Response) -> Vec<String> {
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts a problem+json error with this status and code.
pub async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], code);
    assert_eq!(problem["status"], status);
    assert!(problem["detail"].is_string());
    assert!(problem["request_id"].is_string());
    problem
}

/// A Server-Sent Events stream read event by event.
pub struct EventStream {
    response: Response,
    buffer: String,
}

/// One event: its `event` (as `name`), `id` and `data` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: String,
    pub id: String,
    pub data: String,
}

impl EventStream {
    /// Opens `/api/me/events` at `address` as `user`, after `last_event_id` when given.
    pub async fn open(address: &str, user: &str, last_event_id: Option<&str>) -> Self {
        let mut request = reqwest::Client::new()
            .get(format!("{address}/api/me/events"))
            .bearer_auth(token(user));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (comments skipped), or `None` when the stream ends; panics after 10 s.
    pub async fn next(&mut self) -> Option<Event> {
        tokio::time::timeout(Duration::from_secs(10), self.read())
            .await
            .expect("an event within 10 s")
    }

    async fn read(&mut self) -> Option<Event> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event {
                    name: String::new(),
                    id: String::new(),
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some((field, value)) = line.split_once(": ") {
                        match field {
                            "event" => value.clone_into(&mut event.name),
                            "id" => value.clone_into(&mut event.id),
                            "data" => value.clone_into(&mut event.data),
                            _ => {}
                        }
                    }
                }
                if !event.name.is_empty() {
                    return Some(event);
                }
            }
            let chunk = self.response.chunk().await.ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next events up to and including the first of kind `event`.
    pub async fn until(&mut self, event: &str) -> Vec<Event> {
        let mut seen = Vec::new();
        while let Some(next) = self.next().await {
            let done = next.name == event;
            seen.push(next);
            if done {
                return seen;
            }
        }
        panic!("the stream ended before a {event} event: {seen:?}");
    }
}
