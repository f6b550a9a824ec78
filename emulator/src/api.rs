//! The CRM v8 API per data center, as far as sign-in needs it: the org and its users (the current
//! one, or a page of those of a `type`, with their status, role and profile, for owner pickers),
//! with the `Authorization` header, the token's data center and its scopes checked as Zoho does.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::dc::Dc;
use crate::faults::{Endpoint, FaultKind};
use crate::metering::Edition;
use crate::model::people::{Role, Status};
use crate::model::{AccessToken, Counter, User, World};
use crate::reply::Reply;
use crate::request::{DcPath, Params};
use crate::{Call, Emulator};

pub fn router() -> Router<Emulator> {
    Router::new()
        .route("/{dc}/api/crm/v8/users", get(users))
        .route("/{dc}/api/crm/v8/org", get(org))
}

/// Any other path: Zoho's unknown-URL answer.
pub async fn unknown_url() -> Response {
    unknown_url_reply().into_response()
}

pub fn unknown_url_reply() -> Reply {
    Reply::unknown_url()
}

/// Whether `granted` covers `needed`: the scope itself, or an `….ALL` above it
/// (`ZohoCRM.modules.ALL` covers `ZohoCRM.modules.leads.READ`). Case-insensitive, as Zoho is.
pub fn scope_covers(granted: &[String], needed: &str) -> bool {
    let needed = needed.to_ascii_lowercase();
    granted.iter().any(|g| {
        let g = g.to_ascii_lowercase();
        g == needed
            || g.strip_suffix(".all")
                .is_some_and(|prefix| needed.starts_with(&format!("{prefix}.")))
    })
}

/// Zoho's answer to a token without the scope a call needs.
pub fn scope_mismatch() -> Reply {
    Reply::api_error(
        StatusCode::UNAUTHORIZED,
        "OAUTH_SCOPE_MISMATCH",
        "invalid oauth scope to access this URL",
        json!({}),
    )
}

