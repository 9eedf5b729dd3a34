//! Sync: the user's changes as pages (`/changes`) and as a live stream (`/events`).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use actix_web_lab::sse;
use domain::sync::{Change, Cursor, Entry, PageSize, SyncError};
use domain::user::UserId;
use futures_util::Stream;

use crate::dto::{ChangesResponse, GoneResponse, ListResponse, TaskResponse};
use crate::error::{ApiError, Problem};
use crate::extract::{Owner, Query};
use crate::live::{STREAMS_PER_USER, Ticket};
use crate::params::ChangesParams;
use crate::schema::EventMessage;
use crate::state::AppState;

/// How often a quiet stream sends a comment (so that proxies keep it open) and reads its log
/// anyway (so that a lost wake-up costs latency, never an event).
const HEARTBEAT: Duration = Duration::from_secs(15);
/// Up to this much is added to each stream's quiet read, so that streams opened together (an
/// instance restarted, a burst of reconnections) do not all read their logs at one moment.
const QUIET_READ_SPREAD_MS: u64 = 5_000;
/// Events read from the log at a time: what a stream holds in memory at most.
const EVENTS_PER_READ: PageSize = PageSize::at_most(100);
/// What a client is told to wait before opening a stream again when it has too many.
const RETRY_STREAM_SECS: u64 = 5;

/// The user's changes since a cursor, or a snapshot of everything they have.
#[utoipa::path(get, path = "/api/{user_id}/changes", tag = "sync",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ChangesParams,
    ),
    responses(
        (status = 200, description = "What changed, as it is now; call again from `cursor` while `has_more`", body = ChangesResponse),
        (status = 410, description = "`since` is older than the history kept (30 days): start over without it", body = Problem),
        (status = 422, description = "`since` is not a cursor of this user's, or `limit` is out of range", body = Problem),
    ))]
pub async fn changes(
    state: web::Data<AppState>,
    owner: Owner,
    query: Query<ChangesParams>,
) -> Result<HttpResponse, ApiError> {
    let (since, size) = query.params.into_domain()?;
    let page = state.sync.changes(owner.id(), since, size).await?;
    let body = super::page_json(&ChangesResponse::from(&page), page.changes.len());
    Ok(HttpResponse::Ok().content_type(super::JSON).body(body))
}

/// The user's changes as they happen, as Server-Sent Events.
///
/// With `Last-Event-ID`, first every change since that event. A browser's `EventSource`
/// cannot send headers: this route also takes the token as `access_token` in the query.
#[utoipa::path(get, path = "/api/{user_id}/events", tag = "sync",
    security(("bearer" = []), ("cookie" = []), ("query" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ("Last-Event-ID" = Option<String>, Header, description = "The `id` of the last event received: the stream replays what came after it"),
        ("access_token" = Option<String>, Query, description = "The token, for clients that cannot send headers (never logged)"),
    ),
    responses(
        (status = 200, description = "`task.created`, `task.updated`, `task.deleted`, `list.created`, `list.updated`, `list.deleted` and `reminder` events, each with the cursor as `id`; `reset` when `Last-Event-ID` cannot be resumed from; a comment every 15 s", content_type = "text/event-stream", body = EventMessage),
        (status = 429, description = "The user has 10 streams open on this instance", body = Problem),
    ))]
pub async fn events(
    state: web::Data<AppState>,
    owner: Owner,
    req: HttpRequest,
) -> Result<sse::Sse<impl Stream<Item = Result<sse::Event, Infallible>>>, ApiError> {
    let ticket = state
        .streams
        .open(owner.id().as_str())
        .map_err(|_| ApiError::RateLimited {
            limit: u32::try_from(STREAMS_PER_USER).unwrap_or(u32::MAX),
            retry_after: RETRY_STREAM_SECS,
        })?;
    let last_event = req.headers().get("last-event-id").map(|value| {
        match value.to_str().map(str::parse::<Cursor>) {
            Ok(Ok(cursor @ Cursor::After(_))) => Some(cursor),
            _ => None,
        }
    });
    // A live stream starts after the user's last change as of this answer, so that whatever
    // the client writes once it has the answer is in the stream. While the database is away
    // the stream finds its start itself: the answer is a 200 even then, so that
    // `EventSource` keeps reconnecting by itself (it gives up for good on any other status)
    // until the stream can read again.
    let (cursor, start) = match last_event {
        Some(Some(cursor)) => (cursor, Start::Resumed),
        Some(None) => (Cursor::After(0), Start::Reset),
        None => match state.sync.head(owner.id()).await {
            Ok(head) => (head, Start::Resumed),
            Err(_) => (Cursor::After(0), Start::Live),
        },
    };
    let spread = u64::from(uuid::Uuid::new_v4().as_fields().1) % QUIET_READ_SPREAD_MS;
    let follow = Follow {
        owner: owner.id().clone(),
        cursor,
        start,
        quiet_read: HEARTBEAT + Duration::from_millis(spread),
        pending: VecDeque::new(),
        ticket,
        state,
    };
    let stream = futures_util::stream::unfold(follow, Follow::next);
    Ok(sse::Sse::from_stream(stream).with_keep_alive(HEARTBEAT))
}

/// How a stream begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// From the client's `Last-Event-ID`; or, once begun, from where it stands.
    Resumed,
    /// After the user's last change, with nothing replayed: the database was away when the
    /// stream was answered, so the stream finds where that is once it can read.
    Live,
    /// With a `reset`: the client's `Last-Event-ID` cannot be resumed from.
    Reset,
}

