use std::sync::Arc;

use anyhow::anyhow;
use mockall::predicate::{always, eq};
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::clock::MockClock;
use crate::idempotency::{KeyRefusal, Reservation};
use crate::position::{End, Slot};
use crate::task::{Priority, TaskTitle};
use crate::testing::{MockPorts, new_task};

const NOW: OffsetDateTime = datetime!(2026-01-08 10:00 UTC);

fn alice() -> AuthenticatedUser {
    AuthenticatedUser::new(UserId::parse("alice").unwrap(), None, None)
}

fn stored_task() -> Task {
    Task::create(
        TaskId::generate(),
        alice().id().clone(),
        new_task("Buy milk"),
        NOW,
    )
    .expect("a valid task")
}

/// The test's view of the shared mocks: a clock stopped at `NOW`.
trait PortsAtNow {
    fn expect_ensure_alice(&mut self);
    fn service(self) -> TaskService;
}

impl PortsAtNow for MockPorts {
    fn expect_ensure_alice(&mut self) {
        self.users
            .expect_ensure()
            .with(eq(alice()), eq(NOW))
            .times(1)
            .returning(|_, _| Ok(()));
    }

    fn service(self) -> TaskService {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        self.services(Arc::new(clock)).0
    }
}

fn key() -> IdempotencyKey {
    IdempotencyKey::parse("key-1").unwrap()
}

fn fingerprint() -> Fingerprint {
    Fingerprint::new("digest")
}

#[tokio::test]
async fn create_provisions_the_caller_then_inserts_a_task_they_own() {
    let mut ports = MockPorts::default();
    ports.expect_ensure_alice();
    ports
        .tasks
        .expect_insert()
        .withf(|task| {
            task.owner().as_str() == "alice"
                && task.title().as_str() == "Buy milk"
                && task.created_at() == NOW
                && task.version() == Version::INITIAL
        })
        .times(1)
        .returning(|task| Ok(task.clone()));

    let task = ports
        .service()
        .create(&alice(), new_task("Buy milk"))
        .await
        .unwrap();

    assert_eq!(task.owner(), alice().id());
}

#[tokio::test]
async fn create_does_not_insert_when_provisioning_fails() {
    let mut ports = MockPorts::default();
    ports
        .users
        .expect_ensure()
        .return_once(|_, _| Err(RepoError::Unavailable(anyhow!("refused"))));

    let result = ports.service().create(&alice(), new_task("x")).await;

    assert!(matches!(result, Err(TaskError::Unavailable(_))));
}

#[tokio::test]
async fn get_asks_the_repository_for_the_owners_task_only() {
    let mut ports = MockPorts::default();
    let task = stored_task();
    let id = task.id();
    ports
        .tasks
        .expect_get()
        .with(eq(UserId::parse("bob").unwrap()), eq(id))
        .times(1)
        .return_once(|_, _| Err(RepoError::NotFound));

    let result = ports
        .service()
        .get(&UserId::parse("bob").unwrap(), id)
        .await;

    assert!(matches!(result, Err(TaskError::NotFound)));
}

#[tokio::test]
async fn update_writes_the_patched_task_guarded_by_the_version_read() {
    let mut ports = MockPorts::default();
    let task = stored_task();
    let id = task.id();
    ports.tasks.expect_get().return_once(move |_, _| Ok(task));
    ports
        .tasks
        .expect_update()
        .withf(|previous, task| {
            task.priority() == Priority::High
                && task.version() == Version::INITIAL.next()
                && previous.version() == Version::INITIAL
        })
        .times(1)
        .returning(|_, task| Ok(task.clone()));
    let patch = TaskPatch {
        priority: Some(Priority::High),
        ..TaskPatch::default()
    };

    let updated = ports
        .service()
        .update(alice().id(), id, patch, Some(Version::INITIAL))
        .await
        .unwrap();

    assert_eq!(updated.priority(), Priority::High);
}

