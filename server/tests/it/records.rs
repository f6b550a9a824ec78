//! The records server functions over HTTP on 127.0.0.1, through zportal's real router to the real
//! emulator: the list's columns and conditions as the page sends them, saves that report Zoho's
//! refusal by field, one record per form however often "Save" arrives, deletes, and the CSRF guard
//! in front of every write; two people editing one record lose nothing.

use serde_json::{Value, json};
use testkit::server::*;

/// `GET /api/records/list` with the query the page's `ListArgs` encodes to.
async fn list(browser: &Browser, stack: &Stack, query: &[(&str, &str)]) -> (u16, Value) {
    let url = reqwest::Url::parse_with_params(
        &format!("{}/api/records/list", stack.base),
        query.iter().map(|(k, v)| (format!("args[{k}]"), *v)),
    )
    .expect("url");
    let res = browser.get(url.as_str()).await;
    (res.status().as_u16(), res.json().await.expect("json"))
}

async fn post_json(browser: &Browser, url: &str, body: Value, site: &str) -> (u16, Value) {
    let res = browser
        .http
        .post(url)
        .header("sec-fetch-site", site)
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

async fn inserts(stack: &Stack) -> u64 {
    let stats = stack.control_get("stats").await;
    stats["by_module"]["Leads"]["POST"].as_u64().unwrap_or(0)
}

#[test]
fn the_list_takes_chosen_columns_and_any_of_several_conditions() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;

        let (status, page) = list(
            &browser,
            &stack,
            &[
                ("module", "Leads"),
                ("per_page", "5"),
                ("columns][0", "Phone"),
                ("columns][1", "No_Such_Field"),
                ("columns][2", "Full_Name"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let labels: Vec<&str> = page["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .filter_map(|c| c["label"].as_str())
            .collect();
        assert_eq!(
            labels,
            ["Phone", "Lead Name"],
            "a field the module lacks is dropped"
        );
        assert_eq!(
            page["rows"][0]["cells"],
            json!(["+1 555 2500", "Lead 2500"])
        );

        let (status, page) = list(
            &browser,
            &stack,
            &[
                ("module", "Leads"),
                ("per_page", "50"),
                ("match_any", "true"),
                ("conditions][0][field", "Last_Name"),
                ("conditions][0][operator", "equals"),
                ("conditions][0][value", "Lead 0001"),
                ("conditions][1][field", "Last_Name"),
                ("conditions][1][operator", "equals"),
                ("conditions][1][value", "Lead 0002"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["searched"], true);
        assert_eq!(page["rows"].as_array().map(Vec::len), Some(2));

        let (status, err) = list(
            &browser,
            &stack,
            &[
                ("module", "Leads"),
                ("conditions][0][field", "Secret_Field"),
                ("conditions][0][operator", "equals"),
                ("conditions][0][value", "x"),
            ],
        )
        .await;
        assert_ne!(status, 200);
        assert!(err.to_string().contains("does not have"), "{err}");
    })
}

#[test]
fn a_save_reports_zohos_refusal_by_field_and_creates_once_per_form() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        let form = browser
            .get(&format!("{}/api/records/form?module=Leads", stack.base))
            .await
            .json::<Value>()
            .await
            .expect("form");
        let token = form["save_token"].as_str().expect("token").to_owned();
        let last_name = form["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|f| f["api_name"] == "Last_Name")
            .cloned()
            .expect("Last Name");
        assert_eq!(
            last_name["required"], true,
            "mandatory from Zoho's metadata"
        );
        assert!(
            form["fields"]
                .as_array()
                .is_some_and(|f| !f.iter().any(|f| f["api_name"] == "Full_Name")),
            "read-only fields are not on the form"
        );

        let save = |values: Value, token: &str| json!({ "module": "Leads", "id": null, "values": values, "save_token": token });
        let url = format!("{}/api/records/save", stack.base);
        let company = json!({ "Company": { "kind": "Text", "value": "Acme" } });
        let (status, out) =
            post_json(&browser, &url, save(company.clone(), &token), "same-origin").await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["Refused"]["problems"][0]["field"], "Last_Name");
        assert_eq!(
            out["Refused"]["problems"][0]["message"],
            "Last Name is required."
        );

        let before = inserts(&stack).await;
        let values = json!({
            "Last_Name": { "kind": "Text", "value": "Once" },
            "Company": { "kind": "Text", "value": "Acme" },
        });
        // A cross-site POST is refused before it reaches Zoho.
        let (status, _) =
            post_json(&browser, &url, save(values.clone(), &token), "cross-site").await;
        assert_eq!(status, 403);
        assert_eq!(inserts(&stack).await, before);

        let first = post_json(&browser, &url, save(values.clone(), &token), "same-origin");
        let second = post_json(&browser, &url, save(values.clone(), &token), "same-origin");
        let ((s1, a), (s2, b)) = tokio::join!(first, second);
        assert_eq!((s1, s2), (200, 200), "{a} {b}");
        assert!(a["Saved"]["id"].is_string(), "{a}");
        assert_eq!(a, b, "the same record, twice told");
        assert_eq!(inserts(&stack).await, before + 1, "one insert reached Zoho");

        // Another form is another record.
        let (_, other) = post_json(
            &browser,
            &url,
            save(values, &"ab".repeat(16)),
            "same-origin",
        )
        .await;
        assert_ne!(other["Saved"]["id"], a["Saved"]["id"]);

        let bad = json!({ "Owner": { "kind": "Text", "value": "someone" } });
        let (status, out) =
            post_json(&browser, &url, save(bad, &"cd".repeat(16)), "same-origin").await;
        assert_eq!(status, 200);
        assert!(
            out["Refused"]["problems"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("Owner"))
        );

        let ids = [a["Saved"]["id"].clone(), other["Saved"]["id"].clone()];
        let del = format!("{}/api/records/delete", stack.base);
        let res = browser
            .http
            .post(&del)
            .header("sec-fetch-site", "same-site")
            .form(&[
                ("module", "Leads"),
                ("ids[0]", ids[0].as_str().unwrap_or_default()),
            ])
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status(), 403, "delete is guarded too");
        let mut form: Vec<(String, String)> = vec![("module".into(), "Leads".into())];
        for (i, id) in ids.iter().enumerate() {
            form.push((
                format!("ids[{i}]"),
                id.as_str().unwrap_or_default().to_owned(),
            ));
        }
        let res = browser
            .http
            .post(&del)
            .header("sec-fetch-site", "same-origin")
            .form(&form)
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status(), 200);
        let out: Value = res.json().await.expect("json");
        assert_eq!(out["deleted"].as_array().map(Vec::len), Some(2), "{out}");
    })
}

