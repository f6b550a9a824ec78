//! Finding things over HTTP, through zportal's real router to the real emulator, on both
//! stores: saved views kept per person (saved, listed, replaced by name, deleted, never shown to
//! another user, there again after a disconnect); the org's views; a list ordered by any column
//! (from COQL) holding the same records as a sort in memory, across a page boundary, with
//! conditions too; the total, "about" when Zoho's count lags, none for a view with conditions;
//! and a search too short for Zoho refused in words.

use serde_json::{Value, json};
use testkit::server::live::DirectZoho;
use testkit::server::*;

const ADA: &str = "ada@us.zportal.test";

async fn call(browser: &Browser, base: &str, path: &str, body: Value) -> (u16, Value) {
    let res = browser
        .http
        .post(format!("{base}/api/views/{path}"))
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

async fn views(browser: &Browser, base: &str) -> Value {
    let res = browser
        .get(&format!("{base}/api/views/list?module=Leads"))
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.expect("views")
}

fn saved_names(v: &Value) -> Vec<String> {
    v["saved"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|v| v["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A page of the Leads list with `query` (`args[…]=…` pairs): its status and body.
async fn list(browser: &Browser, base: &str, query: &str) -> (u16, Value) {
    let res = browser
        .get(&format!(
            "{base}/api/records/list?args[module]=Leads&{query}"
        ))
        .await;
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The rows' cells in column `at`.
fn cells(page: &Value, at: usize) -> Vec<String> {
    page["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r["cells"][at].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn ids(page: &Value) -> Vec<String> {
    page["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Every Lead Zoho finds for `criteria`, as (id, Company), read straight from Zoho.
async fn found(zoho: &DirectZoho, criteria: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for page in 1.. {
        let body = zoho
            .get(&format!(
                "Leads/search?criteria={criteria}&fields=Company&per_page=200&page={page}"
            ))
            .await;
        let rows = body["data"].as_array().cloned().unwrap_or_default();
        out.extend(rows.iter().map(|r| {
            (
                r["id"].as_str().unwrap_or_default().to_owned(),
                r["Company"].as_str().unwrap_or_default().to_owned(),
            )
        }));
        if body["info"]["more_records"] != json!(true) {
            break;
        }
    }
    out
}

/// `rows` ordered as zportal promises: by Company without case, ties by id, both one way.
fn sorted(mut rows: Vec<(String, String)>, descending: bool) -> Vec<String> {
    rows.sort_by(|a, b| {
        let key = |r: &(String, String)| (r.1.to_lowercase(), r.0.parse::<u64>().unwrap_or(0));
        key(a).cmp(&key(b))
    });
    if descending {
        rows.reverse();
    }
    rows.into_iter().map(|(id, _)| id).collect()
}

#[test]
fn saved_views_are_ada_s_alone_and_follow_her_anywhere() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let ada = Browser::new();
        ada.sign_in(&stack, ADA).await;

        let all = views(&ada, &stack.base).await;
        let org: Vec<&str> = all["org"]
            .as_array()
            .map(|o| o.iter().filter_map(|v| v["label"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            org.first(),
            Some(&"All Leads"),
            "Zoho's default first: {all}"
        );
        assert!(
            org.contains(&"My Leads") && org.contains(&"Contacted Leads"),
            "{all}"
        );
        assert_eq!(all["org_needs_consent"], json!(false));
        assert_eq!(saved_names(&all), Vec::<String>::new());

        let def = json!({ "conditions": [{ "field": "Lead_Status", "operator": "equals", "value": "Contacted" }],
            "match_any": false, "columns": ["Full_Name", "Company"], "sort": "Company",
            "ascending": true, "per_page": 100 });
        let (status, hot) = call(
            &ada,
            &stack.base,
            "save",
            json!({ "module": "Leads", "name": "Hot", "def": def }),
        )
        .await;
        assert_eq!(status, 200, "{hot}");
        let (_, cold) = call(
            &ada,
            &stack.base,
            "save",
            json!({ "module": "Leads", "name": "Cold", "def": def }),
        )
        .await;
        // The same name again replaces it, keeping its id.
        let mut changed = def.clone();
        changed["sort"] = json!("Last_Name");
        let (_, again) = call(
            &ada,
            &stack.base,
            "save",
            json!({ "module": "Leads", "name": " Hot ", "def": changed }),
        )
        .await;
        assert_eq!(again["id"], hot["id"], "{again}");
        let all = views(&ada, &stack.base).await;
        assert_eq!(saved_names(&all), ["Cold", "Hot"]);
        // Each comes as the list URL that shows it, and its columns.
        let hot_id = hot["id"].as_str().unwrap_or_default();
        assert_eq!(
            all["saved"][1]["query"],
            json!(format!(
                "sv={hot_id}&c=Lead_Status:equals:Contacted&sort=Last_Name&asc=1&rows=100"
            ))
        );
        assert_eq!(all["saved"][1]["columns"], json!(["Full_Name", "Company"]));

        // Bad input is refused in words, and changes nothing.
        for (name, words) in [
            ("  ", "Give the view a name."),
            ("two\nlines", "A view's name is one line of text."),
        ] {
            let (status, err) = call(
                &ada,
                &stack.base,
                "save",
                json!({ "module": "Leads", "name": name, "def": def }),
            )
            .await;
            assert_eq!(status, 400);
            assert!(err.to_string().contains(words), "{err}");
        }
        let (status, _) = call(
            &ada,
            &stack.base,
            "save",
            json!({ "module": "Nowhere", "name": "Odd", "def": def }),
        )
        .await;
        assert_eq!(status, 400, "a module Zoho does not have");
        let mut bad = def.clone();
        bad["columns"] = json!(["Company) or (1"]);
        let (status, _) = call(
            &ada,
            &stack.base,
            "save",
            json!({ "module": "Leads", "name": "Odd", "def": bad }),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            saved_names(&views(&ada, &stack.base).await),
            ["Cold", "Hot"]
        );

        // Another browser of hers has them; ben has none, and cannot delete hers.
        let elsewhere = Browser::new();
        elsewhere.sign_in(&stack, ADA).await;
        assert_eq!(
            saved_names(&views(&elsewhere, &stack.base).await),
            ["Cold", "Hot"]
        );
        let ben = Browser::new();
        ben.sign_in(&stack, "ben@us.zportal.test").await;
        assert_eq!(
            saved_names(&views(&ben, &stack.base).await),
            Vec::<String>::new()
        );
        let (status, _) = call(
            &ben,
            &stack.base,
            "delete",
            json!({ "module": "Leads", "id": cold["id"] }),
        )
        .await;
        assert_eq!(status, 400, "not his");
        assert_eq!(
            saved_names(&views(&ada, &stack.base).await),
            ["Cold", "Hot"]
        );

        // A disconnect and a sign-in again: they are still hers.
        let res = ada
            .http
            .post(format!("{}/auth/disconnect", stack.base))
            .header("sec-fetch-site", "same-origin")
            .form(&[("return_to", "/")])
            .send()
            .await
            .expect("disconnect");
        assert_eq!(res.status(), 303);
        ada.sign_in(&stack, ADA).await;
        assert_eq!(
            saved_names(&views(&ada, &stack.base).await),
            ["Cold", "Hot"]
        );

        let (status, _) = call(
            &ada,
            &stack.base,
            "delete",
            json!({ "module": "Leads", "id": cold["id"] }),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(saved_names(&views(&ada, &stack.base).await), ["Hot"]);
        let (status, _) = call(
            &ada,
            &stack.base,
            "delete",
            json!({ "module": "Leads", "id": cold["id"] }),
        )
        .await;
        assert_eq!(status, 400, "gone already");
    });
}

#[test]
fn a_list_ordered_by_any_column_holds_what_a_sort_in_memory_does() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let ada = Browser::new();
        ada.sign_in(&stack, ADA).await;
        let zoho = DirectZoho::sign_in(stack.emulator_base(), "us", ADA).await;

        // Contacted Leads by Company, both ways, two pages of 200: as sorted here.
        let contacted = found(&zoho, "(Lead_Status:equals:Contacted)").await;
        assert_eq!(contacted.len(), 625);
        let condition = "args[conditions][0][field]=Lead_Status&args[conditions][0][operator]=equals\
            &args[conditions][0][value]=Contacted&args[columns][0]=Full_Name&args[columns][1]=Company\
            &args[columns][2]=Owner&args[sort]=Company&args[per_page]=200";
        for descending in [false, true] {
            let asc = if descending { "false" } else { "true" };
            let mut got = Vec::new();
            for page in [1, 2] {
                let (status, body) = list(
                    &ada,
                    &stack.base,
                    &format!("{condition}&args[ascending]={asc}&args[page]={page}"),
                )
                .await;
                assert_eq!(status, 200, "{body}");
                assert_eq!(body["total"], json!(625), "{body}");
                assert_eq!(body["first"], json!((page - 1) * 200 + 1));
                assert_eq!(body["about"], json!(false));
                assert_eq!(
                    cells(&body, 2)[0],
                    "Ada Lovelace",
                    "an owner's name, joined"
                );
                got.extend(ids(&body));
            }
            assert_eq!(
                got,
                sorted(contacted.clone(), descending)[..400],
                "descending: {descending}"
            );
        }

        // The whole list by Company: the first two pages of 100 (every seeded "Apex …").
        let (_, p1) = list(
            &ada,
            &stack.base,
            "args[sort]=Company&args[ascending]=true&args[per_page]=100&args[page]=1",
        )
        .await;
        let (_, p2) = list(
            &ada,
            &stack.base,
            "args[sort]=Company&args[ascending]=true&args[per_page]=100&args[page]=2",
        )
        .await;
        assert_eq!(p1["total"], json!(2500), "{p1}");
        let firsts: Vec<String> = ids(&p1).into_iter().chain(ids(&p2)).collect();
        let companies: Vec<String> = cells(&p1, 1).into_iter().chain(cells(&p2, 1)).collect();
        let mut in_order = companies.clone();
        in_order.sort_by_key(|c| c.to_lowercase());
        assert_eq!(companies, in_order);
        assert_eq!(firsts.len(), 200);
        assert!(
            companies.iter().all(|c| c.starts_with("Apex")),
            "{companies:?}"
        );

        // A converted Lead is not in the list, however it is ordered (COQL would keep it); and
        // the total leaves it out too.
        let gone = zoho
            .create(
                "Leads",
                json!({ "Last_Name": "Converted One", "Company": "AAA Converted" }),
            )
            .await;
        let (status, converted) = zoho
            .post(
                &format!("Leads/{gone}/actions/convert"),
                json!({ "data": [{}] }),
            )
            .await;
        assert_eq!(status, 200, "{converted}");
        let (_, first) = list(
            &ada,
            &stack.base,
            "args[sort]=Company&args[ascending]=true&args[per_page]=10",
        )
        .await;
        assert!(!ids(&first).contains(&gone), "{first}");
        assert_eq!(first["total"], json!(2500));

        // Search's `equals` on text holds where the text is contained: COQL's page says the same.
        let apex = found(&zoho, "(Company:equals:Apex)").await;
        assert!(apex.len() > 200, "{}", apex.len());
        let (_, by_equals) = list(
            &ada,
            &stack.base,
            "args[conditions][0][field]=Company\
            &args[conditions][0][operator]=equals&args[conditions][0][value]=Apex\
            &args[sort]=Company&args[ascending]=false&args[per_page]=50",
        )
        .await;
        assert_eq!(
            ids(&by_equals),
            sorted(apex.clone(), true)[..50],
            "{by_equals}"
        );
        assert_eq!(by_equals["total"], json!(apex.len()));

        // An order a list cannot have is refused in words.
        let (status, body) = list(&ada, &stack.base, "args[sort]=Owner").await;
        assert_eq!(status, 400, "{body}");
    });
}

#[test]
fn the_total_is_zohos_count_and_says_about_when_it_lags() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let ada = Browser::new();
        ada.sign_in(&stack, ADA).await;
        let zoho = DirectZoho::sign_in(stack.emulator_base(), "us", ADA).await;

        let (_, plain) = list(&ada, &stack.base, "args[per_page]=50").await;
        assert_eq!(
            (plain["first"].clone(), plain["total"].clone()),
            (json!(1), json!(2500))
        );
        let (_, searched) = list(&ada, &stack.base, "args[text]=lead0007").await;
        assert_eq!(searched["total"], json!(1), "{searched}");

        // Zoho's count lags: a Lead made a moment ago is listed but not counted yet.
        stack
            .control("config", json!({ "count_lag_secs": 600 }))
            .await;
        zoho.create(
            "Leads",
            json!({ "Last_Name": "Laggard One", "Company": "Slow Co" }),
        )
        .await;
        let (_, lagging) = list(&ada, &stack.base, "args[text]=Laggard").await;
        assert_eq!(ids(&lagging).len(), 1, "{lagging}");
        assert_eq!(
            (lagging["total"].clone(), lagging["about"].clone()),
            (json!(0), json!(true))
        );
        stack
            .control("config", json!({ "count_lag_secs": 0 }))
            .await;

        // A view: its records and its count; with conditions as well, no total (Zoho cannot
        // count that), and no error.
        let all = views(&ada, &stack.base).await;
        let contacted = all["org"]
            .as_array()
            .and_then(|o| o.iter().find(|v| v["label"] == "Contacted Leads"))
            .and_then(|v| v["id"].as_str())
            .expect("Contacted Leads")
            .to_owned();
        let (status, in_view) = list(&ada, &stack.base, &format!("args[view]={contacted}")).await;
        assert_eq!(status, 200, "{in_view}");
        assert_eq!(in_view["total"], json!(625));
        let labels: Vec<&str> = in_view["columns"]
            .as_array()
            .map(|c| c.iter().filter_map(|c| c["label"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            labels,
            ["Lead Name", "Company", "Lead Source", "Lead Status"],
            "the view's columns"
        );
        let (_, narrowed) = list(&ada, &stack.base, &format!(
            "args[view]={contacted}&args[per_page]=50&args[conditions][0][field]=Last_Name&args[conditions][0][operator]=starts_with&args[conditions][0][value]=Lead 249"
        )).await;
        assert_eq!(ids(&narrowed).len(), 3, "{narrowed}");
        assert_eq!(narrowed["total"], Value::Null);
        // The view ordered anew by Last Name, from COQL with its criteria.
        let (_, by_name) = list(&ada, &stack.base, &format!(
            "args[view]={contacted}&args[sort]=Last_Name&args[ascending]=false&args[per_page]=20"
        )).await;
        assert_eq!(cells(&by_name, 0)[0], "Lead 2498", "{by_name}");
        assert_eq!(by_name["order_note"], Value::Null);

        // A view COQL cannot say keeps Zoho's order, and says so.
        let recent = all["org"]
            .as_array()
            .and_then(|o| {
                o.iter()
                    .find(|v| v["label"] == "Touched in the last 30 days")
            })
            .and_then(|v| v["id"].as_str())
            .expect("a view by date")
            .to_owned();
        let (status, kept) = list(
            &ada,
            &stack.base,
            &format!("args[view]={recent}&args[sort]=Company"),
        )
        .await;
        assert_eq!(status, 200, "{kept}");
        assert_eq!(
            kept["order_note"],
            json!("This view's order is set in Zoho.")
        );

        // Too short a search is said in words; Zoho is not asked.
        let (status, body) = list(&ada, &stack.base, "args[text]=a").await;
        assert_eq!(status, 400);
        assert!(
            body.to_string().contains("Type at least 2 characters"),
            "{body}"
        );
    });
}
