//! The live event streams of this instance: how many each user has open, the wake-ups that
//! tell a user's streams to read their log, and the read they share.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use adapters_postgres::Wake;
use domain::sync::{ChangePage, Cursor, SyncError};
use tokio::sync::watch;

/// The most streams one user holds open on one instance.
pub const STREAMS_PER_USER: usize = 10;

/// The open streams of this instance, by user.
#[derive(Debug, Default)]
pub struct Streams {
    users: Mutex<HashMap<String, Followers>>,
}

/// The streams of one user: a counter bumped at each wake-up, which each stream watches.
#[derive(Debug)]
struct Followers {
    wake: watch::Sender<u64>,
    open: usize,
    shared: Arc<SharedRead>,
}

/// The last page of the log read for one user's streams here. A user's streams are woken
/// together and usually stand at the same place: the first reads, the others take its page.
#[derive(Debug, Default)]
pub struct SharedRead {
    last: tokio::sync::Mutex<Option<LastRead>>,
}

#[derive(Debug)]
struct LastRead {
    from: Cursor,
    /// The wake-up counter when the read began: the page holds every change woken for up to
    /// there.
    wake: u64,
    page: Arc<ChangePage>,
}

impl SharedRead {
    /// The page of the log from `from` for a stream that has seen wake-ups up to `seen`:
    /// the last one read, if it started from there and after that wake-up, else a new one.
    pub async fn page(
        &self,
        from: Cursor,
        seen: u64,
        read: impl AsyncFnOnce() -> Result<ChangePage, SyncError>,
    ) -> Result<Arc<ChangePage>, SyncError> {
        let mut last = self.last.lock().await;
        if let Some(done) = last.as_ref().filter(|l| l.from == from && l.wake >= seen) {
            return Ok(done.page.clone());
        }
        let page = Arc::new(read().await?);
        *last = Some(LastRead {
            from,
            wake: seen,
            page: page.clone(),
        });
        Ok(page)
    }
}

/// One open stream: it watches its user's wake-ups, and leaves the count when dropped.
#[derive(Debug)]
pub struct Ticket {
    streams: Arc<Streams>,
    user: String,
    /// Changes whenever the user's log may have grown.
    pub woken: watch::Receiver<u64>,
    /// The read the user's streams here share.
    pub shared: Arc<SharedRead>,
}

/// A user already has [`STREAMS_PER_USER`] streams open here.
#[derive(Debug)]
pub struct TooMany;

impl Streams {
    fn users(&self) -> MutexGuard<'_, HashMap<String, Followers>> {
        // A panic while holding the lock leaves the map consistent: every change is one step.
        self.users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens a stream for `user`, unless they have too many.
    pub fn open(self: &Arc<Self>, user: &str) -> Result<Ticket, TooMany> {
        let mut users = self.users();
        let followers = users.entry(user.to_owned()).or_insert_with(|| Followers {
            wake: watch::channel(0).0,
            open: 0,
            shared: Arc::default(),
        });
        if followers.open >= STREAMS_PER_USER {
            return Err(TooMany);
        }
        followers.open += 1;
        let woken = followers.wake.subscribe();
        let shared = followers.shared.clone();
        drop(users);
        metrics::gauge!("event_streams_open").increment(1.0);
        Ok(Ticket {
            streams: self.clone(),
            user: user.to_owned(),
            woken,
            shared,
        })
    }

    /// Wakes the streams a wake-up concerns.
    pub fn wake(&self, wake: Wake<'_>) {
        let users = self.users();
        let bump = |followers: &Followers| followers.wake.send_modify(|n| *n += 1);
        match wake {
            Wake::Owner(user) => {
                if let Some(followers) = users.get(user) {
                    bump(followers);
                }
            }
            Wake::Everyone => users.values().for_each(bump),
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut users = self.streams.users();
        if let Some(followers) = users.get_mut(&self.user) {
            followers.open -= 1;
            if followers.open == 0 {
                users.remove(&self.user);
            }
        }
        metrics::gauge!("event_streams_open").decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_holds_at_most_ten_streams_and_closing_one_frees_its_place() {
        let streams = Arc::new(Streams::default());
        let mut tickets: Vec<Ticket> = (0..STREAMS_PER_USER)
            .map(|_| streams.open("alice").unwrap())
            .collect();
        assert!(streams.open("alice").is_err());
        assert!(streams.open("bob").is_ok());
        tickets.pop();
        assert!(streams.open("alice").is_ok());
    }

    #[test]
    fn a_wake_up_reaches_the_users_streams_only() {
        let streams = Arc::new(Streams::default());
        let mut alice = streams.open("alice").unwrap();
        let bob = streams.open("bob").unwrap();
        streams.wake(Wake::Owner("alice"));
        assert!(alice.woken.has_changed().unwrap());
        assert!(!bob.woken.has_changed().unwrap());
        alice.woken.mark_unchanged();
        streams.wake(Wake::Everyone);
        assert!(alice.woken.has_changed().unwrap());
        assert!(bob.woken.has_changed().unwrap());
    }

    fn page(cursor: u64) -> ChangePage {
        ChangePage {
            changes: Vec::new(),
            cursor: Cursor::After(cursor),
            has_more: false,
        }
    }

    #[tokio::test]
    async fn streams_at_one_place_share_a_read_made_after_their_wake_up() {
        let shared = SharedRead::default();
        let from = Cursor::After(1);
        let first = shared.page(from, 3, async || Ok(page(5))).await.unwrap();
        // Same place, no later wake-up: the page read is taken.
        let same = shared
            .page(from, 3, async || panic!("read again"))
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&first, &same));
        // A wake-up since, or another place: read anew.
        let later = shared.page(from, 4, async || Ok(page(6))).await.unwrap();
        assert_eq!(later.cursor, Cursor::After(6));
        let elsewhere = shared
            .page(Cursor::After(2), 4, async || Ok(page(7)))
            .await
            .unwrap();
        assert_eq!(elsewhere.cursor, Cursor::After(7));
    }

    #[test]
    fn the_last_stream_closed_forgets_the_user() {
        let streams = Arc::new(Streams::default());
        drop(streams.open("alice").unwrap());
        assert!(streams.users().is_empty());
    }
}
