//! The connection pools, migrations and the readiness probe.

use std::path::Path;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    TransactionTrait,
};

use crate::live::ChangeFeed;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DbSettings {
    /// `postgres://…` (TLS per `sslmode`) or `sqlite://…`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
    /// How long a request waits for a connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
    /// Idle connections are closed after this (serverless databases bill for open ones).
    pub idle_timeout: Duration,
    /// Connections are replaced after this, so that none outlives a server-side restart.
    pub max_lifetime: Duration,
}

impl DbSettings {
    /// Settings for `url` with the defaults the server uses.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_mins(5),
            max_lifetime: Duration::from_mins(30),
        }
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres:") || self.url.starts_with("postgresql:")
    }

    /// Whether this is an in-memory SQLite database, which lives only as long as its single
    /// connection.
    fn is_sqlite_memory(&self) -> bool {
        self.url.starts_with("sqlite:") && self.url.contains(":memory:")
            || self.url.contains("mode=memory")
    }
}

/// A migration and whether it has been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    /// The migration's name.
    pub name: String,
    /// Applied or pending.
    pub applied: bool,
}

/// The key of the advisory lock migrators take on PostgreSQL ("todomigr" in ASCII): any
/// constant works, as long as every instance uses the same one.
const MIGRATION_LOCK: i64 = 0x746f_646f_6d69_6772;
/// How long a migrator waits for another instance's migrations before giving up.
pub const MIGRATION_LOCK_TIMEOUT: Duration = Duration::from_mins(1);

/// A pool's connections by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Open and waiting for a query.
    pub idle: u32,
    /// Serving a query or a transaction.
    pub in_use: u32,
}

/// The database: a connection pool shared by the repositories, and the feed their writes
/// wake followers through.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    feed: ChangeFeed,
}

impl Store {
    /// Opens a pool. It connects lazily, so the server starts (and reports not ready) while the
    /// database is down. For a SQLite file, its folder is created first.
    pub async fn connect(settings: &DbSettings) -> Result<Self, DbErr> {
        // One more on PostgreSQL: the relay's listener holds one for good.
        let db = open(settings, settings.is_postgres()).await?;
        let feed = ChangeFeed::new(db.get_database_backend() == DbBackend::Postgres);
        Ok(Self { db, feed })
    }

    /// A pool of `settings.max_connections` of its own for the requests, on the same
    /// database, whose writes wake this store's followers: requests and the work in the
    /// background (this store's pool) never wait for each other's connections, and every
    /// connection of the requests is opened by a server worker (lazily, on first use) rather
    /// than by the thread that ran the migrations, which would otherwise have to wake for its
    /// answers. On SQLite, this store itself: an in-memory database lives in its one
    /// connection, and a file has one writer.
    pub async fn pool_for_requests(&self, settings: &DbSettings) -> Result<Self, DbErr> {
        if self.backend() != DbBackend::Postgres {
            return Ok(self.clone());
        }
        Ok(Self {
            db: open(settings, false).await?,
            feed: self.feed.clone(),
        })
    }

    /// The wake-ups of this store's writes (and, once relaying, other instances').
    pub fn feed(&self) -> &ChangeFeed {
        &self.feed
    }

    /// Relays wake-ups to and from the other instances on the database, for as long as it is
    /// polled (run it as a task; abort it to stop). Nothing to do on SQLite.
    pub async fn relay(&self) {
        self.feed.relay(self.db.clone()).await;
    }

