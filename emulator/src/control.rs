//! The control API under `/__emulator/` (README, "The emulator"): lets tests and developers see and steer the
//! emulated Zoho — users, clients, the clock, tokens, faults, limits, counters and the request log.
//!
//! It is for programs on this machine, never for web pages: [`guard`] refuses a request whose
//! `Host` is not loopback (DNS rebinding), one a browser marks as coming from another site
//! (`Origin`, `Sec-Fetch-Site`), and a `POST` that is not `application/json` (a page's form or
//! `fetch` without a preflight can send only form and text bodies).

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Emulator;
use crate::accounts::new_token;
use crate::dc::Dc;
use crate::faults::Fault;
use crate::model::{Client, Code, Counter, Org, User, World};
use crate::request::split_scopes;
use crate::seed;

pub fn router() -> Router<Emulator> {
    Router::new()
        .route("/dcs", get(dcs))
        .route("/users", get(list_users).post(add_user))
        .route("/clients", get(list_clients).post(put_client))
        .route("/self-client", post(self_client))
        .route("/clock/advance", post(advance_clock))
        .route("/tokens/revoke", post(revoke_tokens))
        .route("/tokens/expire", post(expire_tokens))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/config", get(get_config).post(set_config))
        .route("/stats", get(stats))
        .route("/credits", post(set_credits))
        .route("/requests", get(requests))
        .route("/notifications", get(notifications))
        .route("/reset", post(reset))
        .route("/redirected", get(redirected))
}

/// Why a control call was refused before it ran, if it was.
fn refusal(method: &Method, headers: &HeaderMap, own_origin: &str) -> Option<&'static str> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(is_loopback_host) {
        return Some("the control API answers only to a loopback Host");
    }
    if let Some(origin) = headers.get(header::ORIGIN)
        && origin.as_bytes() != own_origin.as_bytes()
    {
        return Some("the control API answers no web page of another origin");
    }
    if headers
        .get("sec-fetch-site")
        .is_some_and(|s| matches!(s.as_bytes(), b"cross-site" | b"same-site"))
    {
        return Some("the control API answers no other site");
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    // A page can send a simple cross-origin POST (form or text body) without a preflight; other
    // methods need one, which the emulator never grants.
    if *method == Method::POST && !json {
        return Some("a control write must be application/json");
    }
    None
}

/// `127.0.0.0/8`, `::1` or `localhost`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        }),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// axum middleware in front of every control route: applies [`refusal`] (403).
pub async fn guard(State(emu): State<Emulator>, req: Request, next: Next) -> Response {
    let own_origin = emu.base().trim_end_matches('/');
    match refusal(req.method(), req.headers(), own_origin) {
        None => next.run(req).await,
        Some(why) => (StatusCode::FORBIDDEN, Json(json!({ "error": why }))).into_response(),
    }
}

/// A refused control call: 400 with the reason in `{"error"}`.
struct BadRequest(String);

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(json!({ "error": self.0 }))).into_response()
    }
}

fn bad_request(message: impl Into<String>) -> BadRequest {
    BadRequest(message.into())
}

type Answer = Result<Response, BadRequest>;

/// Parses a JSON body into `T`, refusing it with the reason when it does not fit.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, BadRequest> {
    serde_json::from_slice(body).map_err(|e| bad_request(format!("invalid body: {e}")))
}

async fn dcs(State(emu): State<Emulator>) -> Json<Value> {
    let list: Vec<Value> = Dc::ALL
        .into_iter()
        .map(|dc| {
            json!({
                "location": dc.location(),
                "accounts_server": dc.accounts_server(emu.base()),
                "api_domain": dc.api_domain(emu.base()),
            })
        })
        .collect();
    Json(json!({ "dcs": list }))
}

fn user_json(world: &World, u: &User) -> Value {
    let org_name = world
        .orgs
        .get(&u.org_zgid)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    json!({
        "email": u.email,
        "zuid": u.zuid,
        "user_id": u.user_id,
        "dc": u.dc,
        "org": { "zgid": u.org_zgid, "name": org_name },
        "status": u.status.as_str(),
        "confirm": u.confirmed,
        "role": u.role.name(),
        "profile": u.profile.name(),
    })
}

