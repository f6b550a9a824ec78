//! The token endpoint: the code exchange (with PKCE) and refresh, in Zoho's modern and legacy
//! shapes, with its HTTP-200 errors and limits (15 live access tokens per refresh token, 10
//! refreshes per 10 minutes, 20 refresh tokens per user).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::new_token;
use crate::Emulator;
use crate::dc::Dc;
use crate::faults::{Endpoint, FaultKind};
use crate::model::{AccessToken, Code, Counter, RefreshToken, WINDOW_SECS, World};
use crate::reply::Reply;
use crate::request::{DcPath, Params};

pub(super) async fn token(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::from_parts(query.as_deref(), &headers, &body);
    let endpoint = match p.get("grant_type") {
        Some("refresh_token") => Endpoint::Refresh,
        _ => Endpoint::Exchange,
    };
    let path = format!("/{dc}/accounts/oauth/v2/token");
    emu.run(p.call(dc, endpoint, "POST", path), |world, base, fault| {
        token_grant(world, base, dc, &p, fault)
    })
    .await
}

/// Checks the client's id, data center and secret, in the order Zoho reports them.
pub(super) fn authenticate_client(world: &World, dc: Dc, p: &Params) -> Result<(), Reply> {
    let client = p
        .get("client_id")
        .and_then(|id| world.clients.get(id))
        .ok_or_else(|| Reply::token_error("invalid_client"))?;
    if !client.dcs.contains(&dc) {
        return Err(Reply::token_error("invalid_client"));
    }
    if p.get("client_secret") != Some(client.client_secret.as_str()) {
        return Err(Reply::token_error("invalid_client_secret"));
    }
    Ok(())
}

fn token_grant(
    world: &mut World,
    base: &str,
    dc: Dc,
    p: &Params,
    fault: Option<FaultKind>,
) -> Reply {
    if let Err(reply) = authenticate_client(world, dc, p) {
        return reply;
    }
    match fault {
        Some(FaultKind::AccessDenied) => return Reply::access_denied(),
        Some(FaultKind::InvalidCode) => return Reply::token_error("invalid_code"),
        Some(FaultKind::InvalidToken) => return Reply::token_error("invalid_token"),
        _ => {}
    }
    let legacy = fault == Some(FaultKind::LegacyShape) || world.config.legacy_token_shape;
    match p.get("grant_type") {
        Some("authorization_code") => exchange(world, base, dc, p, legacy),
        Some("refresh_token") => refresh(world, base, dc, p, legacy),
        _ => Reply::token_error("unsupported_grant_type"),
    }
}

fn pkce_matches(challenge: &str, method: &str, verifier: &str) -> bool {
    match method {
        "S256" => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge,
        _ => verifier == challenge,
    }
}

fn exchange(world: &mut World, base: &str, dc: Dc, p: &Params, legacy: bool) -> Reply {
    let now = world.now();
    let client_id = p.get("client_id").unwrap_or_default();
    let Some(code) = p
        .get("code")
        .and_then(|c| world.codes.get(c))
        .filter(|c| c.dc == dc && c.client_id == client_id && c.expires_at > now)
        .cloned()
    else {
        return Reply::token_error("invalid_code");
    };
    if let Some(expected) = &code.redirect_uri
        && p.get("redirect_uri") != Some(expected.as_str())
    {
        return Reply::token_error("invalid_redirect_uri");
    }
    if let Some((challenge, method)) = &code.code_challenge {
        let ok = p
            .get("code_verifier")
            .is_some_and(|v| pkce_matches(challenge, method, v));
        if !ok {
            return Reply::token_error("invalid_code");
        }
    }
    if let Some(c) = p.get("code") {
        world.codes.remove(c);
    }
    let Some(user) = world.user_by_zuid(&code.zuid).cloned() else {
        return Reply::token_error("invalid_code");
    };

    let holds_live_refresh = world
        .refresh_tokens
        .values()
        .any(|rt| rt.client_id == client_id && rt.zuid == code.zuid);
    let refresh = (code.offline && (!holds_live_refresh || code.consent))
        .then(|| mint_refresh_token(world, &code, now));
    let access = mint_access_token(
        world,
        client_id,
        dc,
        &code.zuid,
        &code.scopes,
        refresh.as_deref(),
        now,
    );
    let refresh_id = refresh
        .as_deref()
        .and_then(|t| world.refresh_tokens.get(t))
        .map(|rt| rt.id.clone());
    world.stats.count(
        Counter::Exchanges,
        dc,
        Some(&user.email),
        refresh_id.as_deref(),
    );
    token_response(
        world,
        base,
        dc,
        &access,
        refresh.as_deref(),
        &code.scopes,
        legacy,
    )
}

