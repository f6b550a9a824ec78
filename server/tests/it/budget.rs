//! Zoho's API budget, shared: against an emulator that meters as Zoho does, a burst of one
//! user's calls never exceeds the concurrency cap and every call is answered (the 429s are
//! retried unseen); a spent daily budget says so on the page, and Zoho then sees at most one call
//! per back-off period; the credits spent are counted, stored and shown; a read again within
//! seconds costs Zoho nothing, until a write through zportal.

use std::time::Duration;

use futures::future::join_all;
use serde_json::{Value, json};
use testkit::server::*;

const ADA: &str = "ada@us.zportal.test";
const BEN: &str = "ben@us.zportal.test";

fn list_url(base: &str) -> String {
    page_url(base, 5)
}

/// A page of `per_page` Leads: another size is another read (answers are kept per read).
fn page_url(base: &str, per_page: usize) -> String {
    testkit::server::leads_list_url(base, per_page)
}

/// `n` list calls at once through `client`, spread over `bases`; each answer's status and body.
/// Each asks for a page of its own size (10, 11, …), so none is answered from another's.
pub(crate) async fn burst(client: &reqwest::Client, bases: &[&str], n: usize) -> Vec<(u16, Value)> {
    join_all((0..n).map(|i| {
        let url = page_url(bases[i % bases.len()], 10 + i);
        async move {
            match client.get(&url).send().await {
                Ok(res) => {
                    let status = res.status().as_u16();
                    (status, res.json().await.unwrap_or(Value::Null))
                }
                Err(e) => (0, json!(e.to_string())),
            }
        }
    }))
    .await
}

/// Calls that made every answer take 150 ms, and a cap of 3 a user.
pub(crate) async fn tight_zoho(emulator: &str) {
    emulator_post(
        emulator,
        "config",
        json!({"api_latency_ms": 150, "limits": {"api_concurrency": 3}}),
    )
    .await;
}

/// The emulator's view of ada: the most calls she had in flight, and the 429s she was sent.
pub(crate) async fn ada_at_zoho(emulator: &str) -> (u64, u64) {
    let stats = emulator_get(emulator, "stats").await;
    let ada = &stats["by_user"][ADA];
    (
        ada["max_in_flight"].as_u64().unwrap_or(0),
        ada["too_many_requests"].as_u64().unwrap_or(0),
    )
}

#[tokio::test]
async fn thirty_calls_at_once_against_a_cap_of_three_are_all_answered() {
    let stack = stack(&[]).await;
    let browser = Browser::new();
    browser.sign_in(&stack, ADA).await;
    tight_zoho(stack.emulator_base()).await;
    let cookie = browser.session_cookie(&stack.base).expect("cookie");
    let client = testkit::server::process::client_with(&cookie);

    let answers = burst(&client, &[&stack.base], 30).await;
    let failed: Vec<_> = answers.iter().filter(|(s, _)| *s != 200).collect();
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
    let (max_in_flight, refused) = ada_at_zoho(stack.emulator_base()).await;
    assert!(
        (1..=3).contains(&max_in_flight),
        "Zoho saw {max_in_flight} at once"
    );
    // zportal's bound (4) starts above the cap: Zoho refused some, zportal shrank (and grew
    // back once calm) and retried.
    assert!(refused >= 1, "the bound never met the cap");
}

/// API calls of any kind the emulator saw since `seq` (refreshes are not API calls).
async fn api_calls_since(stack: &Stack, seq: u64) -> Vec<String> {
    stack
        .endpoints_since(seq)
        .await
        .into_iter()
        .filter(|e| !matches!(e.as_str(), "refresh" | "exchange" | "auth" | "revoke"))
        .collect()
}

fn spent(body: &Value) -> bool {
    body["BudgetSpent"]["org"] == "Acme Corp" && body["BudgetSpent"]["retry_at"].is_i64()
}

