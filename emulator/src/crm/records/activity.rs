//! Activities (reference §9.1): tasks, meetings (`Events`) and calls tied to a record through
//! `What_Id` + `$se_module` (or `Who_Id`, a contact); what makes each one open or closed; the
//! rules Zoho applies when one is written (a completed task's `Closed_Time`, a completed call's
//! duration, a meeting that ends before it starts); the activity related lists of a record; and
//! `Events/{id}/actions/cancel`.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::items::{item_error, lookup_id, write_reply};
use super::read::{Listing, fields_param, page_reply, paging, project, requested_fields};
use super::{CrmRequest, Emu, bad, find_module, parse_id};
use crate::crm::history::{Event, subject};
use crate::crm::meta::Module;
use crate::crm::{Record, iso};
use crate::faults::Endpoint;
use crate::model::World;
use crate::model::watch::Operation;
use crate::reply::Reply;

/// The three activity modules.
pub const MODULES: [&str; 3] = ["Tasks", "Events", "Calls"];

/// The modules whose records have activity related lists.
pub const PARENTS: [&str; 4] = ["Leads", "Contacts", "Accounts", "Deals"];

/// Whether `module` is one of the activity modules.
pub fn is_activity(module: &str) -> bool {
    MODULES.contains(&module)
}

/// An RFC 3339 instant, as Zoho writes them (`+05:30`) or with `Z`.
fn instant(v: Option<&Value>) -> Option<i64> {
    let s = v?.as_str()?;
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// A `yyyy-MM-dd` date as the instant its day starts, in UTC.
fn day_start(v: Option<&Value>) -> Option<i64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(v?.as_str()?, &fmt).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp())
}

/// When an activity is due or starts: a task's due date, a meeting's start, a call's start.
pub fn when(module: &str, r: &Record) -> Option<i64> {
    match module {
        "Tasks" => day_start(r.get("Due_Date")),
        "Events" => instant(r.get("Start_DateTime")),
        "Calls" => instant(r.get("Call_Start_Time")),
        _ => None,
    }
}

/// The open-or-closed rule (reference §9.1, derived): a task is closed once completed; a call
/// once it is not a scheduled outbound one; a meeting once cancelled or over.
pub fn is_closed(module: &str, r: &Record, now: i64) -> bool {
    match module {
        "Tasks" => r.get("Status").and_then(Value::as_str) == Some("Completed"),
        "Calls" => !matches!(
            r.get("Outgoing_Call_Status").and_then(Value::as_str),
            Some("Scheduled" | "Overdue")
        ),
        "Events" => {
            r.get("$event_cancelled").and_then(Value::as_bool) == Some(true)
                || instant(r.get("End_DateTime")).is_some_and(|end| end < now)
        }
        _ => false,
    }
}

/// The records an activity belongs to: `(module, id)` from `What_Id` + `$se_module`, and the
/// contact in `Who_Id`.
pub fn parents(r: &Record) -> Vec<(String, u64)> {
    let id_of = |v: Option<&Value>| {
        v.and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
    };
    let mut out = Vec::new();
    if let (Some(id), Some(module)) = (
        id_of(r.get("What_Id")),
        r.get("$se_module").and_then(Value::as_str),
    ) {
        out.push((module.to_owned(), id));
    }
    if let Some(id) = id_of(r.get("Who_Id")) {
        out.push(("Contacts".to_owned(), id));
    }
    out
}

/// Checks `What_Id` against its `$se_module`; the stored lookup and the module.
pub(super) fn what_id(
    world: &World,
    org: &str,
    input: &Map<String, Value>,
    v: &Value,
    index: usize,
) -> Result<(Value, String), Value> {
    let path = |name: &str| format!("$.data[{index}].{name}");
    let Some(module) = input.get("$se_module").and_then(Value::as_str) else {
        return Err(item_error(
            "MANDATORY_NOT_FOUND",
            "required field not found",
            json!({ "api_name": "$se_module", "json_path": path("$se_module") }),
        ));
    };
    let target = find_module(module)
        .ok()
        .filter(|m| !is_activity(m.api_name) && m.api_name != "Contacts")
        .ok_or_else(|| {
            item_error(
                "INVALID_DATA",
                "invalid data",
                json!({ "api_name": "$se_module", "json_path": path("$se_module") }),
            )
        })?;
    let id = lookup_id(v).and_then(|s| s.parse::<u64>().ok());
    let found = id.and_then(|id| world.crm.record(org, target.api_name, id).map(|r| (id, r)));
    let Some((id, r)) = found else {
        return Err(item_error(
            "INVALID_DATA",
            "the related id given seems to be invalid",
            json!({ "api_name": "What_Id", "json_path": path("What_Id") }),
        ));
    };
    let name = r.get(target.name_field()).cloned().unwrap_or(Value::Null);
    Ok((
        json!({ "name": name, "id": id.to_string() }),
        target.api_name.to_owned(),
    ))
}

