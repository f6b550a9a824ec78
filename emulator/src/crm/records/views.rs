//! The org's custom views (reference §9.5): `settings/custom_views` lists a module's views (no
//! criteria, as Zoho's list example has none) and one view with its criteria, columns and order;
//! a list or a count with `cvid=` shows the records a view holds. The views are seeded and the
//! same in every org (Zoho's API here only reads them): each module has its default "All …"
//! view and "My …"; Leads, Contacts, Accounts and Deals have one more with conditions, and Leads
//! one whose condition is a date placeholder that COQL cannot say.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::{CrmRequest, Emu, bad, find_module, parse_id};
use crate::crm::Record;
use crate::crm::meta::{Kind, Module};
use crate::faults::Endpoint;
use crate::model::User;
use crate::reply::Reply;

/// A seeded view.
#[derive(Clone, Debug)]
pub(super) struct View {
    pub id: u64,
    pub name: String,
    pub display_value: String,
    pub system_name: Option<&'static str>,
    pub system_defined: bool,
    pub default: bool,
    /// Zoho's criteria JSON, if the view has conditions.
    pub criteria: Option<Value>,
    pub fields: Vec<&'static str>,
    /// The view's own order: `(field, descending)`.
    pub sort: Option<(&'static str, bool)>,
}

/// A view's id: the module's id and the view's place, far from record ids.
fn view_id(m: &Module, n: u64) -> u64 {
    7_000_000_000_000 + u64::from(m.id) * 100 + n
}

fn cond(field: &str, comparator: &str, value: Value) -> Value {
    json!({ "comparator": comparator, "field": { "api_name": field }, "value": value, "type": "value" })
}

fn and(group: Vec<Value>) -> Value {
    json!({ "group_operator": "AND", "group": group })
}

/// The module's views, the default first.
pub(super) fn views_of(m: &Module) -> Vec<View> {
    let columns = |names: &[&'static str]| -> Vec<&'static str> {
        names
            .iter()
            .copied()
            .filter(|n| m.field(n).is_some())
            .collect()
    };
    let has_owner = m.field("Owner").is_some();
    let not_converted = || cond("Converted__s", "equal", json!(false));
    let mut views = Vec::new();
    let view = |n: u64, name: &str, display: &str| View {
        id: view_id(m, n),
        name: name.to_owned(),
        display_value: display.to_owned(),
        system_name: None,
        system_defined: false,
        default: false,
        criteria: None,
        fields: Vec::new(),
        sort: None,
    };
    match m.api_name {
        "Leads" => {
            let mut all = view(1, "All Open Leads", "All Leads");
            all.system_name = Some("ALLVIEWS");
            all.system_defined = true;
            all.default = true;
            all.criteria = Some(not_converted());
            all.fields = columns(&["Full_Name", "Company", "Email", "Phone", "Lead_Status"]);
            views.push(all);
            let mut mine = view(2, "My Leads", "My Leads");
            mine.system_defined = true;
            mine.criteria = Some(and(vec![
                cond("Owner", "equal", json!("${CURRENTUSER}")),
                not_converted(),
            ]));
            mine.fields = columns(&["Full_Name", "Company", "Lead_Status"]);
            views.push(mine);
            let mut contacted = view(3, "Contacted Leads", "Contacted Leads");
            contacted.criteria = Some(and(vec![
                cond("Lead_Status", "equal", json!("Contacted")),
                not_converted(),
            ]));
            contacted.fields = columns(&["Full_Name", "Company", "Lead_Source", "Lead_Status"]);
            contacted.sort = Some(("Company", false));
            views.push(contacted);
            let mut recent = view(
                4,
                "Touched in the last 30 days",
                "Touched in the last 30 days",
            );
            recent.criteria = Some(cond("Modified_Time", "equal", json!("${LAST_N_DAYS:30}")));
            recent.fields = columns(&["Full_Name", "Company", "Modified_Time"]);
            recent.sort = Some(("Modified_Time", true));
            views.push(recent);
        }
        name => {
            let mut all = view(
                1,
                &format!("All {}", m.plural),
                &format!("All {}", m.plural),
            );
            all.system_name = Some("ALLVIEWS");
            all.system_defined = true;
            all.default = true;
            views.push(all);
            if has_owner {
                let mut mine = view(2, &format!("My {}", m.plural), &format!("My {}", m.plural));
                mine.system_defined = true;
                mine.criteria = Some(cond("Owner", "equal", json!("${CURRENTUSER}")));
                views.push(mine);
            }
            let extra = match name {
                "Contacts" => Some((
                    "Contacts in Germany",
                    cond("Mailing_Country", "equal", json!("Germany")),
                    Some(("Last_Name", false)),
                )),
                "Accounts" => Some((
                    "Technology accounts",
                    cond("Industry", "equal", json!("Technology")),
                    Some(("Account_Name", false)),
                )),
                "Deals" => Some((
                    "Open Deals",
                    cond("Stage", "not_equal", json!(["Closed Won", "Closed Lost"])),
                    Some(("Amount", true)),
                )),
                _ => None,
            };
            if let Some((label, criteria, sort)) = extra {
                let mut v = view(3, label, label);
                v.criteria = Some(criteria);
                v.sort = sort;
                views.push(v);
            }
        }
    }
    views
}

/// The view `raw` names in module `m`, or Zoho's refusal of the `cvid`.
pub(super) fn find_view(m: &Module, raw: &str) -> Result<View, Reply> {
    let invalid = || {
        bad(
            "INVALID_DATA",
            "invalid data",
            json!({ "param_name": "cvid" }),
        )
    };
    let id = raw.trim().parse::<u64>().map_err(|_| invalid())?;
    views_of(m)
        .into_iter()
        .find(|v| v.id == id)
        .ok_or_else(invalid)
}

impl View {
    /// Whether `record` is in the view for `user`, at `now` (Unix seconds).
    pub fn holds(&self, record: &Record, user: &User, now: i64) -> bool {
        self.criteria
            .as_ref()
            .is_none_or(|c| criteria_holds(c, record, user, now))
    }

    fn json(&self, m: &Module, full: bool) -> Value {
        let mut v = json!({
            "id": self.id.to_string(),
            "name": self.name,
            "display_value": self.display_value,
            "system_name": self.system_name,
            "system_defined": self.system_defined,
            "default": self.default,
            "category": "public_views",
            "access_type": "public",
            "favorite": null,
            "locked": false,
            "created_time": "2024-01-01T00:00:00+00:00",
            "modified_time": "2024-01-01T00:00:00+00:00",
            "last_accessed_time": null,
            "module": { "api_name": m.api_name, "id": m.id.to_string() },
        });
        if full && let Some(o) = v.as_object_mut() {
            o.insert(
                "criteria".into(),
                self.criteria.clone().unwrap_or(Value::Null),
            );
            o.insert(
                "fields".into(),
                self.fields
                    .iter()
                    .map(|f| json!({ "api_name": f, "_pin": false }))
                    .collect(),
            );
            o.insert(
                "sort_by".into(),
                self.sort
                    .map_or(Value::Null, |(f, _)| json!({ "api_name": f })),
            );
            o.insert(
                "sort_order".into(),
                self.sort.map_or(Value::Null, |(_, desc)| {
                    json!(if desc { "desc" } else { "asc" })
                }),
            );
            o.insert("shared_to".into(), json!([]));
            o.insert("cross_filters".into(), json!([]));
        }
        v
    }
}

/// Zoho's view criteria against a record: a condition, or an `AND`/`OR` group of them.
fn criteria_holds(c: &Value, record: &Record, user: &User, now: i64) -> bool {
    if let Some(group) = c.get("group").and_then(Value::as_array) {
        let or = c
            .get("group_operator")
            .and_then(Value::as_str)
            .is_some_and(|o| o.eq_ignore_ascii_case("or"));
        let mut each = group.iter().map(|g| criteria_holds(g, record, user, now));
        return if or { each.any(|b| b) } else { each.all(|b| b) };
    }
    let field = c
        .pointer("/field/api_name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let comparator = c
        .get("comparator")
        .and_then(Value::as_str)
        .unwrap_or("equal");
    let wanted = c.get("value").cloned().unwrap_or(Value::Null);
    // `Converted__s` is how criteria name a Lead's conversion.
    let actual = if field == "Converted__s" {
        json!(super::read::is_converted(record))
    } else {
        record.get(field).cloned().unwrap_or(Value::Null)
    };
    let as_text = |v: &Value| match v {
        Value::String(s) => s.to_lowercase(),
        Value::Object(o) => o
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_lowercase(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let equal = |want: &Value| match (want.as_str(), &actual) {
        (Some("${CURRENTUSER}"), a) => a.get("id").and_then(Value::as_str) == Some(&user.user_id),
        (Some("${EMPTY}"), a) => as_text(a).is_empty(),
        (Some("${NOTEMPTY}"), a) => !as_text(a).is_empty(),
        (Some(w), a) if w.starts_with("${LAST_N_DAYS:") => {
            let days = w
                .trim_start_matches("${LAST_N_DAYS:")
                .trim_end_matches('}')
                .parse::<i64>()
                .unwrap_or(0);
            a.as_str()
                .and_then(|t| {
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .is_some_and(|t| t.unix_timestamp() >= now - days * 86_400)
        }
        (_, Value::Object(o)) if o.get("id") == want.get("id").or(Some(want)) => true,
        _ => as_text(want) == as_text(&actual),
    };
    let wanted_list: Vec<Value> = match &wanted {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let number = |v: &Value| as_text(v).parse::<f64>().ok();
    match comparator {
        "equal" => wanted_list.iter().any(equal),
        "not_equal" => !wanted_list.iter().any(equal),
        "contains" => wanted_list
            .iter()
            .any(|w| as_text(&actual).contains(&as_text(w))),
        "not_contains" => !wanted_list
            .iter()
            .any(|w| as_text(&actual).contains(&as_text(w))),
        "starts_with" => wanted_list
            .iter()
            .any(|w| as_text(&actual).starts_with(&as_text(w))),
        "ends_with" => wanted_list
            .iter()
            .any(|w| as_text(&actual).ends_with(&as_text(w))),
        "greater_than" | "less_than" | "greater_equal" | "less_equal" => {
            let (Some(a), Some(w)) = (number(&actual), wanted_list.first().and_then(number)) else {
                return false;
            };
            match comparator {
                "greater_than" => a > w,
                "less_than" => a < w,
                "greater_equal" => a >= w,
                _ => a <= w,
            }
        }
        _ => false,
    }
}

/// `settings/custom_views?module=X` and `settings/custom_views/{id}?module=X`.
pub(super) async fn custom_views(emu: Emu, req: CrmRequest) -> Response {
    let path = if req.id.is_some() {
        "settings/custom_views/{id}"
    } else {
        "settings/custom_views"
    };
    req.run(&emu, Endpoint::Settings, path, |world, fault| {
        req.authorize(
            world,
            fault,
            "ZohoCRM.settings.custom_views.READ",
            "settings",
        )?;
        let Some(name) = req.params.get("module") else {
            return Err(bad(
                "REQUIRED_PARAM_MISSING",
                "required param is missing",
                json!({ "param_name": "module" }),
            ));
        };
        let m = find_module(name)?;
        let views = views_of(&m);
        let translation = json!({
            "public_views": "Public Views",
            "other_users_views": "Other Users' Views",
            "shared_with_me": "Shared With Me",
            "created_by_me": "Created By Me",
        });
        if let Some(raw) = &req.id {
            let id = parse_id(raw)?;
            return Ok(match views.iter().find(|v| v.id == id) {
                Some(v) => Reply::Json(
                    StatusCode::OK,
                    json!({ "custom_views": [v.json(&m, true)], "info": { "translation": translation } }),
                ),
                None => Reply::Empty(StatusCode::NO_CONTENT),
            });
        }
        let per_page = super::read::per_page_param(&req.params, 200)?;
        let page = req
            .params
            .get("page")
            .map_or(Ok(1), |p| p.parse::<usize>().ok().filter(|p| *p >= 1).ok_or(()))
            .map_err(|()| bad("INVALID_DATA", "invalid data", json!({ "param_name": "page" })))?;
        let shown: Vec<Value> = views
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|v| v.json(&m, false))
            .collect();
        let more = page * per_page < views.len();
        let default = views.iter().find(|v| v.default).map(|v| v.id.to_string());
        Ok(Reply::Json(
            StatusCode::OK,
            json!({
                "custom_views": shown,
                "info": {
                    "per_page": per_page,
                    "count": shown.len(),
                    "page": page,
                    "more_records": more,
                    "default": default,
                    "translation": translation,
                }
            }),
        ))
    })
    .await
}

/// Whether a field may be a view's or COQL's sort key: the types §9.6 lets COQL order by.
pub(super) fn sortable(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Text(_)
            | Kind::Email
            | Kind::Phone
            | Kind::Website
            | Kind::Integer
            | Kind::Double
            | Kind::Currency
            | Kind::Percent
            | Kind::Date
            | Kind::DateTime
            | Kind::Boolean
            | Kind::Picklist(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_names_fields_of_its_module_and_one_default() {
        for m in crate::crm::meta::modules() {
            let views = views_of(&m);
            assert_eq!(
                views.iter().filter(|v| v.default).count(),
                1,
                "{}",
                m.api_name
            );
            assert!(views[0].default);
            for v in &views {
                for f in &v.fields {
                    assert!(m.field(f).is_some(), "{} {f}", m.api_name);
                }
                if let Some((f, _)) = v.sort {
                    assert!(m.field(f).is_some_and(|f| sortable(f.kind)), "{f}");
                }
            }
        }
    }

    #[test]
    fn a_view_holds_by_its_criteria() {
        let leads = find_module("Leads").expect("Leads");
        let views = views_of(&leads);
        let ada = User {
            email: "ada@x.test".into(),
            zuid: "1".into(),
            user_id: "1".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            dc: crate::dc::Dc::Us,
            org_zgid: "70001".into(),
            status: Default::default(),
            confirmed: true,
            role: Default::default(),
            profile: Default::default(),
        };
        let mine = json!({ "Owner": { "id": "1", "name": "Ada" }, "Lead_Status": "Contacted" });
        let theirs = json!({ "Owner": { "id": "2", "name": "Ben" }, "Lead_Status": "Contacted", "$converted": true });
        let (Value::Object(mine), Value::Object(theirs)) = (mine, theirs) else {
            unreachable!()
        };
        assert!(views[0].holds(&mine, &ada, 0));
        assert!(!views[0].holds(&theirs, &ada, 0), "converted");
        assert!(views[1].holds(&mine, &ada, 0));
        assert!(!views[1].holds(&theirs, &ada, 0), "not hers");
        assert!(views[2].holds(&mine, &ada, 0));
    }
}
