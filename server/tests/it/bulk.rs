//! Changing records in one go over HTTP, through zportal's real router to the real emulator, on
//! both stores: ada hands one Lead and then three to ben, once however often she presses; sets
//! Lead Status on several; and each refusal comes back in words — an inactive owner, 501 ids,
//! a field Zoho cannot mass update, a field nia's profile may not edit, and a record someone
//! changed meanwhile (reported, not overwritten). A connection without the scopes is asked to
//! reconnect before any dialog opens.

use serde_json::{Value, json};
use testkit::server::live::DirectZoho;
use testkit::server::*;

const ADA: &str = "ada@us.zportal.test";

async fn post(browser: &Browser, base: &str, path: &str, body: Value) -> (u16, Value) {
    let res = browser
        .http
        .post(format!("{base}/api/bulk/{path}"))
        .header("sec-fetch-site", "same-origin")
        .json(&body)
        .send()
        .await
        .expect("POST");
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// `email`'s user id, from Zoho's list of every user.
async fn user_id(zoho: &DirectZoho, email: &str) -> String {
    let all = zoho.get("users?type=AllUsers&per_page=200").await;
    all["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["email"] == email))
        .and_then(|u| u["id"].as_str())
        .unwrap_or_else(|| panic!("{email} in {all}"))
        .to_owned()
}

/// `n` Leads made at Zoho, named `name 1`…; their ids.
async fn leads(zoho: &DirectZoho, name: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 1..=n {
        let id = zoho
            .create(
                "Leads",
                json!({ "Last_Name": format!("{name} {i}"), "Lead_Status": "Not Contacted" }),
            )
            .await;
        ids.push(id);
    }
    ids
}

async fn setup(browser: &Browser, base: &str, ids: &[String]) -> Value {
    let (status, set) = post(
        browser,
        base,
        "setup",
        json!({ "module": "Leads", "ids": ids }),
    )
    .await;
    assert_eq!(status, 200, "{set}");
    set
}

/// Each record's `field` as the dialog saw it.
fn seen(set: &Value, ids: &[String], field: &str) -> Value {
    let map: serde_json::Map<String, Value> = ids
        .iter()
        .map(|id| {
            let value = set["base"][id][field].as_str().unwrap_or_default();
            (id.clone(), json!(value))
        })
        .collect();
    Value::Object(map)
}

async fn owner_of(zoho: &DirectZoho, id: &str) -> Value {
    zoho.get(&format!("Leads/{id}")).await["data"][0]["Owner"]["id"].clone()
}

/// How many calls of `action` zportal made since the emulator's request `since`.
async fn actions(stack: &Stack, since: u64, action: &str) -> usize {
    stack.control_get(&format!("requests?since={since}")).await["requests"]
        .as_array()
        .map_or(0, |all| {
            all.iter()
                .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with(action)))
                .count()
        })
}

#[test]
fn ada_hands_one_lead_then_three_to_ben_once_however_often_she_presses() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, ADA).await;
        let zoho = DirectZoho::sign_in(stack.emulator_base(), "us", ADA).await;
        let ben = user_id(&zoho, "ben@us.zportal.test").await;
        let ada = user_id(&zoho, ADA).await;
        let ids = leads(&zoho, "Handover", 4).await;

        let one = &ids[..1];
        let set = setup(&browser, &stack.base, one).await;
        let owners: Vec<&str> = set["owners"]
            .as_array()
            .map(|o| o.iter().filter_map(|o| o["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(owners.first(), Some(&"Ada Lovelace"), "you first: {set}");
        assert!(owners.contains(&"Ben Okafor"), "{set}");
        for absent in ["Ines Duarte", "Uri Novak"] {
            assert!(
                !owners.contains(&absent),
                "only active, confirmed users: {set}"
            );
        }
        assert_eq!(set["base"][&ids[0]]["Owner"], json!(ada));
        let press = json!({ "module": "Leads", "owner_id": ben, "token": set["token"],
            "base": seen(&set, one, "Owner") });
        let (status, report) = post(&browser, &stack.base, "owner", press).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["changed"], json!(one), "{report}");
        assert_eq!(owner_of(&zoho, &ids[0]).await, json!(ben));

        // Three from the list, pressed three times at once: one call, one report.
        let three = &ids[1..];
        let set = setup(&browser, &stack.base, three).await;
        let since = stack.last_seq().await;
        let press = json!({ "module": "Leads", "owner_id": ben, "token": set["token"],
            "base": seen(&set, three, "Owner") });
        let presses = (0..3).map(|_| post(&browser, &stack.base, "owner", press.clone()));
        let answers = futures::future::join_all(presses).await;
        for (status, report) in &answers {
            assert_eq!(*status, 200, "{report}");
            assert_eq!(
                report["changed"].as_array().map(Vec::len),
                Some(3),
                "{report}"
            );
        }
        assert_eq!(actions(&stack, since, "/actions/change_owner").await, 1);
        for id in three {
            assert_eq!(owner_of(&zoho, id).await, json!(ben));
        }

        // While a dialog is open, someone hands one of them to nia and another to ada: the first
        // is left as it is and named; the second already is what was asked, and counts as done.
        let nia = user_id(&zoho, "nia@us.zportal.test").await;
        let set = setup(&browser, &stack.base, three).await;
        zoho.update("Leads", &three[0], json!({ "Owner": { "id": nia } }))
            .await;
        zoho.update("Leads", &three[1], json!({ "Owner": { "id": ada } }))
            .await;
        let press = json!({ "module": "Leads", "owner_id": ada, "token": set["token"],
            "base": seen(&set, three, "Owner") });
        let (_, report) = post(&browser, &stack.base, "owner", press).await;
        assert_eq!(
            report["changed"].as_array().map(Vec::len),
            Some(2),
            "{report}"
        );
        assert_eq!(report["skipped"][0]["id"], json!(three[0]), "{report}");
        assert_eq!(
            owner_of(&zoho, &three[0]).await,
            json!(nia),
            "not overwritten"
        );
    });
}

