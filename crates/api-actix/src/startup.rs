//! Building and running the server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderName};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use adapters_jwt::{JwtSettings, JwtVerifier};
use adapters_postgres::{
    SeaChangeLog, SeaIdempotencyStore, SeaListRepository, SeaReminders, SeaTaskRepository,
    SeaUserRepository, Store,
};
use anyhow::Context;
use domain::clock::SystemClock;
use domain::list::ListService;
use domain::reminder::ReminderService;
use domain::sync::SyncService;
use domain::task::TaskService;
use domain::user::UserService;
use secrecy::ExposeSecret;

use crate::config::{AuthSettings, Settings};
use crate::live::Streams;
use crate::middleware::{RateLimiter, request_context};
use crate::routes::routes;
use crate::shutdown::{Draining, Shutdown};
use crate::state::AppState;

/// On PostgreSQL, the pool of the work in the background (the migrations at start, the
/// reminders' rounds, the purges, the relay's notifications; its listener has one more of its
/// own): requests have a pool of their own (`Store::pool_for_requests`).
const BACKGROUND_CONNECTIONS: u32 = 2;
/// How often expired idempotency keys are purged.
const PURGE_EVERY: Duration = Duration::from_hours(1);
/// How often the metrics' histogram buffers are drained between scrapes.
const METRICS_UPKEEP_EVERY: Duration = Duration::from_secs(5);
/// How often idle rate-limit buckets are dropped.
const FORGET_IDLE_EVERY: Duration = Duration::from_mins(1);
/// How often due reminders are looked for: a reminder fires at most this late, plus the time
/// its firing takes. One indexed query a second per instance when none is due.
const REMINDERS_EVERY: Duration = Duration::from_secs(1);

/// The token verifier the settings describe.
pub fn verifier(auth: &AuthSettings) -> anyhow::Result<JwtVerifier> {
    let secret = auth
        .resolve_secret()
        .context("cannot keep the development secret")?;
    let mut settings = JwtSettings::new(
        secret.map(|s| s.expose_secret().as_bytes().to_vec().into()),
        auth.jwks_url.clone(),
    );
    settings.issuer.clone_from(&auth.issuer);
    settings.audience.clone_from(&auth.audience);
    Ok(JwtVerifier::new(settings)?)
}

/// The state of a server on `store`.
pub fn app_state(store: &Store, auth: &AuthSettings) -> anyhow::Result<AppState> {
    let UseCases {
        tasks,
        lists,
        users,
        sync,
    } = UseCases::on(store);
    Ok(AppState {
        tasks,
        lists,
        users,
        sync,
        streams: Arc::new(Streams::default()),
        verifier: Arc::new(verifier(auth)?),
        readiness: Arc::new(store.clone()),
        cookie_name: auth.cookie_name.as_str().into(),
        draining: Draining::default(),
    })
}

/// `state` with its use cases and readiness probe on `store`, and the rest (streams, token
/// cache, draining) shared with it: the state of the requests, on their pool.
fn on_store(state: &AppState, store: &Store) -> AppState {
    let on_store = UseCases::on(store);
    AppState {
        tasks: on_store.tasks,
        lists: on_store.lists,
        users: on_store.users,
        sync: on_store.sync,
        readiness: Arc::new(store.clone()),
        ..state.clone()
    }
}

/// The use cases, on one store.
struct UseCases {
    tasks: TaskService,
    lists: ListService,
    users: UserService,
    sync: SyncService,
}

impl UseCases {
    fn on(store: &Store) -> Self {
        let clock = Arc::new(SystemClock);
        let users = Arc::new(SeaUserRepository::new(store));
        let lists = Arc::new(SeaListRepository::new(store));
        let keys = Arc::new(SeaIdempotencyStore::new(store));
        Self {
            tasks: TaskService::new(
                Arc::new(SeaTaskRepository::new(store)),
                lists.clone(),
                users.clone(),
                keys.clone(),
                clock.clone(),
            ),
            lists: ListService::new(lists, users.clone(), keys, clock.clone()),
            users: UserService::new(users, clock.clone()),
            sync: SyncService::new(Arc::new(SeaChangeLog::new(store)), clock),
        }
    }
}

/// CORS for the configured origins: credentials allowed, preflights cached an hour, the
/// contract's headers exposed.
fn cors(origins: &[String]) -> Cors {
    let cors = origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin));
    cors.allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::LINK,
            header::RETRY_AFTER,
            HeaderName::from_static("x-total-count"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
        ])
        .supports_credentials()
        .max_age(3600)
}

/// A bound, not yet running server, and its metrics listener when configured.
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(u16, Server)>,
    shutdown: Shutdown,
}

