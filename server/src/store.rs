//! Where zportal keeps its state, chosen by `DATABASE_URL`: SQLite (the default, one machine) or
//! PostgreSQL (several server processes behind a load balancer). Either holds the same two things:
//! the Zoho connections (`keeper::vault`'s repositories) and the browser sessions (tower-sessions'
//! sqlx stores), so any process can serve any request — and the change bus over it, by which each
//! process keeps its in-memory copies (connections, sessions) true to what the others write.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use keeper::bus::{Bus, Change, Topic};
use keeper::coherent::Coherent;
use keeper::vault::VaultRepo;
use keeper::vault::postgres::PgRepo;
use keeper::vault::sqlite::SqliteRepo;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::StartError;

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The opened store.
pub struct Store {
    pub connections: Arc<dyn VaultRepo>,
    pub sessions: Sessions,
    pub bus: Bus,
}

/// Opens the database `url` names and brings both schemas up to date.
pub async fn open(url: &str) -> Result<Store, StartError> {
    let session_error = StartError::SessionStore;
    if is_postgres(url) {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        let sessions = PostgresStore::new(pool.clone());
        sessions.migrate().await.map_err(session_error)?;
        drop_unhashed_sessions(&pool, "tower_sessions.session").await?;
        let bus = Bus::postgres(pool.clone()).await?;
        Ok(Store {
            connections: Arc::new(PgRepo::new(pool.clone()).await?),
            sessions: Sessions::new(Backend::Postgres(sessions, pool), bus.clone()),
            bus,
        })
    } else {
        // WAL mode with a busy timeout, created if missing.
        let options: SqliteConnectOptions = url.parse()?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5));
        let file = options.get_filename().to_path_buf();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        let sessions = SqliteStore::new(pool.clone());
        sessions.migrate().await.map_err(session_error)?;
        drop_unhashed_sessions(&pool, "tower_sessions").await?;
        let bus = Bus::sqlite(pool.clone()).await?;
        let connections = Arc::new(SqliteRepo::new(pool.clone()).await?);
        owner_only(&file).map_err(|e| StartError::DataDir {
            path: file.display().to_string(),
            source: e,
        })?;
        Ok(Store {
            connections,
            sessions: Sessions::new(Backend::Sqlite(sessions, pool), bus.clone()),
            bus,
        })
    }
}

/// Sessions stored before their ids were hashed are keyed by their cookies: dropped, once per
/// database (their people sign in again; README says so).
async fn drop_unhashed_sessions<DB>(pool: &sqlx::Pool<DB>, table: &str) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let mut tx = pool.begin().await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS zportal_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let marked = sqlx::query("SELECT value FROM zportal_meta WHERE key = 'session_ids'")
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if !marked {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO zportal_meta (key, value) VALUES ('session_ids', 'sha256') \
             ON CONFLICT (key) DO NOTHING",
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Makes the SQLite file and its journal files readable and writable by the owner only (SQLite
/// creates them with the umask's mode; the journals then copy the database file's).
fn owner_only(db: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let path = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
            if path.exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    let _ = db;
    Ok(())
}

/// The session store of either database (with its pool, for counting).
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite(SqliteStore, SqlitePool),
    Postgres(PostgresStore, PgPool),
}

/// How many sessions a process keeps in memory, and how long it trusts each without hearing of
/// a change (a backstop: the bus announces every change).
const CACHED_SESSIONS: usize = 50_000;
const SESSION_CACHE_TTL: Duration = Duration::from_secs(60);

/// Browser sessions: the database's, read through a bounded in-process copy. Every write goes
/// to the database first, then the copy, then the bus (so the other processes drop theirs).
#[derive(Clone, Debug)]
pub struct Sessions {
    /// One allocation shared by every clone: the session layer clones its store per request.
    inner: Arc<SessionsInner>,
}

#[derive(Debug)]
struct SessionsInner {
    backend: Backend,
    cache: Coherent<Id, Record>,
    bus: Bus,
    /// Every change of a session, here or heard from another process (see [`Sessions::changes`]).
    changed: tokio::sync::broadcast::Sender<SessionChange>,
}

/// A session that changed or went (by its stored id), or any of them (the bus resynced).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionChange {
    One(Id),
    Any,
}

/// How many session changes a slow listener may fall behind before it must take [`SessionChange::Any`].
const SESSION_CHANGES_BACKLOG: usize = 1024;

/// How long a session that holds no signed-in account may live: enough to finish a sign-in
/// (which expires after ten minutes itself), too short for a flood of anonymous sign-in starts
/// to pile up rows.
pub const ANONYMOUS_TTL: time::Duration = time::Duration::minutes(10);

/// `record`, its expiry brought within [`ANONYMOUS_TTL`] if nobody is signed in to it.
fn capped(record: &Record) -> std::borrow::Cow<'_, Record> {
    let latest = time::OffsetDateTime::now_utc() + ANONYMOUS_TTL;
    if app::session::holds_accounts(&record.data) || record.expiry_date <= latest {
        return std::borrow::Cow::Borrowed(record);
    }
    let mut short = record.clone();
    short.expiry_date = latest;
    std::borrow::Cow::Owned(short)
}

fn bus_error(e: keeper::bus::BusError) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// The id a session is stored under: a hash of the cookie's. Whoever reads the session table (a
/// backup, a replica, a stolen file) learns no cookie that would let them act as its owner; the
/// bus announces stored ids too.
fn stored_id(id: &Id) -> Id {
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(b"zportal session id\0")
        .chain_update(id.0.to_le_bytes())
        .finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    Id(i128::from_le_bytes(first))
}

