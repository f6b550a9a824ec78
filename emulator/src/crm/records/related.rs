//! Related lists (reference §8.3) and a record's timeline (§8.4). `settings/related_lists?module=`
//! names each module's lists (Notes and Attachments everywhere; an Account's Contacts and Deals,
//! a Contact's Deals), with `href` telling the path of their records; `{Module}/{id}/{list}`
//! answers those records (found through the child's lookup to the parent). Leads, Contacts,
//! Accounts and Deals also have the activity lists ([`activity`]). `{Module}/{id}/__timeline`
//! is the record's history, newest first by default.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::activity::{self, ActivityList};
use super::read::{Listing, page_reply, paging, project, requested_fields};
use super::{CrmRequest, Emu, bad, find_module, parse_id};
use crate::crm::Record;
use crate::faults::Endpoint;
use crate::reply::Reply;

/// One related list of a module: its API name, its label, and how its records point back.
pub struct RelatedList {
    pub api_name: &'static str,
    pub display_label: &'static str,
    /// The module its records are in (`Notes`, `Attachments`, or a record module).
    pub module: &'static str,
    pub module_id: u32,
    /// The lookup field of the child records that names the parent (record modules only).
    pub lookup: Option<&'static str>,
    /// For the activity lists: which activities, open or closed.
    pub activities: Option<ActivityList>,
}

/// The related lists of `module`, in Zoho's order.
pub fn related_lists(module: &str) -> Vec<RelatedList> {
    let mut lists = vec![
        RelatedList {
            api_name: "Notes",
            display_label: "Notes",
            module: "Notes",
            module_id: 50,
            lookup: None,
            activities: None,
        },
        RelatedList {
            api_name: "Attachments",
            display_label: "Attachments",
            module: "Attachments",
            module_id: 51,
            lookup: None,
            activities: None,
        },
    ];
    let children: &[(&str, &str)] = match module {
        "Accounts" => &[("Contacts", "Account_Name"), ("Deals", "Account_Name")],
        "Contacts" => &[("Deals", "Contact_Name")],
        _ => &[],
    };
    for (child, lookup) in children {
        if let Ok(m) = find_module(child) {
            lists.push(RelatedList {
                api_name: m.api_name,
                display_label: m.plural,
                module: m.api_name,
                module_id: m.id,
                lookup: Some(lookup),
                activities: None,
            });
        }
    }
    if activity::PARENTS.contains(&module) {
        for (api_name, display_label, list) in activity::activity_lists() {
            let (module, module_id) = match list.module.map(find_module) {
                Some(Ok(m)) => (m.api_name, m.id),
                _ => ("", 0),
            };
            lists.push(RelatedList {
                api_name,
                display_label,
                module,
                module_id,
                lookup: None,
                activities: Some(list),
            });
        }
    }
    lists
}

/// `GET settings/related_lists?module=X`.
pub(super) async fn metadata(emu: Emu, req: CrmRequest) -> Response {
    req.run(
        &emu,
        Endpoint::Settings,
        "settings/related_lists",
        |world, fault| {
            req.authorize(
                world,
                fault,
                "ZohoCRM.settings.related_lists.READ",
                "settings",
            )?;
            let Some(name) = req.params.get("module") else {
                return Err(bad(
                    "REQUIRED_PARAM_MISSING",
                    "One of the expected parameter is missing",
                    json!({ "param_name": "module" }),
                ));
            };
            let m = find_module(name)?;
            let lists: Vec<Value> = related_lists(m.api_name)
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    // The chronological views mix three modules: no module, no href.
                    let grouped = l.activities.is_some_and(|a| a.module.is_none());
                    if grouped {
                        return json!({
                            "id": format!("{}{:04}", m.id, i + 1),
                            "sequence_number": i + 1,
                            "display_label": l.display_label,
                            "api_name": l.api_name,
                            "module": null,
                            "name": l.display_label,
                            "href": null,
                            "type": "grouped",
                            "visible": true,
                            "status": "visible",
                        });
                    }
                    json!({
                        "id": format!("{}{:04}", m.id, i + 1),
                        "sequence_number": i + 1,
                        "display_label": l.display_label,
                        "api_name": l.api_name,
                        "module": { "api_name": l.module, "id": l.module_id.to_string() },
                        "name": l.display_label,
                        "href": format!("{}/{{ENTITYID}}/{}", m.api_name, l.api_name),
                        "type": "default",
                        "visible": true,
                        "status": "visible",
                    })
                })
                .collect();
            Ok(Reply::Json(
                StatusCode::OK,
                json!({ "related_lists": lists }),
            ))
        },
    )
    .await
}

