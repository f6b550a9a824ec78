//! The PostgreSQL connection repository: for several server processes sharing one database. The
//! SQL is `sql.rs`'s, shared with SQLite; a schema other than `public` can be chosen in the URL
//! (`?options[search_path]=zportal`).

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgPool;

use super::{ConnectionRepo, ConnectionRow, SaveClaim, StoredRefresh, VaultError};

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

/// Creates a fresh, empty schema in the database at `url` and returns a URL whose connections
/// work in it: for test runs that share one database, and for trying zportal beside other data.
pub async fn fresh_schema(url: &str) -> Result<String, sqlx::Error> {
    let schema = format!("t_{}", crate::random::hex(8));
    let admin = PgPool::connect(url).await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await?;
    admin.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options[search_path]={schema}"))
}