async fn list_users(State(emu): State<Emulator>) -> Json<Value> {
    let world = emu.world();
    let users: Vec<Value> = world.users.iter().map(|u| user_json(&world, u)).collect();
    Json(json!({ "users": users }))
}

#[derive(Deserialize)]
struct NewUser {
    email: String,
    dc: Dc,
    org_zgid: Option<String>,
    org_name: Option<String>,
}

async fn add_user(State(emu): State<Emulator>, body: axum::body::Bytes) -> Answer {
    let new: NewUser = parse(&body)?;
    let email = new.email.trim().to_ascii_lowercase();
    let Some((local, _)) = email
        .split_once('@')
        .filter(|(l, d)| !l.is_empty() && d.contains('.'))
    else {
        return Err(bad_request("email must look like name@example.com"));
    };
    let mut world = emu.world();
    if world.user_by_email(&email).is_some() {
        return Ok((
            StatusCode::CONFLICT,
            Json(json!({ "error": "a user with that email exists" })),
        )
            .into_response());
    }
    let zgid = match new.org_zgid {
        Some(zgid) if !zgid.bytes().all(|b| b.is_ascii_digit()) || zgid.is_empty() => {
            return Err(bad_request("org_zgid must be digits"));
        }
        Some(zgid) => zgid,
        None => {
            let next = world
                .orgs
                .keys()
                .filter_map(|k| k.parse::<u64>().ok())
                .max()
                .unwrap_or(70_000)
                + 1;
            next.to_string()
        }
    };
    match world.orgs.get(&zgid) {
        Some(org) if org.dc != new.dc => {
            return Err(bad_request(format!(
                "org {zgid} lives in {}, not {}",
                org.dc, new.dc
            )));
        }
        Some(_) => {}
        None => {
            let name = new
                .org_name
                .clone()
                .unwrap_or_else(|| format!("Org {zgid}"));
            world.orgs.insert(
                zgid.clone(),
                Org {
                    zgid: zgid.clone(),
                    id: seed::org_id(&zgid),
                    name,
                    dc: new.dc,
                    edition: Default::default(),
                },
            );
        }
    }
    let (zuid, user_id) = seed::user_ids(world.users.len(), &zgid);
    let mut first: Vec<char> = local.chars().collect();
    if let Some(c) = first.first_mut() {
        *c = c.to_ascii_uppercase();
    }
    let user = User {
        email,
        zuid,
        user_id,
        first_name: first.into_iter().collect(),
        last_name: "Tester".into(),
        dc: new.dc,
        org_zgid: zgid,
        status: Default::default(),
        confirmed: true,
        role: Default::default(),
        profile: Default::default(),
    };
    let body = user_json(&world, &user);
    world.users.push(user);
    drop(world);
    emu.touch();
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

fn client_json(c: &Client) -> Value {
    json!({
        "client_id": c.client_id,
        "redirect_uris": c.redirect_uris,
        "dcs": c.dcs,
    })
}

async fn list_clients(State(emu): State<Emulator>) -> Json<Value> {
    let world = emu.world();
    let clients: Vec<Value> = world.clients.values().map(client_json).collect();
    Json(json!({ "clients": clients }))
}

async fn put_client(State(emu): State<Emulator>, body: axum::body::Bytes) -> Answer {
    let client: Client = parse(&body)?;
    if client.client_id.trim().is_empty() || client.client_secret.is_empty() {
        return Err(bad_request("client_id and client_secret must not be empty"));
    }
    if client.dcs.is_empty() {
        return Err(bad_request("a client needs at least one data center"));
    }
    let body = client_json(&client);
    emu.world().clients.insert(client.client_id.clone(), client);
    emu.touch();
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
struct SelfClient {
    client_id: String,
    email: String,
    scope: String,
}

async fn self_client(State(emu): State<Emulator>, body: axum::body::Bytes) -> Answer {
    let req: SelfClient = parse(&body)?;
    let mut world = emu.world();
    if !world.clients.contains_key(&req.client_id) {
        return Err(bad_request("no such client"));
    }
    let Some(user) = world.user_by_email(&req.email).cloned() else {
        return Err(bad_request("no such user"));
    };
    let scopes = split_scopes(&req.scope);
    if scopes.is_empty() {
        return Err(bad_request("scope must not be empty"));
    }
    let now = world.now();
    let ttl = world.config.code_ttl;
    let code = new_token();
    world.codes.insert(
        code.clone(),
        Code {
            client_id: req.client_id,
            dc: user.dc,
            zuid: user.zuid.clone(),
            redirect_uri: None,
            scopes,
            offline: true,
            consent: true,
            code_challenge: None,
            expires_at: now + ttl,
        },
    );
    world
        .stats
        .count(Counter::CodesIssued, user.dc, Some(&user.email), None);
    drop(world);
    emu.touch();
    Ok(Json(json!({
        "code": code,
        "accounts_server": user.dc.accounts_server(emu.base()),
        "expires_in": ttl,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

async fn advance_clock(State(emu): State<Emulator>, body: axum::body::Bytes) -> Answer {
    let req: Advance = parse(&body)?;
    if req.seconds < 0 {
        return Err(bad_request("the clock only moves forward"));
    }
    let now = {
        let mut world = emu.world();
        world.clock_offset += req.seconds;
        world.now()
    };
    emu.touch();
    Ok(Json(json!({ "now": now })).into_response())
}

/// `{"email"}` or `{"token"}`: whose tokens a control call acts on.
#[derive(Deserialize)]
struct TokenTarget {
    email: Option<String>,
    token: Option<String>,
}

async fn revoke_tokens(State(emu): State<Emulator>, body: axum::body::Bytes) -> Answer {
    let target: TokenTarget = parse(&body)?;
    let mut world = emu.world();
    let count = match (target.email, target.token) {
        (Some(email), None) => {
            let Some(zuid) = world.user_by_email(&email).map(|u| u.zuid.clone()) else {
                return Err(bad_request("no such user"));
            };
            let tokens: Vec<String> = world
                .refresh_tokens
                .iter()
                .filter(|(_, rt)| rt.zuid == zuid)
                .map(|(t, _)| t.clone())
                .collect();
            let mut count: usize = tokens.iter().map(|t| world.remove_refresh_token(t)).sum();
            let before = world.access_tokens.len();
            world.access_tokens.retain(|_, at| at.zuid != zuid);
            count += before - world.access_tokens.len();
            count
        }
        (None, Some(token)) => {
            let n = world.remove_refresh_token(&token);
            if n > 0 {
                n
            } else {
                usize::from(world.access_tokens.remove(&token).is_some())
            }
        }
        _ => return Err(bad_request("give exactly one of email or token")),
    };
    drop(world);
    emu.touch();
    Ok(Json(json!({ "count": count })).into_response())
}

async fn expire_tokens(State(emu): State<Emulator>, body: axum::body::Bytes) -> Answer {
    let target: TokenTarget = parse(&body)?;
    let mut world = emu.world();
    let now = world.now();
    let zuid = match (&target.email, &target.token) {
        (Some(email), None) => match world.user_by_email(email) {
            Some(u) => Some(u.zuid.clone()),
            None => return Err(bad_request("no such user")),
        },
        (None, Some(_)) => None,
        _ => return Err(bad_request("give exactly one of email or token")),
    };
    let token = target.token;
    let mut count = 0;
    for (t, at) in world.access_tokens.iter_mut() {
        let hit = match (&zuid, &token) {
            (Some(z), _) => &at.zuid == z,
            (None, Some(tok)) => t == tok || at.refresh.as_deref() == Some(tok.as_str()),
            (None, None) => false,
        };
        if hit && at.expires_at > now {
            at.expires_at = now;
            count += 1;
        }
    }
    drop(world);
    emu.touch();
    Ok(Json(json!({ "count": count })).into_response())
}

async fn add_fault(State(emu): State<Emulator>, body: axum::body::Bytes) -> Answer {
    let fault: Fault = parse(&body)?;
    if fault.count == 0 {
        return Err(bad_request("count must be at least 1"));
    }
    let id = emu.faults().add(fault);
    Ok(Json(json!({ "id": id })).into_response())
}

/// The armed rules: a test arms a delay, then waits until its request is inside it (the rule has
/// fired and left the list) before doing what must happen meanwhile.
async fn list_faults(State(emu): State<Emulator>) -> Json<Value> {
    Json(json!({ "faults": emu.faults().armed() }))
}

async fn clear_faults(State(emu): State<Emulator>) -> Json<Value> {
    let count = emu.faults().clear();
    Json(json!({ "count": count }))
}

async fn get_config(State(emu): State<Emulator>) -> Json<Value> {
    Json(emu.world().config.to_json())
}

async fn set_config(State(emu): State<Emulator>, body: axum::body::Bytes) -> Answer {
    let req: Value = parse(&body)?;
    let Some(fields) = req.as_object() else {
        return Err(bad_request("expected a JSON object"));
    };
    let mut config = emu.world().config.clone();
    for (key, value) in fields {
        let result = match key.as_str() {
            "access_token_ttl" | "code_ttl" => match value.as_i64().filter(|v| *v > 0) {
                Some(v) if key == "access_token_ttl" => {
                    config.access_token_ttl = v;
                    Ok(())
                }
                Some(v) => {
                    config.code_ttl = v;
                    Ok(())
                }
                None => Err(format!("{key} must be a positive number of seconds")),
            },
            "legacy_token_shape" => match value.as_bool() {
                Some(b) => {
                    config.legacy_token_shape = b;
                    Ok(())
                }
                None => Err("legacy_token_shape must be true or false".into()),
            },
            "limits" => apply_limits(&mut config.limits, value),
            "convert_scheduled" => match value.as_bool() {
                Some(b) => {
                    config.convert_scheduled = b;
                    Ok(())
                }
                None => Err("convert_scheduled must be true or false".into()),
            },
            "count_lag_secs" => match value.as_u64().filter(|s| *s <= 86_400) {
                Some(secs) => {
                    config.count_lag_secs = secs;
                    Ok(())
                }
                None => Err("count_lag_secs must be a number of seconds up to 86400".into()),
            },
            "api_latency_ms" => match value.as_u64().filter(|ms| *ms <= 60_000) {
                Some(ms) => {
                    config.api_latency_ms = ms;
                    Ok(())
                }
                None => Err("api_latency_ms must be a number of milliseconds up to 60000".into()),
            },
            "api_domain_override" => match value {
                Value::Null => {
                    config.api_domain_override = None;
                    Ok(())
                }
                Value::String(url) => {
                    config.api_domain_override = Some(url.clone());
                    Ok(())
                }
                _ => Err("api_domain_override must be a string or null".into()),
            },
            other => Err(format!("unknown setting {other:?}")),
        };
        result.map_err(bad_request)?;
    }
    let body = {
        let mut world = emu.world();
        world.config = config;
        world.config.to_json()
    };
    emu.touch();
    Ok(Json(body).into_response())
}

fn apply_limits(limits: &mut crate::model::Limits, value: &Value) -> Result<(), String> {
    let fields = value.as_object().ok_or("limits must be an object")?;
    for (name, v) in fields {
        let by_edition = match name.as_str() {
            "api_concurrency" => Some(&mut limits.api_concurrency),
            "api_credits" => Some(&mut limits.api_credits),
            _ => None,
        };
        if let Some(limit) = by_edition {
            limit.apply(v).map_err(|e| format!("{name}: {e}"))?;
            continue;
        }
        let limit = match name.as_str() {
            "refresh_window" => &mut limits.refresh_window,
            "live_access_tokens" => &mut limits.live_access_tokens,
            "refresh_tokens_per_user" => &mut limits.refresh_tokens_per_user,
            "codes_per_client" => &mut limits.codes_per_client,
            other => return Err(format!("unknown limit {other:?}")),
        };
        limit.apply(v).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct CreditsLeft {
    org_zgid: String,
    remaining: u64,
}

/// `POST credits`: sets what `org_zgid` has left of its credits in the current 24 h window.
async fn set_credits(State(emu): State<Emulator>, body: axum::body::Bytes) -> Answer {
    let req: CreditsLeft = parse(&body)?;
    let answer = {
        let mut world = emu.world();
        if !world.orgs.contains_key(&req.org_zgid) {
            return Err(bad_request(format!("no org {:?}", req.org_zgid)));
        }
        let Some(budget) = world.credit_budget(&req.org_zgid) else {
            return Err(bad_request("API credits are switched off (POST config)"));
        };
        let now = world.now();
        let remaining = req.remaining.min(budget);
        world
            .metering
            .set_spent(&req.org_zgid, now, budget - remaining);
        let resets_at = world.metering.resets_at(&req.org_zgid, now);
        json!({ "org_zgid": req.org_zgid, "remaining": remaining, "resets_at": resets_at })
    };
    emu.touch();
    Ok(Json(answer).into_response())
}

async fn stats(State(emu): State<Emulator>) -> Json<Value> {
    Json(serde_json::to_value(&emu.world().stats).unwrap_or_default())
}

#[derive(Deserialize)]
struct Since {
    since: Option<u64>,
}

async fn requests(State(emu): State<Emulator>, Query(q): Query<Since>) -> Json<Value> {
    let since = q.since.unwrap_or(0);
    let world = emu.world();
    let list: Vec<&crate::model::RequestRecord> =
        world.requests.iter().filter(|r| r.seq > since).collect();
    Json(json!({ "requests": list }))
}

/// `GET notifications?since=N`: every delivery to a `notify_url` after `N`.
async fn notifications(State(emu): State<Emulator>, Query(q): Query<Since>) -> Json<Value> {
    let log = emu.world().watch.log_since(q.since.unwrap_or(0));
    Json(json!({ "notifications": log }))
}

async fn reset(State(emu): State<Emulator>) -> Json<Value> {
    {
        let mut world = emu.world();
        let next_seq = world.next_seq;
        let files = world.crm.files.dir();
        let watch = std::mem::take(&mut world.watch);
        *world = seed::world();
        world.crm.files.set_dir(files);
        // Sequence numbers keep rising, so `requests?since=` never sees an old number again.
        world.next_seq = next_seq;
        world.watch.continue_after(&watch);
    }
    emu.faults().clear();
    emu.touch();
    Json(json!({ "status": "reset" }))
}

async fn redirected() -> &'static str {
    "The emulator redirected here (fault `redirect`). A Zoho client should not have followed it."
}

#[cfg(test)]
mod guard_tests {
    use axum::http::HeaderValue;

    use super::*;

    const OWN: &str = "http://127.0.0.1:3100";

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn programs_on_this_machine_pass() {
        let read = headers(&[("host", "127.0.0.1:3100")]);
        assert_eq!(refusal(&Method::GET, &read, OWN), None);
        let write = headers(&[
            ("host", "localhost:3100"),
            ("content-type", "application/json"),
        ]);
        assert_eq!(refusal(&Method::POST, &write, OWN), None);
        let v6 = headers(&[
            ("host", "[::1]:3100"),
            ("content-type", "application/json; charset=utf-8"),
        ]);
        assert_eq!(refusal(&Method::POST, &v6, OWN), None);
        let clear = headers(&[("host", "127.0.0.1:3100")]);
        assert_eq!(
            refusal(&Method::DELETE, &clear, OWN),
            None,
            "needs a preflight anyway"
        );
    }

    #[test]
    fn web_pages_and_rebound_names_are_refused() {
        let cases: &[(Method, &[(&'static str, &'static str)])] = &[
            (Method::GET, &[("host", "attacker.example:3100")]),
            (Method::GET, &[("host", "127.0.0.1.attacker.example")]),
            (Method::GET, &[]),
            (
                Method::GET,
                &[
                    ("host", "127.0.0.1:3100"),
                    ("origin", "https://attacker.example"),
                ],
            ),
            (
                Method::GET,
                &[("host", "127.0.0.1:3100"), ("sec-fetch-site", "cross-site")],
            ),
            (
                Method::POST,
                &[("host", "127.0.0.1:3100"), ("content-type", "text/plain")],
            ),
            (Method::POST, &[("host", "127.0.0.1:3100")]),
        ];
        for (method, pairs) in cases {
            assert!(
                refusal(method, &headers(pairs), OWN).is_some(),
                "{method} {pairs:?}"
            );
        }
    }
}
