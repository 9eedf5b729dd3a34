//! The state every worker shares: the use cases and the readiness probe on the requests' pool,
//! the token verifier, the event streams, the draining flag.

use std::sync::Arc;

use domain::auth::TokenVerifier;
use domain::list::ListService;
use domain::sync::SyncService;
use domain::task::TaskService;
use domain::user::UserService;

use crate::live::Streams;
use crate::shutdown::Draining;

/// Whether the server can serve requests that need the database.
#[async_trait::async_trait]
pub trait Readiness: Send + Sync + 'static {
    /// `true` when the database answers now.
    async fn is_ready(&self) -> bool;
}

#[async_trait::async_trait]
impl Readiness for adapters_postgres::Store {
    async fn is_ready(&self) -> bool {
        self.ping().await
    }
}

/// Shared by every request, cloned per worker.
#[derive(Clone)]
pub struct AppState {
    /// Task use cases.
    pub tasks: TaskService,
    /// List use cases.
    pub lists: ListService,
    /// User use cases.
    pub users: UserService,
    /// Sync use cases.
    pub sync: SyncService,
    /// This instance's open event streams.
    pub streams: Arc<Streams>,
    /// Verifies bearer tokens.
    pub verifier: Arc<dyn TokenVerifier>,
    /// Probes the database for `/ready`.
    pub readiness: Arc<dyn Readiness>,
    /// Cookie read when there is no `Authorization` header.
    pub cookie_name: Arc<str>,
    /// Set once a stop has begun: `/ready` fails and responses close their connections.
    pub draining: Draining,
}
