//! Converting a Lead over HTTP, through zportal's real router to the real emulator, on both
//! stores: into a new Contact, Account and Deal, once however often "Convert now" is pressed; onto
//! the Account Zoho suggests; a Lead converted before, said in words; a retry after Zoho's answer
//! was lost to a timeout, reported as the conversion it was; and one Zoho schedules, read until
//! it is carried out. Each time, the Lead leaves the Leads list and its page says into what.

use std::time::Duration;

use serde_json::{Value, json};
use testkit::server::live::DirectZoho;
use testkit::server::*;

const ADA: &str = "ada@us.zportal.test";

async fn post(browser: &Browser, base: &str, body: Value) -> (u16, Value) {
    let res = browser
        .http
        .post(format!("{base}/api/convert/lead"))
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

async fn get(browser: &Browser, url: &str) -> Value {
    let res = browser.get(url).await;
    assert_eq!(res.status(), 200, "{url}");
    res.json().await.expect("json")
}

async fn setup(browser: &Browser, base: &str, lead: &str) -> Value {
    get(browser, &format!("{base}/api/convert/setup?lead_id={lead}")).await
}

/// A press of "Convert now".
fn press(lead: &str, token: &Value, account: &str, deal: Option<Value>, retry: bool) -> Value {
    json!({ "lead_id": lead, "token": token, "retry": retry,
        "choice": { "account": account, "contact": "new", "deal": deal } })
}

fn deal(name: &str) -> Value {
    json!({ "name": name, "closing_date": "2027-03-31", "stage": "Qualification",
        "amount": "1250.50", "pipeline": null })
}

/// How many conversions zportal asked of Zoho since the emulator's request `since`.
async fn conversions(stack: &Stack, since: u64) -> usize {
    stack.control_get(&format!("requests?since={since}")).await["requests"]
        .as_array()
        .map_or(0, |all| {
            all.iter()
                .filter(|r| {
                    r["method"] == "POST"
                        && r["path"]
                            .as_str()
                            .is_some_and(|p| p.ends_with("/actions/convert"))
                })
                .count()
        })
}

/// Whether the Leads list (the first 200, newest first) shows `lead`.
async fn listed(browser: &Browser, base: &str, lead: &str) -> bool {
    let page = get(browser, &leads_list_url(base, 200)).await;
    page["rows"]
        .as_array()
        .is_some_and(|rows| rows.iter().any(|r| r["id"] == lead))
}

/// The Lead's page, as zportal serves it.
async fn lead_page(browser: &Browser, base: &str, lead: &str) -> Value {
    get(
        browser,
        &format!("{base}/api/records/get?module=Leads&id={lead}"),
    )
    .await
}

/// ada signed in on `stack`, and Zoho as another app of her org sees it.
async fn ada(stack: &Stack) -> (Browser, DirectZoho) {
    let browser = Browser::new();
    browser.sign_in(stack, ADA).await;
    let zoho = DirectZoho::sign_in(stack.emulator_base(), "us", ADA).await;
    (browser, zoho)
}

/// A unique word, so a test's Company matches no other test's records.
fn unique(word: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{word} {nanos}")
}

#[test]
fn a_lead_becomes_a_contact_a_new_account_and_a_deal_once_however_often_pressed() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let (browser, zoho) = ada(&stack).await;
        let company = unique("Quill Works");
        let lead = zoho
            .create(
                "Leads",
                json!({ "Last_Name": "Quill", "First_Name": "Quinn", "Company": company }),
            )
            .await;
        assert!(listed(&browser, &stack.base, &lead).await);
        let set = setup(&browser, &stack.base, &lead).await;
        assert_eq!(
            (
                set["lead_name"].clone(),
                set["company"].clone(),
                set["converted"].clone()
            ),
            (json!("Quinn Quill"), json!(company), Value::Null),
            "{set}"
        );
        assert_eq!(set["accounts"], json!([]), "nothing matches: {set}");
        assert!(
            set["stages"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["value"] == "Qualification")),
            "{set}"
        );
        assert_eq!(
            set["pipelines"],
            Value::Null,
            "the emulator's Deals have no Pipeline"
        );

        // A Deal without its closing date is refused beside the field, and nothing is asked.
        let mut undated = deal("Quill deal");
        undated["closing_date"] = json!("");
        let before = stack.last_seq().await;
        let (status, out) = post(
            &browser,
            &stack.base,
            press(&lead, &set["token"], "new", Some(undated), false),
        )
        .await;
        assert_eq!(
            (status, out["Refused"]["field"].clone()),
            (200, json!("Closing Date")),
            "{out}"
        );
        // "No account" for a Lead with a Company: refused, as Zoho cannot skip the Account.
        let (_, out) = post(
            &browser,
            &stack.base,
            press(&lead, &set["token"], "none", None, false),
        )
        .await;
        assert_eq!(out["Refused"]["field"], "Account", "{out}");
        assert_eq!(conversions(&stack, before).await, 0);

        // Pressed three times at once: one conversion, and every press hears of it.
        let body = press(&lead, &set["token"], "new", Some(deal("Quill deal")), false);
        let presses = (0..3).map(|_| post(&browser, &stack.base, body.clone()));
        let answers = futures::future::join_all(presses).await;
        for (status, out) in &answers {
            assert_eq!(*status, 200, "{out}");
        }
        let into = answers[0].1["Converted"].clone();
        assert!(
            answers.iter().all(|(_, out)| out["Converted"] == into),
            "{answers:?}"
        );
        assert_eq!(conversions(&stack, before).await, 1);
        assert_eq!(into["contact"]["name"], "Quinn Quill", "{into}");
        assert_eq!(into["account"]["name"], json!(company));
        assert_eq!(into["deal"]["name"], "Quill deal");
        let contact_id = into["contact"]["id"].as_str().expect("contact id");
        let deal_id = into["deal"]["id"].as_str().expect("deal id");

        // What Zoho made: the Contact under the Account, the Deal with both, the lead's owner's.
        let made = zoho.get(&format!("Deals/{deal_id}")).await;
        let made = &made["data"][0];
        assert_eq!(made["Amount"], json!(1250.5), "{made}");
        assert_eq!(made["Contact_Name"]["id"], json!(contact_id));
        assert_eq!(made["Account_Name"]["id"], into["account"]["id"]);

        // The Lead leaves the list; its page says into what.
        assert!(!listed(&browser, &stack.base, &lead).await);
        let page = lead_page(&browser, &stack.base, &lead).await;
        assert_eq!(page["converted"], into, "{page}");
        let contact = get(
            &browser,
            &format!(
                "{}/api/records/get?module=Contacts&id={contact_id}",
                stack.base
            ),
        )
        .await;
        assert_eq!(contact["title"], "Quinn Quill");
    });
}

