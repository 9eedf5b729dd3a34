//! The log of a whole session, at debug level, holds no token, secret or task content.
//!
//! A binary of its own: the subscriber is global, and only this test's requests may reach it.

use std::io::Write;
use std::sync::{Arc, Mutex};

use adapters_jwt::{DevTokenRequest, sign_hs256};
use adapters_postgres::testing::TestDatabase;
use api_actix::config::{LogFormat, Settings};
use api_actix::startup::Application;
use api_actix::telemetry::{get_subscriber, init_subscriber};
use serde_json::json;

const SECRET: &str = "log-test-secret-that-is-long-enough-0123456789";
const TITLE: &str = "Confidential title 7f3a";
const DESCRIPTION: &str = "Private description b81c";
const TAG: &str = "secrettag42";
const SEARCH: &str = "needle9e5d";

/// Everything written to the log.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_session_logs_no_token_secret_or_task_content() {
    let log = Captured::default();
    let sink = log.clone();
    init_subscriber(get_subscriber("debug", LogFormat::Json, move || {
        sink.clone()
    }));
    let db = TestDatabase::sqlite().await;
    let vars = [
        ("DATABASE_URL", db.settings().url.as_str()),
        ("PORT", "0"),
        ("BETTER_AUTH_SECRET", SECRET),
        ("RATE_LIMIT_RPS", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let app = Application::build(Settings::from_vars(&vars, &std::env::temp_dir()).unwrap())
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let token = sign_hs256(
        SECRET.as_bytes(),
        &DevTokenRequest {
            subject: "alice",
            email: Some("alice@example.com"),
            ttl: std::time::Duration::from_mins(5),
            issuer: None,
            audience: None,
        },
    );
    let forged = format!("{token}x");
    let client = reqwest::Client::new();

    let created: serde_json::Value = client
        .post(format!("{base}/api/me/tasks"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "log-test-key")
        .json(&json!({"title": TITLE, "description": DESCRIPTION, "tags": [TAG]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task = format!("{base}/api/alice/tasks/{}", created["id"].as_str().unwrap());
    // A stream with the token in its URL, as `EventSource` opens it, open while the writes
    // below are streamed to it.
    let stream = client
        .get(format!("{base}/api/me/events?access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    for request in [
        client
            .get(format!("{base}/api/me/tasks?q={SEARCH}&tag={TAG}"))
            .bearer_auth(&token),
        client
            .patch(&task)
            .bearer_auth(&token)
            .json(&json!({"title": format!("{TITLE} v2")})),
        client
            .patch(&task)
            .bearer_auth(&token)
            .header("If-Match", "\"9\"")
            .json(&json!({"title": TITLE})),
        client
            .post(format!("{base}/api/me/tasks"))
            .bearer_auth(&token)
            .json(&json!({"title": "", "description": DESCRIPTION})),
        client.patch(format!("{task}/complete")).bearer_auth(&token),
        client
            .get(format!("{base}/api/alice/tasks"))
            .bearer_auth(&forged),
        client
            .get(format!("{base}/api/me"))
            .header("Cookie", format!("access_token={token}")),
        client.delete(&task).bearer_auth(&token),
    ] {
        request.send().await.unwrap();
    }
    drop(stream);

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("request finished"), "the session was logged");
    assert!(
        text.contains("\"user_id\":\"alice\""),
        "requests carry the user id"
    );
    let payload = token.split('.').nth(1).unwrap();
    let signature = token.rsplit('.').next().unwrap();
    for (what, needle) in [
        ("the token's payload", payload),
        ("the token's signature", signature),
        ("the secret", SECRET),
        ("the title", TITLE),
        ("the description", DESCRIPTION),
        ("the tag", TAG),
        ("the search text", SEARCH),
    ] {
        assert!(!text.contains(needle), "the log contains {what}");
    }
}