/// `GET {Module}/{id}/{list}`: the records of a related list (Notes have their own handler).
pub(super) async fn records(emu: Emu, req: CrmRequest) -> Response {
    let list_name = req.sub.clone().unwrap_or_default();
    let path = format!("{}/{{id}}/{list_name}", req.module);
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, token, user) = req.enter_token(world, fault, "READ")?;
        let id = parse_id(req.id.as_deref().unwrap_or_default())?;
        world
            .crm
            .record(&user.org_zgid, m.api_name, id)
            .ok_or_else(super::no_such_record)?;
        let list = related_lists(m.api_name)
            .into_iter()
            .find(|l| {
                l.api_name.eq_ignore_ascii_case(&list_name)
                    && (l.lookup.is_some() || l.activities.is_some())
            })
            .ok_or_else(|| {
                bad(
                    "INVALID_DATA",
                    "the relation name given seems to be invalid",
                    json!({ "resource_path_index": 2 }),
                )
            })?;
        if let Some(activities) = list.activities {
            for module in activity::MODULES {
                let scope = format!("ZohoCRM.modules.{}.READ", module.to_ascii_lowercase());
                if activities.module.is_none_or(|one| one == module)
                    && !crate::api::scope_covers(&token.scopes, &scope)
                {
                    return Err(crate::api::scope_mismatch());
                }
            }
            return activity::related(world, &req, &m, &user.org_zgid, id, activities);
        }
        let child = find_module(list.module)?;
        let scope = format!(
            "ZohoCRM.modules.{}.READ",
            child.api_name.to_ascii_lowercase()
        );
        if !crate::api::scope_covers(&token.scopes, &scope) {
            return Err(crate::api::scope_mismatch());
        }
        let fields = requested_fields(&req.params, &child, true)?;
        let now = world.now();
        let pg = paging(&req.params, child.api_name, "id:asc", now)?;
        let lookup = list.lookup.unwrap_or_default();
        let pid = id.to_string();
        let empty = Default::default();
        let rows: Vec<&Record> = world
            .crm
            .module(&user.org_zgid, child.api_name)
            .unwrap_or(&empty)
            .values()
            .filter(|r| {
                r.get(lookup)
                    .and_then(|v| v.get("id"))
                    .and_then(Value::as_str)
                    == Some(&pid)
            })
            .collect();
        let total = rows.len();
        let page: Vec<Value> = rows
            .iter()
            .skip(pg.offset)
            .take(pg.per_page)
            .map(|r| project(r, &fields))
            .collect();
        Ok(page_reply(
            page,
            total,
            &pg,
            &Listing {
                sort_by: "id",
                desc: false,
                module: child.api_name,
                now,
                tokens: false,
            },
        ))
    })
    .await
}

/// `GET {Module}/{id}/__timeline`: the record's history (`sort_order`, `per_page` ≤ 200,
/// `page_token`; `include_inner_details=field_history.field_label` adds each field's label).
pub(super) async fn timeline(emu: Emu, req: CrmRequest) -> Response {
    let path = format!("{}/{{id}}/__timeline", req.module);
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, user) = req.enter(world, fault, "READ")?;
        let id = parse_id(req.id.as_deref().unwrap_or_default())?;
        let record = world
            .crm
            .record(&user.org_zgid, m.api_name, id)
            .ok_or_else(super::no_such_record)?;
        let p = &req.params;
        let desc = match p.get("sort_order") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(_) => {
                return Err(bad(
                    "INVALID_DATA",
                    "invalid data",
                    json!({ "param_name": "sort_order", "supported_values": ["asc", "desc"] }),
                ));
            }
        };
        let per_page = super::read::per_page_param(p, 20)?;
        let offset = match p.get("page_token") {
            None => 0,
            Some(t) => decode_offset(t).ok_or_else(|| {
                bad("INVALID_DATA", "invalid page token", json!({ "param_name": "page_token" }))
            })?,
        };
        let labels = p
            .get("include_inner_details")
            .is_some_and(|d| d.split(',').any(|x| x.trim() == "field_history.field_label"));
        let mut all = world.crm.history(&user.org_zgid, &m, id, record);
        if desc {
            all.reverse();
        }
        let total = all.len();
        let page: Vec<Value> = all
            .into_iter()
            .skip(offset)
            .take(per_page)
            .map(|mut e| {
                if !labels && let Some(items) = e.get_mut("field_history").and_then(Value::as_array_mut) {
                    for item in items {
                        if let Some(o) = item.as_object_mut() {
                            o.remove("field_label");
                        }
                    }
                }
                e
            })
            .collect();
        if page.is_empty() {
            return Ok(Reply::Empty(StatusCode::NO_CONTENT));
        }
        let more = offset + page.len() < total;
        let count = page.len();
        Ok(Reply::Json(
            StatusCode::OK,
            json!({
                "__timeline": page,
                "info": {
                    "per_page": per_page,
                    "page": offset / per_page + 1,
                    "count": count,
                    "more_records": more,
                    "next_page_token": more.then(|| URL_SAFE_NO_PAD.encode(format!("timeline|{}", offset + per_page))),
                }
            }),
        ))
    })
    .await
}

fn decode_offset(token: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    raw.strip_prefix("timeline|")?.parse().ok()
}
