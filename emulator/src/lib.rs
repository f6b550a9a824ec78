//! A faithful local Zoho: Accounts OAuth 2.0 and CRM v8 (identity, metadata and records) for nine
//! data centers under one base URL, with Zoho's token rules and limits, fault injection, a request log
//! and a control API (`/__emulator/…`). zportal embeds it when no real Zoho client is configured;
//! tests and benchmarks run against it. It imitates Zoho as Zoho documents itself (the OAuth and
//! CRM v8 API references), including the HTTP-200 token errors and the limits.
//!
//! Choices where the reference says UNCONFIRMED (each can be changed through `POST config` or a fault):
//! - Auth codes live 120 s (`code_ttl`). PKCE is optional; when a challenge was sent, the token call
//!   must bring a matching `code_verifier` or it gets `invalid_code`.
//! - A refused sign-in redirects with `error=access_denied` plus `state`, `location` and
//!   `accounts-server`; a bad client or redirect URI shows an error page and does not redirect.
//! - An unknown or missing `grant_type` answers `{"error":"unsupported_grant_type"}` (HTTP 200).
//! - Revoking an unknown token answers HTTP 400 `{"error":"invalid_token","status":"failure"}`.
//! - The per-window refresh limit counts refreshes only (not the exchange's first access token).
//! - A token used at another data center's API, or with no/malformed `Authorization`, answers 401
//!   `INVALID_TOKEN` / `AUTHENTICATION_FAILURE`; `Bearer` is accepted like `Zoho-oauthtoken`.
//! - `serverinfo` lists all nine data centers, China included.
//! - Redirect URIs are exact, except that `:*` in place of a port accepts any port.
//! - CRM: a well-formed record id that does not exist answers 400 `INVALID_DATA` (as a malformed
//!   one does); a write naming an unknown field answers `INVALID_DATA` for that record; read-only
//!   fields in a write are ignored. Search accepts `page`/`per_page` (no `page_token`) and returns at
//!   most 2,000 records; giving more than one of `criteria`/`email`/`phone`/`word` answers
//!   `INVALID_QUERY`. Upsert matches on `duplicate_check_fields`, else on email and name fields.
//! - Notes: creating one answers 201; `Note_Content` is required (≤ 32,000 characters), the
//!   title ≤ 120; the flat v2 `Parent_Id` + `se_module` form is refused. Attachments: at most
//!   20 MB a file (`INVALID_DATA` past it); upload answers 200. Related lists: Notes and
//!   Attachments on every module, an Account's Contacts and Deals, a Contact's Deals.
//! - Timeline: `action` is `added`, `updated` or `deleted`; a note or attachment added to or
//!   removed from a record is an entry of the record's timeline whose `record` is the note or
//!   attachment (module `Notes` / `Attachments`); `source` is always `crm_api`; a record's
//!   creation is its first entry.
//! - Notifications (`actions/watch`): a channel's `events` must name modules Zoho has; an update
//!   notification's `affected_fields` is `[{"<id>": ["Field", …]}]`; notes are watched as the
//!   module `Notes` (no `notify_on_related_action`); a notification is sent only to a
//!   `notify_url` on this machine (loopback), and one that cannot be is logged with status 0.
//! - A list may name its records (`ids`, at most 100). `If-Modified-Since` on a list filters it to the records modified after that second and
//!   answers 304 when none was (on a record: 304 when it was not); a 304 costs a credit like any
//!   call. An unparseable date is ignored.
//! - Activities (`crm::records::activity`): the open-or-closed rule, `Call_Duration` as `hh:mm`,
//!   `NOT_ALLOWED` for cancelling a cancelled meeting; README, "The emulator", says each.
//! - Lead conversion (`crm::records::convert`): an Account is made only from a Lead's Company;
//!   notes, attachments and open activities move to the Contact (activities also to the Account);
//!   `$converted_detail` has the shape of a conversion's `details` plus `converted_time`; a
//!   scheduled conversion (`POST config {"convert_scheduled": true}`) is carried out 1.5 s later;
//!   `__conversion_options` matches Contacts by full name or email and Accounts by the Company,
//!   case-insensitively.
//! - Faults beyond the contract's kinds: `late_answer` carries the request out and only then
//!   waits `delay_ms` (Zoho did it; a client that stopped waiting never hears), and a rule's
//!   optional `path` makes it fire only on requests whose logged path (ids as `{id}`) contains it.
//! - Users (`api`, `model::people`): every org has the same roles (CEO; Sales Manager under it,
//!   Sales Rep under that; Support Lead under the CEO) and profiles (Administrator, Standard,
//!   Telesales — Lead Status read-only —, Support — no Change Owner). `users` with no `type`
//!   lists all; `ActiveUsers` includes an invited user who has not joined (their status is
//!   active), `ActiveConfirmedUsers` does not; an unknown `type` is 400 `INVALID_DATA`. An
//!   org's licences, for its credits, are its active, confirmed users. Deactivated and invited
//!   users can still sign in and call the API.
//! - Change owner (`crm::records::owner`): scope `ZohoCRM.change_owner.CREATE` (or `.ALL`, or
//!   the module's), not `ZohoCRM.modules.ALL`; an invited (unconfirmed) new owner is 403
//!   `CANNOT_ASSIGN`; `related_modules` names modules, and moves the record's open activities
//!   and an Account's Contacts and Deals or a Contact's Deals; a logged call keeps its owner
//!   (`CANNOT_PERFORM_ACTION`); more than 500 ids is 400 `LIMIT_EXCEEDED`; partly done is 202,
//!   207 when the request carries `X-ZOHO-SDK`.
//! - Mass update (`crm::records::mass`): by ids only (a `cvid` is "the cvid given seems to be
//!   invalid"); a field that cannot be mass updated is a request-level 400 `INVALID_DATA`
//!   naming it, too many fields 400 `LIMIT_EXCEEDED`; a field the caller's profile may not
//!   edit is 403 `NO_PERMISSION` (in a plain write, that record's `NO_PERMISSION` item);
//!   `settings/fields` is per caller (`read_only` true where their profile may not edit).
//!   Change owner and mass update cost a credit per ten records, as an update does.

