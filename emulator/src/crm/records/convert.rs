//! Lead conversion (reference §9.2): `POST Leads/{id}/actions/convert` makes (or links) the
//! Contact, the Account (made from the Lead's Company) and, when `Deals` is sent, a Deal; moves
//! the Lead's notes, attachments and open activities to the Contact; and marks the Lead converted
//! (`$converted`, `$converted_detail`, `Converted__s`), which hides it from lists and searches.
//! `GET Leads/{id}/__conversion_options` suggests the Contacts and Accounts it could join. With
//! `POST config {"convert_scheduled": true}` a conversion is answered 202 `SCHEDULED` and carried
//! out a moment later, as Zoho does when it converts in the background.
//!
//! `$converted_detail` is not described by Zoho (reference §9.2): the emulator gives the same
//! shape as a conversion's answer, `{"Contacts":{name,id},"Accounts":{name,id}|null,
//! "Deals":{name,id}|null,"converted_time":…}`.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::activity::{MODULES as ACTIVITY_MODULES, is_closed, parents};
use super::items::{item_error, lookup_id, write_reply};
use super::read::is_converted;
use super::validate::{check_value, derive};
use super::{CrmRequest, Emu, bad, find_module, parse_id};
use crate::crm::history::{Event, subject};
use crate::crm::{Record, iso, user_ref};
use crate::faults::Endpoint;
use crate::model::watch::Operation;
use crate::model::{User, World};
use crate::reply::Reply;

/// How long a scheduled conversion waits before it is carried out.
const SCHEDULED_AFTER: Duration = Duration::from_millis(1500);

/// What one conversion asks for, checked.
#[derive(Clone, Debug)]
struct Plan {
    lead: u64,
    owner: Value,
    account: Option<u64>,
    contact: Option<u64>,
    deal: Option<Map<String, Value>>,
}

fn id_of(v: Option<&Value>) -> Option<u64> {
    v.and_then(lookup_id).and_then(|s| s.parse().ok())
}

/// Checks the body's item against the world: the plan, or the item's error.
fn make_plan(
    world: &World,
    org: &str,
    lead_id: u64,
    lead: &Record,
    item: &Map<String, Value>,
) -> Result<Plan, Value> {
    let owner = match item.get("assign_to") {
        None | Some(Value::Null) => lead.get("Owner").cloned().unwrap_or(Value::Null),
        Some(v) => {
            let id = lookup_id(v).unwrap_or_default();
            world
                .users
                .iter()
                .find(|u| u.user_id == id && u.org_zgid == org)
                .map(user_ref)
                .ok_or_else(|| {
                    item_error(
                        "INVALID_DATA",
                        "invalid data",
                        json!({ "api_name": "assign_to", "json_path": "$.data[0].assign_to" }),
                    )
                })?
        }
    };
    let existing = |key: &str, module: &str| -> Result<Option<u64>, Value> {
        match item.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => id_of(Some(v))
                .filter(|id| world.crm.record(org, module, *id).is_some())
                .map(Some)
                .ok_or_else(|| {
                    item_error(
                        "INVALID_DATA",
                        "the related id given seems to be invalid",
                        json!({ "api_name": key, "json_path": format!("$.data[0].{key}") }),
                    )
                }),
        }
    };
    let account = existing("Accounts", "Accounts")?;
    let contact = existing("Contacts", "Contacts")?;
    let deal = match item.get("Deals") {
        None | Some(Value::Null) => None,
        Some(Value::Object(d)) => Some(deal_fields(world, org, d)?),
        Some(_) => {
            return Err(item_error(
                "INVALID_DATA",
                "invalid data",
                json!({ "expected_data_type": "jsonobject", "api_name": "Deals", "json_path": "$.data[0].Deals" }),
            ));
        }
    };
    Ok(Plan {
        lead: lead_id,
        owner,
        account,
        contact,
        deal,
    })
}

