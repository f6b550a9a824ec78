//! The live streams open in this process, by session and by client. A session keeps at most
//! `per_session` open (a browser shares one across its tabs): one more replaces the oldest, which
//! is told so and ends. A client may open at most `per_client`. And a session's streams hear at
//! once when it changes — signed out, switched to another account, disconnected, cycled at a new
//! sign-in — here or on another process (the session store tells, the bus carries it between
//! processes), so each rechecks its session then rather than at its next timer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, broadcast};
use tower_sessions::session::Id;

use crate::client::ClientKey;
use crate::store::SessionChange;

/// The streams of the process.
#[derive(Debug)]
pub struct Streams {
    open: Mutex<Open>,
    per_session: usize,
    per_client: usize,
}

#[derive(Debug, Default)]
struct Open {
    next: u64,
    /// By stored session id, oldest first.
    by_session: HashMap<Id, Vec<(u64, Arc<Signal>)>>,
    by_client: HashMap<ClientKey, usize>,
}

/// What a stream is told from outside.
#[derive(Debug, Default)]
pub struct Signal {
    /// Wakes the stream: its session changed, or it was replaced.
    pub wake: Notify,
    replaced: AtomicBool,
}

impl Signal {
    /// Whether a newer stream of the session took this one's place.
    pub fn replaced(&self) -> bool {
        self.replaced.load(Ordering::Acquire)
    }

    fn poke(&self) {
        self.wake.notify_one();
    }
}

/// Its client has as many streams open as it may.
#[derive(Debug, thiserror::Error)]
#[error("this client has as many live streams open as it may")]
pub struct TooMany;

/// One open stream's place: given back when dropped.
#[derive(Debug)]
pub struct Ticket {
    streams: Arc<Streams>,
    session: Id,
    client: ClientKey,
    id: u64,
    pub signal: Arc<Signal>,
}

impl Streams {
    pub fn new(per_session: usize, per_client: usize) -> Self {
        Streams {
            open: Mutex::new(Open::default()),
            per_session: per_session.max(1),
            per_client: per_client.max(1),
        }
    }

    /// A place for a new stream of `session` (its stored id) from `client`.
    pub fn open(self: &Arc<Self>, session: Id, client: ClientKey) -> Result<Ticket, TooMany> {
        let mut open = self.open.lock().map_err(|_| TooMany)?;
        let of_client = open.by_client.get(&client).copied().unwrap_or(0);
        if of_client >= self.per_client {
            return Err(TooMany);
        }
        open.next += 1;
        let id = open.next;
        let signal = Arc::new(Signal::default());
        let mine = open.by_session.entry(session).or_default();
        // The oldest beyond the cap give way; each ends, and gives its place back, on its own.
        let active = mine.iter().filter(|(_, s)| !s.replaced()).count();
        let over = (active + 1).saturating_sub(self.per_session);
        for (_, old) in mine.iter().filter(|(_, s)| !s.replaced()).take(over) {
            old.replaced.store(true, Ordering::Release);
            old.poke();
        }
        mine.push((id, signal.clone()));
        *open.by_client.entry(client).or_default() += 1;
        Ok(Ticket {
            streams: self.clone(),
            session,
            client,
            id,
            signal,
        })
    }

    /// Streams open now, in all.
    pub fn len(&self) -> usize {
        self.open
            .lock()
            .map_or(0, |o| o.by_session.values().map(Vec::len).sum())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wakes the streams `change` concerns.
    pub fn session_changed(&self, change: SessionChange) {
        let Ok(open) = self.open.lock() else {
            return;
        };
        match change {
            SessionChange::One(id) => {
                for (_, s) in open.by_session.get(&id).into_iter().flatten() {
                    s.poke();
                }
            }
            SessionChange::Any => {
                for (_, s) in open.by_session.values().flatten() {
                    s.poke();
                }
            }
        }
    }

    /// Wakes streams as their sessions change, for as long as the task runs.
    pub fn follow(
        self: &Arc<Self>,
        mut changes: broadcast::Receiver<SessionChange>,
    ) -> tokio::task::JoinHandle<()> {
        let streams = self.clone();
        tokio::spawn(async move {
            loop {
                match changes.recv().await {
                    Ok(change) => streams.session_changed(change),
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        streams.session_changed(SessionChange::Any);
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let Ok(mut open) = self.streams.open.lock() else {
            return;
        };
        if let Some(mine) = open.by_session.get_mut(&self.session) {
            mine.retain(|(id, _)| *id != self.id);
            if mine.is_empty() {
                open.by_session.remove(&self.session);
            }
        }
        if let Some(n) = open.by_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.by_client.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn client(ip: &str) -> ClientKey {
        ClientKey::of(ip.parse::<IpAddr>().expect("ip"))
    }

    #[test]
    fn a_session_past_its_cap_replaces_its_oldest_stream() {
        let streams = Arc::new(Streams::new(2, 100));
        let (s, c) = (Id(1), client("192.0.2.1"));
        let first = streams.open(s, c).expect("first");
        let second = streams.open(s, c).expect("second");
        assert!(!first.signal.replaced());
        let third = streams.open(s, c).expect("third");
        assert!(first.signal.replaced(), "the oldest gives way");
        assert!(!second.signal.replaced() && !third.signal.replaced());
        drop(first);
        let _fourth = streams.open(s, c).expect("fourth");
        assert!(second.signal.replaced(), "then the next oldest");
        assert!(!third.signal.replaced());
        let other = streams.open(Id(2), c).expect("another session");
        assert!(!other.signal.replaced(), "sessions are counted apart");
    }

    #[test]
    fn a_client_past_its_cap_is_refused_until_one_closes() {
        let streams = Arc::new(Streams::new(4, 3));
        let c = client("2001:db8::1");
        let held: Vec<_> = (0..3)
            .map(|i| streams.open(Id(i), c).expect("under the cap"))
            .collect();
        assert!(
            streams.open(Id(9), client("2001:db8::2")).is_err(),
            "the same /64"
        );
        assert!(
            streams.open(Id(9), client("192.0.2.1")).is_ok(),
            "another client"
        );
        drop(held);
        assert!(streams.open(Id(9), c).is_ok());
        assert_eq!(streams.len(), 0, "every place given back");
    }

    #[tokio::test]
    async fn a_change_of_a_session_wakes_its_streams_only() {
        let streams = Arc::new(Streams::new(4, 100));
        let c = client("192.0.2.1");
        let mine = streams.open(Id(1), c).expect("mine");
        let other = streams.open(Id(2), c).expect("other");
        streams.session_changed(SessionChange::One(Id(1)));
        tokio::time::timeout(
            std::time::Duration::from_secs(1),
            mine.signal.wake.notified(),
        )
        .await
        .expect("woken");
        let woken = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            other.signal.wake.notified(),
        )
        .await;
        assert!(woken.is_err(), "another session's stream sleeps on");
        streams.session_changed(SessionChange::Any);
        tokio::time::timeout(
            std::time::Duration::from_secs(1),
            other.signal.wake.notified(),
        )
        .await
        .expect("a resync wakes all");
    }
}
