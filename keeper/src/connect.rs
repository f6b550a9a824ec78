//! The top of the crate: [`Zoho`], everything zportal needs of Zoho for one OAuth client (the
//! data-center table, the vault, CRM calls through the refresh coordinator and the response
//! cache, the live log, the watch channels), and the one
//! operation that completes a sign-in — a token grant, the user and org it belongs to, a stored
//! connection — which the callback handler and the CLI's import both end with.

use std::sync::Arc;

use zoho::budget::{Budget, BudgetSettings, OrgKey};
use zoho::clock::now;
use zoho::crm::{CrmClient, CrmError, CurrentUser, Org};
use zoho::dc::{DataCenter, DcTable};
use zoho::ids::{ConnectionId, OrgId};
use zoho::oauth::{OAuthClient, TokenGrant};

use crate::bus::Topic;
use crate::crm_layer::CrmLayer;
use crate::live::Hub;
use crate::refresh::{Coordinator, Settings};
use crate::vault::{Connection, ConnectionKey, ConnectionStatus, NewConnection, Vault, VaultError};
use crate::watch::Watches;

/// zportal's Zoho, built once per process; clones share everything.
#[derive(Clone, Debug)]
pub struct Zoho {
    pub oauth: OAuthClient,
    pub vault: Vault,
    /// CRM calls, through [`Zoho::layer`].
    pub crm: CrmClient,
    /// The access tokens of stored connections, each refreshed once per need.
    pub tokens: Arc<Coordinator>,
    /// The response cache in front of Zoho, and the publishing of writes.
    pub layer: Arc<CrmLayer>,
    /// The live log open pages follow.
    pub live: Hub,
    /// The org's watch channels (none registered until [`Zoho::notified_at`] says where).
    pub watches: Watches,
}

/// How completing a sign-in ended.
#[derive(Debug)]
pub enum SignedIn {
    /// The connection as stored, its tokens replacing any this process held for it.
    Stored(Box<Connection>),
    /// Zoho gave no refresh token (it gives none to a returning user) and none usable is
    /// stored: the user must go round once more with `prompt=consent`.
    NeedsConsent,
}