/// One stream following one user's log.
struct Follow {
    state: web::Data<AppState>,
    owner: UserId,
    /// After the last change read.
    cursor: Cursor,
    start: Start,
    /// How long a quiet stream waits before reading its log anyway.
    quiet_read: Duration,
    /// Read, not yet sent.
    pending: VecDeque<sse::Event>,
    ticket: Ticket,
}

impl Follow {
    /// The client's cursor cannot be resumed from: tell it to resync, and go on from now.
    async fn reset(&mut self) -> Result<(), ApiError> {
        self.cursor = self.state.sync.head(&self.owner).await?;
        self.pending.push_back(
            sse::Data::new("{}")
                .event("reset")
                .id(self.cursor.to_string())
                .into(),
        );
        Ok(())
    }

    /// Finds where a stream that has not begun starts.
    async fn begin(&mut self) -> Result<(), ApiError> {
        match std::mem::replace(&mut self.start, Start::Resumed) {
            Start::Resumed => Ok(()),
            Start::Live => {
                self.cursor = self.state.sync.head(&self.owner).await?;
                Ok(())
            }
            Start::Reset => self.reset().await,
        }
    }

    /// The next event: from what was read, else from the log, else after the next wake-up.
    /// The stream ends when the server drains or the database fails; the client resumes with
    /// `Last-Event-ID`.
    async fn next(mut self) -> Option<(Result<sse::Event, Infallible>, Self)> {
        // A read after a quiet heartbeat is for a wake-up that may have been lost: it reads the
        // log itself rather than a page shared since.
        let mut quiet = false;
        if let Err(error) = self.begin().await {
            tracing::warn!(%error, "an event stream ends: its log cannot be read");
            return None;
        }
        loop {
            if let Some(event) = self.pending.pop_front() {
                metrics::counter!("events_delivered_total").increment(1);
                return Some((Ok(event), self));
            }
            // Seen before reading: a wake-up during the read is not lost.
            let seen = *self.ticket.woken.borrow_and_update();
            let (sync, owner, from) = (&self.state.sync, &self.owner, self.cursor);
            let read = async || sync.events(owner, from, EVENTS_PER_READ).await;
            let page = if std::mem::take(&mut quiet) {
                read().await.map(Arc::new)
            } else {
                self.ticket.shared.page(from, seen, read).await
            };
            match page {
                Ok(page) => {
                    self.pending.extend(page.changes.iter().map(event));
                    self.cursor = page.cursor;
                    if !self.pending.is_empty() {
                        continue;
                    }
                }
                Err(SyncError::Cursor(_)) => {
                    if self.reset().await.is_err() {
                        return None;
                    }
                    continue;
                }
                Err(SyncError::Repo(error)) => {
                    tracing::warn!(%error, "an event stream ends: its log cannot be read");
                    return None;
                }
            }
            let draining = self.state.draining.clone();
            tokio::select! {
                _ = self.ticket.woken.changed() => {}
                () = tokio::time::sleep(self.quiet_read) => quiet = true,
                () = draining.started() => return None,
            }
        }
    }
}

/// The event of a change.
fn event(change: &Change) -> sse::Event {
    let verb = if change.created { "created" } else { "updated" };
    let (name, data) = match &change.entry {
        Entry::Task(task) => (format!("task.{verb}"), json(&TaskResponse::from(task))),
        Entry::List(list) => (format!("list.{verb}"), json(&ListResponse::from(list))),
        Entry::DeletedTask(id) => ("task.deleted".into(), gone(*id.as_uuid())),
        Entry::DeletedList(id) => ("list.deleted".into(), gone(*id.as_uuid())),
        Entry::Reminder(task) => ("reminder".into(), json(&TaskResponse::from(task))),
    };
    sse::Data::new(data)
        .event(name)
        .id(change.seq.to_string())
        .into()
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("a response always serialises")
}

fn gone(id: uuid::Uuid) -> String {
    json(&GoneResponse { id })
}

#[cfg(test)]
mod tests {
    use domain::list::{List, ListId, ListName, NewList};
    use domain::task::{Task, TaskId};
    use domain::testing::new_task;
    use domain::user::UserId;

    use super::*;
    use crate::schema::EVENT_NAMES;

    #[test]
    fn every_event_sent_is_named_in_the_document() {
        let owner = UserId::parse("alice").unwrap();
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let task = Task::create(TaskId::generate(), owner.clone(), new_task("t"), now)
            .expect("a valid task");
        let new = NewList {
            name: ListName::parse("l").unwrap(),
            color: None,
        };
        let list = List::create(ListId::generate(), owner, new, now);
        let entries = [
            Entry::Task(task.clone()),
            Entry::List(list.clone()),
            Entry::DeletedTask(task.id()),
            Entry::DeletedList(list.id()),
            Entry::Reminder(task.clone()),
        ];
        for entry in entries {
            for created in [true, false] {
                let change = Change {
                    seq: 1,
                    created,
                    entry: entry.clone(),
                };
                let sent = format!("{:?}", event(&change));
                assert!(
                    EVENT_NAMES
                        .iter()
                        .any(|name| sent.contains(&format!("\"{name}\""))),
                    "{sent}"
                );
            }
        }
    }
}
