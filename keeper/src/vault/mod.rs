//! The token vault: each user+org's Zoho connection, stored with its tokens encrypted. Storage is
//! a [`ConnectionRepo`] (SQL that runs on SQLite and PostgreSQL); the vault encrypts on the way in
//! and decrypts on the way out, so plaintext tokens exist only in memory. Reads are served from a
//! bounded in-process copy that every write here invalidates and announces on the [`Bus`], so a
//! warm request reads no database and a change in one process reaches the others.

pub mod cipher;
mod live_sql;
pub mod postgres;
mod repos;
mod sql;
pub mod sqlite;
#[cfg(test)]
mod suite;
mod types;

use std::sync::Arc;
use std::time::Duration;

pub use cipher::{CipherError, TokenCipher};
pub use repos::{
    ConnectionRepo, CreditRepo, Echo, LiveRepo, LiveRow, NewLiveEvent, SaveClaim, SaveRepo,
    SavedViewRow, StoredChannel, VaultRepo, ViewOwner, ViewRepo, WatchRepo, WatchRow,
};
pub(crate) use types::comma_list;
use types::sealed_aad;
pub use types::{
    Connection, ConnectionKey, ConnectionRow, ConnectionStatus, NewConnection, RefreshBudget,
    Rewrapped, StoredRefresh,
};

use crate::bus::{Bus, BusError, Change};
use crate::coherent::Coherent;
use zoho::budget::OrgKey;
use zoho::clock::now;
use zoho::dc::DataCenter;
use zoho::ids::{ClientId, ConnectionId, OrgId, UserId};
use zoho::secret::Secret;

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

/// Connections, encrypted at rest, with a bounded copy in memory.
#[derive(Clone)]
pub struct Vault {
    repo: Arc<dyn VaultRepo>,
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
    pub fn new(repo: Arc<dyn VaultRepo>, cipher: Arc<TokenCipher>) -> Self {
        Vault::on_bus(repo, cipher, Bus::local())
    }

    /// A vault that announces its changes on `bus` (and whose cache the bus's listener,
    /// `Zoho::follow`, keeps true).
    pub fn on_bus(repo: Arc<dyn VaultRepo>, cipher: Arc<TokenCipher>, bus: Bus) -> Self {
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

    /// The watch channels' storage.
    pub fn watch_repo(&self) -> &dyn WatchRepo {
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
        self.repo.claim_save(connection, token, now, until).await
    }

    pub async fn finish_save(
        &self,
        connection: &ConnectionId,
        token: &str,
        record_id: &str,
    ) -> Result<(), VaultError> {
        self.repo.finish_save(connection, token, record_id).await
    }

    pub async fn release_save(
        &self,
        connection: &ConnectionId,
        token: &str,
    ) -> Result<(), VaultError> {
        self.repo.release_save(connection, token).await
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
        self.repo.add_credits(&org_key(dc, org), bucket, used).await
    }

    /// The API credits `org` spent in the last 24 hours, as every process stored them (to
    /// within one bucket).
    pub async fn credits_last_day(&self, dc: DataCenter, org: &OrgId) -> Result<u64, VaultError> {
        let since = now() - CREDIT_DAY_SECS;
        let used = self.repo.credits_since(&org_key(dc, org), since).await?;
        Ok(u64::try_from(used).unwrap_or(0))
    }

    /// Forgets credits spent more than a day ago; returns how many buckets.
    pub async fn prune_credits(&self) -> Result<u64, VaultError> {
        self.repo
            .prune_credits(now() - CREDIT_DAY_SECS - CREDIT_BUCKET_SECS)
            .await
    }

    /// The owner's saved views of `module`, by name.
    pub async fn saved_views(
        &self,
        owner: &ViewOwner,
        module: &str,
    ) -> Result<Vec<SavedViewRow>, VaultError> {
        self.repo.views_of(owner, module).await
    }

    /// Saves the owner's view of `module` as `name`, now: the view of that name is replaced (its
    /// id kept), or a new one gets a fresh random id. The stored view.
    pub async fn save_view(
        &self,
        owner: &ViewOwner,
        module: &str,
        name: &str,
        body: &str,
    ) -> Result<SavedViewRow, VaultError> {
        let id = zoho::random_hex(16);
        self.repo
            .put_view(owner, module, &id, name, body, now())
            .await
    }

    /// Deletes the owner's view `id` of `module`; whether there was one (another person's id
    /// deletes nothing).
    pub async fn delete_view(
        &self,
        owner: &ViewOwner,
        module: &str,
        id: &str,
    ) -> Result<bool, VaultError> {
        self.repo.delete_view(owner, module, id).await
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
            .set_status(id.as_str(), status, generation, now())
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

/// The key an org's rows are stored under.
fn org_key(dc: DataCenter, org: &OrgId) -> OrgKey {
    OrgKey {
        dc,
        org: org.clone(),
    }
}
