//! The token vault: each user+org's Zoho connection, stored with its tokens encrypted. Storage is
//! a [`ConnectionRepo`] (SQL that runs on SQLite and PostgreSQL); the vault encrypts on the way in
//! and decrypts on the way out, so plaintext tokens exist only in memory. Reads are served from a
//! bounded in-process copy that every write here invalidates and announces on the [`Bus`], so a
//! warm request reads no database and a change in one process reaches the others.

pub mod cipher;
mod live_sql;
pub mod postgres;
mod sql;
pub mod sqlite;
#[cfg(test)]
mod suite;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use cipher::{CipherError, TokenCipher};

use crate::bus::{Bus, BusError, Change};
use crate::coherent::Coherent;
use zoho::clock::now;
use zoho::dc::DataCenter;
use zoho::ids::{ClientId, ConnectionId, OrgId, UserId};
use zoho::secret::Secret;

/// What identifies a connection: one per client, data center, org and user.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionKey {
    pub client_id: ClientId,
    pub dc: DataCenter,
    pub org: OrgId,
    pub user: UserId,
}

impl ConnectionKey {
    /// Associated data for one of this connection's ciphertexts: a token decrypts only for the
    /// connection and the purpose (`refresh` or `access`) it was written for.
    fn aad(&self, purpose: &str) -> Vec<u8> {
        format!(
            "zportal/v1|{}|{}|{}|{}|{purpose}",
            self.client_id, self.dc, self.org, self.user
        )
        .into_bytes()
    }
}

/// Whether a connection can be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionStatus {
    Active,
    /// Zoho refused the refresh token (revoked or deleted): the user must sign in again.
    NeedsReconnect,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Active => "active",
            ConnectionStatus::NeedsReconnect => "needs_reconnect",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "needs_reconnect" => ConnectionStatus::NeedsReconnect,
            _ => ConnectionStatus::Active,
        }
    }
}

/// A stored connection with its tokens decrypted.
#[derive(Clone, Debug)]
pub struct Connection {
    pub id: ConnectionId,
    pub key: ConnectionKey,
    pub email: String,
    pub org_name: String,
    pub scopes: Vec<String>,
    pub status: ConnectionStatus,
    pub refresh_token: Option<Secret>,
    pub access_token: Option<Secret>,
    /// Unix seconds.
    pub access_expires_at: Option<i64>,
    /// A stored token that no configured key decrypts (left out as `None` above).
    pub unreadable: bool,
    /// Bumped each time the access token changes.
    pub generation: i64,
    pub last_refresh_at: Option<i64>,
    pub created_at: i64,
    /// When the row last changed (a sign-in or a refresh stores the access token with it).
    pub updated_at: i64,
    /// Refreshes spent in Zoho's current window.
    pub budget: RefreshBudget,
}

/// A comma-separated column (a connection's scopes, a live event's ids) as its items.
pub(crate) fn comma_list(column: &str) -> Vec<String> {
    column
        .split(',')
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The associated data of a sealed value: it opens only for the purpose it was sealed for.
fn sealed_aad(purpose: &str) -> Vec<u8> {
    format!("zportal sealed: {purpose}").into_bytes()
}

/// What `rewrap_all` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rewrapped {
    /// The key everything is now under.
    pub key: String,
    pub connections: usize,
    /// Connections whose tokens were under an older key, now under `key`.
    pub rewrapped: usize,
    /// Connections no configured key decrypts: marked "needs reconnect".
    pub unreadable: usize,
}

/// Zoho's budget: at most [`RefreshBudget::MAX`] access tokens per refresh token per
/// [`RefreshBudget::WINDOW_SECS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefreshBudget {
    pub window_start: i64,
    pub count: i64,
}

impl RefreshBudget {
    pub const MAX: i64 = 10;
    pub const WINDOW_SECS: i64 = 600;

    /// When a refresh would be allowed again, or `None` if one is allowed now.
    pub fn blocked_until(&self, now: i64) -> Option<i64> {
        let window_open = now - self.window_start < Self::WINDOW_SECS;
        (window_open && self.count >= Self::MAX).then_some(self.window_start + Self::WINDOW_SECS)
    }

