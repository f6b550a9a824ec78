//! The change bus: how one process tells the others that something it stored changed, so each
//! drops what it cached of it. On PostgreSQL it is `LISTEN/NOTIFY` on a channel named after the
//! schema (channels are per database); on SQLite, a change log that a server reads at most once per
//! poll (the other process there is the CLI, on the same file); a lone process has nothing to tell.
//! An event is a hint to re-read, never data. A listener that may have missed events (its
//! connection dropped, it fell behind) hears [`Event::Resync`] and drops everything, and until it
//! listens again [`Bus::in_sync`] is false, so nobody caches meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use sqlx::sqlite::SqlitePool;
use tokio::sync::broadcast;

use zoho::clock::now;

/// What kind of stored thing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// A Zoho connection (its key is the connection id).
    Connection,
    /// A browser session (its key is the session id).
    Session,
    /// An org's CRM records, written through zportal (its key is `dc:zgid`): answers read
    /// before are not to be served again.
    Records,
}

impl Topic {
    fn tag(self) -> &'static str {
        match self {
            Topic::Connection => "c",
            Topic::Session => "s",
            Topic::Records => "r",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "c" => Some(Topic::Connection),
            "s" => Some(Topic::Session),
            "r" => Some(Topic::Records),
            _ => None,
        }
    }
}

/// One stored thing that changed (or went away).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub topic: Topic,
    pub key: String,
}

impl Change {
    pub fn connection(id: &str) -> Self {
        Change {
            topic: Topic::Connection,
            key: id.to_owned(),
        }
    }

    pub fn session(id: impl ToString) -> Self {
        Change {
            topic: Topic::Session,
            key: id.to_string(),
        }
    }

    /// Records of the org `org` in `dc` changed.
    pub fn records(dc: zoho::dc::DataCenter, org: &zoho::ids::OrgId) -> Self {
        Change {
            topic: Topic::Records,
            key: format!("{}:{org}", dc.location()),
        }
    }

    /// The data center and org of a [`Topic::Records`] change.
    pub fn records_of(&self) -> Option<(zoho::dc::DataCenter, zoho::ids::OrgId)> {
        if self.topic != Topic::Records {
            return None;
        }
        let (dc, org) = self.key.split_once(':')?;
        if org.is_empty() {
            return None;
        }
        Some((dc.parse().ok()?, zoho::ids::OrgId::new(org)))
    }
}

/// What a subscriber hears: another process's change, or that it may have missed some.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Changed(Change),
    Resync,
}

/// Publishing failed: the other processes did not hear of a change.
#[derive(Debug, thiserror::Error)]
#[error("change bus: {0}")]
pub struct BusError(#[from] sqlx::Error);

/// The bus of one process; clones share it.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

struct Inner {
    /// This process's name on the bus: it does not hear its own changes back.
    origin: String,
    tx: broadcast::Sender<Event>,
    transport: Transport,
    /// False while the listener may be missing events.
    in_sync: AtomicBool,
}

enum Transport {
    Local,
    Sqlite(SqlitePool),
    Postgres { pool: PgPool, channel: String },
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner.transport {
            Transport::Local => "local",
            Transport::Sqlite(_) => "sqlite",
            Transport::Postgres { .. } => "postgres",
        };
        f.debug_struct("Bus").field("transport", &kind).finish()
    }
}

/// How many events a slow subscriber may fall behind before it must resync.
const BACKLOG: usize = 4096;
/// How long the SQLite change log keeps an entry.
const LOG_KEEP_SECS: i64 = 3600;
/// The most log entries one poll reads; more means the reader must resync.
const LOG_PAGE: i64 = 1000;

impl Bus {
    fn with(transport: Transport, in_sync: bool) -> Self {
        Bus {
            inner: Arc::new(Inner {
                origin: zoho::random_token(9),
                tx: broadcast::channel(BACKLOG).0,
                transport,
                in_sync: AtomicBool::new(in_sync),
            }),
        }
    }

    /// A bus that reaches no other process (one process, or a test).
    pub fn local() -> Self {
        Bus::with(Transport::Local, true)
    }