/// The form of Lead `id`, as its page opens it: its values (what a save's `base` is).
async fn edit_form(browser: &Browser, stack: &Stack, id: &str) -> Value {
    let url = format!("{}/api/records/form?module=Leads&id={id}", stack.base);
    browser.get(&url).await.json().await.expect("form")
}

/// Saves `form` with `changes` over its values, sending what it was opened with.
async fn save_over(
    browser: &Browser,
    stack: &Stack,
    id: &str,
    form: &Value,
    changes: Value,
    base: &Value,
) -> Value {
    let mut values = form["values"].clone();
    if let (Some(v), Some(c)) = (values.as_object_mut(), changes.as_object()) {
        v.extend(c.clone());
    }
    let body = json!({"module": "Leads", "id": id, "values": values,
        "save_token": form["save_token"], "base": base});
    let url = format!("{}/api/records/save", stack.base);
    let (status, out) = post_json(browser, &url, body, "same-origin").await;
    assert_eq!(status, 200, "{out}");
    out
}

/// The Company and Phone of Lead `id`, as its page shows them.
async fn now(browser: &Browser, stack: &Stack, id: &str) -> (Option<Value>, Option<Value>) {
    let url = format!("{}/api/records/get?module=Leads&id={id}", stack.base);
    let view: Value = browser.get(&url).await.json().await.expect("record");
    let field = |api: &str| {
        view["fields"].as_array().and_then(|f| {
            f.iter()
                .find(|x| x["api_name"] == api)
                .map(|x| x["value"].clone())
        })
    };
    (field("Company"), field("Phone"))
}