/// The Deal's fields, checked against the Deals module (`Deal_Name`, `Stage` and
/// `Closing_Date` are mandatory; `Pipeline` only where the org has it, and this one has not).
fn deal_fields(
    world: &World,
    org: &str,
    d: &Map<String, Value>,
) -> Result<Map<String, Value>, Value> {
    let deals =
        find_module("Deals").map_err(|_| item_error("INVALID_DATA", "invalid data", json!({})))?;
    let mut out = Map::new();
    for (name, v) in d {
        if name.starts_with('$') {
            continue;
        }
        let path = format!("$.data[0].Deals.{name}");
        let field = deals.field(name).filter(|f| !f.read_only).ok_or_else(|| {
            item_error(
                "INVALID_DATA",
                "the field api name given seems to be invalid",
                json!({ "api_name": name, "json_path": path }),
            )
        })?;
        if !v.is_null() {
            out.insert(name.clone(), check_value(world, org, field, v, &path)?);
        }
    }
    for mandatory in ["Deal_Name", "Stage", "Closing_Date"] {
        if out
            .get(mandatory)
            .is_none_or(|v| v.as_str().is_some_and(|s| s.trim().is_empty()))
        {
            return Err(item_error(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({ "api_name": mandatory, "json_path": format!("$.data[0].Deals.{mandatory}") }),
            ));
        }
    }
    Ok(out)
}

/// `{name, id}` of a record.
fn named(world: &World, org: &str, module: &str, id: u64) -> Value {
    let name_field = find_module(module).map(|m| m.name_field()).unwrap_or("id");
    let name = world
        .crm
        .record(org, module, id)
        .and_then(|r| r.get(name_field).cloned())
        .unwrap_or(Value::Null);
    json!({ "name": name, "id": id.to_string() })
}

/// A new record of `module` with `fields`, owned by `owner` and made by `by`; its id.
fn insert(
    world: &mut World,
    org: &str,
    module: &str,
    owner: &Value,
    by: &User,
    fields: Map<String, Value>,
) -> u64 {
    let id = world.crm.new_id();
    let now = iso(world.now());
    let me = user_ref(by);
    let mut r = Map::new();
    r.insert("id".into(), json!(id.to_string()));
    r.insert("Owner".into(), owner.clone());
    r.insert("Created_By".into(), me.clone());
    r.insert("Modified_By".into(), me);
    r.insert("Created_Time".into(), json!(now));
    r.insert("Modified_Time".into(), json!(now));
    r.insert("$approval_state".into(), json!("approved"));
    r.insert("$editable".into(), json!(true));
    r.extend(fields);
    if let Ok(m) = find_module(module) {
        derive(&m, &mut r);
    }
    world.crm.module_mut(org, module).insert(id, r);
    id
}

