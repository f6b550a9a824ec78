//! The Zoho CRM v8 API: how a call is sent and its refusals read (here), who the signed-in user
//! is and which org they belong to ([`identity`]), module and field metadata ([`metadata`]) and
//! records ([`records`]), read as text where a page shows text ([`text`]). [`CrmClient`] makes the calls of a stored connection through the
//! refresh [`Coordinator`].

mod answers;
pub mod attachments;
pub mod identity;
pub mod metadata;
pub mod notes;
pub mod records;
pub mod related;
pub mod text;
pub mod totals;
pub mod watch;

use std::sync::Arc;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::budget::{Admission, Budget, OrgKey};
use crate::bus::Change;
use crate::call::{Body, Call, Resource};
use crate::http::{Api, HttpError};
use crate::ids::ConnectionId;
use crate::meter::{Outcome, Timer};
use crate::refresh::{AccessToken, Coordinator, RefreshError};
use crate::secret::Secret;

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

/// `zoho_answers_reused_total{dc,how}`: reads answered without Zoho running them again:
/// `kept` (served from what was read moments ago) or `not_modified` (Zoho's 304).
pub const ANSWERS_REUSED: &str = "zoho_answers_reused_total";

/// CRM calls made for a stored connection: the token comes from the [`Coordinator`], and a 401
/// `INVALID_TOKEN` gets one refresh (unless another call already replaced the token) and one
/// retry. Every call takes its turn in the connection's queue and spends the org's budget
/// ([`Budget`]); a read's answer is served again for a few seconds ([`answers`]).
#[derive(Debug, Clone)]
pub struct CrmClient {
    http: reqwest::Client,
    tokens: Arc<Coordinator>,
    metadata: Arc<metadata::Metadata>,
    budget: Arc<Budget>,
    answers: Arc<answers::Answers>,
    live: crate::live::Hub,
}

impl CrmClient {
    pub fn new(http: reqwest::Client, tokens: Arc<Coordinator>, budget: Arc<Budget>) -> Self {
        CrmClient {
            http,
            metadata: Arc::default(),
            answers: Arc::new(answers::Answers::new(budget.settings().keep_answers)),
            live: crate::live::Hub::new(tokens.vault().clone()),
            tokens,
            budget,
        }
    }

    /// The same client, spending `budget` (and keeping answers as long as it says).
    pub fn with_budget(self, budget: Arc<Budget>) -> Self {
        CrmClient {
            answers: Arc::new(answers::Answers::new(budget.settings().keep_answers)),
            budget,
            ..self
        }
    }

    /// Records of `org` changed through another process: what was read of them here before is
    /// not served again.
    pub fn records_changed_elsewhere(&self, org: &OrgKey) {
        self.answers.changed(org);
    }

    /// Changes may have been missed: no answer read before is served again.
    pub fn forget_answers(&self) {
        self.answers.forget_all();
    }

    /// The live log this client's writes go into, and open pages read.
    pub fn live(&self) -> &crate::live::Hub {
        &self.live
    }

    fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn metadata(&self) -> &metadata::Metadata {
        &self.metadata
    }

