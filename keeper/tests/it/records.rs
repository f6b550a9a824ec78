//! The typed records calls against the emulator: modules, fields, paging by number and by
//! `page_token` to the last of 2,500 Leads, one record, 204 as an empty page, and search with
//! escaped criteria.

use crate::support::*;
use zoho::crm::metadata::ModuleName;
use zoho::crm::records::{Criterion, ListQuery, Operator, PageRef, Search, SortBy};

fn leads() -> ModuleName {
    ModuleName::parse("Leads").expect("a module name")
}

#[tokio::test]
async fn modules_fields_pages_records_and_search() {
    let w = World::start().await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;

    let modules = crm.modules(&id).await.expect("modules");
    assert!(
        modules
            .iter()
            .any(|m| m.api_name == "Leads" && m.plural_label == "Leads")
    );
    let fields = crm.fields(&id, &leads()).await.expect("fields");
    assert!(
        fields
            .iter()
            .any(|f| f.api_name == "Last_Name" && f.system_mandatory)
    );

    let mut q = ListQuery {
        fields: vec!["Last_Name".into(), "Company".into()],
        sort_by: SortBy::Id,
        ascending: true,
        per_page: 200,
        page: PageRef::Number(1),
        view: None,
    };
    let mut seen = 0;
    let mut last = None;
    loop {
        let page = crm.list(&id, &leads(), &q).await.expect("page");
        seen += page.rows.len();
        last = page.rows.last().cloned().or(last);
        match page.next_page_token {
            Some(token) if page.more => q.page = PageRef::Token(token),
            _ => break,
        }
    }
    assert_eq!(seen, 2500);
    let last = last.expect("a last record");
    assert_eq!(
        last.cells,
        ["Lead 2500", "Juniper 2500"],
        "the asked-for fields, in order"
    );

    let record_id = last.id.clone();
    let record = crm
        .record(&id, &leads(), &record_id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(record["Company"], "Juniper 2500");
    assert!(
        crm.record(&id, &leads(), "123")
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        crm.record(&id, &leads(), "../org")
            .await
            .expect("get")
            .is_none()
    );

    let empty = crm
        .search(
            &id,
            &leads(),
            &Search::Word("nothing-like-this".into()),
            1,
            50,
            &["Last_Name"],
        )
        .await
        .expect("search");
    assert!(empty.rows.is_empty() && !empty.more, "204 is an empty page");

    let by_criteria = Search::Criteria {
        conditions: vec![
            Criterion {
                field: "Last_Name".into(),
                operator: Operator::StartsWith,
                value: "Lead 24".into(),
            },
            Criterion {
                field: "Company".into(),
                operator: Operator::NotEqual,
                value: "Company (2400), Ltd".into(),
            },
        ],
        any: false,
    };
    let found = crm
        .search(&id, &leads(), &by_criteria, 1, 200, &["Last_Name"])
        .await
        .expect("search");
    assert_eq!(found.rows.len(), 100, "Lead 2400 … Lead 2499");
    let either = Search::Criteria {
        conditions: vec![
            Criterion {
                field: "Last_Name".into(),
                operator: Operator::Equals,
                value: "Lead 0001".into(),
            },
            Criterion {
                field: "Last_Name".into(),
                operator: Operator::Equals,
                value: "Lead 0002".into(),
            },
        ],
        any: true,
    };
    let found = crm
        .search(&id, &leads(), &either, 1, 200, &["Last_Name"])
        .await
        .expect("search with or");
    assert_eq!(found.rows.len(), 2, "either of two names");
    let by_email = crm
        .search(
            &id,
            &leads(),
            &Search::Email("lead0007@example.test".into()),
            1,
            10,
            &["Last_Name"],
        )
        .await
        .expect("search");
    assert_eq!(by_email.rows[0].cells, ["Lead 0007"]);
}

#[tokio::test]
async fn insert_update_and_delete_report_each_record() {
    use serde_json::{Map, Value, json};
    let w = World::start().await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    let object = |v: Value| -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    };

    let refused = crm
        .insert(&id, &leads(), object(json!({ "Company": "Acme" })))
        .await
        .expect("the call");
    let e = refused.expect_err("Last_Name is mandatory");
    assert_eq!(e.code, "MANDATORY_NOT_FOUND");
    assert_eq!(e.field.as_deref(), Some("Last_Name"));

    let new_id = crm
        .insert(
            &id,
            &leads(),
            object(json!({ "Last_Name": "Zed", "Company": "Acme (UK), Ltd" })),
        )
        .await
        .expect("the call")
        .expect("created");
    let e = crm
        .update(
            &id,
            &leads(),
            &new_id,
            object(json!({ "No_of_Employees": "many" })),
        )
        .await
        .expect("the call")
        .expect_err("not a number");
    assert_eq!(
        (e.code.as_str(), e.field.as_deref()),
        ("INVALID_DATA", Some("No_of_Employees"))
    );
    crm.update(&id, &leads(), &new_id, object(json!({ "Company": "Acme" })))
        .await
        .expect("the call")
        .expect("updated");
    let read = crm
        .record(&id, &leads(), &new_id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(read["Company"], "Acme");

    // 150 new records and one id that is not a number: two delete calls, each id answered.
    let mut ids = vec![new_id.clone()];
    for n in 0..149 {
        let body = object(json!({ "Last_Name": format!("Bulk {n}") }));
        ids.push(
            crm.insert(&id, &leads(), body)
                .await
                .expect("the call")
                .expect("created"),
        );
    }
    ids.push("12;DROP".into());
    let results = crm.delete(&id, &leads(), &ids).await.expect("delete");
    assert_eq!(results.len(), 151);
    assert_eq!(results.iter().filter(|(_, r)| r.is_ok()).count(), 150);
    assert!(results.iter().any(|(i, r)| i == "12;DROP" && r.is_err()));
    assert_eq!(
        crm.record(&id, &leads(), &new_id).await.expect("get"),
        None,
        "deleted"
    );
    let again = crm
        .delete(&id, &leads(), std::slice::from_ref(&new_id))
        .await
        .expect("delete");
    assert!(again[0].1.is_err(), "a record already deleted is refused");
}