mod accounts;
mod api;
mod control;
pub mod crm;
pub mod dc;
mod faults;
pub mod metering;
pub mod model;
mod reply;
mod request;
pub mod seed;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::dc::Dc;
use crate::faults::{Endpoint, FaultKind, Faults};
use crate::metering::{Caller, Refusal};
use crate::model::{Counter, RequestRecord, World};
use crate::reply::Reply;

/// The emulator's shared state; cheap to clone.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

struct Inner {
    base: String,
    /// Sends the notifications Zoho owes its watch channels.
    http: reqwest::Client,
    world: Mutex<World>,
    faults: Mutex<Faults>,
    dirty: AtomicBool,
    state_file: Option<PathBuf>,
}

/// One request, as the request log and the faults see it.
pub(crate) struct Call {
    pub dc: Dc,
    pub endpoint: Endpoint,
    pub method: &'static str,
    pub path: String,
    pub client_id: Option<String>,
    pub secret_present: bool,
    /// A CRM call's access token, for the API limits (never logged).
    pub token: Option<String>,
}

impl Call {
    fn into_record(self, status: u16) -> RequestRecord {
        RequestRecord {
            seq: 0,
            dc: self.dc,
            endpoint: self.endpoint.as_str().to_owned(),
            method: self.method.to_owned(),
            path: self.path,
            client_id: self.client_id,
            secret_present: self.secret_present,
            status,
        }
    }
}

/// Logs a request that was dropped before it was answered (its client went away).
struct Unanswered<'a> {
    emulator: &'a Emulator,
    call: Option<Call>,
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            self.emulator.world().record(call.into_record(499));
            self.emulator.touch();
        }
    }
}

/// A CRM call counted in flight for its caller until it is answered (or its client went away).
struct InFlight<'a> {
    emulator: &'a Emulator,
    caller: Caller,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.emulator.world().metering.leave(&self.caller);
    }
}

/// How long a `notify_url` has to answer.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// A fault's default wait when it does not say.
const DEFAULT_DELAY_MS: u64 = 3_000;

impl Emulator {
    /// An emulator advertising `base` (e.g. `http://127.0.0.1:3100`), starting from `world`.
    pub fn new(base: &str, mut world: World, state_file: Option<PathBuf>) -> Self {
        world
            .crm
            .files
            .set_dir(state_file.as_deref().and_then(files_dir));
        Emulator {
            inner: Arc::new(Inner {
                base: base.trim_end_matches('/').to_owned(),
                http: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(NOTIFY_TIMEOUT)
                    .build()
                    .unwrap_or_default(),
                world: Mutex::new(world),
                faults: Mutex::new(Faults::default()),
                dirty: AtomicBool::new(false),
                state_file,
            }),
        }
    }

    /// The base URL every advertised URL starts with.
    pub fn base(&self) -> &str {
        &self.inner.base
    }

    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.inner.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        self.inner.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn touch(&self) {
        self.inner.dirty.store(true, Ordering::Release);
    }

