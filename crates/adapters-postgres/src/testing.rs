//! Per-test databases, for this crate's tests and the HTTP layer's.
//!
//! SQLite: a fresh in-memory database. PostgreSQL (when `TEST_DATABASE_URL` is set): a schema
//! of its own in that database, migrated, and dropped when the `TestDatabase` is dropped, even
//! if the test panicked. Without the variable PostgreSQL tests are skipped with a visible line,
//! unless `CI=true`, where they must run.

use std::io::Write;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sea_orm::ConnectionTrait;

use crate::store::{DbSettings, Store};

/// Generates, for each named `async fn(&Fixture)`, a test on SQLite and one on PostgreSQL
/// (skipped without `TEST_DATABASE_URL`, outside CI). `setup` is an `async fn(TestDatabase) ->
/// Fixture` path, such as a function returning the database itself or a server running on it.
#[macro_export]
macro_rules! on_both_backends {
    (setup = $setup:path; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::testing::TestDatabase::sqlite().await;
                    super::$name(&$setup(db).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::testing::TestDatabase::postgres().await else {
                        return;
                    };
                    super::$name(&$setup(db).await).await;
                }
            )*
        }
    };
}

/// A database that exists for one test, migrated (unless made by `postgres_empty`).
pub struct TestDatabase {
    store: Store,
    settings: DbSettings,
    /// The admin URL and schema to drop, for PostgreSQL.
    schema: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh in-memory SQLite database.
    ///
    /// # Panics
    /// If it cannot be created or migrated.
    pub async fn sqlite() -> Self {
        let settings = DbSettings::new("sqlite::memory:");
        let store = Store::connect(&settings).await.expect("in-memory SQLite");
        store
            .migrate_up()
            .await
            .expect("migrations apply on SQLite");
        Self {
            store,
            settings,
            schema: None,
        }
    }

    /// A fresh schema in the PostgreSQL of `TEST_DATABASE_URL`, or `None` (with a notice on
    /// stderr) when that is unset outside CI.
    ///
    /// # Panics
    /// Under `CI=true` without `TEST_DATABASE_URL`, or when the server cannot be reached.
    pub async fn postgres() -> Option<Self> {
        let database = Self::postgres_empty().await?;
        database
            .store
            .migrate_up()
            .await
            .expect("migrations apply on PostgreSQL");
        Some(database)
    }

    /// Like [`TestDatabase::postgres`], but with no migration applied: for tests of how the
    /// schema comes to be.
    ///
    /// # Panics
    /// Under `CI=true` without `TEST_DATABASE_URL`, or when the server cannot be reached.
    pub async fn postgres_empty() -> Option<Self> {
        let admin_url = postgres_url()?;
        let schema = unique_schema_name();
        let admin = Store::connect(&DbSettings::new(admin_url.clone()))
            .await
            .expect("a pool for TEST_DATABASE_URL");
        admin
            .connection()
            .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at TEST_DATABASE_URL is unreachable: {e}"));
        let mut settings = DbSettings::new(with_search_path(&admin_url, &schema));
        settings.max_connections = 5;
        settings.acquire_timeout = Duration::from_secs(10);
        let store = Store::connect(&settings)
            .await
            .expect("a pool on the schema");
        Some(Self {
            store,
            settings,
            schema: Some((admin_url, schema)),
        })
    }

    /// The migrated store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Its pool, for tests that look at the schema or the rows themselves.
    pub fn connection(&self) -> &sea_orm::DatabaseConnection {
        connection(&self.store)
    }

    /// Settings that reach this same database (for SQLite, a new in-memory one: each pool of
    /// an in-memory SQLite is its own database).
    pub fn settings(&self) -> &DbSettings {
        &self.settings
    }

    /// The versions recorded as applied, one entry per record (a migration applied twice
    /// would appear twice), in order.
    ///
    /// # Panics
    /// When the migrations table cannot be read.
    pub async fn applied_migrations(&self) -> Vec<String> {
        let rows = self
            .connection()
            .query_all_raw(sea_orm::Statement::from_string(
                self.store.backend(),
                "SELECT version FROM seaql_migrations ORDER BY version",
            ))
            .await
            .expect("the migrations table");
        rows.iter()
            .map(|row| row.try_get::<String>("", "version").expect("a version"))
            .collect()
    }

    /// Runs a statement on the database, for tests that set up what no route can.
    ///
    /// # Panics
    /// When it fails.
    pub async fn execute(&self, sql: &str) {
        self.connection()
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The number a counting query (`SELECT COUNT(*) ...`) returns.
    ///
    /// # Panics
    /// When it fails.
    pub async fn count(&self, sql: &str) -> i64 {
        self.connection()
            .query_one_raw(sea_orm::Statement::from_string(self.store.backend(), sql))
            .await
            .and_then(|row| row.ok_or_else(|| sea_orm::DbErr::RecordNotFound(sql.into())))
            .and_then(|row| row.try_get_by_index::<i64>(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// `"sqlite"` or `"postgres"`, for messages.
    pub fn backend_name(&self) -> &'static str {
        if self.schema.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, schema)) = self.schema.take() else {
            return;
        };
        // Drop is synchronous and may run inside the test's runtime: use a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let admin = Store::connect(&DbSettings::new(admin_url)).await?;
                // A lock held by a test that panicked mid-transaction must not hang the suite.
                admin
                    .connection()
                    .execute_unprepared(&format!(
                        "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
                    ))
                    .await
                    .map(drop)
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            let _ = writeln!(std::io::stderr(), "could not drop a test schema: {e}");
        }
    }
}

/// `TEST_DATABASE_URL`, or `None` with a one-time notice.
///
/// # Panics
/// Under `CI=true` without it: there, PostgreSQL tests must run.
pub fn postgres_url() -> Option<String> {
    static NOTICE: Once = Once::new();
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but TEST_DATABASE_URL is not set: the PostgreSQL tests must run in CI"
            );
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "NOTICE: TEST_DATABASE_URL is not set; PostgreSQL tests are skipped \
                     (e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
                );
            });
            None
        }
    }
}

/// `url` with `search_path` set to `schema` for every connection.
pub fn with_search_path(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}

/// A schema name no other test, in this run or a concurrent one, uses.
fn unique_schema_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The pool of any store, for tests that look at the schema or the rows themselves.
pub fn connection(store: &Store) -> &sea_orm::DatabaseConnection {
    store.connection()
}
