//! The SQL of the live layer's two tables (`0005_live.sql`): the ordered log of what changed in
//! each org's records, and the one Zoho watch channel per org. Written once for both stores, like
//! the connections' SQL beside it.

/// Implements [`LiveRepo`](super::LiveRepo) and [`WatchRepo`](super::WatchRepo) for `$repo` (a struct with a `pool` field); `$lock`
/// is the statement that makes a transaction the only teller (`None` where the database
/// serializes writers itself, as SQLite does).
macro_rules! live_repo {
    ($repo:ty, $lock:expr) => {
        /// A `live_events` row as selected: seq, org_seq, dc, org, module, ids, op, at.
        type LiveTuple = (i64, i64, String, String, String, String, String, i64);

        fn live_row(
            (seq, org_seq, dc, org, module, ids, op, at): LiveTuple,
        ) -> super::LiveRow {
            super::LiveRow {
                seq,
                org_seq,
                dc,
                org,
                module,
                ids,
                op,
                at,
            }
        }

        const WATCH_COLUMNS: &str =
            "dc, org_zgid, channel_id, token_hash, connection_id, expires_at, wanted_until";

        #[async_trait]
        impl super::LiveRepo for $repo {
            async fn tell_live(
                &self,
                e: &super::NewLiveEvent<'_>,
                other: Option<(super::Echo, i64)>,
            ) -> Result<Option<i64>, VaultError> {
                // One teller at a time: a write and its notification told at once, by two
                // processes, are still one change — and the seqs go in commit order.
                let mut tx = self.pool.begin().await?;
                if let Some(lock) = $lock {
                    sqlx::query(lock).execute(&mut *tx).await?;
                }
                if let Some((other, since)) = other {
                let settled = sqlx::query(
                    "UPDATE live_events SET echo_pending = 0 WHERE seq = (\
                       SELECT MIN(seq) FROM live_events WHERE dc = $1 AND org_zgid = $2 \
                       AND module = $3 AND ids = $4 AND op = $5 AND echo_pending = $6 AND at >= $7) \
                     AND echo_pending = $6",
                )
                .bind(e.dc)
                .bind(e.org)
                .bind(e.module)
                .bind(e.ids)
                .bind(e.op)
                .bind(other.code())
                .bind(since)
                .execute(&mut *tx)
                .await?;
                if settled.rows_affected() == 1 {
                    tx.commit().await?;
                    return Ok(None);
                }
                }
                let seq: i64 = sqlx::query_scalar(
                    "INSERT INTO live_events \
                       (seq, org_seq, dc, org_zgid, module, ids, op, echo_pending, at) \
                     SELECT COALESCE(MAX(seq), 0) + 1, \
                       (SELECT COALESCE(MAX(org_seq), 0) + 1 FROM live_events \
                        WHERE dc = $1 AND org_zgid = $2), \
                       $1, $2, $3, $4, $5, $6, $7 FROM live_events \
                     RETURNING seq",
                )
                .bind(e.dc)
                .bind(e.org)
                .bind(e.module)
                .bind(e.ids)
                .bind(e.op)
                .bind(e.echo_pending.code())
                .bind(e.at)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Some(seq))
            }

            async fn live_after(
                &self,
                after: i64,
                limit: i64,
            ) -> Result<Vec<super::LiveRow>, VaultError> {
                let rows: Vec<LiveTuple> = sqlx::query_as(
                    "SELECT seq, org_seq, dc, org_zgid, module, ids, op, at FROM live_events \
                     WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(live_row).collect())
            }

            async fn live_in_org(
                &self,
                org: &OrgKey,
                after: i64,
                limit: i64,
            ) -> Result<Vec<super::LiveRow>, VaultError> {
                let rows: Vec<LiveTuple> = sqlx::query_as(
                    "SELECT seq, org_seq, dc, org_zgid, module, ids, op, at FROM live_events \
                     WHERE dc = $1 AND org_zgid = $2 AND org_seq > $3 ORDER BY org_seq LIMIT $4",
                )
                .bind(org.dc.location())
                .bind(org.org.as_str())
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(live_row).collect())
            }

            async fn live_bounds(&self) -> Result<(i64, i64), VaultError> {
                let (min, max): (Option<i64>, Option<i64>) =
                    sqlx::query_as("SELECT MIN(seq), MAX(seq) FROM live_events")
                        .fetch_one(&self.pool)
                        .await?;
                Ok((min.unwrap_or(0), max.unwrap_or(0)))
            }

            async fn live_org_bounds(&self, org: &OrgKey) -> Result<(i64, i64), VaultError> {
                let (min, max): (Option<i64>, Option<i64>) = sqlx::query_as(
                    "SELECT MIN(org_seq), MAX(org_seq) FROM live_events \
                     WHERE dc = $1 AND org_zgid = $2 AND org_seq > 0",
                )
                .bind(org.dc.location())
                .bind(org.org.as_str())
                .fetch_one(&self.pool)
                .await?;
                Ok((min.unwrap_or(0), max.unwrap_or(0)))
            }

            async fn live_org_head(&self, org: &OrgKey, seq: i64) -> Result<i64, VaultError> {
                let head: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(org_seq) FROM live_events \
                     WHERE dc = $1 AND org_zgid = $2 AND seq <= $3",
                )
                .bind(org.dc.location())
                .bind(org.org.as_str())
                .bind(seq)
                .fetch_one(&self.pool)
                .await?;
                Ok(head.unwrap_or(0))
            }

            async fn prune_live(&self, before: i64) -> Result<u64, VaultError> {
                // The newest entry stays whatever its age: seq goes on from it.
                let done = sqlx::query(
                    "DELETE FROM live_events WHERE at < $1 \
                     AND seq < (SELECT MAX(seq) FROM live_events) \
                     AND org_seq < (SELECT MAX(newest.org_seq) FROM live_events newest \
                       WHERE newest.dc = live_events.dc AND newest.org_zgid = live_events.org_zgid)",
                )
                .bind(before)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

        }

        #[async_trait]
        impl super::WatchRepo for $repo {
            async fn want_watch(&self, org: &OrgKey, until: i64) -> Result<(), VaultError> {
                sqlx::query(
                    "INSERT INTO watch_channels (dc, org_zgid, channel_id, token_hash, connection_id, \
                       expires_at, wanted_until, lease_until, lease_holder) \
                     VALUES ($1, $2, NULL, NULL, NULL, 0, $3, 0, '') \
                     ON CONFLICT (dc, org_zgid) DO UPDATE SET wanted_until = CASE \
                       WHEN excluded.wanted_until > watch_channels.wanted_until \
                       THEN excluded.wanted_until ELSE watch_channels.wanted_until END",
                )
                .bind(org.dc.location())
                .bind(org.org.as_str())
                .bind(until)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn watch(&self, org: &OrgKey) -> Result<Option<super::WatchRow>, VaultError> {
                let sql = format!(
                    "SELECT {WATCH_COLUMNS} FROM watch_channels WHERE dc = $1 AND org_zgid = $2"
                );
                let row: Option<WatchTuple> = sqlx::query_as(&sql)
                    .bind(org.dc.location())
                    .bind(org.org.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.and_then(watch_row))
            }

            async fn watch_by_channel(
                &self,
                channel_id: i64,
            ) -> Result<Option<super::WatchRow>, VaultError> {
                let sql =
                    format!("SELECT {WATCH_COLUMNS} FROM watch_channels WHERE channel_id = $1");
                let row: Option<WatchTuple> = sqlx::query_as(&sql)
                    .bind(channel_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.and_then(watch_row))
            }

            async fn watches(&self) -> Result<Vec<super::WatchRow>, VaultError> {
                let sql = format!("SELECT {WATCH_COLUMNS} FROM watch_channels");
                let rows: Vec<WatchTuple> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().filter_map(watch_row).collect())
            }

            async fn lease_watch(
                &self,
                org: &OrgKey,
                holder: &str,
                now: i64,
                until: i64,
            ) -> Result<bool, VaultError> {
                let done = sqlx::query(
                    "UPDATE watch_channels SET lease_until = $1, lease_holder = $2 \
                     WHERE dc = $3 AND org_zgid = $4 AND lease_until < $5",
                )
                .bind(until)
                .bind(holder)
                .bind(org.dc.location())
                .bind(org.org.as_str())
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn store_watch(
                &self,
                org: &OrgKey,
                holder: &str,
                channel: Option<&super::StoredChannel>,
            ) -> Result<bool, VaultError> {
                let done = sqlx::query(
                    "UPDATE watch_channels SET channel_id = $1, token_hash = $2, connection_id = $3, \
                       expires_at = $4, lease_until = 0, lease_holder = '' \
                     WHERE dc = $5 AND org_zgid = $6 AND lease_holder = $7",
                )
                .bind(channel.map(|c| c.channel_id))
                .bind(channel.map(|c| c.token_hash.as_str()))
                .bind(channel.map(|c| c.connection_id.as_str()))
                .bind(channel.map_or(0, |c| c.expires_at))
                .bind(org.dc.location())
                .bind(org.org.as_str())
                .bind(holder)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn drop_watch(&self, org: &OrgKey, holder: &str) -> Result<(), VaultError> {
                sqlx::query(
                    "DELETE FROM watch_channels WHERE dc = $1 AND org_zgid = $2 AND lease_holder = $3",
                )
                .bind(org.dc.location())
                .bind(org.org.as_str())
                .bind(holder)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }

        type WatchTuple = (
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            i64,
            i64,
        );

        /// The row as the watch layer reads it; `None` for a data center this build does not
        /// know (a row written by a newer version), which is left to that version.
        fn watch_row(t: WatchTuple) -> Option<super::WatchRow> {
            let (dc, org, channel_id, token_hash, connection_id, expires_at, wanted_until) = t;
            Some(super::WatchRow {
                org: OrgKey {
                    dc: dc.parse().ok()?,
                    org: zoho::ids::OrgId::new(org),
                },
                channel: match (channel_id, token_hash, connection_id) {
                    (Some(channel_id), Some(token_hash), Some(connection_id)) => {
                        Some(super::StoredChannel {
                            channel_id,
                            token_hash,
                            connection_id,
                            expires_at,
                        })
                    }
                    _ => None,
                },
                wanted_until,
            })
        }
    };
}

pub(super) use live_repo;
