//! The change log: every write and cascade recorded, pages and snapshots, cursors refused, the
//! purge, and readers that never miss a change committed by concurrent writers.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use adapters_postgres::testing::TestDatabase;
use adapters_postgres::{SeaChangeLog, Wake};
use domain::list::ListRepository;
use domain::sync::{ChangeLog, ChangePage, Cursor, CursorError, Entry, Reading, SyncError};
use domain::task::{Completion, Task, TaskId, TaskRepository};
use domain::user::UserId;
use sea_orm::{ConnectionTrait, TransactionTrait};
use time::Duration;

use crate::Written;
use crate::{NOW, new_task};

adapters_postgres::on_both_backends!(
    setup = crate::database;
    every_write_and_cascade_is_recorded_in_order,
    a_snapshot_pages_lists_then_tasks_and_hands_over_to_changes,
    changes_page_in_the_order_of_each_entitys_last_change,
    cursors_not_handed_out_or_purged_are_refused,
    commits_wake_the_owners_followers,
    a_reader_following_concurrent_writers_misses_nothing,
    a_write_waits_for_the_owners_lock,
    the_history_survives_numbering_migrated_down_and_up,
);

fn alice() -> UserId {
    UserId::parse("alice").unwrap()
}

/// Alice's repositories and the change log they write to.
struct Fixture {
    writes: crate::lists::Fixture,
    log: SeaChangeLog,
}

impl std::ops::Deref for Fixture {
    type Target = crate::lists::Fixture;

    fn deref(&self) -> &Self::Target {
        &self.writes
    }
}

impl Fixture {
    async fn new(db: &TestDatabase) -> Self {
        Self {
            writes: crate::lists::Fixture::new(db).await,
            log: SeaChangeLog::new(db.store()),
        }
    }

    async fn head(&self) -> Cursor {
        Cursor::After(self.log.head(&alice()).await.unwrap())
    }

    async fn read(&self, from: Cursor) -> ChangePage {
        self.log
            .read(&alice(), Some(from), 1000, Reading::Changes)
            .await
            .unwrap()
    }
}

/// A page as `(kind, title or id, created)`, in order.
fn described(page: &ChangePage) -> Vec<(&'static str, String, bool)> {
    page.changes
        .iter()
        .map(|change| match &change.entry {
            Entry::List(list) => ("list", list.name().as_str().to_owned(), change.created),
            Entry::Task(task) => ("task", task.title().as_str().to_owned(), change.created),
            Entry::DeletedList(id) => ("deleted list", id.as_uuid().to_string(), change.created),
            Entry::DeletedTask(id) => ("deleted task", id.as_uuid().to_string(), change.created),
            Entry::Reminder(task) => ("reminder", task.title().as_str().to_owned(), change.created),
        })
        .collect()
}

async fn every_write_and_cascade_is_recorded_in_order(db: &TestDatabase) {
    let f = Fixture::new(db).await;
    let start = f.head().await;
    let errands = f.list("alice", "Errands").await;
    let parent = f.task("parent", Some(errands.id()), None).await;
    let child = f.task("child", Some(errands.id()), Some(parent.id())).await;

    let page = f.read(start).await;
    // The subtask's creation recounted its parent: the parent's last change is after it.
    assert_eq!(
        described(&page),
        [
            ("list", "Errands".into(), true),
            ("task", "child".into(), true),
            ("task", "parent".into(), true),
        ]
    );
    assert!(!page.has_more);
    assert_eq!(page.cursor, f.head().await);

    // Completing the parent completes the child: both changed.
    let after_creation = page.cursor;
    f.repos
        .tasks
        .set_completion(&alice(), parent.id(), Completion::Set(true), None, NOW)
        .await
        .unwrap()
        .task();
    let page = f.read(after_creation).await;
    let mut titles: Vec<_> = described(&page)
        .into_iter()
        .map(|(_, t, c)| (t, c))
        .collect();
    titles.sort();
    assert_eq!(titles, [("child".into(), false), ("parent".into(), false)]);

    // Deleting the list deletes both tasks with it: three deletions.
    let after_completion = page.cursor;
    f.lists.delete(&alice(), errands.id(), None).await.unwrap();
    let page = f.read(after_completion).await;
    let mut deleted: Vec<_> = described(&page)
        .into_iter()
        .map(|(k, id, _)| (k, id))
        .collect();
    deleted.sort();
    let mut expected = vec![
        ("deleted list", errands.id().as_uuid().to_string()),
        ("deleted task", parent.id().as_uuid().to_string()),
        ("deleted task", child.id().as_uuid().to_string()),
    ];
    expected.sort();
    assert_eq!(deleted, expected);

    // Another user's writes are not alice's changes.
    let before_bob = f.head().await;
    f.repos.add("bob", new_task("bob's"), NOW).await;
    assert!(f.read(before_bob).await.changes.is_empty());
}