fn refresh(world: &mut World, base: &str, dc: Dc, p: &Params, legacy: bool) -> Reply {
    let now = world.now();
    let client_id = p.get("client_id").unwrap_or_default().to_owned();
    let Some(token) = p.get("refresh_token").map(str::to_owned) else {
        return Reply::token_error("invalid_code");
    };
    let limit = world.config.limits.refresh_window;
    let Some(rt) = world
        .refresh_tokens
        .get_mut(&token)
        .filter(|rt| rt.dc == dc && rt.client_id == client_id)
    else {
        return Reply::token_error("invalid_code");
    };
    while rt.mints.front().is_some_and(|t| *t <= now - WINDOW_SECS) {
        rt.mints.pop_front();
    }
    let (id, zuid, scopes) = (rt.id.clone(), rt.zuid.clone(), rt.scopes.clone());
    let email = world.user_by_zuid(&zuid).map(|u| u.email.clone());
    if limit.reached(rt_mints(world, &token)) {
        world
            .stats
            .count(Counter::RefreshesDenied, dc, email.as_deref(), Some(&id));
        return Reply::access_denied();
    }
    if let Some(rt) = world.refresh_tokens.get_mut(&token) {
        rt.mints.push_back(now);
    }
    let access = mint_access_token(world, &client_id, dc, &zuid, &scopes, Some(&token), now);
    world
        .stats
        .count(Counter::Refreshes, dc, email.as_deref(), Some(&id));
    token_response(world, base, dc, &access, None, &scopes, legacy)
}

fn rt_mints(world: &World, token: &str) -> usize {
    world
        .refresh_tokens
        .get(token)
        .map_or(0, |rt| rt.mints.len())
}

/// A new refresh token for the code's user and client, deleting the oldest beyond the limit.
fn mint_refresh_token(world: &mut World, code: &Code, now: i64) -> String {
    let limit = world.config.limits.refresh_tokens_per_user;
    loop {
        let mut held: Vec<(&String, &RefreshToken)> = world
            .refresh_tokens
            .iter()
            .filter(|(_, rt)| rt.client_id == code.client_id && rt.zuid == code.zuid)
            .collect();
        if !limit.reached(held.len()) {
            break;
        }
        held.sort_by_key(|(_, rt)| rt.seq);
        let oldest = held[0].0.clone();
        world.remove_refresh_token(&oldest);
    }
    let token = new_token();
    let id = format!("rt{}", world.next_refresh_id);
    world.next_refresh_id += 1;
    let seq = world.next_seq_no();
    world.refresh_tokens.insert(
        token.clone(),
        RefreshToken {
            id,
            client_id: code.client_id.clone(),
            dc: code.dc,
            zuid: code.zuid.clone(),
            scopes: code.scopes.clone(),
            issued_at: now,
            seq,
            mints: Default::default(),
        },
    );
    token
}

/// A new access token, evicting the oldest live one of its refresh token beyond the limit.
fn mint_access_token(
    world: &mut World,
    client_id: &str,
    dc: Dc,
    zuid: &str,
    scopes: &[String],
    refresh: Option<&str>,
    now: i64,
) -> String {
    if let Some(parent) = refresh {
        let limit = world.config.limits.live_access_tokens;
        loop {
            let mut live: Vec<(&String, &AccessToken)> = world
                .access_tokens
                .iter()
                .filter(|(_, at)| at.refresh.as_deref() == Some(parent) && at.expires_at > now)
                .collect();
            if !limit.reached(live.len()) {
                break;
            }
            live.sort_by_key(|(_, at)| at.seq);
            let oldest = live[0].0.clone();
            world.access_tokens.remove(&oldest);
        }
    }
    let token = new_token();
    let seq = world.next_seq_no();
    world.access_tokens.insert(
        token.clone(),
        AccessToken {
            client_id: client_id.to_owned(),
            dc,
            zuid: zuid.to_owned(),
            scopes: scopes.to_vec(),
            refresh: refresh.map(str::to_owned),
            issued_at: now,
            expires_at: now + world.config.access_token_ttl,
            seq,
        },
    );
    token
}

fn token_response(
    world: &World,
    base: &str,
    dc: Dc,
    access: &str,
    refresh: Option<&str>,
    scopes: &[String],
    legacy: bool,
) -> Reply {
    let ttl = world.config.access_token_ttl;
    let mut body = json!({
        "access_token": access,
        "scope": scopes.join(" "),
        "api_domain": world.config.api_domain_override.clone().unwrap_or_else(|| dc.api_domain(base)),
        "token_type": "Bearer",
        "expires_in": ttl,
    });
    if legacy {
        body["expires_in_sec"] = json!(ttl);
        body["expires_in"] = json!(ttl * 1000);
    }
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    Reply::Json(StatusCode::OK, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(challenge, "S256", verifier));
        assert!(!pkce_matches(challenge, "S256", "something-else"));
        assert!(pkce_matches("plain-value", "plain", "plain-value"));
    }
}