/// Carries the plan out; the answer's `details`.
fn carry_out(world: &mut World, user: &User, plan: &Plan) -> Value {
    let org = user.org_zgid.clone();
    let Some(lead) = world.crm.record(&org, "Leads", plan.lead).cloned() else {
        return Value::Null;
    };
    let text = |k: &str| lead.get(k).filter(|v| !v.is_null()).cloned();
    let mut made: Vec<(&str, String)> = Vec::new();
    // The Account: the one named, else one made from the Lead's Company.
    let account = plan.account.or_else(|| {
        let company =
            text("Company").filter(|c| c.as_str().is_some_and(|s| !s.trim().is_empty()))?;
        let mut f = Map::new();
        f.insert("Account_Name".into(), company);
        for (from, to) in [
            ("Phone", "Phone"),
            ("Website", "Website"),
            ("Industry", "Industry"),
            ("City", "Billing_City"),
            ("Country", "Billing_Country"),
        ] {
            if let Some(v) = text(from) {
                f.insert(to.into(), v);
            }
        }
        let id = insert(world, &org, "Accounts", &plan.owner, user, f);
        made.push(("Accounts", id.to_string()));
        Some(id)
    });
    // The Contact: the one named, else one made from the Lead's person.
    let contact = plan.contact.unwrap_or_else(|| {
        let mut f = Map::new();
        for (from, to) in [
            ("Salutation", "Salutation"),
            ("First_Name", "First_Name"),
            ("Last_Name", "Last_Name"),
            ("Email", "Email"),
            ("Phone", "Phone"),
            ("Mobile", "Mobile"),
            ("Designation", "Title"),
            ("Lead_Source", "Lead_Source"),
            ("City", "Mailing_City"),
            ("Country", "Mailing_Country"),
            ("Description", "Description"),
        ] {
            if let Some(v) = text(from) {
                f.insert(to.into(), v);
            }
        }
        if let Some(a) = account {
            f.insert("Account_Name".into(), named(world, &org, "Accounts", a));
        }
        let id = insert(world, &org, "Contacts", &plan.owner, user, f);
        made.push(("Contacts", id.to_string()));
        id
    });
    let deal = plan.deal.clone().map(|mut f| {
        if let Some(a) = account {
            f.insert("Account_Name".into(), named(world, &org, "Accounts", a));
        }
        f.insert(
            "Contact_Name".into(),
            named(world, &org, "Contacts", contact),
        );
        if let Some(v) = text("Lead_Source") {
            f.entry("Lead_Source").or_insert(v);
        }
        let id = insert(world, &org, "Deals", &plan.owner, user, f);
        made.push(("Deals", id.to_string()));
        id
    });
    let contact_ref = named(world, &org, "Contacts", contact);
    let now = world.now();
    let lead_id = plan.lead.to_string();

    // Notes and attachments go to the Contact.
    let contact_name = contact_ref["name"].clone();
    let mut moved_notes = Vec::new();
    if let Some(notes) = world.crm.notes.get_mut(&org) {
        for (id, n) in notes.iter_mut() {
            if n.get("Parent_Id")
                .and_then(|p| p.get("id"))
                .and_then(Value::as_str)
                == Some(lead_id.as_str())
            {
                n.insert(
                    "Parent_Id".into(),
                    json!({ "module": { "api_name": "Contacts", "id": "2" }, "id": contact.to_string(), "name": contact_name }),
                );
                moved_notes.push(id.to_string());
            }
        }
    }
    if let Some(files) = world.crm.attachments.get_mut(&org) {
        for a in files.values_mut() {
            if a.get("Parent_Id")
                .and_then(|p| p.get("id"))
                .and_then(Value::as_str)
                == Some(lead_id.as_str())
            {
                a.insert(
                    "Parent_Id".into(),
                    json!({ "id": contact.to_string(), "name": contact_name }),
                );
                a.insert("$se_module".into(), json!("Contacts"));
            }
        }
    }
    // Open activities go to the Contact (and the Account); closed ones stay with the Lead.
    let mut moved = Vec::new();
    for module in ACTIVITY_MODULES {
        let ids: Vec<u64> = world
            .crm
            .module(&org, module)
            .map(|all| {
                all.iter()
                    .filter(|(_, r)| {
                        !is_closed(module, r, now)
                            && parents(r)
                                .iter()
                                .any(|(m, id)| m == "Leads" && *id == plan.lead)
                    })
                    .map(|(id, _)| *id)
                    .collect()
            })
            .unwrap_or_default();
        let account_ref = account.map(|a| named(world, &org, "Accounts", a));
        for id in ids {
            if let Some(r) = world.crm.module_mut(&org, module).get_mut(&id) {
                r.insert("Who_Id".into(), contact_ref.clone());
                match &account_ref {
                    Some(a) => {
                        r.insert("What_Id".into(), a.clone());
                        r.insert("$se_module".into(), json!("Accounts"));
                    }
                    None => {
                        r.insert("What_Id".into(), Value::Null);
                        r.insert("$se_module".into(), Value::Null);
                    }
                }
                moved.push((module, id.to_string()));
            }
        }
    }

    let details = json!({
        "Contacts": contact_ref,
        "Accounts": account.map(|a| named(world, &org, "Accounts", a)),
        "Deals": deal.map(|d| named(world, &org, "Deals", d)),
    });
    let mut converted = details.clone();
    converted["converted_time"] = json!(iso(now));
    if let Some(r) = world.crm.module_mut(&org, "Leads").get_mut(&plan.lead) {
        r.insert("$converted".into(), json!(true));
        r.insert("Converted__s".into(), json!(true));
        r.insert("$converted_detail".into(), converted);
        r.insert("Modified_By".into(), user_ref(user));
        r.insert("Modified_Time".into(), json!(iso(now)));
    }
    let name = lead
        .get("Full_Name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    world.crm.audit(
        &org,
        plan.lead,
        Event {
            action: "converted",
            by: user,
            at: now,
            subject: subject("Leads", 1, &lead_id, name),
            fields: Vec::new(),
        },
    );
    let at = world.now_ms();
    let watch = &mut world.watch;
    watch.changed(
        &org,
        "Leads",
        Operation::Update,
        std::slice::from_ref(&lead_id),
        &["Converted__s".to_owned()],
        at,
    );
    for (module, id) in &made {
        watch.changed(
            &org,
            module,
            Operation::Insert,
            std::slice::from_ref(id),
            &[],
            at,
        );
    }
    watch.changed(
        &org,
        "Notes",
        Operation::Update,
        &moved_notes,
        &["Parent_Id".to_owned()],
        at,
    );
    for (module, id) in &moved {
        watch.changed(
            &org,
            module,
            Operation::Update,
            std::slice::from_ref(id),
            &["Who_Id".to_owned(), "What_Id".to_owned()],
            at,
        );
    }
    details
}

