//! Live pages over Server-Sent Events, and Zoho's notifications in. `GET /api/live` is one
//! browser's stream (its tabs share it): authorised by the session, it carries only the events
//! of the session's active connection's org — a `hello` saying how changes made outside zportal
//! arrive (Zoho's notifications, or polling), then a `change` per entry of the live log, each
//! with its number among its org's events as the SSE id — with heartbeats, resumes after `Last-Event-ID` (on any process:
//! the log is shared), says `reload` when the log no longer holds what it missed, and ends when
//! the server shuts down, and with its session: `end` when it is signed out, expires or moves to
//! another account (within moments, on every process), `replaced` when a newer stream of the
//! session takes its place (see [`crate::streams`] for the caps). `POST /zoho/notify` takes
//! Zoho's notifications: a bounded body, the channel's token checked in constant time, then a
//! rate per channel, and then only a hint to re-read — what it says changed goes into the log,
//! never its values; refused ones are limited per client.

use std::collections::HashMap;
use std::convert::Infallible;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use app::live_event::LiveEvent;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::Stream;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use keeper::Zoho;
use keeper::live::{Changed, Hub, LogEntry, Op, Resume};
use keeper::watch::{Interest, Mode};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use zoho::ConnectionId;
use zoho::budget::OrgKey;

use app::session::{ActiveConnection, SessionRejection};
use tower_sessions::session::Id;
use tower_sessions::{Session, SessionStore as _};

use crate::AppState;
use crate::client::{Client, ClientKey};
use crate::store::Sessions;
use crate::streams::Ticket;

/// The largest notification zportal reads (Zoho batches ids; a hundred fit in a few KB).
pub const MAX_NOTIFICATION: usize = 64 * 1024;
/// Ids one notification may name.
const MAX_IDS: usize = 1000;
/// How often a stream sends a `ping` (proxies close idle responses, and a page that hears
/// nothing for a while knows its stream is dead and opens another). A named event, not a
/// comment: a page's `EventSource` never shows it comments.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// How often a stream checks that its connection is still there and its mode the same.
const RECHECK: Duration = Duration::from_secs(10);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/live", get(stream))
        .route("/zoho/notify", post(notify))
}

/// What Zoho's notifications may cost. A channel may deliver a burst of 200, then 50 a second,
/// counted only once its token checked: whoever knows a channel id cannot spend its allowance. A
/// client may be refused (a forged token, an unknown channel, no notification at all) a burst of
/// 60 times, then once a second; past that it is answered 429 unread until its allowance is back.
/// Zoho's real deliveries are never refused for another client's forgeries.
pub struct NotifyLimits {
    channels: DefaultKeyedRateLimiter<i64>,
    refusals: DefaultKeyedRateLimiter<ClientKey>,
    /// Clients that spent their refusals, and when they may be heard again.
    blocked: std::sync::Mutex<HashMap<ClientKey, std::time::Instant>>,
}

/// Clients remembered as blocked at once (a flood from more is still refused, one by one, by
/// the refusal limiter).
const MAX_BLOCKED: usize = 100_000;

impl Default for NotifyLimits {
    fn default() -> Self {
        let per_second = |n: u32, burst: u32| {
            Quota::per_second(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
        };
        NotifyLimits {
            channels: RateLimiter::keyed(per_second(50, 200)),
            refusals: RateLimiter::keyed(per_second(1, 60)),
            blocked: std::sync::Mutex::new(HashMap::new()),
        }
    }
}

impl NotifyLimits {
    pub fn prune(&self) {
        self.channels.retain_recent();
        self.refusals.retain_recent();
        let now = std::time::Instant::now();
        if let Ok(mut blocked) = self.blocked.lock() {
            blocked.retain(|_, until| *until > now);
        }
    }

    /// The seconds until `client` may be heard again, if it spent its refusals.
    fn blocked(&self, client: ClientKey) -> Option<u64> {
        let until = *self.blocked.lock().ok()?.get(&client)?;
        let left = until.checked_duration_since(std::time::Instant::now())?;
        Some(left.as_secs() + 1)
    }

