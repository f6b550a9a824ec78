//! Lead conversion in the emulated CRM (reference §9.2), over real HTTP on 127.0.0.1: a Contact,
//! an Account from the Company and a Deal made; notes and open activities moved to the Contact;
//! the Lead marked converted and hidden from lists and searches; `__conversion_options`; each
//! refusal (`ID_ALREADY_CONVERTED`, `MANDATORY_NOT_FOUND`, `INVALID_DATA`); and a scheduled
//! conversion.

use serde_json::{Value, json};

use crate::crm::{Crm, code};
use crate::support::*;

async fn new_lead(crm: &Crm<'_>, fields: Value) -> String {
    let (status, body) = crm.post("Leads", json!({ "data": [fields] })).await;
    assert_eq!(status, 201, "{body}");
    s(&body["data"][0]["details"]["id"]).to_owned()
}

async fn convert(crm: &Crm<'_>, lead: &str, item: Value) -> (u16, Value) {
    crm.post(
        &format!("Leads/{lead}/actions/convert"),
        json!({ "data": [item] }),
    )
    .await
}

fn deal() -> Value {
    json!({ "Deal_Name": "Widgets for Quill", "Stage": "Qualification", "Closing_Date": "2027-03-31", "Amount": 12000.0 })
}

#[tokio::test]
async fn a_lead_becomes_a_contact_an_account_and_a_deal_and_its_notes_and_open_activities_follow() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let lead = new_lead(
        &crm,
        json!({ "First_Name": "Quinn", "Last_Name": "Quill", "Company": "Quill Works", "Email": "quinn@quill.test" }),
    )
    .await;
    let (status, _) = crm
        .post(
            &format!("Leads/{lead}/Notes"),
            json!({ "data": [{ "Note_Content": "Met at the fair" }] }),
        )
        .await;
    assert_eq!(status, 201);
    let task = |subject: &str, status: &str| json!({ "data": [{ "Subject": subject, "Status": status, "What_Id": { "id": lead }, "$se_module": "Leads" }] });
    let (_, open) = crm.post("Tasks", task("Send samples", "Not Started")).await;
    let open_task = s(&open["data"][0]["details"]["id"]).to_owned();
    let (_, done) = crm.post("Tasks", task("First call", "Completed")).await;
    let done_task = s(&done["data"][0]["details"]["id"]).to_owned();

    let (_, before) = crm.get("Leads/search?word=Quill&fields=Last_Name").await;
    assert!(
        before.to_string().contains(&lead),
        "found before it is converted: {before}"
    );
    let (status, body) = convert(&crm, &lead, json!({ "Deals": deal() })).await;
    assert_eq!(status, 200, "{body}");
    let details = &body["data"][0]["details"];
    assert_eq!(s(&body["data"][0]["code"]), "SUCCESS");
    assert_eq!(s(&details["Contacts"]["name"]), "Quinn Quill");
    assert_eq!(s(&details["Accounts"]["name"]), "Quill Works");
    assert_eq!(s(&details["Deals"]["name"]), "Widgets for Quill");
    let (contact, account, deal_id) = (
        s(&details["Contacts"]["id"]).to_owned(),
        s(&details["Accounts"]["id"]).to_owned(),
        s(&details["Deals"]["id"]).to_owned(),
    );

    let (_, c) = crm.get(&format!("Contacts/{contact}")).await;
    assert_eq!(s(&c["data"][0]["Email"]), "quinn@quill.test");
    assert_eq!(s(&c["data"][0]["Account_Name"]["id"]), account);
    let (_, d) = crm.get(&format!("Deals/{deal_id}")).await;
    assert_eq!(s(&d["data"][0]["Contact_Name"]["id"]), contact);
    assert_eq!(s(&d["data"][0]["Account_Name"]["name"]), "Quill Works");
    let (_, notes) = crm
        .get(&format!("Contacts/{contact}/Notes?fields=Note_Content"))
        .await;
    assert_eq!(
        s(&notes["data"][0]["Note_Content"]),
        "Met at the fair",
        "{notes}"
    );
    let (_, t) = crm.get(&format!("Tasks/{open_task}")).await;
    assert_eq!(
        s(&t["data"][0]["Who_Id"]["id"]),
        contact,
        "the open task follows: {t}"
    );
    let (_, t) = crm.get(&format!("Tasks/{done_task}")).await;
    assert_eq!(
        s(&t["data"][0]["What_Id"]["id"]),
        lead,
        "a closed one stays: {t}"
    );

    // The Lead is converted, says into what, and leaves lists and searches.
    let (_, l) = crm.get(&format!("Leads/{lead}")).await;
    let l = &l["data"][0];
    assert_eq!(
        (l["$converted"].clone(), l["Converted__s"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(s(&l["$converted_detail"]["Contacts"]["id"]), contact);
    let (_, search) = crm.get("Leads/search?word=Quill&fields=Last_Name").await;
    assert!(!search.to_string().contains(&lead), "{search}");
    let (_, list) = crm
        .get("Leads?fields=Last_Name&sort_by=Created_Time&sort_order=desc&per_page=5")
        .await;
    assert!(!list.to_string().contains(&lead), "{list}");
    let (_, only) = crm.get("Leads?fields=Last_Name&converted=true").await;
    assert_eq!(s(&only["data"][0]["id"]), lead);
    let (status, _) = crm.get("Leads?fields=Last_Name&converted=maybe").await;
    assert_eq!(status, 400);
    let (_, timeline) = crm.get(&format!("Leads/{lead}/__timeline")).await;
    assert_eq!(s(&timeline["__timeline"][0]["action"]), "converted");

    // Again: refused, in Zoho's words.
    let (status, body) = convert(&crm, &lead, json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (400, "ID_ALREADY_CONVERTED"),
        "{body}"
    );
}

#[tokio::test]
async fn options_suggest_matching_accounts_and_contacts_and_a_lead_may_join_one() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let lead = new_lead(
        &crm,
        json!({ "Last_Name": "Joiner", "Company": "Account 001" }),
    )
    .await;
    let (status, opts) = crm.get(&format!("Leads/{lead}/__conversion_options")).await;
    assert_eq!(status, 200, "{opts}");
    let accounts = opts["__conversion_options"]["Accounts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(accounts.len(), 1, "{opts}");
    assert_eq!(s(&accounts[0]["Account_Name"]), "Account 001");
    let account = s(&accounts[0]["id"]).to_owned();
    assert!(opts["__conversion_options"]["Contacts"].is_null());

    let (status, body) = convert(&crm, &lead, json!({ "Accounts": { "id": account } })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        s(&body["data"][0]["details"]["Accounts"]["id"]),
        account,
        "joined, not made"
    );
    assert!(body["data"][0]["details"]["Deals"].is_null());
    let (_, found) = crm
        .get("Accounts/search?criteria=(Account_Name:equals:Account 001)&fields=Account_Name")
        .await;
    assert_eq!(
        found["data"].as_array().map(Vec::len),
        Some(1),
        "no second Account 001"
    );

    let lonely = new_lead(
        &crm,
        json!({ "Last_Name": "Nobody Like Me", "Company": "Unique Ltd" }),
    )
    .await;
    let (status, _) = crm
        .get(&format!("Leads/{lonely}/__conversion_options"))
        .await;
    assert_eq!(status, 204);
    // With no Company there is no Account.
    let solo = new_lead(&crm, json!({ "Last_Name": "Solo" })).await;
    let (status, body) = convert(&crm, &solo, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"][0]["details"]["Accounts"].is_null(), "{body}");
}

#[tokio::test]
async fn a_conversion_refuses_missing_deal_fields_and_unknown_ids() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let lead = new_lead(
        &crm,
        json!({ "Last_Name": "Careful", "Company": "Careful Co" }),
    )
    .await;
    let mut no_stage = deal();
    if let Some(d) = no_stage.as_object_mut() {
        d.remove("Stage");
    }
    let (status, body) = convert(&crm, &lead, json!({ "Deals": no_stage })).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body["data"][0]), "MANDATORY_NOT_FOUND");
    assert_eq!(s(&body["data"][0]["details"]["api_name"]), "Stage");
    let (status, body) = convert(&crm, &lead, json!({ "Accounts": { "id": "1" } })).await;
    assert_eq!(
        (status, code(&body["data"][0])),
        (400, "INVALID_DATA"),
        "{body}"
    );
    let (status, body) = convert(&crm, &lead, json!({ "assign_to": { "id": "1" } })).await;
    assert_eq!(
        (status, code(&body["data"][0])),
        (400, "INVALID_DATA"),
        "{body}"
    );
    let (status, body) = convert(&crm, "4150868000000000001", json!({})).await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"), "{body}");
    // Nothing of it happened.
    let (_, l) = crm.get(&format!("Leads/{lead}")).await;
    assert!(l["data"][0]["$converted"].is_null(), "{l}");
    let (status, _) = crm
        .get("Contacts/search?word=Careful&fields=Last_Name")
        .await;
    assert_eq!(status, 204);
    let (status, _) = crm
        .get("Accounts/search?criteria=(Account_Name:equals:Careful Co)&fields=Account_Name")
        .await;
    assert_eq!(status, 204, "no Account was made either");
}

