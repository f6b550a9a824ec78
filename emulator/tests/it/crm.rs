//! The emulated CRM v8 over real HTTP on 127.0.0.1: metadata, listing and paging (past 2,000 with
//! `page_token`), get, insert/update/upsert/delete with Zoho's status rules and per-record errors,
//! search with criteria escaping, scopes per module, org isolation, faults and counters.

use std::collections::HashSet;

use crate::support::*;
use serde_json::{Value, json};

pub(crate) struct Crm<'a> {
    pub emu: &'a Emu,
    pub dc: &'static str,
    pub token: String,
}

impl<'a> Crm<'a> {
    pub(crate) async fn signed_in(emu: &'a Emu, email: &str, dc: &'static str) -> Crm<'a> {
        let t = emu.tokens_for(email).await;
        Crm {
            emu,
            dc,
            token: s(&t["access_token"]).to_owned(),
        }
    }

    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .emu
            .http
            .request(method, format!("{}/crm/v8/{path}", self.emu.api(self.dc)))
            .header("Authorization", format!("Zoho-oauthtoken {}", self.token));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("CRM call");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// `GET path` with `If-Modified-Since: since`: the status and how many records came.
    async fn get_since(&self, path: &str, since: &str) -> (u16, usize) {
        let res = self
            .emu
            .http
            .get(format!("{}/crm/v8/{path}", self.emu.api(self.dc)))
            .header("Authorization", format!("Zoho-oauthtoken {}", self.token))
            .header("If-Modified-Since", since)
            .send()
            .await
            .expect("CRM call");
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        (status, body["data"].as_array().map_or(0, Vec::len))
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub(crate) async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

pub(crate) fn code(v: &Value) -> &str {
    s(&v["code"])
}

#[tokio::test]
async fn metadata_lists_every_module_and_its_fields() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let (status, body) = crm.get("settings/modules").await;
    assert_eq!(status, 200);
    let modules: Vec<&str> = body["modules"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| s(&m["api_name"]))
        .collect();
    for m in [
        "Leads",
        "Contacts",
        "Accounts",
        "Deals",
        "Campaigns",
        "Tasks",
        "Events",
        "Calls",
        "Products",
        "Quotes",
        "Sales_Orders",
        "Purchase_Orders",
        "Invoices",
        "Vendors",
        "Price_Books",
        "Cases",
        "Solutions",
    ] {
        assert!(modules.contains(&m), "{m}");
    }
    assert_eq!(s(&body["modules"][6]["plural_label"]), "Meetings");

    let (status, body) = crm.get("settings/fields?module=Deals").await;
    assert_eq!(status, 200);
    let fields = body["fields"].as_array().expect("fields");
    let field = |name: &str| {
        fields
            .iter()
            .find(|f| f["api_name"] == json!(name))
            .cloned()
            .expect(name)
    };
    assert_eq!(field("Stage")["system_mandatory"], json!(true));
    assert_eq!(s(&field("Stage")["data_type"]), "picklist");
    assert!(
        field("Stage")["pick_list_values"]
            .as_array()
            .is_some_and(|v| v.iter().any(|p| p["actual_value"] == json!("Closed Won")))
    );
    assert_eq!(
        s(&field("Account_Name")["lookup"]["module"]["api_name"]),
        "Accounts"
    );
    assert_eq!(s(&field("Amount")["json_type"]), "double");
    assert_eq!(s(&field("Deal_Name")["field_label"]), "Deal Name");
    assert_eq!(field("Deal_Name")["length"], json!(120));

    let (status, body) = crm.get("settings/fields").await;
    assert_eq!((status, code(&body)), (400, "REQUIRED_PARAM_MISSING"));
    let (status, body) = crm.get("settings/fields?module=Spaceships").await;
    assert_eq!((status, code(&body)), (400, "INVALID_MODULE"));
}

