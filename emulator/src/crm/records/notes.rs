//! Notes (reference §8.1): `GET|POST|PUT|DELETE /Notes`, `GET|PUT|DELETE /Notes/{id}`, and a
//! record's notes at `{Module}/{id}/Notes` (read, and create with the parent from the path). A
//! note belongs to one record (`Parent_Id`); adding, changing and deleting one shows in that
//! record's timeline.

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::items::item_error;
use super::items::write_reply;
use super::read::{Listing, page_reply, paging, sort_params, sorted};
use super::validate::body_records;
use super::write::ids_param;
use super::{CrmRequest, Emu, MAX_FIELDS, bad, find_module, parse_id};
use crate::crm::history::{Event, subject};
use crate::crm::meta::Module;
use crate::crm::{Record, iso, user_ref};
use crate::faults::{Endpoint, FaultKind};
use crate::model::watch::Operation;
use crate::model::{User, World};
use crate::reply::Reply;

/// The fields a note has; `fields` may ask for any of them.
const NOTE_FIELDS: &[&str] = &[
    "Note_Title",
    "Note_Content",
    "Parent_Id",
    "Owner",
    "Created_By",
    "Modified_By",
    "Created_Time",
    "Modified_Time",
    "$attachments",
    "$editable",
    "$size",
    "$state",
    "$voice_note",
];
const TITLE_MAX: usize = 120;
const CONTENT_MAX: usize = 32_000;

impl CrmRequest {
    /// The user, authorized for `op` on notes.
    fn enter_notes(
        &self,
        world: &mut World,
        fault: Option<FaultKind>,
        op: &str,
    ) -> Result<User, Reply> {
        self.authorize(
            world,
            fault,
            &format!("ZohoCRM.modules.notes.{op}"),
            "Notes",
        )
    }
}

/// `GET|POST|PUT|DELETE /Notes`.
pub(super) async fn collection(emu: Emu, req: CrmRequest, body: Bytes) -> Response {
    req.run(&emu, Endpoint::Records, "Notes", |world, fault| {
        match req.method {
            Method::GET => {
                let user = req.enter_notes(world, fault, "READ")?;
                list(world, &req, &user, None)
            }
            Method::POST => {
                let user = req.enter_notes(world, fault, "CREATE")?;
                Ok(create(world, &user, body_records(&body)?, None))
            }
            Method::PUT => {
                let user = req.enter_notes(world, fault, "UPDATE")?;
                Ok(update(world, &user, body_records(&body)?, None))
            }
            _ => {
                let ids = ids_param(&req)?;
                let user = req.enter_notes(world, fault, "DELETE")?;
                Ok(delete(world, &user, &ids))
            }
        }
    })
    .await
}

/// `GET|PUT|DELETE /Notes/{id}`.
pub(super) async fn one(emu: Emu, req: CrmRequest, body: Bytes) -> Response {
    req.run(&emu, Endpoint::Records, "Notes/{id}", |world, fault| {
        let raw = req.id.clone().unwrap_or_default();
        let id = parse_id(&raw)?;
        match req.method {
            Method::GET => {
                let user = req.enter_notes(world, fault, "READ")?;
                let fields = note_fields(&req, false)?;
                let note = world
                    .crm
                    .notes
                    .get(&user.org_zgid)
                    .and_then(|n| n.get(&id))
                    .ok_or_else(no_such_note)?;
                Ok(Reply::Json(
                    StatusCode::OK,
                    json!({ "data": [project(note, fields.as_deref())] }),
                ))
            }
            Method::PUT => {
                let user = req.enter_notes(world, fault, "UPDATE")?;
                Ok(update(world, &user, body_records(&body)?, Some(id)))
            }
            _ => {
                let user = req.enter_notes(world, fault, "DELETE")?;
                Ok(delete(world, &user, &[raw]))
            }
        }
    })
    .await
}

