//! One Zoho watch channel per (data center, org) that has open pages, across every process: each
//! process says which orgs its streams show (`watch_channels.wanted_until`, pushed on while they
//! are open); whoever takes an org's lease registers its channel with a connection of that org,
//! renews it before it lapses, moves it to another connection when that one goes, and removes it
//! at Zoho once no process has wanted it for a while. A notification is checked against the
//! stored hash of its channel's token, in constant time, before it is believed to be one — and
//! even then it is only a hint to re-read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::vault::{StoredChannel, Vault, VaultError, WatchRow};
use zoho::budget::OrgKey;
use zoho::clock::now;
use zoho::crm::watch::ChannelSpec;
use zoho::crm::{ApiError, CrmClient, CrmError};
use zoho::ids::ConnectionId;

/// How long an org stays wanted after a process last said it has open pages of it.
const WANT_SECS: i64 = 120;
/// How long Zoho keeps a channel (its default), and how long before that zportal renews it.
const CHANNEL_SECS: i64 = 3600;
const RENEW_BEFORE_SECS: i64 = 1200;
/// How long one process may hold an org's lease while it talks to Zoho.
const LEASE_SECS: i64 = 30;

/// How the open pages of an org learn of changes made outside zportal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Zoho notifies zportal (a channel is registered, or about to be).
    Push,
    /// Zoho is not asked to notify this server (it cannot reach it, or that is switched off):
    /// the pages poll.
    PollUnreachable,
    /// The org's connections lack `ZohoCRM.notifications.ALL`: the pages poll until one has it.
    PollNoScope,
    /// Zoho refused the channel (or is out of reach now): the pages poll while zportal retries.
    PollFailed,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Push => "push",
            Mode::PollUnreachable => "poll-unreachable",
            Mode::PollNoScope => "poll-scope",
            Mode::PollFailed => "poll-failed",
        }
    }

    pub fn is_push(self) -> bool {
        self == Mode::Push
    }
}

/// The watch channels of one process; clones share them.
#[derive(Clone)]
pub struct Watches {
    inner: Arc<Inner>,
}

struct Inner {
    crm: CrmClient,
    vault: Vault,
    /// Where Zoho is to send notifications; `None` when it cannot reach this server.
    notify_url: Option<String>,
    holder: String,
    /// Per org with open streams here: the connections they act for, each with its count.
    open: Mutex<HashMap<OrgKey, HashMap<ConnectionId, usize>>>,
    modes: Mutex<HashMap<OrgKey, Mode>>,
    /// Connections being disconnected: never asked to register a channel again (their streams
    /// may still be open for a moment).
    released: Mutex<std::collections::HashSet<ConnectionId>>,
    /// Held by a round of [`Watches::tend`] and by [`Watches::release_connection`]: a channel a
    /// round is registering with a connection being released is stored before the release
    /// looks for it (else it stayed at Zoho after the disconnect, until a later round).
    round: tokio::sync::Mutex<()>,
    kick: tokio::sync::Notify,
}

impl std::fmt::Debug for Watches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watches")
            .field("notify_url", &self.inner.notify_url)
            .finish_non_exhaustive()
    }
}

fn guard<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Held while a stream of `org` is open: its drop says the stream closed.
pub struct Interest {
    watches: Watches,
    org: OrgKey,
    connection: ConnectionId,
}

impl Drop for Interest {
    fn drop(&mut self) {
        let mut open = guard(&self.watches.inner.open);
        if let Some(conns) = open.get_mut(&self.org) {
            if let Some(n) = conns.get_mut(&self.connection) {
                *n -= 1;
                if *n == 0 {
                    conns.remove(&self.connection);
                }
            }
            if conns.is_empty() {
                open.remove(&self.org);
            }
        }
    }
}

