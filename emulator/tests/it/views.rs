//! Finding records in the emulated CRM (reference §9.5, §9.6, §9.9), over real HTTP on
//! 127.0.0.1: the org's custom views and lists by `cvid`, counts (with their lag), COQL's plain
//! select with its order, paging and limits, search's order and its word rule.

use serde_json::{Value, json};

use crate::crm::{Crm, code};
use crate::support::*;

/// `email` signed in with the scopes finding needs beside zportal's.
async fn finder<'a>(emu: &'a Emu, email: &str) -> Crm<'a> {
    let t = emu
        .tokens_with_scope(
            email,
            &format!("{SCOPES},ZohoCRM.settings.custom_views.READ,ZohoCRM.coql.READ"),
        )
        .await;
    Crm {
        emu,
        dc: "us",
        token: s(&t["access_token"]).to_owned(),
    }
}

fn rows(body: &Value) -> Vec<Value> {
    body["data"].as_array().cloned().unwrap_or_default()
}

/// The view of Leads named `name`.
async fn view_id(crm: &Crm<'_>, name: &str) -> String {
    let (_, body) = crm.get("settings/custom_views?module=Leads").await;
    body["custom_views"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["display_value"] == json!(name))
        .map(|v| s(&v["id"]).to_owned())
        .expect(name)
}

#[tokio::test]
async fn custom_views_are_listed_and_read_one_by_one() {
    let emu = Emu::start().await;
    let crm = finder(&emu, "ada@us.zportal.test").await;
    let (status, body) = crm.get("settings/custom_views?module=Leads").await;
    assert_eq!(status, 200, "{body}");
    let views = body["custom_views"].as_array().cloned().unwrap_or_default();
    let first = &views[0];
    assert_eq!(
        (s(&first["name"]), s(&first["display_value"])),
        ("All Open Leads", "All Leads")
    );
    assert_eq!(first["default"], json!(true));
    assert_eq!(body["info"]["default"], first["id"]);
    assert!(
        views.iter().all(|v| v.get("criteria").is_none()),
        "the list carries no criteria"
    );
    assert!(
        views
            .iter()
            .any(|v| v["display_value"] == json!("My Leads"))
    );

    let (status, one) = crm
        .get(&format!(
            "settings/custom_views/{}?module=Leads",
            s(&first["id"])
        ))
        .await;
    assert_eq!(status, 200, "{one}");
    let view = &one["custom_views"][0];
    assert_eq!(
        view["criteria"],
        json!({ "comparator": "equal", "field": { "api_name": "Converted__s" }, "value": false, "type": "value" })
    );
    assert!(view["fields"].as_array().is_some_and(|f| !f.is_empty()));

    let (status, _) = crm
        .get("settings/custom_views/7000000000999?module=Leads")
        .await;
    assert_eq!(status, 204, "an unknown view");
    let (status, body) = crm.get("settings/custom_views").await;
    assert_eq!((status, code(&body)), (400, "REQUIRED_PARAM_MISSING"));
    let (status, body) = crm.get("settings/custom_views?module=Nope").await;
    assert_eq!((status, code(&body)), (400, "INVALID_MODULE"));

    // zportal's scopes alone do not read views.
    let plain = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let (status, body) = plain.get("settings/custom_views?module=Leads").await;
    assert_eq!((status, code(&body)), (401, "OAUTH_SCOPE_MISMATCH"));
}

