//! Zoho Accounts per data center: the sign-in page and its POST, the token endpoint ([`token`]:
//! code exchange and refresh, with Zoho's limits), both revoke endpoints, `user/info` and
//! `serverinfo`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::dc::Dc;
use crate::faults::{Endpoint, FaultKind};
use crate::model::{Code, Counter, WINDOW_SECS, World};
use crate::reply::{Reply, escape_html};
use crate::request::{DcPath, Params, basic_credentials, split_scopes};
use crate::{Call, Emulator};

mod token;

pub fn router() -> Router<Emulator> {
    Router::new()
        .route(
            "/{dc}/accounts/oauth/v2/auth",
            get(auth_page).post(auth_submit),
        )
        .route("/{dc}/accounts/oauth/v2/token", post(token::token))
        .route("/{dc}/accounts/oauth/v2/token/revoke", post(revoke))
        .route("/{dc}/accounts/oauth/v2/revoke/token", post(revoke))
        .route("/{dc}/accounts/oauth/user/info", get(user_info))
        .route("/{dc}/accounts/oauth/serverinfo", get(server_info))
}

/// A random token in Zoho's `1000.<hex>.<hex>` shape.
pub(crate) fn new_token() -> String {
    let a: [u8; 16] = rand::random();
    let b: [u8; 16] = rand::random();
    format!("1000.{}.{}", hex::encode(a), hex::encode(b))
}

// ---------------------------------------------------------------------------------------------
// The sign-in page

/// Why the sign-in page cannot go on: shown as a page, with no redirect (as Zoho does).
fn check_auth_request(world: &World, dc: Dc, p: &Params) -> Result<(), &'static str> {
    let client = p
        .get("client_id")
        .and_then(|id| world.clients.get(id))
        .ok_or("Invalid client: no such client id.")?;
    if !client.dcs.contains(&dc) {
        return Err("Invalid client: this client is not enabled in this data center.");
    }
    if p.get("response_type") != Some("code") {
        return Err("Invalid response type: only `code` is supported.");
    }
    let redirect = p.get("redirect_uri").ok_or("Missing redirect URI.")?;
    if !client.accepts_redirect(redirect) {
        return Err("Invalid redirect URI: it does not match the client's registered one.");
    }
    if p.get("scope")
        .map(split_scopes)
        .is_none_or(|s| s.is_empty())
    {
        return Err("Missing scope.");
    }
    match p.get("code_challenge_method") {
        None | Some("S256") | Some("plain") => Ok(()),
        Some(_) => Err("Invalid code_challenge_method: use S256 or plain."),
    }
}

/// The fields carried from the authorization request into the form.
const CARRIED: &[&str] = &[
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "access_type",
    "prompt",
    "state",
    "code_challenge",
    "code_challenge_method",
];

fn sign_in_form(dc: Dc, p: &Params, error: Option<&str>) -> Reply {
    let hidden: String = CARRIED
        .iter()
        .filter_map(|k| p.get(k).map(|v| (k, v)))
        .map(|(k, v)| {
            format!(
                r#"<input type="hidden" name="{k}" value="{}">"#,
                escape_html(v)
            )
        })
        .collect();
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape_html(e)))
        .unwrap_or_default();
    let scopes: String = p
        .get("scope")
        .map(split_scopes)
        .unwrap_or_default()
        .iter()
        .map(|s| format!("<li>{}</li>", escape_html(s)))
        .collect();
    let client = escape_html(p.get("client_id").unwrap_or(""));
    Reply::Html(
        StatusCode::OK,
        format!(
            r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Zoho Accounts (emulator, {dc})</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}
label{{display:block;font-weight:600;margin-top:1rem}}input[type=email]{{width:100%;padding:.5rem;font:inherit}}
button{{margin-top:1rem;margin-right:.5rem;padding:.5rem 1rem;font:inherit}}.error{{color:#b42318}}</style>
</head><body>
<h1>Sign in to Zoho</h1>
<p>Local Zoho emulator, data center <strong>{dc}</strong>. Application <code>{client}</code> asks for:</p>
<ul>{scopes}</ul>
{error}
<form method="post">
{hidden}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus>
<button type="submit" name="decision" value="accept">Accept</button>
<button type="submit" name="decision" value="reject" formnovalidate>Reject</button>
</form>
</body></html>"#
        ),
    )
}

