//! The Zoho CRM v8 API: who the signed-in user is and which org they belong to (the sign-in needs
//! both to key the connection). Records come with their own issue.

use serde::Deserialize;

use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::dc::DataCenter;
use crate::ids::{ConnectionId, OrgId, UserId};
use crate::meter::{Endpoint, Outcome, Timer};
use crate::oauth::OAuthError;
use crate::records::Metadata;
use crate::refresh::{Coordinator, RefreshError};
use crate::secret::Secret;

/// What the API refused, as Zoho's error code says.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("the access token is not valid (INVALID_TOKEN)")]
    InvalidToken,
    #[error("the token lacks a scope this call needs (OAUTH_SCOPE_MISMATCH)")]
    ScopeMismatch,
    #[error("Zoho is limiting requests")]
    TooManyRequests,
    #[error("Zoho answered HTTP {status} {code}")]
    Other { status: u16, code: String },
    #[error("Zoho had nothing to return")]
    NoContent,
}

/// Why a CRM call failed.
#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Http(#[from] OAuthError),
    #[error(transparent)]
    Token(#[from] RefreshError),
}

impl From<reqwest::Error> for CrmError {
    fn from(e: reqwest::Error) -> Self {
        CrmError::Http(OAuthError::from(e))
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<String>,
}

/// The signed-in user, from `users?type=CurrentUser`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentUser {
    pub zuid: UserId,
    pub email: String,
    pub full_name: String,
}

/// The user's org, from `org`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Org {
    pub zgid: OrgId,
    pub name: String,
}

/// Where a connection's API calls go: its data center and the `api_domain` Zoho gave it.
#[derive(Clone, Copy, Debug)]
pub struct Api<'a> {
    pub dc: DataCenter,
    pub domain: &'a str,
}

/// A request to `{api_domain}/crm/v8/{path}`: its method and JSON body, if any.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    pub method: &'a reqwest::Method,
    pub path: &'a str,
    pub body: Option<&'a serde_json::Value>,
}

/// Sends `call` and returns the status and body of any answer that is not an authorization or
/// rate-limit refusal: those become errors here, so the token layer can act on them.
async fn send(
    http: &reqwest::Client,
    api: Api<'_>,
    call: Call<'_>,
    token: &Secret,
) -> Result<(u16, bytes::Bytes), CrmError> {
    let timer = Timer::start(api.dc, Endpoint::of_crm_path(call.path));
    let answer = send_untimed(http, api.domain, call, token).await;
    timer.done(match &answer {
        Ok((status, _)) => Outcome::of_status(*status),
        Err(CrmError::Api(ApiError::InvalidToken | ApiError::ScopeMismatch)) => {
            Outcome::Unauthorized
        }
        Err(CrmError::Api(ApiError::TooManyRequests)) => Outcome::Throttled,
        Err(CrmError::Api(ApiError::Other { status, .. })) => Outcome::of_status(*status),
        Err(_) => Outcome::Transport,
    });
    answer
}

async fn send_untimed(
    http: &reqwest::Client,
    api_domain: &str,
    call: Call<'_>,
    token: &Secret,
) -> Result<(u16, bytes::Bytes), CrmError> {
    let mut req = http
        .request(
            call.method.clone(),
            format!("{api_domain}/crm/v8/{}", call.path),
        )
        .header(
            "Authorization",
            format!("Zoho-oauthtoken {}", token.expose()),
        );
    if let Some(body) = call.body {
        req = req.json(body);
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    let body = res.bytes().await?;
    if status == 401 || status == 429 {
        return Err(api_error(status, &body).into());
    }
    Ok((status, body))
}

/// Zoho's error for a failed answer, from its status and `code`.
pub(crate) fn api_error(status: u16, body: &[u8]) -> ApiError {
    let code = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.code)
        .unwrap_or_default();
    match (status, code.as_str()) {
        (401, "INVALID_TOKEN") => ApiError::InvalidToken,
        (401, "OAUTH_SCOPE_MISMATCH") => ApiError::ScopeMismatch,
        (429, _) => ApiError::TooManyRequests,
        _ => ApiError::Other {
            status,
            code: code.chars().take(64).collect(),
        },
    }
}

/// Reads a successful answer's JSON body; 204 is [`ApiError::NoContent`].
pub(crate) fn json_body<T: DeserializeOwned>(
    (status, body): (u16, bytes::Bytes),
) -> Result<T, CrmError> {
    if status == 204 {
        return Err(ApiError::NoContent.into());
    }
    if !(200..300).contains(&status) {
        return Err(api_error(status, &body).into());
    }
    serde_json::from_slice(&body).map_err(|_| OAuthError::Malformed("CRM response").into())
}

/// Sends a GET to `{api_domain}/crm/v8/{path}` and reads the JSON body, mapping Zoho's errors.
async fn get_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    api: Api<'_>,
    path: &str,
    token: &Secret,
) -> Result<T, CrmError> {
    let call = Call {
        method: &reqwest::Method::GET,
        path,
        body: None,
    };
    json_body(send(http, api, call, token).await?)
}