#[tokio::test]
async fn a_list_by_view_holds_the_views_records_in_its_order() {
    let emu = Emu::start().await;
    let ada = finder(&emu, "ada@us.zportal.test").await;
    let ben = finder(&emu, "ben@us.zportal.test").await;
    let mine = view_id(&ada, "My Leads").await;

    // ada owns every seeded Lead; ben none until he makes one.
    let (status, body) = ada
        .get(&format!("Leads?cvid={mine}&fields=Last_Name&per_page=200"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["info"]["more_records"], json!(true));
    let (status, _) = ben
        .get(&format!("Leads?cvid={mine}&fields=Last_Name"))
        .await;
    assert_eq!(status, 204, "ben owns no Lead yet");
    let (status, made) = ben
        .post(
            "Leads",
            json!({ "data": [{ "Last_Name": "Ben's own", "Company": "Ben Co" }] }),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let (_, body) = ben
        .get(&format!("Leads?cvid={mine}&fields=Last_Name"))
        .await;
    assert_eq!(
        rows(&body)
            .iter()
            .map(|r| s(&r["Last_Name"]).to_owned())
            .collect::<Vec<_>>(),
        ["Ben's own"]
    );

    // "Contacted Leads" comes in its own order: by Company.
    let contacted = view_id(&ada, "Contacted Leads").await;
    let (_, body) = ada
        .get(&format!(
            "Leads?cvid={contacted}&fields=Company,Lead_Status&per_page=200"
        ))
        .await;
    let page = rows(&body);
    assert!(page.iter().all(|r| r["Lead_Status"] == json!("Contacted")));
    let companies: Vec<String> = page
        .iter()
        .map(|r| s(&r["Company"]).to_lowercase())
        .collect();
    let mut sorted = companies.clone();
    sorted.sort();
    assert_eq!(companies, sorted);
    assert_eq!(s(&body["info"]["sort_by"]), "Company");

    let (status, body) = ada
        .get(&format!("Leads?cvid={contacted}&fields=Company&sort_by=id"))
        .await;
    assert_eq!((status, code(&body)), (400, "AMBIGUITY_DURING_PROCESSING"));
    let (status, body) = ada.get("Leads?cvid=12&fields=Company").await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"));
    assert_eq!(s(&body["details"]["param_name"]), "cvid");
}

#[tokio::test]
async fn counts_follow_searches_and_views_and_can_lag() {
    let emu = Emu::start().await;
    let ada = finder(&emu, "ada@us.zportal.test").await;
    let count = |path: &'static str| {
        let ada = &ada;
        async move {
            let (status, body) = ada.get(path).await;
            assert_eq!(status, 200, "{path}: {body}");
            body["count"].as_u64().expect("a number")
        }
    };
    assert_eq!(count("Leads/actions/count").await, 2500);
    assert_eq!(
        count("Leads/actions/count?criteria=(Last_Name:starts_with:Lead%20249)").await,
        10
    );
    assert_eq!(count("Leads/actions/count?word=lead0007").await, 1);
    assert_eq!(
        count("Leads/actions/count?email=lead0007@example.test").await,
        1
    );
    let contacted = view_id(&ada, "Contacted Leads").await;
    let (_, body) = ada
        .get(&format!("Leads/actions/count?cvid={contacted}"))
        .await;
    assert_eq!(body["count"], json!(625), "every fourth seeded Lead");
    let (status, body) = ada
        .get(&format!(
            "Leads/actions/count?cvid={contacted}&criteria=(Last_Name:equals:x)"
        ))
        .await;
    assert_eq!((status, code(&body)), (400, "AMBIGUITY_DURING_PROCESSING"));

    // With a lag, a Lead made just now is not counted yet; without, it is.
    emu.post("config", json!({ "count_lag_secs": 600 })).await;
    let (status, _) = ada
        .post(
            "Leads",
            json!({ "data": [{ "Last_Name": "Fresh", "Company": "New" }] }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(count("Leads/actions/count").await, 2500, "lagging");
    emu.post("config", json!({ "count_lag_secs": 0 })).await;
    assert_eq!(count("Leads/actions/count").await, 2501);
}

#[tokio::test]
async fn coql_selects_order_and_page_like_a_sort_in_memory() {
    let emu = Emu::start().await;
    let ada = finder(&emu, "ada@us.zportal.test").await;
    let coql = |q: String| {
        let ada = &ada;
        async move { ada.post("coql", json!({ "select_query": q })).await }
    };
    // Every Lead by Company, both ways, in pages of 2,000 across the boundary.
    let (_, all) = ada
        .get("Leads?fields=Company&per_page=200&sort_by=id&sort_order=asc")
        .await;
    assert_eq!(rows(&all).len(), 200);
    for desc in [false, true] {
        let dir = if desc { "desc" } else { "asc" };
        let mut got = Vec::new();
        for offset in [0, 2000] {
            let (status, body) = coql(format!(
                "select Company from Leads where Converted__s = false order by Company {dir} limit {offset}, 2000"
            ))
            .await;
            assert_eq!(status, 200, "{body}");
            got.extend(rows(&body));
            assert_eq!(body["info"]["more_records"], json!(offset == 0));
        }
        assert_eq!(got.len(), 2500);
        let key = |r: &Value| {
            (
                s(&r["Company"]).to_lowercase(),
                s(&r["id"]).parse::<u64>().unwrap_or(0),
            )
        };
        let mut expected = got.clone();
        expected.sort_by_key(key);
        if desc {
            expected.reverse();
        }
        assert_eq!(got, expected, "{dir}");
        let ids: Vec<u64> = got.iter().map(|r| key(r).1).collect();
        assert!(!ids.is_sorted(), "Company is not the order of ids");
    }

    // Conditions, a join for a lookup's name, and `=` exact where search's `equals` contains.
    let (_, body) = coql(
        "select Last_Name, Owner, Owner.last_name from Leads where (Last_Name like 'Lead 249%' and Lead_Status = 'Contacted') order by Last_Name desc".into(),
    )
    .await;
    let got = rows(&body);
    assert_eq!(got.len(), 3, "{body}");
    assert_eq!(s(&got[0]["Last_Name"]), "Lead 2498");
    assert!(got[0]["Owner"]["id"].is_string() && got[0]["Owner"].get("name").is_none());
    assert_eq!(s(&got[0]["Owner.last_name"]), "Lovelace");
    let (status, _) = coql("select Last_Name from Leads where Last_Name = 'Lead 249'".into()).await;
    assert_eq!(status, 204);
    let (_, body) = ada
        .get("Leads/search?criteria=(Last_Name:equals:Lead%20249)")
        .await;
    assert_eq!(rows(&body).len(), 10, "search's equals contains");

    // Zoho's limits.
    for (query, expected) in [
        ("select Company from Leads limit 2001", "INVALID_QUERY"),
        ("select Company from Leads limit 99999, 2", "INVALID_QUERY"),
        ("select Company from Leads limit 0", "INVALID_DATA"),
        ("select Company from Leads order by Owner", "INVALID_QUERY"),
        (
            "select Company from Leads order by Company, Company",
            "DUPLICATE_DATA",
        ),
        (
            "select Company from Leads where Company = 'a' and Phone = 'b' and City = 'c'",
            "SYNTAX_ERROR",
        ),
        ("select Nope from Leads", "INVALID_QUERY"),
    ] {
        let (status, body) = coql(query.into()).await;
        assert_eq!((status, code(&body)), (400, expected), "{query}");
    }
}

#[tokio::test]
async fn search_orders_by_any_field_and_wants_two_letters() {
    let emu = Emu::start().await;
    let ada = finder(&emu, "ada@us.zportal.test").await;
    let (status, body) = ada
        .get("Leads/search?word=lead24&sort_by=Company&sort_order=desc&fields=Company")
        .await;
    assert_eq!(status, 200, "{body}");
    let companies: Vec<String> = rows(&body)
        .iter()
        .map(|r| s(&r["Company"]).to_lowercase())
        .collect();
    let mut sorted = companies.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(companies, sorted);

    let (status, body) = ada.get("Leads/search?word=a").await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"));
    assert_eq!(s(&body["message"]), "provide atleast 2 letters for search");
    let long = "x".repeat(101);
    let (status, _) = ada.get(&format!("Leads/search?word={long}")).await;
    assert_eq!(status, 400);
    let (status, _) = ada.get("Leads/search?word=zz").await;
    assert_eq!(status, 204, "two letters are enough");
    let (status, body) = ada.get("Leads/search?word=a*b*").await;
    assert_eq!(
        (status, code(&body)),
        (400, "INVALID_DATA"),
        "one wildcard at most"
    );
}
