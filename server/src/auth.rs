//! Sign in with Zoho (design.md, "The flow"): `start` puts a single-use state and PKCE verifier in
//! the session and sends the browser to the data center's authorization page; `callback` takes
//! them out again, checks everything Zoho sent back against the pinned table before any secret
//! leaves the server, exchanges the code, learns the user and org, and stores the connection.
//! Sign out, disconnect and switch are plain form POSTs.

use axum::Router;
use axum::extract::{Form, Query, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;
use zoho::crm::{self, CrmError};
use zoho::oauth::{CallbackQuery, OAuthError, TokenError};
use zoho::vault::{ConnectionKey, ConnectionStatus, NewConnection};
use zoho::{ConnectionId, DataCenter, DcError, Secret};

use app::ssr::{ACCOUNTS, Accounts, PENDING_SIGN_IN, PendingSignIn};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/zoho/start", get(start))
        .route("/auth/zoho/callback", get(callback))
        .route("/auth/signout", post(sign_out))
        .route("/auth/disconnect", post(disconnect))
        .route("/auth/switch", post(switch))
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
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
pub enum Refusal {
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

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::UnknownDc => "unknown_dc",
            Refusal::StateMissing => "state_missing",
            Refusal::StateMismatch => "state_mismatch",
            Refusal::Expired => "expired",
            Refusal::AccessDenied => "access_denied",
            Refusal::DcNotAllowed => "dc_not_allowed",
            Refusal::BadResponse => "bad_response",
            Refusal::ExchangeFailed => "exchange_failed",
            Refusal::ClientRejected => "client_rejected",
            Refusal::Throttled => "zoho_throttled",
            Refusal::Unavailable => "zoho_unavailable",
            Refusal::NoRefreshToken => "no_refresh_token",
            Refusal::ServerError => "server_error",
        }
    }

    fn page(self) -> Response {
        tracing::info!(reason = self.code(), "sign-in refused");
        see_other(&format!("/auth/error?reason={}", self.code()))
    }
}

impl From<OAuthError> for Refusal {
    fn from(e: OAuthError) -> Self {
        tracing::warn!(error = %e, "Zoho token call failed");
        match e {
            OAuthError::Token(TokenError::Throttled) => Refusal::Throttled,
            OAuthError::Token(TokenError::InvalidClient | TokenError::InvalidClientSecret) => {
                Refusal::ClientRejected
            }
            OAuthError::Token(_) => Refusal::ExchangeFailed,
            OAuthError::Status(_) | OAuthError::Timeout | OAuthError::Transport(_) => {
                Refusal::Unavailable
            }
            OAuthError::Malformed(_) => Refusal::BadResponse,
            OAuthError::DataCenter(_) => Refusal::DcNotAllowed,
        }
    }
}