/// The access token a request carries: `Zoho-oauthtoken …` (or `Bearer …`).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Zoho-oauthtoken ")
                .or_else(|| v.strip_prefix("Bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Checks the access token of a request: present and well formed, alive, minted in this data
/// center, with `scope`. Counts the call (and a 401) in the stats.
pub fn authorize(
    world: &mut World,
    dc: Dc,
    headers: &HeaderMap,
    scope: &str,
    fault: Option<FaultKind>,
) -> Result<(AccessToken, User), Reply> {
    authorize_any(world, dc, headers, &[scope], fault)
}

/// As [`authorize`], for a call that any one of `scopes` opens (Zoho documents a general and a
/// per-module scope for some actions).
pub fn authorize_any(
    world: &mut World,
    dc: Dc,
    headers: &HeaderMap,
    scopes: &[&str],
    fault: Option<FaultKind>,
) -> Result<(AccessToken, User), Reply> {
    let token = bearer(headers);
    let now = world.now();
    let found = token.and_then(|t| {
        world
            .access_tokens
            .get(t)
            .filter(|at| at.dc == dc && at.expires_at > now)
            .cloned()
    });
    let user = found
        .as_ref()
        .and_then(|at| world.user_by_zuid(&at.zuid))
        .cloned();
    let refresh_id = found
        .as_ref()
        .and_then(|at| at.refresh.as_deref())
        .and_then(|r| world.refresh_tokens.get(r))
        .map(|rt| rt.id.clone());
    let email = user.as_ref().map(|u| u.email.clone());
    let count = |world: &mut World, c: Counter| {
        world
            .stats
            .count(c, dc, email.as_deref(), refresh_id.as_deref());
    };
    count(world, Counter::ApiCalls);

    let outcome = match (token, found, user, fault) {
        (_, _, _, Some(FaultKind::AccessDenied)) => Err(Reply::api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "too many requests",
            json!({}),
        )),
        (_, _, _, Some(FaultKind::InvalidToken | FaultKind::InvalidCode)) => {
            Err(Reply::invalid_token())
        }
        (None, _, _, _) => Err(Reply::api_error(
            StatusCode::UNAUTHORIZED,
            "AUTHENTICATION_FAILURE",
            "Authentication failed",
            json!({}),
        )),
        (Some(_), Some(at), Some(user), _) => {
            if scopes.iter().any(|scope| scope_covers(&at.scopes, scope)) {
                Ok((at, user))
            } else {
                Err(scope_mismatch())
            }
        }
        (Some(_), _, _, _) => Err(Reply::invalid_token()),
    };
    if let Err(reply) = &outcome
        && reply.status() == StatusCode::UNAUTHORIZED
    {
        count(world, Counter::Unauthorized);
    }
    outcome
}

fn api_call(dc: Dc, endpoint: Endpoint, path: &str, headers: &HeaderMap) -> Call {
    Call {
        dc,
        endpoint,
        method: "GET",
        path: format!("/{dc}/api/crm/v8/{path}"),
        client_id: None,
        secret_present: false,
        token: bearer(headers).map(str::to_owned),
    }
}

fn user_json(world: &World, user: &User) -> serde_json::Value {
    let org_id = world
        .orgs
        .get(&user.org_zgid)
        .map(|o| o.id.clone())
        .unwrap_or_default();
    json!({
        "id": user.user_id,
        "email": user.email,
        "full_name": user.full_name(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "zuid": user.zuid,
        "role": { "name": user.role.name(), "id": user.role.id(&org_id) },
        "profile": { "name": user.profile.name(), "id": user.profile.id(&org_id) },
        "status": user.status.as_str(),
        "confirm": user.confirmed,
        "type__s": "Regular User",
        "time_zone": "Etc/UTC",
        "locale": "en_US",
    })
}

/// `users` answers at most this many a page, and lists this many by default.
const USERS_PER_PAGE: usize = 200;

/// At most this many `ids` in one `users` call.
const USERS_IDS: usize = 100;

fn bad_param(code: &str, message: &str, param: &str) -> Reply {
    Reply::api_error(
        StatusCode::BAD_REQUEST,
        code,
        message,
        json!({ "param_name": param }),
    )
}

/// The users of `me`'s org that `type` names (reference §9.7; no `type` is `AllUsers`), in
/// the order they joined. `ActiveUsers` counts an invited user who has not joined yet (their
/// status is active); `ActiveConfirmedUsers` does not.
fn users_of_type<'w>(world: &'w World, me: &User, p: &Params) -> Result<Vec<&'w User>, Reply> {
    let org_id = world
        .orgs
        .get(&me.org_zgid)
        .map(|o| o.id.clone())
        .unwrap_or_default();
    let in_org: Vec<&'w User> = world
        .users
        .iter()
        .filter(|u| u.org_zgid == me.org_zgid)
        .collect();
    let pick = |keep: &dyn Fn(&User) -> bool| -> Vec<&'w User> {
        in_org.iter().copied().filter(|&u| keep(u)).collect()
    };
    // The three role types name the role they are about.
    let role = || -> Result<Role, Reply> {
        let Some(raw) = p.get("role_id") else {
            return Err(bad_param(
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                "role_id",
            ));
        };
        Role::ALL
            .into_iter()
            .find(|r| r.id(&org_id) == raw)
            .ok_or_else(|| bad_param("INVALID_DATA", "invalid data", "role_id"))
    };
    let active = |u: &User| u.status == Status::Active;
    Ok(match p.get("type") {
        Some("CurrentUser") => pick(&|u| u.zuid == me.zuid),
        None | Some("AllUsers" | "ActiveAndDeactive") => pick(&|_| true),
        Some("ActiveUsers" | "AllActiveUsers") => pick(&active),
        Some("DeactiveUsers") => pick(&|u| !active(u)),
        Some("ConfirmedUsers") => pick(&|u| u.confirmed),
        Some("NotConfirmedUsers") => pick(&|u| !u.confirmed),
        Some("ActiveConfirmedUsers") => pick(&User::licensed),
        Some("AdminUsers") => pick(&|u| u.profile.is_admin()),
        Some("ActiveConfirmedAdmins") => pick(&|u| u.profile.is_admin() && u.licensed()),
        Some("ConfirmedReportingUsers") => {
            pick(&|u| u.confirmed && u.role != me.role && me.role.covers(u.role))
        }
        Some("ParentRoleUsers") => {
            let of = role()?;
            pick(&|u| Some(u.role) == of.parent())
        }
        Some("ChildRoleUsers") => {
            let of = role()?;
            pick(&|u| u.role.parent() == Some(of))
        }
        Some("SubordinateRoleUsers") => {
            let of = role()?;
            pick(&|u| u.role != of && of.covers(u.role))
        }
        // Kinds of user the emulator has none of.
        Some("DeletedUsers" | "DeveloperUsers" | "ActiveLiteUser") => Vec::new(),
        Some(_) => return Err(bad_param("INVALID_DATA", "invalid data", "type")),
    })
}

