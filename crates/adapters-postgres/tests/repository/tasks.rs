//! Single-task operations: round trips, ownership, versions, completion, concurrency.

use std::sync::Arc;

use adapters_postgres::testing::TestDatabase;
use domain::position::Position;
use domain::repo::RepoError;
use domain::task::{
    Completion, DueDate, Priority, Tags, TaskDescription, TaskId, TaskPatch, TaskQuery,
    TaskRepository, TaskTitle, Version,
};
use domain::user::UserId;
use time::Duration;

use crate::Written;
use crate::{NOW, Repos, new_task};

adapters_postgres::on_both_backends!(
    setup = crate::database;
    a_task_round_trips_every_field,
    another_users_task_is_not_found,
    update_is_guarded_by_the_version,
    of_two_updates_from_the_same_version_exactly_one_wins,
    delete_tells_missing_from_stale,
    toggling_sets_and_clears_completed_at_and_bumps_the_version,
    setting_completion_to_the_current_state_changes_nothing,
    fifty_parallel_toggles_leave_the_parity_of_fifty,
    text_that_looks_like_sql_or_html_is_stored_verbatim,
    a_task_goes_last_by_its_owner_s_counter_however_large,
    a_task_of_an_owner_without_a_row_is_not_stored,
);

/// The position of a task put last is the domain's `Position::appended` of the owner's next
/// number, whichever side computes it (PostgreSQL writes it in the insert's own statement),
/// past 32 bits too.
async fn a_task_goes_last_by_its_owner_s_counter_however_large(db: &TestDatabase) {
    let repos = Repos::new(db);
    let first = repos.add("alice", new_task("first"), NOW).await;
    db.execute("UPDATE users SET append_seq = 1099511627775 WHERE id = 'alice'")
        .await;
    let mut new = new_task("later");
    new.tags = Tags::parse(&["Home", "work"]).unwrap();
    let task = repos.add("alice", new, NOW).await;

    assert_eq!(task.position(), &Position::appended(1_099_511_627_776));
    assert!(first.position() < task.position());
    let stored = repos.tasks.get(task.owner(), task.id()).await.unwrap();
    assert_eq!(stored, task);
    let tagged = TaskQuery {
        tags: vec![domain::task::Tag::parse("work").unwrap()],
        ..TaskQuery::default()
    };
    let listed = repos.tasks.list(task.owner(), &tagged).await.unwrap();
    assert_eq!(listed.tasks, [task]);
}

async fn a_task_of_an_owner_without_a_row_is_not_stored(db: &TestDatabase) {
    let repos = Repos::new(db);
    let mut new = new_task("orphan");
    new.tags = Tags::parse(&["Home"]).unwrap();
    let task = domain::task::Task::create(
        TaskId::generate(),
        UserId::parse("nobody").unwrap(),
        new,
        NOW,
    )
    .unwrap();

    assert!(matches!(
        repos.tasks.insert(&task).await,
        Err(RepoError::NotFound)
    ));
    assert_eq!(db.count("SELECT count(*) FROM tasks").await, 0);
    assert_eq!(db.count("SELECT count(*) FROM task_tags").await, 0);
}

