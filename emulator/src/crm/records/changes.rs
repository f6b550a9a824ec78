//! A record changed by a mass action — a change of owner, a mass update — recorded as any update
//! is: who changed it and when, the timeline entry of the fields that changed (and, for an
//! activity, an entry on each of its parents), then stored; and the body's `ids`, read as Zoho
//! reads them. Kept apart from [`super::owner`] and [`super::mass`] so that neither imports the
//! other.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::activity;
use super::bad;
use super::items::item_error;
use crate::crm::history::{Event, field_changes, subject};
use crate::crm::meta::Module;
use crate::crm::{Record, iso, user_ref};
use crate::model::{User, World};
use crate::reply::Reply;

/// The most records one mass action (by ids) takes.
pub(super) const MAX_IDS: usize = 500;

/// The body's `ids`, each as text: Zoho's SDKs send numbers, other clients strings. Missing or
/// empty: `MANDATORY_NOT_FOUND`; more than [`MAX_IDS`]: `LIMIT_EXCEEDED`; an element that is
/// neither a string nor a number: Zoho's type error, which it wraps in `data`.
pub(super) fn body_ids(body: &Value) -> Result<Vec<String>, Reply> {
    let missing = || {
        bad(
            "MANDATORY_NOT_FOUND",
            "required field not found",
            json!({ "api_name": "ids", "json_path": "$.ids" }),
        )
    };
    let list = match body.get("ids") {
        None | Some(Value::Null) => return Err(missing()),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(bad(
                "INVALID_DATA",
                "invalid data",
                json!({ "expected_data_type": "jsonarray", "api_name": "ids", "json_path": "$.ids" }),
            ));
        }
    };
    if list.is_empty() {
        return Err(missing());
    }
    if list.len() > MAX_IDS {
        return Err(bad(
            "LIMIT_EXCEEDED",
            "the limit has been exceeded",
            json!({ "limit": MAX_IDS, "api_name": "ids", "json_path": "$.ids" }),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
                .ok_or_else(|| {
                    Reply::Json(
                        StatusCode::BAD_REQUEST,
                        json!({ "data": item_error(
                            "INVALID_DATA",
                            "invalid data",
                            json!({ "expected_data_type": "long", "api_name": "ids", "json_path": format!("$.ids[{i}]") }),
                        ) }),
                    )
                })
        })
        .collect()
}

/// Whether two ids are the same: as text, or as numbers — Zoho's SDKs send ids as JSON
/// numbers, which drop the leading zeros of the emulator's user and org-prefixed ids.
pub(super) fn same_id(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (a.parse::<u64>(), b.parse::<u64>()),
            (Ok(x), Ok(y)) if x == y
        )
}

/// Record `raw` of `m` in `org`, if the id names one: its id and the record as it is.
pub(super) fn existing(world: &World, org: &str, m: &Module, raw: &str) -> Option<(u64, Record)> {
    let id = raw.parse::<u64>().ok()?;
    world
        .crm
        .record(org, m.api_name, id)
        .cloned()
        .map(|r| (id, r))
}

/// A record's error item for an id that names no record.
pub(super) fn unknown_id(raw: &str) -> Value {
    item_error(
        "INVALID_DATA",
        "the id given seems to be invalid",
        json!({ "id": raw }),
    )
}

/// Marks `after` as modified by `user` now.
pub(super) fn stamp(world: &World, user: &User, after: &mut Record) {
    after.insert("Modified_By".into(), user_ref(user));
    after.insert("Modified_Time".into(), Value::String(iso(world.now())));
}

/// Stores `after` as record `id` of `m` in `user`'s org, with the timeline entry of what
/// changed since `before`; an activity's parents record that it was updated.
pub(super) fn commit(
    world: &mut World,
    user: &User,
    m: &Module,
    id: u64,
    before: &Record,
    after: Record,
) {
    let org = user.org_zgid.clone();
    let changes = field_changes(m, before, &after);
    if !changes.is_empty() {
        let name = after
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
    if activity::is_activity(m.api_name) {
        activity::audit_parents(world, &org, user, m, &after, "updated");
    }
    world.crm.module_mut(&org, m.api_name).insert(id, after);
}
