//! What the server hands every server function (through the Leptos context): Zoho, this
//! request's session, and the session's contents (shared with the server's sign-in handlers,
//! which write them). Server side only.

use keeper::Zoho;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::AppError;

/// What the server gives every server function and SSR render, through `provide_context`.
#[derive(Clone)]
pub struct ServerContext {
    /// Shared: the context is cloned into every request.
    pub zoho: std::sync::Arc<Zoho>,
    /// How long a press of Save may hold its form's claim in the save ledger: longer than the
    /// Zoho calls one save can make (a refresh and the insert tried again, each with a timeout).
    pub save_hold: std::time::Duration,
}

/// Where one request's time went, for the `Server-Timing` header: present in the request's
/// extensions only when the server was asked to time requests (`ZPORTAL_SERVER_TIMING=1`).
#[derive(Clone, Debug, Default)]
pub struct Timings(std::sync::Arc<std::sync::Mutex<Vec<(&'static str, std::time::Duration)>>>);

impl Timings {
    /// Adds `took` to `part`.
    pub fn add(&self, part: &'static str, took: std::time::Duration) {
        let mut parts = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match parts.iter_mut().find(|(p, _)| *p == part) {
            Some((_, sum)) => *sum += took,
            None => parts.push((part, took)),
        }
    }

    /// `part;dur=<ms>` for each part, then `total` (everything the server spent on the request).
    pub fn header(&self, total: std::time::Duration) -> String {
        let parts = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        parts
            .iter()
            .map(|(p, d)| format!("{p};dur={:.3}", ms(*d)))
            .chain(std::iter::once(format!("total;dur={:.3}", ms(total))))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs `work`, counting its time as this request's `part` when the request is timed.
pub async fn timed<T>(part: &'static str, work: impl std::future::Future<Output = T>) -> T {
    let timings = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Timings>().cloned());
    let start = std::time::Instant::now();
    let out = work.await;
    if let Some(t) = timings {
        t.add(part, start.elapsed());
    }
    out
}

/// The nonce the server minted for this response's Content-Security-Policy header.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// Puts this response's CSP nonce where Leptos' inline scripts (hydration, streamed resources)
/// look for it; without it the browser would refuse to run them.
pub fn provide_csp_nonce() {
    if let Some(parts) = use_context::<http::request::Parts>()
        && let Some(CspNonce(nonce)) = parts.extensions.get::<CspNonce>()
    {
        provide_context(leptos::nonce::Nonce::from_value(nonce.as_str()));
    }
}

/// The session key of [`Accounts`].
pub const ACCOUNTS: &str = "accounts";
/// The session key of [`PendingSignIn`].
pub const PENDING_SIGN_IN: &str = "sign_in";

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

/// A sign-in between `/auth/zoho/start` and the callback. Single use: the callback removes it
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

/// The server's context; its absence is a wiring bug, reported as an internal error.
pub fn server_context() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>().ok_or_else(|| {
        tracing::error!("ServerContext missing from the Leptos context");
        AppError::Internal
    })
}

/// This request's session (created lazily: nothing is stored until something is written).
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "session layer missing");
        AppError::Internal
    })
}

/// The accounts this session holds (empty when signed out).
pub async fn accounts(session: &Session) -> Result<Accounts, AppError> {
    Ok(session.get::<Accounts>(ACCOUNTS).await?.unwrap_or_default())
}

/// The active connection of this browser's session, or `Unauthenticated`.
pub async fn active_connection() -> Result<keeper::vault::Connection, AppError> {
    let ctx = server_context()?;
    let session = session().await?;
    let id = accounts(&session)
        .await?
        .active
        .ok_or(AppError::Unauthenticated)?;
    timed(
        "connection",
        ctx.zoho.vault.get(&zoho::ConnectionId::new(id)),
    )
    .await?
    .ok_or(AppError::Unauthenticated)
}
