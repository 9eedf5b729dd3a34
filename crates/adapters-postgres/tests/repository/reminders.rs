//! Reminders armed by the store's triggers and fired once into the owner's history; recurring
//! tasks left to the domain by the atomic completion, and moved on by `advance`.

use std::sync::Arc;

use adapters_postgres::testing::TestDatabase;
use adapters_postgres::{SeaChangeLog, SeaReminders};
use domain::reminder::Reminders;
use domain::sync::{ChangeLog, Cursor, Entry, Reading};
use domain::task::{
    Applied, Completion, CompletionWrite, DueDate, Recurrence, RemindAt, Task, TaskPatch,
    TaskRepository,
};
use domain::testing::new_task;
use time::Duration;

use crate::{NOW, Repos, Written};

adapters_postgres::on_both_backends!(
    setup = crate::database;
    a_due_reminder_fires_once_into_the_events_and_not_the_changes,
    a_reminder_waits_for_its_time_and_is_armed_again_when_moved,
    completed_and_deleted_tasks_do_not_remind,
    completing_a_recurring_task_is_the_domains_and_advance_reopens_its_checklist,
    firers_racing_for_the_same_200_reminders_fire_each_once,
);

/// Alice's task reminded at `at`.
async fn reminded(repos: &Repos, title: &str, at: time::OffsetDateTime) -> Task {
    let new = domain::task::NewTask {
        remind_at: Some(RemindAt::new(at)),
        ..new_task(title)
    };
    repos.add("alice", new, NOW).await
}

/// Alice's history after `from`, as `(kind, title)`, for `reading`.
async fn history(
    log: &SeaChangeLog,
    from: Cursor,
    reading: Reading,
) -> Vec<(&'static str, String)> {
    let owner = domain::user::UserId::parse("alice").unwrap();
    let page = log.read(&owner, Some(from), 100, reading).await.unwrap();
    page.changes
        .iter()
        .map(|change| match &change.entry {
            Entry::Reminder(task) => ("reminder", task.title().as_str().to_owned()),
            Entry::Task(task) => ("task", task.title().as_str().to_owned()),
            other => ("other", format!("{other:?}")),
        })
        .collect()
}

async fn head(log: &SeaChangeLog) -> Cursor {
    let owner = domain::user::UserId::parse("alice").unwrap();
    Cursor::After(log.head(&owner).await.unwrap())
}

async fn a_due_reminder_fires_once_into_the_events_and_not_the_changes(db: &TestDatabase) {
    let repos = Repos::new(db);
    let reminders = SeaReminders::new(db.store());
    let log = SeaChangeLog::new(db.store());
    reminded(&repos, "call mum", NOW - Duration::minutes(1)).await;
    let before = head(&log).await;

    assert_eq!(reminders.fire_due(NOW).await.unwrap(), 1);
    assert_eq!(reminders.fire_due(NOW).await.unwrap(), 0, "fired once");

    assert_eq!(
        history(&log, before, Reading::Events).await,
        [("reminder", "call mum".to_owned())]
    );
    assert!(history(&log, before, Reading::Changes).await.is_empty());
    // The cursor moves past it for both readers.
    assert_ne!(head(&log).await, before);
}