#[derive(Deserialize)]
struct UsersBody {
    users: Vec<UserBody>,
}

#[derive(Deserialize)]
struct UserBody {
    zuid: String,
    email: String,
    full_name: Option<String>,
}

#[derive(Deserialize)]
struct OrgBody {
    org: Vec<OrgEntry>,
}

#[derive(Deserialize)]
struct OrgEntry {
    zgid: String,
    company_name: Option<String>,
}

/// `GET users?type=CurrentUser`: the email is `users[0].email`, the identity `users[0].zuid`.
pub async fn current_user(
    http: &reqwest::Client,
    api: Api<'_>,
    token: &Secret,
) -> Result<CurrentUser, CrmError> {
    let body: UsersBody = get_json(http, api, "users?type=CurrentUser", token).await?;
    let user = body.users.into_iter().next().ok_or(ApiError::NoContent)?;
    Ok(CurrentUser {
        zuid: UserId::new(user.zuid),
        full_name: user.full_name.unwrap_or_else(|| user.email.clone()),
        email: user.email,
    })
}

/// `GET org`: the identity is `org[0].zgid` (as the SDK keys it), not `org[0].id`.
pub async fn org(http: &reqwest::Client, api: Api<'_>, token: &Secret) -> Result<Org, CrmError> {
    let body: OrgBody = get_json(http, api, "org", token).await?;
    let org = body.org.into_iter().next().ok_or(ApiError::NoContent)?;
    Ok(Org {
        zgid: OrgId::new(org.zgid),
        name: org.company_name.unwrap_or_default(),
    })
}

/// The pauses before a failed CRM read is tried again (two retries in all).
pub const READ_RETRIES: [std::time::Duration; 2] = [
    std::time::Duration::from_millis(100),
    std::time::Duration::from_millis(400),
];

/// CRM calls made for a stored connection: the token comes from the [`Coordinator`], and a 401
/// `INVALID_TOKEN` gets one refresh (unless another call already replaced the token) and one retry.
#[derive(Debug, Clone)]
pub struct CrmClient {
    http: reqwest::Client,
    tokens: Arc<Coordinator>,
    metadata: Arc<Metadata>,
}

impl CrmClient {
    pub fn new(http: reqwest::Client, tokens: Arc<Coordinator>) -> Self {
        CrmClient {
            http,
            tokens,
            metadata: Arc::default(),
        }
    }

    pub(crate) fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    pub fn tokens(&self) -> &Coordinator {
        &self.tokens
    }

    /// `GET {api}/crm/v8/{path}` for connection `id`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        id: &ConnectionId,
        path: &str,
    ) -> Result<T, CrmError> {
        let call = Call {
            method: &reqwest::Method::GET,
            path,
            body: None,
        };
        json_body(self.call(id, call).await?)
    }

    /// Sends `call` for connection `id`; the answer's status and body, whatever the status,
    /// unless the token was refused twice or Zoho is limiting requests.
    ///
    /// A read (`GET`) that Zoho answers with a 5xx, or not at all, is tried again after each of
    /// [`READ_RETRIES`]; a write never is: Zoho may have applied one whose answer was lost.
    pub async fn call(
        &self,
        id: &ConnectionId,
        call: Call<'_>,
    ) -> Result<(u16, bytes::Bytes), CrmError> {
        let mut backoff = READ_RETRIES.iter();
        loop {
            let answer = self.call_once(id, call).await;
            let transient = match &answer {
                Ok((status, _)) => *status >= 500,
                Err(CrmError::Http(OAuthError::Timeout | OAuthError::Transport(_))) => true,
                Err(_) => false,
            };
            match backoff.next() {
                Some(pause) if transient && *call.method == reqwest::Method::GET => {
                    tracing::debug!(path = call.path.split('?').next(), "retrying a CRM read");
                    tokio::time::sleep(*pause).await;
                }
                _ => return answer,
            }
        }
    }

    async fn call_once(
        &self,
        id: &ConnectionId,
        call: Call<'_>,
    ) -> Result<(u16, bytes::Bytes), CrmError> {
        let t = self.tokens.access_token(id).await?;
        match send(&self.http, t.api(), call, &t.token).await {
            Err(CrmError::Api(ApiError::InvalidToken)) => {
                let t = self.tokens.after_unauthorized(id, t.generation).await?;
                send(&self.http, t.api(), call, &t.token).await
            }
            other => other,
        }
    }

    /// The connection's org, read live from Zoho.
    pub async fn org(&self, id: &ConnectionId) -> Result<Org, CrmError> {
        let body: OrgBody = self.get(id, "org").await?;
        let org = body.org.into_iter().next().ok_or(ApiError::NoContent)?;
        Ok(Org {
            zgid: OrgId::new(org.zgid),
            name: org.company_name.unwrap_or_default(),
        })
    }
}