    /// Counts a refusal of `client`; the seconds until it may be heard again if that was one
    /// too many.
    fn refused(&self, client: ClientKey) -> Option<u64> {
        let not_until = self.refusals.check_key(&client).err()?;
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        if let Ok(mut blocked) = self.blocked.lock()
            && blocked.len() < MAX_BLOCKED
        {
            blocked.insert(client, std::time::Instant::now() + wait);
        }
        Some(wait.as_secs() + 1)
    }
}

#[derive(Debug, Deserialize)]
struct StreamQuery {
    /// The seq to resume after, for a tab that starts the stream anew (a new `EventSource`
    /// cannot set `Last-Event-ID` itself).
    after: Option<i64>,
}

/// Where a stream resumes: `Last-Event-ID`, else `?after=`.
fn resume_point(headers: &HeaderMap, query: &StreamQuery) -> Option<i64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or(query.after)
        .filter(|seq| *seq >= 0)
}

async fn stream(
    State(state): State<AppState>,
    found: Result<ActiveConnection, SessionRejection>,
    session: Session,
    Client(client): Client,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Response {
    let connection = match found {
        Ok(ActiveConnection(c)) => c,
        Err(SessionRejection::SignedOut) => {
            return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response();
        }
        Err(SessionRejection::Store(e)) => {
            tracing::error!(error = %e, "connection store failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "session unreadable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Some(cookie_id) = session.id() else {
        return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response();
    };
    let id = connection.id.clone();
    let org = OrgKey {
        dc: connection.key.dc,
        org: connection.key.org.clone(),
    };
    let zoho = state.ctx.zoho.clone();
    let hub = zoho.live.clone();
    // Subscribed before the log is read, so nothing falls between the two.
    let events = hub.subscribe();
    let interest = zoho.watches.open(&org, &id);
    let mode = zoho.watches.mode(&org);
    let mut first = vec![hello(mode)];
    let started = match resume_point(&headers, &query) {
        None => hub.org_head(&org).await.inspect(|head| {
            first[0] = hello(mode).id(head.to_string());
        }),
        Some(after) => match hub.resume(&org, after).await {
            Ok(Resume::Events(missed)) => {
                let last = missed.last().map_or(after, |e| e.org_seq).max(after);
                first.extend(missed.iter().map(change));
                Ok(last)
            }
            Ok(Resume::Reload) => hub.org_head(&org).await.inspect(|&head| {
                first.push(reload(head));
            }),
            Err(e) => Err(e),
        },
    };
    let last = match started {
        Ok(last) => last,
        Err(e) => {
            tracing::warn!(error = %e, "the live log is unreadable");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    // Only now, with the stream ready to serve: a place among the session's and the client's
    // (taking it may replace the session's oldest stream).
    let ticket = match state.streams.open(Sessions::stored_id(&cookie_id), client) {
        Ok(ticket) => ticket,
        Err(e) => {
            tracing::warn!(%client, "{e}");
            let mut res = (StatusCode::TOO_MANY_REQUESTS, "Too many live streams.").into_response();
            crate::limits::retry_after(res.headers_mut(), RECHECK.as_secs());
            return res;
        }
    };
    let mut live = Live {
        zoho,
        hub,
        org,
        connection: id,
        session: Bound {
            sessions: state.sessions.clone(),
            cookie_id,
            max: state.config.store.session_max,
            ticket,
        },
        mode,
        last,
        events,
        closing: state.zoho().live.closing(),
        recheck: tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK),
        heartbeat: tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT),
        pending: first.into(),
        _interest: interest,
        done: false,
    };
    // A sign-out between reading the session above and taking the place was told to nobody.
    live.check_session().await;
    let mut res = Sse::new(live.into_stream()).into_response();
    // Proxies must pass each event on as it comes.
    res.headers_mut()
        .insert("x-accel-buffering", http::HeaderValue::from_static("no"));
    res
}

/// What ties a stream to its session.
struct Bound {
    sessions: Sessions,
    /// The session's id as its cookie carries it.
    cookie_id: Id,
    /// The absolute lifetime of a sign-in (`ZPORTAL_SESSION_MAX`).
    max: Duration,
    /// The stream's place among the session's and the client's; it is woken through it.
    ticket: Ticket,
}

/// Why a stream ends before its page closes it.
enum Ending {
    /// The session ended (signed out, expired) or moved to another account.
    Session,
    /// A newer stream of the session took its place.
    Replaced,
}

impl Bound {
    /// Why the stream of `connection` must end now, if it must. A store that cannot be read
    /// ends nothing: the next check asks again.
    async fn ending(&self, connection: &ConnectionId) -> Option<Ending> {
        if self.ticket.signal.replaced() {
            return Some(Ending::Replaced);
        }
        let record = match self.sessions.load(&self.cookie_id).await {
            Ok(record) => record,
            Err(e) => {
                tracing::warn!(error = %e, "a stream could not check its session");
                return None;
            }
        };
        let now = time::OffsetDateTime::now_utc();
        let holds = record
            .filter(|r| r.expiry_date > now)
            .and_then(|r| app::session::accounts_in(&r.data))
            .is_some_and(|a| {
                a.active.as_deref() == Some(connection.as_str())
                    && zoho::clock::now() - a.signed_in_at <= self.max.as_secs() as i64
            });
        (!holds).then_some(Ending::Session)
    }
}

/// An SSE event carrying `e`: named as it is, its line as the data.
fn sse(e: &LiveEvent) -> Event {
    Event::default().event(e.name()).data(e.to_line())
}

fn hello(mode: Mode) -> Event {
    sse(&LiveEvent::Hello(mode.into()))
}

fn change(e: &LogEntry) -> Event {
    let event = LiveEvent::Change {
        module: e.module.clone(),
        op: e.op.into(),
        ids: e.ids.clone(),
    };
    sse(&event).id(e.org_seq.to_string())
}

/// The page must load anew (what it missed is gone from the log); it resumes from `head` (its
/// org's number).
fn reload(head: i64) -> Event {
    sse(&LiveEvent::Reload).id(head.to_string())
}

/// One open stream.
struct Live {
    zoho: Arc<Zoho>,
    hub: Hub,
    org: OrgKey,
    connection: ConnectionId,
    session: Bound,
    mode: Mode,
    /// The org's number of the last event sent.
    last: i64,
    events: tokio::sync::broadcast::Receiver<Arc<LogEntry>>,
    closing: tokio::sync::watch::Receiver<bool>,
    recheck: tokio::time::Interval,
    heartbeat: tokio::time::Interval,
    pending: std::collections::VecDeque<Event>,
    _interest: Interest,
    done: bool,
}

impl Live {
    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        futures::stream::unfold(self, |mut live| async move {
            let event = live.next().await?;
            Some((Ok(event), live))
        })
    }

    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Some(e);
            }
            if self.done || *self.closing.borrow() {
                return None;
            }
            tokio::select! {
                got = self.events.recv() => match got {
                    Ok(e) => {
                        if e.org != self.org {
                            continue;
                        }
                        if e.org_seq > self.last {
                            self.last = e.org_seq;
                            return Some(change(&e));
                        }
                        if e.org_seq == 0 {
                            // Written by a process from before per-org numbers (a rolling
                            // deploy): it has no number to send, so the page reads everything.
                            return Some(reload(self.last));
                        }
                    }
                    // Fell behind: what it missed is in the log.
                    Err(RecvError::Lagged(_)) => self.catch_up().await,
                    Err(RecvError::Closed) => return None,
                },
                _ = self.closing.changed() => return None,
                () = self.session.ticket.signal.wake.notified() => self.check_session().await,
                _ = self.recheck.tick() => self.recheck().await,
                _ = self.heartbeat.tick() => return Some(Event::default().event("ping").data("{}")),
            }
        }
    }

    async fn catch_up(&mut self) {
        match self.hub.resume(&self.org, self.last).await {
            Ok(Resume::Events(missed)) => {
                for e in missed {
                    self.last = e.org_seq;
                    self.pending.push_back(change(&e));
                }
            }
            Ok(Resume::Reload) => {
                if let Ok(head) = self.hub.org_head(&self.org).await {
                    self.last = head;
                }
                self.pending.push_back(reload(self.last));
            }
            Err(e) => {
                tracing::warn!(error = %e, "the live log is unreadable; the page reloads");
                self.pending.push_back(reload(self.last));
                self.done = true;
            }
        }
    }

    /// A stream whose session ended, or went to another account, says so and ends: its page
    /// then loads anew (signed out, or as the other account) and `live.js` opens no stream for
    /// the old session. One replaced by a newer stream of its session says that and ends.
    async fn check_session(&mut self) {
        match self.session.ending(&self.connection).await {
            None => {}
            Some(Ending::Session) => {
                self.pending.push_back(sse(&LiveEvent::End));
                self.done = true;
            }
            Some(Ending::Replaced) => {
                self.pending.push_back(sse(&LiveEvent::Replaced));
                self.done = true;
            }
        }
    }

    /// A stream whose session or connection went ends (its page shows that); a changed mode
    /// is told.
    async fn recheck(&mut self) {
        self.check_session().await;
        if self.done {
            return;
        }
        if !matches!(self.zoho.vault.get(&self.connection).await, Ok(Some(_))) {
            self.pending.push_back(reload(self.last));
            self.done = true;
            return;
        }
        let mode = self.zoho.watches.mode(&self.org);
        if mode != self.mode {
            self.mode = mode;
            self.pending.push_back(hello(mode));
        }
    }
}