    /// The window after one more refresh at `now`.
    fn after_one_more(&self, now: i64) -> (i64, i64) {
        if now - self.window_start >= Self::WINDOW_SECS {
            (now, 1)
        } else {
            (self.window_start, self.count + 1)
        }
    }
}

/// What a sign-in learned, to store.
#[derive(Clone, Debug)]
pub struct NewConnection {
    pub key: ConnectionKey,
    pub email: String,
    pub org_name: String,
    pub scopes: Vec<String>,
    /// `None` keeps the stored refresh token (Zoho gives none to a returning user).
    pub refresh_token: Option<Secret>,
    pub access_token: Secret,
    pub access_expires_at: i64,
}

/// A row as stored: tokens are ciphertexts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionRow {
    pub id: String,
    pub client_id: String,
    pub dc: String,
    pub org_zgid: String,
    pub user_zuid: String,
    pub email: String,
    pub org_name: String,
    pub scopes: String,
    pub status: String,
    pub refresh_token: Option<String>,
    pub access_token: Option<String>,
    pub access_expires_at: Option<i64>,
    pub generation: i64,
    pub last_refresh_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Start (Unix seconds) and count of the refreshes in Zoho's current 10-minute window.
    pub refresh_window_start: i64,
    pub refresh_window_count: i64,
}

/// A refreshed access token as stored (ciphertext), with the budget window after it.
#[derive(Clone, Debug)]
pub struct StoredRefresh {
    pub access: String,
    pub expires_at: i64,
    pub now: i64,
    pub window_start: i64,
    pub window_count: i64,
}

/// Storage failures; carry no token material.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("connection store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("connection store migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Cipher(#[from] CipherError),
    #[error("stored connection is corrupt: {0}")]
    Corrupt(&'static str),
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// A change to append to the live log.
#[derive(Clone, Copy, Debug)]
pub struct NewLiveEvent<'a> {
    pub dc: &'a str,
    pub org: &'a str,
    pub module: &'a str,
    /// Comma-separated record ids.
    pub ids: &'a str,
    pub op: &'a str,
    pub echo_pending: Echo,
    pub at: i64,
}

/// Which other word of the same change may still come: a write through zportal is followed by
/// Zoho's notification of it, and that notification may even arrive first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// Nothing (or it came): the entry is settled.
    None,
    /// Written through zportal: Zoho's notification of it is still to come.
    Notification,
    /// Notified by Zoho: zportal's own word of its write may still come.
    Write,
}

impl Echo {
    pub fn code(self) -> i64 {
        match self {
            Echo::None => 0,
            Echo::Notification => 1,
            Echo::Write => 2,
        }
    }
}

/// One entry of the live log, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRow {
    pub seq: i64,
    pub dc: String,
    pub org: String,
    pub module: String,
    pub ids: String,
    pub op: String,
    pub at: i64,
}

/// An org's registered watch channel: its id, the SHA-256 of its token (hex), the connection
/// that registered it and its expiry (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredChannel {
    pub channel_id: i64,
    pub token_hash: String,
    pub connection_id: String,
    pub expires_at: i64,
}

/// An org's row of `watch_channels`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchRow {
    pub dc: String,
    pub org: String,
    /// `None` until one is registered (or after it was removed).
    pub channel: Option<StoredChannel>,
    /// Until when some process has open pages of the org.
    pub wanted_until: i64,
}

