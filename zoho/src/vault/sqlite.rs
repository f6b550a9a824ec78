//! The SQLite connection repository (the embedded default). Its SQL is plain enough to run on
//! PostgreSQL unchanged, which the multi-process store will rely on.

use async_trait::async_trait;
use sqlx::sqlite::SqlitePool;
use sqlx::{FromRow, Row};

use super::{ConnectionRepo, ConnectionRow, StoredRefresh, VaultError};

/// Connections in a SQLite database (WAL mode, busy timeout: see the server's pool setup).
#[derive(Clone, Debug)]
pub struct SqliteRepo {
    pool: SqlitePool,
}

impl SqliteRepo {
    /// Wraps `pool` and brings its schema up to date.
    pub async fn new(pool: SqlitePool) -> Result<Self, VaultError> {
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteRepo { pool })
    }
}

const COLUMNS: &str = "id, client_id, dc, org_zgid, user_zuid, email, org_name, scopes, status, \
     refresh_token, access_token, access_expires_at, generation, last_refresh_at, created_at, updated_at, \
     refresh_window_start, refresh_window_count";

impl<'r> FromRow<'r, sqlx::sqlite::SqliteRow> for ConnectionRow {
    fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(ConnectionRow {
            id: row.try_get("id")?,
            client_id: row.try_get("client_id")?,
            dc: row.try_get("dc")?,
            org_zgid: row.try_get("org_zgid")?,
            user_zuid: row.try_get("user_zuid")?,
            email: row.try_get("email")?,
            org_name: row.try_get("org_name")?,
            scopes: row.try_get("scopes")?,
            status: row.try_get("status")?,
            refresh_token: row.try_get("refresh_token")?,
            access_token: row.try_get("access_token")?,
            access_expires_at: row.try_get("access_expires_at")?,
            generation: row.try_get("generation")?,
            last_refresh_at: row.try_get("last_refresh_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            refresh_window_start: row.try_get("refresh_window_start")?,
            refresh_window_count: row.try_get("refresh_window_count")?,
        })
    }
}