/// `POST Leads/{id}/actions/convert`.
pub(super) async fn convert(emu: Emu, req: CrmRequest, body: Bytes) -> Response {
    let path = format!("{}/{{id}}/actions/convert", req.module);
    let later = emu.clone();
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, user) = req.enter(world, fault, "CREATE")?;
        if m.api_name != "Leads" {
            return Err(Reply::api_error(
                StatusCode::NOT_FOUND,
                "INVALID_URL_PATTERN",
                "Please check if the URL trying to access is a correct one",
                json!({}),
            ));
        }
        let id = parse_id(req.id.as_deref().unwrap_or_default())?;
        let org = user.org_zgid.clone();
        let lead = world.crm.record(&org, "Leads", id).cloned().ok_or_else(|| {
            bad("INVALID_DATA", "the related id given seems to be invalid", json!({ "resource_path_index": 1 }))
        })?;
        let pending = lead
            .get("$field_states")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|v| v == "convert_scheduler"));
        if is_converted(&lead) || pending {
            return Err(bad("ID_ALREADY_CONVERTED", "id already converted", json!({ "resource_path_index": 1 })));
        }
        let body: Value = serde_json::from_slice(&body)
            .map_err(|_| bad("INVALID_DATA", "body", json!({ "expected_data_type": "jsonobject" })))?;
        let item = body
            .get("data")
            .and_then(Value::as_array)
            .and_then(|d| d.first())
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| {
                bad("REQUIRED_PARAM_MISSING", "required field not found", json!({ "api_name": "data", "json_path": "$.data" }))
            })?;
        // A conversion costs five credits; one was charged on the way in.
        let now = world.now();
        if world.credit_budget(&org).is_some() {
            world.metering.charge(&org, now, 4);
        }
        let plan = match make_plan(world, &org, id, &lead, &item) {
            Ok(p) => p,
            Err(e) => return Ok(write_reply(vec![e], StatusCode::OK)),
        };
        if world.config.convert_scheduled {
            let job = world.crm.new_id().to_string();
            // Pending until carried out: a second conversion meanwhile is refused as if done.
            if let Some(l) = world.crm.module_mut(&org, "Leads").get_mut(&id) {
                l.insert("$field_states".into(), json!(["convert_scheduler"]));
            }
            let emu = later.clone();
            let item = item.clone();
            tokio::spawn(async move {
                tokio::time::sleep(SCHEDULED_AFTER).await;
                let owed = {
                    let mut world = emu.world();
                    let org = user.org_zgid.clone();
                    if let Some(l) = world.crm.module_mut(&org, "Leads").get_mut(&id) {
                        l.remove("$field_states");
                    }
                    // Checked again: what the body named may have gone meanwhile.
                    let lead = world.crm.record(&org, "Leads", id).cloned();
                    if let Some(lead) = lead.filter(|l| !is_converted(l))
                        && let Ok(plan) = make_plan(&world, &org, id, &lead, &item)
                    {
                        carry_out(&mut world, &user, &plan);
                    }
                    world.watch.take_outbox()
                };
                emu.touch();
                emu.notify(owed);
            });
            return Ok(Reply::Json(
                StatusCode::ACCEPTED,
                json!({ "data": [{ "code": "SCHEDULED", "details": { "job_id": job }, "message": "Convert lead scheduled successfully", "status": "success" }] }),
            ));
        }
        let details = carry_out(world, &user, &plan);
        Ok(Reply::Json(
            StatusCode::OK,
            json!({ "data": [{ "code": "SUCCESS", "details": details, "message": "The record has been converted successfully", "status": "success" }] }),
        ))
    })
    .await
}