#[tokio::test]
async fn listing_needs_fields_and_keeps_zohos_limits() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let (status, body) = crm.get("Leads").await;
    assert_eq!((status, code(&body)), (400, "REQUIRED_PARAM_MISSING"));
    assert_eq!(body["details"]["param_name"], json!("fields"));
    let many = vec!["Last_Name"; 51].join(",");
    let (status, body) = crm.get(&format!("Leads?fields={many}")).await;
    assert_eq!((status, code(&body)), (400, "LIMIT_EXCEEDED"));
    let (status, body) = crm.get("Leads?fields=Last_Name&per_page=201").await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"));
    let (status, body) = crm.get("Leads?fields=Last_Name&page=11&per_page=200").await;
    assert_eq!(
        (status, code(&body)),
        (400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED")
    );
    assert_eq!(body["details"]["limit"], json!(2000));
    let (status, body) = crm.get("Leads?fields=Nonsense_Field").await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"));
    let (status, body) = crm.get("Spaceships?fields=Name").await;
    assert_eq!((status, code(&body)), (400, "INVALID_MODULE"));

    let (status, body) = crm
        .get("Leads?fields=Last_Name,Email&per_page=5&sort_order=desc")
        .await;
    assert_eq!(status, 200);
    assert_eq!(s(&body["data"][0]["Last_Name"]), "Lead 2500");
    assert!(body["data"][0]["id"].is_string());
    assert!(
        body["data"][0].get("Company").is_none(),
        "only the fields asked for"
    );
    let info = &body["info"];
    assert_eq!(
        (
            info["per_page"].clone(),
            info["count"].clone(),
            info["page"].clone()
        ),
        (json!(5), json!(5), json!(1))
    );
    assert_eq!(info["more_records"], json!(true));
    assert!(info["next_page_token"].is_string());
}