/// `GET|POST {Module}/{id}/Notes`: the record's notes, or a note added to it.
pub(super) async fn of_record(emu: Emu, req: CrmRequest, body: Bytes) -> Response {
    let path = format!("{}/{{id}}/Notes", req.module);
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let m = find_module(&req.module)?;
        let id = parse_id(req.id.as_deref().unwrap_or_default())?;
        let op = if req.method == Method::POST {
            "CREATE"
        } else {
            "READ"
        };
        let user = req.enter_notes(world, fault, op)?;
        let parent = world
            .crm
            .record(&user.org_zgid, m.api_name, id)
            .ok_or_else(super::no_such_record)?
            .clone();
        if req.method == Method::POST {
            return Ok(create(
                world,
                &user,
                body_records(&body)?,
                Some((&m, id, &parent)),
            ));
        }
        list(world, &req, &user, Some(id))
    })
    .await
}

fn no_such_note() -> Reply {
    bad(
        "INVALID_DATA",
        "the related id given seems to be invalid",
        json!({ "resource_path_index": 1 }),
    )
}

/// The `fields` parameter of a notes read (the v8 docs make it mandatory for lists).
fn note_fields(req: &CrmRequest, required: bool) -> Result<Option<Vec<String>>, Reply> {
    super::read::fields_param(&req.params, required, Some(MAX_FIELDS), |n| {
        NOTE_FIELDS.contains(&n)
    })
}

fn project(note: &Record, fields: Option<&[String]>) -> Value {
    match fields {
        None => Value::Object(note.clone()),
        Some(names) => {
            let mut out = Map::new();
            out.insert("id".into(), note.get("id").cloned().unwrap_or(Value::Null));
            for n in names {
                out.insert(n.clone(), note.get(n).cloned().unwrap_or(Value::Null));
            }
            Value::Object(out)
        }
    }
}

/// A page of the org's notes, or of one record's.
fn list(world: &World, req: &CrmRequest, user: &User, parent: Option<u64>) -> Result<Reply, Reply> {
    let fields = note_fields(req, true)?;
    let (sort_by, desc) = sort_params(&req.params)?;
    let now = world.now();
    let sort_key = format!("{sort_by}:{}", if desc { "desc" } else { "asc" });
    let pg = paging(&req.params, "Notes", &sort_key, now)?;
    let empty = Default::default();
    let notes = world.crm.notes.get(&user.org_zgid).unwrap_or(&empty);
    let parent = parent.map(|p| p.to_string());
    let mine = notes.iter().filter(|(_, n)| {
        parent.as_deref().is_none_or(|p| {
            n.get("Parent_Id")
                .and_then(|v| v.get("id"))
                .and_then(Value::as_str)
                == Some(p)
        })
    });
    let ordered = sorted(mine, &sort_by, desc);
    let total = ordered.len();
    let page: Vec<Value> = ordered
        .iter()
        .skip(pg.offset)
        .take(pg.per_page)
        .map(|(_, n)| project(n, fields.as_deref()))
        .collect();
    Ok(page_reply(
        page,
        total,
        &pg,
        &Listing {
            sort_by: &sort_by,
            desc,
            module: "Notes",
            now,
            tokens: false,
        },
    ))
}

/// The text fields of a note in a write, checked: `Note_Content` is required when `creating`.
fn note_text(
    input: &Map<String, Value>,
    i: usize,
    creating: bool,
) -> Result<Map<String, Value>, Value> {
    let mut out = Map::new();
    for (name, max, required) in [
        ("Note_Title", TITLE_MAX, false),
        ("Note_Content", CONTENT_MAX, creating),
    ] {
        match input.get(name) {
            None | Some(Value::Null) if required => {
                return Err(item_error(
                    "MANDATORY_NOT_FOUND",
                    "required field not found",
                    json!({ "api_name": name, "json_path": format!("$.data[{i}].{name}") }),
                ));
            }
            None => {}
            Some(Value::Null) => {
                out.insert(name.into(), Value::Null);
            }
            Some(Value::String(s)) if s.chars().count() > max => {
                return Err(item_error(
                    "INVALID_DATA",
                    "invalid data",
                    json!({ "api_name": name, "maximum_length": max, "json_path": format!("$.data[{i}].{name}") }),
                ));
            }
            Some(Value::String(s)) if required && s.trim().is_empty() => {
                return Err(item_error(
                    "MANDATORY_NOT_FOUND",
                    "required field not found",
                    json!({ "api_name": name, "json_path": format!("$.data[{i}].{name}") }),
                ));
            }
            Some(Value::String(s)) => {
                out.insert(name.into(), Value::String(s.clone()));
            }
            Some(_) => {
                return Err(item_error(
                    "INVALID_DATA",
                    "invalid data",
                    json!({ "api_name": name, "expected_data_type": "text", "json_path": format!("$.data[{i}].{name}") }),
                ));
            }
        }
    }
    Ok(out)
}