/// Storage of the live layer: the ordered change log and the watch channels.
#[async_trait]
pub trait LiveRepo: Send + Sync {
    /// Tells `e`: settles the oldest entry like it since the given time that waits for its
    /// `other` word (then `e` is that word, not a change of its own: `None`), else appends it —
    /// its seq, larger than any before. One teller at a time, across processes.
    async fn tell_live(
        &self,
        e: &NewLiveEvent<'_>,
        other: Option<(Echo, i64)>,
    ) -> Result<Option<i64>, VaultError>;
    /// Up to `limit` entries after `after`, in order.
    async fn live_after(&self, after: i64, limit: i64) -> Result<Vec<LiveRow>, VaultError>;
    /// The smallest and largest seq kept (0 for an empty log).
    async fn live_bounds(&self) -> Result<(i64, i64), VaultError>;
    /// Forgets entries stored before `before`, but never the newest.
    async fn prune_live(&self, before: i64) -> Result<u64, VaultError>;
    /// Creates the org's watch row if missing, and keeps it wanted until at least `until`.
    async fn want_watch(&self, dc: &str, org: &str, until: i64) -> Result<(), VaultError>;
    async fn watch(&self, dc: &str, org: &str) -> Result<Option<WatchRow>, VaultError>;
    async fn watch_by_channel(&self, channel_id: i64) -> Result<Option<WatchRow>, VaultError>;
    async fn watches(&self) -> Result<Vec<WatchRow>, VaultError>;
    /// Takes the org's watch lease if it is free or lapsed; true if taken.
    async fn lease_watch(
        &self,
        dc: &str,
        org: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, VaultError>;
    /// Stores the org's channel (or that it has none) and gives the lease back, if `holder`
    /// still holds it; whether it did.
    async fn store_watch(
        &self,
        dc: &str,
        org: &str,
        holder: &str,
        channel: Option<&StoredChannel>,
    ) -> Result<bool, VaultError>;
    /// Deletes the org's watch row, if `holder` holds its lease.
    async fn drop_watch(&self, dc: &str, org: &str, holder: &str) -> Result<(), VaultError>;
}

/// Row-level storage of connections, in SQL every supported database speaks.
#[async_trait]
pub trait ConnectionRepo: LiveRepo + Send + Sync {
    async fn by_id(&self, id: &str) -> Result<Option<ConnectionRow>, VaultError>;
    async fn by_key(
        &self,
        client_id: &str,
        dc: &str,
        org: &str,
        user: &str,
    ) -> Result<Option<ConnectionRow>, VaultError>;
    async fn insert(&self, row: &ConnectionRow) -> Result<(), VaultError>;
    /// Replaces the sign-in fields and tokens of an existing row (by id), bumping its generation.
    async fn update_sign_in(&self, row: &ConnectionRow) -> Result<(), VaultError>;
    async fn delete(&self, id: &str) -> Result<bool, VaultError>;
    async fn all(&self) -> Result<Vec<ConnectionRow>, VaultError>;
    /// Takes the refresh lease if it is free or expired (`lease_until < now`); true if taken.
    async fn try_lease(
        &self,
        id: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, VaultError>;
    /// Gives the lease back, if `holder` still has it.
    async fn release_lease(&self, id: &str, holder: &str) -> Result<(), VaultError>;
    /// Stores a refreshed access token and releases the lease, if `holder` still has it: bumps the
    /// generation and counts the refresh in the budget window. True if stored.
    async fn store_refresh(
        &self,
        id: &str,
        holder: &str,
        r: &StoredRefresh,
    ) -> Result<bool, VaultError>;
    /// Sets the connection's status, if it is still at `generation`; whether it was.
    async fn set_status(
        &self,
        id: &str,
        status: &str,
        generation: i64,
        now: i64,
    ) -> Result<bool, VaultError>;
    /// Replaces the ciphertexts of the row's tokens (the same tokens under the current key), if
    /// it is still at `generation`; whether it was.
    async fn rewrap(
        &self,
        id: &str,
        refresh_token: Option<&str>,
        access_token: Option<&str>,
        generation: i64,
    ) -> Result<bool, VaultError>;
    /// How many connections are in each status.
    async fn count_by_status(&self) -> Result<Vec<(String, i64)>, VaultError>;
    /// Proves the database answers.
    async fn ping(&self) -> Result<(), VaultError>;
    /// Claims the save of form `token` until `until`: a new row, or one whose claim lapsed
    /// without a record (its holder died). Otherwise says what the row holds.
    async fn claim_save(
        &self,
        connection: &str,
        token: &str,
        now: i64,
        until: i64,
    ) -> Result<SaveClaim, VaultError>;
    /// Records the id the claimed save created.
    async fn finish_save(
        &self,
        connection: &str,
        token: &str,
        record_id: &str,
    ) -> Result<(), VaultError>;
    /// Gives a claim back when nothing was created, so the form can be saved again.
    async fn release_save(&self, connection: &str, token: &str) -> Result<(), VaultError>;
    /// Forgets saves made before `before` (forms are long gone by then).
    async fn prune_saves(&self, before: i64) -> Result<u64, VaultError>;
    /// Adds `used` API credits to the org's bucket starting at `bucket` (Unix seconds).
    async fn add_credits(
        &self,
        dc: &str,
        org: &str,
        bucket: i64,
        used: i64,
    ) -> Result<(), VaultError>;
    /// The org's credits in buckets that start after `since`.
    async fn credits_since(&self, dc: &str, org: &str, since: i64) -> Result<i64, VaultError>;
    /// Forgets buckets that start before `before`.
    async fn prune_credits(&self, before: i64) -> Result<u64, VaultError>;
}

/// What [`Vault::claim_save`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveClaim {
    /// This caller asks Zoho, then calls `finish_save` or `release_save`.
    Claimed,
    /// An earlier press of Save created this record.
    Done(String),
    /// Another request is asking Zoho right now.
    Busy,
}

/// Connections, encrypted at rest, with a bounded copy in memory.
#[derive(Clone)]
pub struct Vault {
    repo: Arc<dyn ConnectionRepo>,
    cipher: Arc<TokenCipher>,
    bus: Bus,
    cache: Arc<Coherent<String, Connection>>,
}

/// API credits are stored in buckets of ten minutes, and summed over a rolling day.
const CREDIT_BUCKET_SECS: i64 = 600;
const CREDIT_DAY_SECS: i64 = 86_400;

/// How many connections a process keeps in memory, and for how long it trusts each without
/// hearing of a change (a backstop: the bus announces every change).
const CACHED: usize = 20_000;
const CACHE_TTL: Duration = Duration::from_secs(60);

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").finish_non_exhaustive()
    }
}

