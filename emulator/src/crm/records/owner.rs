//! Change owner (reference §9.3): `POST {Module}/{id}/actions/change_owner` for one record and
//! `POST {Module}/actions/change_owner` with `ids` (at most 500) for several, body
//! `{"owner":{"id"},"notify"?,"related_modules"?}`, scope `ZohoCRM.change_owner.CREATE` (or the
//! module's, `ZohoCRM.change_owner.leads.CREATE`; `ZohoCRM.modules.ALL` does not open it, as
//! the later OpenAPI spec says).
//!
//! The new owner must be one of the org's users; active (else 400 `INVALID_DATA` with
//! `owner_status:"inactive"`); joined — an invited user has no access to the module yet, so 403
//! `CANNOT_ASSIGN` (the emulator's rule for "the new owner lacks module access"); and, unless
//! the caller is an administrator, in the caller's branch of the role hierarchy (else
//! `owner_status:"include_subordinate_owners"`, "…not a subordinate."). A profile without the
//! Change Owner permission is refused 403 `NO_PERMISSION`. `related_modules` names modules —
//! by `api_name`, or by the module's id — whose records belong to each record and move with it:
//! its open tasks, meetings and calls, an Account's Contacts and Deals, a Contact's Deals.
//!
//! Each record moved is an update like any other: Owner, Modified_By and Modified_Time, a
//! timeline entry, a notification (`Owner` among the affected fields). All moved: 200; some:
//! 202, or 207 when the call comes from Zoho's SDK (it sends `X-ZOHO-SDK`), as Zoho documents;
//! none: 400 with each record's error.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::activity::{is_activity, is_closed, parents};
use super::changes::{body_ids, commit, existing, same_id, stamp, unknown_id};
use super::items::item_error;
use super::related::related_lists;
use super::{CrmRequest, Emu, bad, find_module, no_such_record, parse_id};
use crate::crm::meta::Module;
use crate::crm::{Record, user_ref};
use crate::faults::Endpoint;
use crate::model::people::Status;
use crate::model::watch::Operation;
use crate::model::{User, World};
use crate::reply::Reply;

/// The modules `related_modules` may name.
const RELATED: [&str; 5] = ["Tasks", "Events", "Calls", "Contacts", "Deals"];

/// At most this many `related_modules`.
const MAX_RELATED: usize = 5;

/// `POST {Module}/{id}/actions/change_owner` and `POST {Module}/actions/change_owner`.
pub(super) async fn change_owner(emu: Emu, req: CrmRequest, body: Bytes) -> Response {
    let path = match &req.id {
        Some(_) => format!("{}/{{id}}/actions/change_owner", req.module),
        None => format!("{}/actions/change_owner", req.module),
    };
    // Zoho answers a partly done change 207 to its SDKs and 202 to everyone else.
    let from_sdk = req.headers.contains_key("x-zoho-sdk");
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let m = find_module(&req.module)?;
        let own_scope = format!(
            "ZohoCRM.change_owner.{}.CREATE",
            m.api_name.to_ascii_lowercase()
        );
        let user = req.authorize_any(
            world,
            fault,
            &["ZohoCRM.change_owner.CREATE", own_scope.as_str()],
            m.api_name,
        )?;
        if !user.profile.may_change_owner() {
            return Err(Reply::api_error(
                StatusCode::FORBIDDEN,
                "NO_PERMISSION",
                "You do not have permission to perform this operation",
                json!({ "permissions": [format!("Crm_Implied_Change_Owner_{}", m.api_name)] }),
            ));
        }
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
        let targets = match &req.id {
            Some(raw) => {
                let id = parse_id(raw)?;
                world
                    .crm
                    .record(&user.org_zgid, m.api_name, id)
                    .ok_or_else(no_such_record)?;
                vec![raw.clone()]
            }
            None => body_ids(&body)?,
        };
        let owner = new_owner(world, &user, &m, &body)?;
        if !matches!(
            body.get("notify"),
            None | Some(Value::Null | Value::Bool(_))
        ) {
            return Err(bad(
                "INVALID_DATA",
                "invalid data",
                json!({ "expected_data_type": "boolean", "api_name": "notify", "json_path": "$.notify" }),
            ));
        }
        let related = related_modules(world, &user, &body)?;
        // One credit was charged on the way in; like an update, one per ten records.
        let now = world.now();
        if world.credit_budget(&user.org_zgid).is_some() {
            let extra = crate::metering::write_credits(targets.len()) - 1;
            world.metering.charge(&user.org_zgid, now, extra);
        }
        let items = hand_over_all(world, &user, &m, &targets, &owner, &related);
        Ok(answer(items, from_sdk))
    })
    .await
}