    pub fn tokens(&self) -> &Coordinator {
        &self.tokens
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

    /// The same read, from Zoho whatever was read before.
    pub async fn read_now<T: DeserializeOwned>(
        &self,
        id: &ConnectionId,
        resource: &Resource,
        query: &str,
    ) -> Result<T, CrmError> {
        json_body(self.call_anew(id, Call::read(resource, query)).await?)
    }

    /// Sends `call` for connection `id`; the answer's status and body, whatever the status,
    /// unless the token was refused twice or Zoho is limiting requests.
    ///
    /// A read of records answered moments ago is answered the same again, unless the org's
    /// records were written through zportal since; a write ends that for everyone of its org,
    /// in every process.
    pub async fn call(
        &self,
        id: &ConnectionId,
        call: Call<'_>,
    ) -> Result<(u16, bytes::Bytes), CrmError> {
        if self.answers.enabled() && call.reads_record_data() {
            return self.call_kept(id, call).await;
        }
        if call.changes_records() {
            let org = self.org_key(id).await?;
            // Ended whatever the outcome: a write whose answer was lost may still have landed.
            let answer = self.call_anew(id, call).await;
            let body = answer.as_ref().ok().map(|(_, body)| body.as_ref());
            self.records_changed(&org, crate::live::changed_by(&org, &call, body))
                .await;
            return answer;
        }
        self.call_anew(id, call).await
    }

    /// The org whose budget (and records) a call of connection `id` touches.
    async fn org_key(&self, id: &ConnectionId) -> Result<OrgKey, CrmError> {
        let t = self.tokens.access_token(id).await?;
        Ok(OrgKey {
            dc: t.dc,
            org: t.org,
        })
    }

    /// Tells this process and the others that `org`'s records changed — and the open pages
    /// what, when the call says (a write whose answer was lost says nothing for sure).
    pub async fn records_changed(&self, org: &OrgKey, changed: Option<crate::live::Changed>) {
        self.answers.changed(org);
        if let Some(changed) = changed
            && let Err(e) = self.live.wrote(&changed).await
        {
            tracing::warn!(error = %e, "could not tell the open pages of a write");
        }
        self.tell_other_processes(org).await;
    }

    /// Tells the other processes that `org`'s records changed: they drop what they kept of them.
    pub async fn tell_other_processes(&self, org: &OrgKey) {
        let change = Change::records(org.dc, &org.org);
        if let Err(e) = self.tokens.bus().publish(change).await {
            // Other processes serve what they read before for a few seconds more at most.
            tracing::warn!(error = %e, "could not tell the other processes of a write");
        }
    }

    /// A read of records: what was answered moments ago if it still holds, else Zoho's answer
    /// (one call for all the same reads that arrive meanwhile), kept for the next.
    async fn call_kept(
        &self,
        id: &ConnectionId,
        call: Call<'_>,
    ) -> Result<(u16, bytes::Bytes), CrmError> {
        let org = self.org_key(id).await?;
        let reused = |how: &'static str| {
            metrics::counter!(ANSWERS_REUSED, "dc" => org.dc.location(), "how" => how).increment(1);
        };
        let read = answers::Read::of(&call);
        let since = match self.answers.lookup(id, &org, &read) {
            answers::Lookup::Fresh(status, body) => {
                reused("kept");
                return Ok((status, body));
            }
            answers::Lookup::Revalidate { since } => Some(since),
            answers::Lookup::Miss => None,
        };
        let _leading = match self.answers.turn(id, &read) {
            answers::Turn::Lead(flight) => Some(flight),
            answers::Turn::Follow(leader) => {
                // Its answer, once it has one; if it kept none (it failed), this read goes on
                // by itself rather than queue behind the next leader.
                drop(leader.read().await);
                if let answers::Lookup::Fresh(status, body) = self.answers.lookup(id, &org, &read) {
                    reused("kept");
                    return Ok((status, body));
                }
                None
            }
        };
        let ticket = self.answers.ticket(&org);
        let answer = self.call_anew(id, Call { since, ..call }).await?;
        if answer.0 == 304 {
            if let Some(kept) = self.answers.still_holds(ticket, id, &org, &read) {
                reused("not_modified");
                return Ok(kept);
            }
            // Changed through zportal while Zoho was asked: read it whole.
            let ticket = self.answers.ticket(&org);
            let answer = self.call_anew(id, call).await?;
            self.keep(ticket, id, &org, &read, &answer);
            return Ok(answer);
        }
        self.keep(ticket, id, &org, &read, &answer);
        Ok(answer)
    }

    fn keep(
        &self,
        ticket: answers::Ticket,
        id: &ConnectionId,
        org: &OrgKey,
        read: &answers::Read,
        answer: &(u16, bytes::Bytes),
    ) {
        // While the bus may be missing other processes' writes, nothing read can be trusted.
        if self.tokens.bus().in_sync() {
            self.answers.fill(ticket, id, org, read, answer.clone());
        }
    }

    /// Sends `call` to Zoho, whatever was read before.
    ///
    /// A read (`GET`) that Zoho answers with a 5xx, or not at all, is tried again after each of
    /// [`READ_RETRIES`]; a write never is: Zoho may have applied one whose answer was lost.
    async fn call_anew(
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