/// `users?type=…&page=…&per_page=…` (and `ids`): a page of the org's users, 204 when the page
/// has none.
fn list_users(world: &World, me: &User, p: &Params) -> Result<Reply, Reply> {
    let mut chosen = users_of_type(world, me, p)?;
    if let Some(ids) = p.get("ids") {
        let ids: Vec<&str> = ids
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if ids.len() > USERS_IDS {
            return Err(Reply::api_error(
                StatusCode::BAD_REQUEST,
                "LIMIT_EXCEEDED",
                "the limit has been exceeded",
                json!({ "limit": USERS_IDS, "param_name": "ids" }),
            ));
        }
        chosen.retain(|u| ids.contains(&u.user_id.as_str()));
    }
    let per_page = match p.get("per_page").map(str::parse::<usize>) {
        None => USERS_PER_PAGE,
        Some(Ok(n)) if (1..=USERS_PER_PAGE).contains(&n) => n,
        Some(_) => return Err(bad_param("INVALID_DATA", "invalid data", "per_page")),
    };
    let page = match p.get("page").map(str::parse::<usize>) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => return Err(bad_param("INVALID_DATA", "invalid data", "page")),
    };
    let offset = (page - 1).saturating_mul(per_page);
    let list: Vec<_> = chosen
        .iter()
        .skip(offset)
        .take(per_page)
        .map(|u| user_json(world, u))
        .collect();
    if list.is_empty() {
        return Ok(Reply::Empty(StatusCode::NO_CONTENT));
    }
    let count = list.len();
    Ok(Reply::Json(
        StatusCode::OK,
        json!({
            "users": list,
            "info": {
                "per_page": per_page,
                "count": count,
                "page": page,
                "more_records": offset + count < chosen.len(),
            }
        }),
    ))
}

async fn users(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = Params::from_parts(query.as_deref(), &HeaderMap::new(), &[]);
    emu.run(
        api_call(dc, Endpoint::Users, "users", &headers),
        |world, _, fault| {
            let (_, user) = match authorize(world, dc, &headers, "ZohoCRM.users.READ", fault) {
                Ok(ok) => ok,
                Err(reply) => return reply,
            };
            list_users(world, &user, &p).unwrap_or_else(|refusal| refusal)
        },
    )
    .await
}

async fn org(State(emu): State<Emulator>, DcPath(dc): DcPath, headers: HeaderMap) -> Response {
    emu.run(
        api_call(dc, Endpoint::Org, "org", &headers),
        |world, _, fault| {
            let (_, user) = match authorize(world, dc, &headers, "ZohoCRM.org.READ", fault) {
                Ok(ok) => ok,
                Err(reply) => return reply,
            };
            let Some(org) = world.orgs.get(&user.org_zgid) else {
                return Reply::Empty(StatusCode::NO_CONTENT);
            };
            let domain: String = org
                .name
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            let licensed = world.licensed_users(&org.zgid);
            let primary = world
                .users
                .iter()
                .find(|u| u.org_zgid == org.zgid)
                .map(|u| (u.zuid.clone(), u.email.clone()))
                .unwrap_or_default();
            Reply::Json(
                StatusCode::OK,
                json!({
                    "org": [{
                        "id": org.id,
                        "zgid": org.zgid,
                        "company_name": org.name,
                        "primary_email": primary.1,
                        "primary_zuid": primary.0,
                        "domain_name": domain,
                        "currency": "US Dollar - USD",
                        "currency_symbol": "$",
                        "iso_code": "USD",
                        "time_zone": "Etc/UTC",
                        "country_code": org.dc.location().to_ascii_uppercase(),
                        "type": "production",
                        "max_per_page": 200,
                        "license_details": {
                            "paid": org.edition != Edition::Free,
                            "paid_type": org.edition.as_str(),
                            "users_license_purchased": licensed
                        }
                    }]
                }),
            )
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn all_scopes_cover_their_operations() {
        let granted = s(&[
            "ZohoCRM.modules.ALL",
            "ZohoCRM.users.READ",
            "ZohoCRM.settings.ALL",
        ]);
        assert!(scope_covers(&granted, "ZohoCRM.modules.leads.READ"));
        assert!(scope_covers(&granted, "ZohoCRM.modules.Deals.DELETE"));
        assert!(scope_covers(&granted, "ZohoCRM.users.READ"));
        assert!(scope_covers(&granted, "ZohoCRM.settings.fields.READ"));
        assert!(!scope_covers(&granted, "ZohoCRM.org.READ"));
        assert!(!scope_covers(&granted, "ZohoCRM.users.WRITE"));
        assert!(!scope_covers(
            &s(&["ZohoCRM.modules.leads.READ"]),
            "ZohoCRM.modules.leads.CREATE"
        ));
        assert!(!scope_covers(
            &s(&["ZohoCRM.mod.ALL"]),
            "ZohoCRM.modules.leads.READ"
        ));
    }
}