#[tokio::test]
async fn a_spent_budget_says_so_and_zoho_sees_one_call_per_back_off_period() {
    let stack = stack_with(&[], |c| c.zoho.backoff = Duration::from_secs(2)).await;
    let browser = Browser::new();
    browser.sign_in(&stack, ADA).await;
    assert_eq!(browser.get(&list_url(&stack.base)).await.status(), 200);
    stack
        .control("credits", json!({"org_zgid": "70001", "remaining": 0}))
        .await;

    // The first call meets Zoho's 429 through every retry, then gives up: the budget is spent.
    // (Another read than the one before: that one is answered again for a few seconds.)
    let seq = stack.last_seq().await;
    let res = browser.get(&page_url(&stack.base, 6)).await;
    assert_eq!(res.status(), 429);
    let body: Value = res.json().await.expect("json");
    assert!(spent(&body), "{body}");
    let tries = api_calls_since(&stack, seq).await.len();
    assert_eq!(tries, 5, "one call and four retries");

    // Inside the back-off, nothing reaches Zoho, and every call says why.
    let cookie = browser.session_cookie(&stack.base).expect("cookie");
    let client = testkit::server::process::client_with(&cookie);
    let seq = stack.last_seq().await;
    let answers = burst(&client, &[&stack.base], 10).await;
    assert!(
        answers.iter().all(|(s, b)| *s == 429 && spent(b)),
        "{answers:?}"
    );
    assert!(api_calls_since(&stack, seq).await.is_empty());

    // Once it runs out, one call tests the water (and is refused: the period doubles to 4 s).
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let seq = stack.last_seq().await;
    let answers = burst(&client, &[&stack.base], 10).await;
    assert!(
        answers.iter().all(|(s, b)| *s == 429 && spent(b)),
        "{answers:?}"
    );
    assert_eq!(api_calls_since(&stack, seq).await.len(), 1, "one probe");
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let seq = stack.last_seq().await;
    burst(&client, &[&stack.base], 5).await;
    assert!(
        api_calls_since(&stack, seq).await.is_empty(),
        "the second period is twice as long"
    );

    // Credits back: the next probe gets through, and everyone's calls resume.
    stack
        .control("credits", json!({"org_zgid": "70001", "remaining": 1000}))
        .await;
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(browser.get(&list_url(&stack.base)).await.status(), 200);
    let answers = burst(&client, &[&stack.base], 5).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
}

#[tokio::test]
async fn the_credits_spent_are_counted_stored_and_shown() {
    let stack = stack(&[]).await;
    let browser = Browser::new();
    browser.sign_in(&stack, ADA).await;
    for _ in 0..3 {
        assert_eq!(browser.get(&list_url(&stack.base)).await.status(), 200);
    }
    let health: Value = browser
        .get(&format!("{}/api/connection/health", stack.base))
        .await
        .json()
        .await
        .expect("health");
    let stats = emulator_get(stack.emulator_base(), "stats").await;
    let at_zoho = stats["by_user"][ADA]["api_calls"].as_u64().expect("calls")
        - stats["by_user"][ADA]["too_many_requests"]
            .as_u64()
            .unwrap_or(0);
    assert_eq!(health["credits_used"], at_zoho, "{health}");
    assert_eq!(
        health["credits_budget"], 54_000,
        "Enterprise, four licensed (active, confirmed) users"
    );

    // Flushed, the store holds them all; nothing is left in memory.
    let zoho = stack.state.zoho();
    zoho.flush_credits().await;
    let org = zoho::OrgId::new("70001");
    let stored = zoho
        .vault
        .credits_last_day(zoho::DataCenter::Us, &org)
        .await
        .expect("stored");
    assert_eq!(stored, at_zoho);
    assert_eq!(
        zoho.credits_used(zoho::DataCenter::Us, &org)
            .await
            .expect("used"),
        at_zoho
    );
}

#[tokio::test]
async fn when_zoho_fails_the_connection_page_the_budget_comes_from_the_org_read_before() {
    let stack = stack(&[]).await;
    let browser = Browser::new();
    browser.sign_in(&stack, ADA).await;
    let health = || async {
        browser
            .get(&format!("{}/api/connection/health", stack.base))
            .await
            .json::<Value>()
            .await
            .expect("health")
    };
    assert_eq!(health().await["credits_budget"], 54_000);

    // The next live read of the org fails at Zoho, first try and both retries.
    stack
        .control(
            "faults",
            json!({"kind": "http_500", "endpoint": "org", "dc": "us", "count": 3}),
        )
        .await;
    let seq = stack.last_seq().await;
    let failed = health().await;
    assert!(failed["notice"].is_string(), "{failed}");
    assert_eq!(
        failed["credits_budget"], 54_000,
        "the org read a moment ago: {failed}"
    );
    assert_eq!(
        api_calls_since(&stack, seq).await,
        vec!["org"; 3],
        "the read and its two retries, no second read for the budget"
    );
}

/// Reads of records (lists, records, searches) the emulator answered since `seq`, with their status.
pub(crate) async fn reads_since(emulator: &str, seq: u64) -> Vec<u64> {
    emulator_get(emulator, &format!("requests?since={seq}")).await["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|r| {
            r["method"] == "GET" && matches!(r["endpoint"].as_str(), Some("records" | "search"))
        })
        .filter(|r| !is_count(r))
        .map(|r| r["status"].as_u64().unwrap_or(0))
        .collect()
}