    /// The pool, for the repositories (and, through `testing`, the tests).
    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Which database this is.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// How many of the pool's connections are idle and in use now.
    pub fn pool_use(&self) -> PoolUse {
        let (size, idle) = if self.backend() == DbBackend::Postgres {
            let pool = self.db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        } else {
            let pool = self.db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
        PoolUse {
            idle,
            in_use: size - idle,
        }
    }

    /// Whether the database answers a trivial query now.
    pub async fn ping(&self) -> bool {
        self.db.ping().await.is_ok()
    }

    /// Applies every pending migration, all in one transaction: a migration that fails leaves
    /// the schema as it was, and SQLite syncs its file once rather than once per statement. On
    /// PostgreSQL it first takes a database-wide advisory lock, held by that transaction:
    /// instances that start together on one database apply each migration once, the others
    /// wait (at most [`MIGRATION_LOCK_TIMEOUT`]) and then find nothing pending. (SQLite has one
    /// writer and, here, one instance.)
    pub async fn migrate_up(&self) -> Result<(), DbErr> {
        let transaction = self.db.begin().await?;
        if self.backend() == DbBackend::Postgres {
            transaction
                .execute_unprepared(&format!(
                    "SET LOCAL lock_timeout = '{}s'",
                    MIGRATION_LOCK_TIMEOUT.as_secs()
                ))
                .await?;
            transaction
                .execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .await
                .map_err(|e| {
                    DbErr::Custom(format!(
                        "cannot take the migration lock (another instance may be migrating; the \
                         wait is {} s at most): {e}",
                        MIGRATION_LOCK_TIMEOUT.as_secs()
                    ))
                })?;
        }
        Migrator::up(&transaction, None).await?;
        transaction.commit().await
    }

    /// Reverts the most recent migration.
    pub async fn migrate_down(&self) -> Result<(), DbErr> {
        Migrator::down(&self.db, Some(1)).await
    }

    /// Drops every table and applies all migrations again.
    pub async fn migrate_fresh(&self) -> Result<(), DbErr> {
        Migrator::fresh(&self.db).await
    }

    /// Each migration and whether it is applied.
    pub async fn migration_status(&self) -> Result<Vec<MigrationState>, DbErr> {
        Migrator::install(&self.db).await?;
        Ok(Migrator::get_migration_with_status(&self.db)
            .await?
            .into_iter()
            .map(|m| MigrationState {
                name: m.name().to_owned(),
                applied: m.status() == migration::MigrationStatus::Applied,
            })
            .collect())
    }
}

/// A pool as `settings` say, with one connection more for a listener when `listener`.
async fn open(settings: &DbSettings, listener: bool) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout)
        .sqlx_logging(false);
    if settings.is_sqlite_memory() {
        // One database per connection: keep exactly one, forever. Never pinged on checkout
        // either: an in-process connection cannot go stale, and a checkout cancelled during
        // its ping (a client gone mid-request) would close it, and every row with it.
        options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None::<Duration>)
            .max_lifetime(None::<Duration>)
            .test_before_acquire(false);
    } else {
        options
            .max_connections(settings.max_connections + u32::from(listener))
            .idle_timeout(settings.idle_timeout)
            .max_lifetime(settings.max_lifetime)
            // A ping on every checkout is a round trip per request; only a connection idle
            // long enough for a proxy or the server to have dropped it is worth testing.
            .test_before_acquire_if_idle_for(Duration::from_secs(10))
            .connect_lazy(true);
        if let Some(folder) = sqlite_file_folder(&settings.url) {
            std::fs::create_dir_all(folder).map_err(|e| {
                DbErr::Custom(format!(
                    "cannot create the SQLite folder {}: {e}",
                    folder.display()
                ))
            })?;
        }
    }
    Database::connect(options).await
}

/// The folder of a SQLite database file named by `url`, if it is a file with a folder.
fn sqlite_file_folder(url: &str) -> Option<&Path> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_of_a_sqlite_file_is_found() {
        assert_eq!(
            sqlite_file_folder("sqlite://data/todo.db?mode=rwc"),
            Some(Path::new("data"))
        );
        assert_eq!(sqlite_file_folder("sqlite:todo.db"), None);
        assert_eq!(sqlite_file_folder("postgres://localhost/db"), None);
    }

    #[test]
    fn in_memory_sqlite_is_recognised() {
        assert!(DbSettings::new("sqlite::memory:").is_sqlite_memory());
        assert!(!DbSettings::new("sqlite://data/todo.db?mode=rwc").is_sqlite_memory());
    }
}
