//! Zoho Accounts OAuth 2.0 for a server-based client: the authorization URL (state + PKCE S256),
//! the code exchange, refresh and revoke. Every URL comes from the [`DcTable`]; the HTTP client
//! follows no redirects and has timeouts; Zoho's HTTP-200 error bodies become typed errors.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::dc::{DataCenter, DcError, DcTable};
use crate::http::{Api, HttpError};
use crate::ids::ClientId;
use crate::meter::{Endpoint, Outcome, Timer};
use crate::random;
use crate::secret::Secret;

/// The client's identity at Zoho and where Zoho sends the user back.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub client_id: ClientId,
    pub client_secret: Secret,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
}

/// A sign-in about to start: what goes into the session, and where to send the browser.
#[derive(Clone)]
pub struct AuthStart {
    pub state: Secret,
    pub verifier: Secret,
    pub url: String,
}

/// The URL carries the state: only its path is shown.
impl std::fmt::Debug for AuthStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthStart")
            .field("state", &self.state)
            .field("verifier", &self.verifier)
            .field("url", &self.url.split('?').next().unwrap_or_default())
            .finish()
    }
}

/// What Zoho's token endpoint said, as a closed set (no string matching in callers).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The code or refresh token is unknown, used, expired or revoked.
    #[error("Zoho refused the grant (invalid_code)")]
    InvalidCode,
    #[error("Zoho does not know this client here (invalid_client)")]
    InvalidClient,
    #[error("Zoho refused the client secret (invalid_client_secret)")]
    InvalidClientSecret,
    #[error("Zoho refused the redirect URI (invalid_redirect_uri)")]
    InvalidRedirectUri,
    /// "Access Denied": too many requests; try later. Not a revocation.
    #[error("Zoho is limiting requests (Access Denied)")]
    Throttled,
    /// Another error code; the code is Zoho's short word, never a token.
    #[error("Zoho answered with error {0:?}")]
    Other(String),
}

/// Why an OAuth call failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    DataCenter(#[from] DcError),
}

impl From<reqwest::Error> for OAuthError {
    fn from(e: reqwest::Error) -> Self {
        OAuthError::Http(e.into())
    }
}

/// Tokens from a successful exchange or refresh.
#[derive(Clone, Debug)]
pub struct TokenGrant {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    /// Seconds from now.
    pub expires_in: i64,
    pub api_domain: String,
    pub scopes: Vec<String>,
}

impl TokenGrant {
    /// Where calls with this grant's token go, for a grant obtained at `dc`.
    pub fn api(&self, dc: DataCenter) -> Api<'_> {
        Api {
            dc,
            domain: &self.api_domain,
        }
    }
}

#[derive(Deserialize)]
struct RawToken {
    access_token: Option<String>,
    refresh_token: Option<String>,
    api_domain: Option<String>,
    expires_in: Option<i64>,
    /// The legacy shape: seconds here, and `expires_in` in milliseconds.
    expires_in_sec: Option<i64>,
    scope: Option<String>,
    error: Option<String>,
}