/// Checks a meeting's `Participants`; stored as Zoho reads them back (name, email, invited,
/// status, id). Whether they are invited is set by the write's `$send_notification`.
pub(super) fn participants(
    world: &World,
    org: &str,
    v: &Value,
    path: &str,
) -> Result<Value, Value> {
    let invalid = |i: usize| {
        item_error(
            "INVALID_DATA",
            "invalid data",
            json!({ "api_name": "Participants", "json_path": format!("{path}[{i}]") }),
        )
    };
    let items = v.as_array().ok_or_else(|| {
        item_error(
            "INVALID_DATA",
            "invalid data",
            json!({ "expected_data_type": "jsonarray", "api_name": "Participants", "json_path": path }),
        )
    })?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or_default();
        let who = item
            .get("participant")
            .and_then(lookup_id)
            .unwrap_or_default();
        let who = who.as_str();
        let (name, email) = match kind {
            "contact" | "lead" => {
                let module = if kind == "contact" {
                    "Contacts"
                } else {
                    "Leads"
                };
                let r = who
                    .parse::<u64>()
                    .ok()
                    .and_then(|id| world.crm.record(org, module, id))
                    .ok_or_else(|| invalid(i))?;
                (
                    r.get("Full_Name").cloned().unwrap_or(Value::Null),
                    r.get("Email").cloned().unwrap_or(Value::Null),
                )
            }
            "user" => {
                let u = world
                    .users
                    .iter()
                    .find(|u| u.user_id == who && u.org_zgid == org)
                    .ok_or_else(|| invalid(i))?;
                (json!(u.full_name()), json!(u.email))
            }
            "email" => {
                let ok = who
                    .split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'));
                if !ok {
                    return Err(invalid(i));
                }
                (json!(who), json!(who))
            }
            _ => return Err(invalid(i)),
        };
        out.push(json!({
            "type": kind,
            "participant": who,
            "name": name,
            "Email": email,
            "invited": false,
            "status": "not_known",
        }));
    }
    Ok(Value::Array(out))
}

/// Parses a call's `Call_Duration`, `"hh:mm"` (reference §9.1, [K38]), into seconds.
fn duration_seconds(s: &str) -> Option<i64> {
    let (h, m) = s.split_once(':')?;
    if !(1..=2).contains(&h.len()) || m.len() != 2 {
        return None;
    }
    let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
    (h >= 0 && (0..60).contains(&m)).then_some((h * 60 + m) * 60)
}

