//! shared/API.md, "Recurrence and reminders", on both backends; and reminders fired by several
//! instances on one PostgreSQL database.

use std::time::{Duration, Instant};

use adapters_postgres::testing::TestDatabase;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::{EventStream, TestApp, instance, problem_fields, token};

adapters_postgres::on_both_backends!(
    setup = crate::app;
    rules_and_zones_are_checked_and_returned_in_canonical_form,
    completing_a_recurring_task_moves_it_to_its_next_occurrence,
    due_dates_of_recurring_tasks_stay_consistent,
    a_due_reminder_is_one_event_and_not_a_change,
    completing_deleting_or_moving_a_reminder_later_disarms_it,
);

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

fn at(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().unwrap(), &Rfc3339).unwrap()
}

/// Tomorrow at 09:00 UTC: a due date in the future whatever the hour the tests run at.
fn tomorrow_at_nine() -> OffsetDateTime {
    let tomorrow = OffsetDateTime::now_utc().date().next_day().unwrap();
    tomorrow.with_hms(9, 0, 0).unwrap().assume_utc()
}

async fn send(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Response {
    let request = app.request(method, path, Some("alice"));
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.unwrap()
}

/// Toggles alice's task `id`.
async fn toggle(app: &TestApp, id: &str) -> Response {
    let path = format!("/api/alice/tasks/{id}/complete");
    let response = send(app, Method::PATCH, &path, None).await;
    assert_eq!(response.status(), 200);
    response
}

async fn complete(app: &TestApp, id: &str) -> Value {
    toggle(app, id).await.json().await.unwrap()
}

async fn rules_and_zones_are_checked_and_returned_in_canonical_form(app: &TestApp) {
    let due = rfc3339(tomorrow_at_nine());
    for (body, field) in [
        (
            json!({"title": "t", "due_date": due, "recurrence": "FREQ=HOURLY"}),
            "recurrence",
        ),
        (
            json!({"title": "t", "recurrence": "FREQ=DAILY"}),
            "recurrence",
        ),
        (
            json!({"title": "t", "due_date": due, "recurrence": "every day"}),
            "recurrence",
        ),
        (
            json!({"title": "t", "due_date": due, "recurrence": "x".repeat(501)}),
            "recurrence",
        ),
        (
            json!({"title": "t", "timezone": "Mars/Olympus_Mons"}),
            "timezone",
        ),
        (json!({"title": "t", "remind_at": "soon"}), "remind_at"),
    ] {
        let response = app.create("alice", &body).await;
        assert_eq!(response.status(), 422, "{body}");
        assert_eq!(problem_fields(response).await, [field], "{body}");
    }
    assert!(
        app.titles("alice", "").await.is_empty(),
        "nothing was created"
    );

    let plain = app.create_ok("alice", &json!({"title": "plain"})).await;
    assert_eq!(plain["recurrence"], Value::Null);
    assert_eq!(plain["timezone"], "UTC");
    assert_eq!(plain["remind_at"], Value::Null);

    let remind = rfc3339(tomorrow_at_nine() - time::Duration::minutes(15));
    let weekly = app
        .create_ok(
            "alice",
            &json!({
                "title": "team meeting",
                "due_date": due,
                "recurrence": "byday=MO,WE;freq=weekly;interval=1",
                "timezone": "Europe/Berlin",
                "remind_at": remind,
            }),
        )
        .await;
    assert_eq!(weekly["recurrence"], "FREQ=WEEKLY;BYDAY=MO,WE");
    assert_eq!(weekly["timezone"], "Europe/Berlin");
    assert_eq!(at(&weekly["remind_at"]), at(&json!(remind)));

    let id = weekly["id"].as_str().unwrap();
    let path = format!("/api/alice/tasks/{id}");
    let response = send(app, Method::PATCH, &path, Some(json!({"timezone": null}))).await;
    assert_eq!(problem_fields(response).await, ["timezone"]);
    let response = send(
        app,
        Method::PATCH,
        &path,
        Some(json!({"timezone": "America/New_York", "recurrence": "FREQ=MONTHLY;BYMONTHDAY=-1"})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["timezone"], "America/New_York");
    assert_eq!(changed["recurrence"], "FREQ=MONTHLY;BYMONTHDAY=-1");
}

async fn completing_a_recurring_task_moves_it_to_its_next_occurrence(app: &TestApp) {
    let due = tomorrow_at_nine();
    let remind = due - time::Duration::minutes(30);
    let task = app
        .create_ok(
            "alice",
            &json!({
                "title": "stand-up",
                "due_date": rfc3339(due),
                "recurrence": "FREQ=DAILY;COUNT=2",
                "remind_at": rfc3339(remind),
            }),
        )
        .await;
    let id = task["id"].as_str().unwrap();
    let step = app
        .create_ok("alice", &json!({"title": "notes", "parent_id": id}))
        .await;
    let step_id = step["id"].as_str().unwrap();
    complete(app, step_id).await;

    // Toggled: the next occurrence, still pending, with a new ETag.
    let before = app.get("alice", &format!("/api/alice/tasks/{id}")).await;
    let etag = before.headers()["etag"].to_str().unwrap().to_owned();
    let response = toggle(app, id).await;
    assert_ne!(response.headers()["etag"].to_str().unwrap(), etag);
    let next: Value = response.json().await.unwrap();
    assert_eq!(next["completed"], false);
    assert_eq!(next["completed_at"], Value::Null);
    assert_eq!(at(&next["due_date"]), due + time::Duration::days(1));
    assert_eq!(at(&next["remind_at"]), remind + time::Duration::days(1));
    assert_eq!(next["recurrence"], "FREQ=DAILY;COUNT=1");
    assert_eq!(
        next["completed_subtask_count"], 0,
        "the checklist starts afresh"
    );
    let step: Value = app
        .get("alice", &format!("/api/alice/tasks/{step_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(step["completed"], false);

    // A stale If-Match is refused, as for any task.
    let stale = app
        .request(
            Method::PATCH,
            &format!("/api/alice/tasks/{id}/complete"),
            Some("alice"),
        )
        .header("If-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);

    // Its COUNT spent, it completes as any task; reopened, it is pending again.
    let done = complete(app, id).await;
    assert_eq!(done["completed"], true);
    assert_eq!(at(&done["due_date"]), due + time::Duration::days(1));
    let reopened = complete(app, id).await;
    assert_eq!(reopened["completed"], false);

    // An update that sets `completed` moves a recurring task on too.
    let weekly = app
        .create_ok(
            "alice",
            &json!({"title": "review", "due_date": rfc3339(due), "recurrence": "FREQ=WEEKLY"}),
        )
        .await;
    let weekly_id = weekly["id"].as_str().unwrap();
    let response = send(
        app,
        Method::PUT,
        &format!("/api/alice/tasks/{weekly_id}"),
        Some(json!({"completed": true})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let moved: Value = response.json().await.unwrap();
    assert_eq!(moved["completed"], false);
    assert_eq!(at(&moved["due_date"]), due + time::Duration::weeks(1));
}

async fn due_dates_of_recurring_tasks_stay_consistent(app: &TestApp) {
    let due = tomorrow_at_nine();
    let task = app
        .create_ok(
            "alice",
            &json!({"title": "gym", "due_date": rfc3339(due), "recurrence": "FREQ=DAILY"}),
        )
        .await;
    let id = task["id"].as_str().unwrap();
    let path = format!("/api/alice/tasks/{id}");

    let response = send(app, Method::PATCH, &path, Some(json!({"due_date": null}))).await;
    assert_eq!(response.status(), 422);
    assert_eq!(problem_fields(response).await, ["due_date"]);

    // Listing filters follow the moving due date.
    complete(app, id).await;
    let next_day = rfc3339(due + time::Duration::hours(12));
    assert!(
        app.titles("alice", &format!("?due_before={next_day}"))
            .await
            .is_empty()
    );
    assert_eq!(
        app.titles("alice", &format!("?due_after={next_day}")).await,
        ["gym"]
    );

    let response = send(
        app,
        Method::PATCH,
        &path,
        Some(json!({"due_date": null, "recurrence": null})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let plain: Value = response.json().await.unwrap();
    assert_eq!(plain["recurrence"], Value::Null);
    assert_eq!(plain["due_date"], Value::Null);
    // Now it completes as any task.
    assert_eq!(complete(app, id).await["completed"], true);
}

async fn a_due_reminder_is_one_event_and_not_a_change(app: &TestApp) {
    let mut stream = EventStream::open(&app.address, "alice", None).await;
    let remind_at = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let started = Instant::now();
    let task = app
        .create_ok(
            "alice",
            &json!({"title": "call the plumber", "remind_at": rfc3339(remind_at)}),
        )
        .await;

    let events = stream.until("reminder").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "fired within 5 s: {:?}",
        started.elapsed()
    );
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["task.created", "reminder"]);
    let reminder: Value = serde_json::from_str(&events[1].data).unwrap();
    assert_eq!(reminder["id"], task["id"]);
    assert_eq!(reminder["title"], "call the plumber");

    // Not a change: `/changes` from before it has nothing.
    let changes: Value = app
        .get(
            "alice",
            &format!("/api/alice/changes?since={}", events[0].id),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changes["tasks"], json!([]));
    assert_eq!(changes["deleted_tasks"], json!([]));
    // But in the history: a stream resuming from before it replays it, once.
    let mut resumed = EventStream::open(&app.address, "alice", Some(&events[0].id)).await;
    let replayed = resumed.until("reminder").await;
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0].id, events[1].id);
}

async fn completing_deleting_or_moving_a_reminder_later_disarms_it(app: &TestApp) {
    let soon = rfc3339(OffsetDateTime::now_utc() + time::Duration::seconds(2));
    let mut ids = Vec::new();
    for title in ["completed", "deleted", "moved", "kept"] {
        let task = app
            .create_ok("alice", &json!({"title": title, "remind_at": soon}))
            .await;
        ids.push(task["id"].as_str().unwrap().to_owned());
    }
    let mut stream = EventStream::open(&app.address, "alice", None).await;
    complete(app, &ids[0]).await;
    let deleted = send(
        app,
        Method::DELETE,
        &format!("/api/alice/tasks/{}", ids[1]),
        None,
    )
    .await;
    assert_eq!(deleted.status(), 204);
    let later = rfc3339(OffsetDateTime::now_utc() + time::Duration::hours(1));
    let moved = send(
        app,
        Method::PATCH,
        &format!("/api/alice/tasks/{}", ids[2]),
        Some(json!({"remind_at": later})),
    )
    .await;
    assert_eq!(moved.status(), 200);

    let events = stream.until("reminder").await;
    let reminded: Value = serde_json::from_str(&events.last().unwrap().data).unwrap();
    assert_eq!(reminded["title"], "kept", "the only one still armed");
    // Nothing else fires in the next rounds.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut resumed =
        EventStream::open(&app.address, "alice", Some(&events.last().unwrap().id)).await;
    app.create_ok("alice", &json!({"title": "marker"})).await;
    let after = resumed.until("task.created").await;
    assert_eq!(after.len(), 1, "{after:?}");
}

/// Two instances on one PostgreSQL database, 200 reminders falling due at once: each fires
/// once, on one instance or the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_race_to_fire_200_reminders_and_exactly_200_fire() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let (a, _stop_a) = instance(&db).await;
    let (b, _stop_b) = instance(&db).await;
    let client = reqwest::Client::new();
    let due = rfc3339(OffsetDateTime::now_utc() + time::Duration::seconds(4));
    let mut creations = tokio::task::JoinSet::new();
    for n in 0..200 {
        let (client, due) = (client.clone(), due.clone());
        let address = if n % 2 == 0 { a.clone() } else { b.clone() };
        creations.spawn(async move {
            let user = format!("racer{}", n % 10);
            let response = client
                .post(format!("{address}/api/me/tasks"))
                .bearer_auth(token(&user))
                .json(&json!({"title": format!("reminder {n}"), "remind_at": due}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
        });
    }
    creations.join_all().await;

    let deadline = Instant::now() + Duration::from_secs(15);
    while db.count("SELECT COUNT(*) FROM reminders").await > 0 {
        assert!(Instant::now() < deadline, "every reminder fired in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A round of both instances more: nothing fires twice.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM changes WHERE op = 3").await,
        200
    );
    assert_eq!(
        db.count("SELECT COUNT(DISTINCT entity) FROM changes WHERE op = 3")
            .await,
        200
    );
}

/// A reminder that falls due while no instance runs fires when one starts. Also shows the
/// scheduler stopping with its instance: the stopped instance's tasks would go on running in
/// this test's runtime, and nothing fires while it is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reminder_due_while_every_instance_was_down_fires_at_the_next_start() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let (a, stop_a) = instance(&db).await;
    let client = reqwest::Client::new();
    let soon = rfc3339(OffsetDateTime::now_utc() + time::Duration::seconds(2));
    let response = client
        .post(format!("{a}/api/me/tasks"))
        .bearer_auth(token("alice"))
        .json(&json!({"title": "while away", "remind_at": soon}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    stop_a.graceful().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM changes WHERE op = 3").await,
        0
    );

    let (b, _stop_b) = instance(&db).await;
    let mut stream = EventStream::open(&b, "alice", Some("0")).await;
    let events = stream.until("reminder").await;
    let reminded: Value = serde_json::from_str(&events.last().unwrap().data).unwrap();
    assert_eq!(reminded["title"], "while away");
}