    /// The change log in a SQLite database, created if missing.
    pub async fn sqlite(pool: SqlitePool) -> Result<Self, BusError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS zportal_changes (\
               seq INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, \
               topic TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL)",
        )
        .execute(&pool)
        .await?;
        Ok(Bus::with(Transport::Sqlite(pool), true))
    }

    /// `NOTIFY` on the channel of `pool`'s schema. Not in sync until [`Bus::listen`] listens.
    pub async fn postgres(pool: PgPool) -> Result<Self, BusError> {
        let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
            .fetch_one(&pool)
            .await?;
        let channel = channel_name(&schema);
        Ok(Bus::with(Transport::Postgres { pool, channel }, false))
    }

    /// Whether every change other processes published has been heard (so caching is safe).
    pub fn in_sync(&self) -> bool {
        self.inner.in_sync.load(Ordering::Acquire)
    }

    /// Events from now on. A subscriber that lags (`RecvError::Lagged`) must act as on
    /// [`Event::Resync`].
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.tx.subscribe()
    }

    /// Runs `changed` with the key of every change of `topic` another process announces, and
    /// `resync` whenever some may have been missed, for as long as the task runs. Subscribed
    /// before it returns, so nothing published after this call is missed.
    pub fn follow(
        &self,
        topic: Topic,
        changed: impl Fn(String) + Send + 'static,
        resync: impl Fn() + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        self.follow_all(
            move |c| {
                if c.topic == topic {
                    changed(c.key)
                }
            },
            resync,
        )
    }

    /// As [`Bus::follow`], for the changes of every topic.
    pub fn follow_all(
        &self,
        changed: impl Fn(Change) + Send + 'static,
        resync: impl Fn() + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let mut events = self.subscribe();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(Event::Changed(c)) => changed(c),
                    Ok(Event::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => resync(),
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        })
    }

    /// Tells the other processes that `change` happened (this one has already acted on it).
    pub async fn publish(&self, change: Change) -> Result<(), BusError> {
        match &self.inner.transport {
            Transport::Local => {}
            Transport::Sqlite(pool) => {
                sqlx::query(
                    "INSERT INTO zportal_changes (origin, topic, key, at) VALUES (?, ?, ?, ?)",
                )
                .bind(&self.inner.origin)
                .bind(change.topic.tag())
                .bind(&change.key)
                .bind(now())
                .execute(pool)
                .await?;
            }
            Transport::Postgres { pool, channel } => {
                let payload = format!(
                    "{} {} {}",
                    self.inner.origin,
                    change.topic.tag(),
                    change.key
                );
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(channel)
                    .bind(payload)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Starts hearing other processes' changes, for as long as the task runs: PostgreSQL's
    /// notifications as they come, SQLite's log every `poll`. `None` for a local bus.
    pub fn listen(&self, poll: Duration) -> Option<tokio::task::JoinHandle<()>> {
        let bus = self.clone();
        match &self.inner.transport {
            Transport::Local => None,
            Transport::Sqlite(pool) => {
                let pool = pool.clone();
                Some(tokio::spawn(
                    async move { bus.follow_log(pool, poll).await },
                ))
            }
            Transport::Postgres { pool, channel } => {
                let (pool, channel) = (pool.clone(), channel.clone());
                Some(tokio::spawn(async move {
                    bus.follow_notifications(pool, channel).await
                }))
            }
        }
    }

    fn hear(&self, origin: &str, topic: &str, key: &str) {
        if origin == self.inner.origin {
            return;
        }
        if let Some(topic) = Topic::from_tag(topic) {
            let change = Change {
                topic,
                key: key.to_owned(),
            };
            // No subscriber is no error: nothing is cached that could go stale.
            let _ = self.inner.tx.send(Event::Changed(change));
        }
    }

    fn resync(&self) {
        let _ = self.inner.tx.send(Event::Resync);
    }

    async fn follow_log(&self, pool: SqlitePool, poll: Duration) {
        let mut last: i64 = loop {
            match sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM zportal_changes")
                .fetch_one(&pool)
                .await
            {
                Ok(seq) => break seq,
                Err(e) => {
                    tracing::warn!(error = %e, "change log unreadable; trying again");
                    tokio::time::sleep(poll).await;
                }
            }
        };
        let mut polls: u64 = 0;
        loop {
            tokio::time::sleep(poll).await;
            polls += 1;
            let rows: Result<Vec<(i64, String, String, String)>, _> = sqlx::query_as(
                "SELECT seq, origin, topic, key FROM zportal_changes \
                 WHERE seq > ? ORDER BY seq LIMIT ?",
            )
            .bind(last)
            .bind(LOG_PAGE)
            .fetch_all(&pool)
            .await;
            match rows {
                Ok(rows) => {
                    if rows.len() as i64 == LOG_PAGE {
                        self.resync();
                    } else {
                        for (_, origin, topic, key) in &rows {
                            self.hear(origin, topic, key);
                        }
                    }
                    if let Some((seq, ..)) = rows.last() {
                        last = *seq;
                    }
                }
                // Nothing is lost: the entries wait in the log for the next poll.
                Err(e) => tracing::warn!(error = %e, "could not read the change log"),
            }
            if polls.is_multiple_of(60) {
                let pruned = sqlx::query("DELETE FROM zportal_changes WHERE at < ?")
                    .bind(now() - LOG_KEEP_SECS)
                    .execute(&pool)
                    .await;
                if let Err(e) = pruned {
                    tracing::warn!(error = %e, "could not prune the change log");
                }
            }
        }
    }

    async fn follow_notifications(&self, pool: PgPool, channel: String) {
        loop {
            match self.listen_once(&pool, &channel).await {
                Ok(()) => tracing::warn!("change bus connection lost; listening again"),
                Err(e) => tracing::warn!(error = %e, "change bus unavailable; listening again"),
            }
            // Whatever was published while nobody listened is lost: nothing cached may be
            // trusted until the channel is heard again.
            self.inner.in_sync.store(false, Ordering::Release);
            self.resync();
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Listens until the connection drops (`Ok`) or fails.
    async fn listen_once(&self, pool: &PgPool, channel: &str) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(channel).await?;
        // Heard from now on; anything cached before may have missed a change.
        self.inner.in_sync.store(true, Ordering::Release);
        self.resync();
        // `try_recv` answers `None` when the connection dropped (and `recv` would silently
        // reconnect, losing what was sent in between): start over instead.
        while let Some(n) = listener.try_recv().await? {
            let mut parts = n.payload().splitn(3, ' ');
            if let (Some(origin), Some(topic), Some(key)) =
                (parts.next(), parts.next(), parts.next())
            {
                self.hear(origin, topic, key);
            }
        }
        Ok(())
    }
}

/// The notification channel for `schema`: `zportal_<schema>`, within PostgreSQL's 63-byte limit
/// for identifiers (a longer schema name is cut and made unique with a hash of the whole).
fn channel_name(schema: &str) -> String {
    let name = format!("zportal_{schema}");
    if name.len() <= 63 {
        return name;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(schema.as_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let mut cut = 63 - hash.len() - 1;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}", &name[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn next(rx: &mut broadcast::Receiver<Event>) -> Event {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("an event within 10 s")
            .expect("the bus is open")
    }

    /// No event arrives within `wait`.
    async fn quiet(rx: &mut broadcast::Receiver<Event>, wait: Duration) {
        if let Ok(e) = tokio::time::timeout(wait, rx.recv()).await {
            panic!("expected no event, got {e:?}");
        }
    }

    #[test]
    fn a_records_change_names_its_data_center_and_org() {
        use zoho::dc::DataCenter;
        use zoho::ids::OrgId;
        let c = Change::records(DataCenter::Eu, &OrgId::new("77"));
        assert_eq!((c.topic, c.key.as_str()), (Topic::Records, "eu:77"));
        assert_eq!(c.records_of(), Some((DataCenter::Eu, OrgId::new("77"))));
        assert_eq!(Topic::from_tag(Topic::Records.tag()), Some(Topic::Records));
        for key in ["eu", "eu:", "xx:77"] {
            let bad = Change {
                topic: Topic::Records,
                key: key.into(),
            };
            assert_eq!(bad.records_of(), None, "{key}");
        }
        assert_eq!(Change::session("eu:77").records_of(), None);
    }

    #[test]
    fn channel_names_keep_the_schema_and_fit_postgres_identifiers() {
        assert_eq!(channel_name("public"), "zportal_public");
        let long = "s".repeat(80);
        let a = channel_name(&long);
        let b = channel_name(&format!("{long}x"));
        assert!(a.len() <= 63 && b.len() <= 63, "{a} / {b}");
        assert_ne!(a, b, "long schemas still get channels of their own");
        assert!(channel_name(&"é".repeat(40)).len() <= 63);
    }

    #[test]
    fn sqlite_processes_hear_each_others_changes_but_not_their_own() {
        testkit::block_on(async {
            let dir = tempfile::tempdir().expect("dir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("bus.db").display());
            let open = || async {
                Bus::sqlite(SqlitePool::connect(&url).await.expect("pool"))
                    .await
                    .expect("bus")
            };
            let (server, cli) = (open().await, open().await);
            let mut heard = server.subscribe();
            let mut echo = cli.subscribe();
            let _listening = server.listen(Duration::from_millis(20));
            let _cli_listening = cli.listen(Duration::from_millis(20));
            tokio::time::sleep(Duration::from_millis(100)).await;
            cli.publish(Change::connection("c1"))
                .await
                .expect("publish");
            assert_eq!(
                next(&mut heard).await,
                Event::Changed(Change::connection("c1"))
            );
            quiet(&mut echo, Duration::from_millis(200)).await;
        });
    }

    #[test]
    fn postgres_processes_hear_each_other_on_their_schema_only_and_resync_after_a_drop() {
        testkit::block_on(async {
            let Some(url) = testkit::postgres_url().await else {
                eprintln!("ZPORTAL_TEST_POSTGRES_URL is not set: skipping the PostgreSQL bus test");
                return;
            };
            let Some(other_url) = testkit::postgres_url().await else {
                return;
            };
            let open = |url: String| async move {
                Bus::postgres(PgPool::connect(&url).await.expect("pool"))
                    .await
                    .expect("bus")
            };
            let (a, b, elsewhere) = (
                open(url.clone()).await,
                open(url.clone()).await,
                open(other_url).await,
            );
            assert!(!b.in_sync(), "not in sync before it listens");
            let mut heard = b.subscribe();
            let mut other = elsewhere.subscribe();
            let _b = b.listen(Duration::from_secs(1));
            let _elsewhere = elsewhere.listen(Duration::from_secs(1));
            assert_eq!(
                next(&mut heard).await,
                Event::Resync,
                "listening starts clean"
            );
            assert!(b.in_sync());
            assert_eq!(next(&mut other).await, Event::Resync);

            a.publish(Change::session("s1")).await.expect("publish");
            assert_eq!(
                next(&mut heard).await,
                Event::Changed(Change::session("s1"))
            );
            quiet(&mut other, Duration::from_millis(300)).await;

            // Cut the listener's connection: it may miss events until it listens again.
            let Transport::Postgres { pool, channel } = &b.inner.transport else {
                unreachable!()
            };
            let killed: Vec<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1",
            )
            .bind(format!("LISTEN \"{channel}\""))
            .fetch_all(pool)
            .await
            .expect("terminate");
            assert_eq!(killed, vec![true], "one listener on the channel");
            assert_eq!(next(&mut heard).await, Event::Resync, "the drop is heard");
            assert_eq!(next(&mut heard).await, Event::Resync, "and listening again");
            assert!(b.in_sync());
            a.publish(Change::connection("c2")).await.expect("publish");
            assert_eq!(
                next(&mut heard).await,
                Event::Changed(Change::connection("c2"))
            );
        });
    }
}