impl Application {
    /// Connects, migrates when configured, binds, and starts the background chores.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let mut background = settings.database.clone();
        if background.is_postgres() {
            background.max_connections = BACKGROUND_CONNECTIONS;
        }
        let store = Store::connect(&background)
            .await
            .context("cannot open the database")?;
        if settings.run_migrations {
            store
                .migrate_up()
                .await
                .context("cannot apply the migrations (is the database reachable?)")?;
        }
        let state = app_state(&store, &settings.auth)?;
        let limiter = settings
            .rate_limit
            .map(|s| web::Data::new(RateLimiter::new(s)));
        spawn_chores(state.clone(), limiter.clone());
        spawn_live(&store, &state);
        let reminders =
            ReminderService::new(Arc::new(SeaReminders::new(&store)), Arc::new(SystemClock));
        spawn_reminders(reminders, state.draining.clone());
        let listener = TcpListener::bind((settings.host.as_str(), settings.port))
            .with_context(|| format!("cannot listen on {}:{}", settings.host, settings.port))?;
        let port = listener.local_addr()?.port();
        let requests = store
            .pool_for_requests(&settings.database)
            .await
            .context("cannot open the database")?;
        let metrics = match settings.metrics_addr {
            Some(addr) => {
                let listener = TcpListener::bind(addr)
                    .with_context(|| format!("cannot listen for metrics on {addr}"))?;
                let port = listener.local_addr()?.port();
                Some((port, crate::metrics::server(listener, requests.clone())?))
            }
            None => None,
        };
        let origins = settings.cors_origins.clone();
        // Twice the wait for a connection: time to get one, and as long again to use it.
        let limit = settings.database.acquire_timeout * 2;
        let draining = state.draining.clone();
        let state = web::Data::new(on_store(&state, &requests));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .configure(routes(limiter.clone()))
                .wrap(cors(&origins))
                .wrap(from_fn(move |req, next| request_context(req, next, limit)))
        })
        .listen(listener)?
        // Signals are ours (`shutdown`): SIGTERM drains before actix stops accepting.
        .disable_signals()
        .shutdown_timeout(30)
        .run();
        let shutdown = Shutdown::new(server.handle(), draining, settings.shutdown_delay);
        Ok(Self {
            port,
            server,
            metrics,
            shutdown,
        })
    }

    /// The port bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` is served on, when `METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// What stops this server as SIGTERM does (for tests and embedders).
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Serves until SIGTERM or ctrl-c (see [`crate::shutdown`]); the metrics listener stops
    /// with the API.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tokio::spawn(self.shutdown.on_signal());
        let Some((_, metrics)) = self.metrics else {
            return self.server.await;
        };
        let metrics_handle = metrics.handle();
        let metrics = tokio::spawn(metrics);
        let served = self.server.await;
        metrics_handle.stop(true).await;
        // Its outcome does not change the API's: the API has stopped either way.
        let _ = metrics.await;
        served
    }
}

/// Wakes this instance's event streams: from the store's writes, and on PostgreSQL from the
/// other instances' through the relay, which runs as long as the process does.
fn spawn_live(store: &Store, state: &AppState) {
    let streams = state.streams.clone();
    // A store serves one application: it has no follower yet.
    let followed = store.feed().follow(move |wake| streams.wake(wake));
    debug_assert!(followed, "the store's wake-ups already have a follower");
    let store = store.clone();
    tokio::spawn(async move { store.relay().await });
}

/// Fires due reminders every [`REMINDERS_EVERY`] until the server starts draining; a round
/// under way when it does is finished. Between rounds it holds no connection. What falls due
/// while every instance is down fires at the first round after a start.
fn spawn_reminders(reminders: ReminderService, draining: Draining) {
    tokio::spawn(async move {
        let mut round = tokio::time::interval(REMINDERS_EVERY);
        round.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Said once when the database goes away, once when it is back: not every second.
        let mut failing = false;
        loop {
            tokio::select! {
                _ = round.tick() => {}
                () = draining.started() => return,
            }
            match reminders.fire_due().await {
                Ok(fired) => {
                    if std::mem::take(&mut failing) {
                        tracing::info!("reminders fire again");
                    }
                    if fired > 0 {
                        metrics::counter!("reminders_fired_total").increment(fired);
                        tracing::debug!(fired, "reminders fired");
                    }
                }
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, "cannot fire reminders; they stay due");
                }
                Err(_) => {}
            }
        }
    });
}

/// Periodic work: forget expired idempotency keys and idle rate-limit buckets, drain the
/// metrics' buffers.
fn spawn_chores(state: AppState, limiter: Option<web::Data<RateLimiter>>) {
    tokio::spawn(async move {
        let mut purge = tokio::time::interval(PURGE_EVERY);
        let mut forget = tokio::time::interval(FORGET_IDLE_EVERY);
        let mut upkeep = tokio::time::interval(METRICS_UPKEEP_EVERY);
        loop {
            tokio::select! {
                _ = purge.tick() => {
                    match state.tasks.purge_expired_keys().await {
                        Ok(purged) => tracing::debug!(purged, "expired idempotency keys purged"),
                        Err(error) => tracing::warn!(error = %error, "idempotency key purge failed"),
                    }
                    match state.sync.purge().await {
                        Ok(purged) => tracing::debug!(purged, "changes older than the history kept purged"),
                        Err(error) => tracing::warn!(error = %error, "change log purge failed"),
                    }
                }
                _ = forget.tick() => {
                    if let Some(limiter) = &limiter {
                        limiter.forget_idle();
                    }
                }
                _ = upkeep.tick() => crate::metrics::upkeep(),
            }
        }
    });
}