fn text(value: &str) -> Value {
    json!({ "kind": "Text", "value": value })
}

#[test]
fn two_people_editing_one_record_lose_nothing() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let (ada, ben) = (Browser::new(), Browser::new());
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        ben.sign_in(&stack, "ben@us.zportal.test").await;
        let (_, page) = list(&ada, &stack, &[("module", "Leads"), ("per_page", "1")]).await;
        let id = page["rows"][0]["id"].as_str().expect("a Lead").to_owned();

        // Both open the form; ben saves a new Company first.
        let (a_form, b_form) = (
            edit_form(&ada, &stack, &id).await,
            edit_form(&ben, &stack, &id).await,
        );
        let out = save_over(
            &ben,
            &stack,
            &id,
            &b_form,
            json!({"Company": text("Ben's Co")}),
            &b_form["values"],
        )
        .await;
        assert_eq!(out["Saved"]["id"], id.as_str());

        // Ada changes the Company too: nothing is written, and she is told whose value it is.
        let mine = json!({"Company": text("Ada's Co")});
        let out = save_over(&ada, &stack, &id, &a_form, mine.clone(), &a_form["values"]).await;
        let conflict = &out["Conflict"];
        assert_eq!(
            conflict["conflicts"].as_array().map(Vec::len),
            Some(1),
            "{out}"
        );
        assert_eq!(conflict["conflicts"][0]["field"], "Company");
        assert_eq!(conflict["conflicts"][0]["label"], "Company");
        assert_eq!(conflict["conflicts"][0]["theirs_text"], "Ben's Co");
        assert_eq!(conflict["conflicts"][0]["yours_text"], "Ada's Co");
        assert!(
            conflict["by"]
                .as_str()
                .is_some_and(|b| b.starts_with("Ben")),
            "{out}"
        );
        assert!(conflict["at"].is_string());
        assert_eq!(
            now(&ada, &stack, &id).await.0,
            Some(json!("Ben's Co")),
            "ben's value stands"
        );

        // A change to another field merges without a word: ben's Company stays.
        let out = save_over(
            &ada,
            &stack,
            &id,
            &a_form,
            json!({"Phone": text("+1 555 0100")}),
            &a_form["values"],
        )
        .await;
        assert_eq!(out["Saved"]["id"], id.as_str(), "{out}");
        assert_eq!(
            now(&ben, &stack, &id).await,
            (Some(json!("Ben's Co")), Some(json!("+1 555 0100")))
        );

        // "Keep mine": their value becomes the base, and mine is written after the same check.
        let mut base = a_form["values"].clone();
        base["Company"] = conflict["conflicts"][0]["theirs"].clone();
        base["Phone"] = text("+1 555 0100");
        let out = save_over(
            &ada,
            &stack,
            &id,
            &a_form,
            json!({"Company": text("Ada's Co"), "Phone": text("+1 555 0100")}),
            &base,
        )
        .await;
        assert_eq!(out["Saved"]["id"], id.as_str(), "{out}");
        assert_eq!(now(&ben, &stack, &id).await.0, Some(json!("Ada's Co")));

        // Deleted meanwhile: nothing is written, and the form hears so.
        let res = ben
            .http
            .post(format!("{}/api/records/delete", stack.base))
            .header("sec-fetch-site", "same-origin")
            .form(&[("module", "Leads"), ("ids[0]", id.as_str())])
            .send()
            .await
            .expect("delete");
        assert_eq!(res.status(), 200);
        let out = save_over(&ada, &stack, &id, &a_form, mine, &a_form["values"]).await;
        assert_eq!(out, json!("Gone"));
    })
}