#[tokio::test]
async fn update_with_a_stale_if_match_fails_and_writes_nothing() {
    let mut ports = MockPorts::default();
    let task = stored_task();
    let id = task.id();
    ports.tasks.expect_get().return_once(move |_, _| Ok(task));
    ports.tasks.expect_update().never();

    let result = ports
        .service()
        .update(alice().id(), id, TaskPatch::default(), Version::new(7))
        .await;

    assert!(matches!(result, Err(TaskError::PreconditionFailed)));
}

#[tokio::test]
async fn update_with_if_match_that_loses_a_race_is_a_failed_precondition() {
    let mut ports = MockPorts::default();
    let task = stored_task();
    let id = task.id();
    ports.tasks.expect_get().return_once(move |_, _| Ok(task));
    ports
        .tasks
        .expect_update()
        .times(1)
        .returning(|_, _| Err(RepoError::VersionMismatch));
    let patch = TaskPatch {
        priority: Some(Priority::Low),
        ..TaskPatch::default()
    };

    let result = ports
        .service()
        .update(alice().id(), id, patch, Some(Version::INITIAL))
        .await;

    assert!(matches!(result, Err(TaskError::PreconditionFailed)));
}

#[tokio::test]
async fn update_without_if_match_retries_on_the_fresh_task_after_losing_a_race() {
    let mut ports = MockPorts::default();
    let task = stored_task();
    let id = task.id();
    let mut newer = task.clone();
    newer
        .apply(
            TaskPatch {
                title: Some(TaskTitle::parse("Buy bread").unwrap()),
                ..TaskPatch::default()
            },
            NOW,
        )
        .expect("a valid patch");
    let mut reads = vec![newer, task];
    ports
        .tasks
        .expect_get()
        .times(2)
        .returning(move |_, _| Ok(reads.pop().unwrap()));
    let mut writes = 0;
    ports
        .tasks
        .expect_update()
        .times(2)
        .returning(move |previous, task| {
            writes += 1;
            if writes == 1 {
                assert_eq!(previous.version(), Version::INITIAL);
                Err(RepoError::VersionMismatch)
            } else {
                assert_eq!(previous.version(), Version::INITIAL.next());
                Ok(task.clone())
            }
        });
    let patch = TaskPatch {
        priority: Some(Priority::High),
        ..TaskPatch::default()
    };

    let updated = ports
        .service()
        .update(alice().id(), id, patch, None)
        .await
        .unwrap();

    assert_eq!(updated.title().as_str(), "Buy bread");
    assert_eq!(updated.priority(), Priority::High);
}

#[tokio::test]
async fn update_that_keeps_losing_races_reports_busy() {
    let mut ports = MockPorts::default();
    let task = stored_task();
    let id = task.id();
    ports
        .tasks
        .expect_get()
        .times(crate::repo::WRITE_ATTEMPTS)
        .returning(move |_, _| Ok(task.clone()));
    ports
        .tasks
        .expect_update()
        .times(crate::repo::WRITE_ATTEMPTS)
        .returning(|_, _| Err(RepoError::VersionMismatch));
    let patch = TaskPatch {
        priority: Some(Priority::High),
        ..TaskPatch::default()
    };

    let result = ports.service().update(alice().id(), id, patch, None).await;

    assert!(matches!(result, Err(TaskError::Busy)));
}

#[tokio::test]
async fn update_that_changes_nothing_does_not_write() {
    let mut ports = MockPorts::default();
    let task = stored_task();
    let id = task.id();
    ports.tasks.expect_get().return_once(move |_, _| Ok(task));
    ports.tasks.expect_update().never();

    let same = ports
        .service()
        .update(alice().id(), id, TaskPatch::default(), None)
        .await
        .unwrap();

    assert_eq!(same.version(), Version::INITIAL);
}