impl From<CrmError> for Refusal {
    fn from(e: CrmError) -> Self {
        match e {
            CrmError::Http(e) => e.into(),
            CrmError::Api(crm::ApiError::Other { status: 500.., .. }) => {
                tracing::warn!("Zoho's identity call failed on its side");
                Refusal::Unavailable
            }
            CrmError::Api(crm::ApiError::TooManyRequests) => {
                tracing::warn!("Zoho is limiting identity calls");
                Refusal::Throttled
            }
            // The token Zoho just issued, refused (evicted already, say): signing in again helps.
            CrmError::Api(crm::ApiError::InvalidToken) => {
                tracing::warn!("Zoho refused the token it had just issued");
                Refusal::ExchangeFailed
            }
            CrmError::Api(e) => {
                tracing::warn!(error = %e, "Zoho identity call failed");
                Refusal::BadResponse
            }
            // Sign-in calls Zoho with the token it was just given, never through the refresher.
            CrmError::Token(_) => Refusal::ServerError,
        }
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
) -> Response {
    let dcs = &state.oauth.dcs;
    let dc = match params.dc.as_deref() {
        Some(loc) => match loc.parse::<DataCenter>() {
            Ok(dc) if dcs.endpoints(dc).is_ok() => dc,
            _ => return Refusal::UnknownDc.page(),
        },
        None => dcs.default_dc(),
    };
    begin(
        &state,
        &session,
        dc,
        safe_return_to(params.return_to.as_deref()),
        false,
    )
    .await
}

/// Stores a new pending sign-in and sends the browser to Zoho.
async fn begin(
    state: &AppState,
    session: &Session,
    dc: DataCenter,
    return_to: String,
    consent: bool,
) -> Response {
    let started = match state.oauth.start(dc, consent) {
        Ok(s) => s,
        Err(e) => return Refusal::from(e).page(),
    };
    let pending = PendingSignIn {
        state: started.state.expose().to_owned(),
        verifier: started.verifier.expose().to_owned(),
        dc: dc.location().to_owned(),
        return_to,
        consent,
        started_at: now(),
    };
    if let Err(e) = session.insert(PENDING_SIGN_IN, pending).await {
        tracing::error!(error = %e, "session store failed");
        return Refusal::ServerError.page();
    }
    see_other(&started.url)
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
) -> Response {
    match complete(&state, &session, query.as_deref().unwrap_or("")).await {
        Ok(response) => response,
        Err(refusal) => refusal.page(),
    }
}

async fn complete(state: &AppState, session: &Session, query: &str) -> Result<Response, Refusal> {
    // Single use: the pending sign-in leaves the session before anything is compared.
    let pending: PendingSignIn = session
        .remove(PENDING_SIGN_IN)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "session store failed");
            Refusal::ServerError
        })?
        .ok_or(Refusal::StateMissing)?;
    let params = CallbackQuery::parse(query).map_err(|_| Refusal::BadResponse)?;
    let sent_state = params.state.as_deref().ok_or(Refusal::StateMissing)?;
    if !same_secret(sent_state, &pending.state) {
        return Err(Refusal::StateMismatch);
    }
    if now() - pending.started_at > state.config.sign_in_ttl.as_secs() as i64 {
        return Err(Refusal::Expired);
    }
    if let Some(error) = params.error.as_deref() {
        return Err(if error == "access_denied" {
            Refusal::AccessDenied
        } else {
            Refusal::BadResponse
        });
    }
    // Mix-up defence: the data center must be enabled and its accounts server the pinned one.
    let dc = state
        .oauth
        .dcs
        .verify_callback(
            params.location.as_deref().ok_or(Refusal::BadResponse)?,
            params
                .accounts_server
                .as_deref()
                .ok_or(Refusal::BadResponse)?,
        )
        .map_err(|e| {
            tracing::warn!(error = %e, "callback data center refused");
            match e {
                DcError::UnknownLocation(_) | DcError::NotEnabled(_) => Refusal::DcNotAllowed,
                _ => Refusal::DcNotAllowed,
            }
        })?;
    let code = Secret::new(params.code.ok_or(Refusal::BadResponse)?);

    let grant = state
        .oauth
        .exchange(dc, &code, &Secret::new(pending.verifier.clone()))
        .await?;
    let user = crm::current_user(&state.http, grant.api(dc), &grant.access_token).await?;
    let org = crm::org(&state.http, grant.api(dc), &grant.access_token).await?;
    let key = ConnectionKey {
        client_id: state.oauth.config.client_id.clone(),
        dc,
        org: org.zgid.clone(),
        user: user.zuid.clone(),
    };

    // Zoho keeps at most 20 refresh tokens per user and silently evicts the oldest, so a returning
    // user is not asked for a new one; only when none came and none usable is stored do we go
    // round once more with prompt=consent.
    if grant.refresh_token.is_none() {
        let stored = state.vault.find(&key).await.map_err(|e| {
            tracing::error!(error = %e, "connection store failed");
            Refusal::ServerError
        })?;
        let usable = stored
            .is_some_and(|c| c.refresh_token.is_some() && c.status == ConnectionStatus::Active);
        if !usable {
            if pending.consent {
                return Err(Refusal::NoRefreshToken);
            }
            return Ok(begin(state, session, dc, pending.return_to, true).await);
        }
    }

    let connection = state
        .vault
        .save_sign_in(NewConnection::from_grant(
            key,
            grant,
            user,
            org,
            &state.oauth.config.scopes,
        ))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "connection store failed");
            Refusal::ServerError
        })?;
    // This process may still hold the token of an earlier sign-in: the new one replaces it.
    state.crm.tokens().forget(&connection.id);

    let mut accounts = load_accounts(session).await?;
    if accounts.connections.is_empty() {
        accounts.signed_in_at = now();
    }
    accounts.add(connection.id.as_str());
    let stored = async {
        session.insert(ACCOUNTS, accounts).await?;
        // A new session id at sign-in: a fixated or leaked pre-sign-in id is worth nothing.
        session.cycle_id().await
    };
    stored.await.map_err(|e| {
        tracing::error!(error = %e, "session store failed");
        Refusal::ServerError
    })?;
    tracing::info!(dc = %dc, "signed in");
    Ok(see_other(&pending.return_to))
}

/// This session's accounts. A store failure is reported, never mistaken for "signed out".
async fn load_accounts(session: &Session) -> Result<Accounts, Refusal> {
    session
        .get::<Accounts>(ACCOUNTS)
        .await
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            tracing::error!(error = %e, "session store failed");
            Refusal::ServerError
        })
}

async fn sign_out(session: Session) -> Response {
    if let Err(e) = session.flush().await {
        tracing::error!(error = %e, "session store failed");
    }
    see_other("/")
}

#[derive(Debug, Deserialize)]
struct ConnectionForm {
    connection: Option<String>,
    return_to: Option<String>,
}

async fn disconnect(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ConnectionForm>,
) -> Response {
    let mut accounts = match load_accounts(&session).await {
        Ok(a) => a,
        Err(refusal) => return refusal.page(),
    };
    let Some(id) = form.connection.or_else(|| accounts.active.clone()) else {
        return see_other("/");
    };
    // Only a connection this browser holds can be disconnected from it.
    if !accounts.contains(&id) {
        return see_other("/");
    }
    let connection_id = ConnectionId::new(id.clone());
    match state.vault.get(&connection_id).await {
        Ok(Some(c)) => {
            if let Some(rt) = &c.refresh_token
                && let Err(e) = state.oauth.revoke(c.key.dc, rt).await
            {
                tracing::warn!(error = %e, "revoking at Zoho failed; deleting the connection anyway");
            }
            state.crm.tokens().forget(&connection_id);
            if let Err(e) = state.vault.delete(&connection_id).await {
                tracing::error!(error = %e, "connection store failed");
                return Refusal::ServerError.page();
            }
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "connection store failed");
            return Refusal::ServerError.page();
        }
    }
    accounts.remove(&id);
    let result = if accounts.connections.is_empty() {
        session.flush().await
    } else {
        session.insert(ACCOUNTS, accounts).await
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "session store failed");
    }
    see_other("/")
}

async fn switch(session: Session, Form(form): Form<ConnectionForm>) -> Response {
    let mut accounts = match load_accounts(&session).await {
        Ok(a) => a,
        Err(refusal) => return refusal.page(),
    };
    if let Some(id) = form.connection.filter(|id| accounts.contains(id)) {
        accounts.active = Some(id);
        if let Err(e) = session.insert(ACCOUNTS, accounts).await {
            tracing::error!(error = %e, "session store failed");
        }
    }
    see_other(&safe_return_to(form.return_to.as_deref()))
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