impl Vault {
    /// A vault alone on its store (no other process to tell of changes).
    pub fn new(repo: Arc<dyn ConnectionRepo>, cipher: Arc<TokenCipher>) -> Self {
        Vault::on_bus(repo, cipher, Bus::local())
    }

    /// A vault that announces its changes on `bus` (and whose cache the bus's listener,
    /// `Zoho::follow`, keeps true).
    pub fn on_bus(repo: Arc<dyn ConnectionRepo>, cipher: Arc<TokenCipher>, bus: Bus) -> Self {
        Vault {
            repo,
            cipher,
            bus,
            cache: Arc::new(Coherent::new(CACHED, CACHE_TTL)),
        }
    }

    /// The bus this vault announces changes on.
    /// The store of the live layer (the same database).
    pub fn live_repo(&self) -> &dyn LiveRepo {
        &*self.repo
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Drops the cached copy of `id` (another process changed it).
    pub fn invalidate(&self, id: &str) {
        self.cache.invalidate(id);
    }

    /// Drops every cached connection (changes may have been missed).
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// After this process changed connection `id`: its cached copy goes, and the others hear.
    async fn changed(&self, id: &str) -> Result<(), VaultError> {
        self.cache.invalidate(id);
        self.bus.publish(Change::connection(id)).await?;
        Ok(())
    }

    /// Stores what a sign-in learned: a new connection, or the existing one for the same key
    /// updated (its refresh token kept when none came).
    pub async fn save_sign_in(&self, new: NewConnection) -> Result<Connection, VaultError> {
        let saved = match self.save_sign_in_once(&new).await {
            // The same account's first sign-in, finishing at the same moment in another tab or
            // process, inserted the row first: this one is now a returning sign-in.
            Err(VaultError::Store(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                self.save_sign_in_once(&new).await
            }
            other => other,
        }?;
        self.changed(saved.id.as_str()).await?;
        Ok(saved)
    }

    async fn save_sign_in_once(&self, new: &NewConnection) -> Result<Connection, VaultError> {
        let k = &new.key;
        let existing = self
            .repo
            .by_key(
                k.client_id.as_str(),
                k.dc.location(),
                k.org.as_str(),
                k.user.as_str(),
            )
            .await?;
        let now = now();
        let refresh = new
            .refresh_token
            .as_ref()
            .map(|t| self.cipher.encrypt(t, &k.aad("refresh")));
        let access = self.cipher.encrypt(&new.access_token, &k.aad("access"));
        let row = match existing {
            Some(old) => {
                let row = ConnectionRow {
                    email: new.email.clone(),
                    org_name: new.org_name.clone(),
                    scopes: new.scopes.join(","),
                    status: ConnectionStatus::Active.as_str().to_owned(),
                    // A returning sign-in brings no refresh token: keep the stored one, under
                    // the current key (one no key opens is dropped: the user consents again).
                    refresh_token: refresh.or_else(|| {
                        old.refresh_token
                            .as_deref()
                            .and_then(|ct| self.cipher.decrypt(ct, &k.aad("refresh")).ok())
                            .map(|t| self.cipher.encrypt(&t, &k.aad("refresh")))
                    }),
                    access_token: Some(access),
                    access_expires_at: Some(new.access_expires_at),
                    generation: old.generation + 1,
                    updated_at: now,
                    ..old
                };
                self.repo.update_sign_in(&row).await?;
                row
            }
            None => {
                let row = ConnectionRow {
                    id: ConnectionId::random().as_str().to_owned(),
                    client_id: k.client_id.to_string(),
                    dc: k.dc.location().to_owned(),
                    org_zgid: k.org.to_string(),
                    user_zuid: k.user.to_string(),
                    email: new.email.clone(),
                    org_name: new.org_name.clone(),
                    scopes: new.scopes.join(","),
                    status: ConnectionStatus::Active.as_str().to_owned(),
                    refresh_token: refresh,
                    access_token: Some(access),
                    access_expires_at: Some(new.access_expires_at),
                    generation: 1,
                    last_refresh_at: None,
                    created_at: now,
                    updated_at: now,
                    refresh_window_start: 0,
                    refresh_window_count: 0,
                };
                self.repo.insert(&row).await?;
                row
            }
        };
        self.decrypt(row)
    }

    /// The connection `id`, from memory when this process has it (and has heard of no change).
    pub async fn get(&self, id: &ConnectionId) -> Result<Option<Connection>, VaultError> {
        if let Some(c) = self.cache.get(id.as_str()) {
            return Ok(Some(c));
        }
        self.get_stored(id).await
    }

    /// The connection `id` as the store has it now (for decisions another process may have
    /// just made, such as a refresh); the cached copy is renewed with it.
    pub async fn get_stored(&self, id: &ConnectionId) -> Result<Option<Connection>, VaultError> {
        let seen = self.cache.epoch();
        let Some(row) = self.repo.by_id(id.as_str()).await? else {
            return Ok(None);
        };
        let c = self.open(row).await?;
        if self.bus.in_sync() {
            self.cache.fill(seen, id.as_str().to_owned(), c.clone());
        }
        Ok(Some(c))
    }

    /// The stored connection for `key`, if any.
    pub async fn find(&self, key: &ConnectionKey) -> Result<Option<Connection>, VaultError> {
        let row = self
            .repo
            .by_key(
                key.client_id.as_str(),
                key.dc.location(),
                key.org.as_str(),
                key.user.as_str(),
            )
            .await?;
        match row {
            Some(r) => Ok(Some(self.open(r).await?)),
            None => Ok(None),
        }
    }

    pub async fn delete(&self, id: &ConnectionId) -> Result<bool, VaultError> {
        let deleted = self.repo.delete(id.as_str()).await?;
        self.changed(id.as_str()).await?;
        Ok(deleted)
    }

    /// How many connections are in each status (statuses with none are left out).
    pub async fn count_by_status(&self) -> Result<Vec<(ConnectionStatus, i64)>, VaultError> {
        Ok(self
            .repo
            .count_by_status()
            .await?
            .into_iter()
            .map(|(status, n)| (ConnectionStatus::parse(&status), n))
            .collect())
    }

    /// Proves the database answers (for readiness checks).
    pub async fn ping(&self) -> Result<(), VaultError> {
        self.repo.ping().await
    }

    pub async fn all(&self) -> Result<Vec<Connection>, VaultError> {
        let mut all = Vec::new();
        for row in self.repo.all().await? {
            all.push(self.open(row).await?);
        }
        Ok(all)
    }

    /// `secret` encrypted with the token key for `purpose` (a pending sign-in's state and PKCE
    /// verifier, say, which live in a session row until the callback).
    pub fn seal(&self, secret: &Secret, purpose: &str) -> String {
        self.cipher.encrypt(secret, &sealed_aad(purpose))
    }

    /// What [`Vault::seal`] sealed for `purpose`.
    pub fn unseal(&self, sealed: &str, purpose: &str) -> Result<Secret, VaultError> {
        Ok(self.cipher.decrypt(sealed, &sealed_aad(purpose))?)
    }

    /// Re-encrypts every stored token that is not under the current key (after a new key was put
    /// first in `ZPORTAL_TOKEN_KEY`); connections no configured key decrypts are marked "needs
    /// reconnect". What it did, for `server connections rewrap`.
    pub async fn rewrap_all(&self) -> Result<Rewrapped, VaultError> {
        let mut report = Rewrapped {
            key: self.cipher.current_key().to_owned(),
            ..Rewrapped::default()
        };
        for row in self.repo.all().await? {
            report.connections += 1;
            let stale = self.is_stale(&row);
            let c = self.open(row).await?;
            if c.unreadable {
                report.unreadable += 1;
            } else if stale {
                report.rewrapped += 1;
            }
        }
        Ok(report)
    }

    fn is_stale(&self, row: &ConnectionRow) -> bool {
        [&row.refresh_token, &row.access_token]
            .into_iter()
            .flatten()
            .any(|ct| !self.cipher.is_current(ct))
    }

    /// Decrypts `row`, and keeps the store tidy on the way: tokens under an older key are
    /// re-encrypted with the current one, and a connection whose tokens no configured key opens
    /// is marked "needs reconnect" (its user signs in again) instead of failing every request.
    async fn open(&self, row: ConnectionRow) -> Result<Connection, VaultError> {
        let stale = self.is_stale(&row);
        let mut c = self.decrypt(row)?;
        if c.unreadable {
            if c.status == ConnectionStatus::Active {
                tracing::warn!(
                    "a connection's tokens decrypt with no configured key: it needs a new sign-in"
                );
                self.set_status(&c.id, ConnectionStatus::NeedsReconnect, c.generation)
                    .await?;
            }
            c.status = ConnectionStatus::NeedsReconnect;
        } else if stale {
            let aad = |what| c.key.aad(what);
            let refresh = c
                .refresh_token
                .as_ref()
                .map(|t| self.cipher.encrypt(t, &aad("refresh")));
            let access = c
                .access_token
                .as_ref()
                .map(|t| self.cipher.encrypt(t, &aad("access")));
            let rewrapped = self
                .repo
                .rewrap(
                    c.id.as_str(),
                    refresh.as_deref(),
                    access.as_deref(),
                    c.generation,
                )
                .await?;
            if rewrapped {
                tracing::info!(
                    key = self.cipher.current_key(),
                    "tokens re-encrypted with the current key"
                );
            }
        }
        Ok(c)
    }

    /// Claims the save of the form `token` on `connection` for `hold`; see [`SaveClaim`].
    pub async fn claim_save(
        &self,
        connection: &ConnectionId,
        token: &str,
        hold: std::time::Duration,
    ) -> Result<SaveClaim, VaultError> {
        let now = now();
        let until = now + hold.as_secs().max(1) as i64;
        self.repo
            .claim_save(connection.as_str(), token, now, until)
            .await
    }

    pub async fn finish_save(
        &self,
        connection: &ConnectionId,
        token: &str,
        record_id: &str,
    ) -> Result<(), VaultError> {
        self.repo
            .finish_save(connection.as_str(), token, record_id)
            .await
    }

    pub async fn release_save(
        &self,
        connection: &ConnectionId,
        token: &str,
    ) -> Result<(), VaultError> {
        self.repo.release_save(connection.as_str(), token).await
    }

    /// Forgets saves older than a day; returns how many.
    pub async fn prune_saves(&self) -> Result<u64, VaultError> {
        self.repo.prune_saves(now() - 86_400).await
    }

    /// Adds `used` API credits that `org` spent just now.
    pub async fn add_credits(
        &self,
        dc: DataCenter,
        org: &OrgId,
        used: u64,
    ) -> Result<(), VaultError> {
        let now = now();
        let bucket = now - now.rem_euclid(CREDIT_BUCKET_SECS);
        let used = i64::try_from(used).unwrap_or(i64::MAX);
        self.repo
            .add_credits(dc.location(), org.as_str(), bucket, used)
            .await
    }

    /// The API credits `org` spent in the last 24 hours, as every process stored them (to
    /// within one bucket).
    pub async fn credits_last_day(&self, dc: DataCenter, org: &OrgId) -> Result<u64, VaultError> {
        let since = now() - CREDIT_DAY_SECS;
        let used = self
            .repo
            .credits_since(dc.location(), org.as_str(), since)
            .await?;
        Ok(u64::try_from(used).unwrap_or(0))
    }

    /// Forgets credits spent more than a day ago; returns how many buckets.
    pub async fn prune_credits(&self) -> Result<u64, VaultError> {
        self.repo
            .prune_credits(now() - CREDIT_DAY_SECS - CREDIT_BUCKET_SECS)
            .await
    }

    /// Takes the cross-process refresh lease for `ttl_secs`.
    pub async fn try_lease(
        &self,
        id: &ConnectionId,
        holder: &str,
        ttl_secs: i64,
    ) -> Result<bool, VaultError> {
        let now = now();
        self.repo
            .try_lease(id.as_str(), holder, now, now + ttl_secs)
            .await
    }

    pub async fn release_lease(&self, id: &ConnectionId, holder: &str) -> Result<(), VaultError> {
        self.repo.release_lease(id.as_str(), holder).await
    }

    /// Stores a refreshed access token (encrypted) and releases the lease.
    pub async fn store_refresh(
        &self,
        c: &Connection,
        holder: &str,
        access: &Secret,
        expires_at: i64,
    ) -> Result<bool, VaultError> {
        let now = now();
        let (window_start, window_count) = c.budget.after_one_more(now);
        let stored = StoredRefresh {
            access: self.cipher.encrypt(access, &c.key.aad("access")),
            expires_at,
            now,
            window_start,
            window_count,
        };
        let stored = self
            .repo
            .store_refresh(c.id.as_str(), holder, &stored)
            .await?;
        self.changed(c.id.as_str()).await?;
        Ok(stored)
    }

    /// Sets the status of connection `id` — only if it is still at `generation`, so a refresh
    /// that fails late cannot mark a connection that was signed in again meanwhile. Whether it
    /// was changed.
    pub async fn set_status(
        &self,
        id: &ConnectionId,
        status: ConnectionStatus,
        generation: i64,
    ) -> Result<bool, VaultError> {
        let changed = self
            .repo
            .set_status(id.as_str(), status.as_str(), generation, now())
            .await?;
        if changed {
            self.changed(id.as_str()).await?;
        }
        Ok(changed)
    }

    fn decrypt(&self, row: ConnectionRow) -> Result<Connection, VaultError> {
        let key = ConnectionKey {
            client_id: ClientId::new(row.client_id),
            dc: row
                .dc
                .parse()
                .map_err(|_| VaultError::Corrupt("unknown data center"))?,
            org: OrgId::new(row.org_zgid),
            user: UserId::new(row.user_zuid),
        };
        // A token no configured key opens (its key was dropped, or the row was tampered with) is
        // no token: the connection needs a new sign-in; the rest of the row is still good.
        let mut unreadable = false;
        let mut open = |ct: Option<&str>, what: &str| {
            let plain = ct.map(|c| self.cipher.decrypt(c, &key.aad(what)));
            match plain {
                Some(Ok(t)) => Some(t),
                Some(Err(_)) => {
                    unreadable = true;
                    None
                }
                None => None,
            }
        };
        let refresh_token = open(row.refresh_token.as_deref(), "refresh");
        let access_token = open(row.access_token.as_deref(), "access");
        Ok(Connection {
            id: ConnectionId::new(row.id),
            key,
            email: row.email,
            org_name: row.org_name,
            scopes: comma_list(&row.scopes),
            status: ConnectionStatus::parse(&row.status),
            refresh_token,
            access_token,
            access_expires_at: row.access_expires_at,
            unreadable,
            generation: row.generation,
            last_refresh_at: row.last_refresh_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            budget: RefreshBudget {
                window_start: row.refresh_window_start,
                count: row.refresh_window_count,
            },
        })
    }
}
