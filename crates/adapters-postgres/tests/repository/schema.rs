//! The schema itself: migrations both ways, cascades, database-side checks, connection faults.

use std::time::{Duration, Instant};

use adapters_postgres::testing::{TestDatabase, postgres_url};
use adapters_postgres::{DbSettings, SeaTaskRepository, Store};
use domain::repo::RepoError;
use domain::task::{SortKey, Tags, TaskId, TaskQuery, TaskRepository};
use domain::user::UserId;
use sea_orm::{ConnectionTrait, Statement};

use crate::{NOW, Repos, new_task};

adapters_postgres::on_both_backends!(
    setup = crate::database;
    migrations_go_down_and_up_again,
    a_migration_that_fails_leaves_the_schema_as_it_was,
    existing_tasks_land_in_the_inbox_in_creation_order,
    deleting_a_user_cascades_to_their_tasks_and_tags,
    the_database_itself_rejects_a_title_over_200_characters,
);

async fn count(db: &TestDatabase, table: &str) -> i64 {
    let backend = db.store().backend();
    db.connection()
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

/// Reverts every migration; returns how many there are.
async fn all_down(store: &Store) -> usize {
    let migrations = store.migration_status().await.unwrap().len();
    for _ in 0..migrations {
        store.migrate_down().await.unwrap();
    }
    migrations
}

async fn none_applied(store: &Store) -> bool {
    store
        .migration_status()
        .await
        .unwrap()
        .iter()
        .all(|m| !m.applied)
}

async fn migrations_go_down_and_up_again(db: &TestDatabase) {
    let store = db.store();
    let migrations = all_down(store).await;
    assert!(none_applied(store).await);

    store.migrate_up().await.unwrap();

    let status = store.migration_status().await.unwrap();
    assert_eq!(status.len(), migrations);
    assert!(status.iter().all(|m| m.applied));
    Repos::new(db).add("alice", new_task("works"), NOW).await;
}

async fn a_migration_that_fails_leaves_the_schema_as_it_was(db: &TestDatabase) {
    let store = db.store();
    all_down(store).await;
    // In the way of the fourth migration, which creates `lists`.
    db.connection()
        .execute_unprepared("CREATE TABLE lists (id INTEGER)")
        .await
        .unwrap();

    assert!(store.migrate_up().await.is_err());

    assert!(
        none_applied(store).await,
        "the three migrations before it are not applied either"
    );
    let users = db
        .connection()
        .execute_unprepared("SELECT COUNT(*) FROM users")
        .await;
    assert!(users.is_err(), "their tables are not there");
    db.connection()
        .execute_unprepared("DROP TABLE lists")
        .await
        .unwrap();
    store.migrate_up().await.unwrap();
    Repos::new(db).add("alice", new_task("works"), NOW).await;
}

async fn existing_tasks_land_in_the_inbox_in_creation_order(db: &TestDatabase) {
    let repos = Repos::new(db);
    // Created out of id order: the migration orders by creation time.
    for (title, minutes) in [("second", 2), ("first", 1), ("third", 3), ("bob's", 0)] {
        let owner = if title == "bob's" { "bob" } else { "alice" };
        repos
            .add(
                owner,
                new_task(title),
                NOW + time::Duration::minutes(minutes),
            )
            .await;
    }
    let store = db.store();
    // Down to before lists: recurrence's, the change log's two migrations, then theirs.
    for _ in 0..4 {
        store.migrate_down().await.unwrap();
    }

    store.migrate_up().await.unwrap();

    let query = TaskQuery {
        sort: SortKey::Position,
        ..TaskQuery::default()
    };
    let page = repos
        .tasks
        .list(&UserId::parse("alice").unwrap(), &query)
        .await
        .unwrap();
    let titles: Vec<&str> = page.tasks.iter().map(|t| t.title().as_str()).collect();
    assert_eq!(titles, ["first", "second", "third"]);
    assert!(
        page.tasks
            .iter()
            .all(|t| t.list().is_none() && t.parent().is_none())
    );
}

async fn deleting_a_user_cascades_to_their_tasks_and_tags(db: &TestDatabase) {
    let repos = Repos::new(db);
    let mut new = new_task("tagged");
    new.tags = Tags::parse(&["a", "b"]).unwrap();
    let task = repos.add("alice", new, NOW).await;
    repos.add("bob", new_task("bob's"), NOW).await;

    db.connection()
        .execute_unprepared("DELETE FROM users WHERE id = 'alice'")
        .await
        .unwrap();

    assert!(matches!(
        repos.tasks.get(task.owner(), task.id()).await,
        Err(RepoError::NotFound)
    ));
    assert_eq!(count(db, "task_tags").await, 0);
    assert_eq!(count(db, "tasks").await, 1);
}

async fn the_database_itself_rejects_a_title_over_200_characters(db: &TestDatabase) {
    Repos::new(db).add("alice", new_task("short"), NOW).await;
    let sql = format!("UPDATE tasks SET title = '{}'", "x".repeat(201));

    assert!(db.connection().execute_unprepared(&sql).await.is_err());
    let ok = format!("UPDATE tasks SET title = '{}'", "é".repeat(200));
    db.connection().execute_unprepared(&ok).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable_within_the_acquire_timeout() {
    let mut settings = DbSettings::new("postgres://postgres@127.0.0.1:9/nothing_listens_here");
    settings.acquire_timeout = Duration::from_secs(1);
    let store = Store::connect(&settings).await.expect("connecting is lazy");
    let tasks = SeaTaskRepository::new(&store);
    let started = Instant::now();

    let result = tasks
        .get(&UserId::parse("alice").unwrap(), TaskId::generate())
        .await;

    assert!(
        matches!(result, Err(RepoError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(!store.ping().await);
}

#[tokio::test]
async fn postgres_is_reached_over_tls_with_sslmode_require() {
    let Some(url) = postgres_url() else { return };
    let separator = if url.contains('?') { '&' } else { '?' };
    let store = Store::connect(&DbSettings::new(format!("{url}{separator}sslmode=require")))
        .await
        .unwrap();

    let row = adapters_postgres::testing::connection(&store)
        .query_one_raw(Statement::from_string(
            store.backend(),
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await
        .expect("the server accepts TLS (Debian's cluster has ssl = on)")
        .unwrap();

    assert!(
        row.try_get_by_index::<bool>(0).unwrap(),
        "the connection is encrypted"
    );
}
