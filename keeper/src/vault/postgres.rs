//! The PostgreSQL connection repository: for several server processes sharing one database. The
//! SQL is `sql.rs`'s, shared with SQLite; a schema other than `public` can be chosen in the URL
//! (`?options[search_path]=zportal`).

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgPool;

use zoho::budget::OrgKey;
use zoho::ids::ConnectionId;

use super::{
    ConnectionRepo, ConnectionRow, ConnectionStatus, CreditRepo, SaveClaim, SaveRepo, SavedViewRow,
    StoredRefresh, VaultError, ViewOwner, ViewRepo,
};

/// Connections in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgRepo {
    pool: PgPool,
}

impl PgRepo {
    /// Wraps `pool` and brings its schema up to date (sqlx serializes concurrent migrations of
    /// several processes starting at once).
    pub async fn new(pool: PgPool) -> Result<Self, VaultError> {
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(PgRepo { pool })
    }
}

super::sql::connection_repo!(PgRepo, sqlx::postgres::PgRow);
// The live log's one teller at a time: a transaction-scoped advisory lock (released at commit,
// never carried off by a pooled connection).
super::live_sql::live_repo!(PgRepo, Some("SELECT pg_advisory_xact_lock(7406385701)"));