#[tokio::test]
async fn paging_through_all_2500_leads_with_page_token() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let mut ids = HashSet::new();
    let mut last_name = String::new();
    let mut next = crm
        .get("Leads?fields=Last_Name&sort_order=asc&sort_by=id")
        .await
        .1;
    let mut pages = 1;
    loop {
        for r in next["data"].as_array().expect("data") {
            assert!(ids.insert(s(&r["id"]).to_owned()), "no record twice");
            last_name = s(&r["Last_Name"]).to_owned();
        }
        if next["info"]["more_records"] != json!(true) {
            break;
        }
        let token = s(&next["info"]["next_page_token"]).to_owned();
        let (status, body) = crm
            .get(&format!(
                "Leads?fields=Last_Name&sort_order=asc&sort_by=id&page_token={token}"
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        next = body;
        pages += 1;
    }
    assert_eq!(ids.len(), 2500);
    assert_eq!(pages, 13);
    assert_eq!(last_name, "Lead 2500");

    // page and page_token together, and a token from another listing, are refused.
    let first = crm
        .get("Leads?fields=Last_Name&sort_order=asc&sort_by=id")
        .await
        .1;
    let token = s(&first["info"]["next_page_token"]).to_owned();
    let (status, _) = crm
        .get(&format!(
            "Leads?fields=Last_Name&sort_order=asc&page=2&page_token={token}"
        ))
        .await;
    assert_eq!(status, 400);
    let (status, _) = crm
        .get(&format!(
            "Contacts?fields=Last_Name&sort_order=asc&page_token={token}"
        ))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_empty_module_answers_204_and_orgs_never_see_each_other() {
    let emu = Emu::start().await;
    emu.post(
        "users",
        json!({"email": "new@us.zportal.test", "dc": "us", "org_name": "Empty Inc"}),
    )
    .await;
    let empty = Crm::signed_in(&emu, "new@us.zportal.test", "us").await;
    let (status, body) = empty.get("Leads?fields=Last_Name").await;
    assert_eq!((status, body), (204, Value::Null));

    let ada = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let ben = Crm::signed_in(&emu, "ben@us.zportal.test", "us").await;
    let eva = Crm::signed_in(&emu, "eva@eu.zportal.test", "eu").await;
    let ada_first = ada.get("Leads?fields=Last_Name&per_page=1").await.1;
    let ben_first = ben.get("Leads?fields=Last_Name&per_page=1").await.1;
    assert_eq!(
        ada_first["data"], ben_first["data"],
        "one org, one set of records"
    );
    let ada_id = s(&ada_first["data"][0]["id"]).to_owned();

    let mut eva_count = 0;
    let mut page = eva.get("Leads?fields=Last_Name").await.1;
    eva_count += page["data"].as_array().map_or(0, Vec::len);
    assert_eq!(page["info"]["more_records"], json!(false));
    assert_eq!(eva_count, 50);
    page = eva.get(&format!("Leads/{ada_id}")).await.1;
    assert_eq!(
        code(&page),
        "INVALID_DATA",
        "another org's record is not there"
    );
    let (status, _) = eva.delete(&format!("Leads/{ada_id}")).await;
    assert_eq!(status, 400);
    assert_eq!(
        ada.get(&format!("Leads/{ada_id}")).await.0,
        200,
        "and it was not deleted"
    );
}

#[tokio::test]
async fn insert_answers_201_207_or_400_with_per_record_errors() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let (status, body) = crm.post("Leads", json!({"data": [{"Last_Name": "Newman", "First_Name": "Nia", "Email": "nia@example.test"}]})).await;
    assert_eq!(status, 201, "{body}");
    let item = &body["data"][0];
    assert_eq!(
        (code(item), s(&item["message"]), s(&item["status"])),
        ("SUCCESS", "record added", "success")
    );
    let id = s(&item["details"]["id"]).to_owned();
    assert_eq!(id.len(), 19);
    assert!(
        item["details"]["Created_Time"]
            .as_str()
            .is_some_and(|t| t.ends_with("+00:00"))
    );
    assert_eq!(
        s(&item["details"]["Created_By"]["email"]),
        "ada@us.zportal.test"
    );
    let (_, got) = crm.get(&format!("Leads/{id}")).await;
    assert_eq!(s(&got["data"][0]["Full_Name"]), "Nia Newman");
    assert_eq!(s(&got["data"][0]["Owner"]["email"]), "ada@us.zportal.test");

    let (status, body) = crm
        .post("Leads", json!({"data": [{"Last_Name": "Fine"}, {"First_Name": "No last name"}, {"Last_Name": "Rich", "Annual_Revenue": "lots"}]}))
        .await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(code(&body["data"][0]), "SUCCESS");
    assert_eq!(code(&body["data"][1]), "MANDATORY_NOT_FOUND");
    assert_eq!(
        body["data"][1]["details"],
        json!({"api_name": "Last_Name", "json_path": "$.data[1].Last_Name"})
    );
    assert_eq!(code(&body["data"][2]), "INVALID_DATA");
    assert_eq!(
        body["data"][2]["details"]["json_path"],
        json!("$.data[2].Annual_Revenue")
    );
    assert_eq!(
        body["data"][2]["details"]["expected_data_type"],
        json!("double")
    );

    let bad_values = [
        (json!({"Last_Name": "x".repeat(81)}), "Last_Name"),
        (
            json!({"Last_Name": "P", "Lead_Status": "Sleeping"}),
            "Lead_Status",
        ),
        (json!({"Last_Name": "P", "Email": "not-an-email"}), "Email"),
        (
            json!({"Last_Name": "P", "No_of_Employees": 2.5}),
            "No_of_Employees",
        ),
        (
            json!({"Last_Name": "P", "Email_Opt_Out": "yes"}),
            "Email_Opt_Out",
        ),
        (json!({"Last_Name": "P", "Tag": ["Hot", "Lukewarm"]}), "Tag"),
        (json!({"Last_Name": "P", "Made_Up": 1}), "Made_Up"),
    ];
    for (record, field) in bad_values {
        let (status, body) = crm.post("Leads", json!({"data": [record]})).await;
        assert_eq!(status, 400, "{field}: {body}");
        assert_eq!(code(&body["data"][0]), "INVALID_DATA", "{field}");
        assert_eq!(s(&body["data"][0]["details"]["api_name"]), field);
    }
    let (status, body) = crm
        .post(
            "Contacts",
            json!({"data": [{"Last_Name": "L", "Account_Name": {"id": "4150868000009999999"}}]}),
        )
        .await;
    assert_eq!(
        (status, code(&body["data"][0])),
        (400, "INVALID_DATA"),
        "a lookup must exist"
    );
    let (status, body) = crm
        .post("Deals", json!({"data": [{"Deal_Name": "No stage"}]}))
        .await;
    assert_eq!(
        (status, s(&body["data"][0]["details"]["api_name"])),
        (400, "Stage")
    );

    let too_many: Vec<Value> = (0..101)
        .map(|i| json!({"Last_Name": format!("Bulk {i}")}))
        .collect();
    let (status, body) = crm.post("Leads", json!({"data": too_many})).await;
    assert_eq!((status, code(&body)), (400, "LIMIT_EXCEEDED"));
    let (status, body) = crm.send(reqwest::Method::POST, "Leads", None).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn update_upsert_and_delete() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "eva@eu.zportal.test", "eu").await;
    let (_, body) = crm
        .post("Accounts", json!({"data": [{"Account_Name": "Zeta AG"}]}))
        .await;
    let account = s(&body["data"][0]["details"]["id"]).to_owned();
    let (_, body) = crm
        .post("Contacts", json!({"data": [{"Last_Name": "Berg", "Email": "berg@example.test", "Account_Name": {"id": account}}]}))
        .await;
    let contact = s(&body["data"][0]["details"]["id"]).to_owned();
    let (_, got) = crm.get(&format!("Contacts/{contact}")).await;
    assert_eq!(
        got["data"][0]["Account_Name"],
        json!({"name": "Zeta AG", "id": account}),
        "lookups carry the name"
    );

    let (status, body) = crm
        .put(
            &format!("Contacts/{contact}"),
            json!({"data": [{"Title": "CFO"}]}),
        )
        .await;
    assert_eq!(
        (status, s(&body["data"][0]["message"])),
        (200, "record updated")
    );
    let (status, body) = crm
        .put(
            &format!("Contacts/{contact}"),
            json!({"data": [{"Last_Name": ""}]}),
        )
        .await;
    assert_eq!(
        (status, code(&body["data"][0])),
        (400, "MANDATORY_NOT_FOUND")
    );
    let (_, got) = crm.get(&format!("Contacts/{contact}")).await;
    assert_eq!(
        (s(&got["data"][0]["Last_Name"]), s(&got["data"][0]["Title"])),
        ("Berg", "CFO"),
        "a refused update changes nothing"
    );
    let (status, body) = crm
        .put(
            "Contacts",
            json!({"data": [{"Title": "No id"}, {"id": contact, "Department": "Finance"}]}),
        )
        .await;
    assert_eq!(status, 207);
    assert_eq!(
        (
            code(&body["data"][0]),
            s(&body["data"][0]["details"]["api_name"])
        ),
        ("MANDATORY_NOT_FOUND", "id")
    );

    let (status, body) = crm
        .post("Contacts/upsert?duplicate_check_fields=Email", json!({"data": [{"Last_Name": "Berg-Ny", "Email": "berg@example.test"}, {"Last_Name": "Fresh", "Email": "fresh@example.test"}]}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            s(&body["data"][0]["action"]),
            s(&body["data"][0]["details"]["id"])
        ),
        ("update", contact.as_str())
    );
    assert_eq!(s(&body["data"][1]["action"]), "insert");

    let (status, body) = crm.delete("Contacts").await;
    assert_eq!((status, code(&body)), (400, "REQUIRED_PARAM_MISSING"));
    let (status, body) = crm
        .delete(&format!("Contacts?ids={contact},4150868000000000000"))
        .await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(s(&body["data"][0]["message"]), "record deleted");
    assert_eq!(code(&body["data"][1]), "INVALID_DATA");
    let (status, _) = crm.get(&format!("Contacts/{contact}")).await;
    assert_eq!(status, 400);
    let (status, body) = crm.delete(&format!("Accounts/{account}")).await;
    assert_eq!((status, code(&body["data"][0])), (200, "SUCCESS"));
    let ids = (0..101)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let (status, body) = crm.delete(&format!("Leads?ids={ids}")).await;
    assert_eq!((status, code(&body)), (400, "LIMIT_EXCEEDED"));
}

