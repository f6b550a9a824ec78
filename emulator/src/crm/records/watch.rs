//! `/crm/v8/actions/watch` (reference §8.5): register (POST), list (GET), renew or change
//! (PUT, PATCH) and remove (`DELETE ?channel_ids=…`) an org's notification channels, scope
//! `ZohoCRM.notifications.{CREATE|READ|UPDATE|DELETE}` (or `.ALL`). The channels themselves, and
//! what a write owes them, are [`crate::crm::watch`].

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::items::item_error;
use super::{CrmRequest, Emu, bad, find_module};
use crate::crm::iso;
use crate::faults::Endpoint;
use crate::model::World;
use crate::model::watch::{Channel, DEFAULT_EXPIRY_SECS, MAX_EXPIRY_SECS, TOKEN_MAX};
use crate::reply::Reply;

/// Every method of `actions/watch`.
pub(super) async fn watch(emu: Emu, req: CrmRequest, body: Bytes) -> Response {
    req.run(&emu, Endpoint::Records, "actions/watch", |world, fault| {
        let op = match req.method {
            Method::GET => "READ",
            Method::POST => "CREATE",
            Method::DELETE => "DELETE",
            _ => "UPDATE",
        };
        let scope = format!("ZohoCRM.notifications.{op}");
        let user = req.authorize(world, fault, &scope, "actions/watch")?;
        let org = user.org_zgid;
        let now = world.now();
        match req.method {
            Method::GET => Ok(list(world, &org, now)),
            Method::DELETE => remove(world, &org, &req),
            _ => {
                let items = watch_items(&body)?;
                let replace = req.method != Method::POST;
                let answers: Vec<Value> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| register(world, &org, &req, item, i, replace, now))
                    .collect();
                let ok_status = if replace {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                };
                Ok(reply(answers, ok_status))
            }
        }
    })
    .await
}

/// Zoho's status for a `watch` answer: all good, mixed (207), or all refused (400).
fn reply(items: Vec<Value>, all_ok: StatusCode) -> Reply {
    let ok = items.iter().filter(|i| i["status"] == "success").count();
    let status = match ok {
        n if n == items.len() => all_ok,
        0 => StatusCode::BAD_REQUEST,
        _ => StatusCode::MULTI_STATUS,
    };
    Reply::Json(status, json!({ "watch": items }))
}

/// The `watch` array of a body.
fn watch_items(body: &[u8]) -> Result<Vec<Map<String, Value>>, Reply> {
    let parsed: Value = serde_json::from_slice(body)
        .map_err(|_| bad("INVALID_DATA", "body is not valid JSON", json!({})))?;
    let items = parsed["watch"]
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            bad(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({ "api_name": "watch" }),
            )
        })?;
    items
        .iter()
        .map(|i| {
            i.as_object().cloned().ok_or_else(|| {
                bad(
                    "INVALID_DATA",
                    "invalid data",
                    json!({ "api_name": "watch" }),
                )
            })
        })
        .collect()
}

fn missing(field: &str, i: usize) -> Value {
    item_error(
        "MANDATORY_NOT_FOUND",
        "required field not found",
        json!({ "api_name": field, "json_path": format!("$.watch[{i}].{field}") }),
    )
}

fn invalid(field: &str, i: usize) -> Value {
    item_error(
        "INVALID_DATA",
        "invalid data",
        json!({ "api_name": field, "json_path": format!("$.watch[{i}].{field}") }),
    )
}

