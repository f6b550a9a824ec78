//! The SQLite connection repository: the default, for one server process (or several on one
//! machine sharing the file). The SQL is `sql.rs`'s, shared with PostgreSQL.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqlitePool;

use zoho::budget::OrgKey;
use zoho::ids::ConnectionId;

use super::{
    ConnectionRepo, ConnectionRow, ConnectionStatus, CreditRepo, SaveClaim, SaveRepo, SavedViewRow,
    StoredRefresh, VaultError, ViewOwner, ViewRepo,
};

/// Connections in a SQLite database (WAL mode, busy timeout: see the server's pool setup).
#[derive(Clone, Debug)]
pub struct SqliteRepo {
    pool: SqlitePool,
}

impl SqliteRepo {
    /// Wraps `pool` and brings its schema up to date.
    pub async fn new(pool: SqlitePool) -> Result<Self, VaultError> {
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(SqliteRepo { pool })
    }
}

super::sql::connection_repo!(SqliteRepo, sqlx::sqlite::SqliteRow);
// SQLite lets one writer at a time in: the teller's first statement writes, so it waits its turn.
super::live_sql::live_repo!(SqliteRepo, None::<&str>);
