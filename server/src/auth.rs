//! Sign in with Zoho (README, "Sign in with Zoho"): `start` puts a single-use state and PKCE verifier in
//! the session and sends the browser to the data center's authorization page; `callback` takes
//! them out again, checks everything Zoho sent back against the pinned table before any secret
//! leaves the server, exchanges the code, learns the user and org, and stores the connection.
//! Sign out, disconnect and switch are plain form POSTs.

use axum::Router;
use axum::extract::{Form, Query, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use keeper::vault::VaultError;
use keeper::{SignInError, SignedIn};
use serde::Deserialize;
use tower_sessions::Session;
use zoho::clock::now;
use zoho::crm::{ApiError, CrmError};
use zoho::http::HttpError;
use zoho::oauth::{CallbackQuery, OAuthError, TokenError};
use zoho::{ConnectionId, DataCenter, DcError, Secret};

use app::session::{PendingSignIn, SessionAccounts, SessionRejection};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/zoho/start", get(start))
        .route("/auth/zoho/callback", get(callback))
        .route("/auth/signout", post(sign_out))
        .route("/auth/disconnect", post(disconnect))
        .route("/auth/switch", post(switch))
}

/// A 303 that leaks nothing: no referrer to the next page, nothing cached.
fn see_other(location: &str) -> Response {
    let mut res = Redirect::to(location).into_response();
    let h = res.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Why a sign-in was refused; each becomes `/auth/error?reason=<code>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    UnknownDc,
    StateMissing,
    StateMismatch,
    Expired,
    AccessDenied,
    DcNotAllowed,
    BadResponse,
    ExchangeFailed,
    ClientRejected,
    Throttled,
    Unavailable,
    NoRefreshToken,
    ServerError,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::UnknownDc => "unknown_dc",
            Reason::StateMissing => "state_missing",
            Reason::StateMismatch => "state_mismatch",
            Reason::Expired => "expired",
            Reason::AccessDenied => "access_denied",
            Reason::DcNotAllowed => "dc_not_allowed",
            Reason::BadResponse => "bad_response",
            Reason::ExchangeFailed => "exchange_failed",
            Reason::ClientRejected => "client_rejected",
            Reason::Throttled => "zoho_throttled",
            Reason::Unavailable => "zoho_unavailable",
            Reason::NoRefreshToken => "no_refresh_token",
            Reason::ServerError => "server_error",
        }
    }
}

/// A refused sign-in: the reason the browser is shown, and the cause, which only the log gets —
/// once, when the refusal becomes the redirect to the error page.
#[derive(Debug)]
pub struct Refusal {
    pub reason: Reason,
    cause: Option<String>,
}

impl Refusal {
    fn because(reason: Reason, cause: impl std::fmt::Display) -> Self {
        Refusal {
            reason,
            cause: Some(cause.to_string()),
        }
    }
}

impl From<Reason> for Refusal {
    fn from(reason: Reason) -> Self {
        Refusal {
            reason,
            cause: None,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let reason = self.reason.code();
        let cause = self.cause.as_deref().unwrap_or("-");
        match self.reason {
            Reason::ServerError => tracing::error!(reason, cause, "sign-in failed"),
            Reason::Unavailable
            | Reason::Throttled
            | Reason::BadResponse
            | Reason::ExchangeFailed
            | Reason::ClientRejected
            | Reason::DcNotAllowed => {
                tracing::warn!(reason, cause, "sign-in refused")
            }
            _ => tracing::info!(reason, cause, "sign-in refused"),
        }
        see_other(&format!("/auth/error?reason={reason}"))
    }
}

impl From<OAuthError> for Refusal {
    fn from(e: OAuthError) -> Self {
        let reason = match &e {
            OAuthError::Token(TokenError::Throttled) => Reason::Throttled,
            OAuthError::Token(TokenError::InvalidClient | TokenError::InvalidClientSecret) => {
                Reason::ClientRejected
            }
            OAuthError::Token(_) => Reason::ExchangeFailed,
            OAuthError::Http(HttpError::Malformed(_)) => Reason::BadResponse,
            OAuthError::Http(_) => Reason::Unavailable,
            OAuthError::DataCenter(_) => Reason::DcNotAllowed,
        };
        Refusal::because(reason, e)
    }
}

impl From<CrmError> for Refusal {
    fn from(e: CrmError) -> Self {
        let reason = match &e {
            CrmError::Http(HttpError::Malformed(_)) => Reason::BadResponse,
            CrmError::Http(_) => Reason::Unavailable,
            CrmError::Api(ApiError::Other { status: 500.., .. }) => Reason::Unavailable,
            CrmError::Api(ApiError::TooManyRequests) | CrmError::BudgetSpent { .. } => {
                Reason::Throttled
            }
            // The token Zoho just issued, refused (evicted already, say): signing in again helps.
            CrmError::Api(ApiError::InvalidToken) => Reason::ExchangeFailed,
            CrmError::Api(_) => Reason::BadResponse,
            // Sign-in calls Zoho with the token it was just given, never through the refresher.
            CrmError::Token(_) => Reason::ServerError,
        };
        Refusal::because(reason, e)
    }
}

impl From<SignInError> for Refusal {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::Identity(e) => e.into(),
            SignInError::Store(e) => e.into(),
        }
    }
}

impl From<VaultError> for Refusal {
    fn from(e: VaultError) -> Self {
        Refusal::because(Reason::ServerError, format!("connection store: {e}"))
    }
}

impl From<tower_sessions::session::Error> for Refusal {
    fn from(e: tower_sessions::session::Error) -> Self {
        Refusal::because(Reason::ServerError, format!("session store: {e}"))
    }
}

impl From<DcError> for Refusal {
    fn from(e: DcError) -> Self {
        Refusal::because(Reason::DcNotAllowed, e)
    }
}

/// A `return_to` must be a path on this site: one leading slash, nothing that a browser would
/// read as another host.
pub fn safe_return_to(candidate: Option<&str>) -> String {
    match candidate {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && p.len() <= 2048
                && !p.chars().any(|c| c.is_control() || c == '\\') =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[derive(Debug, Deserialize)]
struct StartParams {
    dc: Option<String>,
    return_to: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<StartParams>,
) -> Result<Response, Refusal> {
    let dcs = state.zoho().dcs();
    let dc = match params.dc.as_deref() {
        Some(loc) => match loc.parse::<DataCenter>() {
            Ok(dc) if dcs.endpoints(dc).is_ok() => dc,
            _ => return Err(Reason::UnknownDc.into()),
        },
        // A "Reconnect" on a page: the active connection's own data center.
        None => match loaded(SessionAccounts::load(session.clone()).await)?.active() {
            Some(id) => state
                .zoho()
                .vault
                .get(&id)
                .await?
                .map_or_else(|| dcs.default_dc(), |c| c.key.dc),
            None => dcs.default_dc(),
        },
    };
    let return_to = safe_return_to(params.return_to.as_deref());
    begin(&state, &session, dc, return_to, false).await
}

/// What a pending sign-in's sealed values are for (each opens only as what it was sealed as).
const SEALED_STATE: &str = "pending sign-in state";
const SEALED_VERIFIER: &str = "pending sign-in PKCE verifier";

/// Stores a new pending sign-in and sends the browser to Zoho.
async fn begin(
    state: &AppState,
    session: &Session,
    dc: DataCenter,
    return_to: String,
    consent: bool,
) -> Result<Response, Refusal> {
    let started = state.zoho().oauth.start(dc, consent)?;
    let pending = PendingSignIn {
        // Encrypted at rest: a copy of the session table must not finish someone's sign-in.
        state: state.zoho().vault.seal(&started.state, SEALED_STATE),
        verifier: state.zoho().vault.seal(&started.verifier, SEALED_VERIFIER),
        dc: dc.location().to_owned(),
        return_to,
        consent,
        started_at: now(),
    };
    pending.store(session).await?;
    Ok(see_other(&started.url))
}

/// Compares two secrets without an early exit on the first differing byte.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

async fn callback(
    State(state): State<AppState>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Result<Response, Refusal> {
    let query = query.as_deref().unwrap_or("");
    // Single use: the pending sign-in leaves the session before anything is compared.
    let pending = PendingSignIn::take(&session)
        .await?
        .ok_or(Reason::StateMissing)?;
    let params =
        CallbackQuery::parse(query).map_err(|e| Refusal::because(Reason::BadResponse, e))?;
    let sent_state = params.state.as_deref().ok_or(Reason::StateMissing)?;
    // A pending sign-in that no longer opens (its key rotated away) cannot be finished.
    let expected = state
        .zoho()
        .vault
        .unseal(&pending.state, SEALED_STATE)
        .map_err(|_| Reason::StateMissing)?;
    if !same_secret(sent_state, expected.expose()) {
        return Err(Reason::StateMismatch.into());
    }
    if now() - pending.started_at > state.config.store.sign_in_ttl.as_secs() as i64 {
        return Err(Reason::Expired.into());
    }
    if let Some(error) = params.error.as_deref() {
        return Err(if error == "access_denied" {
            Reason::AccessDenied.into()
        } else {
            Refusal::because(
                Reason::BadResponse,
                format!("Zoho's callback said {error:?}"),
            )
        });
    }
    // Mix-up defence: the data center must be enabled and its accounts server the pinned one.
    let location = params.location.as_deref().ok_or(Reason::BadResponse)?;
    let accounts_server = params
        .accounts_server
        .as_deref()
        .ok_or(Reason::BadResponse)?;
    let dc = state
        .zoho()
        .dcs()
        .verify_callback(location, accounts_server)?;
    let code = Secret::new(params.code.ok_or(Reason::BadResponse)?);

    let verifier = state
        .zoho()
        .vault
        .unseal(&pending.verifier, SEALED_VERIFIER)
        .map_err(|_| Reason::StateMissing)?;
    let grant = state.zoho().oauth.exchange(dc, &code, &verifier).await?;
    let connection = match state.zoho().complete_sign_in(dc, grant).await? {
        SignedIn::Stored(connection) => connection,
        SignedIn::NeedsConsent if pending.consent => return Err(Reason::NoRefreshToken.into()),
        SignedIn::NeedsConsent => {
            return begin(&state, &session, dc, pending.return_to, true).await;
        }
    };

    let mut accounts = loaded(SessionAccounts::load(session).await)?;
    // A new session id too: a fixated or leaked pre-sign-in id is worth nothing.
    accounts.signed_in(&connection.id, now()).await?;
    tracing::info!(dc = %dc, "signed in");
    Ok(see_other(&pending.return_to))
}

/// This session's accounts. A store failure is reported, never mistaken for "signed out".
fn loaded(accounts: Result<SessionAccounts, SessionRejection>) -> Result<SessionAccounts, Refusal> {
    accounts.map_err(|e| Refusal::because(Reason::ServerError, e))
}

async fn sign_out(session: Session) -> Result<Response, Refusal> {
    app::session::end(&session).await?;
    Ok(see_other("/"))
}

#[derive(Debug, Deserialize)]
struct ConnectionForm {
    connection: Option<String>,
    return_to: Option<String>,
}

async fn disconnect(
    State(state): State<AppState>,
    accounts: Result<SessionAccounts, SessionRejection>,
    Form(form): Form<ConnectionForm>,
) -> Result<Response, Refusal> {
    let mut accounts = loaded(accounts)?;
    let Some(id) = form
        .connection
        .or_else(|| accounts.accounts().active.clone())
    else {
        return Ok(see_other("/"));
    };
    // Only a connection this browser holds can be disconnected from it.
    if !accounts.accounts().contains(&id) {
        return Ok(see_other("/"));
    }
    let zoho = state.zoho();
    let connection_id = ConnectionId::new(id.clone());
    if let Some(c) = zoho.vault.get(&connection_id).await? {
        // While its token still works: the watch channel it registered goes with it.
        if let Err(e) = zoho.watches.release_connection(&connection_id).await {
            tracing::warn!(error = %e, "could not remove the connection's watch channel");
        }
        if let Some(rt) = &c.refresh_token
            && let Err(e) = zoho.oauth.revoke(c.key.dc, rt).await
        {
            tracing::warn!(error = %e, "revoking at Zoho failed; deleting the connection anyway");
        }
        zoho.tokens.invalidate(&connection_id);
        zoho.vault.delete(&connection_id).await?;
    }
    accounts.remove(&id).await?;
    Ok(see_other("/"))
}

async fn switch(
    accounts: Result<SessionAccounts, SessionRejection>,
    Form(form): Form<ConnectionForm>,
) -> Result<Response, Refusal> {
    let mut accounts = loaded(accounts)?;
    if let Some(id) = form.connection {
        accounts.switch_to(&id).await?;
    }
    Ok(see_other(&safe_return_to(form.return_to.as_deref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(safe_return_to(Some("/m/Leads?page=2")), "/m/Leads?page=2");
        for bad in [
            "https://evil.test/",
            "//evil.test/",
            "/\\evil.test",
            "evil",
            "",
            "/ok\r\nSet-Cookie: x",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_return_to(None), "/");
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