/// `record` as stored: under its hashed id (the stores serialise the id into the data too).
fn at_rest(record: &Record) -> Record {
    let mut stored = capped(record).into_owned();
    stored.id = stored_id(&record.id);
    stored
}

impl SessionsInner {
    async fn load_stored(&self, stored: &Id) -> session_store::Result<Option<Record>> {
        match &self.backend {
            Backend::Sqlite(s, _) => s.load(stored).await,
            Backend::Postgres(s, _) => s.load(stored).await,
        }
    }

    async fn save_stored(&self, stored: &Record) -> session_store::Result<()> {
        match &self.backend {
            Backend::Sqlite(s, _) => s.save(stored).await,
            Backend::Postgres(s, _) => s.save(stored).await,
        }
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh random id whose hash is not taken (a collision is as good as impossible).
        while self
            .inner
            .load_stored(&stored_id(&record.id))
            .await?
            .is_some()
        {
            record.id = Id::default();
        }
        if let std::borrow::Cow::Owned(short) = capped(record) {
            *record = short;
        }
        let stored = at_rest(record);
        self.inner.save_stored(&stored).await?;
        // A new id: no process can have cached it.
        self.inner
            .cache
            .fill(self.inner.cache.epoch(), stored.id, stored);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let stored = at_rest(record);
        self.inner.save_stored(&stored).await?;
        self.inner.cache.invalidate(&stored.id);
        let key = stored.id;
        self.inner.cache.fill(self.inner.cache.epoch(), key, stored);
        let _ = self.inner.changed.send(SessionChange::One(key));
        self.inner
            .bus
            .publish(Change::session(key))
            .await
            .map_err(bus_error)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let key = stored_id(id);
        // The caller knows the real id; the store and the copy hold the hashed one.
        let as_cookie = |mut r: Record| {
            r.id = *id;
            r
        };
        // An entry past its expiry may have been extended by another process: ask the store.
        if let Some(record) = self.inner.cache.get(&key)
            && record.expiry_date > time::OffsetDateTime::now_utc()
        {
            return Ok(Some(as_cookie(record)));
        }
        let seen = self.inner.cache.epoch();
        let loaded = self.inner.load_stored(&key).await?;
        if let Some(record) = &loaded
            && self.inner.bus.in_sync()
        {
            self.inner.cache.fill(seen, key, record.clone());
        }
        Ok(loaded.map(as_cookie))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let key = stored_id(id);
        match &self.inner.backend {
            Backend::Sqlite(s, _) => s.delete(&key).await?,
            Backend::Postgres(s, _) => s.delete(&key).await?,
        }
        self.inner.cache.invalidate(&key);
        let _ = self.inner.changed.send(SessionChange::One(key));
        self.inner
            .bus
            .publish(Change::session(key))
            .await
            .map_err(bus_error)
    }
}

impl Sessions {
    fn new(backend: Backend, bus: Bus) -> Self {
        Sessions {
            inner: Arc::new(SessionsInner {
                backend,
                cache: Coherent::new(CACHED_SESSIONS, SESSION_CACHE_TTL),
                bus,
                changed: tokio::sync::broadcast::channel(SESSION_CHANGES_BACKLOG).0,
            }),
        }
    }

    /// Keeps this process's copy of the sessions true to what other processes change, for as
    /// long as the task runs.
    pub fn follow(&self) -> tokio::task::JoinHandle<()> {
        let (on_change, on_resync) = (self.inner.clone(), self.inner.clone());
        self.inner.bus.follow(
            Topic::Session,
            move |key| {
                if let Ok(id) = key.parse::<Id>() {
                    on_change.cache.invalidate(&id);
                    let _ = on_change.changed.send(SessionChange::One(id));
                }
            },
            move || {
                on_resync.cache.invalidate_all();
                let _ = on_resync.changed.send(SessionChange::Any);
            },
        )
    }

    /// Every session change from now on, made here or by another process (as the bus brings
    /// it): what open live streams follow to end with their session. A receiver that lags
    /// must take it as [`SessionChange::Any`].
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<SessionChange> {
        self.inner.changed.subscribe()
    }

    /// The id `cookie_id` is stored (and announced) under.
    pub fn stored_id(cookie_id: &Id) -> Id {
        stored_id(cookie_id)
    }

    /// Sessions that have not expired (signed in or in the middle of a sign-in).
    pub async fn count_live(&self) -> Result<i64, sqlx::Error> {
        match &self.inner.backend {
            // The store writes expiry dates as text; it compares them the same way.
            Backend::Sqlite(_, pool) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM tower_sessions WHERE datetime(expiry_date) >= datetime('now')",
                )
                .fetch_one(pool)
                .await
            }
            Backend::Postgres(_, pool) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM tower_sessions.session \
                     WHERE expiry_date >= (now() AT TIME ZONE 'utc')",
                )
                .fetch_one(pool)
                .await
            }
        }
    }

    /// Deletes expired sessions and the save ledger's day-old entries every `period`, for as
    /// long as the server runs.
    pub fn spawn_cleanup(
        self,
        vault: keeper::vault::Vault,
        period: Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                if let Err(e) = vault.prune_saves().await {
                    tracing::warn!(error = %e, "could not prune the save ledger");
                }
                let done = match &self.inner.backend {
                    Backend::Sqlite(s, _) => s.delete_expired().await,
                    Backend::Postgres(s, _) => s.delete_expired().await,
                };
                if let Err(e) = done {
                    tracing::warn!(error = %e, "could not delete expired sessions");
                }
            }
        })
    }
}
