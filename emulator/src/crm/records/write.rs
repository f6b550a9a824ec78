//! Writing: insert, update (one record or several), upsert and delete, with Zoho's statuses —
//! 201 or 200 when every record was taken, 207 when some were, 400 when none — and an item per
//! record saying what became of it.

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::activity;
use super::items::{NOT_EDITABLE, item_error, not_editable, write_reply};
use super::validate::{body_records, derive, validate};
use super::{CrmRequest, Emu, MAX_RECORDS, bad, parse_id};
use crate::crm::history::{Event, field_changes, subject};
use crate::crm::meta::{Kind, Module};
use crate::crm::{Record, iso, user_ref};
use crate::faults::Endpoint;
use crate::model::watch::Operation;
use crate::model::{User, World};
use crate::reply::Reply;

/// Every write of records: `POST {module}` inserts, `PUT {module}` and `PUT {module}/{id}`
/// update, `POST {module}/upsert` upserts.
pub(super) async fn write(emu: Emu, req: CrmRequest, body: Bytes) -> Response {
    let kind = match (&req.method, req.upsert) {
        (&Method::POST, true) => WriteKind::Upsert,
        (&Method::POST, false) => WriteKind::Insert,
        _ => WriteKind::Update,
    };
    let op = match kind {
        WriteKind::Insert | WriteKind::Upsert => "CREATE",
        WriteKind::Update => "UPDATE",
    };
    let path = match (&req.id, kind) {
        (Some(_), _) => format!("{}/{{id}}", req.module),
        (None, WriteKind::Upsert) => format!("{}/upsert", req.module),
        _ => req.module.clone(),
    };
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, user) = req.enter(world, fault, op)?;
        let id = req.id.as_deref().map(parse_id).transpose()?;
        let records = body_records(&body)?;
        // The call was charged one credit on the way in; a write costs one per ten records.
        let now = world.now();
        if world.credit_budget(&user.org_zgid).is_some() {
            let extra = crate::metering::write_credits(records.len()) - 1;
            world.metering.charge(&user.org_zgid, now, extra);
        }
        let dupes: Vec<String> = req
            .params
            .get("duplicate_check_fields")
            .map(|s| s.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(write_records(world, &user, &m, records, kind, id, &dupes))
    })
    .await
}

/// `DELETE {module}?ids=…` (at most 100) and `DELETE {module}/{id}`.
pub(super) async fn delete(emu: Emu, req: CrmRequest) -> Response {
    let (path, ids) = match &req.id {
        Some(id) => (
            format!("{}/{{id}}", req.module),
            parse_id(id).map(|_| vec![id.clone()]),
        ),
        None => (req.module.clone(), ids_param(&req)),
    };
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, user) = req.enter(world, fault, "DELETE")?;
        Ok(delete_records(world, &user, &m, &ids?))
    })
    .await
}

/// The `ids` parameter of a bulk delete.
pub(super) fn ids_param(req: &CrmRequest) -> Result<Vec<String>, Reply> {
    let Some(list) = req.params.get("ids") else {
        return Err(bad(
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({ "param_name": "ids" }),
        ));
    };
    let ids: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if ids.len() > MAX_RECORDS {
        return Err(bad(
            "LIMIT_EXCEEDED",
            "the limit has been exceeded",
            json!({ "limit": MAX_RECORDS, "param_name": "ids" }),
        ));
    }
    Ok(ids)
}

/// One record's outcome in a write answer.
fn item_ok(message: &str, r: &Record) -> Value {
    json!({
        "code": "SUCCESS",
        "details": {
            "Modified_Time": r.get("Modified_Time"),
            "Modified_By": r.get("Modified_By"),
            "Created_Time": r.get("Created_Time"),
            "id": r.get("id"),
            "Created_By": r.get("Created_By"),
            "$approval_state": "approved",
        },
        "message": message,
        "status": "success",
    })
}

/// What a write does with each record of the body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WriteKind {
    Insert,
    Update,
    Upsert,
}