/// A notification as Zoho sends it (§8.5); everything but the channel and token is a hint.
#[derive(Debug, Deserialize)]
struct Notification {
    channel_id: serde_json::Value,
    token: Option<String>,
    module: Option<String>,
    #[serde(default)]
    ids: Vec<serde_json::Value>,
    operation: Option<String>,
}

async fn notify(State(state): State<AppState>, Client(client): Client, req: Request) -> Response {
    let limits = &state.notify_limits;
    // A client that spent its refusals is not read at all.
    if let Some(wait) = limits.blocked(client) {
        return too_many(wait);
    }
    // Answers a refusal of this client, or 429 once it has been refused too often.
    let refuse = |status: StatusCode, message: &'static str| match limits.refused(client) {
        Some(wait) => too_many(wait),
        None => (status, message).into_response(),
    };
    let body = match axum::body::to_bytes(req.into_body(), MAX_NOTIFICATION).await {
        Ok(body) => body,
        // Too large, or too slow (the body deadline): refused, and counted.
        Err(_) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, "Not a Zoho notification."),
    };
    let Ok(n) = serde_json::from_slice::<Notification>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "Not a Zoho notification.");
    };
    let channel = n
        .channel_id
        .as_i64()
        .or_else(|| n.channel_id.as_str().and_then(|s| s.trim().parse().ok()));
    let (Some(channel), Some(token)) = (channel, n.token.as_deref()) else {
        return refuse(StatusCode::BAD_REQUEST, "Not a Zoho notification.");
    };
    let zoho = state.zoho();
    let org = match zoho.watches.verify(channel, token).await {
        Ok(Some(org)) => org,
        Ok(None) => {
            tracing::warn!(%client, "a notification for an unknown channel, or with the wrong token");
            return refuse(StatusCode::FORBIDDEN, "Unknown channel.");
        }
        Err(e) => {
            tracing::error!(error = %e, "could not check a notification");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    // Only now, Zoho's own: its channel's allowance.
    if limits.channels.check_key(&channel).is_err() {
        return (StatusCode::TOO_MANY_REQUESTS, "Too many notifications.").into_response();
    }
    let module = n.module.filter(|m| {
        !m.is_empty() && m.len() <= 100 && m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    });
    let op = n.operation.as_deref().and_then(Op::of_notification);
    let ids: Vec<String> = n
        .ids
        .iter()
        .take(MAX_IDS)
        .filter_map(|id| match id {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|id| !id.is_empty() && id.len() <= 30 && id.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    let (Some(module), Some(op), false) = (module, op, ids.is_empty()) else {
        // Believed to be Zoho's, but naming nothing zportal can re-read: acknowledged.
        return StatusCode::OK.into_response();
    };
    let change = Changed {
        org: org.clone(),
        module,
        ids,
        op,
        notified: true,
    };
    // Kept answers go before any page hears of the change: a page told must read it anew.
    zoho.layer.invalidate_org(&org);
    match zoho.live.notified(&change).await {
        // Zoho's word on a write through zportal, already told.
        Ok(None) => {}
        // Told here; the other processes drop their kept answers and read the log.
        Ok(Some(_)) => zoho.layer.publish_records_changed(&org).await,
        Err(e) => {
            tracing::error!(error = %e, "could not store a notification");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    StatusCode::OK.into_response()
}

/// 429, to come back in `wait` seconds.
fn too_many(wait: u64) -> Response {
    let mut res = (
        StatusCode::TOO_MANY_REQUESTS,
        "Too many refused notifications.",
    )
        .into_response();
    crate::limits::retry_after(res.headers_mut(), wait);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_resumes_after_last_event_id_else_after_the_query() {
        let mut headers = HeaderMap::new();
        let q = |after| StreamQuery { after };
        assert_eq!(resume_point(&headers, &q(None)), None);
        assert_eq!(resume_point(&headers, &q(Some(4))), Some(4));
        headers.insert("last-event-id", http::HeaderValue::from_static("17"));
        assert_eq!(resume_point(&headers, &q(Some(4))), Some(17));
        headers.insert("last-event-id", http::HeaderValue::from_static("x"));
        assert_eq!(resume_point(&headers, &q(None)), None);
        assert_eq!(resume_point(&HeaderMap::new(), &q(Some(-3))), None);
    }
}
