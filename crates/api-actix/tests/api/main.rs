//! Black-box tests: the real server on a random port, over the real adapters, on SQLite and
//! (with `TEST_DATABASE_URL`) PostgreSQL. Each test is one row or rule of shared/API.md.

mod attacks;
mod auth;
mod concurrency;
mod errors;
mod helpers;
mod idempotency;
mod instances;
mod isolation;
mod listing;
mod lists;
mod operations;
mod outage;
mod recurrence;
mod sync;
mod tasks;

/// The fixture of these tests: the server running on the test database, defaults otherwise.
async fn app(db: adapters_postgres::testing::TestDatabase) -> helpers::TestApp {
    helpers::spawn_app(db, &[]).await
}

/// The same fixture, shareable by the concurrent clients of a test.
async fn shared_app(
    db: adapters_postgres::testing::TestDatabase,
) -> std::sync::Arc<helpers::TestApp> {
    std::sync::Arc::new(app(db).await)
}
