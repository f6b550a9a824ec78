//! Silent refresh, done once. Every CRM call asks the [`Coordinator`] for an access token: the
//! stored one is used until shortly before it expires; then exactly one refresh runs per
//! connection — one task per process (a per-connection async lock) and one process at a time (a
//! lease row in the database, re-read after taking it). A 401 refreshes only if the token that
//! failed is still the current one, and marks that token refused: calls that start while the
//! refresh runs wait for the new token instead of sending the dead one. "Access Denied" backs off
//! without touching the connection; `invalid_code` marks it "needs reconnect" (if nobody signed
//! in again meanwhile: status changes name the generation they judged). Zoho's budget of 10 refreshes per 10 minutes is
//! counted in the row, so no process of ours can exceed it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use zoho::clock::now;
use zoho::ids::ConnectionId;
use zoho::meter;
use zoho::oauth::{OAuthClient, OAuthError, TokenError};
use zoho::tokens::TokenSource;
pub use zoho::tokens::{AccessToken, RefreshError};

use crate::vault::{Connection, ConnectionStatus, Vault};

/// Tuning; the defaults suit real Zoho.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Refresh this long before the stored token expires.
    pub margin: Duration,
    /// How long a lease lives if its holder dies (`ZPORTAL_LEASE_TTL`).
    pub lease_ttl: Duration,
    /// How long to leave Zoho alone after "Access Denied".
    pub throttle_backoff: Duration,
    /// How often a waiter looks again while another process holds the lease.
    pub poll: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            margin: Duration::from_secs(60),
            lease_ttl: Duration::from_secs(10),
            throttle_backoff: Duration::from_secs(60),
            poll: Duration::from_millis(100),
        }
    }
}

/// Hands out access tokens, refreshing each connection's at most once per need.
pub struct Coordinator {
    vault: Vault,
    oauth: OAuthClient,
    settings: Settings,
    /// This process's name in the lease column.
    holder: String,
    cache: Mutex<HashMap<String, AccessToken>>,
    /// Per connection, the newest generation Zoho answered 401 to: no token of it or older is
    /// sent again. An entry lives from that 401 until a newer token is remembered.
    refused: Mutex<HashMap<String, i64>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    throttled: Mutex<HashMap<String, i64>>,
}

impl std::fmt::Debug for Coordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coordinator")
            .field("holder", &self.holder)
            .finish()
    }
}

fn guard<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn store_error(e: crate::vault::VaultError) -> RefreshError {
    tracing::error!(error = %e, "connection store failed");
    RefreshError::Store
}