#[async_trait]
impl ConnectionRepo for SqliteRepo {
    async fn by_id(&self, id: &str) -> Result<Option<ConnectionRow>, VaultError> {
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn by_key(
        &self,
        client_id: &str,
        dc: &str,
        org: &str,
        user: &str,
    ) -> Result<Option<ConnectionRow>, VaultError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM connections \
             WHERE client_id = $1 AND dc = $2 AND org_zgid = $3 AND user_zuid = $4"
        );
        Ok(sqlx::query_as(&sql)
            .bind(client_id)
            .bind(dc)
            .bind(org)
            .bind(user)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn insert(&self, r: &ConnectionRow) -> Result<(), VaultError> {
        let sql = format!(
            "INSERT INTO connections ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        );
        sqlx::query(&sql)
            .bind(&r.id)
            .bind(&r.client_id)
            .bind(&r.dc)
            .bind(&r.org_zgid)
            .bind(&r.user_zuid)
            .bind(&r.email)
            .bind(&r.org_name)
            .bind(&r.scopes)
            .bind(&r.status)
            .bind(&r.refresh_token)
            .bind(&r.access_token)
            .bind(r.access_expires_at)
            .bind(r.generation)
            .bind(r.last_refresh_at)
            .bind(r.created_at)
            .bind(r.updated_at)
            .bind(r.refresh_window_start)
            .bind(r.refresh_window_count)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn update_sign_in(&self, r: &ConnectionRow) -> Result<(), VaultError> {
        sqlx::query(
            "UPDATE connections SET email = $1, org_name = $2, scopes = $3, status = $4, \
             refresh_token = $5, access_token = $6, access_expires_at = $7, \
             generation = generation + 1, updated_at = $8 WHERE id = $9",
        )
        .bind(&r.email)
        .bind(&r.org_name)
        .bind(&r.scopes)
        .bind(&r.status)
        .bind(&r.refresh_token)
        .bind(&r.access_token)
        .bind(r.access_expires_at)
        .bind(r.updated_at)
        .bind(&r.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete(&self, id: &str) -> Result<bool, VaultError> {
        let done = sqlx::query("DELETE FROM connections WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn all(&self) -> Result<Vec<ConnectionRow>, VaultError> {
        let sql = format!("SELECT {COLUMNS} FROM connections ORDER BY created_at, id");
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    async fn try_lease(
        &self,
        id: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, VaultError> {
        let done = sqlx::query(
            "UPDATE connections SET lease_until = $1, lease_holder = $2 \
             WHERE id = $3 AND lease_until < $4",
        )
        .bind(until)
        .bind(holder)
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_lease(&self, id: &str, holder: &str) -> Result<(), VaultError> {
        sqlx::query(
            "UPDATE connections SET lease_until = 0, lease_holder = NULL \
             WHERE id = $1 AND lease_holder = $2",
        )
        .bind(id)
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn store_refresh(
        &self,
        id: &str,
        holder: &str,
        r: &StoredRefresh,
    ) -> Result<bool, VaultError> {
        let done = sqlx::query(
            "UPDATE connections SET access_token = $1, access_expires_at = $2, \
             generation = generation + 1, last_refresh_at = $3, updated_at = $3, \
             refresh_window_start = $4, refresh_window_count = $5, \
             lease_until = 0, lease_holder = NULL \
             WHERE id = $6 AND lease_holder = $7",
        )
        .bind(&r.access)
        .bind(r.expires_at)
        .bind(r.now)
        .bind(r.window_start)
        .bind(r.window_count)
        .bind(id)
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_status(&self, id: &str, status: &str, now: i64) -> Result<(), VaultError> {
        sqlx::query("UPDATE connections SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::dc::DataCenter;
    use crate::ids::{ClientId, OrgId, UserId};
    use crate::secret::Secret;
    use crate::vault::{ConnectionKey, NewConnection, TokenCipher, Vault};

    async fn vault() -> (Vault, SqlitePool) {
        let pool = SqlitePool::connect("sqlite::memory:")
            .await
            .expect("memory db");
        let repo = SqliteRepo::new(pool.clone()).await.expect("migrated");
        let cipher = TokenCipher::from_key_list(&TokenCipher::generate_key_list()).expect("key");
        (Vault::new(Arc::new(repo), Arc::new(cipher)), pool)
    }

    fn sign_in(refresh: Option<&str>, access: &str) -> NewConnection {
        NewConnection {
            key: ConnectionKey {
                client_id: ClientId::new("1000.ZPORTALDEV"),
                dc: DataCenter::Eu,
                org: OrgId::new("70002"),
                user: UserId::new("60000003"),
            },
            email: "eva@eu.zportal.test".into(),
            org_name: "Euro GmbH".into(),
            scopes: vec!["ZohoCRM.modules.ALL".into(), "ZohoCRM.org.READ".into()],
            refresh_token: refresh.map(Secret::new),
            access_token: Secret::new(access),
            access_expires_at: 1_900_000_000,
        }
    }

    #[tokio::test]
    async fn tokens_are_stored_encrypted_and_read_back() {
        let (vault, pool) = vault().await;
        let c = vault
            .save_sign_in(sign_in(Some("1000.refresh.secret"), "1000.access.secret"))
            .await
            .expect("saved");
        assert_eq!(
            c.refresh_token.as_ref().map(Secret::expose),
            Some("1000.refresh.secret")
        );
        assert_eq!(c.scopes.len(), 2);
        let raw: Vec<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT refresh_token, access_token FROM connections")
                .fetch_all(&pool)
                .await
                .expect("raw rows");
        let dump = format!("{raw:?}");
        assert!(
            !dump.contains("refresh.secret") && !dump.contains("access.secret"),
            "{dump}"
        );
        let again = vault.get(&c.id).await.expect("read").expect("found");
        assert_eq!(
            again.access_token.as_ref().map(Secret::expose),
            Some("1000.access.secret")
        );
    }

    #[tokio::test]
    async fn a_returning_sign_in_updates_the_same_row_and_keeps_the_refresh_token() {
        let (vault, _) = vault().await;
        let first = vault
            .save_sign_in(sign_in(Some("1000.rt"), "1000.at1"))
            .await
            .expect("first");
        let second = vault
            .save_sign_in(sign_in(None, "1000.at2"))
            .await
            .expect("second");
        assert_eq!(first.id, second.id);
        assert_eq!(
            second.refresh_token.as_ref().map(Secret::expose),
            Some("1000.rt")
        );
        assert_eq!(
            second.access_token.as_ref().map(Secret::expose),
            Some("1000.at2")
        );
        assert_eq!(second.generation, first.generation + 1);
        assert_eq!(vault.all().await.expect("all").len(), 1);
        assert!(vault.delete(&first.id).await.expect("delete"));
        assert!(vault.get(&first.id).await.expect("read").is_none());
    }

    #[tokio::test]
    async fn a_row_moved_to_another_connection_does_not_decrypt() {
        let (vault, pool) = vault().await;
        let c = vault
            .save_sign_in(sign_in(Some("1000.rt"), "1000.at"))
            .await
            .expect("saved");
        // Someone with database access copies the ciphertext onto another identity.
        sqlx::query("UPDATE connections SET user_zuid = '99999999' WHERE id = $1")
            .bind(c.id.as_str())
            .execute(&pool)
            .await
            .expect("tamper");
        assert!(matches!(vault.get(&c.id).await, Err(VaultError::Cipher(_))));
        // And swapping the refresh and access ciphertexts fails too.
        sqlx::query("UPDATE connections SET user_zuid = '60000003', refresh_token = access_token WHERE id = $1")
            .bind(c.id.as_str())
            .execute(&pool)
            .await
            .expect("tamper");
        assert!(matches!(vault.get(&c.id).await, Err(VaultError::Cipher(_))));
    }
}