#[tokio::test]
async fn reads_with_if_modified_since_answer_304_until_something_changes() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "eva@eu.zportal.test", "eu").await;
    let (_, body) = crm
        .post(
            "Leads",
            json!({"data": [{"Last_Name": "Since", "Company": "Since AG"}]}),
        )
        .await;
    let id = s(&body["data"][0]["details"]["id"]).to_owned();
    let (_, got) = crm.get(&format!("Leads/{id}")).await;
    let modified = s(&got["data"][0]["Modified_Time"]).to_owned();
    let at = time::OffsetDateTime::parse(&modified, &time::format_description::well_known::Rfc3339)
        .expect("an ISO time");
    let http_date = |t: time::OffsetDateTime| {
        t.format(time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ))
        .expect("format")
    };
    let record = format!("Leads/{id}");
    let list = "Leads?fields=Last_Name";

    assert_eq!(
        crm.get_since(&record, &modified).await,
        (304, 0),
        "ISO form"
    );
    assert_eq!(
        crm.get_since(&record, &http_date(at)).await,
        (304, 0),
        "HTTP date"
    );
    let before = http_date(at - time::Duration::seconds(1));
    assert_eq!(crm.get_since(&record, &before).await, (200, 1));
    assert_eq!(crm.get_since(list, &http_date(at)).await, (304, 0));
    assert_eq!(
        crm.get_since(list, &before).await,
        (200, 1),
        "a list holds only what changed since"
    );
    assert_eq!(
        crm.get_since(&record, "not a date").await,
        (200, 1),
        "a header that is no date is ignored"
    );

    emu.post("clock/advance", json!({"seconds": 5})).await;
    let (status, _) = crm
        .put(&record, json!({"data": [{"Company": "Later AG"}]}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        crm.get_since(&record, &modified).await,
        (200, 1),
        "changed since"
    );
    assert_eq!(crm.get_since(list, &modified).await, (200, 1));
}

