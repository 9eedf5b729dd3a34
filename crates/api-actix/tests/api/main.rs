//! Black-box tests: the real server on a random port, over the real adapters, on SQLite and
//! (with `TEST_DATABASE_URL`) PostgreSQL. Each test is one row or rule of shared/API.md.

mod auth;
mod errors;
mod helpers;
mod idempotency;
mod isolation;
mod listing;
mod operations;
mod tasks;

/// Generates, for each named `async fn(&TestApp)`, a test on SQLite and one on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = adapters_postgres::testing::TestDatabase::sqlite().await;
                    let app = $crate::helpers::spawn_app(db, &[]).await;
                    super::$name(&app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = adapters_postgres::testing::TestDatabase::postgres().await else {
                        return;
                    };
                    let app = $crate::helpers::spawn_app(db, &[]).await;
                    super::$name(&app).await;
                }
            )*
        }
    };
}