/// Whether a logged request is a count (`…/actions/count`), which a list asks after its page.
fn is_count(r: &Value) -> bool {
    r["path"]
        .as_str()
        .is_some_and(|p| p.ends_with("/actions/count"))
}

/// How many counts zportal asked Zoho for since the emulator's request `seq`.
async fn counts_since(emulator: &str, seq: u64) -> usize {
    emulator_get(emulator, &format!("requests?since={seq}")).await["requests"]
        .as_array()
        .map_or(0, |all| all.iter().filter(|r| is_count(r)).count())
}

/// `GET url` as `browser`: the JSON answer, which must be a 200.
async fn read(browser: &Browser, url: &str) -> Value {
    let res = browser.get(url).await;
    assert_eq!(res.status(), 200, "{url}");
    res.json().await.expect("json")
}

/// A new Lead named `last_name` as the form's "Save" sends it, with a fresh form's token.
pub(crate) async fn new_lead(client: &reqwest::Client, base: &str, last_name: &str) -> Value {
    let form: Value = client
        .get(format!("{base}/api/records/form?module=Leads"))
        .send()
        .await
        .expect("form")
        .json()
        .await
        .expect("json");
    json!({"module": "Leads", "id": null, "save_token": form["save_token"],
        "values": {"Last_Name": {"kind": "Text", "value": last_name}}})
}

/// Saves a new Lead named `last_name` through zportal's form.
pub(crate) async fn save_lead(client: &reqwest::Client, base: &str, last_name: &str) {
    let body = new_lead(client, base, last_name).await;
    save_record(client, base, &body).await;
}

/// A search of Leads for `text`.
pub(crate) fn search_url(base: &str, text: &str) -> String {
    format!("{base}/api/records/list?args[module]=Leads&args[text]={text}&args[per_page]=10")
}

pub(crate) fn rows(page: &Value) -> usize {
    page["rows"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_read_again_within_seconds_costs_zoho_nothing_until_a_write_through_zportal() {
    let stack = stack(&[]).await;
    let (ada, ben) = (Browser::new(), Browser::new());
    ada.sign_in(&stack, ADA).await;
    ben.sign_in(&stack, BEN).await;
    let emulator = stack.emulator_base();

    let seq = stack.last_seq().await;
    let first = read(&ada, &list_url(&stack.base)).await;
    assert_eq!(read(&ada, &list_url(&stack.base)).await, first);
    assert_eq!(
        reads_since(emulator, seq).await,
        [200],
        "the second read cost nothing"
    );
    assert_eq!(
        counts_since(emulator, seq).await,
        1,
        "nor did its total (a count is kept like other reads)"
    );
    read(&ben, &list_url(&stack.base)).await;
    assert_eq!(
        reads_since(emulator, seq).await.len(),
        2,
        "ben's reads are his own (Zoho may show him other records)"
    );

    // Ten of the same read at once: Zoho answers one of them, for all.
    let cookie = ada.session_cookie(&stack.base).expect("cookie");
    let client = testkit::server::process::client_with(&cookie);
    let seq = stack.last_seq().await;
    let pages = join_all((0..10).map(|_| client.get(page_url(&stack.base, 7)).send())).await;
    assert!(
        pages
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
    );
    assert_eq!(
        reads_since(emulator, seq).await.len(),
        1,
        "one read for ten"
    );

    // A write through zportal: everyone of the org reads anew, and sees it.
    let name = format!("Kept{}", zoho::random_hex(4));
    assert_eq!(rows(&read(&ada, &search_url(&stack.base, &name)).await), 0);
    assert_eq!(rows(&read(&ben, &search_url(&stack.base, &name)).await), 0);
    save_lead(&client, &stack.base, &name).await;
    let seq = stack.last_seq().await;
    assert_eq!(rows(&read(&ada, &search_url(&stack.base, &name)).await), 1);
    assert_eq!(rows(&read(&ben, &search_url(&stack.base, &name)).await), 1);
    assert_eq!(reads_since(emulator, seq).await.len(), 2);
}

#[tokio::test]
async fn with_the_cache_off_every_read_goes_to_zoho() {
    let off = stack_with(&[], |c| c.zoho.cache = Duration::ZERO).await;
    let other = Browser::new();
    other.sign_in(&off, ADA).await;
    let seq = off.last_seq().await;
    for _ in 0..3 {
        read(&other, &list_url(&off.base)).await;
    }
    assert_eq!(reads_since(off.emulator_base(), seq).await.len(), 3);
}