/// Reads a token-endpoint body: Zoho reports errors with HTTP 200 and `{"error": …}`.
pub fn parse_token_response(body: &[u8]) -> Result<TokenGrant, OAuthError> {
    let raw: RawToken = serde_json::from_slice(body).map_err(|_| malformed("not a JSON object"))?;
    if let Some(error) = raw.error {
        return Err(OAuthError::Token(match error.as_str() {
            "invalid_code" => TokenError::InvalidCode,
            "invalid_client" => TokenError::InvalidClient,
            "invalid_client_secret" => TokenError::InvalidClientSecret,
            "invalid_redirect_uri" => TokenError::InvalidRedirectUri,
            "Access Denied" | "access_denied" => TokenError::Throttled,
            other => TokenError::Other(other.chars().take(64).collect()),
        }));
    }
    let access_token = raw
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or(malformed("no access_token"))?;
    let expires_in = match (raw.expires_in_sec, raw.expires_in) {
        (Some(secs), _) => secs,
        (None, Some(secs)) => secs,
        (None, None) => 3600,
    };
    Ok(TokenGrant {
        access_token: Secret::new(access_token),
        refresh_token: raw.refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
        expires_in: expires_in.max(0),
        api_domain: raw.api_domain.ok_or(malformed("no api_domain"))?,
        scopes: raw
            .scope
            .map(|s| {
                s.split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// The S256 challenge of a PKCE verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn malformed(what: &'static str) -> OAuthError {
    HttpError::Malformed(what).into()
}

fn status(code: u16) -> OAuthError {
    HttpError::Status(code).into()
}

/// Talks to Zoho Accounts for one configured client.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    /// Shared: every request's context holds a clone of this client.
    pub config: Arc<ClientConfig>,
    pub dcs: Arc<DcTable>,
    http: reqwest::Client,
}

impl OAuthClient {
    pub fn new(config: ClientConfig, dcs: Arc<DcTable>, http: reqwest::Client) -> Self {
        OAuthClient {
            config: Arc::new(config),
            dcs,
            http,
        }
    }

    /// Starts a sign-in at `dc`: fresh state and PKCE verifier, and the authorization URL.
    /// `consent` adds `prompt=consent` (only when a new refresh token is really needed).
    pub fn start(&self, dc: DataCenter, consent: bool) -> Result<AuthStart, OAuthError> {
        let endpoints = self.dcs.endpoints(dc)?;
        let state = random::token(32);
        let verifier = random::token(32);
        let mut url = url::Url::parse(&format!("{}/oauth/v2/auth", endpoints.accounts_server))
            .map_err(|_| malformed("accounts server URL"))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", self.config.client_id.as_str())
                .append_pair("scope", &self.config.scopes.join(","))
                .append_pair("redirect_uri", &self.config.redirect_uri)
                .append_pair("access_type", "offline")
                .append_pair("state", &state)
                .append_pair("code_challenge", &pkce_challenge(&verifier))
                .append_pair("code_challenge_method", "S256");
            if consent {
                q.append_pair("prompt", "consent");
            }
        }
        Ok(AuthStart {
            state: Secret::new(state),
            verifier: Secret::new(verifier),
            url: url.into(),
        })
    }

    /// POSTs a form to `dc`'s token endpoint (built from the table, never from a request).
    async fn token_call(
        &self,
        dc: DataCenter,
        endpoint: Endpoint,
        form: &[(&str, &str)],
    ) -> Result<TokenGrant, OAuthError> {
        let endpoints = self.dcs.endpoints(dc)?;
        let timer = Timer::start(dc, endpoint);
        let answer = async {
            let res = self
                .http
                .post(format!("{}/oauth/v2/token", endpoints.accounts_server))
                .form(form)
                .send()
                .await?;
            let code = res.status();
            let body = res.bytes().await?;
            if !code.is_success() {
                // A 4xx may still name Zoho's error (`invalid_code`, …): that is what it means.
                return Err(match parse_token_response(&body) {
                    Err(OAuthError::Token(e)) => OAuthError::Token(e),
                    _ => status(code.as_u16()),
                });
            }
            parse_token_response(&body)
        }
        .await;
        timer.done(outcome(&answer));
        let grant = answer?;
        self.dcs.verify_api_domain(dc, &grant.api_domain)?;
        Ok(grant)
    }

    /// Exchanges a grant code at `dc` (the data center the callback named and the table confirmed).
    pub async fn exchange(
        &self,
        dc: DataCenter,
        code: &Secret,
        verifier: &Secret,
    ) -> Result<TokenGrant, OAuthError> {
        self.token_call(
            dc,
            Endpoint::Exchange,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", self.config.client_id.as_str()),
                ("client_secret", self.config.client_secret.expose()),
                ("redirect_uri", &self.config.redirect_uri),
                ("code", code.expose()),
                ("code_verifier", verifier.expose()),
            ],
        )
        .await
    }

    /// Exchanges a self-client grant code (no redirect URI, no PKCE).
    pub async fn exchange_self_client(
        &self,
        dc: DataCenter,
        code: &Secret,
    ) -> Result<TokenGrant, OAuthError> {
        self.token_call(
            dc,
            Endpoint::Exchange,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", self.config.client_id.as_str()),
                ("client_secret", self.config.client_secret.expose()),
                ("code", code.expose()),
            ],
        )
        .await
    }

    /// Gets a new access token from a refresh token.
    pub async fn refresh(
        &self,
        dc: DataCenter,
        refresh_token: &Secret,
    ) -> Result<TokenGrant, OAuthError> {
        self.token_call(
            dc,
            Endpoint::Refresh,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", self.config.client_id.as_str()),
                ("client_secret", self.config.client_secret.expose()),
                ("refresh_token", refresh_token.expose()),
            ],
        )
        .await
    }

    /// Whether `dc`'s accounts server answers HTTP at all within `timeout` (any status will
    /// do: this is about reaching Zoho, not about what it thinks of an unauthenticated request).
    pub async fn probe(
        &self,
        dc: DataCenter,
        timeout: std::time::Duration,
    ) -> Result<(), OAuthError> {
        let endpoints = self.dcs.endpoints(dc)?;
        self.http
            .head(endpoints.accounts_server.as_str())
            .timeout(timeout)
            .send()
            .await?;
        Ok(())
    }

    /// Revokes a refresh token (and with it every access token minted from it).
    pub async fn revoke(&self, dc: DataCenter, token: &Secret) -> Result<(), OAuthError> {
        let endpoints = self.dcs.endpoints(dc)?;
        let timer = Timer::start(dc, Endpoint::Revoke);
        let answer = async {
            let res = self
                .http
                .post(format!(
                    "{}/oauth/v2/token/revoke",
                    endpoints.accounts_server
                ))
                .form(&[("token", token.expose())])
                .send()
                .await?;
            match res.status().as_u16() {
                200 => Ok(()),
                // Already gone at Zoho: what we wanted.
                400 => Ok(()),
                s => Err(status(s)),
            }
        }
        .await;
        timer.done(outcome(&answer));
        answer
    }
}