    /// Runs one emulated request: fires a matching fault, runs `handler` under the world's lock
    /// (never across an await), and logs the request with its status. A request whose client
    /// hangs up while a fault delays it is still logged, with status 499.
    pub(crate) async fn run(
        &self,
        call: Call,
        handler: impl FnOnce(&mut World, &str, Option<FaultKind>) -> Reply,
    ) -> Response {
        let in_flight = match self.admit(&call) {
            Ok(admitted) => admitted,
            Err(refused) => {
                self.world()
                    .record(call.into_record(refused.status().as_u16()));
                self.touch();
                return refused.into_response();
            }
        };
        let latency = match &in_flight {
            Some(_) => self.world().config.api_latency_ms,
            None => 0,
        };
        let fired = self.faults().fire(call.endpoint, call.dc, &call.path);
        let mut pending = Unanswered {
            emulator: self,
            call: Some(call),
        };
        let delay = fired.map_or(0, |f| match (f.kind, f.delay_ms) {
            (FaultKind::Delay | FaultKind::LateAnswer, 0) => DEFAULT_DELAY_MS,
            (_, ms) => ms,
        });
        // A late answer waits after the work; every other delay before it.
        let late = fired.is_some_and(|f| f.kind == FaultKind::LateAnswer);
        let (before, after) = if late { (0, delay) } else { (delay, 0) };
        let wait = latency + before;
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        let Some(call) = pending.call.take() else {
            return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let reply = {
            let mut world = self.world();
            let reply = match fired.map(|f| f.kind) {
                Some(FaultKind::Http500) => {
                    Reply::gateway(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
                }
                Some(FaultKind::Http503) => {
                    Reply::gateway(axum::http::StatusCode::SERVICE_UNAVAILABLE)
                }
                Some(FaultKind::Redirect) => {
                    Reply::Redirect(format!("{}/__emulator/redirected", self.base()))
                }
                kind => handler(&mut world, self.base(), kind),
            };
            world.record(call.into_record(reply.status().as_u16()));
            (reply, world.watch.take_outbox())
        };
        let (reply, owed) = reply;
        drop(in_flight);
        self.touch();
        self.notify(owed);
        if after > 0 {
            tokio::time::sleep(Duration::from_millis(after)).await;
        }
        reply.into_response()
    }

    /// Sends each notification a write owes (a POST of its JSON to the channel's
    /// `notify_url`, on this machine only), and logs how it went.
    pub(crate) fn notify(&self, owed: Vec<model::watch::Delivery>) {
        for delivery in owed {
            let emu = self.clone();
            tokio::spawn(async move {
                let status = emu.send_notification(&delivery).await;
                emu.world().watch.delivered(delivery.seq, status);
            });
        }
    }

    async fn send_notification(&self, delivery: &model::watch::Delivery) -> u16 {
        if !model::watch::deliverable(&delivery.url) {
            return 0;
        }
        let mut body = delivery.body.clone();
        let module = body["module"].as_str().unwrap_or_default().to_owned();
        body["resource_uri"] = serde_json::json!(format!(
            "{}/{}/api/crm/v8/{module}",
            self.base(),
            delivery.dc
        ));
        match self.inner.http.post(&delivery.url).json(&body).send().await {
            Ok(res) => res.status().as_u16(),
            Err(_) => 0,
        }
    }

    /// Zoho's API limits for a CRM call with a live token: refused (429) when its caller has
    /// as many calls in flight as the cap allows or its org's credits are spent; otherwise
    /// counted in flight and charged a credit. Calls without a usable token are left to the
    /// handler's 401.
    fn admit(&self, call: &Call) -> Result<Option<InFlight<'_>>, Reply> {
        let Some(token) = call.token.as_deref() else {
            return Ok(None);
        };
        let mut world = self.world();
        let now = world.now();
        let Some(at) = world
            .access_tokens
            .get(token)
            .filter(|at| at.dc == call.dc && at.expires_at > now)
        else {
            return Ok(None);
        };
        let caller: Caller = (at.zuid.clone(), at.client_id.clone());
        let Some(user) = world.user_by_zuid(&at.zuid).cloned() else {
            return Ok(None);
        };
        let org = user.org_zgid.as_str();
        let edition = world.orgs.get(org).map(|o| o.edition).unwrap_or_default();
        let cap = world
            .config
            .limits
            .api_concurrency
            .resolve(u64::from(edition.concurrency()));
        let budget = world.credit_budget(org);
        let refusal = if cap.is_some_and(|cap| world.metering.in_flight(&caller) >= cap) {
            Some(Refusal::Concurrency)
        } else if budget.is_some_and(|b| world.metering.spent(org, now) >= b) {
            Some(Refusal::Credits)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            for c in [Counter::ApiCalls, Counter::TooManyRequests] {
                world.stats.count(c, call.dc, Some(&user.email), None);
            }
            return Err(Reply::api_error(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_REQUESTS",
                refusal.message(),
                serde_json::json!({}),
            ));
        }
        let n = world.metering.enter(&caller);
        world.stats.saw_in_flight(call.dc, &user.email, n);
        if budget.is_some() {
            world.metering.charge(org, now, 1);
        }
        Ok(Some(InFlight {
            emulator: self,
            caller,
        }))
    }

    /// Writes the world to the state file, if there is one and something changed, and the
    /// attachment bytes not yet written to the folder beside it.
    pub fn snapshot(&self) -> std::io::Result<()> {
        let Some(path) = &self.inner.state_file else {
            return Ok(());
        };
        if !self.inner.dirty.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let (bytes, files) = {
            let mut world = self.world();
            let files = world.crm.files.take_pending();
            (
                serde_json::to_vec(&*world).map_err(std::io::Error::other)?,
                files,
            )
        };
        if let Some(files) = files {
            files.apply()?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes)?;
        // Its tokens are live for the emulated Zoho: the owner's alone.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::rename(&tmp, path)
    }
}

/// The whole HTTP surface: accounts and API for every data center, and the control API.
pub fn router(emulator: Emulator) -> Router {
    Router::new()
        .merge(accounts::router())
        .merge(api::router())
        .merge(crm::records::router())
        .nest(
            "/__emulator",
            control::router().layer(axum::middleware::from_fn_with_state(
                emulator.clone(),
                control::guard,
            )),
        )
        .fallback(api::unknown_url)
        .with_state(emulator)
}

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen; must be a loopback address. Port 0 picks a free one.
    pub addr: SocketAddr,
    /// Where to keep the state between runs (`$ZPORTAL_DATA_DIR/emulator.json` in the server).
    pub state_file: Option<PathBuf>,
}