fn mandatory(api_name: &str, json_path: &str) -> Reply {
    bad(
        "MANDATORY_NOT_FOUND",
        "required field not found",
        json!({ "api_name": api_name, "json_path": json_path }),
    )
}

/// The body's `owner`, checked: one of the org's users, who may own `m`'s records and to whom
/// `by` may hand them.
fn new_owner(world: &World, by: &User, m: &Module, body: &Value) -> Result<User, Reply> {
    let owner = match body.get("owner") {
        None | Some(Value::Null) => return Err(mandatory("owner", "$.owner")),
        Some(o) => o,
    };
    let raw = match owner.get("id") {
        None | Some(Value::Null) => return Err(mandatory("id", "$.owner.id")),
        Some(v) => v,
    };
    let id = raw
        .as_str()
        .map(str::to_owned)
        .or_else(|| raw.as_u64().map(|n| n.to_string()));
    let Some(found) = id.and_then(|id| {
        world
            .users
            .iter()
            .find(|u| same_id(&u.user_id, &id) && u.org_zgid == by.org_zgid)
    }) else {
        return Err(bad(
            "INVALID_DATA",
            "Invalid data provided",
            json!({ "api_name": "owner", "json_path": "$.owner.id" }),
        ));
    };
    let refused = |owner_status: &str, message: &str| {
        bad(
            "INVALID_DATA",
            message,
            json!({ "api_name": "id", "json_path": "$.owner.id", "owner_status": owner_status }),
        )
    };
    if found.status == Status::Inactive {
        return Err(refused(
            "inactive",
            "The user to whom you are trying to transfer the records is not active.",
        ));
    }
    if !found.confirmed {
        return Err(Reply::api_error(
            StatusCode::FORBIDDEN,
            "CANNOT_ASSIGN",
            "The user you are trying to assign does not have permission for this module.",
            json!({ "permissions": [format!("Crm_Implied_Role_View_{}", m.api_name)] }),
        ));
    }
    if !by.profile.is_admin() && !by.role.covers(found.role) {
        return Err(refused(
            "include_subordinate_owners",
            "The user to whom you are trying to transfer the records is not a subordinate.",
        ));
    }
    Ok(found.clone())
}

/// The modules `related_modules` names, each by `api_name` or by the module's id (as
/// `settings/modules` or a related list gives it). When only one of the two is valid, it is
/// the one used, as Zoho does; two valid ones that disagree are ambiguous.
fn related_modules(world: &World, by: &User, body: &Value) -> Result<Vec<&'static str>, Reply> {
    let list = match body.get("related_modules") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(bad(
                "INVALID_DATA",
                "invalid data",
                json!({ "expected_data_type": "jsonarray", "api_name": "related_modules", "json_path": "$.related_modules" }),
            ));
        }
    };
    if list.len() > MAX_RELATED {
        return Err(bad(
            "LIMIT_EXCEEDED",
            "the limit has been exceeded",
            json!({ "limit": MAX_RELATED, "api_name": "related_modules", "json_path": "$.related_modules" }),
        ));
    }
    let org_id = world
        .orgs
        .get(&by.org_zgid)
        .map(|o| o.id.clone())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let at = |key: &str| format!("$.related_modules[{i}].{key}");
        let by_name = item.get("api_name").and_then(Value::as_str);
        let by_id = item.get("id").and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        });
        if by_name.is_none() && by_id.is_none() {
            return Err(bad(
                "EXPECTED_FIELD_MISSING",
                "expected field missing",
                json!({ "expected_fields": [
                    { "api_name": "api_name", "json_path": at("api_name") },
                    { "api_name": "id", "json_path": at("id") }
                ] }),
            ));
        }
        let named = by_name.and_then(|n| RELATED.into_iter().find(|r| r.eq_ignore_ascii_case(n)));
        let numbered = by_id.as_deref().and_then(|id| {
            RELATED.into_iter().find(|r| {
                find_module(r).is_ok_and(|m| {
                    same_id(id, &m.id.to_string()) || same_id(id, &format!("{org_id}{:03}", m.id))
                })
            })
        });
        let module = match (named, numbered) {
            (Some(a), Some(b)) if a != b => {
                return Err(bad(
                    "AMBIGUITY_DURING_PROCESSING",
                    "ambiguity while processing the request",
                    json!({ "ambiguity_due_to": [
                        { "api_name": "api_name", "json_path": at("api_name") },
                        { "api_name": "id", "json_path": at("id") }
                    ] }),
                ));
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => {
                let key = if by_name.is_some() { "api_name" } else { "id" };
                return Err(bad(
                    "INVALID_DATA",
                    "invalid data",
                    json!({ "api_name": key, "json_path": at(key) }),
                ));
            }
        };
        if !out.contains(&module) {
            out.push(module);
        }
    }
    Ok(out)
}