/// The record a new note's `Parent_Id` names: `{"module":{"api_name":…},"id":…}`.
fn parent_of(
    world: &World,
    org: &str,
    input: &Map<String, Value>,
    i: usize,
) -> Result<(Module, u64, Record), Value> {
    let invalid = || {
        item_error(
            "INVALID_DATA",
            "the related id given seems to be invalid",
            json!({ "api_name": "Parent_Id", "json_path": format!("$.data[{i}].Parent_Id") }),
        )
    };
    let Some(p) = input.get("Parent_Id") else {
        return Err(item_error(
            "MANDATORY_NOT_FOUND",
            "required field not found",
            json!({ "api_name": "Parent_Id", "json_path": format!("$.data[{i}].Parent_Id") }),
        ));
    };
    let module = p
        .get("module")
        .and_then(|m| m.get("api_name"))
        .and_then(Value::as_str)
        .and_then(|name| find_module(name).ok())
        .ok_or_else(invalid)?;
    let id = p
        .get("id")
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        })
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(invalid)?;
    let record = world
        .crm
        .record(org, module.api_name, id)
        .cloned()
        .ok_or_else(invalid)?;
    Ok((module, id, record))
}

fn note_subject(note: &Record) -> Value {
    let id = note.get("id").and_then(Value::as_str).unwrap_or_default();
    let name = note
        .get("Note_Title")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .or_else(|| note.get("Note_Content").and_then(Value::as_str))
        .unwrap_or_default();
    subject(
        "Notes",
        NOTES_MODULE_ID,
        id,
        &name.chars().take(60).collect::<String>(),
    )
}

/// The id Zoho's metadata gives the Notes module here.
const NOTES_MODULE_ID: u32 = 50;

fn parent_id(note: &Record) -> Option<u64> {
    note.get("Parent_Id")?.get("id")?.as_str()?.parse().ok()
}

fn item_ok(message: &str, note: &Record) -> Value {
    json!({
        "code": "SUCCESS",
        "details": {
            "id": note.get("id"),
            "Created_Time": note.get("Created_Time"),
            "Modified_Time": note.get("Modified_Time"),
            "Created_By": note.get("Created_By"),
            "Modified_By": note.get("Modified_By"),
        },
        "message": message,
        "status": "success",
    })
}

/// Adds notes; `path_parent` is the record of `{Module}/{id}/Notes`, else each names its own.
fn create(
    world: &mut World,
    user: &User,
    inputs: Vec<Map<String, Value>>,
    path_parent: Option<(&Module, u64, &Record)>,
) -> Reply {
    let org = user.org_zgid.clone();
    let now = world.now();
    let me = user_ref(user);
    let mut items = Vec::new();
    let mut done = Vec::new();
    for (i, input) in inputs.into_iter().enumerate() {
        let parent = match path_parent {
            Some((m, id, r)) => Ok((m.clone(), id, r.clone())),
            None => parent_of(world, &org, &input, i),
        };
        let checked = parent.and_then(|p| note_text(&input, i, true).map(|t| (p, t)));
        let ((module, pid, precord), text) = match checked {
            Ok(ok) => ok,
            Err(item) => {
                items.push(item);
                continue;
            }
        };
        let id = world.crm.new_id();
        let mut note = Map::new();
        note.insert("id".into(), json!(id.to_string()));
        note.insert("Note_Title".into(), Value::Null);
        note.extend(text);
        let pname = precord
            .get(module.name_field())
            .cloned()
            .unwrap_or(Value::Null);
        note.insert(
            "Parent_Id".into(),
            json!({ "module": { "api_name": module.api_name, "id": module.id.to_string() }, "id": pid.to_string(), "name": pname }),
        );
        for k in ["Owner", "Created_By", "Modified_By"] {
            note.insert(k.into(), me.clone());
        }
        note.insert("Created_Time".into(), json!(iso(now)));
        note.insert("Modified_Time".into(), json!(iso(now)));
        for (k, v) in [
            ("$editable", json!(true)),
            ("$state", json!("save")),
            ("$voice_note", json!(false)),
            ("$attachments", Value::Null),
            ("$size", Value::Null),
        ] {
            note.insert(k.into(), v);
        }
        items.push(item_ok("record added", &note));
        world.crm.audit(
            &org,
            pid,
            Event {
                action: "added",
                by: user,
                at: now,
                subject: note_subject(&note),
                fields: Vec::new(),
            },
        );
        world
            .crm
            .notes
            .entry(org.clone())
            .or_default()
            .insert(id, note);
        done.push(id.to_string());
    }
    notify(world, &org, Operation::Insert, &done, &[]);
    write_reply(items, StatusCode::CREATED)
}