/// `GET Leads/{id}/__conversion_options`: the Contacts matching the Lead by name or email, the
/// Accounts matching its Company; 204 when none does.
pub(super) async fn options(emu: Emu, req: CrmRequest) -> Response {
    let path = format!("{}/{{id}}/__conversion_options", req.module);
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, user) = req.enter(world, fault, "READ")?;
        if m.api_name != "Leads" {
            return Err(bad("INVALID_MODULE", "the module name given seems to be invalid", json!({ "resource_path_index": 0 })));
        }
        let id = parse_id(req.id.as_deref().unwrap_or_default())?;
        let org = &user.org_zgid;
        let lead = world.crm.record(org, "Leads", id).ok_or_else(|| {
            bad("INVALID_DATA", "the related id given seems to be invalid", json!({ "resource_path_index": 1 }))
        })?;
        let same = |a: Option<&Value>, b: Option<&Value>| {
            let t = |v: Option<&Value>| v.and_then(Value::as_str).map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
            t(a).is_some() && t(a) == t(b)
        };
        let empty = Default::default();
        let contacts: Vec<Value> = world
            .crm
            .module(org, "Contacts")
            .unwrap_or(&empty)
            .values()
            .filter(|c| same(c.get("Full_Name"), lead.get("Full_Name")) || same(c.get("Email"), lead.get("Email")))
            .take(100)
            .map(|c| {
                json!({
                    "id": c.get("id"), "Full_Name": c.get("Full_Name"), "Email": c.get("Email"),
                    "Account_Name": c.get("Account_Name"), "$editable": true, "$approval_state": "approved",
                })
            })
            .collect();
        let accounts: Vec<Value> = world
            .crm
            .module(org, "Accounts")
            .unwrap_or(&empty)
            .values()
            .filter(|a| same(a.get("Account_Name"), lead.get("Company")))
            .take(100)
            .map(|a| {
                json!({
                    "id": a.get("id"), "Account_Name": a.get("Account_Name"), "Phone": a.get("Phone"),
                    "Website": a.get("Website"), "Account_Type": a.get("Account_Type"), "$editable": true,
                })
            })
            .collect();
        if contacts.is_empty() && accounts.is_empty() {
            return Ok(Reply::Empty(StatusCode::NO_CONTENT));
        }
        let or_null = |v: Vec<Value>| if v.is_empty() { Value::Null } else { Value::Array(v) };
        Ok(Reply::Json(
            StatusCode::OK,
            json!({ "__conversion_options": {
                "module_preference": null,
                "Contacts": or_null(contacts),
                "Accounts": or_null(accounts),
                "preference_field_matched_value": null,
                "modules_with_multiple_layouts": null,
            } }),
        ))
    })
    .await
}
