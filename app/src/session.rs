//! The session's contents, typed, and the one place that reads or writes its keys: the accounts
//! this browser is signed in with ([`Accounts`]), a sign-in under way ([`PendingSignIn`]), the
//! data center it chose and when its idle expiry last moved. Handlers and server functions take
//! one of two extractors: [`SessionAccounts`] (the accounts: sign-in, sign-out, switch,
//! disconnect) and [`ActiveConnection`] (the active account's stored connection: server
//! functions, file downloads, the live stream). Server side only.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use keeper::Zoho;
use keeper::vault::{Connection, VaultError};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use zoho::{ConnectionId, DataCenter};

use crate::AppError;

/// The session key of [`Accounts`].
const ACCOUNTS: &str = "accounts";
/// The session key of [`PendingSignIn`].
const PENDING_SIGN_IN: &str = "sign_in";
/// The session key of the data center this browser chose.
const PREFERRED_DC: &str = "preferred_dc";
/// The session key of when its idle expiry was last moved (Unix milliseconds).
const TOUCHED: &str = "touched_ms";

/// The Zoho accounts this browser is signed in with: connection ids only, never a token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounts {
    pub connections: Vec<String>,
    pub active: Option<String>,
    /// When this browser first signed in (Unix seconds), for the absolute timeout.
    pub signed_in_at: i64,
}

impl Accounts {
    /// Adds (or re-adds) a connection and makes it the active one.
    pub fn add(&mut self, id: &str) {
        if !self.connections.iter().any(|c| c == id) {
            self.connections.push(id.to_owned());
        }
        self.active = Some(id.to_owned());
    }

    /// Removes a connection; the first remaining one becomes active.
    pub fn remove(&mut self, id: &str) {
        self.connections.retain(|c| c != id);
        if self.active.as_deref() == Some(id) || self.active.is_none() {
            self.active = self.connections.first().cloned();
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.connections.iter().any(|c| c == id)
    }
}

/// A sign-in between `/auth/zoho/start` and the callback. Single use: the callback takes it
/// before comparing anything.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// The OAuth state, sealed with the token key (never stored readable).
    pub state: String,
    /// The PKCE verifier, sealed the same way.
    pub verifier: String,
    pub dc: String,
    pub return_to: String,
    /// Whether this round asked for `prompt=consent`.
    pub consent: bool,
    pub started_at: i64,
}

impl PendingSignIn {
    /// Keeps this sign-in in `session` until its callback.
    pub async fn store(self, session: &Session) -> Result<(), tower_sessions::session::Error> {
        session.insert(PENDING_SIGN_IN, self).await
    }

    /// Takes the sign-in under way out of `session` (it is used once, whatever comes of it).
    pub async fn take(session: &Session) -> Result<Option<Self>, tower_sessions::session::Error> {
        session.remove(PENDING_SIGN_IN).await
    }
}

/// This request's session, from a server function (created lazily: nothing is stored until
/// something is written).
pub async fn current_session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "session layer missing");
        AppError::Internal
    })
}

/// Ends `session`, whatever it holds: sign-out reads nothing first, so a session whose contents
/// no longer read is ended all the same.
pub async fn end(session: &Session) -> Result<(), tower_sessions::session::Error> {
    session.flush().await
}

/// Whether a stored session record (its data, as the store holds it) is a signed-in one.
pub fn holds_accounts(data: &HashMap<String, serde_json::Value>) -> bool {
    data.contains_key(ACCOUNTS)
}

/// The accounts a stored session's data holds, if someone is signed in to it: how an open live
/// stream learns that its session ended or moved to another account.
pub fn accounts_in(data: &HashMap<String, serde_json::Value>) -> Option<Accounts> {
    serde_json::from_value(data.get(ACCOUNTS)?.clone()).ok()
}

/// The data center this browser chose on the sign-in page, if any.
pub async fn preferred_dc(
    session: &Session,
) -> Result<Option<DataCenter>, tower_sessions::session::Error> {
    let stored: Option<String> = session.get(PREFERRED_DC).await?;
    Ok(stored.and_then(|s| s.parse().ok()))
}

/// Remembers the data center this browser chose.
pub async fn prefer_dc(
    session: &Session,
    dc: DataCenter,
) -> Result<(), tower_sessions::session::Error> {
    session.insert(PREFERRED_DC, dc.location()).await
}

/// Moves a session's idle expiry forward if it was last moved at least `every_ms` before
/// `now_ms` (a change makes tower-sessions save the record with a fresh expiry).
pub async fn touch(session: &Session, now_ms: i64, every_ms: i64) {
    let touched = session
        .get::<i64>(TOUCHED)
        .await
        .ok()
        .flatten()
        .unwrap_or(0);
    if now_ms - touched >= every_ms {
        let _ = session.insert(TOUCHED, now_ms).await;
    }
}