/// The rules Zoho applies when an activity is written, on `record` (the stored record with
/// this write's fields on it). `before` is the record as it was, for an update; `input` the
/// body's item. An error is the item's error.
pub(super) fn apply_rules(
    m: &Module,
    record: &mut Record,
    before: Option<&Record>,
    input: &Map<String, Value>,
    index: usize,
    now: i64,
) -> Result<(), Value> {
    let path = |name: &str| format!("$.data[{index}].{name}");
    match m.api_name {
        "Tasks" => {
            let completed = record.get("Status").and_then(Value::as_str) == Some("Completed");
            let was = before.is_some_and(|b| is_closed("Tasks", b, now));
            if completed && !was {
                record.insert("Closed_Time".into(), json!(iso(now)));
            } else if !completed {
                record.remove("Closed_Time");
            }
        }
        "Calls" => {
            if let Some(b) = before {
                if input.contains_key("Call_Type") && b.get("Call_Type") != record.get("Call_Type")
                {
                    return Err(item_error(
                        "INVALID_DATA",
                        "Call type cannot be changed",
                        json!({ "api_name": "Call_Type", "json_path": path("Call_Type") }),
                    ));
                }
                if is_closed("Calls", b, now)
                    && input.contains_key("Owner")
                    && b.get("Owner").and_then(|o| o.get("id"))
                        != record.get("Owner").and_then(|o| o.get("id"))
                {
                    return Err(item_error(
                        "INVALID_DATA",
                        "the owner of a completed call cannot be changed",
                        json!({ "api_name": "Owner", "json_path": path("Owner") }),
                    ));
                }
            }
            let kind = record
                .get("Call_Type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let start = instant(record.get("Call_Start_Time"));
            // Ahead of the clock; or scheduled before and this edit does not log it (no
            // duration), so a call past its time stays open until it is logged.
            let still_scheduled = before.is_some_and(|b| !is_closed("Calls", b, now))
                && !input.contains_key("Call_Duration");
            let scheduled =
                kind == "Outbound" && (start.is_some_and(|t| t > now) || still_scheduled);
            let duration = record
                .get("Call_Duration")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned);
            match duration {
                Some(d) => match duration_seconds(&d) {
                    Some(secs) => {
                        record.insert("Call_Duration_in_seconds".into(), json!(secs));
                    }
                    None => {
                        return Err(item_error(
                            "INVALID_DATA",
                            "invalid data",
                            json!({ "api_name": "Call_Duration", "json_path": path("Call_Duration"), "expected_format": "hh:mm" }),
                        ));
                    }
                },
                None if !scheduled && kind != "Missed" => {
                    return Err(item_error(
                        "MANDATORY_NOT_FOUND",
                        "required field not found",
                        json!({ "api_name": "Call_Duration", "json_path": path("Call_Duration") }),
                    ));
                }
                None => {
                    record.remove("Call_Duration_in_seconds");
                }
            }
            let status = match (kind.as_str(), scheduled) {
                ("Outbound", true) => json!("Scheduled"),
                ("Outbound", false) => json!("Completed"),
                _ => Value::Null,
            };
            record.insert("Outgoing_Call_Status".into(), status);
        }
        "Events" => {
            let (start, end) = (
                instant(record.get("Start_DateTime")),
                instant(record.get("End_DateTime")),
            );
            if let (Some(start), Some(end)) = (start, end)
                && end < start
            {
                return Err(item_error(
                    "INVALID_DATA",
                    "End_DateTime should be after Start_DateTime",
                    json!({ "api_name": "End_DateTime", "json_path": path("End_DateTime") }),
                ));
            }
            let invite = input.get("$send_notification").and_then(Value::as_bool) == Some(true);
            if invite
                && let Some(list) = record.get_mut("Participants").and_then(Value::as_array_mut)
            {
                for p in list {
                    p["invited"] = json!(true);
                }
            }
            let mut next = 0;
            let id = record
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if let Some(list) = record.get_mut("Participants").and_then(Value::as_array_mut) {
                for p in list.iter_mut().filter(|p| p.get("id").is_none()) {
                    next += 1;
                    p["id"] = json!(format!("{id}{next:02}"));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Records on each parent's timeline that one of its activities was `action` (`added`,
/// `updated`, `deleted`).
pub(super) fn audit_parents(
    world: &mut World,
    org: &str,
    by: &crate::model::User,
    m: &Module,
    r: &Record,
    action: &'static str,
) {
    let at = world.now();
    let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
    let name = r
        .get(m.name_field())
        .and_then(Value::as_str)
        .unwrap_or_default();
    for (module, pid) in parents(r) {
        if world.crm.record(org, &module, pid).is_some() {
            let event = Event {
                action,
                by,
                at,
                subject: subject(m.api_name, m.id, id, name),
                fields: Vec::new(),
            };
            world.crm.audit(org, pid, event);
        }
    }
}

/// Which activities an activity related list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivityList {
    /// One module's, or all three's (the chronological view).
    pub module: Option<&'static str>,
    pub closed: bool,
}

/// The activity related lists of a parent module: `(api_name, display_label, list)`.
pub fn activity_lists() -> [(&'static str, &'static str, ActivityList); 8] {
    let one = |module, closed| ActivityList {
        module: Some(module),
        closed,
    };
    let all = |closed| ActivityList {
        module: None,
        closed,
    };
    [
        ("Tasks", "Open Tasks", one("Tasks", false)),
        ("Events", "Open Meetings", one("Events", false)),
        ("Calls", "Open Calls", one("Calls", false)),
        ("Tasks_History", "Closed Tasks", one("Tasks", true)),
        ("Events_History", "Closed Meetings", one("Events", true)),
        ("Calls_History", "Closed Calls", one("Calls", true)),
        (
            "Activities_Chronological_View",
            "ChronologicalView",
            all(false),
        ),
        (
            "Activities_Chronological_View_History",
            "ChronologicalView History",
            all(true),
        ),
    ]
}

/// `GET {Parent}/{id}/{list}` for an activity list: the parent's open (or closed) activities,
/// soonest first (the closed ones most recent first), each with `$module`. The chronological
/// view needs `fields`, which may mix the three modules' fields.
pub(super) fn related(
    world: &World,
    req: &CrmRequest,
    parent: &Module,
    org: &str,
    pid: u64,
    list: ActivityList,
) -> Result<Reply, Reply> {
    let modules: Vec<Module> = match list.module {
        Some(one) => vec![find_module(one)?],
        None => MODULES
            .iter()
            .map(|m| find_module(m))
            .collect::<Result<_, _>>()?,
    };
    let fields = match list.module {
        Some(_) => requested_fields(&req.params, &modules[0], true)?,
        None => fields_param(&req.params, true, Some(50), |name| {
            modules.iter().any(|m| m.field(name).is_some())
        })?,
    };
    let now = world.now();
    let sort_module = list.module.unwrap_or("Activities");
    let pg = paging(&req.params, sort_module, "id:asc", now)?;
    let mut rows: Vec<(Option<i64>, u64, &Module, &Record)> = Vec::new();
    for m in &modules {
        let Some(records) = world.crm.module(org, m.api_name) else {
            continue;
        };
        for (id, r) in records {
            let belongs = parents(r)
                .iter()
                .any(|(module, p)| *p == pid && module == parent.api_name);
            if belongs && is_closed(m.api_name, r, now) == list.closed {
                rows.push((when(m.api_name, r), *id, m, r));
            }
        }
    }
    // Undated last; among the closed, the most recent first.
    rows.sort_by_key(|(t, id, _, _)| {
        let at = t.unwrap_or(0);
        (t.is_none(), if list.closed { -at } else { at }, *id)
    });
    let total = rows.len();
    let page: Vec<Value> = rows
        .iter()
        .skip(pg.offset)
        .take(pg.per_page)
        .map(|(_, _, m, r)| {
            let own = fields.as_ref().map(|names| {
                names
                    .iter()
                    .filter(|n| m.field(n).is_some())
                    .cloned()
                    .collect::<Vec<_>>()
            });
            let mut v = project(r, &own);
            v["$module"] = json!(m.api_name);
            if let Some(se) = r.get("$se_module") {
                v["$se_module"] = se.clone();
            }
            v
        })
        .collect();
    Ok(page_reply(
        page,
        total,
        &pg,
        &Listing {
            sort_by: "id",
            desc: false,
            module: sort_module,
            now,
            tokens: false,
        },
    ))
}

/// `POST Events/{id}/actions/cancel` (reference §9.1): cancels an invited, not yet ended
/// meeting; `send_cancelling_mail` is mandatory.
pub(super) async fn cancel(emu: Emu, req: CrmRequest, body: Bytes) -> Response {
    let path = format!("{}/{{id}}/actions/cancel", req.module);
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, user) = req.enter(world, fault, "UPDATE")?;
        if m.api_name != "Events" {
            return Err(Reply::api_error(
                StatusCode::NOT_FOUND,
                "INVALID_URL_PATTERN",
                "Please check if the URL trying to access is a correct one",
                json!({}),
            ));
        }
        let raw_id = req.id.clone().unwrap_or_default();
        let id = parse_id(&raw_id)?;
        let body: Value = serde_json::from_slice(&body).map_err(|_| {
            bad("INVALID_DATA", "body", json!({ "expected_data_type": "jsonobject" }))
        })?;
        let item = body
            .get("data")
            .and_then(Value::as_array)
            .and_then(|d| d.first())
            .cloned()
            .unwrap_or(Value::Null);
        let Some(send_mail) = item.get("send_cancelling_mail") else {
            return Ok(write_reply(
                vec![item_error(
                    "MANDATORY_NOT_FOUND",
                    "required field not found",
                    json!({ "api_name": "send_cancelling_mail", "json_path": "$.data[0].send_cancelling_mail" }),
                )],
                StatusCode::OK,
            ));
        };
        let Some(send_mail) = send_mail.as_bool() else {
            return Ok(write_reply(
                vec![item_error(
                    "INVALID_DATA",
                    "invalid data",
                    json!({ "expected_data_type": "boolean", "api_name": "send_cancelling_mail", "json_path": "$.data[0].send_cancelling_mail" }),
                )],
                StatusCode::OK,
            ));
        };
        if item.get("cancelled_by").is_some() && !send_mail {
            return Ok(write_reply(
                vec![item_error(
                    "DEPENDENT_MISMATCH",
                    "cancelled_by needs send_cancelling_mail",
                    json!({ "api_name": "cancelled_by", "json_path": "$.data[0].cancelled_by" }),
                )],
                StatusCode::OK,
            ));
        }
        let org = user.org_zgid.clone();
        let now = world.now();
        let not_allowed = |reason: &str| {
            write_reply(
                vec![item_error(
                    "NOT_ALLOWED",
                    "the meeting cannot be cancelled",
                    json!({ "reason": reason, "id": raw_id }),
                )],
                StatusCode::OK,
            )
        };
        let Some(before) = world.crm.record(&org, "Events", id).cloned() else {
            return Ok(write_reply(
                vec![item_error("INVALID_DATA", "invalid data", json!({ "id": raw_id }))],
                StatusCode::OK,
            ));
        };
        let invited = before
            .get("Participants")
            .and_then(Value::as_array)
            .is_some_and(|ps| ps.iter().any(|p| p["invited"] == json!(true)));
        if !invited {
            return Ok(not_allowed("no_participants_invited"));
        }
        // Already cancelled: Zoho lists no code for it (reference §9.1), so `NOT_ALLOWED`.
        if before.get("$event_cancelled") == Some(&json!(true)) {
            return Ok(not_allowed("already_cancelled"));
        }
        if instant(before.get("End_DateTime")).is_some_and(|end| end < now) {
            return Ok(not_allowed("completed_meeting"));
        }
        let me = crate::crm::user_ref(&user);
        let mut after = before.clone();
        after.insert("$event_cancelled".into(), json!(true));
        after.insert("Modified_By".into(), me);
        after.insert("Modified_Time".into(), json!(iso(now)));
        world.crm.module_mut(&org, "Events").insert(id, after.clone());
        let name = after
            .get("Event_Title")
            .and_then(Value::as_str)
            .unwrap_or_default();
        world.crm.audit(
            &org,
            id,
            Event {
                action: "updated",
                by: &user,
                at: now,
                subject: subject("Events", m.id, &raw_id, name),
                fields: Vec::new(),
            },
        );
        audit_parents(world, &org, &user, &m, &after, "updated");
        let at = world.now_ms();
        world.watch.changed(
            &org,
            "Events",
            Operation::Update,
            std::slice::from_ref(&raw_id),
            &["$event_cancelled".to_owned()],
            at,
        );
        Ok(write_reply(
            vec![json!({
                "code": "SUCCESS",
                "details": { "id": raw_id },
                "message": "The event is successfully cancelled",
                "status": "success",
            })],
            StatusCode::OK,
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_duration_is_hours_and_minutes() {
        assert_eq!(duration_seconds("00:30"), Some(1800));
        assert_eq!(duration_seconds("1:05"), Some(3900));
        assert_eq!(duration_seconds("0:60"), None);
        assert_eq!(duration_seconds("30"), None);
        assert_eq!(duration_seconds("a:10"), None);
    }

    #[test]
    fn open_and_closed_follow_the_rules() {
        let now = 1_800_000_000;
        let r = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(is_closed(
            "Tasks",
            &r(json!({ "Status": "Completed" })),
            now
        ));
        assert!(!is_closed(
            "Tasks",
            &r(json!({ "Status": "Not Started" })),
            now
        ));
        assert!(!is_closed(
            "Calls",
            &r(json!({ "Outgoing_Call_Status": "Scheduled" })),
            now
        ));
        assert!(is_closed(
            "Calls",
            &r(json!({ "Call_Type": "Inbound" })),
            now
        ));
        let ended = iso(now - 60);
        let later = iso(now + 3600);
        assert!(is_closed(
            "Events",
            &r(json!({ "End_DateTime": ended })),
            now
        ));
        assert!(!is_closed(
            "Events",
            &r(json!({ "End_DateTime": later })),
            now
        ));
        assert!(is_closed(
            "Events",
            &r(json!({ "End_DateTime": later, "$event_cancelled": true })),
            now
        ));
    }
}
