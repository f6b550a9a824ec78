//! The CRM side of the emulator: each org's records per module, their notes, attachments and
//! history, the seed data (README, "The emulator"), and the helpers records need (ids, Zoho's
//! timestamps).

pub mod activities;
pub mod criteria;
pub mod history;
pub mod meta;
pub mod records;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::model::{Org, User};

pub use crate::model::records::{CrmData, FIRST_ID, Record};

/// Zoho's timestamp shape, `2024-07-16T09:39:27+00:00`.
pub fn iso(secs: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `{"name","id","email"}` as Zoho shows an owner or creator.
pub fn user_ref(user: &User) -> Value {
    json!({ "name": user.full_name(), "id": user.user_id, "email": user.email })
}

/// How many records of each seeded module an org starts with.
fn seed_counts(zgid: &str) -> [(&'static str, usize); 4] {
    if zgid == "70001" {
        [
            ("Leads", 2500),
            ("Contacts", 200),
            ("Accounts", 60),
            ("Deals", 120),
        ]
    } else {
        [
            ("Leads", 50),
            ("Contacts", 20),
            ("Accounts", 10),
            ("Deals", 10),
        ]
    }
}

const CITIES: &[(&str, &str)] = &[
    ("Austin", "United States"),
    ("Berlin", "Germany"),
    ("Pune", "India"),
    ("Sydney", "Australia"),
    ("Osaka", "Japan"),
    ("Toronto", "Canada"),
    ("Riyadh", "Saudi Arabia"),
    ("Shenzhen", "China"),
    ("Leeds", "United Kingdom"),
];
const FIRST_NAMES: &[&str] = &[
    "Alex", "Sam", "Priya", "Kenji", "Maria", "Omar", "Lena", "Tom", "Wei", "Nora",
];
const STAGES: &[&str] = &[
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
];
const SOURCES: &[&str] = &[
    "Advertisement",
    "Cold Call",
    "Partner",
    "Trade Show",
    "Web Download",
];
const STATUSES: &[&str] = &[
    "Not Contacted",
    "Attempted to Contact",
    "Contacted",
    "Pre-Qualified",
];
const INDUSTRIES: &[&str] = &[
    "Technology",
    "Retail",
    "Healthcare",
    "Manufacturing",
    "Consulting",
];

/// The words seeded Leads' companies start with: Lead 0001's is "Company 0001", and the rest
/// vary, so that an order by Company is not the order of ids.
const COMPANY_WORDS: &[&str] = &[
    "Company", "Granite", "Birch", "Juniper", "Ember", "Cobalt", "Harbor", "Apex", "Fjord",
    "Delta", "Ion",
];

/// The seeded Lead `i`'s Company.
fn company(i: usize) -> String {
    let word = COMPANY_WORDS[(i.saturating_sub(1) * 7) % COMPANY_WORDS.len()];
    format!("{word} {i:04}")
}

/// The deterministic seed records of every org.
pub fn seed(orgs: &BTreeMap<String, Org>, users: &[User]) -> CrmData {
    let mut data = CrmData::default();
    // 2024-01-01T00:00:00Z
    let base = 1_704_067_200;
    for org in orgs.values() {
        let Some(owner) = users.iter().find(|u| u.org_zgid == org.zgid) else {
            continue;
        };
        let owner = user_ref(owner);
        let counts = seed_counts(&org.zgid);
        let mut account_ids = Vec::new();
        let mut contact_ids = Vec::new();
        // Accounts first: contacts and deals look them up.
        for (module, count) in [counts[2], counts[1], counts[0], counts[3]] {
            for i in 1..=count {
                let id = data.new_id();
                let t = iso(base + (id - FIRST_ID) as i64 * 60);
                let (city, country) = CITIES[i % CITIES.len()];
                let mut r = json!({
                    "id": id.to_string(),
                    "Owner": owner,
                    "Created_By": owner,
                    "Modified_By": owner,
                    "Created_Time": t,
                    "Modified_Time": t,
                    "$approval_state": "approved",
                    "$editable": true,
                });
                let fields = match module {
                    "Leads" => json!({
                        "First_Name": null,
                        "Last_Name": format!("Lead {i:04}"),
                        "Full_Name": format!("Lead {i:04}"),
                        "Company": company(i),
                        "Email": format!("lead{i:04}@example.test"),
                        "Phone": format!("+1 555 {:04}", i % 10_000),
                        "Lead_Source": SOURCES[i % SOURCES.len()],
                        "Lead_Status": STATUSES[i % STATUSES.len()],
                        "Industry": INDUSTRIES[i % INDUSTRIES.len()],
                        "Annual_Revenue": (i * 1000) as f64,
                        "No_of_Employees": (i % 500) as i64 + 1,
                        "City": city,
                        "Country": country,
                    }),
                    "Accounts" => {
                        account_ids.push((id, format!("Account {i:03}")));
                        json!({
                            "Account_Name": format!("Account {i:03}"),
                            "Phone": format!("+1 555 2{i:03}"),
                            "Website": format!("https://account{i:03}.example.test"),
                            "Industry": INDUSTRIES[i % INDUSTRIES.len()],
                            "Account_Type": "Customer",
                            "Employees": (i * 10) as i64,
                            "Billing_City": city,
                            "Billing_Country": country,
                        })
                    }
                    "Contacts" => {
                        let first = FIRST_NAMES[i % FIRST_NAMES.len()];
                        let last = format!("Contact {i:03}");
                        contact_ids.push((id, format!("{first} {last}")));
                        let (aid, aname) = &account_ids[i % account_ids.len().max(1)];
                        json!({
                            "First_Name": first,
                            "Last_Name": last,
                            "Full_Name": format!("{first} Contact {i:03}"),
                            "Email": format!("contact{i:03}@example.test"),
                            "Phone": format!("+1 555 3{i:03}"),
                            "Account_Name": { "name": aname, "id": aid.to_string() },
                            "Title": "Buyer",
                            "Mailing_City": city,
                            "Mailing_Country": country,
                        })
                    }
                    _ => {
                        let (aid, aname) = &account_ids[i % account_ids.len().max(1)];
                        let (cid, cname) = &contact_ids[i % contact_ids.len().max(1)];
                        json!({
                            "Deal_Name": format!("Deal {i:03}"),
                            "Stage": STAGES[i % STAGES.len()],
                            "Amount": (i * 2500) as f64,
                            "Closing_Date": format!("2025-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
                            "Probability": ((i % 10) * 10) as f64,
                            "Account_Name": { "name": aname, "id": aid.to_string() },
                            "Contact_Name": { "name": cname, "id": cid.to_string() },
                            "Lead_Source": SOURCES[i % SOURCES.len()],
                        })
                    }
                };
                if let (Some(r), Some(f)) = (r.as_object_mut(), fields.as_object()) {
                    r.extend(f.clone());
                }
                if let Value::Object(r) = r {
                    data.module_mut(&org.zgid, module).insert(id, r);
                }
            }
        }
        seed_notes_and_files(&mut data, &org.zgid, &owner, base);
    }
    data
}

/// Notes and attachments on a few records of each org: the first three Leads, the first Account
/// and the first Deal have notes; the first Lead and the first Account an attachment.
fn seed_notes_and_files(data: &mut CrmData, org: &str, owner: &Value, base: i64) {
    let firsts: Vec<(&str, u64, String)> = [("Leads", 3), ("Accounts", 1), ("Deals", 1)]
        .into_iter()
        .flat_map(|(module, n)| {
            let name_field = match module {
                "Leads" => "Full_Name",
                "Accounts" => "Account_Name",
                _ => "Deal_Name",
            };
            data.module(org, module)
                .into_iter()
                .flat_map(|m| m.iter().take(n))
                .map(move |(id, r)| {
                    let name = r
                        .get(name_field)
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    (module, *id, name.to_owned())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for (k, (module, parent, name)) in firsts.iter().enumerate() {
        for (j, (title, content)) in [
            (
                "First call",
                "Spoke with them about next quarter's needs; follow up in two weeks.",
            ),
            ("Pricing", "Asked for the volume discount sheet."),
        ]
        .into_iter()
        .enumerate()
        .take(if k == 0 { 2 } else { 1 })
        {
            let id = data.new_id();
            let t = iso(base + 86_400 * (k as i64 + 1) + 3_600 * j as i64);
            let note = json!({
                "id": id.to_string(),
                "Note_Title": title,
                "Note_Content": content,
                "Parent_Id": { "module": { "api_name": module, "id": meta_id(module) }, "id": parent.to_string(), "name": name },
                "Owner": owner, "Created_By": owner, "Modified_By": owner,
                "Created_Time": t, "Modified_Time": t,
                "$editable": true, "$state": "save", "$voice_note": false, "$attachments": null, "$size": null,
            });
            if let Value::Object(n) = note {
                data.notes.entry(org.to_owned()).or_default().insert(id, n);
            }
        }
    }
    for (module, parent, name) in firsts.iter().filter(|(m, _, _)| *m != "Deals").step_by(3) {
        let id = data.new_id();
        let body =
            format!("Welcome pack for {name}.\nThis file was attached by the emulator's seed.\n");
        let t = iso(base + 2 * 86_400);
        let file_name = format!("welcome-{}.txt", name.to_lowercase().replace(' ', "-"));
        let attachment = json!({
            "id": id.to_string(),
            "File_Name": file_name,
            "Size": body.len().to_string(),
            "$file_id": format!("file{id}"),
            "$type": "Attachment",
            "$se_module": module,
            "$link_url": null,
            "$editable": true,
            "Parent_Id": { "id": parent.to_string(), "name": name },
            "Owner": owner, "Created_By": owner, "Modified_By": owner,
            "Created_Time": t, "Modified_Time": t,
            "_content_type": "text/plain",
        });
        if let Value::Object(a) = attachment {
            data.attachments
                .entry(org.to_owned())
                .or_default()
                .insert(id, a);
        }
        data.files
            .put(id, axum::body::Bytes::from(body.into_bytes()));
    }
}

/// A module's id in the metadata, as the notes' `Parent_Id.module` carries it.
fn meta_id(module: &str) -> String {
    meta::modules()
        .iter()
        .find(|m| m.api_name == module)
        .map(|m| m.id.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_matches_the_contract() {
        let w = crate::seed::world();
        let leads = w.crm.module("70001", "Leads").expect("ada's leads");
        assert_eq!(leads.len(), 2500);
        let names: Vec<&str> = leads
            .values()
            .filter_map(|r| r["Last_Name"].as_str())
            .collect();
        assert_eq!(names.first(), Some(&"Lead 0001"));
        assert_eq!(names.last(), Some(&"Lead 2500"));
        let eu = |m: &str| w.crm.module("70002", m).map(|r| r.len());
        assert_eq!(
            (eu("Leads"), eu("Contacts"), eu("Accounts"), eu("Deals")),
            (Some(50), Some(20), Some(10), Some(10))
        );
        for zgid in ["70003", "70009"] {
            assert_eq!(w.crm.module(zgid, "Leads").map(|r| r.len()), Some(50));
        }
        assert!(leads.keys().all(|id| id.to_string().len() == 19));
        assert_eq!(iso(1_704_067_200), "2024-01-01T00:00:00+00:00");
    }
}