/// Why the session could not say who is signed in.
#[derive(Debug, thiserror::Error)]
pub enum SessionRejection {
    #[error("the session store failed: {0}")]
    Session(#[from] tower_sessions::session::Error),
    /// The session layer is not in front of this route: a wiring bug.
    #[error("no session layer")]
    NoLayer,
    #[error(transparent)]
    Store(#[from] VaultError),
    #[error("nobody is signed in")]
    SignedOut,
}

impl From<SessionRejection> for AppError {
    fn from(e: SessionRejection) -> Self {
        match e {
            SessionRejection::Session(e) => e.into(),
            SessionRejection::Store(e) => e.into(),
            SessionRejection::NoLayer => {
                tracing::error!("session layer missing");
                AppError::Internal
            }
            SessionRejection::SignedOut => AppError::Unauthenticated,
        }
    }
}

impl axum::response::IntoResponse for SessionRejection {
    fn into_response(self) -> axum::response::Response {
        let e = AppError::from(self);
        let status = axum::http::StatusCode::from_u16(e.http_status())
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, e.to_string()).into_response()
    }
}

/// The session's accounts, read once, and the changes sign-in, switch, disconnect and sign-out
/// make to them.
#[derive(Debug)]
pub struct SessionAccounts {
    session: Session,
    accounts: Accounts,
    /// Whether the session held accounts at all (someone signed in through it).
    stored: bool,
}

impl SessionAccounts {
    /// The accounts `session` holds (none when signed out). A store failure is reported, never
    /// taken for "signed out".
    pub async fn load(session: Session) -> Result<Self, SessionRejection> {
        let stored = session.get::<Accounts>(ACCOUNTS).await?;
        Ok(SessionAccounts {
            session,
            stored: stored.is_some(),
            accounts: stored.unwrap_or_default(),
        })
    }

    /// This request's, from a server function.
    pub async fn current() -> Result<Self, SessionRejection> {
        let session = leptos_axum::extract::<Session>()
            .await
            .map_err(|_| SessionRejection::NoLayer)?;
        Self::load(session).await
    }

    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// When this browser first signed in (Unix seconds), if it did.
    pub fn signed_in_at(&self) -> Option<i64> {
        self.stored.then_some(self.accounts.signed_in_at)
    }

    /// The active account's connection id, if someone is signed in.
    pub fn active(&self) -> Option<ConnectionId> {
        self.accounts.active.clone().map(ConnectionId::new)
    }

    /// A sign-in completed with connection `id` at `now` (Unix seconds): it joins the accounts
    /// as the active one, and the session gets a new id (a fixated or leaked pre-sign-in id is
    /// worth nothing).
    pub async fn signed_in(
        &mut self,
        id: &ConnectionId,
        now: i64,
    ) -> Result<(), tower_sessions::session::Error> {
        if self.accounts.connections.is_empty() {
            self.accounts.signed_in_at = now;
        }
        self.accounts.add(id.as_str());
        self.session.insert(ACCOUNTS, &self.accounts).await?;
        self.stored = true;
        self.session.cycle_id().await
    }

    /// Makes `id` the active account, if this browser holds it; whether it did.
    pub async fn switch_to(&mut self, id: &str) -> Result<bool, tower_sessions::session::Error> {
        if !self.accounts.contains(id) {
            return Ok(false);
        }
        self.accounts.active = Some(id.to_owned());
        self.session.insert(ACCOUNTS, &self.accounts).await?;
        Ok(true)
    }

    /// Drops account `id` from this browser; with none left, the session ends.
    pub async fn remove(&mut self, id: &str) -> Result<(), tower_sessions::session::Error> {
        self.accounts.remove(id);
        if self.accounts.connections.is_empty() {
            self.session.flush().await
        } else {
            self.session.insert(ACCOUNTS, &self.accounts).await
        }
    }

    /// Ends the session: every account of this browser is signed out.
    pub async fn sign_out(self) -> Result<(), tower_sessions::session::Error> {
        self.session.flush().await
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SessionAccounts {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| SessionRejection::NoLayer)?;
        Self::load(session).await
    }
}

/// The active account's stored connection: someone is signed in, and their connection exists.
#[derive(Clone, Debug)]
pub struct ActiveConnection(pub Connection);

impl ActiveConnection {
    /// The active connection of `accounts`, read from `zoho`'s vault.
    pub async fn of(accounts: &SessionAccounts, zoho: &Zoho) -> Result<Self, SessionRejection> {
        let id = accounts.active().ok_or(SessionRejection::SignedOut)?;
        let connection = zoho
            .vault
            .get(&id)
            .await?
            .ok_or(SessionRejection::SignedOut)?;
        Ok(ActiveConnection(connection))
    }

    /// This request's, from a server function.
    pub async fn current() -> Result<Self, AppError> {
        let ctx = crate::context::server_context()?;
        let accounts = SessionAccounts::current().await?;
        let found = crate::context::timed("connection", Self::of(&accounts, &ctx.zoho)).await;
        Ok(found?)
    }

    pub fn id(&self) -> &ConnectionId {
        &self.0.id
    }
}

impl<S> FromRequestParts<S> for ActiveConnection
where
    S: Send + Sync,
    Arc<Zoho>: FromRef<S>,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let accounts = SessionAccounts::from_request_parts(parts, state).await?;
        Self::of(&accounts, &Arc::<Zoho>::from_ref(state)).await
    }
}
