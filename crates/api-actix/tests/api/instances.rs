//! Several instances on one PostgreSQL database.

use adapters_postgres::testing::TestDatabase;
use api_actix::startup::Application;

use crate::helpers::test_settings;

/// Three exited of four before the migrations took a lock: two migrators racing on an empty
/// database collide in PostgreSQL's catalog (`pg_type_typname_nsp_index`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_started_together_on_an_empty_database_all_come_up() {
    let Some(db) = TestDatabase::postgres_empty().await else {
        return;
    };
    let build = || Application::build(test_settings(&db, &[]));

    let (a, b, c, d) = tokio::join!(build(), build(), build(), build());

    let client = reqwest::Client::new();
    for application in [a, b, c, d] {
        let application = application.expect("every instance comes up");
        let ready = format!("http://127.0.0.1:{}/ready", application.port());
        tokio::spawn(application.run_until_stopped());
        assert_eq!(client.get(ready).send().await.unwrap().status(), 200);
    }
    let applied = db.applied_migrations().await;
    let mut every_migration: Vec<String> = db
        .store()
        .migration_status()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    every_migration.sort();
    assert_eq!(
        applied, every_migration,
        "each migration applied exactly once"
    );
}