/// Why an emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the emulator listens on loopback only, not {0}")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read the emulator state {path}: {reason}")]
    State { path: String, reason: String },
}

/// A running emulator; [`Running::stop`] shuts it down and writes a last snapshot.
pub struct Running {
    pub base_url: String,
    pub addr: SocketAddr,
    pub emulator: Emulator,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    snapshots: JoinHandle<()>,
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.server).await;
        self.snapshots.abort();
        if let Err(e) = self.emulator.snapshot() {
            tracing::warn!(error = %e, "emulator: last snapshot failed");
        }
    }
}

/// Where attachment bytes live beside the state file `emulator.json`: `emulator-files/`.
fn files_dir(state_file: &std::path::Path) -> Option<PathBuf> {
    state_file.parent().map(|d| d.join("emulator-files"))
}

/// Loads the world from `path` if it exists, else the seed.
fn load_world(path: Option<&PathBuf>) -> Result<World, StartError> {
    let Some(path) = path.filter(|p| p.exists()) else {
        return Ok(seed::world());
    };
    let err = |reason: String| StartError::State {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| err(e.to_string()))
}

/// Connections a burst may queue before they are accepted: Zoho does not drop a burst of a
/// thousand, and std's default of 128 would (each dropped SYN costs a one-second retransmit).
const LISTEN_BACKLOG: u32 = 4096;

fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Binds `options.addr` and serves the emulator in the background.
pub async fn start(options: Options) -> Result<Running, StartError> {
    if !options.addr.ip().is_loopback() {
        return Err(StartError::NotLoopback(options.addr));
    }
    let listener = bind(options.addr).map_err(|source| StartError::Bind {
        addr: options.addr,
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: options.addr,
        source,
    })?;
    let base_url = format!("http://{addr}");
    let world = load_world(options.state_file.as_ref())?;
    let emulator = Emulator::new(&base_url, world, options.state_file);

    let (tx, rx) = oneshot::channel::<()>();
    let app = router(emulator.clone());
    let server = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "emulator server stopped");
        }
    });
    let snapshotter = emulator.clone();
    let snapshots = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            let e = snapshotter.clone();
            let result = tokio::task::spawn_blocking(move || e.snapshot()).await;
            if let Ok(Err(e)) = result {
                tracing::warn!(error = %e, "emulator: snapshot failed");
            }
        }
    });
    Ok(Running {
        base_url,
        addr,
        emulator,
        shutdown: Some(tx),
        server,
        snapshots,
    })
}
