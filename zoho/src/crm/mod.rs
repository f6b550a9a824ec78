//! The Zoho CRM v8 API: how a call is sent and its refusals read (here), who the signed-in user
//! is and which org they belong to ([`identity`]), module and field metadata ([`metadata`]) and
//! records ([`records`]), read as text where a page shows text ([`text`]). [`CrmClient`] makes
//! the calls of a connection with the tokens a [`TokenSource`] hands it.

pub mod activities;
pub mod attachments;
pub mod bulk;
pub mod convert;
pub mod identity;
pub mod metadata;
pub mod notes;
pub mod records;
pub mod related;
pub mod select;
pub mod text;
pub mod totals;
pub mod users;
pub mod views;
pub mod watch;

use std::sync::Arc;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use async_trait::async_trait;

use crate::budget::{Admission, Budget, OrgKey};
use crate::call::{Body, Call, Resource};
use crate::http::{Api, HttpError};
use crate::ids::ConnectionId;
use crate::meter::{Outcome, Timer};
use crate::secret::Secret;
use crate::tokens::{AccessToken, RefreshError, TokenSource};

pub use identity::{CurrentUser, Org};

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
    Http(#[from] HttpError),
    #[error(transparent)]
    Token(#[from] RefreshError),
    /// 429s outlasted the retries: the org's API credits for the day are spent, and zportal
    /// leaves Zoho alone for it until `retry_at` (Unix seconds).
    #[error("Zoho's daily API limit for {org_name} is used up")]
    BudgetSpent { org_name: String, retry_at: i64 },
}

impl From<reqwest::Error> for CrmError {
    fn from(e: reqwest::Error) -> Self {
        CrmError::Http(e.into())
    }
}

impl CrmError {
    /// A read that failed this way may be tried again: Zoho was slow or out of reach.
    fn is_transient(&self) -> bool {
        matches!(self, CrmError::Http(e) if e.is_transient())
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<String>,
}

/// Sends `call` and returns the status and body of any answer that is not an authorization or
/// rate-limit refusal: those become errors here, so the token layer can act on them.
pub(crate) async fn send(
    http: &reqwest::Client,
    api: Api<'_>,
    call: Call<'_>,
    token: &Secret,
) -> Result<(u16, bytes::Bytes), CrmError> {
    let timer = Timer::start(api.dc, call.resource.endpoint());
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
    let res = request(http, api_domain, call, token)?.send().await?;
    let status = res.status().as_u16();
    let body = res.bytes().await?;
    if status == 401 || status == 429 {
        return Err(api_error(status, &body).into());
    }
    Ok((status, body))
}

/// The HTTP request of `call`, with the token and the body.
fn request(
    http: &reqwest::Client,
    api_domain: &str,
    call: Call<'_>,
    token: &Secret,
) -> Result<reqwest::RequestBuilder, CrmError> {
    let mut req = http
        .request(
            call.method(),
            format!("{api_domain}/crm/v8/{}", call.path()),
        )
        .header(
            "Authorization",
            format!("Zoho-oauthtoken {}", token.expose()),
        );
    if let Some(since) = call.since {
        req = req.header("If-Modified-Since", httpdate::fmt_http_date(since));
    }
    match call.body {
        Body::None => {}
        Body::Json(body) => req = req.json(body),
        Body::File(file) => {
            let part = |mime: &str| {
                reqwest::multipart::Part::stream(file.bytes.clone())
                    .file_name(file.file_name.clone())
                    .mime_str(mime)
            };
            let part = part(&file.content_type).or_else(|_| part("application/octet-stream"))?;
            req = req.multipart(reqwest::multipart::Form::new().part("file", part));
        }
    }
    Ok(req)
}

/// Sends `call` and hands back the answer with its body unread (a download), once an
/// authorization or rate-limit refusal has been ruled out.
async fn send_streaming(
    http: &reqwest::Client,
    api: Api<'_>,
    call: Call<'_>,
    token: &Secret,
) -> Result<reqwest::Response, CrmError> {
    let timer = Timer::start(api.dc, call.resource.endpoint());
    let res = request(http, api.domain, call, token)?.send().await;
    let res = match res {
        Ok(res) => res,
        Err(e) => {
            timer.done(Outcome::Transport);
            return Err(e.into());
        }
    };
    let status = res.status().as_u16();
    timer.done(Outcome::of_status(status));
    if status == 401 || status == 429 {
        let body = res.bytes().await.unwrap_or_default();
        return Err(api_error(status, &body).into());
    }
    Ok(res)
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
    serde_json::from_slice(&body).map_err(|_| HttpError::Malformed("CRM response").into())
}

/// The pauses before a failed CRM read is tried again (two retries in all).
pub const READ_RETRIES: [std::time::Duration; 2] = [
    std::time::Duration::from_millis(100),
    std::time::Duration::from_millis(400),
];

/// Whether a call's answer is read ([`CrmClient::call`]) or handed on unread (a download).
#[derive(Clone, Copy, Debug)]
enum How {
    Buffered,
    Streaming,
}

/// A call's answer, read or not.
enum Answer {
    Buffered(u16, bytes::Bytes),
    Streaming(reqwest::Response),
}

/// What runs between a CRM method and Zoho: zportal puts a response cache and the publishing
/// of writes there ([`CrmClient::with_layer`]); without one, every call goes to Zoho.
#[async_trait]
pub trait CallLayer: Send + Sync + std::fmt::Debug {
    /// Answers `call` for connection `id`, sending it with [`CrmClient::send`] when it must.
    async fn call(
        &self,
        crm: &CrmClient,
        id: &ConnectionId,
        call: Call<'_>,
    ) -> Result<(u16, bytes::Bytes), CrmError>;
}

/// CRM calls made for a connection: the token comes from a [`TokenSource`], and a 401
/// `INVALID_TOKEN` gets one refresh (unless another call already replaced the token) and one
/// retry. Every call takes its turn in the connection's queue and spends the org's budget
/// ([`Budget`]); a [`CallLayer`], if one is set, sits in front of Zoho.
#[derive(Debug, Clone)]
pub struct CrmClient {
    http: reqwest::Client,
    tokens: Arc<dyn TokenSource>,
    metadata: Arc<metadata::Metadata>,
    budget: Arc<Budget>,
    layer: Option<Arc<dyn CallLayer>>,
}

impl CrmClient {
    pub fn new(http: reqwest::Client, tokens: Arc<dyn TokenSource>, budget: Arc<Budget>) -> Self {
        CrmClient {
            http,
            metadata: Arc::default(),
            tokens,
            budget,
            layer: None,
        }
    }

    /// The same client, spending `budget`.
    pub fn with_budget(self, budget: Arc<Budget>) -> Self {
        CrmClient { budget, ..self }
    }

    /// The same client, its calls answered through `layer`.
    pub fn with_layer(self, layer: Arc<dyn CallLayer>) -> Self {
        CrmClient {
            layer: Some(layer),
            ..self
        }
    }

    fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn metadata(&self) -> &metadata::Metadata {
        &self.metadata
    }

    /// Where this client's access tokens come from.
    pub fn tokens(&self) -> &dyn TokenSource {
        self.tokens.as_ref()
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// A read of `resource` with `query`'s parameters for connection `id`, its JSON answer.
    pub async fn read<T: DeserializeOwned>(
        &self,
        id: &ConnectionId,
        resource: &Resource,
        query: &str,
    ) -> Result<T, CrmError> {
        json_body(self.call(id, Call::read(resource, query)).await?)
    }

    /// The same read, from Zoho whatever a layer would answer.
    pub async fn read_now<T: DeserializeOwned>(
        &self,
        id: &ConnectionId,
        resource: &Resource,
        query: &str,
    ) -> Result<T, CrmError> {
        json_body(self.send(id, Call::read(resource, query)).await?)
    }

    /// Sends `call` for connection `id` through the layer, if any; the answer's status and
    /// body, whatever the status, unless the token was refused twice or Zoho is limiting
    /// requests.
    pub async fn call(
        &self,
        id: &ConnectionId,
        call: Call<'_>,
    ) -> Result<(u16, bytes::Bytes), CrmError> {
        match &self.layer {
            Some(layer) => layer.call(self, id, call).await,
            None => self.send(id, call).await,
        }
    }

    /// The org whose budget (and records) a call of connection `id` touches.
    pub async fn org_key(&self, id: &ConnectionId) -> Result<OrgKey, CrmError> {
        let t = self.tokens.access_token(id).await?;
        Ok(OrgKey {
            dc: t.dc,
            org: t.org,
        })
    }

    /// Sends `call` to Zoho, past any layer.
    ///
    /// A read (`GET`) that Zoho answers with a 5xx, or not at all, is tried again after each of
    /// [`READ_RETRIES`]; a write never is: Zoho may have applied one whose answer was lost.
    pub async fn send(
        &self,
        id: &ConnectionId,
        call: Call<'_>,
    ) -> Result<(u16, bytes::Bytes), CrmError> {
        let mut backoff = READ_RETRIES.iter();
        loop {
            let answer = match self.metered(id, call, How::Buffered).await {
                Ok(Answer::Buffered(status, body)) => Ok((status, body)),
                Ok(Answer::Streaming(_)) => Err(HttpError::Malformed("an unread answer").into()),
                Err(e) => Err(e),
            };
            let transient = match &answer {
                Ok((status, _)) => *status >= 500,
                Err(e) => e.is_transient(),
            };
            match backoff.next() {
                Some(pause) if transient && call.method() == reqwest::Method::GET => {
                    tracing::debug!(
                        endpoint = call.resource.endpoint().as_str(),
                        "retrying a CRM read"
                    );
                    tokio::time::sleep(*pause).await;
                }
                _ => return answer,
            }
        }
    }

    /// Sends `call` for connection `id` and answers with the response, its body unread; a 401
    /// `INVALID_TOKEN` gets one refresh and one retry, as [`Self::call`].
    pub(crate) async fn stream(
        &self,
        id: &ConnectionId,
        call: Call<'_>,
    ) -> Result<reqwest::Response, CrmError> {
        match self.metered(id, call, How::Streaming).await? {
            Answer::Streaming(res) => Ok(res),
            Answer::Buffered(..) => Err(HttpError::Malformed("a read answer").into()),
        }
    }

    /// Sends `call` once with `t`, reading the answer or not as `how` says.
    async fn send_once(
        &self,
        how: How,
        call: Call<'_>,
        t: &AccessToken,
    ) -> Result<Answer, CrmError> {
        match how {
            How::Buffered => send(&self.http, t.api(), call, &t.token)
                .await
                .map(|(status, body)| Answer::Buffered(status, body)),
            How::Streaming => send_streaming(&self.http, t.api(), call, &t.token)
                .await
                .map(Answer::Streaming),
        }
    }

    /// Runs `send` with the connection's access token in the connection's turn: refused at once
    /// while the org's credits are spent; its 401 refreshed once; its 429 tried again after a
    /// jittered pause, in a new turn, a bounded number of times — past them, the org's credits
    /// are taken to be spent. The wait for a turn counts against the call's time.
    async fn metered(
        &self,
        id: &ConnectionId,
        call: Call<'_>,
        how: How,
    ) -> Result<Answer, CrmError> {
        let deadline = tokio::time::Instant::now() + self.budget.longest_call();
        let mut t = self.tokens.access_token(id).await?;
        let org = OrgKey {
            dc: t.dc,
            org: t.org.clone(),
        };
        let probe = match self.budget.admit(&org) {
            Admission::Go => false,
            Admission::Probe => true,
            Admission::Refused { retry_at } => {
                return Err(CrmError::BudgetSpent {
                    org_name: t.org_name,
                    retry_at,
                });
            }
        };
        let settings = self.budget.settings();
        let mut refused = 0;
        let mut first_refused = None;
        loop {
            let started = tokio::time::Instant::now();
            let turn = self.budget.turn(id).await?;
            let left = settings.queue_wait.saturating_sub(started.elapsed());
            let first = tokio::time::timeout(left, self.send_once(how, call, &t))
                .await
                .unwrap_or(Err(HttpError::Timeout.into()));
            let answer = match first {
                Err(CrmError::Api(ApiError::InvalidToken)) => {
                    t = self.tokens.after_unauthorized(id, t.generation).await?;
                    self.send_once(how, call, &t).await
                }
                other => other,
            };
            if let Err(CrmError::Api(ApiError::TooManyRequests)) = answer {
                turn.refused();
                drop(turn);
                let since = *first_refused.get_or_insert(started);
                if probe
                    || (refused >= settings.retries && !self.budget.answered_since(&org, since))
                {
                    return Err(CrmError::BudgetSpent {
                        org_name: t.org_name,
                        retry_at: self.budget.spent(&org),
                    });
                }
                // Past the retries (Zoho busy, not spent) the pauses stop growing.
                let pause = self
                    .budget
                    .pause(refused.min(settings.retries.saturating_sub(1)));
                if tokio::time::Instant::now() + pause + self.budget.attempt() > deadline {
                    // Slow turns, not a spent budget: say Zoho is limiting, and stop in time.
                    return Err(ApiError::TooManyRequests.into());
                }
                tokio::time::sleep(pause).await;
                refused += 1;
                t = self.tokens.access_token(id).await?;
                continue;
            }
            self.budget.retried(&org, u64::from(refused));
            match &answer {
                Err(CrmError::Http(_)) if probe => self.budget.probe_lost(&org),
                Err(CrmError::Http(_)) => {}
                _ => {
                    turn.answered();
                    self.budget.answered(&org);
                    if probe {
                        self.budget.recovered(&org);
                    }
                    if !matches!(
                        answer,
                        Err(CrmError::Api(
                            ApiError::InvalidToken | ApiError::ScopeMismatch
                        ))
                    ) {
                        self.budget.spend(&org, call.credits());
                    }
                }
            }
            return answer;
        }
    }
}