/// Changes notes' title or content; each item carries its `id` unless the path names it.
fn update(
    world: &mut World,
    user: &User,
    inputs: Vec<Map<String, Value>>,
    path_id: Option<u64>,
) -> Reply {
    let org = user.org_zgid.clone();
    let now = world.now();
    let mut items = Vec::new();
    let (mut done, mut affected) = (Vec::new(), std::collections::BTreeSet::new());
    for (i, input) in inputs.into_iter().enumerate() {
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
        let exists = id.filter(|id| {
            world
                .crm
                .notes
                .get(&org)
                .is_some_and(|n| n.contains_key(id))
        });
        let Some(id) = exists else {
            items.push(item_error(
                "INVALID_DATA",
                "the id given seems to be invalid",
                json!({ "api_name": "id", "json_path": format!("$.data[{i}].id") }),
            ));
            continue;
        };
        let text = match note_text(&input, i, false) {
            Ok(t) => t,
            Err(item) => {
                items.push(item);
                continue;
            }
        };
        let Some(note) = world.crm.notes.get_mut(&org).and_then(|n| n.get_mut(&id)) else {
            continue;
        };
        affected.extend(text.keys().cloned());
        done.push(id.to_string());
        note.extend(text);
        note.insert("Modified_By".into(), user_ref(user));
        note.insert("Modified_Time".into(), json!(iso(now)));
        let note = note.clone();
        items.push(item_ok("record updated", &note));
        if let Some(pid) = parent_id(&note) {
            world.crm.audit(
                &org,
                pid,
                Event {
                    action: "updated",
                    by: user,
                    at: now,
                    subject: note_subject(&note),
                    fields: Vec::new(),
                },
            );
        }
    }
    let affected: Vec<String> = affected.into_iter().collect();
    notify(world, &org, Operation::Update, &done, &affected);
    write_reply(items, StatusCode::OK)
}

/// Tells the org's channels on Notes what happened to `ids`.
fn notify(world: &mut World, org: &str, op: Operation, ids: &[String], affected: &[String]) {
    let at = world.now_ms();
    world.watch.changed(org, "Notes", op, ids, affected, at);
}

fn delete(world: &mut World, user: &User, ids: &[String]) -> Reply {
    let org = user.org_zgid.clone();
    let now = world.now();
    let mut items = Vec::new();
    let mut done = Vec::new();
    for raw in ids {
        let removed = raw
            .parse::<u64>()
            .ok()
            .and_then(|id| world.crm.notes.get_mut(&org).and_then(|n| n.remove(&id)));
        match removed {
            Some(note) => {
                if let Some(pid) = parent_id(&note) {
                    world.crm.audit(
                        &org,
                        pid,
                        Event {
                            action: "deleted",
                            by: user,
                            at: now,
                            subject: note_subject(&note),
                            fields: Vec::new(),
                        },
                    );
                }
                done.push(raw.clone());
                items.push(json!({ "code": "SUCCESS", "details": { "id": raw }, "message": "record deleted", "status": "success" }));
            }
            None => items.push(item_error(
                "INVALID_DATA",
                "record not deleted",
                json!({ "id": raw }),
            )),
        }
    }
    notify(world, &org, Operation::Delete, &done, &[]);
    write_reply(items, StatusCode::OK)
}
