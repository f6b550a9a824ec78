//! The typed records calls against the emulator: modules, fields, paging by number and by
//! `page_token` to the last of 2,500 Leads, one record, 204 as an empty page, and search with
//! escaped criteria.

mod common;

use common::*;
use zoho::records::{Criterion, ListQuery, ModuleName, Operator, PageRef, Search, SortBy};

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
    };
    let mut seen = 0;
    let mut last = None;
    loop {
        let page = crm.list(&id, &leads(), &q).await.expect("page");
        seen += page.records.len();
        last = page.records.last().cloned().or(last);
        match page.next_page_token {
            Some(token) if page.more => q.page = PageRef::Token(token),
            _ => break,
        }
    }
    assert_eq!(seen, 2500);
    let last = last.expect("a last record");
    assert_eq!(last["Last_Name"], "Lead 2500");

    let record_id = last["id"].as_str().expect("id").to_owned();
    let record = crm
        .record(&id, &leads(), &record_id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(record["Company"], "Company 2500");
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
        )
        .await
        .expect("search");
    assert!(
        empty.records.is_empty() && !empty.more,
        "204 is an empty page"
    );

    let by_criteria = Search::Criteria(vec![
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
    ]);
    let found = crm
        .search(&id, &leads(), &by_criteria, 1, 200)
        .await
        .expect("search");
    assert_eq!(found.records.len(), 100, "Lead 2400 … Lead 2499");
    let by_email = crm
        .search(
            &id,
            &leads(),
            &Search::Email("lead0007@example.test".into()),
            1,
            10,
        )
        .await
        .expect("search");
    assert_eq!(by_email.records[0]["Last_Name"], "Lead 0007");
}
