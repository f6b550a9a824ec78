//! Answers kept for a moment, against the emulator: a record read again within its time costs
//! Zoho nothing; past it, it is asked for with `If-Modified-Since` and Zoho's 304 serves it
//! again; a change made at Zoho by someone else (here another process, which no bus joins to
//! this one) shows once the time is up.

use std::time::Duration;

use serde_json::{Map, Value, json};
use zoho::budget::BudgetSettings;
use zoho::crm::metadata::ModuleName;
use zoho::crm::records::{ListQuery, PageRef, SortBy};

use crate::support::World;

/// The emulator's answers to record reads since `seq`: each one's status.
async fn record_reads_since(w: &World, seq: u64) -> Vec<u64> {
    requests(w, seq)
        .await
        .iter()
        .filter(|r| r["method"] == "GET" && r["endpoint"] == "records")
        .map(|r| r["status"].as_u64().unwrap_or(0))
        .collect()
}

async fn requests(w: &World, since: u64) -> Vec<Value> {
    testkit::emulator_requests(&w.emulator.base_url, since).await
}

async fn last_seq(w: &World) -> u64 {
    testkit::emulator_last_seq(&w.emulator.base_url).await
}

fn company_is(value: Value) -> Map<String, Value> {
    Map::from_iter([("Company".to_owned(), value)])
}

#[tokio::test]
async fn a_record_past_its_time_is_asked_for_conditionally_and_a_change_at_zoho_shows() {
    let w = World::start().await;
    let keep = Duration::from_millis(300);
    let (vault, crm, oauth) = w
        .process_with(BudgetSettings {
            keep_answers: keep,
            ..BudgetSettings::default()
        })
        .await;
    let id = w.connect_ada(&vault, &oauth).await;
    // Someone else writing to Zoho: a process of its own, on the same stored connection.
    let (_, elsewhere, _) = w.process().await;
    let leads = ModuleName::parse("Leads").expect("module");
    let page = crm
        .list(
            &id,
            &leads,
            &ListQuery {
                fields: vec!["Last_Name".into()],
                sort_by: SortBy::Id,
                ascending: true,
                per_page: 3,
                page: PageRef::Number(1),
                view: None,
            },
        )
        .await
        .expect("list");
    let lead = page.rows[2].id.clone();
    let company = |r: Option<Map<String, Value>>| r.expect("found")["Company"].clone();

    let seq = last_seq(&w).await;
    let first = company(crm.record(&id, &leads, &lead).await.expect("read"));
    assert_eq!(
        company(crm.record(&id, &leads, &lead).await.expect("read")),
        first
    );
    assert_eq!(
        record_reads_since(&w, seq).await,
        [200],
        "once within its time"
    );

    tokio::time::sleep(keep + Duration::from_millis(100)).await;
    let seq = last_seq(&w).await;
    assert_eq!(
        company(crm.record(&id, &leads, &lead).await.expect("read")),
        first
    );
    assert_eq!(
        record_reads_since(&w, seq).await,
        [304],
        "past its time it is asked for again, and Zoho says it did not change"
    );

    elsewhere
        .update(&id, &leads, &lead, company_is(json!("Changed Elsewhere")))
        .await
        .expect("the call")
        .expect("updated");
    tokio::time::sleep(keep + Duration::from_millis(100)).await;
    let seq = last_seq(&w).await;
    assert_eq!(
        company(crm.record(&id, &leads, &lead).await.expect("read")),
        "Changed Elsewhere"
    );
    assert_eq!(record_reads_since(&w, seq).await, [200]);

    // A write through this process ends its answers at once.
    crm.update(&id, &leads, &lead, company_is(first.clone()))
        .await
        .expect("the call")
        .expect("updated");
    assert_eq!(
        company(crm.record(&id, &leads, &lead).await.expect("read")),
        first
    );
}