async fn a_reminder_waits_for_its_time_and_is_armed_again_when_moved(db: &TestDatabase) {
    let repos = Repos::new(db);
    let reminders = SeaReminders::new(db.store());
    let soon = NOW + Duration::minutes(10);
    let task = reminded(&repos, "stretch", soon).await;

    assert_eq!(reminders.fire_due(NOW).await.unwrap(), 0);
    assert_eq!(
        reminders
            .fire_due(soon - Duration::milliseconds(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(reminders.fire_due(soon).await.unwrap(), 1);

    // Moved later: armed again.
    let later = soon + Duration::minutes(10);
    let mut moved = task.clone();
    let patch = TaskPatch {
        remind_at: Some(Some(RemindAt::new(later))),
        ..TaskPatch::default()
    };
    assert_eq!(moved.apply(patch, NOW), Ok(Applied::Changed));
    let moved = repos.tasks.update(&task, &moved).await.unwrap();
    assert_eq!(reminders.fire_due(soon).await.unwrap(), 0);
    assert_eq!(reminders.fire_due(later).await.unwrap(), 1);

    // Cleared: gone.
    let mut cleared = moved.clone();
    let patch = TaskPatch {
        remind_at: Some(None),
        ..TaskPatch::default()
    };
    cleared.apply(patch, NOW).expect("a valid patch");
    repos.tasks.update(&moved, &cleared).await.unwrap();
    assert_eq!(db.count("SELECT COUNT(*) FROM reminders").await, 0);
}

async fn completed_and_deleted_tasks_do_not_remind(db: &TestDatabase) {
    let repos = Repos::new(db);
    let reminders = SeaReminders::new(db.store());
    let at = NOW + Duration::minutes(5);
    let done = reminded(&repos, "done", at).await;
    let deleted = reminded(&repos, "deleted", at).await;
    let owner = done.owner().clone();
    repos
        .tasks
        .set_completion(&owner, done.id(), Completion::Set(true), None, NOW)
        .await
        .unwrap()
        .task();
    repos
        .tasks
        .delete(&owner, deleted.id(), None)
        .await
        .unwrap();

    assert_eq!(reminders.fire_due(at).await.unwrap(), 0);
    // Its time passed while it was done: reopened, it does not remind late.
    repos
        .tasks
        .set_completion(&owner, done.id(), Completion::Set(false), None, NOW)
        .await
        .unwrap()
        .task();
    assert_eq!(reminders.fire_due(at).await.unwrap(), 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM reminders").await, 0);
}

async fn completing_a_recurring_task_is_the_domains_and_advance_reopens_its_checklist(
    db: &TestDatabase,
) {
    let f = crate::lists::Fixture::new(db).await;
    let reminders = SeaReminders::new(db.store());
    let due = NOW + Duration::hours(1);
    let new = domain::task::NewTask {
        due_date: Some(DueDate::new(due)),
        recurrence: Some(Recurrence::parse("FREQ=DAILY").unwrap()),
        remind_at: Some(RemindAt::new(due - Duration::minutes(15))),
        ..new_task("water the plants")
    };
    let parent = f.repos.add("alice", new, NOW).await;
    let step = f.task("fill the can", None, Some(parent.id())).await;
    let owner = parent.owner().clone();
    f.repos
        .tasks
        .set_completion(&owner, step.id(), Completion::Set(true), None, NOW)
        .await
        .unwrap()
        .task();
    let parent = f.repos.tasks.get(&owner, parent.id()).await.unwrap();

    let left = f
        .repos
        .tasks
        .set_completion(&owner, parent.id(), Completion::Toggle, None, NOW)
        .await
        .unwrap();
    assert_eq!(left, CompletionWrite::Recurring);
    assert_eq!(
        f.repos.tasks.get(&owner, parent.id()).await.unwrap(),
        parent,
        "left as it was"
    );

    let mut next = parent.clone();
    let complete = TaskPatch {
        completed: Some(true),
        ..TaskPatch::default()
    };
    assert_eq!(next.apply(complete, NOW), Ok(Applied::Advanced));
    let next = f.repos.tasks.advance(&parent, &next).await.unwrap();
    assert!(!next.completed());
    assert_eq!(next.due_date(), Some(DueDate::new(due + Duration::days(1))));
    assert_eq!(next.subtasks().completed, 0, "its checklist starts afresh");
    assert!(
        !f.repos
            .tasks
            .get(&owner, step.id())
            .await
            .unwrap()
            .completed()
    );
    assert_eq!(next, f.repos.tasks.get(&owner, parent.id()).await.unwrap());
    // Its reminder moved with it, and is armed for the next occurrence.
    let moved = due - Duration::minutes(15) + Duration::days(1);
    assert_eq!(next.remind_at(), Some(RemindAt::new(moved)));
    assert_eq!(
        reminders.fire_due(moved - Duration::days(1)).await.unwrap(),
        0
    );
    assert_eq!(reminders.fire_due(moved).await.unwrap(), 1);
    // A stale version is refused.
    assert!(matches!(
        f.repos.tasks.advance(&parent, &next).await,
        Err(domain::repo::RepoError::VersionMismatch)
    ));
}

async fn firers_racing_for_the_same_200_reminders_fire_each_once(db: &TestDatabase) {
    let repos = Repos::new(db);
    for n in 0..200 {
        let owner = format!("user{}", n % 10);
        let new = domain::task::NewTask {
            remind_at: Some(RemindAt::new(NOW - Duration::seconds(n))),
            ..new_task(&format!("task {n}"))
        };
        repos.add(&owner, new, NOW).await;
    }
    let mut firers = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let firer = Arc::new(SeaReminders::new(db.store()));
        firers.spawn(async move { firer.fire_due(NOW).await.unwrap() });
    }

    let fired: u64 = firers.join_all().await.into_iter().sum();

    assert_eq!(fired, 200);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM changes WHERE op = 3").await,
        200
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM reminders").await, 0);
}