fn error_page(message: &str) -> Reply {
    Reply::Html(
        StatusCode::BAD_REQUEST,
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Zoho Accounts: error</title></head>\
             <body><h1>Something went wrong</h1><p role=\"alert\">{}</p></body></html>",
            escape_html(message)
        ),
    )
}

async fn auth_page(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = Params::from_parts(query.as_deref(), &headers, &[]);
    let path = format!("/{dc}/accounts/oauth/v2/auth");
    emu.run(
        p.call(dc, Endpoint::Auth, "GET", path),
        |world, _, _| match check_auth_request(world, dc, &p) {
            Ok(()) => sign_in_form(dc, &p, None),
            Err(e) => error_page(e),
        },
    )
    .await
}

/// The URL the browser goes back to, with `params` added to the redirect URI's own query.
fn back_to(redirect_uri: &str, params: &[(&str, &str)]) -> Reply {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            Reply::Redirect(url.to_string())
        }
        Err(_) => error_page("Invalid redirect URI."),
    }
}

async fn auth_submit(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::from_parts(query.as_deref(), &headers, &body);
    let path = format!("/{dc}/accounts/oauth/v2/auth");
    emu.run(
        p.call(dc, Endpoint::Auth, "POST", path),
        |world, base, fault| {
            if let Err(e) = check_auth_request(world, dc, &p) {
                return error_page(e);
            }
            let redirect_uri = p.get("redirect_uri").unwrap_or_default();
            let state = p.get("state");
            let user = p.get("email").and_then(|e| world.user_by_email(e)).cloned();
            // The user comes back from their home data center.
            let home = user.as_ref().map_or(dc, |u| u.dc);
            let accounts = home.accounts_server(base);
            let mut back: Vec<(&str, &str)> = Vec::new();
            let refuse = |back: &mut Vec<(&str, &str)>| {
                back.push(("error", "access_denied"));
            };

            match p.get("decision") {
                Some("reject") => refuse(&mut back),
                Some("accept") => {
                    let Some(user) = user.as_ref() else {
                        return sign_in_form(
                            dc,
                            &p,
                            Some("No Zoho account has that email address."),
                        );
                    };
                    let client_id = p.get("client_id").unwrap_or_default().to_owned();
                    let now = world.now();
                    let limit = world.config.limits.codes_per_client;
                    let issued = world.code_issues.entry(client_id.clone()).or_default();
                    while issued.front().is_some_and(|t| *t <= now - WINDOW_SECS) {
                        issued.pop_front();
                    }
                    if fault == Some(FaultKind::AccessDenied) || limit.reached(issued.len()) {
                        refuse(&mut back);
                    } else {
                        issued.push_back(now);
                        let code = new_token();
                        world.codes.insert(
                            code.clone(),
                            Code {
                                client_id,
                                dc: home,
                                zuid: user.zuid.clone(),
                                redirect_uri: Some(redirect_uri.to_owned()),
                                scopes: split_scopes(p.get("scope").unwrap_or_default()),
                                offline: p.get("access_type") == Some("offline"),
                                consent: p.get("prompt") == Some("consent"),
                                code_challenge: p.get("code_challenge").map(|c| {
                                    (
                                        c.to_owned(),
                                        p.get("code_challenge_method")
                                            .unwrap_or("plain")
                                            .to_owned(),
                                    )
                                }),
                                expires_at: now + world.config.code_ttl,
                            },
                        );
                        world
                            .stats
                            .count(Counter::CodesIssued, home, Some(&user.email), None);
                        let mut params: Vec<(&str, &str)> = vec![("code", &code)];
                        if let Some(s) = state {
                            params.push(("state", s));
                        }
                        params.push(("location", home.location()));
                        params.push(("accounts-server", &accounts));
                        return back_to(redirect_uri, &params);
                    }
                }
                _ => return sign_in_form(dc, &p, Some("Choose Accept or Reject.")),
            }
            if let Some(s) = state {
                back.push(("state", s));
            }
            back.push(("location", home.location()));
            back.push(("accounts-server", &accounts));
            back_to(redirect_uri, &back)
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Revoke, user info, server info

async fn revoke(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::from_parts(query.as_deref(), &headers, &body);
    // The newer endpoint authenticates the client with Basic; the older one takes the token alone.
    let basic = basic_credentials(&headers).is_some();
    let path = if basic {
        format!("/{dc}/accounts/oauth/v2/revoke/token")
    } else {
        format!("/{dc}/accounts/oauth/v2/token/revoke")
    };
    emu.run(
        p.call(dc, Endpoint::Revoke, "POST", path),
        |world, _, fault| {
            if basic && let Err(reply) = token::authenticate_client(world, dc, &p) {
                return reply;
            }
            match fault {
                Some(FaultKind::AccessDenied) => return Reply::access_denied(),
                Some(FaultKind::InvalidCode | FaultKind::InvalidToken) => return invalid_revoke(),
                _ => {}
            }
            let Some(token) = p.get("token") else {
                return invalid_revoke();
            };
            let email =
                |world: &World, zuid: &str| world.user_by_zuid(zuid).map(|u| u.email.clone());
            if let Some(rt) = world
                .refresh_tokens
                .get(token)
                .filter(|rt| rt.dc == dc)
                .cloned()
            {
                world.remove_refresh_token(token);
                let user = email(world, &rt.zuid);
                world
                    .stats
                    .count(Counter::Revocations, dc, user.as_deref(), Some(&rt.id));
            } else if let Some(at) = world
                .access_tokens
                .get(token)
                .filter(|at| at.dc == dc)
                .cloned()
            {
                world.access_tokens.remove(token);
                let user = email(world, &at.zuid);
                let rid = at
                    .refresh
                    .as_deref()
                    .and_then(|r| world.refresh_tokens.get(r))
                    .map(|rt| rt.id.clone());
                world
                    .stats
                    .count(Counter::Revocations, dc, user.as_deref(), rid.as_deref());
            } else {
                return invalid_revoke();
            }
            Reply::Json(StatusCode::OK, json!({ "status": "success" }))
        },
    )
    .await
}

fn invalid_revoke() -> Reply {
    Reply::Json(
        StatusCode::BAD_REQUEST,
        json!({ "error": "invalid_token", "status": "failure" }),
    )
}

async fn user_info(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        dc,
        endpoint: Endpoint::Users,
        method: "GET",
        path: format!("/{dc}/accounts/oauth/user/info"),
        client_id: None,
        secret_present: false,
        token: None,
    };
    emu.run(call, |world, _, fault| {
        match crate::api::authorize(world, dc, &headers, "AaaServer.profile.READ", fault) {
            Ok((_, user)) => Reply::Json(
                StatusCode::OK,
                json!({
                    "ZUID": user.zuid.parse::<u64>().unwrap_or_default(),
                    "Email": user.email,
                    "Display_Name": user.full_name(),
                    "First_Name": user.first_name,
                    "Last_Name": user.last_name,
                }),
            ),
            Err(reply) => reply,
        }
    })
    .await
}

async fn server_info(State(emu): State<Emulator>) -> Response {
    let locations: serde_json::Map<String, serde_json::Value> = Dc::ALL
        .into_iter()
        .map(|dc| (dc.to_string(), json!(dc.accounts_server(emu.base()))))
        .collect();
    Reply::Json(
        StatusCode::OK,
        json!({ "result": "success", "locations": locations }),
    )
    .into_response()
}
