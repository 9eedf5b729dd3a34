//! Wake-ups for the streams that follow a user's changes: which owners' logs just grew.
//!
//! The log itself is the truth (written by triggers with every change); a wake-up only says
//! "read it now". Every committed write wakes the streams of this instance at once, on the
//! writer's own thread: handing each wake-up to a task of its own woke another thread per
//! write, most often to find no stream of that owner here (`bench/syscalls`). On
//! PostgreSQL it also reaches the other instances: the writer's owner goes to a relay that
//! sends it with `pg_notify` after the commit, batched, and each instance's relay `LISTEN`s.
//! Notifying inside the write's transaction would be simpler, but PostgreSQL serialises the
//! commits of notifying transactions (a toggle measured 6.5k → 2.3k transactions/s).
//!
//! A wake-up can be lost (a full queue, an instance that dies after its commit, a listener
//! reconnecting): streams also read their log every heartbeat, and a reconnected listener
//! wakes every stream, so a loss costs latency, never an event.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::postgres::PgListener;
use tokio::sync::mpsc;

/// The `LISTEN`/`NOTIFY` channel of the relay.
const CHANNEL: &str = "todo_changes";
/// Wake-ups waiting for the relay before new ones are dropped.
const RELAY_QUEUE: usize = 4096;
/// The most owners one `pg_notify` statement carries.
const BATCH: usize = 512;
/// The least time between two `pg_notify` statements. Each one wakes every listening
/// instance and passes PostgreSQL's one notification queue: under load, gathering the owners
/// of 10 ms into one statement costs writes less than a statement every few commits, and
/// adds at most 10 ms to what other instances' streams wait (their target is 100 ms).
const SPACING: Duration = Duration::from_millis(10);
/// The first wait before trying the database again after the listener lost it; it doubles
/// with each failure, up to `RETRY_MAX`, so that a long outage is not a warning a second.
const RETRY: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// What the follower is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake<'a> {
    /// This owner's log grew.
    Owner(&'a str),
    /// Wake-ups may have been missed: every follower should read its log.
    Everyone,
}

/// Who is told of wake-ups: called on the thread that commits (or that receives another
/// instance's notification), so it must be quick and must not block.
type Follower = Box<dyn Fn(Wake<'_>) + Send + Sync>;

/// The wake-ups of one store, shared by its repositories and the relay.
#[derive(Clone)]
pub struct ChangeFeed {
    follower: Arc<OnceLock<Follower>>,
    /// To the relay, on PostgreSQL.
    outbound: Option<mpsc::Sender<String>>,
    /// The relay's end, until the relay takes it.
    inbound: Arc<Mutex<Option<mpsc::Receiver<String>>>>,
    /// Tells this instance's notifications from the others'.
    instance: u64,
}

impl std::fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeFeed")
            .field("followed", &self.follower.get().is_some())
            .field("relayed", &self.outbound.is_some())
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl ChangeFeed {
    /// A feed; `relayed` on PostgreSQL, where other instances are to be told.
    pub(crate) fn new(relayed: bool) -> Self {
        let (outbound, inbound) = if relayed {
            let (tx, rx) = mpsc::channel(RELAY_QUEUE);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        Self {
            follower: Arc::default(),
            outbound,
            inbound: Arc::new(Mutex::new(inbound)),
            instance: rand_instance(),
        }
    }

    /// Tells `follower` of every wake-up from now on; `false` when the feed has one already.
    pub fn follow(&self, follower: impl Fn(Wake<'_>) + Send + Sync + 'static) -> bool {
        self.follower.set(Box::new(follower)).is_ok()
    }

    fn wake(&self, wake: Wake<'_>) {
        if let Some(follower) = self.follower.get() {
            follower(wake);
        }
    }

    /// Tells every follower of `owner` that their log grew; called after each commit.
    pub(crate) fn changed(&self, owner: &str) {
        self.wake(Wake::Owner(owner));
        // A full relay queue is a wake-up the heartbeat makes up for.
        if let Some(outbound) = &self.outbound {
            let _ = outbound.try_send(owner.to_owned());
        }
    }

    /// Relays wake-ups between this instance and the others through PostgreSQL, until
    /// dropped; returns at once on SQLite (one instance) or when already relaying.
    pub(crate) async fn relay(&self, db: DatabaseConnection) {
        let Some(inbound) = self.inbound.lock().ok().and_then(|mut slot| slot.take()) else {
            return;
        };
        let pool = db.get_postgres_connection_pool().clone();
        tokio::join!(self.send(&pool, inbound), self.listen(&pool));
    }

    /// Sends the owners of this instance's commits to the other instances.
    async fn send(&self, pool: &sea_orm::sqlx::PgPool, mut inbound: mpsc::Receiver<String>) {
        while let Some(first) = inbound.recv().await {
            let mut owners = vec![first];
            while owners.len() < BATCH {
                match inbound.try_recv() {
                    Ok(owner) => owners.push(owner),
                    Err(_) => break,
                }
            }
            owners.sort_unstable();
            owners.dedup();
            let payloads: Vec<String> = owners
                .iter()
                .map(|owner| format!("{:x}:{owner}", self.instance))
                .collect();
            let sent = sea_orm::sqlx::query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p")
                .bind(CHANNEL)
                .bind(&payloads)
                .execute(pool)
                .await;
            if let Err(error) = sent {
                tracing::warn!(%error, owners = owners.len(), "could not notify the other instances");
            }
            tokio::time::sleep(SPACING).await;
        }
    }

    /// Wakes this instance's followers of the owners other instances changed.
    async fn listen(&self, pool: &sea_orm::sqlx::PgPool) {
        let own = format!("{:x}:", self.instance);
        let mut retry = RETRY;
        loop {
            let listening = match PgListener::connect_with(pool).await {
                Ok(mut listener) => listener.listen(CHANNEL).await.map(|()| listener),
                Err(error) => Err(error),
            };
            let mut listener = match listening {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, retry_secs = retry.as_secs(), "cannot listen for other instances' changes");
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(RETRY_MAX);
                    continue;
                }
            };
            retry = RETRY;
            // Whatever was notified while no one listened is in the logs.
            self.wake(Wake::Everyone);
            loop {
                match listener.try_recv().await {
                    Ok(Some(notification)) => {
                        let payload = notification.payload();
                        if let Some((_, owner)) = payload
                            .split_once(':')
                            .filter(|_| !payload.starts_with(&own))
                        {
                            self.wake(Wake::Owner(owner));
                        }
                    }
                    // The connection was lost and made again (listening again): catch up.
                    Ok(None) => self.wake(Wake::Everyone),
                    Err(error) => {
                        tracing::warn!(%error, "lost the listener of other instances' changes");
                        tokio::time::sleep(RETRY).await;
                        break;
                    }
                }
            }
        }
    }
}

/// An instance's tag: unique enough among the instances on one database.
fn rand_instance() -> u64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ])
}
