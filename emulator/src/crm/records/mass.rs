//! Mass update by ids (reference §9.4): `POST {Module}/actions/mass_update` with
//! `{"data":[{"Field": value}],"ids":[…]}` sets one field (up to three in Deals) on up to 500
//! records at once, synchronously, each record checked as an update checks it; scope
//! `ZohoCRM.mass_update.UPDATE` or the module's (`ZohoCRM.mass_update.leads.UPDATE`).
//!
//! Refused for the whole request (400): `data` with more than one object (`LIMIT_EXCEEDED`,
//! limit 1), more fields than the module allows (`LIMIT_EXCEEDED` with the limit), a field that
//! cannot be mass updated — email, lookup, multi-line, line items, the owner, a record's name,
//! system fields — (`INVALID_DATA` naming it, "the field cannot be mass updated"), more than
//! 500 ids (`LIMIT_EXCEEDED`), `ids` with `cvid` (`AMBIGUITY_DURING_PROCESSING`). A field the
//! caller's profile may not edit: 403 `NO_PERMISSION`. The emulator has no custom views, so a
//! `cvid` is always "the cvid given seems to be invalid" (`INVALID_DATA`): the job mode is
//! not emulated.
//!
//! Per record: `INVALID_DATA {id}` for an id that names no record, `CONVERTED_RECORD {id}` for
//! a converted Lead, and an update's own errors (with the record's `id`). Each record updated is
//! an update like any other (Modified_By/Time, a timeline entry, the activity rules, a
//! notification). All updated: 200; some: 207; none: 400.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::activity;
use super::changes::{body_ids, commit, existing, stamp, unknown_id};
use super::items::{NOT_EDITABLE, item_error, not_editable, write_reply};
use super::read::is_converted;
use super::validate::{derive, validate};
use super::{CrmRequest, Emu, bad, find_module};
use crate::crm::Record;
use crate::crm::meta::Module;
use crate::faults::Endpoint;
use crate::model::watch::Operation;
use crate::model::{User, World};
use crate::reply::Reply;

/// `POST {Module}/actions/mass_update`.
pub(super) async fn mass_update(emu: Emu, req: CrmRequest, body: Bytes) -> Response {
    let path = format!("{}/actions/mass_update", req.module);
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let m = find_module(&req.module)?;
        let own_scope = format!(
            "ZohoCRM.mass_update.{}.UPDATE",
            m.api_name.to_ascii_lowercase()
        );
        let user = req.authorize_any(
            world,
            fault,
            &["ZohoCRM.mass_update.UPDATE", own_scope.as_str()],
            m.api_name,
        )?;
        let body: Value = serde_json::from_slice(&body)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| {
                bad(
                    "INVALID_DATA",
                    "body",
                    json!({ "expected_data_type": "jsonobject" }),
                )
            })?;
        let given = |key: &str| body.get(key).is_some_and(|v| !v.is_null());
        if given("ids") && given("cvid") {
            return Err(bad(
                "AMBIGUITY_DURING_PROCESSING",
                "ids and cvid cannot be used together",
                json!({ "ambiguity_due_to": [
                    { "api_name": "ids", "json_path": "$.ids" },
                    { "api_name": "cvid", "json_path": "$.cvid" }
                ] }),
            ));
        }
        if given("cvid") {
            return Err(bad(
                "INVALID_DATA",
                "the cvid given seems to be invalid",
                json!({ "api_name": "cvid", "json_path": "$.cvid" }),
            ));
        }
        let input = fields_to_set(&body, &m)?;
        if let Some(details) = not_editable(&user, &m, &input, "$.data[0]") {
            return Err(Reply::api_error(
                StatusCode::FORBIDDEN,
                "NO_PERMISSION",
                NOT_EDITABLE,
                details,
            ));
        }
        let ids = body_ids(&body)?;
        // One credit was charged on the way in; like an update, one per ten records.
        let now = world.now();
        if world.credit_budget(&user.org_zgid).is_some() {
            let extra = crate::metering::write_credits(ids.len()) - 1;
            world.metering.charge(&user.org_zgid, now, extra);
        }
        Ok(update_all(world, &user, &m, &ids, &input))
    })
    .await
}