#[test]
fn lead_status_is_set_on_several_and_a_record_changed_meanwhile_is_left_alone() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, ADA).await;
        let zoho = DirectZoho::sign_in(stack.emulator_base(), "us", ADA).await;
        let ids = leads(&zoho, "Call block", 5).await;
        let set = setup(&browser, &stack.base, &ids).await;
        let fields: Vec<&str> = set["fields"]
            .as_array()
            .map(|f| f.iter().filter_map(|f| f["api_name"].as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(&"Lead_Status"), "{set}");
        for never in ["Email", "Description", "Owner", "Last_Name"] {
            assert!(
                !fields.contains(&never),
                "{never} is not offered: {fields:?}"
            );
        }
        // Someone sets one of them meanwhile.
        zoho.update("Leads", &ids[2], json!({ "Lead_Status": "Junk Lead" }))
            .await;
        let press = json!({ "module": "Leads", "field": "Lead_Status", "value": "Contacted",
            "token": set["token"], "base": seen(&set, &ids, "Lead_Status") });
        let (status, report) = post(&browser, &stack.base, "update", press).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(
            report["changed"].as_array().map(Vec::len),
            Some(4),
            "{report}"
        );
        assert_eq!(report["skipped"][0]["id"], json!(ids[2]), "{report}");
        assert!(
            report["skipped"][0]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("changed it meanwhile")),
            "{report}"
        );
        let status_of = |r: Value| r["data"][0]["Lead_Status"].clone();
        assert_eq!(
            status_of(zoho.get(&format!("Leads/{}", ids[2])).await),
            "Junk Lead",
            "not overwritten"
        );
        assert_eq!(
            status_of(zoho.get(&format!("Leads/{}", ids[0])).await),
            "Contacted"
        );

        // A value that is not one of the picklist's, and a field Zoho cannot mass update:
        // refused in words, nothing sent.
        let since = stack.last_seq().await;
        let set = setup(&browser, &stack.base, &ids).await;
        for (field, value, words) in [
            ("Lead_Status", "Won?", "Choose one of the values"),
            (
                "Email",
                "x@example.com",
                "“Email” cannot be set on many records at once",
            ),
        ] {
            let press = json!({ "module": "Leads", "field": field, "value": value,
                "token": set["token"], "base": seen(&set, &ids, field) });
            let (status, report) = post(&browser, &stack.base, "update", press).await;
            assert_eq!(status, 200, "{report}");
            assert!(
                report["refused"]
                    .as_str()
                    .is_some_and(|r| r.contains(words)),
                "{field}: {report}"
            );
        }
        assert_eq!(actions(&stack, since, "/actions/mass_update").await, 0);
    });
}