#[test]
fn a_lead_joins_the_account_zoho_suggests_and_a_second_conversion_says_it_was_converted() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let (browser, zoho) = ada(&stack).await;
        let company = unique("Harbor Lights");
        let account = zoho
            .create("Accounts", json!({ "Account_Name": company }))
            .await;
        let lead = zoho
            .create("Leads", json!({ "Last_Name": "Marsh", "Company": company }))
            .await;
        let set = setup(&browser, &stack.base, &lead).await;
        assert_eq!(
            set["accounts"],
            json!([{ "id": account, "name": company, "hint": null }]),
            "{set}"
        );
        let (status, out) = post(
            &browser,
            &stack.base,
            press(&lead, &set["token"], &account, None, false),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        let into = out["Converted"].clone();
        assert_eq!(into["account"]["id"], json!(account), "{out}");
        assert_eq!(into["deal"], Value::Null);

        // Opened again: the dialog says it was converted, into what.
        let again = setup(&browser, &stack.base, &lead).await;
        assert_eq!(again["converted"], into, "{again}");
        // Pressed with a new token (another tab's dialog, opened before): Zoho refuses, and the
        // answer says so with what it became; nothing more is made.
        let before = stack.last_seq().await;
        let (status, out) = post(
            &browser,
            &stack.base,
            press(&lead, &again["token"], "new", None, false),
        )
        .await;
        assert_eq!((status, out["Already"].clone()), (200, into), "{out}");
        assert_eq!(conversions(&stack, before).await, 1);
        let contacts = zoho.get("Contacts?fields=Last_Name&per_page=200").await;
        let named = contacts["data"].as_array().map_or(0, |all| {
            all.iter().filter(|c| c["Last_Name"] == "Marsh").count()
        });
        assert_eq!(named, 1, "one Contact: {contacts}");
    });
}