#[tokio::test]
async fn search_by_word_email_phone_and_escaped_criteria() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let (status, body) = crm.get("Leads/search?word=Lead%202499").await;
    assert_eq!(status, 200);
    assert_eq!(s(&body["data"][0]["Last_Name"]), "Lead 2499");
    let (_, body) = crm.get("Leads/search?email=LEAD0042@example.test").await;
    assert_eq!(s(&body["data"][0]["Last_Name"]), "Lead 0042");
    let (_, body) = crm.get("Leads/search?phone=5550042").await;
    assert!(
        body["data"]
            .as_array()
            .is_some_and(|d| d.iter().any(|r| r["Last_Name"] == json!("Lead 0042")))
    );

    crm.post(
        "Leads",
        json!({"data": [{"Last_Name": "Smith (Jr.), Esq", "Company": "A,B"}]}),
    )
    .await;
    let criteria = r"((Last_Name:equals:Smith \(Jr.\)\, Esq)and(Company:equals:A\,B))";
    let url = format!(
        "Leads/search?criteria={}",
        url::form_urlencoded::byte_serialize(criteria.as_bytes()).collect::<String>()
    );
    let (status, body) = crm.get(&url).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1));
    let (_, body) = crm.get("Leads/search?criteria=((Lead_Status:equals:Contacted)and(Last_Name:starts_with:Lead%20000))").await;
    assert!(body["data"].as_array().is_some_and(|d| !d.is_empty()
        && d.iter().all(|r| {
            r["Last_Name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Lead 000"))
        })));

    let (status, body) = crm.get("Leads/search?word=no-such-thing-anywhere").await;
    assert_eq!((status, body), (204, Value::Null));
    let (status, body) = crm.get("Leads/search").await;
    assert_eq!((status, code(&body)), (400, "EXPECTED_PARAM_MISSING"));
    // Several given: only the first of criteria, email, phone, word counts (here the email).
    let (status, body) = crm
        .get("Leads/search?word=a&email=lead0007@example.test")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1));
    let (status, body) = crm.get("Leads/search?criteria=(Last_Name:like:x)").await;
    assert_eq!((status, code(&body)), (400, "INVALID_QUERY"));
    let (status, body) = crm.get("Leads/search?criteria=(Nope:equals:x)").await;
    assert_eq!((status, code(&body)), (400, "INVALID_QUERY"));
}

