//! Handing records over and changing many at once in the emulated CRM (reference §9.3, §9.4,
//! §9.7), over real HTTP on 127.0.0.1: change owner of one record and of several (with the
//! records related to them), each refusal Zoho documents (an inactive owner, one who has not
//! joined, one outside the caller's branch, too many ids, no owner, no permission); mass update
//! by ids, the fields it refuses, a field the caller's profile may not edit, a converted Lead;
//! and `users` by type and page, as owner pickers read it.

use serde_json::{Value, json};

use crate::crm::{Crm, code};
use crate::support::*;
use crate::watch::{Receiver, watcher};

/// `email` signed in with the scopes these actions need beside zportal's.
async fn rep<'a>(emu: &'a Emu, email: &str) -> Crm<'a> {
    let t = emu
        .tokens_with_scope(
            email,
            &format!("{SCOPES},ZohoCRM.change_owner.CREATE,ZohoCRM.mass_update.UPDATE"),
        )
        .await;
    Crm {
        emu,
        dc: "us",
        token: s(&t["access_token"]).to_owned(),
    }
}

/// A seeded user's CRM id (what `Owner.id` carries), from the control API.
async fn user_id(emu: &Emu, email: &str) -> String {
    let users = emu.get("users").await;
    users["users"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["email"] == json!(email))
        .map(|u| s(&u["user_id"]).to_owned())
        .expect(email)
}