#[tokio::test]
async fn a_scheduled_conversion_is_answered_at_once_and_carried_out_a_moment_later() {
    let emu = Emu::start().await;
    emu.post("config", json!({ "convert_scheduled": true }))
        .await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let lead = new_lead(
        &crm,
        json!({ "Last_Name": "Later", "Company": "Later Ltd" }),
    )
    .await;
    let (status, body) = convert(&crm, &lead, json!({})).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(s(&body["data"][0]["code"]), "SCHEDULED");
    assert!(!s(&body["data"][0]["details"]["job_id"]).is_empty());
    let (_, l) = crm.get(&format!("Leads/{lead}")).await;
    assert!(l["data"][0]["$converted"].is_null(), "not yet");
    // Pending: a second conversion is refused as if it were done.
    let (status, body) = convert(&crm, &lead, json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (400, "ID_ALREADY_CONVERTED"),
        "{body}"
    );
    let mut converted = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let (_, l) = crm.get(&format!("Leads/{lead}")).await;
        if l["data"][0]["$converted"] == json!(true) {
            converted = true;
            break;
        }
    }
    assert!(converted, "converted within five seconds");
    let (_, l) = crm.get(&format!("Leads/{lead}")).await;
    let contact = s(&l["data"][0]["$converted_detail"]["Contacts"]["id"]).to_owned();
    let (_, c) = crm.get(&format!("Contacts/{contact}")).await;
    assert_eq!(s(&c["data"][0]["Last_Name"]), "Later", "{c}");
}