/// A channel id: Zoho's long, as a number or a string of digits.
fn channel_id(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Registers (or, with `replace`, renews and changes) the channel `item` describes.
fn register(
    world: &mut World,
    org: &str,
    req: &CrmRequest,
    item: &Map<String, Value>,
    i: usize,
    replace: bool,
    now: i64,
) -> Value {
    let Some(raw_id) = item.get("channel_id") else {
        return missing("channel_id", i);
    };
    let Some(id) = channel_id(raw_id) else {
        return invalid("channel_id", i);
    };
    let existing = world
        .watch
        .channels
        .get(org)
        .and_then(|c| c.get(&id))
        .cloned();
    if replace && existing.is_none() {
        return invalid("channel_id", i);
    }
    let events: Vec<String> = match item.get("events") {
        Some(Value::Array(list)) if !list.is_empty() => {
            let names: Option<Vec<String>> = list
                .iter()
                .map(|e| e.as_str().and_then(event_name))
                .collect();
            match names {
                Some(n) => n,
                None => return invalid("events", i),
            }
        }
        Some(_) => return invalid("events", i),
        None => match &existing {
            Some(c) => c.events.clone(),
            None => return missing("events", i),
        },
    };
    let notify_url = match item.get("notify_url") {
        Some(Value::String(u)) if is_http_url(u) => u.clone(),
        Some(_) => return invalid("notify_url", i),
        None => match &existing {
            Some(c) => c.notify_url.clone(),
            None => return missing("notify_url", i),
        },
    };
    let token = match item.get("token") {
        Some(Value::String(t)) if t.chars().count() <= TOKEN_MAX => Some(t.clone()),
        Some(Value::Null) | None => existing.as_ref().and_then(|c| c.token.clone()),
        Some(_) => return invalid("token", i),
    };
    let expires_at = match item.get("channel_expiry").and_then(Value::as_str) {
        Some(raw) => {
            match time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339) {
                Ok(t) if t.unix_timestamp() <= now => return invalid("channel_expiry", i),
                Ok(t) if t.unix_timestamp() <= now + MAX_EXPIRY_SECS => t.unix_timestamp(),
                Ok(_) => now + DEFAULT_EXPIRY_SECS,
                Err(_) => return invalid("channel_expiry", i),
            }
        }
        None => now + DEFAULT_EXPIRY_SECS,
    };
    let channel = Channel {
        channel_id: id,
        events,
        notify_url,
        token,
        expires_at,
        dc: req.dc,
    };
    let details: Vec<Value> = channel
        .events
        .iter()
        .map(|e| {
            let module = e.split('.').next().unwrap_or_default();
            json!({
                "channel_expiry": iso(expires_at),
                "resource_uri": format!("/crm/v8/{module}"),
                "resource_id": find_module(module).map(|m| m.id.to_string()).unwrap_or_default(),
                "resource_name": module,
                "channel_id": id,
            })
        })
        .collect();
    world
        .watch
        .channels
        .entry(org.to_owned())
        .or_default()
        .insert(id, channel);
    json!({
        "code": "SUCCESS",
        "status": "success",
        "message": "Successfully subscribed for actions-watch of the given module",
        "details": { "events": details },
    })
}

/// `{Module}.{create|edit|delete|all}` with a module Zoho has, spelt as Zoho spells it.
fn event_name(raw: &str) -> Option<String> {
    let (module, what) = raw.split_once('.')?;
    // Notes are watched like a module of their own (a note's events name the note's id).
    let name = if module.eq_ignore_ascii_case("Notes") {
        "Notes"
    } else {
        find_module(module).ok()?.api_name
    };
    matches!(what, "create" | "edit" | "delete" | "all").then(|| format!("{name}.{what}"))
}

fn is_http_url(raw: &str) -> bool {
    url::Url::parse(raw).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// `GET actions/watch`: the org's live channels, or 204.
fn list(world: &mut World, org: &str, now: i64) -> Reply {
    let channels = world.watch.live(org, now);
    if channels.is_empty() {
        return Reply::Empty(StatusCode::NO_CONTENT);
    }
    let watch: Vec<Value> = channels
        .iter()
        .map(|c| {
            json!({
                "channel_id": c.channel_id,
                "events": c.events,
                "notify_url": c.notify_url,
                "channel_expiry": iso(c.expires_at),
            })
        })
        .collect();
    Reply::Json(StatusCode::OK, json!({ "watch": watch }))
}

/// `DELETE actions/watch?channel_ids=a,b`.
fn remove(world: &mut World, org: &str, req: &CrmRequest) -> Result<Reply, Reply> {
    let Some(list) = req.params.get("channel_ids") else {
        return Err(bad(
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({ "param_name": "channel_ids" }),
        ));
    };
    let items: Vec<Value> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|raw| {
            let removed = raw
                .parse::<u64>()
                .ok()
                .and_then(|id| world.watch.channels.get_mut(org)?.remove(&id));
            match removed {
                Some(c) => json!({
                    "code": "SUCCESS",
                    "status": "success",
                    "message": "Successfully unsubscribed from actions-watch",
                    "details": { "channel_id": c.channel_id, "events": c.events },
                }),
                None => item_error("INVALID_DATA", "invalid data", json!({ "channel_id": raw })),
            }
        })
        .collect();
    if items.is_empty() {
        return Err(bad(
            "INVALID_DATA",
            "invalid data",
            json!({ "param_name": "channel_ids" }),
        ));
    }
    Ok(reply(items, StatusCode::OK))
}