#[test]
fn a_retry_after_a_lost_answer_reports_the_conversion_it_made() {
    testkit::block_on(async {
        // Zoho's answers time out after a second here; this conversion's comes after two.
        let stack = stack_with(&[], |c| {
            c.zoho.timeout = Duration::from_secs(1);
        })
        .await;
        let (browser, zoho) = ada(&stack).await;
        let lead = zoho
            .create(
                "Leads",
                json!({ "Last_Name": "Latimer", "Company": unique("Late Co") }),
            )
            .await;
        let set = setup(&browser, &stack.base, &lead).await;
        stack
            .control(
                "faults",
                json!({ "kind": "late_answer", "endpoint": "records", "count": 1,
                    "delay_ms": 2000, "path": "Leads/{id}/actions/convert" }),
            )
            .await;
        let body = press(&lead, &set["token"], "new", None, false);
        let (status, out) = post(&browser, &stack.base, body).await;
        assert!(status >= 500, "the answer was lost: {status} {out}");
        // Zoho converted it all the same.
        let converted = zoho.get(&format!("Leads/{lead}")).await;
        assert_eq!(converted["data"][0]["$converted"], true, "{converted}");

        // "Convert now" again, with the same token: Zoho says ID_ALREADY_CONVERTED, and the
        // dialog hears it was this press's conversion, into what the Lead says.
        let retry = press(&lead, &set["token"], "new", None, true);
        let (status, out) = post(&browser, &stack.base, retry).await;
        assert_eq!(status, 200, "{out}");
        let into = &out["Converted"];
        let detail = &converted["data"][0]["$converted_detail"];
        assert_eq!(into["contact"]["id"], detail["Contacts"]["id"], "{out}");
        assert_eq!(into["account"]["id"], detail["Accounts"]["id"], "{out}");
        assert_eq!(into["contact"]["name"], "Latimer");

        // A press sent again whose Lead someone else converted meanwhile, into something else
        // (no Deal where this press asked for one): that was not this press's conversion.
        let other = zoho
            .create(
                "Leads",
                json!({ "Last_Name": "Elsewhere", "Company": unique("Other Co") }),
            )
            .await;
        let set = setup(&browser, &stack.base, &other).await;
        let (status, answer) = zoho
            .post(
                &format!("Leads/{other}/actions/convert"),
                json!({ "data": [{}] }),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        let again = press(&other, &set["token"], "new", Some(deal("Mine")), true);
        let (status, out) = post(&browser, &stack.base, again).await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["Already"]["contact"]["name"], "Elsewhere", "{out}");
    });
}

#[test]
fn a_scheduled_conversion_is_read_until_zoho_has_carried_it_out() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let (browser, zoho) = ada(&stack).await;
        let lead = zoho
            .create(
                "Leads",
                json!({ "Last_Name": "Sched", "Company": unique("Later Ltd") }),
            )
            .await;
        let set = setup(&browser, &stack.base, &lead).await;
        stack
            .control("config", json!({ "convert_scheduled": true }))
            .await;
        let (status, out) = post(
            &browser,
            &stack.base,
            press(&lead, &set["token"], "new", Some(deal("Later deal")), false),
        )
        .await;
        stack
            .control("config", json!({ "convert_scheduled": false }))
            .await;
        assert_eq!((status, out.clone()), (200, json!("Scheduled")), "{out}");
        let state_url = format!("{}/api/convert/state?lead_id={lead}", stack.base);
        assert_eq!(get(&browser, &state_url).await, Value::Null, "not yet");
        assert!(
            listed(&browser, &stack.base, &lead).await,
            "listed until converted"
        );
        // The dialog's polling, as the browser does it: a bounded number of reads.
        let mut into = Value::Null;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            into = get(&browser, &state_url).await;
            if !into.is_null() {
                break;
            }
        }
        assert_eq!(into["contact"]["name"], "Sched", "carried out: {into}");
        assert_eq!(into["deal"]["name"], "Later deal");
        // Gone from the list once the list is read anew (Zoho's notification of the
        // conversion, or the few seconds a list is kept, whichever comes first).
        let mut gone = false;
        for _ in 0..40 {
            if !listed(&browser, &stack.base, &lead).await {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert!(gone, "a converted lead leaves the list");
        // The same press again (the dialog's retry) hears of the conversion, and asks no more.
        let before = stack.last_seq().await;
        let (_, out) = post(
            &browser,
            &stack.base,
            press(&lead, &set["token"], "new", Some(deal("Later deal")), true),
        )
        .await;
        assert_eq!(out["Converted"], into, "{out}");
        assert_eq!(conversions(&stack, before).await, 0);
    });
}
