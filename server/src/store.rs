//! Where zportal keeps its state, chosen by `DATABASE_URL`: SQLite (the default, one machine) or
//! PostgreSQL (several server processes behind a load balancer). Either holds the same two things:
//! the Zoho connections (`zoho::vault`'s repositories) and the browser sessions (tower-sessions'
//! sqlx stores), so any process can serve any request.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};
use zoho::vault::ConnectionRepo;
use zoho::vault::postgres::PgRepo;
use zoho::vault::sqlite::SqliteRepo;

use crate::StartError;

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The opened store.
pub struct Store {
    pub connections: Arc<dyn ConnectionRepo>,
    pub sessions: Sessions,
}

/// Opens the database `url` names and brings both schemas up to date.
pub async fn open(url: &str) -> Result<Store, StartError> {
    let session_error = |e: sqlx::Error| StartError::SessionStore(e.to_string());
    if is_postgres(url) {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        let sessions = PostgresStore::new(pool.clone());
        sessions.migrate().await.map_err(session_error)?;
        Ok(Store {
            connections: Arc::new(PgRepo::new(pool.clone()).await?),
            sessions: Sessions::Postgres(sessions, pool),
        })
    } else {
        // WAL mode with a busy timeout, created if missing.
        let options: SqliteConnectOptions = url.parse()?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        let sessions = SqliteStore::new(pool.clone());
        sessions.migrate().await.map_err(session_error)?;
        Ok(Store {
            connections: Arc::new(SqliteRepo::new(pool.clone()).await?),
            sessions: Sessions::Sqlite(sessions, pool),
        })
    }
}

/// The session store of either database (with its pool, for counting).
#[derive(Clone, Debug)]
pub enum Sessions {
    Sqlite(SqliteStore, SqlitePool),
    Postgres(PostgresStore, PgPool),
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s, _) => s.create(record).await,
            Sessions::Postgres(s, _) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s, _) => s.save(record).await,
            Sessions::Postgres(s, _) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Sqlite(s, _) => s.load(id).await,
            Sessions::Postgres(s, _) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s, _) => s.delete(id).await,
            Sessions::Postgres(s, _) => s.delete(id).await,
        }
    }
}

impl Sessions {
    /// Sessions that have not expired (signed in or in the middle of a sign-in).
    pub async fn count_live(&self) -> Result<i64, sqlx::Error> {
        match self {
            // The store writes expiry dates as text; it compares them the same way.
            Sessions::Sqlite(_, pool) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM tower_sessions WHERE datetime(expiry_date) >= datetime('now')",
                )
                .fetch_one(pool)
                .await
            }
            Sessions::Postgres(_, pool) => {
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
        vault: zoho::vault::Vault,
        period: Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                if let Err(e) = vault.prune_saves().await {
                    tracing::warn!(error = %e, "could not prune the save ledger");
                }
                let done = match &self {
                    Sessions::Sqlite(s, _) => s.delete_expired().await,
                    Sessions::Postgres(s, _) => s.delete_expired().await,
                };
                if let Err(e) = done {
                    tracing::warn!(error = %e, "could not delete expired sessions");
                }
            }
        })
    }
}
