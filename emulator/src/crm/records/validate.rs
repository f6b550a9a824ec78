//! What Zoho checks of each record written: the body's shape, every value against its field's
//! type and limits, mandatory fields, and the derived fields (a person's full name).

use serde_json::{Map, Value, json};

use super::items::{item_error, lookup_id};
use super::{MAX_RECORDS, bad};
use crate::crm::meta::{self, Kind, Module};
use crate::crm::{Record, user_ref};
use crate::model::World;
use crate::reply::Reply;

/// Checks one field value against its metadata; returns the stored value, or the error item.
pub(super) fn check_value(
    world: &World,
    org: &str,
    f: &meta::Field,
    v: &Value,
    path: &str,
) -> Result<Value, Value> {
    let invalid = |expected: &str| {
        item_error(
            "INVALID_DATA",
            "invalid data",
            json!({ "expected_data_type": expected, "api_name": f.api_name, "json_path": path }),
        )
    };
    let text = |max: usize| -> Result<Value, Value> {
        match v.as_str() {
            Some(s) if s.chars().count() <= max => Ok(Value::String(s.to_owned())),
            Some(_) => Err(item_error(
                "INVALID_DATA",
                "invalid data",
                json!({ "maximum_length": max, "api_name": f.api_name, "json_path": path }),
            )),
            None => Err(invalid("string")),
        }
    };
    match f.kind {
        Kind::Text(n) | Kind::TextArea(n) => text(n),
        Kind::Phone => text(30),
        Kind::Website => text(255),
        Kind::Email => {
            let s = text(255)?;
            let ok = s.as_str().is_some_and(|s| {
                let mut parts = s.split('@');
                matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
            });
            if ok { Ok(s) } else { Err(invalid("email")) }
        }
        Kind::Integer => v
            .as_i64()
            .filter(|n| n.unsigned_abs() < 1_000_000_000)
            .map(Value::from)
            .ok_or_else(|| invalid("integer")),
        Kind::Double | Kind::Currency | Kind::Percent => {
            v.as_f64().map(Value::from).ok_or_else(|| invalid("double"))
        }
        Kind::Boolean => v
            .as_bool()
            .map(Value::from)
            .ok_or_else(|| invalid("boolean")),
        Kind::Date => {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            v.as_str()
                .filter(|s| time::Date::parse(s, &fmt).is_ok())
                .map(|s| Value::String(s.to_owned()))
                .ok_or_else(|| invalid("date"))
        }
        Kind::DateTime => v
            .as_str()
            .filter(|s| {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .is_ok()
            })
            .map(|s| Value::String(s.to_owned()))
            .ok_or_else(|| invalid("datetime")),
        Kind::Picklist(values) => v
            .as_str()
            .filter(|s| values.contains(s))
            .map(|s| Value::String(s.to_owned()))
            .ok_or_else(|| invalid("picklist")),
        Kind::MultiSelect(values) => v
            .as_array()
            .filter(|a| {
                a.iter()
                    .all(|x| x.as_str().is_some_and(|s| values.contains(&s)))
            })
            .map(|a| Value::Array(a.clone()))
            .ok_or_else(|| invalid("multiselectpicklist")),
        Kind::Lookup(target) => {
            let id = lookup_id(v).and_then(|s| s.parse::<u64>().ok());
            let found = id.and_then(|id| {
                world
                    .crm
                    .module(org, target)
                    .and_then(|r| r.get(&id))
                    .map(|r| (id, r))
            });
            match found {
                Some((id, r)) => {
                    let name_field = meta::modules()
                        .into_iter()
                        .find(|m| m.api_name == target)
                        .map(|m| m.name_field())
                        .unwrap_or("id");
                    Ok(
                        json!({ "name": r.get(name_field).cloned().unwrap_or(Value::Null), "id": id.to_string() }),
                    )
                }
                None => Err(item_error(
                    "INVALID_DATA",
                    "the related id given seems to be invalid",
                    json!({ "api_name": f.api_name, "json_path": path }),
                )),
            }
        }
        Kind::Owner => {
            let id = lookup_id(v).unwrap_or_default();
            world
                .users
                .iter()
                .find(|u| u.user_id == id && u.org_zgid == org)
                .map(user_ref)
                .ok_or_else(|| {
                    item_error(
                        "INVALID_DATA",
                        "invalid owner",
                        json!({ "api_name": f.api_name, "json_path": path }),
                    )
                })
        }
        // Checked with their sibling `$se_module` (or the body's `$send_notification`) by
        // `validate` and the activity rules.
        Kind::WhatId | Kind::Participants => Ok(v.clone()),
        Kind::Subform => v
            .as_array()
            .filter(|a| !a.is_empty() && a.iter().all(Value::is_object))
            .map(|a| Value::Array(a.clone()))
            .ok_or_else(|| invalid("jsonarray")),
    }
}