#[tokio::test]
async fn delete_passes_owner_and_expected_version() {
    let mut ports = MockPorts::default();
    let id = TaskId::generate();
    ports
        .tasks
        .expect_delete()
        .with(eq(alice().id().clone()), eq(id), eq(Some(Version::INITIAL)))
        .times(1)
        .returning(|_, _, _| Err(RepoError::VersionMismatch));

    let result = ports
        .service()
        .delete(alice().id(), id, Some(Version::INITIAL))
        .await;

    assert!(matches!(result, Err(TaskError::PreconditionFailed)));
}

#[tokio::test]
async fn set_completion_is_left_to_the_repositorys_atomic_statement() {
    let mut ports = MockPorts::default();
    let task = stored_task();
    let id = task.id();
    ports
        .tasks
        .expect_set_completion()
        .with(
            eq(alice().id().clone()),
            eq(id),
            eq(Completion::Toggle),
            eq(None),
            eq(NOW),
        )
        .times(1)
        .return_once(move |_, _, _, _, _| Ok(CompletionWrite::Done(task)));

    ports
        .service()
        .set_completion(alice().id(), id, Completion::Toggle, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn list_stats_and_clear_are_scoped_to_the_owner() {
    let mut ports = MockPorts::default();
    let owner = alice().id().clone();
    ports
        .tasks
        .expect_list()
        .with(eq(owner.clone()), eq(TaskQuery::default()))
        .times(1)
        .returning(|_, _| {
            Ok(TaskPage {
                tasks: vec![],
                total: 0,
            })
        });
    ports
        .tasks
        .expect_stats()
        .with(eq(owner.clone()), eq(None), eq(NOW))
        .times(1)
        .returning(|_, _, _| Ok(TaskStats::default()));
    ports
        .tasks
        .expect_delete_completed()
        .with(eq(owner.clone()), eq(None))
        .times(1)
        .returning(|_, _| Ok(3));
    let service = ports.service();

    assert_eq!(
        service
            .list(&owner, &TaskQuery::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        service.stats(&owner, None).await.unwrap(),
        TaskStats::default()
    );
    assert_eq!(service.delete_completed(&owner, None).await.unwrap(), 3);
}

#[tokio::test]
async fn keyed_create_inserts_once_and_stores_the_rendered_response() {
    let mut ports = MockPorts::default();
    ports.expect_ensure_alice();
    ports
        .keys
        .expect_reserve()
        .with(
            eq(alice().id().clone()),
            eq(key()),
            eq(fingerprint()),
            eq(NOW),
        )
        .times(1)
        .returning(|_, _, _, _| Ok(Reservation::Reserved));
    ports
        .tasks
        .expect_insert()
        .times(1)
        .returning(|task| Ok(task.clone()));
    ports
        .keys
        .expect_complete()
        .withf(|owner, key, response| {
            owner.as_str() == "alice" && key.as_str() == "key-1" && response.body == "Buy milk"
        })
        .times(1)
        .returning(|_, _, _| Ok(()));

    let created = ports
        .service()
        .create_once(
            &alice(),
            &key(),
            &fingerprint(),
            new_task("Buy milk"),
            |t| t.title().as_str().to_owned(),
        )
        .await
        .unwrap();

    assert!(!created.replayed);
    assert_eq!(created.response.version, Version::INITIAL);
}

#[tokio::test]
async fn keyed_create_replays_the_first_response_and_inserts_nothing() {
    let mut ports = MockPorts::default();
    ports.expect_ensure_alice();
    let first = StoredResponse {
        resource: uuid::Uuid::now_v7(),
        version: Version::INITIAL,
        body: "{\"first\":true}".into(),
    };
    let replay = first.clone();
    ports
        .keys
        .expect_reserve()
        .return_once(move |_, _, _, _| Ok(Reservation::Replay(replay)));
    ports.tasks.expect_insert().never();

    let created = ports
        .service()
        .create_once(&alice(), &key(), &fingerprint(), new_task("x"), |_| {
            unreachable!("a replay renders nothing")
        })
        .await
        .unwrap();

    assert!(created.replayed);
    assert_eq!(created.response, first);
}

#[tokio::test]
async fn keyed_create_with_another_body_is_a_mismatch() {
    let mut ports = MockPorts::default();
    ports.expect_ensure_alice();
    ports
        .keys
        .expect_reserve()
        .return_once(|_, _, _, _| Ok(Reservation::Mismatch));
    ports.tasks.expect_insert().never();

    let result = ports
        .service()
        .create_once(&alice(), &key(), &fingerprint(), new_task("x"), |_| {
            String::new()
        })
        .await;

    assert!(matches!(result, Err(TaskError::Key(KeyRefusal::Mismatch))));
}

#[tokio::test]
async fn keyed_create_while_the_first_is_running_is_in_flight() {
    let mut ports = MockPorts::default();
    ports.expect_ensure_alice();
    ports
        .keys
        .expect_reserve()
        .return_once(|_, _, _, _| Ok(Reservation::InFlight));

    let result = ports
        .service()
        .create_once(&alice(), &key(), &fingerprint(), new_task("x"), |_| {
            String::new()
        })
        .await;

    assert!(matches!(result, Err(TaskError::Key(KeyRefusal::InFlight))));
}

#[tokio::test]
async fn keyed_create_that_fails_to_insert_releases_the_key() {
    let mut ports = MockPorts::default();
    ports.expect_ensure_alice();
    ports
        .keys
        .expect_reserve()
        .return_once(|_, _, _, _| Ok(Reservation::Reserved));
    ports
        .tasks
        .expect_insert()
        .return_once(|_| Err(RepoError::Unavailable(anyhow!("timed out"))));
    ports
        .keys
        .expect_release()
        .with(eq(alice().id().clone()), eq(key()))
        .times(1)
        .returning(|_, _| Ok(()));
    ports.keys.expect_complete().never();

    let result = ports
        .service()
        .create_once(&alice(), &key(), &fingerprint(), new_task("x"), |_| {
            String::new()
        })
        .await;

    assert!(matches!(result, Err(TaskError::Unavailable(_))));
}

#[tokio::test]
async fn keyed_create_returns_the_task_even_if_the_response_cannot_be_stored() {
    let mut ports = MockPorts::default();
    ports.expect_ensure_alice();
    ports
        .keys
        .expect_reserve()
        .return_once(|_, _, _, _| Ok(Reservation::Reserved));
    ports
        .tasks
        .expect_insert()
        .returning(|task| Ok(task.clone()));
    ports
        .keys
        .expect_complete()
        .with(always(), always(), always())
        .return_once(|_, _, _| Err(RepoError::Unavailable(anyhow!("gone"))));

    let created = ports
        .service()
        .create_once(&alice(), &key(), &fingerprint(), new_task("x"), |_| {
            "body".into()
        })
        .await
        .unwrap();

    assert_eq!(created.response.body, "body");
}

#[test]
fn repository_errors_map_to_use_case_errors() {
    assert!(matches!(
        TaskError::from(RepoError::NotFound),
        TaskError::NotFound
    ));
    assert!(matches!(
        TaskError::from(RepoError::VersionMismatch),
        TaskError::PreconditionFailed
    ));
    assert!(matches!(
        TaskError::from(RepoError::Conflict),
        TaskError::Unexpected(_)
    ));
}

#[tokio::test]
async fn purging_forgets_keys_older_than_the_retention() {
    let mut ports = MockPorts::default();
    ports
        .keys
        .expect_purge()
        .with(eq(NOW - crate::idempotency::RETENTION))
        .times(1)
        .returning(|_| Ok(4));

    assert_eq!(ports.service().purge_expired_keys().await.unwrap(), 4);
}

#[tokio::test]
async fn a_subtask_is_created_in_its_parents_list() {
    let mut ports = MockPorts::default();
    ports.expect_ensure_alice();
    let list = crate::list::ListId::generate();
    let mut parent_new = new_task("parent");
    parent_new.list = Some(Some(list));
    let parent = Task::create(TaskId::generate(), alice().id().clone(), parent_new, NOW)
        .expect("a valid task");
    let parent_id = parent.id();
    ports
        .tasks
        .expect_get()
        .with(eq(alice().id().clone()), eq(parent_id))
        .return_once(move |_, _| Ok(parent));
    ports
        .tasks
        .expect_insert()
        .withf(move |task| task.list() == Some(list) && task.parent() == Some(parent_id))
        .times(1)
        .returning(|task| Ok(task.clone()));
    let mut new = new_task("child");
    new.parent = Some(parent_id);

    ports.service().create(&alice(), new).await.unwrap();
}

#[tokio::test]
async fn a_parent_that_is_not_the_callers_is_a_field_error_and_nothing_is_written() {
    let mut ports = MockPorts::default();
    ports.expect_ensure_alice();
    ports
        .tasks
        .expect_get()
        .returning(|_, _| Err(RepoError::NotFound));
    ports.tasks.expect_insert().never();
    let mut new = new_task("child");
    new.parent = Some(TaskId::generate());

    let result = ports.service().create(&alice(), new).await;

    assert!(matches!(result, Err(TaskError::Invalid(e)) if e.field() == "parent_id"));
}

#[tokio::test]
async fn a_move_to_an_end_of_its_siblings_reads_nothing_first() {
    let mut ports = MockPorts::default();
    let task = stored_task();
    let (id, version) = (task.id(), task.version());
    ports.tasks.expect_get().never();
    ports.tasks.expect_place().never();
    ports
        .tasks
        .expect_place_at_end()
        .withf(move |_, moved, end, expected, _| {
            (*moved, *end, *expected) == (id, End::Last, Some(version))
        })
        .times(1)
        .returning(move |_, _, _, _, _| Ok(Some(task.clone())));
    let request = MoveRequest {
        list: None,
        parent: Some(None),
        slot: Slot::Last,
    };

    ports
        .service()
        .place(alice().id(), id, request, Some(version))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_move_without_if_match_is_retried_on_the_fresh_version() {
    let mut ports = MockPorts::default();
    let task = stored_task();
    let id = task.id();
    // The write to the front leaves it (say, to a subtask), so it is read and placed.
    ports
        .tasks
        .expect_place_at_end()
        .times(1)
        .returning(|_, _, _, _, _| Ok(None));
    let mut reads = vec![task.clone(), task.clone()];
    ports
        .tasks
        .expect_get()
        .times(2)
        .returning(move |_, _| Ok(reads.pop().unwrap()));
    let mut attempts = 0;
    ports
        .tasks
        .expect_place()
        .times(2)
        .returning(move |_, _, destination, _, _| {
            attempts += 1;
            assert_eq!(destination.slot, Slot::First);
            if attempts == 1 {
                Err(RepoError::VersionMismatch)
            } else {
                Ok(stored_task())
            }
        });
    let request = MoveRequest {
        list: None,
        parent: None,
        slot: Slot::First,
    };

    ports
        .service()
        .place(alice().id(), id, request, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_listing_of_a_list_that_is_not_the_owners_is_list_not_found() {
    let mut ports = MockPorts::default();
    ports.tasks.expect_list().returning(|_, _| {
        Ok(TaskPage {
            tasks: vec![],
            total: 0,
        })
    });
    ports
        .lists
        .expect_get()
        .returning(|_, _| Err(RepoError::NotFound));
    let query = TaskQuery {
        list: Some(ListFilter::List(crate::list::ListId::generate())),
        ..TaskQuery::default()
    };

    let result = ports.service().list(alice().id(), &query).await;

    assert!(matches!(result, Err(TaskError::ListNotFound)));
}

/// A task due at `due` that repeats daily in UTC, reminded an hour before, as stored.
fn daily_task(due: OffsetDateTime) -> Task {
    let new = NewTask {
        due_date: Some(crate::task::DueDate::new(due)),
        recurrence: Some(crate::task::Recurrence::parse("FREQ=DAILY;COUNT=3").unwrap()),
        remind_at: Some(crate::task::RemindAt::new(due - time::Duration::hours(1))),
        ..new_task("Water the plants")
    };
    Task::create(TaskId::generate(), alice().id().clone(), new, NOW).expect("a valid task")
}

/// Ports where `task` is stored and repeats: the atomic completion leaves it to the service.
fn storing_recurring(task: &Task) -> MockPorts {
    let mut ports = MockPorts::default();
    ports
        .tasks
        .expect_set_completion()
        .return_once(|_, _, _, _, _| Ok(CompletionWrite::Recurring));
    let stored = task.clone();
    ports.tasks.expect_get().return_once(move |_, _| Ok(stored));
    ports
}

#[tokio::test]
async fn completing_a_recurring_task_moves_it_to_its_next_occurrence_in_one_guarded_write() {
    let task = daily_task(datetime!(2026-01-08 09:00 UTC));
    let id = task.id();
    let mut ports = storing_recurring(&task);
    ports
        .tasks
        .expect_advance()
        .withf(move |previous, next| {
            previous.version() == Version::INITIAL
                && next.version() == Version::INITIAL.next()
                && !next.completed()
                && next.due_date().map(crate::task::DueDate::at)
                    == Some(datetime!(2026-01-09 09:00 UTC))
                && next.remind_at().map(crate::task::RemindAt::at)
                    == Some(datetime!(2026-01-09 08:00 UTC))
                && next.recurrence().map(crate::task::Recurrence::as_str)
                    == Some("FREQ=DAILY;COUNT=2")
        })
        .times(1)
        .return_once(|_, next| Ok(next.clone()));

    let next = ports
        .service()
        .set_completion(alice().id(), id, Completion::Toggle, None)
        .await
        .unwrap();
    assert!(!next.completed());
}

#[tokio::test]
async fn a_recurring_task_whose_series_is_spent_completes_as_any_other() {
    // Due five days ago, its three occurrences all passed by now.
    let task = daily_task(NOW - time::Duration::days(5));
    let id = task.id();
    let mut ports = storing_recurring(&task);
    ports
        .tasks
        .expect_update()
        .withf(|_, next| next.completed() && next.completed_at() == Some(NOW))
        .times(1)
        .return_once(|_, next| Ok(next.clone()));

    let done = ports
        .service()
        .set_completion(alice().id(), id, Completion::Set(true), None)
        .await
        .unwrap();
    assert!(done.completed());
}

#[tokio::test]
async fn a_recurring_task_changed_meanwhile_is_refused_with_if_match() {
    let task = daily_task(datetime!(2026-01-08 09:00 UTC));
    let id = task.id();
    let mut ports = storing_recurring(&task);
    ports
        .tasks
        .expect_advance()
        .return_once(|_, _| Err(RepoError::VersionMismatch));

    let result = ports
        .service()
        .set_completion(alice().id(), id, Completion::Toggle, Some(Version::INITIAL))
        .await;
    assert!(matches!(result, Err(TaskError::PreconditionFailed)));
}

#[tokio::test]
async fn clearing_the_due_date_of_a_recurring_task_is_refused_unless_recurrence_goes_too() {
    let mut ports = MockPorts::default();
    let task = daily_task(datetime!(2026-01-08 09:00 UTC));
    let id = task.id();
    let stored = task.clone();
    ports
        .tasks
        .expect_get()
        .times(2)
        .returning(move |_, _| Ok(stored.clone()));
    ports
        .tasks
        .expect_update()
        .withf(|_, next| next.due_date().is_none() && next.recurrence().is_none())
        .times(1)
        .return_once(|_, next| Ok(next.clone()));
    let service = ports.service();

    let clear_due = TaskPatch {
        due_date: Some(None),
        ..TaskPatch::default()
    };
    let refused = service
        .update(alice().id(), id, clear_due.clone(), None)
        .await;
    assert!(matches!(refused, Err(TaskError::Invalid(e)) if e.field() == "due_date"));
    let both = TaskPatch {
        recurrence: Some(None),
        ..clear_due
    };
    service.update(alice().id(), id, both, None).await.unwrap();
}