/// The records of the `related` modules that belong to record `id` of `module`: its open
/// activities (closed ones are its history), an Account's Contacts and Deals, a Contact's Deals.
fn related_records(
    world: &World,
    org: &str,
    module: &str,
    id: u64,
    related: &[&'static str],
    now: i64,
) -> Vec<(&'static str, u64)> {
    let pid = id.to_string();
    let mut out = Vec::new();
    for &child in related {
        let Some(records) = world.crm.module(org, child) else {
            continue;
        };
        if is_activity(child) {
            out.extend(
                records
                    .iter()
                    .filter(|(_, r)| {
                        !is_closed(child, r, now)
                            && parents(r).iter().any(|(m, p)| m == module && *p == id)
                    })
                    .map(|(cid, _)| (child, *cid)),
            );
            continue;
        }
        let Some(lookup) = related_lists(module)
            .into_iter()
            .find(|l| l.module == child)
            .and_then(|l| l.lookup)
        else {
            continue;
        };
        out.extend(
            records
                .iter()
                .filter(|(_, r)| {
                    r.get(lookup)
                        .and_then(|v| v.get("id"))
                        .and_then(Value::as_str)
                        == Some(pid.as_str())
                })
                .map(|(cid, _)| (child, *cid)),
        );
    }
    out
}

/// Gives record `id` of `m` (as it was: `before`) to `owner`, as `by` did.
fn hand_over(world: &mut World, by: &User, m: &Module, id: u64, before: Record, owner: &Value) {
    let mut after = before.clone();
    after.insert("Owner".into(), owner.clone());
    stamp(world, by, &mut after);
    commit(world, by, m, id, &before, after);
}

/// Gives each of `targets` (raw ids, in the order given), with its records in the `related`
/// modules, to `owner`; an item per target, and a notification per module changed.
fn hand_over_all(
    world: &mut World,
    by: &User,
    m: &Module,
    targets: &[String],
    owner: &User,
    related: &[&'static str],
) -> Vec<Value> {
    let org = by.org_zgid.clone();
    let owner_ref = user_ref(owner);
    let now = world.now();
    let mut moved: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    let mut items = Vec::new();
    for (index, raw) in targets.iter().enumerate() {
        let Some((id, before)) = existing(world, &org, m, raw) else {
            items.push(unknown_id(raw));
            continue;
        };
        // As an update refuses it (`activity::apply_rules`): a logged call keeps its owner.
        if m.api_name == "Calls" && is_closed("Calls", &before, now) {
            items.push(item_error(
                "CANNOT_PERFORM_ACTION",
                "the owner of a completed call cannot be changed",
                json!({ "id": raw, "index": index }),
            ));
            continue;
        }
        let children = related_records(world, &org, m.api_name, id, related, now);
        hand_over(world, by, m, id, before, &owner_ref);
        moved.entry(m.api_name).or_default().insert(raw.clone());
        for (module, child) in children {
            let (Ok(cm), Some(was)) = (
                find_module(module),
                world.crm.record(&org, module, child).cloned(),
            ) else {
                continue;
            };
            hand_over(world, by, &cm, child, was, &owner_ref);
            moved.entry(module).or_default().insert(child.to_string());
        }
        items.push(json!({
            "code": "SUCCESS",
            "details": { "id": raw },
            "message": "owner is successfully updated",
            "status": "success",
        }));
    }
    let at = world.now_ms();
    let affected = ["Owner".to_owned()];
    for (module, ids) in moved {
        let ids: Vec<String> = ids.into_iter().collect();
        world
            .watch
            .changed(&org, module, Operation::Update, &ids, &affected, at);
    }
    items
}

/// Zoho's status for a change of owner: 200 when every record moved, 400 when none did, and
/// when some did 202 — or 207 to an SDK.
fn answer(items: Vec<Value>, from_sdk: bool) -> Reply {
    let ok = items.iter().filter(|i| i["status"] == "success").count();
    let status = if ok == items.len() {
        StatusCode::OK
    } else if ok == 0 {
        StatusCode::BAD_REQUEST
    } else if from_sdk {
        StatusCode::MULTI_STATUS
    } else {
        StatusCode::ACCEPTED
    };
    Reply::Json(status, json!({ "data": items }))
}