fn write_records(
    world: &mut World,
    user: &User,
    m: &Module,
    records: Vec<Map<String, Value>>,
    kind: WriteKind,
    path_id: Option<u64>,
    duplicate_check: &[String],
) -> Reply {
    let org = user.org_zgid.clone();
    let now = iso(world.now());
    let me = user_ref(user);
    let mut items = Vec::new();
    let (mut inserted, mut updated) = (Vec::new(), Vec::new());
    let mut affected = std::collections::BTreeSet::new();
    for (i, input) in records.into_iter().enumerate() {
        // Which record, if any, this one updates.
        let target: Result<Option<u64>, Value> = match kind {
            WriteKind::Insert => Ok(None),
            WriteKind::Update => {
                let id = path_id.or_else(|| {
                    input
                        .get("id")
                        .and_then(|v| {
                            v.as_str()
                                .map(str::to_owned)
                                .or_else(|| v.as_u64().map(|n| n.to_string()))
                        })
                        .and_then(|s| s.parse().ok())
                });
                match id {
                    None if input.get("id").is_none() && path_id.is_none() => Err(item_error(
                        "MANDATORY_NOT_FOUND",
                        "required field not found",
                        json!({ "api_name": "id", "json_path": format!("$.data[{i}].id") }),
                    )),
                    Some(id)
                        if world
                            .crm
                            .module(&org, m.api_name)
                            .is_some_and(|r| r.contains_key(&id)) =>
                    {
                        Ok(Some(id))
                    }
                    _ => Err(item_error(
                        "INVALID_DATA",
                        "the id given seems to be invalid",
                        json!({ "api_name": "id", "json_path": format!("$.data[{i}].id") }),
                    )),
                }
            }
            WriteKind::Upsert => {
                let fields: Vec<&str> = if duplicate_check.is_empty() {
                    m.fields
                        .iter()
                        .filter(|f| f.kind == Kind::Email || f.api_name == m.name_field())
                        .map(|f| f.api_name)
                        .collect()
                } else {
                    duplicate_check.iter().map(String::as_str).collect()
                };
                let found = world.crm.module(&org, m.api_name).and_then(|recs| {
                    recs.iter()
                        .find(|(_, r)| {
                            fields.iter().any(|f| {
                                input
                                    .get(*f)
                                    .is_some_and(|v| !v.is_null() && r.get(*f) == Some(v))
                            })
                        })
                        .map(|(id, _)| *id)
                });
                Ok(found)
            }
        };
        let target = match target {
            Ok(t) => t,
            Err(item) => {
                items.push(item);
                continue;
            }
        };
        let existing = target.and_then(|id| {
            world
                .crm
                .module(&org, m.api_name)
                .and_then(|r| r.get(&id))
                .cloned()
        });
        // The writer's profile may make a field read-only: naming it refuses the record.
        if let Some(details) = not_editable(user, m, &input, &format!("$.data[{i}]")) {
            items.push(item_error("NO_PERMISSION", NOT_EDITABLE, details));
            continue;
        }
        let fields = match validate(world, &org, m, &input, i, existing.as_ref()) {
            Ok(f) => f,
            Err(item) => {
                items.push(item);
                continue;
            }
        };
        let before = existing.clone();
        let (id, mut record, message, action) = match (target, existing) {
            (Some(id), Some(r)) => (id, r, "record updated", "update"),
            _ => {
                let id = world.crm.new_id();
                let mut r = Map::new();
                r.insert("id".into(), Value::String(id.to_string()));
                r.insert("Owner".into(), me.clone());
                r.insert("Created_By".into(), me.clone());
                r.insert("Created_Time".into(), Value::String(now.clone()));
                r.insert("$approval_state".into(), json!("approved"));
                r.insert("$editable".into(), json!(true));
                (id, r, "record added", "insert")
            }
        };
        let written: Vec<String> = fields.keys().cloned().collect();
        record.extend(fields);
        record.insert("Modified_By".into(), me.clone());
        record.insert("Modified_Time".into(), Value::String(now.clone()));
        derive(m, &mut record);
        if activity::is_activity(m.api_name)
            && let Err(item) =
                activity::apply_rules(m, &mut record, before.as_ref(), &input, i, world.now())
        {
            items.push(item);
            continue;
        }
        if action == "update" {
            affected.extend(written);
            updated.push(id.to_string());
        } else {
            inserted.push(id.to_string());
        }
        let mut item = item_ok(message, &record);
        if kind == WriteKind::Upsert {
            item["action"] = json!(action);
            item["duplicate_field"] = if action == "update" {
                json!(duplicate_check.first())
            } else {
                Value::Null
            };
        }
        if let Some(before) = before {
            let changes = field_changes(m, &before, &record);
            if !changes.is_empty() {
                let name = record
                    .get(m.name_field())
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let event = Event {
                    action: "updated",
                    by: user,
                    at: world.now(),
                    subject: subject(m.api_name, m.id, &id.to_string(), name),
                    fields: changes,
                };
                world.crm.audit(&org, id, event);
            }
        }
        if activity::is_activity(m.api_name) {
            let done = if action == "update" {
                "updated"
            } else {
                "added"
            };
            activity::audit_parents(world, &org, user, m, &record, done);
        }
        world.crm.module_mut(&org, m.api_name).insert(id, record);
        items.push(item);
    }
    let affected: Vec<String> = affected.into_iter().collect();
    let at = world.now_ms();
    let watch = &mut world.watch;
    watch.changed(&org, m.api_name, Operation::Insert, &inserted, &[], at);
    watch.changed(&org, m.api_name, Operation::Update, &updated, &affected, at);
    let all_ok = if kind == WriteKind::Update {
        StatusCode::OK
    } else if kind == WriteKind::Insert {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    write_reply(items, all_ok)
}

fn delete_records(world: &mut World, user: &User, m: &Module, ids: &[String]) -> Reply {
    let now = world.now();
    let mut deleted = Vec::new();
    let items: Vec<Value> = ids
        .iter()
        .map(|raw| {
            let id = raw.parse::<u64>().ok();
            let removed =
                id.and_then(|id| world.crm.module_mut(&user.org_zgid, m.api_name).remove(&id));
            match (id, removed) {
                (Some(id), Some(r)) => {
                    let name = r.get(m.name_field()).and_then(Value::as_str).unwrap_or_default();
                    let event = Event {
                        action: "deleted",
                        by: user,
                        at: now,
                        subject: subject(m.api_name, m.id, raw, name),
                        fields: Vec::new(),
                    };
                    world.crm.audit(&user.org_zgid, id, event);
                    if activity::is_activity(m.api_name) {
                        activity::audit_parents(world, &user.org_zgid, user, m, &r, "deleted");
                    }
                    deleted.push(raw.clone());
                    json!({ "code": "SUCCESS", "details": { "id": raw }, "message": "record deleted", "status": "success" })
                }
                _ => item_error("INVALID_DATA", "record not deleted", json!({ "id": raw })),
            }
        })
        .collect();
    let at = world.now_ms();
    let org = &user.org_zgid;
    world
        .watch
        .changed(org, m.api_name, Operation::Delete, &deleted, &[], at);
    write_reply(items, StatusCode::OK)
}