/// Whether a value counts as absent for a mandatory field.
fn blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

/// Validates `input` (the `index`th record of the body) for `m`; on success the fields to store.
pub(super) fn validate(
    world: &World,
    org: &str,
    m: &Module,
    input: &Map<String, Value>,
    index: usize,
    existing: Option<&Record>,
) -> Result<Map<String, Value>, Value> {
    let mut out = Map::new();
    for (name, v) in input {
        if name == "id" || name.starts_with('$') {
            continue;
        }
        let path = format!("$.data[{index}].{name}");
        let Some(f) = m.field(name) else {
            return Err(item_error(
                "INVALID_DATA",
                "the field api name given seems to be invalid",
                json!({ "api_name": name, "json_path": path }),
            ));
        };
        if f.read_only {
            continue;
        }
        if v.is_null() || (v.as_str().is_some_and(|s| s.is_empty())) {
            if f.mandatory {
                return Err(item_error(
                    "MANDATORY_NOT_FOUND",
                    "required field not found",
                    json!({ "api_name": name, "json_path": path }),
                ));
            }
            if f.kind == Kind::WhatId {
                out.insert("$se_module".into(), Value::Null);
            }
            out.insert(name.clone(), Value::Null);
            continue;
        }
        let checked = match f.kind {
            Kind::WhatId => {
                let (value, module) = super::activity::what_id(world, org, input, v, index)?;
                out.insert("$se_module".into(), Value::String(module));
                value
            }
            Kind::Participants => super::activity::participants(world, org, v, &path)?,
            _ => check_value(world, org, f, v, &path)?,
        };
        out.insert(name.clone(), checked);
    }
    for f in m.fields.iter().filter(|f| f.mandatory) {
        let present = !blank(out.get(f.api_name))
            || (existing.is_some_and(|r| !blank(r.get(f.api_name)))
                && !out.contains_key(f.api_name));
        if !present {
            return Err(item_error(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({ "api_name": f.api_name, "json_path": format!("$.data[{index}].{}", f.api_name) }),
            ));
        }
    }
    Ok(out)
}

/// Keeps derived fields (a person's full name) in step with what was written.
pub(super) fn derive(m: &Module, r: &mut Record) {
    if m.field("Full_Name").is_some() {
        let first = r
            .get("First_Name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let last = r
            .get("Last_Name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let full = format!("{first} {last}").trim().to_owned();
        r.insert("Full_Name".into(), Value::String(full));
    }
}

/// The body's `data` array: present, an array of objects, at most 100.
pub(super) fn body_records(body: &[u8]) -> Result<Vec<Map<String, Value>>, Reply> {
    let malformed = || {
        bad(
            "INVALID_DATA",
            "body",
            json!({ "expected_data_type": "jsonobject" }),
        )
    };
    let v: Value = serde_json::from_slice(body).map_err(|_| malformed())?;
    let data = v.get("data").and_then(Value::as_array).ok_or_else(|| {
        bad(
            "MANDATORY_NOT_FOUND",
            "required field not found",
            json!({ "api_name": "data", "json_path": "$.data" }),
        )
    })?;
    if data.is_empty() {
        return Err(bad(
            "INVALID_DATA",
            "no records given",
            json!({ "api_name": "data", "json_path": "$.data" }),
        ));
    }
    if data.len() > MAX_RECORDS {
        return Err(bad(
            "LIMIT_EXCEEDED",
            "the limit has been exceeded",
            json!({ "limit": MAX_RECORDS, "api_name": "data" }),
        ));
    }
    data.iter()
        .map(|r| r.as_object().cloned().ok_or_else(malformed))
        .collect()
}
