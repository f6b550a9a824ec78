//! The seeded activities (README, "The emulator"): ada's and ben's tasks, calls and meetings on
//! Acme's leads, contacts and deals, dated from the clock when the world is seeded or reset, so
//! each of them always has something overdue, something due today and something ahead, and some
//! closed ones.

use serde_json::{Value, json};

use super::{CrmData, iso, user_ref};
use crate::model::User;

/// The org whose users get activities.
const ORG: &str = "70001";
const DAY: i64 = 86_400;

/// A record of `module` in `org`, by its position among the seeded ones: `(id, name)`.
fn nth(data: &CrmData, module: &str, n: usize) -> Option<(u64, String)> {
    let name_field = match module {
        "Leads" | "Contacts" => "Full_Name",
        "Accounts" => "Account_Name",
        _ => "Deal_Name",
    };
    let (id, r) = data.module(ORG, module)?.iter().nth(n)?;
    let name = r.get(name_field).and_then(Value::as_str)?.to_owned();
    Some((*id, name))
}

/// `yyyy-MM-dd` of the day `secs` falls in (UTC).
fn date(secs: i64) -> String {
    iso(secs)[..10].to_owned()
}

/// Adds ada's and ben's activities to `data`, dated around `now`.
pub fn seed(data: &mut CrmData, users: &[User], now: i64) {
    let today = now - now.rem_euclid(DAY);
    for (k, email) in ["ada@us.zportal.test", "ben@us.zportal.test"]
        .into_iter()
        .enumerate()
    {
        let Some(user) = users.iter().find(|u| u.email == email) else {
            continue;
        };
        let owner = user_ref(user);
        // ada's on the first records, ben's on the next ones.
        let (Some(lead), Some(lead2), Some(contact), Some(deal)) = (
            nth(data, "Leads", 1 + 2 * k),
            nth(data, "Leads", 2 + 2 * k),
            nth(data, "Contacts", k),
            nth(data, "Deals", k),
        ) else {
            continue;
        };
        let what = |(id, name): &(u64, String), module: &str| json!({ "What_Id": { "name": name, "id": id.to_string() }, "$se_module": module });
        let who = |(id, name): &(u64, String)| json!({ "Who_Id": { "name": name, "id": id.to_string() } });
        let created = iso(now - 14 * DAY);
        let mut add = |module: &str, link: Value, fields: Value| {
            let id = data.new_id();
            let mut r = json!({
                "id": id.to_string(),
                "Owner": owner,
                "Created_By": owner,
                "Modified_By": owner,
                "Created_Time": created,
                "Modified_Time": created,
                "$approval_state": "approved",
                "$editable": true,
            });
            for part in [link, fields] {
                if let (Some(r), Some(p)) = (r.as_object_mut(), part.as_object()) {
                    r.extend(p.clone());
                }
            }
            if let Value::Object(r) = r {
                data.module_mut(ORG, module).insert(id, r);
            }
        };
        add(
            "Tasks",
            what(&lead, "Leads"),
            json!({ "Subject": "Call back about pricing", "Due_Date": date(today - 2 * DAY), "Status": "Not Started", "Priority": "High" }),
        );
        add(
            "Tasks",
            what(&deal, "Deals"),
            json!({ "Subject": "Send the proposal", "Due_Date": date(today), "Status": "In Progress", "Priority": "Highest" }),
        );
        add(
            "Tasks",
            who(&contact),
            json!({ "Subject": "Prepare renewal notes", "Due_Date": date(today + 3 * DAY), "Status": "Not Started", "Priority": "Normal" }),
        );
        add(
            "Tasks",
            what(&lead2, "Leads"),
            json!({ "Subject": "Research the company", "Status": "Deferred", "Priority": "Low" }),
        );
        add(
            "Tasks",
            what(&lead, "Leads"),
            json!({ "Subject": "Send the brochure", "Due_Date": date(today - 5 * DAY), "Status": "Completed", "Priority": "Normal", "Closed_Time": iso(today - 5 * DAY + 15 * 3600) }),
        );
        add(
            "Calls",
            what(&lead, "Leads"),
            json!({ "Subject": "Discovery call", "Call_Type": "Outbound", "Call_Start_Time": iso(today + 2 * DAY + 15 * 3600), "Call_Purpose": "Prospecting", "Outgoing_Call_Status": "Scheduled" }),
        );
        add(
            "Calls",
            what(&lead, "Leads"),
            json!({ "Subject": "They called about the trial", "Call_Type": "Inbound", "Call_Start_Time": iso(today - DAY + 11 * 3600), "Call_Duration": "00:12", "Call_Duration_in_seconds": 720, "Call_Result": "Interested" }),
        );
        let participant = json!([{
            "type": "contact", "participant": contact.0.to_string(), "name": contact.1,
            "Email": Value::Null, "invited": true, "status": "not_known", "id": format!("{}01", contact.0),
        }]);
        add(
            "Events",
            who(&contact),
            json!({ "Event_Title": "Quarterly review", "Start_DateTime": iso(today + DAY + 10 * 3600), "End_DateTime": iso(today + DAY + 11 * 3600), "Participants": participant }),
        );
        add(
            "Events",
            what(&deal, "Deals"),
            json!({ "Event_Title": "Kick-off meeting", "Start_DateTime": iso(today - 7 * DAY + 9 * 3600), "End_DateTime": iso(today - 7 * DAY + 10 * 3600), "Participants": [] }),
        );
    }
}