/// A new lead of the signed-in user's; its id.
async fn new_lead(crm: &Crm<'_>, name: &str) -> String {
    let (status, body) = crm
        .post(
            "Leads",
            json!({ "data": [{ "Last_Name": name, "Company": "Owners Inc" }] }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    s(&body["data"][0]["details"]["id"]).to_owned()
}

/// A new record of `module` with `fields`; its id.
async fn new_record(crm: &Crm<'_>, module: &str, fields: Value) -> String {
    let (status, body) = crm.post(module, json!({ "data": [fields] })).await;
    assert_eq!(status, 201, "{module}: {body}");
    s(&body["data"][0]["details"]["id"]).to_owned()
}

/// The id of the owner of record `id` of `module`.
async fn owner_of(crm: &Crm<'_>, module: &str, id: &str) -> String {
    let (status, body) = crm.get(&format!("{module}/{id}")).await;
    assert_eq!(status, 200, "{body}");
    s(&body["data"][0]["Owner"]["id"]).to_owned()
}

/// `POST path` as Zoho's SDK sends it (with its `X-ZOHO-SDK` header).
async fn post_from_sdk(crm: &Crm<'_>, path: &str, body: Value) -> (u16, Value) {
    let res = crm
        .emu
        .http
        .post(format!("{}/crm/v8/{path}", crm.emu.api(crm.dc)))
        .header("Authorization", format!("Zoho-oauthtoken {}", crm.token))
        .header("X-ZOHO-SDK", "Linux/6.1/python-8.0/3.11.2:7.0.0")
        .json(&body)
        .send()
        .await
        .expect("CRM call");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The codes of a write's items, in order.
fn codes(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| code(i).to_owned())
        .collect()
}

/// The emails of a `users` answer, in order.
fn emails(body: &Value) -> Vec<String> {
    body["users"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| s(&u["email"]).to_owned())
        .collect()
}

const ADA: &str = "ada@us.zportal.test";
const BEN: &str = "ben@us.zportal.test";
const INES: &str = "ines@us.zportal.test";
const URI: &str = "uri@us.zportal.test";
const NIA: &str = "nia@us.zportal.test";
const SOL: &str = "sol@us.zportal.test";

#[tokio::test]
async fn one_record_changes_owner_with_its_open_activities_a_timeline_entry_and_a_notification() {
    let emu = Emu::start().await;
    let receiver = Receiver::start().await;
    let listener = watcher(&emu, ADA).await;
    let (status, body) = listener
        .post(
            "actions/watch",
            json!({ "watch": [{ "channel_id": 3901, "events": ["Leads.edit", "Tasks.edit"], "notify_url": receiver.url, "token": "owners" }] }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ada = rep(&emu, ADA).await;
    let (ada_id, ben_id) = (user_id(&emu, ADA).await, user_id(&emu, BEN).await);
    let lead = new_lead(&ada, "Handed Over").await;
    let task = |subject: &str, status: &str| json!({ "Subject": subject, "Status": status, "What_Id": { "id": lead }, "$se_module": "Leads" });
    let open = new_record(&ada, "Tasks", task("Call them", "Not Started")).await;
    let done = new_record(&ada, "Tasks", task("Wrote to them", "Completed")).await;

    let (status, body) = ada
        .post(
            &format!("Leads/{lead}/actions/change_owner"),
            json!({ "owner": { "id": ben_id }, "notify": false, "related_modules": [{ "api_name": "Tasks" }] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!([{ "code": "SUCCESS", "details": { "id": lead }, "message": "owner is successfully updated", "status": "success" }])
    );
    let (_, l) = ada.get(&format!("Leads/{lead}")).await;
    let l = &l["data"][0];
    assert_eq!(s(&l["Owner"]["id"]), ben_id, "{l}");
    assert_eq!(s(&l["Owner"]["name"]), "Ben Okafor");
    assert_eq!(s(&l["Modified_By"]["id"]), ada_id, "changed by ada");
    assert_eq!(
        owner_of(&ada, "Tasks", &open).await,
        ben_id,
        "the open task moves"
    );
    assert_eq!(
        owner_of(&ada, "Tasks", &done).await,
        ada_id,
        "a closed one stays"
    );

    // The timeline says who changed the owner, from whom to whom.
    let (_, timeline) = ada.get(&format!("Leads/{lead}/__timeline")).await;
    let entry = timeline["__timeline"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| {
            e["record"]["id"] == json!(lead)
                && e["field_history"]
                    .as_array()
                    .is_some_and(|h| h.iter().any(|f| f["api_name"] == "Owner"))
        })
        .cloned()
        .expect("an entry for the owner");
    assert_eq!(s(&entry["action"]), "updated");
    assert_eq!(s(&entry["done_by"]["name"]), "Ada Lovelace");
    let owner = entry["field_history"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["api_name"] == "Owner")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        owner["_value"],
        json!({ "old": "Ada Lovelace", "new": "Ben Okafor" })
    );

    // Watchers hear of it as of an edit, the lead's and the task's.
    let got = receiver.first(2).await;
    let lead_note = got
        .iter()
        .find(|n| n["module"] == "Leads")
        .cloned()
        .expect("the lead's notification");
    assert_eq!(s(&lead_note["operation"]), "update");
    assert_eq!(lead_note["ids"], json!([lead]));
    assert_eq!(
        lead_note["affected_fields"],
        json!([{ lead.clone(): ["Owner"] }])
    );
    let task_note = got
        .iter()
        .find(|n| n["module"] == "Tasks")
        .cloned()
        .expect("the task's notification");
    assert_eq!(task_note["ids"], json!([open]));
}

#[tokio::test]
async fn several_records_change_owner_and_a_partial_change_answers_202_or_207_to_an_sdk() {
    let emu = Emu::start().await;
    let ada = rep(&emu, ADA).await;
    let (ben_id, nia_id) = (user_id(&emu, BEN).await, user_id(&emu, NIA).await);
    let a = new_lead(&ada, "Bulk A").await;
    let b = new_lead(&ada, "Bulk B").await;
    let (status, body) = ada
        .post(
            "Leads/actions/change_owner",
            json!({ "ids": [a, b], "owner": { "id": ben_id } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(codes(&body), ["SUCCESS", "SUCCESS"]);
    assert_eq!(s(&body["data"][1]["details"]["id"]), b);
    assert_eq!(owner_of(&ada, "Leads", &a).await, ben_id);
    assert_eq!(owner_of(&ada, "Leads", &b).await, ben_id);

    // An id that names no record: that one fails, the others move — 202 for a direct call.
    let missing = "4150868000000000001";
    let (status, body) = ada
        .post(
            "Leads/actions/change_owner",
            json!({ "ids": [a, missing], "owner": { "id": nia_id } }),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(codes(&body), ["SUCCESS", "INVALID_DATA"]);
    assert_eq!(s(&body["data"][1]["details"]["id"]), missing);
    assert_eq!(owner_of(&ada, "Leads", &a).await, nia_id);
    // The same from Zoho's SDK: 207. Ids may come as numbers, as the SDK sends them.
    let number: u64 = b.parse().expect("a numeric id");
    let (status, body) = post_from_sdk(
        &ada,
        "Leads/actions/change_owner",
        json!({ "ids": [number, missing], "owner": { "id": nia_id } }),
    )
    .await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(codes(&body), ["SUCCESS", "INVALID_DATA"]);
    // None moved: 400, each with its error.
    let (status, body) = ada
        .post(
            "Leads/actions/change_owner",
            json!({ "ids": [missing], "owner": { "id": ben_id } }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(codes(&body), ["INVALID_DATA"]);
}

#[tokio::test]
async fn an_accounts_contacts_deals_and_activities_follow_it_when_named() {
    let emu = Emu::start().await;
    let ada = rep(&emu, ADA).await;
    let ben_id = user_id(&emu, BEN).await;
    let account = new_record(&ada, "Accounts", json!({ "Account_Name": "Follow Me Ltd" })).await;
    let contact = new_record(
        &ada,
        "Contacts",
        json!({ "Last_Name": "Follower", "Account_Name": { "id": account } }),
    )
    .await;
    let deal = new_record(
        &ada,
        "Deals",
        json!({ "Deal_Name": "Follow Deal", "Stage": "Qualification", "Account_Name": { "id": account } }),
    )
    .await;
    let task = new_record(
        &ada,
        "Tasks",
        json!({ "Subject": "Account review", "What_Id": { "id": account }, "$se_module": "Accounts" }),
    )
    .await;
    let other = new_record(&ada, "Accounts", json!({ "Account_Name": "Stays Put Ltd" })).await;
    // The Tasks module named by its id, as `settings/modules` gives it.
    let (_, modules) = ada.get("settings/modules").await;
    let tasks_id = modules["modules"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["api_name"] == "Tasks")
        .map(|m| s(&m["id"]).to_owned())
        .expect("Tasks");

    let (status, body) = ada
        .post(
            "Accounts/actions/change_owner",
            json!({ "ids": [account, other], "owner": { "id": ben_id }, "related_modules": [
                { "api_name": "Contacts" }, { "api_name": "Deals" }, { "id": tasks_id }
            ] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for (module, id) in [
        ("Accounts", &account),
        ("Contacts", &contact),
        ("Deals", &deal),
        ("Tasks", &task),
        ("Accounts", &other),
    ] {
        assert_eq!(owner_of(&ada, module, id).await, ben_id, "{module} {id}");
    }

    // Neither a name nor an id: Zoho's EXPECTED_FIELD_MISSING; a module it does not move: INVALID_DATA.
    let (status, body) = ada
        .post(
            &format!("Accounts/{account}/actions/change_owner"),
            json!({ "owner": { "id": ben_id }, "related_modules": [{}] }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "EXPECTED_FIELD_MISSING"),
        "{body}"
    );
    let (status, body) = ada
        .post(
            &format!("Accounts/{account}/actions/change_owner"),
            json!({ "owner": { "id": ben_id }, "related_modules": [{ "api_name": "Products" }] }),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"), "{body}");
}

#[tokio::test]
async fn the_new_owner_must_be_active_joined_and_a_subordinate_of_a_non_admin() {
    let emu = Emu::start().await;
    let ada = rep(&emu, ADA).await;
    let lead = new_lead(&ada, "Careful Handover").await;
    let path = format!("Leads/{lead}/actions/change_owner");
    let to = |id: &str| json!({ "owner": { "id": id } });
    let (ines, uri, nia_id, sol_id, ada_id) = (
        user_id(&emu, INES).await,
        user_id(&emu, URI).await,
        user_id(&emu, NIA).await,
        user_id(&emu, SOL).await,
        user_id(&emu, ADA).await,
    );

    // A deactivated user owns nothing new.
    let (status, body) = ada.post(&path, to(&ines)).await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"), "{body}");
    assert_eq!(
        body["details"],
        json!({ "api_name": "id", "json_path": "$.owner.id", "owner_status": "inactive" })
    );
    // One who has not accepted the invitation cannot see the module yet.
    let (status, body) = ada.post(&path, to(&uri)).await;
    assert_eq!((status, code(&body)), (403, "CANNOT_ASSIGN"), "{body}");
    assert!(body["details"]["permissions"].is_array(), "{body}");
    // Someone who is not a user of the org at all.
    let (status, body) = ada.post(&path, to("4999999999999999999")).await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"), "{body}");
    assert_eq!(s(&body["details"]["api_name"]), "owner");
    assert_eq!(
        owner_of(&ada, "Leads", &lead).await,
        ada_id,
        "nothing moved"
    );

    // Nia, a Sales Manager without the Administrator profile, hands over only within her branch.
    let nia = rep(&emu, NIA).await;
    for outside in [&sol_id, &ada_id] {
        let (status, body) = nia.post(&path, to(outside)).await;
        assert_eq!((status, code(&body)), (400, "INVALID_DATA"), "{body}");
        assert_eq!(
            body["details"]["owner_status"], "include_subordinate_owners",
            "{body}"
        );
        assert!(s(&body["message"]).contains("not a subordinate"), "{body}");
    }
    let (status, body) = nia.post(&path, to(&ines)).await;
    assert_eq!(
        (status, s(&body["details"]["owner_status"])),
        (400, "inactive"),
        "inactive, though in her branch: {body}"
    );
    let (status, body) = nia.post(&path, to(&nia_id)).await;
    assert_eq!(status, 200, "to herself: {body}");
    assert_eq!(owner_of(&ada, "Leads", &lead).await, nia_id);
    // An administrator hands over to anyone active and joined, Sol included.
    let (status, body) = ada.post(&path, to(&sol_id)).await;
    assert_eq!(status, 200, "{body}");
    // The owner id as a number, as Zoho's SDK sends it.
    let number: u64 = ada_id.parse().expect("a numeric id");
    let (status, body) = ada.post(&path, json!({ "owner": { "id": number } })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(owner_of(&ada, "Leads", &lead).await, ada_id);
}

#[tokio::test]
async fn change_owner_refuses_bad_requests_a_profile_without_the_permission_and_the_wrong_scope() {
    let emu = Emu::start().await;
    let ada = rep(&emu, ADA).await;
    let ben_id = user_id(&emu, BEN).await;
    let lead = new_lead(&ada, "Refusals").await;
    let bulk = "Leads/actions/change_owner";

    let (status, body) = ada.post(bulk, json!({ "owner": { "id": ben_id } })).await;
    assert_eq!(
        (status, code(&body)),
        (400, "MANDATORY_NOT_FOUND"),
        "{body}"
    );
    assert_eq!(s(&body["details"]["api_name"]), "ids");
    let (status, body) = ada
        .post(bulk, json!({ "ids": [], "owner": { "id": ben_id } }))
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "MANDATORY_NOT_FOUND"),
        "{body}"
    );
    let (status, body) = ada.post(bulk, json!({ "ids": [lead] })).await;
    assert_eq!(
        (status, code(&body)),
        (400, "MANDATORY_NOT_FOUND"),
        "{body}"
    );
    assert_eq!(s(&body["details"]["api_name"]), "owner");
    let (status, body) = ada
        .post(&format!("Leads/{lead}/actions/change_owner"), json!({}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "MANDATORY_NOT_FOUND"),
        "{body}"
    );
    // At most 500 ids.
    let many: Vec<String> = (0..501).map(|_| lead.clone()).collect();
    let (status, body) = ada
        .post(bulk, json!({ "ids": many, "owner": { "id": ben_id } }))
        .await;
    assert_eq!((status, code(&body)), (400, "LIMIT_EXCEEDED"), "{body}");
    assert_eq!(body["details"]["limit"], 500);
    // An id that is neither text nor a number: Zoho's type error, wrapped in `data`.
    let (status, body) = ada
        .post(
            bulk,
            json!({ "ids": [lead, {}], "owner": { "id": ben_id } }),
        )
        .await;
    assert_eq!(
        (status, code(&body["data"])),
        (400, "INVALID_DATA"),
        "{body}"
    );
    assert_eq!(s(&body["data"]["details"]["json_path"]), "$.ids[1]");
    // A record id in the path that names no record.
    let (status, body) = ada
        .post(
            "Leads/4150868000000000001/actions/change_owner",
            json!({ "owner": { "id": ben_id } }),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"), "{body}");
    assert_eq!(
        owner_of(&ada, "Leads", &lead).await,
        user_id(&emu, ADA).await
    );

    // Sol's profile has no Change Owner permission.
    let sol = rep(&emu, SOL).await;
    let (status, body) = sol
        .post(bulk, json!({ "ids": [lead], "owner": { "id": ben_id } }))
        .await;
    assert_eq!((status, code(&body)), (403, "NO_PERMISSION"), "{body}");
    // ZohoCRM.modules.ALL does not open it: it has its own scope.
    let plain = Crm::signed_in(&emu, ADA, "us").await;
    let (status, body) = plain
        .post(bulk, json!({ "ids": [lead], "owner": { "id": ben_id } }))
        .await;
    assert_eq!(
        (status, code(&body)),
        (401, "OAUTH_SCOPE_MISMATCH"),
        "{body}"
    );
    let (status, body) = plain
        .post(
            "Leads/actions/mass_update",
            json!({ "data": [{ "City": "Oslo" }], "ids": [lead] }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (401, "OAUTH_SCOPE_MISMATCH"),
        "{body}"
    );
}

#[tokio::test]
async fn mass_update_sets_one_field_on_each_record_as_an_update_would() {
    let emu = Emu::start().await;
    let ada = rep(&emu, ADA).await;
    let ada_id = user_id(&emu, ADA).await;
    let mut ids = Vec::new();
    for name in ["Mass A", "Mass B", "Mass C"] {
        ids.push(new_lead(&ada, name).await);
    }
    let (status, body) = ada
        .post(
            "Leads/actions/mass_update",
            json!({ "data": [{ "Lead_Status": "Contacted" }], "ids": ids }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(codes(&body), ["SUCCESS", "SUCCESS", "SUCCESS"]);
    let first = &body["data"][0];
    assert_eq!(s(&first["message"]), "record updated");
    assert_eq!(s(&first["details"]["id"]), ids[0]);
    assert_eq!(
        first["details"]["Modified_By"],
        json!({ "name": "Ada Lovelace", "id": ada_id })
    );
    for key in ["Modified_Time", "Created_Time", "Created_By"] {
        assert!(!first["details"][key].is_null(), "{key}: {body}");
    }
    for id in &ids {
        let (_, l) = ada.get(&format!("Leads/{id}")).await;
        assert_eq!(s(&l["data"][0]["Lead_Status"]), "Contacted", "{l}");
    }
    let (_, timeline) = ada.get(&format!("Leads/{}/__timeline", ids[1])).await;
    let newest = &timeline["__timeline"][0];
    assert_eq!(s(&newest["action"]), "updated");
    assert_eq!(s(&newest["field_history"][0]["api_name"]), "Lead_Status");

    // A value an update would refuse is refused for each record, naming it.
    let (status, body) = ada
        .post(
            "Leads/actions/mass_update",
            json!({ "data": [{ "Lead_Status": "Very Keen" }], "ids": [ids[0], ids[1]] }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(codes(&body), ["INVALID_DATA", "INVALID_DATA"]);
    assert_eq!(s(&body["data"][1]["details"]["id"]), ids[1]);
    assert_eq!(s(&body["data"][1]["details"]["api_name"]), "Lead_Status");

    // Deals take up to three fields at once.
    let deal = new_record(
        &ada,
        "Deals",
        json!({ "Deal_Name": "Three At Once", "Stage": "Qualification" }),
    )
    .await;
    let (status, body) = ada
        .post(
            "Deals/actions/mass_update",
            json!({ "data": [{ "Stage": "Negotiation/Review", "Probability": 80.0, "Type": "New Business" }], "ids": [deal] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, d) = ada.get(&format!("Deals/{deal}")).await;
    assert_eq!(s(&d["data"][0]["Stage"]), "Negotiation/Review");
}

#[tokio::test]
async fn mass_update_refuses_what_cannot_be_mass_updated_and_says_which() {
    let emu = Emu::start().await;
    let ada = rep(&emu, ADA).await;
    let lead = new_lead(&ada, "Not En Masse").await;
    let mass = |data: Value| json!({ "data": [data], "ids": [lead] });
    for (field, value) in [
        ("Email", json!("all@example.test")),
        ("Description", json!("the same words everywhere")),
        ("Last_Name", json!("Everyone")),
        ("Owner", json!({ "id": user_id(&emu, BEN).await })),
    ] {
        let mut data = serde_json::Map::new();
        data.insert(field.to_owned(), value);
        let (status, body) = ada
            .post("Leads/actions/mass_update", mass(Value::Object(data)))
            .await;
        assert_eq!(
            (status, code(&body)),
            (400, "INVALID_DATA"),
            "{field}: {body}"
        );
        assert_eq!(s(&body["details"]["api_name"]), field);
        assert_eq!(
            s(&body["details"]["json_path"]),
            format!("$.data[0].{field}")
        );
    }
    let (status, body) = ada
        .post(
            "Deals/actions/mass_update",
            json!({ "data": [{ "Account_Name": { "id": "1" } }], "ids": [lead] }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "INVALID_DATA"),
        "a lookup: {body}"
    );
    // One field a call outside Deals.
    let (status, body) = ada
        .post(
            "Leads/actions/mass_update",
            mass(json!({ "Lead_Status": "Contacted", "City": "Lyon" })),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "LIMIT_EXCEEDED"), "{body}");
    assert_eq!(body["details"]["limit"], 1);
    let (status, body) = ada
        .post(
            "Leads/actions/mass_update",
            json!({ "data": [{ "City": "Lyon" }, { "City": "Nice" }], "ids": [lead] }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "LIMIT_EXCEEDED"),
        "one object: {body}"
    );
    // At most 500 ids; ids or a view, not both; no views here.
    let many: Vec<String> = (0..501).map(|_| lead.clone()).collect();
    let (status, body) = ada
        .post(
            "Leads/actions/mass_update",
            json!({ "data": [{ "City": "Lyon" }], "ids": many }),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "LIMIT_EXCEEDED"), "{body}");
    assert_eq!(body["details"]["limit"], 500);
    let (status, body) = ada
        .post(
            "Leads/actions/mass_update",
            json!({ "data": [{ "City": "Lyon" }], "ids": [lead], "cvid": "4150868000000087501" }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "AMBIGUITY_DURING_PROCESSING"),
        "{body}"
    );
    let (status, body) = ada
        .post(
            "Leads/actions/mass_update",
            json!({ "data": [{ "City": "Lyon" }], "cvid": "4150868000000087501" }),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"), "{body}");
    assert_eq!(s(&body["details"]["api_name"]), "cvid");
    let (_, l) = ada.get(&format!("Leads/{lead}")).await;
    assert!(l["data"][0]["City"].is_null(), "nothing was written: {l}");
}

#[tokio::test]
async fn a_converted_lead_and_an_unknown_id_fail_alone() {
    let emu = Emu::start().await;
    let ada = rep(&emu, ADA).await;
    let converted = new_lead(&ada, "Already Converted").await;
    let (status, body) = ada
        .post(
            &format!("Leads/{converted}/actions/convert"),
            json!({ "data": [{}] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let open = new_lead(&ada, "Still Open").await;
    let missing = "4150868000000000001";
    let (status, body) = ada
        .post(
            "Leads/actions/mass_update",
            json!({ "data": [{ "Rating": "Active" }], "ids": [converted, open, missing] }),
        )
        .await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(
        codes(&body),
        ["CONVERTED_RECORD", "SUCCESS", "INVALID_DATA"]
    );
    assert_eq!(body["data"][0]["details"], json!({ "id": converted }));
    assert_eq!(body["data"][2]["details"], json!({ "id": missing }));
    let (_, l) = ada.get(&format!("Leads/{converted}")).await;
    assert!(l["data"][0]["Rating"].is_null(), "{l}");
}

#[tokio::test]
async fn a_profile_that_may_not_edit_lead_status_is_refused_and_told_in_the_metadata() {
    let emu = Emu::start().await;
    let ada = rep(&emu, ADA).await;
    let lead = new_lead(&ada, "Status Guarded").await;
    let nia = rep(&emu, NIA).await;

    let (status, body) = nia
        .post(
            "Leads/actions/mass_update",
            json!({ "data": [{ "Lead_Status": "Junk Lead" }], "ids": [lead] }),
        )
        .await;
    assert_eq!((status, code(&body)), (403, "NO_PERMISSION"), "{body}");
    assert_eq!(s(&body["details"]["api_name"]), "Lead_Status");
    // A plain update of it is refused for that record too; other fields are hers to set.
    let (status, body) = nia
        .put(
            &format!("Leads/{lead}"),
            json!({ "data": [{ "Lead_Status": "Junk Lead" }] }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body["data"][0]), "NO_PERMISSION");
    let (status, body) = nia
        .post(
            "Leads/actions/mass_update",
            json!({ "data": [{ "City": "Porto" }], "ids": [lead] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, l) = ada.get(&format!("Leads/{lead}")).await;
    assert_eq!(s(&l["data"][0]["City"]), "Porto");
    assert_ne!(s(&l["data"][0]["Lead_Status"]), "Junk Lead");
    assert_eq!(s(&l["data"][0]["Modified_By"]["name"]), "Nia Brooks");

    // The fields metadata says so, to her; and which fields can be mass updated, to everyone.
    let field = |body: &Value, name: &str| {
        body["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["api_name"] == json!(name))
            .cloned()
            .unwrap_or_default()
    };
    let (_, hers) = nia.get("settings/fields?module=Leads").await;
    let (_, adas) = ada.get("settings/fields?module=Leads").await;
    assert_eq!(field(&hers, "Lead_Status")["read_only"], true, "{hers}");
    assert_eq!(field(&adas, "Lead_Status")["read_only"], false);
    assert_eq!(field(&hers, "City")["read_only"], false);
    let telesales = field(&adas, "Lead_Status")["profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "Telesales")
        .cloned()
        .unwrap_or_default();
    assert_eq!(s(&telesales["permission_type"]), "read_only", "{adas}");
    assert_eq!(field(&adas, "Lead_Status")["mass_update"], true);
    for never in ["Email", "Description", "Owner", "Last_Name"] {
        assert_eq!(field(&adas, never)["mass_update"], false, "{never}");
    }
}

#[tokio::test]
async fn users_by_type_and_page_as_owner_pickers_read_them() {
    let emu = Emu::start().await;
    let nia = Crm::signed_in(&emu, NIA, "us").await;
    let acme = [ADA, BEN, INES, URI, NIA, SOL];
    for (kind, want) in [
        ("AllUsers", acme.to_vec()),
        ("ActiveUsers", vec![ADA, BEN, URI, NIA, SOL]),
        ("DeactiveUsers", vec![INES]),
        ("ConfirmedUsers", vec![ADA, BEN, INES, NIA, SOL]),
        ("NotConfirmedUsers", vec![URI]),
        ("ActiveConfirmedUsers", vec![ADA, BEN, NIA, SOL]),
        ("AdminUsers", vec![ADA, BEN]),
        ("CurrentUser", vec![NIA]),
    ] {
        let (status, body) = nia.get(&format!("users?type={kind}")).await;
        let want: Vec<String> = want.iter().map(|e| e.to_string()).collect();
        assert_eq!((status, emails(&body)), (200, want), "{kind}");
    }
    let (status, body) = nia.get("users").await;
    assert_eq!(
        (status, emails(&body).len()),
        (200, acme.len()),
        "no type: all"
    );
    let (status, _) = nia.get("users?type=DeletedUsers").await;
    assert_eq!(status, 204);
    let (status, body) = nia.get("users?type=Everyone").await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"), "{body}");

    // What each says of itself.
    let (_, all) = nia.get("users?type=AllUsers").await;
    let user = |email: &str| {
        all["users"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|u| u["email"] == json!(email))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        (s(&user(INES)["status"]), user(INES)["confirm"].clone()),
        ("inactive", json!(true))
    );
    assert_eq!(
        (s(&user(URI)["status"]), user(URI)["confirm"].clone()),
        ("active", json!(false))
    );
    assert_eq!(s(&user(NIA)["role"]["name"]), "Sales Manager");
    assert_eq!(s(&user(NIA)["profile"]["name"]), "Telesales");
    assert_eq!(s(&user(ADA)["profile"]["name"]), "Administrator");
    assert_ne!(user(NIA)["role"]["id"], user(SOL)["role"]["id"]);
    // The roles below Nia's, and the one above the Sales Reps'.
    let manager = s(&user(NIA)["role"]["id"]).to_owned();
    let rep_role = s(&user(INES)["role"]["id"]).to_owned();
    let (_, below) = nia
        .get(&format!(
            "users?type=SubordinateRoleUsers&role_id={manager}"
        ))
        .await;
    assert_eq!(emails(&below), [INES, URI]);
    let (_, above) = nia
        .get(&format!("users?type=ParentRoleUsers&role_id={rep_role}"))
        .await;
    assert_eq!(emails(&above), [NIA]);
    let (status, _) = nia.get("users?type=ChildRoleUsers").await;
    assert_eq!(status, 400, "needs role_id");

    // Pages of two: three of them, the last says there are no more; a fourth is empty.
    let page = "users?type=AllUsers&per_page=2&page=";
    let (status, first) = nia.get(&format!("{page}1")).await;
    assert_eq!(status, 200);
    assert_eq!(emails(&first), [ADA, BEN]);
    assert_eq!(
        first["info"],
        json!({ "per_page": 2, "count": 2, "page": 1, "more_records": true })
    );
    let (_, third) = nia.get(&format!("{page}3")).await;
    assert_eq!(emails(&third), [NIA, SOL]);
    assert_eq!(third["info"]["more_records"], false);
    assert_eq!(nia.get(&format!("{page}4")).await.0, 204);
    let (status, body) = nia.get("users?type=AllUsers&per_page=201").await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"), "{body}");
    // Another org's users are never listed.
    let eva = Crm::signed_in(&emu, "eva@eu.zportal.test", "eu").await;
    let (_, theirs) = eva.get("users?type=AllUsers").await;
    assert_eq!(emails(&theirs), ["eva@eu.zportal.test"]);
}