async fn a_snapshot_pages_lists_then_tasks_and_hands_over_to_changes(db: &TestDatabase) {
    let f = Fixture::new(db).await;
    let inbox = f.list("alice", "Inbox two").await;
    f.list("alice", "Work").await;
    for n in 0..5 {
        f.task(&format!("task {n}"), Some(inbox.id()), None).await;
    }

    let mut seen = Vec::new();
    let mut from = None;
    loop {
        let page = f
            .log
            .read(&alice(), from, 3, Reading::Changes)
            .await
            .unwrap();
        assert!(page.changes.len() <= 3);
        seen.extend(
            described(&page)
                .into_iter()
                .map(|(kind, name, _)| (kind, name)),
        );
        from = Some(page.cursor);
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen.len(), 7);
    assert!(seen[..2].iter().all(|(kind, _)| *kind == "list"));
    assert!(seen[2..].iter().all(|(kind, _)| *kind == "task"));
    let end = from.unwrap();
    assert!(matches!(end, Cursor::After(_)));

    // From the snapshot's end, only what happened since.
    f.task("later", None, None).await;
    assert_eq!(
        described(&f.read(end).await),
        [("task", "later".into(), true)]
    );
}

async fn changes_page_in_the_order_of_each_entitys_last_change(db: &TestDatabase) {
    let f = Fixture::new(db).await;
    let start = f.head().await;
    let first = f.task("first", None, None).await;
    f.task("second", None, None).await;
    f.task("third", None, None).await;
    f.repos
        .tasks
        .set_completion(&alice(), first.id(), Completion::Toggle, None, NOW)
        .await
        .unwrap()
        .task();

    let page = f
        .log
        .read(&alice(), Some(start), 2, Reading::Changes)
        .await
        .unwrap();
    assert_eq!(
        described(&page),
        [
            ("task", "second".into(), true),
            ("task", "third".into(), true)
        ]
    );
    assert!(page.has_more);
    let page = f
        .log
        .read(&alice(), Some(page.cursor), 2, Reading::Changes)
        .await
        .unwrap();
    // Created before the cursor, completed after: as it is now, not new to the reader.
    assert_eq!(described(&page), [("task", "first".into(), false)]);
    assert!(!page.has_more);
    let Entry::Task(task) = &page.changes[0].entry else {
        panic!("a task")
    };
    assert!(task.completed());
}

async fn cursors_not_handed_out_or_purged_are_refused(db: &TestDatabase) {
    let f = Fixture::new(db).await;
    let start = f.head().await;
    f.task("old", None, None).await;
    let ahead = Cursor::After(f.log.head(&alice()).await.unwrap() + 1);
    assert!(matches!(
        f.log
            .read(&alice(), Some(ahead), 10, Reading::Changes)
            .await,
        Err(SyncError::Cursor(CursorError::Unknown))
    ));
    // A user who never wrote has no history past 0.
    let stranger = UserId::parse("stranger").unwrap();
    assert!(matches!(
        f.log
            .read(&stranger, Some(Cursor::After(1)), 10, Reading::Changes)
            .await,
        Err(SyncError::Cursor(CursorError::Unknown))
    ));
    assert!(
        f.log
            .read(&stranger, Some(Cursor::After(0)), 10, Reading::Changes)
            .await
            .is_ok()
    );

    // Rows carry their own last change: a purge takes only tombstones, and refuses only the
    // cursors that needed one of them.
    let doomed = f.task("doomed", None, None).await;
    let before_deletion = f.head().await;
    f.repos
        .tasks
        .delete(&alice(), doomed.id(), None)
        .await
        .unwrap();
    let later = time::OffsetDateTime::now_utc() + Duration::minutes(1);
    assert_eq!(f.log.purge(later).await.unwrap(), 1);
    for cursor in [start, before_deletion] {
        assert!(matches!(
            f.log
                .read(&alice(), Some(cursor), 10, Reading::Changes)
                .await,
            Err(SyncError::Cursor(CursorError::Expired))
        ));
    }
    let now = f.head().await;
    assert!(f.read(now).await.changes.is_empty());
    // Nothing recorded since a minute ago is purged by a purge of before then.
    let gone = f.task("gone", None, None).await;
    f.repos
        .tasks
        .delete(&alice(), gone.id(), None)
        .await
        .unwrap();
    let earlier = time::OffsetDateTime::now_utc() - Duration::minutes(1);
    assert_eq!(f.log.purge(earlier).await.unwrap(), 0);
    assert_eq!(
        described(&f.read(now).await),
        [("deleted task", gone.id().as_uuid().to_string(), false)]
    );
}