#[tokio::test]
async fn each_operation_needs_its_module_scope() {
    let emu = Emu::start().await;
    let q = emu
        .sign_in(
            "ada@us.zportal.test",
            &[(
                "scope",
                "ZohoCRM.modules.leads.READ,ZohoCRM.modules.deals.ALL",
            )],
        )
        .await;
    let t = emu.exchange(&q).await;
    let crm = Crm {
        emu: &emu,
        dc: "us",
        token: s(&t["access_token"]).to_owned(),
    };
    assert_eq!(crm.get("Leads?fields=Last_Name&per_page=1").await.0, 200);
    let (status, body) = crm.get("Contacts?fields=Last_Name").await;
    assert_eq!((status, code(&body)), (401, "OAUTH_SCOPE_MISMATCH"));
    let (status, body) = crm
        .post("Leads", json!({"data": [{"Last_Name": "X"}]}))
        .await;
    assert_eq!((status, code(&body)), (401, "OAUTH_SCOPE_MISMATCH"));
    let (status, _) = crm
        .post(
            "Deals",
            json!({"data": [{"Deal_Name": "D", "Stage": "Qualification"}]}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = crm.get("settings/fields?module=Leads").await;
    assert_eq!((status, code(&body)), (401, "OAUTH_SCOPE_MISMATCH"));
}

#[tokio::test]
async fn crm_faults_and_counters_by_module_and_method() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    emu.post(
        "faults",
        json!({"kind": "http_500", "endpoint": "records", "count": 1}),
    )
    .await;
    assert_eq!(crm.get("Leads?fields=Last_Name").await.0, 500);
    emu.post(
        "faults",
        json!({"kind": "invalid_token", "endpoint": "search", "count": 1}),
    )
    .await;
    assert_eq!(crm.get("Leads/search?word=x").await.0, 401);
    emu.post(
        "faults",
        json!({"kind": "access_denied", "endpoint": "settings", "count": 1}),
    )
    .await;
    assert_eq!(crm.get("settings/modules").await.0, 429);
    assert_eq!(crm.get("Leads?fields=Last_Name&per_page=1").await.0, 200);
    crm.post("Leads", json!({"data": [{"Last_Name": "Counted"}]}))
        .await;
    let stats = emu.get("stats").await;
    assert_eq!(stats["by_module"]["Leads"]["GET"], json!(1));
    assert_eq!(stats["by_module"]["Leads"]["POST"], json!(1));
    let log = emu.get("requests").await;
    let paths: Vec<&str> = log["requests"]
        .as_array()
        .expect("log")
        .iter()
        .map(|r| s(&r["path"]))
        .collect();
    assert!(paths.contains(&"/us/api/crm/v8/Leads/search"));
}

#[tokio::test]
async fn five_hundred_concurrent_mixed_crm_requests_all_answer_and_add_up() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let before = emu.get("stats").await;
    let calls = (0..500).map(|i| {
        let crm = &crm;
        async move {
            match i % 5 {
                0 => crm.get("Leads?fields=Last_Name,Email&per_page=50").await.0 == 200,
                1 => crm.get("Contacts/search?word=Contact").await.0 == 200,
                2 => {
                    crm.post(
                        "Leads",
                        json!({"data": [{"Last_Name": format!("Load {i}")}]}),
                    )
                    .await
                    .0 == 201
                }
                3 => crm.get("settings/fields?module=Deals").await.0 == 200,
                _ => {
                    crm.get("Deals?fields=Deal_Name,Stage&sort_by=Modified_Time")
                        .await
                        .0
                        == 200
                }
            }
        }
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(|ok| *ok));
    let after = emu.get("stats").await;
    let api = after["total"]["api_calls"].as_u64().unwrap_or(0)
        - before["total"]["api_calls"].as_u64().unwrap_or(0);
    assert_eq!(api, 500);
    assert_eq!(after["by_module"]["Leads"]["POST"], json!(100));
    assert_eq!(after["by_module"]["settings"]["GET"], json!(100));
    let (_, body) = crm
        .get("Leads/search?criteria=(Last_Name:starts_with:Load)")
        .await;
    assert_eq!(
        body["info"]["count"],
        json!(100),
        "every insert landed once"
    );
}
