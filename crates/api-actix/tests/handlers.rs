//! Handler tests over mocked ports: every error the domain can return maps to its status and
//! problem code, with nothing internal in the body.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{App, test, web};
use anyhow::anyhow;
use api_actix::live::Streams;
use api_actix::routes::routes;
use api_actix::shutdown::Draining;
use api_actix::state::{AppState, Readiness};
use domain::auth::{AuthError, MockTokenVerifier};
use domain::clock::SystemClock;
use domain::idempotency::Reservation;
use domain::repo::RepoError;
use domain::sync::{CursorError, MockChangeLog, SyncError, SyncService};
use domain::testing::MockPorts;
use domain::user::{AuthenticatedUser, UserId};
use serde_json::Value;

struct Ready(bool);

#[async_trait::async_trait]
impl Readiness for Ready {
    async fn is_ready(&self) -> bool {
        self.0
    }
}

/// The ports of one test; a call no test set up fails the test.
#[derive(Default)]
struct Ports {
    repos: MockPorts,
    changes: MockChangeLog,
    verifier: MockTokenVerifier,
    ready: bool,
}

impl Ports {
    fn signed_in_as_alice() -> Self {
        let mut ports = Self::default();
        ports.verifier.expect_verify().returning(|_| {
            Ok(Arc::new(AuthenticatedUser::new(
                UserId::parse("alice").unwrap(),
                None,
                None,
            )))
        });
        ports
    }

    fn state(self) -> AppState {
        let (tasks, lists, users) = self.repos.services(Arc::new(SystemClock));
        AppState {
            tasks,
            lists,
            users,
            sync: SyncService::new(Arc::new(self.changes), Arc::new(SystemClock)),
            streams: Arc::new(Streams::default()),
            verifier: Arc::new(self.verifier),
            readiness: Arc::new(Ready(self.ready)),
            cookie_name: "access_token".into(),
            draining: Draining::default(),
        }
    }
}

/// Sends a request to the routes over these ports; returns status, headers and JSON body.
async fn call(
    ports: Ports,
    request: test::TestRequest,
) -> (StatusCode, actix_web::http::header::HeaderMap, Value) {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(ports.state()))
            .configure(routes(None)),
    )
    .await;
    let response = test::call_service(
        &app,
        request
            .insert_header(("Authorization", "Bearer t"))
            .to_request(),
    )
    .await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, headers, json)
}

const TASK: &str = "/api/alice/tasks/01a20efb-818a-7532-abe9-5ceb8f539a28";

#[actix_web::test]
async fn a_missing_task_is_404() {
    let mut ports = Ports::signed_in_as_alice();
    ports
        .repos
        .tasks
        .expect_get()
        .returning(|_, _| Err(RepoError::NotFound));

    let (status, _, body) = call(ports, test::TestRequest::get().uri(TASK)).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
}

#[actix_web::test]
async fn an_unreachable_database_is_503_with_retry_after_and_no_cause() {
    let mut ports = Ports::signed_in_as_alice();
    ports.repos.tasks.expect_get().returning(|_, _| {
        Err(RepoError::Unavailable(anyhow!(
            "connection refused on 10.0.0.5"
        )))
    });

    let (status, headers, body) = call(ports, test::TestRequest::get().uri(TASK)).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers.get("retry-after").unwrap(), "5");
    assert_eq!(body["code"], "service_unavailable");
    assert!(!body.to_string().contains("10.0.0.5"));
}

#[actix_web::test]
async fn an_unexpected_failure_is_an_opaque_500() {
    let mut ports = Ports::signed_in_as_alice();
    ports.repos.tasks.expect_stats().returning(|_, _, _| {
        Err(RepoError::Unexpected(anyhow!(
            "syntax error at or near SELECT"
        )))
    });

    let (status, _, body) = call(
        ports,
        test::TestRequest::get().uri("/api/alice/tasks/stats"),
    )
    .await;

    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["code"], "internal");
    assert_eq!(body["detail"], "an internal error occurred");
}

#[actix_web::test]
async fn a_version_mismatch_on_delete_is_412() {
    let mut ports = Ports::signed_in_as_alice();
    ports
        .repos
        .tasks
        .expect_delete()
        .returning(|_, _, _| Err(RepoError::VersionMismatch));

    let request = test::TestRequest::delete()
        .uri(TASK)
        .insert_header(("If-Match", "\"3\""));
    let (status, _, body) = call(ports, request).await;

    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(body["code"], "precondition_failed");
}

fn keyed_create(key: &str) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/api/alice/tasks")
        .insert_header(("Idempotency-Key", key.to_owned()))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(r#"{"title": "t"}"#)
}

#[actix_web::test]
async fn an_idempotent_request_still_in_flight_is_409() {
    let mut ports = Ports::signed_in_as_alice();
    ports.repos.users.expect_ensure().returning(|_, _| Ok(()));
    ports
        .repos
        .keys
        .expect_reserve()
        .returning(|_, _, _, _| Ok(Reservation::InFlight));

    let (status, _, body) = call(ports, keyed_create("k")).await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "conflict");
}