/// The SHA-256 of a channel token, as stored.
fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Watches {
    /// Channels that notify `notify_url` (`None`: Zoho cannot reach this server, so nothing is
    /// registered and pages poll).
    pub fn new(crm: CrmClient, vault: Vault, notify_url: Option<String>) -> Self {
        Watches {
            inner: Arc::new(Inner {
                crm,
                vault,
                notify_url,
                holder: format!("{}-{}", std::process::id(), zoho::random_token(6)),
                open: Mutex::default(),
                modes: Mutex::default(),
                released: Mutex::default(),
                round: tokio::sync::Mutex::new(()),
                kick: tokio::sync::Notify::new(),
            }),
        }
    }

    /// A stream of `org`, acting for `connection`, opened: the org is to be watched.
    pub fn open(&self, org: &OrgKey, connection: &ConnectionId) -> Interest {
        let first = {
            let mut open = guard(&self.inner.open);
            let conns = open.entry(org.clone()).or_default();
            let first = conns.is_empty();
            *conns.entry(connection.clone()).or_default() += 1;
            first
        };
        if first {
            self.inner.kick.notify_one();
        }
        Interest {
            watches: self.clone(),
            org: org.clone(),
            connection: connection.clone(),
        }
    }

    /// How `org`'s pages learn of changes made outside zportal, as this process last found.
    pub fn mode(&self, org: &OrgKey) -> Mode {
        if self.inner.notify_url.is_none() {
            return Mode::PollUnreachable;
        }
        guard(&self.inner.modes)
            .get(org)
            .copied()
            .unwrap_or(Mode::Push)
    }

    /// How many orgs' modes and released connections this process holds.
    pub fn tracked(&self) -> (usize, usize) {
        (
            guard(&self.inner.modes).len(),
            guard(&self.inner.released).len(),
        )
    }

    fn set_mode(&self, org: &OrgKey, mode: Mode) {
        guard(&self.inner.modes).insert(org.clone(), mode);
    }

    /// Tends the channels every `every` (and at once when an org gets its first stream here),
    /// for as long as the task runs.
    pub fn run(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let watches = self.clone();
        tokio::spawn(async move {
            loop {
                watches.tend().await;
                let _ = tokio::time::timeout(every, watches.inner.kick.notified()).await;
            }
        })
    }

    /// One round: the orgs open here are wanted and get a live channel; channels nobody wants
    /// are removed.
    pub async fn tend(&self) {
        if self.inner.notify_url.is_none() {
            return;
        }
        let _round = self.inner.round.lock().await;
        let open: Vec<(OrgKey, Vec<ConnectionId>)> = {
            let mut released = guard(&self.inner.released);
            let open = guard(&self.inner.open);
            let usable = open
                .iter()
                .map(|(org, conns)| {
                    let usable = conns.keys().filter(|c| !released.contains(*c));
                    (org.clone(), usable.cloned().collect())
                })
                .collect();
            // What only open streams need goes with the last of them: the maps stay as large
            // as what is open here, not as everything ever opened. (An org opened again after
            // that is taken to be pushed until this round finds otherwise, which its streams are
            // then told: moments, as its first stream kicks a round.)
            released.retain(|c| open.values().any(|conns| conns.contains_key(c)));
            guard(&self.inner.modes).retain(|org, _| open.contains_key(org));
            usable
        };
        for (org, connections) in open {
            if let Err(e) = self.ensure(&org, &connections).await {
                tracing::warn!(error = %e, dc = %org.dc, "could not keep the org's watch channel");
            }
        }
        if let Err(e) = self.remove_unwanted().await {
            tracing::warn!(error = %e, "could not remove unwanted watch channels");
        }
    }

    fn repo(&self) -> &dyn crate::vault::WatchRepo {
        self.inner.vault.watch_repo()
    }

    async fn ensure(&self, org: &OrgKey, candidates: &[ConnectionId]) -> Result<(), VaultError> {
        let now = now();
        self.repo().want_watch(org, now + WANT_SECS).await?;
        let row = self.repo().watch(org).await?;
        let current = row.and_then(|r| r.channel);
        if let Some(c) = &current
            && c.expires_at > now + RENEW_BEFORE_SECS
            && self
                .usable(&ConnectionId::new(c.connection_id.clone()))
                .await
        {
            self.set_mode(org, Mode::Push);
            return Ok(());
        }
        if !self
            .repo()
            .lease_watch(org, &self.inner.holder, now, now + LEASE_SECS)
            .await?
        {
            // Another process is at it.
            return Ok(());
        }
        let channel = self.register(org, current.as_ref(), candidates).await;
        self.repo()
            .store_watch(org, &self.inner.holder, channel.as_ref())
            .await?;
        Ok(())
    }

    async fn usable(&self, id: &ConnectionId) -> bool {
        matches!(self.inner.vault.get(id).await, Ok(Some(c)) if c.status == crate::vault::ConnectionStatus::Active)
    }

    /// Renews `current` with its own connection, if that still works; else registers a new
    /// channel with the first candidate Zoho takes one from. The channel now, if any.
    async fn register(
        &self,
        org: &OrgKey,
        current: Option<&StoredChannel>,
        candidates: &[ConnectionId],
    ) -> Option<StoredChannel> {
        let notify_url = self.inner.notify_url.as_deref()?;
        let token = zoho::random_token(24);
        if let Some(c) = current {
            let id = ConnectionId::new(c.connection_id.clone());
            if self.usable(&id).await
                && let Some(events) = self.events(&id).await
            {
                let spec = spec(c.channel_id, &events, notify_url, &token);
                if self.inner.crm.watch(&id, &spec, true).await.is_ok() {
                    self.set_mode(org, Mode::Push);
                    return Some(stored(&spec, &id));
                }
            }
            // Its connection went (or Zoho no longer has the channel): start afresh.
            if let Err(e) = self.inner.crm.unwatch(&id, c.channel_id).await {
                tracing::debug!(error = %e, "the old watch channel could not be removed");
            }
        }
        let mut mode = Mode::PollFailed;
        for id in candidates {
            let Some(events) = self.events(id).await else {
                continue;
            };
            let spec = spec(channel_id(), &events, notify_url, &token);
            match self.inner.crm.watch(id, &spec, false).await {
                Ok(()) => {
                    self.set_mode(org, Mode::Push);
                    return Some(stored(&spec, id));
                }
                Err(CrmError::Api(ApiError::ScopeMismatch)) => mode = Mode::PollNoScope,
                Err(e) => {
                    tracing::warn!(error = %e, dc = %org.dc, "Zoho did not take a watch channel")
                }
            }
        }
        self.set_mode(org, mode);
        None
    }

    /// What a channel of connection `id`'s org names: every module the API serves, and notes.
    async fn events(&self, id: &ConnectionId) -> Option<Vec<String>> {
        match self.inner.crm.modules(id).await {
            Ok(modules) => Some(
                modules
                    .iter()
                    .filter(|m| m.api_supported && m.api_name != "Notes")
                    .map(|m| m.api_name.as_str())
                    .chain(["Notes"])
                    .map(|m| format!("{m}.all"))
                    .collect(),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the modules to watch");
                None
            }
        }
    }

    /// Removes, at Zoho and here, the channels no process has wanted for [`WANT_SECS`].
    async fn remove_unwanted(&self) -> Result<(), VaultError> {
        let now = now();
        for row in self.repo().watches().await? {
            if row.wanted_until >= now {
                continue;
            }
            self.remove(&row, now).await?;
        }
        Ok(())
    }

    async fn remove(&self, row: &WatchRow, now: i64) -> Result<(), VaultError> {
        if !self
            .repo()
            .lease_watch(&row.org, &self.inner.holder, now, now + LEASE_SECS)
            .await?
        {
            return Ok(());
        }
        if let Some(c) = &row.channel {
            let id = ConnectionId::new(c.connection_id.clone());
            if let Err(e) = self.inner.crm.unwatch(&id, c.channel_id).await {
                tracing::debug!(error = %e, "an unwanted watch channel could not be removed at Zoho");
            }
        }
        self.repo().drop_watch(&row.org, &self.inner.holder).await
    }

    /// Before connection `id` is deleted: the channels it registered are removed at Zoho (its
    /// token still works now), and the next round registers them with another connection.
    pub async fn release_connection(&self, id: &ConnectionId) -> Result<(), VaultError> {
        guard(&self.inner.released).insert(id.clone());
        // A round under way may be registering a channel with `id` right now: it ends first.
        let _round = self.inner.round.lock().await;
        let now = now();
        for row in self.repo().watches().await? {
            let Some(c) = &row.channel else { continue };
            if c.connection_id != id.as_str() {
                continue;
            }
            if !self
                .repo()
                .lease_watch(&row.org, &self.inner.holder, now, now + LEASE_SECS)
                .await?
            {
                continue;
            }
            if let Err(e) = self.inner.crm.unwatch(id, c.channel_id).await {
                tracing::debug!(error = %e, "the watch channel could not be removed at Zoho");
            }
            self.repo()
                .store_watch(&row.org, &self.inner.holder, None)
                .await?;
        }
        self.inner.kick.notify_one();
        Ok(())
    }

    /// The org a notification of `channel_id` carrying `token` is for, if the channel is one
    /// zportal registered and the token is its own.
    pub async fn verify(&self, channel_id: i64, token: &str) -> Result<Option<OrgKey>, VaultError> {
        let Some(row) = self.repo().watch_by_channel(channel_id).await? else {
            return Ok(None);
        };
        let Some(c) = &row.channel else {
            return Ok(None);
        };
        let given = token_hash(token);
        if !bool::from(given.as_bytes().ct_eq(c.token_hash.as_bytes())) {
            return Ok(None);
        }
        Ok(Some(row.org))
    }
}

fn spec<'a>(
    channel_id: i64,
    events: &'a [String],
    notify_url: &'a str,
    token: &'a str,
) -> ChannelSpec<'a> {
    ChannelSpec {
        channel_id,
        events,
        notify_url,
        token,
    }
}

fn stored(spec: &ChannelSpec<'_>, id: &ConnectionId) -> StoredChannel {
    StoredChannel {
        channel_id: spec.channel_id,
        token_hash: token_hash(spec.token),
        connection_id: id.as_str().to_owned(),
        expires_at: now() + CHANNEL_SECS,
    }
}

/// A new channel id: positive, and unlikely to meet another app's in the same org.
fn channel_id() -> i64 {
    let mut bytes = [0u8; 8];
    rand::fill(&mut bytes);
    (i64::from_be_bytes(bytes) & i64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hashes_are_hex_sha256_and_differ_per_token() {
        let a = token_hash("abc");
        assert_eq!(a.len(), 64);
        assert_eq!(
            a,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(a, token_hash("abd"));
    }

    #[test]
    fn channel_ids_are_positive() {
        for _ in 0..1000 {
            assert!(channel_id() > 0);
        }
    }
}
