//! Stopping without leaving a request unanswered. A stop first *drains* for
//! `SHUTDOWN_DELAY_SECS`: `/ready` answers 503, so a load balancer stops routing here, and every
//! response closes its connection, so clients open new ones (which land elsewhere) instead of
//! reusing one that the server is about to close. Then the server stops accepting and finishes
//! the requests in flight (at most 30 s). SIGTERM, an orchestrator's stop, drains first; ctrl-c
//! at a terminal stops at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use tokio::sync::Notify;

/// Whether the server is draining, shared by the shutdown and the requests it changes.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<DrainState>);

#[derive(Debug, Default)]
struct DrainState {
    on: AtomicBool,
    started: Notify,
}

impl Draining {
    /// `true` once a stop has begun.
    pub fn is_on(&self) -> bool {
        self.0.on.load(Ordering::Relaxed)
    }

    /// Returns once a stop has begun: event streams end then, and their clients reconnect to
    /// another instance (a stream never finishes by itself, so the stop would wait for it).
    pub async fn started(&self) {
        let started = self.0.started.notified();
        let mut started = std::pin::pin!(started);
        // Registered before the check, so that a start between the two is not missed.
        started.as_mut().enable();
        if !self.is_on() {
            started.await;
        }
    }

    fn start(&self) {
        self.0.on.store(true, Ordering::Relaxed);
        self.0.started.notify_waiters();
    }
}

/// Stops one server: drains, then stops accepting and lets requests in flight finish.
#[derive(Clone)]
pub struct Shutdown {
    handle: ServerHandle,
    draining: Draining,
    delay: Duration,
}

impl Shutdown {
    pub(crate) fn new(handle: ServerHandle, draining: Draining, delay: Duration) -> Self {
        Self {
            handle,
            draining,
            delay,
        }
    }

    /// What SIGTERM does: drains for the configured delay, then stops gracefully.
    pub async fn graceful(&self) {
        self.drain_for(self.delay).await;
    }

    async fn drain_for(&self, delay: Duration) {
        self.draining.start();
        tracing::info!(delay_secs = delay.as_secs(), "draining before the stop");
        tokio::time::sleep(delay).await;
        self.handle.stop(true).await;
    }

    /// Waits for SIGTERM (drain, then stop) or SIGINT (stop at once).
    pub(crate) async fn on_signal(self) {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!("cannot listen for SIGTERM and SIGINT; stop the process with SIGKILL");
            return;
        };
        tokio::select! {
            _ = term.recv() => self.graceful().await,
            _ = int.recv() => self.drain_for(Duration::ZERO).await,
        }
    }
}