#[actix_web::test]
async fn a_key_reused_with_another_body_is_422() {
    let mut ports = Ports::signed_in_as_alice();
    ports.repos.users.expect_ensure().returning(|_, _| Ok(()));
    ports
        .repos
        .keys
        .expect_reserve()
        .returning(|_, _, _, _| Ok(Reservation::Mismatch));

    let (status, _, body) = call(ports, keyed_create("k")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key");
}

#[actix_web::test]
async fn an_update_that_keeps_losing_races_is_409() {
    let mut ports = Ports::signed_in_as_alice();
    ports.repos.tasks.expect_get().returning(|owner, _| {
        Ok(domain::task::Task::create(
            domain::task::TaskId::generate(),
            owner.clone(),
            domain::task::NewTask {
                priority: domain::task::Priority::Low,
                ..domain::testing::new_task("t")
            },
            time::OffsetDateTime::UNIX_EPOCH,
        )
        .expect("a valid task"))
    });
    ports
        .repos
        .tasks
        .expect_update()
        .returning(|_, _| Err(RepoError::VersionMismatch));

    let request = test::TestRequest::patch()
        .uri(TASK)
        .insert_header(("Content-Type", "application/json"))
        .set_payload(r#"{"priority": "high"}"#);
    let (status, _, body) = call(ports, request).await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "conflict");
}

#[actix_web::test]
async fn an_unexpected_user_store_failure_is_500() {
    let mut ports = Ports::signed_in_as_alice();
    ports
        .repos
        .users
        .expect_ensure()
        .returning(|_, _| Err(RepoError::Unexpected(anyhow!("disk full"))));

    let (status, _, body) = call(ports, test::TestRequest::get().uri("/api/me")).await;

    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.to_string().contains("disk full"));
}

#[actix_web::test]
async fn every_refusal_reason_becomes_a_401_with_its_description() {
    for reason in [
        AuthError::Malformed,
        AuthError::Expired,
        AuthError::MissingExpiry,
        AuthError::NotYetValid,
        AuthError::BadSignature,
        AuthError::UnknownKey,
        AuthError::AlgorithmNotAllowed,
        AuthError::UnsupportedAlgorithm,
        AuthError::WrongIssuer,
        AuthError::WrongAudience,
        AuthError::NoSubject,
    ] {
        let mut ports = Ports::default();
        let refusal = reason.clone();
        ports
            .verifier
            .expect_verify()
            .returning(move |_| Err(refusal.clone()));

        let (status, headers, body) =
            call(ports, test::TestRequest::get().uri("/api/alice/tasks")).await;

        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["detail"], reason.to_string());
        let challenge = headers.get("www-authenticate").unwrap().to_str().unwrap();
        assert!(
            challenge.contains(&format!("error_description=\"{reason}\"")),
            "{challenge}"
        );
    }
}

#[actix_web::test]
async fn another_users_path_is_403_before_any_port_is_asked() {
    let (status, _, body) = call(
        Ports::signed_in_as_alice(),
        test::TestRequest::get().uri("/api/bob/tasks"),
    )
    .await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "forbidden");
}

#[actix_web::test]
async fn api_me_with_the_database_down_is_503() {
    let mut ports = Ports::signed_in_as_alice();
    ports
        .repos
        .users
        .expect_ensure()
        .returning(|_, _| Err(RepoError::Unavailable(anyhow!("timeout"))));

    let (status, _, _) = call(ports, test::TestRequest::get().uri("/api/me")).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[actix_web::test]
async fn ready_is_503_when_the_database_does_not_answer() {
    let (status, headers, body) =
        call(Ports::default(), test::TestRequest::get().uri("/ready")).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers.get("retry-after").unwrap(), "5");
    assert_eq!(body["code"], "service_unavailable");
}

/// What `/changes` answers when the change log fails with `error`.
async fn changes_failing(error: SyncError) -> (StatusCode, Value) {
    let mut ports = Ports::signed_in_as_alice();
    ports
        .changes
        .expect_read()
        .return_once(move |_, _, _, _| Err(error));
    let request = test::TestRequest::get()
        .uri("/api/me/changes?since=3")
        .insert_header(("Authorization", "Bearer t"));
    let (status, _, body) = call(ports, request).await;
    (status, body)
}

#[actix_web::test]
async fn sync_failures_map_to_their_statuses() {
    let (status, body) = changes_failing(SyncError::Cursor(CursorError::Expired)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("cursor_expired"))
    );
    let (status, body) = changes_failing(SyncError::Cursor(CursorError::Unknown)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "since");
    let unavailable = SyncError::Repo(RepoError::Unavailable(anyhow!("pool timed out")));
    let (status, body) = changes_failing(unavailable).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!body["detail"].as_str().unwrap().contains("pool"));
}