#[test]
fn refusals_come_back_in_words() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, ADA).await;
        let zoho = DirectZoho::sign_in(stack.emulator_base(), "us", ADA).await;
        let ids = leads(&zoho, "Refusals", 2).await;
        let ada = user_id(&zoho, ADA).await;

        // An inactive user cannot own records: Zoho refuses, and nothing changes.
        let ines = user_id(&zoho, "ines@us.zportal.test").await;
        let set = setup(&browser, &stack.base, &ids).await;
        let press = json!({ "module": "Leads", "owner_id": ines, "token": set["token"],
            "base": seen(&set, &ids, "Owner") });
        let (status, report) = post(&browser, &stack.base, "owner", press).await;
        assert_eq!(status, 200, "{report}");
        assert!(
            report["refused"]
                .as_str()
                .is_some_and(|r| r.contains("not an active user")),
            "{report}"
        );
        assert_eq!(owner_of(&zoho, &ids[0]).await, json!(ada));

        // 501 records: refused before Zoho is asked.
        let many: Vec<String> = (0..501)
            .map(|i| format!("{}", 4_150_868_000_000_500_000_u64 + i))
            .collect();
        let (status, _) = post(
            &browser,
            &stack.base,
            "setup",
            json!({ "module": "Leads", "ids": many }),
        )
        .await;
        assert_eq!(status, 400);
        let base: serde_json::Map<String, Value> =
            many.iter().map(|i| (i.clone(), json!(""))).collect();
        let press =
            json!({ "module": "Leads", "owner_id": ada, "token": set["token"], "base": base });
        let (status, out) = post(&browser, &stack.base, "owner", press).await;
        assert_eq!(status, 400, "{out}");

        let press = json!({ "module": "Leads", "field": "Lead_Status", "value": "Contacted",
            "token": set["token"], "base": base.clone() });
        let (status, _) = post(&browser, &stack.base, "update", press).await;
        assert_eq!(status, 400, "501 records to update");

        // An invited user who has not joined cannot own them yet (Zoho's CANNOT_ASSIGN).
        let uri = user_id(&zoho, "uri@us.zportal.test").await;
        let set = setup(&browser, &stack.base, &ids).await;
        let press = json!({ "module": "Leads", "owner_id": uri, "token": set["token"],
            "base": seen(&set, &ids, "Owner") });
        let (_, report) = post(&browser, &stack.base, "owner", press).await;
        assert!(
            report["refused"]
                .as_str()
                .is_some_and(|r| r.starts_with("Uri Novak cannot own these records")),
            "{report}"
        );

        // nia (a Sales Manager) may hand records only within her branch: not to sol.
        let sol = user_id(&zoho, "sol@us.zportal.test").await;
        let nia_zoho =
            DirectZoho::sign_in(stack.emulator_base(), "us", "nia@us.zportal.test").await;
        // Her profile may not set Lead Status, so hers is made without it.
        let hers = vec![
            nia_zoho
                .create("Leads", json!({ "Last_Name": "Branch 1" }))
                .await,
        ];
        let nia_browser = Browser::new();
        nia_browser.sign_in(&stack, "nia@us.zportal.test").await;
        let set = setup(&nia_browser, &stack.base, &hers).await;
        let press = json!({ "module": "Leads", "owner_id": sol, "token": set["token"],
            "base": seen(&set, &hers, "Owner") });
        let (_, report) = post(&nia_browser, &stack.base, "owner", press).await;
        assert!(
            report["refused"].as_str().is_some_and(
                |r| r.contains("below you in the role hierarchy, and Sol Ferreira is not")
            ),
            "{report}"
        );

        // sol's profile (Support) may not change owners at all (Zoho's NO_PERMISSION).
        let sol_browser = Browser::new();
        sol_browser.sign_in(&stack, "sol@us.zportal.test").await;
        let set = setup(&sol_browser, &stack.base, &hers).await;
        let press = json!({ "module": "Leads", "owner_id": ada, "token": set["token"],
            "base": seen(&set, &hers, "Owner") });
        let (_, report) = post(&sol_browser, &stack.base, "owner", press).await;
        assert_eq!(
            report["refused"], "Your profile does not allow this change.",
            "{report}"
        );

        // nia's profile may not edit Lead Status: not offered, and refused if sent.
        let nia = nia_browser;
        let set = setup(&nia, &stack.base, &ids).await;
        assert!(
            set["fields"]
                .as_array()
                .is_some_and(|f| f.iter().all(|f| f["api_name"] != "Lead_Status")),
            "{set}"
        );
        let press = json!({ "module": "Leads", "field": "Lead_Status", "value": "Contacted",
            "token": set["token"], "base": seen(&set, &ids, "Lead_Status") });
        let (_, report) = post(&nia, &stack.base, "update", press).await;
        assert!(
            report["refused"]
                .as_str()
                .is_some_and(|r| r.contains("may not edit “Lead Status”")),
            "{report}"
        );
    });
}

#[test]
fn a_connection_without_the_scopes_is_asked_to_reconnect_before_a_dialog_opens() {
    testkit::block_on(async {
        let scopes = "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ";
        let stack = stack(&[("ZOHO_SCOPES", scopes)]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, ADA).await;
        let zoho = DirectZoho::sign_in(stack.emulator_base(), "us", ADA).await;
        let ids = leads(&zoho, "Scopes", 1).await;
        let (status, out) = post(
            &browser,
            &stack.base,
            "setup",
            json!({ "module": "Leads", "ids": ids }),
        )
        .await;
        assert_eq!((status, out.clone()), (403, json!("NeedsConsent")), "{out}");
    });
}