/// The one object of `data`: the fields to set, each one a mass update may set, no more than
/// the module allows. Keys starting with `$` are left out, as an update ignores them.
fn fields_to_set(body: &Value, m: &Module) -> Result<Map<String, Value>, Reply> {
    let Some(data) = body
        .get("data")
        .and_then(Value::as_array)
        .filter(|d| !d.is_empty())
    else {
        return Err(bad(
            "MANDATORY_NOT_FOUND",
            "required field not found",
            json!({ "api_name": "data", "json_path": "$.data" }),
        ));
    };
    if data.len() > 1 {
        return Err(bad(
            "LIMIT_EXCEEDED",
            "the limit has been exceeded",
            json!({ "limit": 1, "api_name": "data", "json_path": "$.data" }),
        ));
    }
    let Some(item) = data.first().and_then(Value::as_object) else {
        return Err(bad(
            "INVALID_DATA",
            "invalid data",
            json!({ "expected_data_type": "jsonobject", "api_name": "data", "json_path": "$.data[0]" }),
        ));
    };
    let fields: Map<String, Value> = item
        .iter()
        .filter(|(name, _)| !name.starts_with('$'))
        .map(|(name, v)| (name.clone(), v.clone()))
        .collect();
    if fields.is_empty() {
        return Err(bad(
            "MANDATORY_NOT_FOUND",
            "required field not found",
            json!({ "api_name": "data", "json_path": "$.data[0]" }),
        ));
    }
    let limit = m.mass_update_limit();
    if fields.len() > limit {
        return Err(bad(
            "LIMIT_EXCEEDED",
            "too many fields to mass update",
            json!({ "limit": limit, "api_name": "data", "json_path": "$.data[0]" }),
        ));
    }
    for name in fields.keys() {
        let json_path = format!("$.data[0].{name}");
        let Some(f) = m.field(name) else {
            return Err(bad(
                "INVALID_DATA",
                "the field api name given seems to be invalid",
                json!({ "api_name": name, "json_path": json_path }),
            ));
        };
        if !m.mass_updatable(f) {
            return Err(bad(
                "INVALID_DATA",
                "the field cannot be mass updated",
                json!({ "api_name": name, "json_path": json_path }),
            ));
        }
    }
    Ok(fields)
}

/// An error item about record `raw`: Zoho names the record in each.
fn about(mut item: Value, raw: &str) -> Value {
    if let Some(details) = item.get_mut("details").and_then(Value::as_object_mut) {
        details.insert("id".into(), json!(raw));
    }
    item
}

/// A record's success item, as Zoho's mass update gives it: who and when, without emails.
fn item_ok(r: &Record) -> Value {
    let who = |key: &str| {
        r.get(key)
            .map(|u| json!({ "name": u.get("name"), "id": u.get("id") }))
            .unwrap_or(Value::Null)
    };
    json!({
        "code": "SUCCESS",
        "details": {
            "Modified_Time": r.get("Modified_Time"),
            "Modified_By": who("Modified_By"),
            "Created_Time": r.get("Created_Time"),
            "id": r.get("id"),
            "Created_By": who("Created_By"),
        },
        "message": "record updated",
        "status": "success",
    })
}

/// Sets `input` on each record `ids` names, in order; an item per id, and one notification.
fn update_all(
    world: &mut World,
    user: &User,
    m: &Module,
    ids: &[String],
    input: &Map<String, Value>,
) -> Reply {
    let org = user.org_zgid.clone();
    let now = world.now();
    let mut items = Vec::new();
    let mut updated: Vec<String> = Vec::new();
    for raw in ids {
        let Some((id, before)) = existing(world, &org, m, raw) else {
            items.push(unknown_id(raw));
            continue;
        };
        if is_converted(&before) {
            items.push(item_error(
                "CONVERTED_RECORD",
                "the record has been converted and cannot be updated",
                json!({ "id": raw }),
            ));
            continue;
        }
        let fields = match validate(world, &org, m, input, 0, Some(&before)) {
            Ok(fields) => fields,
            Err(item) => {
                items.push(about(item, raw));
                continue;
            }
        };
        let mut after = before.clone();
        after.extend(fields);
        stamp(world, user, &mut after);
        derive(m, &mut after);
        if activity::is_activity(m.api_name)
            && let Err(item) = activity::apply_rules(m, &mut after, Some(&before), input, 0, now)
        {
            items.push(about(item, raw));
            continue;
        }
        items.push(item_ok(&after));
        commit(world, user, m, id, &before, after);
        if !updated.contains(raw) {
            updated.push(raw.clone());
        }
    }
    let affected: Vec<String> = input.keys().cloned().collect();
    let at = world.now_ms();
    world
        .watch
        .changed(&org, m.api_name, Operation::Update, &updated, &affected, at);
    write_reply(items, StatusCode::OK)
}