async fn a_task_round_trips_every_field(db: &TestDatabase) {
    let repos = Repos::new(db);
    let mut new = new_task("  Buy milk 🥛 ");
    new.description = TaskDescription::parse("two\nlines").unwrap();
    new.priority = Priority::High;
    // Tags whose JSON has escapes are read back as well as those borrowed from it.
    new.tags = Tags::parse(&["Home", "errand", r#"say "hi"\now"#, "Ünïcode"]).unwrap();
    new.due_date = Some(DueDate::parse("2026-02-01T09:30:00.250Z").unwrap());
    new.completed = true;
    let task = repos.add("alice", new, NOW).await;

    let stored = repos.tasks.get(task.owner(), task.id()).await.unwrap();
    let listed = repos
        .tasks
        .list(task.owner(), &TaskQuery::default())
        .await
        .unwrap();

    assert_eq!(stored, task);
    assert_eq!(listed.tasks, [task]);
    assert_eq!(stored.title().as_str(), "Buy milk 🥛");
    assert_eq!(stored.completed_at(), Some(NOW));
}

async fn another_users_task_is_not_found(db: &TestDatabase) {
    let repos = Repos::new(db);
    let task = repos.add("alice", new_task("secret"), NOW).await;
    let bob = UserId::parse("bob").unwrap();

    assert!(matches!(
        repos.tasks.get(&bob, task.id()).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        repos.tasks.delete(&bob, task.id(), None).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        repos
            .tasks
            .set_completion(&bob, task.id(), Completion::Toggle, None, NOW)
            .await,
        Err(RepoError::NotFound)
    ));
    let bobs_view = domain::task::Task::restore(domain::task::TaskRecord {
        owner: bob.clone(),
        ..record_of(&task)
    });
    let mut stolen = bobs_view.clone();
    stolen
        .apply(
            TaskPatch {
                title: Some(TaskTitle::parse("mine now").unwrap()),
                ..TaskPatch::default()
            },
            NOW,
        )
        .expect("a valid patch");
    assert!(matches!(
        repos.tasks.update(&bobs_view, &stolen).await,
        Err(RepoError::NotFound)
    ));
    let still = repos.tasks.get(task.owner(), task.id()).await.unwrap();
    assert_eq!(still.title().as_str(), "secret");
}

/// Every field of a task, to build a variant of it.
fn record_of(task: &domain::task::Task) -> domain::task::TaskRecord {
    domain::task::TaskRecord {
        id: task.id(),
        owner: task.owner().clone(),
        title: task.title().clone(),
        description: task.description().cloned(),
        completed: task.completed(),
        completed_at: task.completed_at(),
        priority: task.priority(),
        tags: task.tags().clone(),
        due_date: task.due_date(),
        list: task.list(),
        parent: task.parent(),
        position: task.position().clone(),
        subtasks: task.subtasks(),
        recurrence: task.recurrence().cloned(),
        timezone: task.timezone(),
        remind_at: task.remind_at(),
        version: task.version(),
        created_at: task.created_at(),
        updated_at: task.updated_at(),
    }
}

async fn update_is_guarded_by_the_version(db: &TestDatabase) {
    let repos = Repos::new(db);
    let read = repos.add("alice", new_task("v1"), NOW).await;
    let mut task = read.clone();
    task.apply(
        TaskPatch {
            title: Some(TaskTitle::parse("v2").unwrap()),
            tags: Some(Tags::parse(&["new"]).unwrap()),
            ..TaskPatch::default()
        },
        NOW + Duration::minutes(1),
    )
    .expect("a valid patch");

    let misread = domain::task::Task::restore(domain::task::TaskRecord {
        version: Version::new(5).unwrap(),
        ..record_of(&read)
    });
    assert!(matches!(
        repos.tasks.update(&misread, &task).await,
        Err(RepoError::VersionMismatch)
    ));
    repos.tasks.update(&read, &task).await.unwrap();

    let stored = repos.tasks.get(task.owner(), task.id()).await.unwrap();
    assert_eq!(stored, task);
    assert_eq!(stored.version(), Version::new(2).unwrap());
}

async fn of_two_updates_from_the_same_version_exactly_one_wins(db: &TestDatabase) {
    let repos = Arc::new(Repos::new(db));
    let task = repos.add("alice", new_task("race"), NOW).await;
    let attempts = ["left", "right"].map(|title| {
        let repos = Arc::clone(&repos);
        let read = task.clone();
        let mut mine = task.clone();
        tokio::spawn(async move {
            mine.apply(
                TaskPatch {
                    title: Some(TaskTitle::parse(title).unwrap()),
                    ..TaskPatch::default()
                },
                NOW,
            )
            .expect("a valid patch");
            repos.tasks.update(&read, &mine).await
        })
    });
    let mut wins = 0;
    let mut stale = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => wins += 1,
            Err(RepoError::VersionMismatch) => stale += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((wins, stale), (1, 1));
}

async fn delete_tells_missing_from_stale(db: &TestDatabase) {
    let repos = Repos::new(db);
    let task = repos.add("alice", new_task("doomed"), NOW).await;

    assert!(matches!(
        repos
            .tasks
            .delete(task.owner(), task.id(), Version::new(2))
            .await,
        Err(RepoError::VersionMismatch)
    ));
    repos
        .tasks
        .delete(task.owner(), task.id(), Some(Version::INITIAL))
        .await
        .unwrap();
    assert!(matches!(
        repos.tasks.delete(task.owner(), task.id(), None).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        repos
            .tasks
            .delete(task.owner(), TaskId::generate(), None)
            .await,
        Err(RepoError::NotFound)
    ));
}

async fn toggling_sets_and_clears_completed_at_and_bumps_the_version(db: &TestDatabase) {
    let repos = Repos::new(db);
    let task = repos.add("alice", new_task("toggle me"), NOW).await;
    let later = NOW + Duration::minutes(5);

    let done = repos
        .tasks
        .set_completion(task.owner(), task.id(), Completion::Toggle, None, later)
        .await
        .unwrap()
        .task();
    assert!(done.completed());
    assert_eq!(done.completed_at(), Some(later));
    assert_eq!(done.version(), Version::new(2).unwrap());
    assert_eq!(done.updated_at(), later);

    let stale = repos
        .tasks
        .set_completion(
            task.owner(),
            task.id(),
            Completion::Toggle,
            Some(Version::INITIAL),
            later,
        )
        .await;
    assert!(matches!(stale, Err(RepoError::VersionMismatch)));

    let reopened = repos
        .tasks
        .set_completion(
            task.owner(),
            task.id(),
            Completion::Toggle,
            Version::new(2),
            later,
        )
        .await
        .unwrap()
        .task();
    assert!(!reopened.completed());
    assert_eq!(reopened.completed_at(), None);
    assert_eq!(reopened.version(), Version::new(3).unwrap());
}

async fn setting_completion_to_the_current_state_changes_nothing(db: &TestDatabase) {
    let repos = Repos::new(db);
    let task = repos.add("alice", new_task("pending"), NOW).await;

    let same = repos
        .tasks
        .set_completion(
            task.owner(),
            task.id(),
            Completion::Set(false),
            None,
            NOW + Duration::hours(1),
        )
        .await
        .unwrap()
        .task();

    assert_eq!(same, task);
    let done = repos
        .tasks
        .set_completion(
            task.owner(),
            task.id(),
            Completion::Set(true),
            None,
            NOW + Duration::hours(1),
        )
        .await
        .unwrap()
        .task();
    assert_eq!(done.completed_at(), Some(NOW + Duration::hours(1)));
}

async fn fifty_parallel_toggles_leave_the_parity_of_fifty(db: &TestDatabase) {
    let repos = Arc::new(Repos::new(db));
    let task = repos.add("alice", new_task("flip"), NOW).await;
    let toggles: Vec<_> = (0..50)
        .map(|_| {
            let repos = Arc::clone(&repos);
            let (owner, id) = (task.owner().clone(), task.id());
            tokio::spawn(async move {
                repos
                    .tasks
                    .set_completion(&owner, id, Completion::Toggle, None, NOW)
                    .await
            })
        })
        .collect();
    for toggle in toggles {
        toggle.await.unwrap().unwrap();
    }

    let stored = repos.tasks.get(task.owner(), task.id()).await.unwrap();
    assert!(
        !stored.completed(),
        "50 toggles of a pending task leave it pending"
    );
    assert_eq!(stored.version(), Version::new(51).unwrap());
}

async fn text_that_looks_like_sql_or_html_is_stored_verbatim(db: &TestDatabase) {
    let repos = Repos::new(db);
    let title = "'); DROP TABLE tasks; -- <script>alert(1)</script>";
    let task = repos.add("alice", new_task(title), NOW).await;

    let stored = repos.tasks.get(task.owner(), task.id()).await.unwrap();

    assert_eq!(stored.title().as_str(), title);
}