async fn a_write_waits_for_the_owners_lock(db: &TestDatabase) {
    // SQLite has one writer at a time: no owner's lock to wait for.
    if db.backend_name() == "sqlite" {
        return;
    }
    let f = Fixture::new(db).await;
    let task = f.task("locked", None, None).await;
    let (id, position) = (task.id(), task.position().clone());
    let holder = db.connection().begin().await.unwrap();
    holder
        .execute_unprepared("SELECT pg_advisory_xact_lock(hashtextextended('alice', 0))")
        .await
        .unwrap();
    let toggle = {
        let tasks = f.repos.tasks.clone();
        tokio::spawn(async move {
            tasks
                .set_completion(&alice(), id, Completion::Toggle, None, NOW)
                .await
        })
    };
    // A create in the inbox, one statement on PostgreSQL, takes the lock too.
    let create = {
        let tasks = f.repos.tasks.clone();
        let new = Task::create(TaskId::generate(), alice(), new_task("waiting"), NOW).unwrap();
        tokio::spawn(async move { tasks.insert(&new).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !toggle.is_finished(),
        "the toggle did not wait for the lock"
    );
    assert!(
        !create.is_finished(),
        "the create did not wait for the lock"
    );
    holder.commit().await.unwrap();
    assert!(toggle.await.unwrap().unwrap().task().completed());
    assert!(&position < create.await.unwrap().unwrap().position());
}

async fn commits_wake_the_owners_followers(db: &TestDatabase) {
    let f = Fixture::new(db).await;
    let (woken, mut wakes) = tokio::sync::mpsc::unbounded_channel();
    let followed = db.store().feed().follow(move |wake| {
        if let Wake::Owner(owner) = wake {
            woken.send(owner.to_owned()).unwrap();
        }
    });
    assert!(followed);
    let task = f.task("woken", None, None).await;
    f.repos
        .tasks
        .set_completion(&alice(), task.id(), Completion::Toggle, None, NOW)
        .await
        .unwrap()
        .task();
    // Told at the commit, before the write returns: the creation's, then the toggle's.
    for _ in 0..2 {
        assert_eq!(wakes.try_recv().unwrap(), "alice");
    }
    // A write that changed nothing wakes no one.
    let missing = f
        .repos
        .tasks
        .set_completion(&alice(), TaskId::generate(), Completion::Toggle, None, NOW)
        .await;
    assert!(missing.is_err());
    assert!(wakes.try_recv().is_err());
}

async fn a_reader_following_concurrent_writers_misses_nothing(db: &TestDatabase) {
    let f = Arc::new(Fixture::new(db).await);
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let f = f.clone();
            tokio::spawn(async move {
                let mut written = Vec::new();
                for n in 0..15 {
                    let task = f.task(&format!("w{w} n{n}"), None, None).await;
                    let task = f
                        .repos
                        .tasks
                        .set_completion(&alice(), task.id(), Completion::Toggle, None, NOW)
                        .await
                        .unwrap()
                        .task();
                    written.push(task);
                }
                written
            })
        })
        .collect();
    let reader = {
        let (f, done) = (f.clone(), done.clone());
        tokio::spawn(async move {
            let mut cursor = Cursor::After(0);
            let mut seen: HashMap<TaskId, i64> = HashMap::new();
            loop {
                // Read whether the writers are done before reading: a read that starts after
                // they are must see everything.
                let finished = done.load(Ordering::SeqCst);
                let page = f
                    .log
                    .read(&alice(), Some(cursor), 7, Reading::Changes)
                    .await
                    .unwrap();
                for change in &page.changes {
                    if let Entry::Task(task) = &change.entry {
                        seen.insert(task.id(), task.version().get());
                    }
                }
                cursor = page.cursor;
                if finished && !page.has_more {
                    return seen;
                }
            }
        })
    };
    let mut written = Vec::new();
    for writer in writers {
        written.extend(writer.await.unwrap());
    }
    done.store(true, Ordering::SeqCst);
    let seen = reader.await.unwrap();

    assert_eq!(seen.len(), written.len());
    for task in written {
        assert_eq!(
            seen.get(&task.id()),
            Some(&task.version().get()),
            "{task:?}"
        );
    }
}

async fn the_history_survives_numbering_migrated_down_and_up(db: &TestDatabase) {
    let f = Fixture::new(db).await;
    let start = f.head().await;
    let kept = f.task("kept", None, None).await;
    let middle = f.head().await;
    f.repos
        .tasks
        .set_completion(&alice(), kept.id(), Completion::Toggle, None, NOW)
        .await
        .unwrap()
        .task();
    f.task("new", None, None).await;
    let doomed = f.task("doomed", None, None).await;
    f.repos
        .tasks
        .delete(&alice(), doomed.id(), None)
        .await
        .unwrap();
    let before = [
        described(&f.read(start).await),
        described(&f.read(middle).await),
    ];

    // Back to the log of every change (migration 5, below recurrence's), and forward to
    // numbered rows again.
    let store = db.store();
    store.migrate_down().await.unwrap();
    store.migrate_down().await.unwrap();
    store.migrate_up().await.unwrap();

    let after = [
        described(&f.read(start).await),
        described(&f.read(middle).await),
    ];
    assert_eq!(after, before);
    // And numbering goes on past every number handed out.
    let head = f.head().await;
    f.task("later", None, None).await;
    assert_eq!(
        described(&f.read(head).await),
        [("task", "later".into(), true)]
    );
}