/// What Zoho's redirect to the callback carries; anything else in the query is ignored.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub location: Option<String>,
    pub accounts_server: Option<String>,
    pub error: Option<String>,
}

/// The code and the state are secrets until used: shown only as present or not.
impl std::fmt::Debug for CallbackQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let present = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("CallbackQuery")
            .field("code", &present(&self.code))
            .field("state", &present(&self.state))
            .field("location", &self.location)
            .field("accounts_server", &self.accounts_server)
            .field("error", &self.error)
            .finish()
    }
}

/// A callback query with a parameter twice (which one would we trust?) or one over 4 KB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the callback's query repeats a parameter or carries an oversized one")]
pub struct MalformedCallback;

impl CallbackQuery {
    /// The longest value any of the parameters may have.
    pub const MAX_VALUE: usize = 4096;

    pub fn parse(query: &str) -> Result<Self, MalformedCallback> {
        let mut p = CallbackQuery::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match k.as_ref() {
                "code" => &mut p.code,
                "state" => &mut p.state,
                "location" => &mut p.location,
                "accounts-server" => &mut p.accounts_server,
                "error" => &mut p.error,
                _ => continue,
            };
            if slot.is_some() || v.len() > Self::MAX_VALUE {
                return Err(MalformedCallback);
            }
            *slot = Some(v.into_owned());
        }
        Ok(p)
    }
}