impl Coordinator {
    /// The vault the tokens come from.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn new(vault: Vault, oauth: OAuthClient, settings: Settings) -> Self {
        Coordinator {
            vault,
            oauth,
            settings,
            holder: format!("{}-{}", std::process::id(), zoho::random_token(6)),
            cache: Mutex::default(),
            refused: Mutex::default(),
            locks: Mutex::default(),
            throttled: Mutex::default(),
        }
    }

    /// Whether a token obtained at `obtained_at` and expiring at `expires_at` is still good to use:
    /// not within the margin of its expiry (the margin is at most half the token's life, so short
    /// lifetimes do not turn every call into a refresh).
    fn fresh(&self, obtained_at: i64, expires_at: i64) -> bool {
        let life = (expires_at - obtained_at).max(0);
        let margin = (self.settings.margin.as_secs() as i64).min(life / 2);
        expires_at - margin > now()
    }

    fn cached(&self, id: &ConnectionId) -> Option<AccessToken> {
        guard(&self.cache)
            .get(id.as_str())
            .filter(|t| self.fresh(t.obtained_at, t.expires_at))
            .filter(|t| !self.is_refused(id, t.generation))
            .cloned()
    }

    /// Whether Zoho already refused this generation's (or a newer one's) token.
    fn is_refused(&self, id: &ConnectionId, generation: i64) -> bool {
        guard(&self.refused)
            .get(id.as_str())
            .is_some_and(|refused| generation <= *refused)
    }

    fn lock_for(&self, id: &ConnectionId) -> Arc<tokio::sync::Mutex<()>> {
        guard(&self.locks)
            .entry(id.as_str().to_owned())
            .or_default()
            .clone()
    }

    /// A usable token from a stored row, if it has one.
    fn usable(&self, c: &Connection) -> Option<AccessToken> {
        if c.status != ConnectionStatus::Active || self.is_refused(&c.id, c.generation) {
            return None;
        }
        let obtained_at = c.last_refresh_at.unwrap_or(0).max(c.updated_at);
        let expires_at = c
            .access_expires_at
            .filter(|e| self.fresh(obtained_at, *e))?;
        let api_domain = self.oauth.dcs.endpoints(c.key.dc).ok()?.api_domain.clone();
        Some(AccessToken {
            token: c.access_token.clone()?,
            generation: c.generation,
            dc: c.key.dc,
            api_domain,
            expires_at,
            obtained_at,
            org: c.key.org.clone(),
            org_name: c.org_name.clone(),
        })
    }

    fn remember(&self, id: &ConnectionId, t: &AccessToken) {
        {
            let mut refused = guard(&self.refused);
            if refused.get(id.as_str()).is_some_and(|r| t.generation > *r) {
                refused.remove(id.as_str());
            }
        }
        guard(&self.cache).insert(id.as_str().to_owned(), t.clone());
    }

    async fn load(&self, id: &ConnectionId) -> Result<Connection, RefreshError> {
        self.vault
            .get_stored(id)
            .await
            .map_err(store_error)?
            .ok_or(RefreshError::NotFound)
    }

    /// The connection's access token, refreshed first if it is about to expire.
    pub async fn access_token(&self, id: &ConnectionId) -> Result<AccessToken, RefreshError> {
        if let Some(t) = self.cached(id) {
            return Ok(t);
        }
        let c = self.load(id).await?;
        if c.status == ConnectionStatus::NeedsReconnect {
            return Err(RefreshError::NeedsReconnect);
        }
        if let Some(t) = self.usable(&c) {
            self.remember(id, &t);
            return Ok(t);
        }
        self.refresh(id, c.generation).await
    }

    /// After Zoho answered 401 to the token of `failed_generation`: a new token — refreshed only
    /// if nobody replaced that one meanwhile.
    pub async fn after_unauthorized(
        &self,
        id: &ConnectionId,
        failed_generation: i64,
    ) -> Result<AccessToken, RefreshError> {
        // The cached token of that generation is no longer handed out (`cached` skips it).
        self.mark_refused(id, failed_generation);
        self.refresh(id, failed_generation).await
    }

    fn mark_refused(&self, id: &ConnectionId, generation: i64) {
        let mut refused = guard(&self.refused);
        let newest = refused.entry(id.as_str().to_owned()).or_insert(generation);
        *newest = (*newest).max(generation);
    }

    /// Invalidates the token this process cached for `id` (after a disconnect, say), and its
    /// refresh lock if nobody holds it, so the maps stay as large as the connections in use.
    pub fn invalidate(&self, id: &ConnectionId) {
        guard(&self.cache).remove(id.as_str());
        self.forget_notes(|c| c == id.as_str());
    }

    /// Invalidates every cached token (changes to connections may have been missed).
    pub fn invalidate_all(&self) {
        guard(&self.cache).clear();
        self.forget_notes(|_| true);
    }

    /// Forgets the refresh locks nobody holds of the connections `which` picks, and every
    /// throttle that is over. (A refused generation stays until a newer token replaces it.)
    fn forget_notes(&self, which: impl Fn(&str) -> bool) {
        let now = now();
        guard(&self.throttled).retain(|_, until| *until > now);
        guard(&self.locks).retain(|c, lock| !which(c) || Arc::strong_count(lock) > 1);
    }

    /// Refreshes unless the connection has moved past `seen` already.
    async fn refresh(&self, id: &ConnectionId, seen: i64) -> Result<AccessToken, RefreshError> {
        let lock = self.lock_for(id);
        let _one_per_process = lock.lock().await;
        if let Some(t) = self.cached(id).filter(|t| t.generation > seen) {
            return Ok(t);
        }
        let give_up = tokio::time::Instant::now() + self.settings.lease_ttl * 3;
        loop {
            let c = self.load(id).await?;
            if c.status == ConnectionStatus::NeedsReconnect {
                return Err(RefreshError::NeedsReconnect);
            }
            if c.generation > seen
                && let Some(t) = self.usable(&c)
            {
                self.remember(id, &t);
                return Ok(t);
            }
            let now = now();
            if let Some(retry_at) = guard(&self.throttled).get(id.as_str()).copied()
                && retry_at > now
            {
                return Err(RefreshError::Throttled { retry_at });
            }
            if let Some(retry_at) = c.budget.blocked_until(now) {
                return Err(RefreshError::Throttled { retry_at });
            }
            let ttl = self.settings.lease_ttl.as_secs().max(1) as i64;
            if self
                .vault
                .try_lease(id, &self.holder, ttl)
                .await
                .map_err(store_error)?
            {
                // Another process may have finished a refresh just before we took the lease.
                let c = self.load(id).await?;
                if c.generation > seen
                    && let Some(t) = self.usable(&c)
                {
                    let _ = self.vault.release_lease(id, &self.holder).await;
                    self.remember(id, &t);
                    return Ok(t);
                }
                return self.refresh_holding_lease(c).await;
            }
            if tokio::time::Instant::now() > give_up {
                return Err(RefreshError::Unavailable);
            }
            tokio::time::sleep(self.settings.poll).await;
        }
    }

    async fn refresh_holding_lease(&self, c: Connection) -> Result<AccessToken, RefreshError> {
        let release = || async {
            if let Err(e) = self.vault.release_lease(&c.id, &self.holder).await {
                tracing::error!(error = %e, "could not release a refresh lease");
            }
        };
        let Some(refresh_token) = c.refresh_token.clone() else {
            let _ = self
                .vault
                .set_status(&c.id, ConnectionStatus::NeedsReconnect, c.generation)
                .await;
            release().await;
            return Err(RefreshError::NeedsReconnect);
        };
        match self.oauth.refresh(c.key.dc, &refresh_token).await {
            Ok(grant) => {
                let obtained_at = now();
                let expires_at = obtained_at + grant.expires_in;
                let stored = self
                    .vault
                    .store_refresh(&c, &self.holder, &grant.access_token, expires_at)
                    .await
                    .map_err(store_error)?;
                if !stored {
                    tracing::warn!("the refresh lease expired before the new token was stored");
                }
                meter::refresh("ok");
                tracing::info!(dc = %c.key.dc, "access token refreshed");
                let t = AccessToken {
                    token: grant.access_token,
                    generation: c.generation + 1,
                    dc: c.key.dc,
                    api_domain: grant.api_domain,
                    expires_at,
                    obtained_at,
                    org: c.key.org.clone(),
                    org_name: c.org_name.clone(),
                };
                self.remember(&c.id, &t);
                Ok(t)
            }
            Err(OAuthError::Token(TokenError::InvalidCode)) => {
                meter::refresh("refused");
                let marked = self
                    .vault
                    .set_status(&c.id, ConnectionStatus::NeedsReconnect, c.generation)
                    .await
                    .map_err(store_error)?;
                release().await;
                if !marked {
                    // Signed in again while this refresh ran: the new sign-in's token stands.
                    tracing::info!(dc = %c.key.dc, "a refused refresh token was replaced meanwhile");
                    let fresh = self.load(&c.id).await?;
                    let t = self.usable(&fresh).ok_or(RefreshError::Unavailable)?;
                    self.remember(&c.id, &t);
                    return Ok(t);
                }
                tracing::warn!(dc = %c.key.dc, "Zoho refused the refresh token: connection needs reconnect");
                self.invalidate(&c.id);
                Err(RefreshError::NeedsReconnect)
            }
            Err(OAuthError::Token(TokenError::Throttled)) => {
                meter::refresh("throttled");
                let retry_at = now() + self.settings.throttle_backoff.as_secs().max(1) as i64;
                tracing::warn!(dc = %c.key.dc, retry_at, "Zoho is limiting refreshes; backing off");
                guard(&self.throttled).insert(c.id.as_str().to_owned(), retry_at);
                release().await;
                Err(RefreshError::Throttled { retry_at })
            }
            Err(e) => {
                meter::refresh("unavailable");
                tracing::warn!(error = %e, "refresh failed");
                release().await;
                Err(RefreshError::Unavailable)
            }
        }
    }
}

#[async_trait]
impl TokenSource for Coordinator {
    async fn access_token(&self, id: &ConnectionId) -> Result<AccessToken, RefreshError> {
        Coordinator::access_token(self, id).await
    }

    async fn after_unauthorized(
        &self,
        id: &ConnectionId,
        generation: i64,
    ) -> Result<AccessToken, RefreshError> {
        Coordinator::after_unauthorized(self, id, generation).await
    }
}