/// Why a sign-in could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Reading the user or org with the new token failed.
    #[error(transparent)]
    Identity(#[from] CrmError),
    #[error(transparent)]
    Store(#[from] VaultError),
}

impl Zoho {
    /// Wires the refresh coordinator and the CRM client over `oauth` and `vault`.
    pub fn new(
        oauth: OAuthClient,
        vault: Vault,
        http: reqwest::Client,
        settings: Settings,
    ) -> Self {
        let tokens = Arc::new(Coordinator::new(vault.clone(), oauth.clone(), settings));
        let crm = CrmClient::new(http, tokens.clone(), Arc::default());
        let live = Hub::new(vault.clone());
        let layer = Arc::new(CrmLayer::new(
            crm.budget().settings().keep_answers,
            vault.bus().clone(),
            live.clone(),
        ));
        let crm = crm.with_layer(layer.clone());
        Zoho {
            watches: Watches::new(crm.clone(), vault.clone(), None),
            crm,
            tokens,
            layer,
            live,
            oauth,
            vault,
        }
    }

    /// The same Zoho, its API budget (and how long answers are cached) tuned by `settings`.
    pub fn with_budget(mut self, settings: BudgetSettings) -> Self {
        self.layer = Arc::new(CrmLayer::new(
            settings.keep_answers,
            self.vault.bus().clone(),
            self.live.clone(),
        ));
        self.crm = self
            .crm
            .with_budget(Arc::new(Budget::new(settings)))
            .with_layer(self.layer.clone());
        self.watches = Watches::new(self.crm.clone(), self.vault.clone(), None);
        self
    }

    /// The same Zoho, asking Zoho to notify `notify_url` of changes to the records of orgs with
    /// open pages (`None`: Zoho cannot reach this server; open pages poll).
    pub fn notified_at(mut self, notify_url: Option<String>) -> Self {
        self.watches = Watches::new(self.crm.clone(), self.vault.clone(), notify_url);
        self
    }

    /// Stores the API credits this process counted every `every` (one upsert per org that
    /// spent any; what could not be stored is kept for the next round), and forgets those
    /// older than a day, for as long as the task runs.
    pub fn keep_credits(&self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let zoho = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            let mut rounds: u64 = 0;
            loop {
                tick.tick().await;
                zoho.flush_credits().await;
                rounds += 1;
                if rounds % 720 == 1
                    && let Err(e) = zoho.vault.prune_credits().await
                {
                    tracing::warn!(error = %e, "could not prune the API credits");
                }
            }
        })
    }

    /// Stores the API credits counted since the last flush.
    pub async fn flush_credits(&self) {
        let budget = self.crm.budget();
        let mut failed = Vec::new();
        for (org, used) in budget.take_unflushed() {
            if let Err(e) = self.vault.add_credits(org.dc, &org.org, used).await {
                tracing::warn!(error = %e, "could not store the API credits spent");
                failed.push((org, used));
            }
        }
        budget.give_back(failed);
    }

    /// The API credits `org` spent in the last 24 hours: what every process stored, and what
    /// this one counted since.
    pub async fn credits_used(&self, dc: DataCenter, org: &OrgId) -> Result<u64, VaultError> {
        let stored = self.vault.credits_last_day(dc, org).await?;
        let key = OrgKey {
            dc,
            org: org.clone(),
        };
        Ok(stored + self.crm.budget().unflushed(&key))
    }

    /// Keeps this process's copies of connections, their access tokens and the CRM answers it
    /// read true to what other processes change, for as long as the task runs (start the bus's
    /// listener too).
    pub fn follow(&self) -> tokio::task::JoinHandle<()> {
        let (on_change, on_resync) = (self.clone(), self.clone());
        self.vault.bus().follow_all(
            move |change| match change.topic {
                Topic::Connection => {
                    on_change.vault.invalidate(&change.key);
                    on_change.tokens.invalidate(&ConnectionId::new(change.key));
                }
                Topic::Records => {
                    if let Some((dc, org)) = change.records_of() {
                        on_change.layer.invalidate_org(&OrgKey { dc, org });
                    }
                    // Another process may have added to the live log.
                    on_change.live.wake();
                }
                Topic::Session => {}
            },
            move || {
                on_resync.vault.invalidate_all();
                on_resync.tokens.invalidate_all();
                on_resync.layer.invalidate_all();
                on_resync.live.wake();
            },
        )
    }

    /// The data centers this client may sign in at, and where each one lives.
    pub fn dcs(&self) -> &DcTable {
        &self.oauth.dcs
    }

    /// Completes a sign-in at `dc` with the tokens Zoho just granted: reads who they belong to
    /// and stores the connection — unless Zoho gave no refresh token and none usable is stored.
    pub async fn complete_sign_in(
        &self,
        dc: DataCenter,
        grant: TokenGrant,
    ) -> Result<SignedIn, SignInError> {
        let (user, org) = self
            .crm
            .identify(grant.api(dc), &grant.access_token)
            .await?;
        let key = ConnectionKey {
            client_id: self.oauth.config.client_id.clone(),
            dc,
            org: org.zgid.clone(),
            user: user.zuid.clone(),
        };
        // Zoho keeps at most 20 refresh tokens per user and silently evicts the oldest, so a
        // returning user is not asked for a new one; only when none came and none usable is
        // stored must the user consent again. A stored one granted fewer scopes than zportal
        // now asks for is not usable either: its access tokens would lack them.
        let stored = self.vault.find(&key).await?;
        if grant.refresh_token.is_none() {
            let wanted = &self.oauth.config.scopes;
            let usable = stored.as_ref().is_some_and(|c| {
                c.refresh_token.is_some()
                    && c.status == ConnectionStatus::Active
                    && wanted
                        .iter()
                        .all(|w| c.scopes.iter().any(|g| g.eq_ignore_ascii_case(w)))
            });
            if !usable {
                return Ok(SignedIn::NeedsConsent);
            }
        }
        // A new refresh token replaces the stored one: the old one still counts towards Zoho's
        // 20 per user, and it would still work for whoever holds it.
        let replaced = stored
            .and_then(|c| c.refresh_token)
            .filter(|old| grant.refresh_token.as_ref().is_some_and(|new| new != old));
        let new = new_connection(key, grant, user, org, &self.oauth.config.scopes);
        let connection = self.vault.save_sign_in(new).await?;
        // This process may still hold the token of an earlier sign-in: the new one replaces it.
        self.tokens.invalidate(&connection.id);
        if let Some(old) = replaced
            && let Err(e) = self.oauth.revoke(dc, &old).await
        {
            tracing::warn!(error = %e, %dc, "could not revoke the replaced refresh token at Zoho");
        }
        Ok(SignedIn::Stored(Box::new(connection)))
    }
}

/// What a grant and the user and org it belongs to say about a connection. Zoho may leave
/// `scope` out of its answer: then the scopes asked for.
fn new_connection(
    key: ConnectionKey,
    grant: TokenGrant,
    user: CurrentUser,
    org: Org,
    requested_scopes: &[String],
) -> NewConnection {
    let scopes = if grant.scopes.is_empty() {
        requested_scopes.to_vec()
    } else {
        grant.scopes
    };
    NewConnection {
        key,
        email: user.email,
        org_name: org.name,
        scopes,
        refresh_token: grant.refresh_token,
        access_token: grant.access_token,
        access_expires_at: now() + grant.expires_in,
    }
}