/// How an OAuth call ended, for the metrics.
fn outcome<T>(answer: &Result<T, OAuthError>) -> Outcome {
    match answer {
        Ok(_) => Outcome::Ok,
        Err(OAuthError::Token(TokenError::Throttled)) => Outcome::Throttled,
        Err(OAuthError::Token(_)) => Outcome::Refused,
        Err(OAuthError::Http(HttpError::Status(status))) => Outcome::of_status(*status),
        Err(OAuthError::Http(HttpError::Timeout | HttpError::Transport(_))) => Outcome::Transport,
        Err(OAuthError::Http(HttpError::Malformed(_)) | OAuthError::DataCenter(_)) => {
            Outcome::ServerError
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn callback_parameters_must_not_repeat_or_be_huge() {
        let q = CallbackQuery::parse("code=a&state=b&location=us&accounts-server=x&other=1")
            .expect("ok");
        assert_eq!(q.code.as_deref(), Some("a"));
        assert_eq!(q.accounts_server.as_deref(), Some("x"));
        assert_eq!(
            CallbackQuery::parse("state=a&state=b"),
            Err(MalformedCallback)
        );
        let huge = format!("code={}", "x".repeat(5000));
        assert_eq!(CallbackQuery::parse(&huge), Err(MalformedCallback));
    }

    #[test]
    fn debug_shows_no_code_state_or_verifier() {
        let q = CallbackQuery::parse("code=1000.code-secret&state=state-secret&location=us")
            .expect("ok");
        let start = AuthStart {
            state: Secret::new("state-secret"),
            verifier: Secret::new("verifier-secret"),
            url: "https://accounts.zoho.com/oauth/v2/auth?state=state-secret".into(),
        };
        let shown = format!("{q:?} {start:?}");
        for secret in ["code-secret", "state-secret", "verifier-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("accounts.zoho.com/oauth/v2/auth"), "{shown}");
    }

    #[test]
    fn zoho_error_bodies_become_typed_errors() {
        let cases = [
            (r#"{"error":"invalid_code"}"#, TokenError::InvalidCode),
            (r#"{"error":"invalid_client"}"#, TokenError::InvalidClient),
            (
                r#"{"error":"invalid_client_secret"}"#,
                TokenError::InvalidClientSecret,
            ),
            (
                r#"{"error":"invalid_redirect_uri"}"#,
                TokenError::InvalidRedirectUri,
            ),
            (
                r#"{"error_description":"You have made too many requests continuously.","error":"Access Denied","status":"failure"}"#,
                TokenError::Throttled,
            ),
            (r#"{"error":"weird"}"#, TokenError::Other("weird".into())),
        ];
        for (body, expected) in cases {
            match parse_token_response(body.as_bytes()) {
                Err(OAuthError::Token(e)) => assert_eq!(e, expected, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_token_response(b"<html>"),
            Err(OAuthError::Http(HttpError::Malformed(_)))
        ));
        assert!(matches!(
            parse_token_response(b"{}"),
            Err(OAuthError::Http(HttpError::Malformed(_)))
        ));
    }

    #[test]
    fn modern_and_legacy_shapes_give_seconds() {
        let modern = parse_token_response(
            br#"{"access_token":"a","refresh_token":"r","api_domain":"https://x","token_type":"Bearer","expires_in":3600,"scope":"A B"}"#,
        )
        .expect("modern");
        assert_eq!(modern.expires_in, 3600);
        assert_eq!(modern.scopes, vec!["A", "B"]);
        assert!(modern.refresh_token.is_some());
        let legacy = parse_token_response(
            br#"{"access_token":"a","api_domain":"https://x","expires_in_sec":3600,"expires_in":3600000}"#,
        )
        .expect("legacy");
        assert_eq!(legacy.expires_in, 3600);
        assert!(legacy.refresh_token.is_none());
    }

    #[test]
    fn the_authorization_url_carries_state_pkce_and_no_prompt_unless_asked() {
        let dcs = Arc::new(DcTable::zoho(&DataCenter::ALL).expect("table"));
        let client = OAuthClient::new(
            ClientConfig {
                client_id: ClientId::new("1000.X"),
                client_secret: Secret::new("s"),
                redirect_uri: "https://app.test/auth/zoho/callback".into(),
                scopes: vec!["ZohoCRM.modules.ALL".into(), "ZohoCRM.org.READ".into()],
            },
            dcs,
            crate::http::client(Duration::from_secs(5)).expect("client"),
        );
        let start = client.start(DataCenter::Eu, false).expect("start");
        let url = url::Url::parse(&start.url).expect("url");
        assert_eq!(
            url.origin().ascii_serialization(),
            "https://accounts.zoho.eu"
        );
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["state"], start.state.expose());
        assert_eq!(q["code_challenge"], pkce_challenge(start.verifier.expose()));
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["access_type"], "offline");
        assert_eq!(q["scope"], "ZohoCRM.modules.ALL,ZohoCRM.org.READ");
        assert!(!q.contains_key("prompt"));
        assert!(!start.url.contains("client_secret"));
        let again = client.start(DataCenter::Eu, true).expect("start");
        assert!(again.url.contains("prompt=consent"));
        assert_ne!(again.state, start.state);
    }
}
