//! The connection repository's SQL, written once for both stores. It is plain enough to run
//! unchanged on SQLite and PostgreSQL (the same migrations build both schemas), so each store is
//! this macro applied to its pool and row types, and the shared test suite proves both.
//!
//! The refresh lease is a conditional `UPDATE … WHERE lease_until < now`: one statement, atomic
//! on either database, with an expiry so a holder that dies never wedges the connection — and no
//! session-level advisory lock, which a pooled connection would carry off to its next user.

/// Implements `FromRow` for `ConnectionRow` on `$row`, and `ConnectionRepo`, `SaveRepo`,
/// `CreditRepo` and `ViewRepo` for `$repo` (a struct with a `pool` field). The calling module imports the names the SQL code uses.
macro_rules! connection_repo {
    ($repo:ty, $row:ty) => {
        const COLUMNS: &str = "id, client_id, dc, org_zgid, user_zuid, email, org_name, scopes, status, \
             refresh_token, access_token, access_expires_at, generation, last_refresh_at, created_at, updated_at, \
             refresh_window_start, refresh_window_count";

        impl<'r> sqlx::FromRow<'r, $row> for ConnectionRow {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
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
        impl ConnectionRepo for $repo {
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

            async fn set_status(
                &self,
                id: &str,
                status: ConnectionStatus,
                generation: i64,
                now: i64,
            ) -> Result<bool, VaultError> {
                let done = sqlx::query(
                    "UPDATE connections SET status = $1, updated_at = $2 \
                     WHERE id = $3 AND generation = $4",
                )
                .bind(status.as_str())
                .bind(now)
                .bind(id)
                .bind(generation)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn rewrap(
                &self,
                id: &str,
                refresh_token: Option<&str>,
                access_token: Option<&str>,
                generation: i64,
            ) -> Result<bool, VaultError> {
                let done = sqlx::query(
                    "UPDATE connections SET refresh_token = $1, access_token = $2 \
                     WHERE id = $3 AND generation = $4",
                )
                .bind(refresh_token)
                .bind(access_token)
                .bind(id)
                .bind(generation)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn count_by_status(&self) -> Result<Vec<(String, i64)>, VaultError> {
                Ok(sqlx::query_as(
                    "SELECT status, COUNT(*) FROM connections GROUP BY status ORDER BY status",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn ping(&self) -> Result<(), VaultError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

        }

        #[async_trait]
        impl SaveRepo for $repo {
            async fn claim_save(
                &self,
                connection: &ConnectionId,
                token: &str,
                now: i64,
                until: i64,
            ) -> Result<SaveClaim, VaultError> {
                let new = sqlx::query(
                    "INSERT INTO saves (connection_id, token, record_id, claimed_until, created_at) \
                     VALUES ($1, $2, NULL, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(connection.as_str())
                .bind(token)
                .bind(until)
                .bind(now)
                .execute(&self.pool)
                .await?;
                if new.rows_affected() == 1 {
                    return Ok(SaveClaim::Claimed);
                }
                let lapsed = sqlx::query(
                    "UPDATE saves SET claimed_until = $1 WHERE connection_id = $2 AND token = $3 \
                     AND record_id IS NULL AND claimed_until < $4",
                )
                .bind(until)
                .bind(connection.as_str())
                .bind(token)
                .bind(now)
                .execute(&self.pool)
                .await?;
                if lapsed.rows_affected() == 1 {
                    return Ok(SaveClaim::Claimed);
                }
                let row: Option<(Option<String>,)> = sqlx::query_as(
                    "SELECT record_id FROM saves WHERE connection_id = $1 AND token = $2",
                )
                .bind(connection.as_str())
                .bind(token)
                .fetch_optional(&self.pool)
                .await?;
                Ok(match row {
                    Some((Some(id),)) => SaveClaim::Done(id),
                    // Claimed by someone else — or released a moment ago: asking again decides.
                    _ => SaveClaim::Busy,
                })
            }

            async fn finish_save(
                &self,
                connection: &ConnectionId,
                token: &str,
                record_id: &str,
            ) -> Result<(), VaultError> {
                sqlx::query("UPDATE saves SET record_id = $1 WHERE connection_id = $2 AND token = $3")
                    .bind(record_id)
                    .bind(connection.as_str())
                    .bind(token)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn release_save(&self, connection: &ConnectionId, token: &str) -> Result<(), VaultError> {
                sqlx::query(
                    "DELETE FROM saves WHERE connection_id = $1 AND token = $2 AND record_id IS NULL",
                )
                .bind(connection.as_str())
                .bind(token)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn prune_saves(&self, before: i64) -> Result<u64, VaultError> {
                let done = sqlx::query("DELETE FROM saves WHERE created_at < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

        }

        #[async_trait]
        impl CreditRepo for $repo {
            async fn add_credits(
                &self,
                org: &OrgKey,
                bucket: i64,
                used: i64,
            ) -> Result<(), VaultError> {
                sqlx::query(
                    "INSERT INTO api_credits (dc, org_zgid, bucket, used) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (dc, org_zgid, bucket) DO UPDATE SET used = api_credits.used + excluded.used",
                )
                .bind(org.dc.location())
                .bind(org.org.as_str())
                .bind(bucket)
                .bind(used)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn credits_since(
                &self,
                org: &OrgKey,
                since: i64,
            ) -> Result<i64, VaultError> {
                let used: Option<i64> = sqlx::query_scalar(
                    "SELECT CAST(SUM(used) AS BIGINT) FROM api_credits \
                     WHERE dc = $1 AND org_zgid = $2 AND bucket > $3",
                )
                .bind(org.dc.location())
                .bind(org.org.as_str())
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
                Ok(used.unwrap_or(0))
            }

            async fn prune_credits(&self, before: i64) -> Result<u64, VaultError> {
                let done = sqlx::query("DELETE FROM api_credits WHERE bucket < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }
        }

        /// A `saved_views` row as selected: id, module, name, body, updated_at.
        type ViewTuple = (String, String, String, String, i64);

        fn view_row((id, module, name, body, updated_at): ViewTuple) -> SavedViewRow {
            SavedViewRow {
                id,
                module,
                name,
                body,
                updated_at,
            }
        }

        #[async_trait]
        impl ViewRepo for $repo {
            async fn views_of(
                &self,
                owner: &ViewOwner,
                module: &str,
            ) -> Result<Vec<SavedViewRow>, VaultError> {
                let rows: Vec<ViewTuple> = sqlx::query_as(
                    "SELECT id, module, name, body, updated_at FROM saved_views \
                     WHERE dc = $1 AND org_zgid = $2 AND zuid = $3 AND module = $4 \
                     ORDER BY LOWER(name), name",
                )
                .bind(&owner.dc)
                .bind(&owner.org)
                .bind(&owner.user)
                .bind(module)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(view_row).collect())
            }

            async fn put_view(
                &self,
                owner: &ViewOwner,
                module: &str,
                new_id: &str,
                name: &str,
                body: &str,
                at: i64,
            ) -> Result<SavedViewRow, VaultError> {
                // One upsert: two processes saving the same name at once both succeed (the later
                // body wins), and a name already there keeps its id.
                let row: ViewTuple = sqlx::query_as(
                    "INSERT INTO saved_views (id, dc, org_zgid, zuid, module, name, body, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (dc, org_zgid, zuid, module, name) \
                     DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at \
                     RETURNING id, module, name, body, updated_at",
                )
                .bind(new_id)
                .bind(&owner.dc)
                .bind(&owner.org)
                .bind(&owner.user)
                .bind(module)
                .bind(name)
                .bind(body)
                .bind(at)
                .fetch_one(&self.pool)
                .await?;
                Ok(view_row(row))
            }

            async fn delete_view(
                &self,
                owner: &ViewOwner,
                module: &str,
                id: &str,
            ) -> Result<bool, VaultError> {
                let done = sqlx::query(
                    "DELETE FROM saved_views \
                     WHERE id = $1 AND dc = $2 AND org_zgid = $3 AND zuid = $4 AND module = $5",
                )
                .bind(id)
                .bind(&owner.dc)
                .bind(&owner.org)
                .bind(&owner.user)
                .bind(module)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}

pub(super) use connection_repo;
