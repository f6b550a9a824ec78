//! Zoho failing at each step, injected through the emulator's fault API: at code exchange, user
//! and org discovery, refresh, revoke and every CRM call (list, search, open, describe, create,
//! edit, delete) — 5xx, answers slower than the timeout, "Access Denied", `INVALID_TOKEN` on a
//! good token (injected, and for real: evicted by Zoho's cap of 15 live tokens), `invalid_code`.
//! Each case checks the answer the user gets, the connection's state afterwards, and that nothing
//! was half-written; reads are retried, writes never. Every read here reaches Zoho (answers are
//! not kept: `ZPORTAL_ZOHO_CACHE=off`), so each one meets the fault. The counts are written for
//! `cargo xtask test` to print.

use std::time::Duration;

use serde_json::{Value, json};
use testkit::server::*;

const ADA: &str = "ada@us.zportal.test";

async fn fault(stack: &Stack, kind: &str, endpoint: &str, count: u32, delay_ms: Option<u64>) {
    let mut rule = json!({"kind": kind, "endpoint": endpoint, "count": count});
    // Only a "delay" waits: the emulator delays any fault that names a delay.
    if let Some(ms) = delay_ms.filter(|_| kind == "delay") {
        rule["delay_ms"] = json!(ms);
    }
    stack.control("faults", rule).await;
}

async fn clear_faults(stack: &Stack) {
    reqwest::Client::new()
        .delete(format!("{}/__emulator/faults", stack.emulator_base()))
        .send()
        .await
        .expect("clear faults");
}

fn list_url(stack: &Stack) -> String {
    testkit::server::leads_list_url(&stack.base, 5)
}

async fn list(browser: &Browser, stack: &Stack) -> (u16, Value) {
    let res = browser.get(&list_url(stack)).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn status_of(stack: &Stack) -> Vec<String> {
    stack
        .state
        .zoho()
        .vault
        .all()
        .await
        .expect("all")
        .iter()
        .map(|c| format!("{:?}", c.status))
        .collect()
}

/// ada, signed in on an impatient zportal, her list answering.
async fn ada_signed_in() -> (Stack, Browser) {
    let stack = impatient_stack().await;
    let browser = Browser::new();
    browser.sign_in(&stack, ADA).await;
    assert_eq!(list(&browser, &stack).await.0, 200);
    (stack, browser)
}

/// eva (another DC's user), signed in on an impatient zportal.
async fn eva_signed_in() -> (Stack, Browser) {
    let stack = impatient_stack().await;
    let browser = Browser::new();
    browser.sign_in(&stack, "eva@eu.zportal.test").await;
    (stack, browser)
}

/// A Zoho whose answers time out after a second.
async fn impatient_stack() -> Stack {
    stack_with(&[], |c| {
        c.zoho.timeout = Duration::from_secs(1);
        c.zoho.cache = Duration::ZERO;
    })
    .await
}

#[test]
fn sign_in_failing_at_any_step_stores_nothing() {
    testkit::block_on(async {
        let mut survived = 0;
        // Sign-in: the code exchange and the user/org discovery fail; nothing is stored.
        for (kind, endpoint, reason) in [
            ("http_500", "exchange", "zoho_unavailable"),
            ("delay", "exchange", "zoho_unavailable"),
            ("invalid_code", "exchange", "exchange_failed"),
            ("access_denied", "exchange", "zoho_throttled"),
            ("http_500", "users", "zoho_unavailable"),
            ("http_503", "org", "zoho_unavailable"),
            ("delay", "org", "zoho_unavailable"),
            ("access_denied", "users", "zoho_throttled"),
            ("invalid_token", "org", "exchange_failed"),
            ("delay", "users", "zoho_unavailable"),
            ("http_500", "org", "zoho_unavailable"),
        ] {
            let stack = impatient_stack().await;
            let browser = Browser::new();
            let auth = browser.start(&stack, "").await;
            let back = browser.at_zoho(&auth, ADA, "accept").await;
            fault(&stack, kind, endpoint, 1, Some(2500)).await;
            let next = browser.callback(&back).await;
            assert_eq!(
                next,
                format!("/auth/error?reason={reason}"),
                "{kind} at {endpoint}"
            );
            assert!(
                stack
                    .state
                    .zoho()
                    .vault
                    .all()
                    .await
                    .expect("all")
                    .is_empty(),
                "{kind} at {endpoint}: no connection half-written"
            );
            assert_eq!(browser.signed_in(&stack).await, Value::Null);
            survived += 1;
        }
        tell(survived, "at sign-in");
    });
}

/// What the page is answered when a refresh fails.
enum Answer {
    /// This body, as the server function's error.
    Is(Value),
    /// Throttled, with the moment zportal tries again.
    Throttled,
}

#[test]
fn refresh_failing_at_each_fault() {
    testkit::block_on(async {
        let mut survived = 0;
        // 5xx and slowness are "unavailable" and Access Denied is throttling: the connection stays
        // active, and once Zoho is back the next read recovers. A refresh token Zoho refuses
        // (invalid_code: revoked) means reconnect.
        for (kind, status, answer, after, recovers) in [
            (
                "http_500",
                502,
                Answer::Is(json!("ZohoUnavailable")),
                "Active",
                true,
            ),
            (
                "delay",
                502,
                Answer::Is(json!("ZohoUnavailable")),
                "Active",
                true,
            ),
            ("access_denied", 429, Answer::Throttled, "Active", false),
            (
                "invalid_code",
                409,
                Answer::Is(json!("NeedsReconnect")),
                "NeedsReconnect",
                false,
            ),
        ] {
            let (stack, browser) = ada_signed_in().await;
            stack.control("tokens/expire", json!({"email": ADA})).await;
            fault(&stack, kind, "refresh", 1, Some(2500)).await;
            let (got, body) = list(&browser, &stack).await;
            assert_eq!(got, status, "refresh {kind}: {body}");
            match answer {
                Answer::Is(expected) => assert_eq!(body, expected, "refresh {kind}"),
                Answer::Throttled => {
                    assert!(
                        body["Throttled"]["retry_at"].is_i64(),
                        "refresh {kind}: {body}"
                    )
                }
            }
            assert_eq!(status_of(&stack).await, [after], "refresh {kind}");
            if recovers {
                assert_eq!(
                    list(&browser, &stack).await.0,
                    200,
                    "after refresh {kind}: recovers"
                );
            }
            survived += 1;
        }
        tell(survived, "at refresh");
    });
}

#[test]
fn revoke_failing_still_disconnects() {
    testkit::block_on(async {
        let mut survived = 0;
        let (other, eva) = eva_signed_in().await;
        // Revoke failing at disconnect (down, too slow, limiting): the user still gets out, and
        // the connection is gone here.
        for kind in ["http_500", "delay", "access_denied"] {
            if other
                .state
                .zoho()
                .vault
                .all()
                .await
                .expect("all")
                .is_empty()
            {
                eva.sign_in(&other, "eva@eu.zportal.test").await;
            }
            fault(&other, kind, "revoke", 1, Some(2500)).await;
            let res = eva
                .post_form(&format!("{}/auth/disconnect", other.base), &[])
                .await;
            assert_eq!(res.status(), 303, "revoke {kind}");
            assert!(
                other
                    .state
                    .zoho()
                    .vault
                    .all()
                    .await
                    .expect("all")
                    .is_empty(),
                "revoke {kind}"
            );
            assert_eq!(eva.signed_in(&other).await, Value::Null, "revoke {kind}");
            survived += 1;
        }
        tell(survived, "at revoke");
    });
}

#[test]
fn a_token_evicted_by_zohos_cap_of_fifteen_costs_one_refresh_and_nobody_notices() {
    testkit::block_on(async {
        let stack = stack_with(&[], |c| c.zoho.cache = Duration::ZERO).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "jun@jp.zportal.test").await;
        assert_eq!(list(&browser, &stack).await.0, 200);
        let refresh = stack.state.zoho().vault.all().await.expect("all")[0]
            .refresh_token
            .clone()
            .expect("refresh token");
        // Another holder of the same refresh token mints fifteen access tokens, in two windows
        // of Zoho's budget of ten per ten minutes: zportal's, the oldest, is evicted.
        let token_url = format!("{}/jp/accounts/oauth/v2/token", stack.emulator_base());
        for i in 0..15 {
            if i == 8 {
                stack
                    .control("clock/advance", json!({"seconds": 601}))
                    .await;
            }
            let minted: Value = reqwest::Client::new()
                .post(&token_url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", "1000.ZPORTALDEV"),
                    ("client_secret", "zportal-dev-secret"),
                    ("refresh_token", refresh.expose()),
                ])
                .send()
                .await
                .expect("refresh")
                .json()
                .await
                .expect("json");
            assert!(minted["access_token"].is_string(), "{minted}");
        }
        let before = refreshes(&stack).await;
        let unauthorized = stack.control_get("stats").await["total"]["unauthorized"].clone();
        assert_eq!(
            list(&browser, &stack).await.0,
            200,
            "the user never sees it"
        );
        assert_eq!(refreshes(&stack).await - before, 1, "one refresh");
        assert_ne!(
            stack.control_get("stats").await["total"]["unauthorized"],
            unauthorized,
            "zportal's token really was evicted"
        );
        tell(1, "a token evicted by Zoho's cap of 15");
    });
}

/// Adds `survived` faults to the summary `cargo xtask test` prints (one line per test).
fn tell(survived: u32, what: &str) {
    println!("faults injected and survived: {survived} ({what})");
    add_to_summary("faults", &format!("{survived} {what}"));
}

async fn refreshes(stack: &Stack) -> u64 {
    stack.control_get("stats").await["total"]["refreshes"]
        .as_u64()
        .unwrap_or(0)
}

/// A Lead's name as zportal shows it, or `None` when it does not exist.
async fn lead_name(browser: &Browser, stack: &Stack, id: &str) -> Option<String> {
    let res = browser
        .get(&format!(
            "{}/api/records/get?module=Leads&id={id}",
            stack.base
        ))
        .await;
    let record: Value = res.json().await.ok()?;
    record["fields"]
        .as_array()?
        .iter()
        .find(|f| f["label"] == "Last Name")
        .and_then(|f| f["value"].as_str())
        .map(str::to_owned)
}

/// How many Leads zportal finds by `text`.
async fn found(browser: &Browser, stack: &Stack, text: &str) -> usize {
    let page: Value = browser
        .get(&format!(
            "{}/api/records/list?args[module]=Leads&args[text]={text}",
            stack.base
        ))
        .await
        .json()
        .await
        .unwrap_or(Value::Null);
    page["rows"].as_array().map_or(0, Vec::len)
}

/// Waits until the emulator logged a request at `endpoint` since `seq` that its caller hung up
/// on (status 499): the emulator then dropped it unanswered, so it changed nothing.
async fn until_abandoned(stack: &Stack, seq: u64, endpoint: &str) {
    for _ in 0..100 {
        let log = stack.control_get(&format!("requests?since={seq}")).await;
        if log["requests"].as_array().is_some_and(|r| {
            r.iter()
                .any(|r| r["endpoint"] == endpoint && r["status"] == 499)
        }) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("no abandoned {endpoint} call in the emulator's log");
}

/// A signed-in eva on an impatient zportal, with a Lead to open: what every CRM case starts from.
struct CrmCase {
    stack: Stack,
    browser: Browser,
    lead: String,
}

async fn crm_case() -> CrmCase {
    let (stack, browser) = eva_signed_in().await;
    let (status, page) = list(&browser, &stack).await;
    assert_eq!(status, 200);
    let lead = page["rows"][0]["id"].as_str().expect("a Lead").to_owned();
    CrmCase {
        stack,
        browser,
        lead,
    }
}

/// Reads: one 5xx, one answer too slow or one 429 is retried unseen; 5xx on every try is "Zoho
/// unavailable"; a token Zoho dropped costs one refresh. Metadata is cached, so each of its cases asks for a module not yet described.
async fn read_under_every_fault(call: &str, endpoint: &str) {
    let CrmCase {
        stack,
        browser,
        lead,
    } = crm_case().await;
    let search = format!(
        "{}/api/records/list?args[module]=Leads&args[text]=Lead",
        stack.base
    );
    let open = format!("{}/api/records/get?module=Leads&id={lead}", stack.base);
    let mut survived = 0;
    let cases: [(&str, u32, Option<u16>); 5] = [
        ("http_500", 1, None),
        ("delay", 1, None),
        ("http_503", 3, Some(502)),
        ("access_denied", 1, None),
        ("invalid_token", 1, None),
    ];
    let unread = ["Contacts", "Accounts", "Deals", "Tasks", "Products"];
    for (i, (kind, count, fails)) in cases.iter().enumerate() {
        let url = match call {
            "list" => list_url(&stack),
            "search" => search.clone(),
            "open" => open.clone(),
            _ => format!("{}/api/records/meta?module={}", stack.base, unread[i]),
        };
        let before = refreshes(&stack).await;
        fault(&stack, kind, endpoint, *count, Some(2500)).await;
        let res = browser.get(&url).await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        match fails {
            None => assert_eq!(status, 200, "{call} under {kind}: {body}"),
            Some(502) => assert_eq!(
                (status, body),
                (502, json!("ZohoUnavailable")),
                "{call} under {kind}"
            ),
            Some(other) => assert_eq!(status, *other, "{call} under {kind}: {body}"),
        }
        let spent = refreshes(&stack).await - before;
        let expected = u64::from(*kind == "invalid_token");
        assert_eq!(spent, expected, "{call} under {kind}: refreshes");
        assert_eq!(status_of(&stack).await, ["Active"], "{call} under {kind}");
        clear_faults(&stack).await;
        survived += 1;
    }
    tell(survived, &format!("at {call}"));
}

#[test]
fn a_list_under_every_fault() {
    testkit::block_on(read_under_every_fault("list", "records"));
}

#[test]
fn a_search_under_every_fault() {
    testkit::block_on(read_under_every_fault("search", "search"));
}

#[test]
fn opening_a_record_under_every_fault() {
    testkit::block_on(read_under_every_fault("open", "records"));
}

#[test]
fn describing_a_module_under_every_fault() {
    testkit::block_on(read_under_every_fault("describe", "settings"));
}

/// Writes: never retried after a failure Zoho may have acted on; a refused or unanswered write
/// changed nothing, and the one refused for a dropped token (or with 429, which Zoho did not run)
/// is made once when sent again.
async fn writes_under(kind: &str, answer: u16) {
    let CrmCase {
        stack,
        browser,
        lead,
    } = crm_case().await;
    let mut survived = 0;
    let save = |name: &str, id: Option<&str>, token: String| {
        browser
            .http
            .post(format!("{}/api/records/save", stack.base))
            .header("sec-fetch-site", "same-origin")
            .json(&json!({"module": "Leads", "id": id, "save_token": token,
                "values": {"Last_Name": {"kind": "Text", "value": name}}}))
            .send()
    };
    let delete = |id: String| {
        browser
            .http
            .post(format!("{}/api/records/delete", stack.base))
            .header("sec-fetch-site", "same-origin")
            .form(&[("module", "Leads".to_owned()), ("ids[0]", id)])
            .send()
    };
    let original = lead_name(&browser, &stack, &lead).await.expect("the Lead");
    let applies = answer == 200;
    let token = zoho::random_hex(16);

    // Create.
    let name = format!("Made{}", kind.replace('_', ""));
    let seq = stack.last_seq().await;
    fault(&stack, kind, "records", 1, Some(2500)).await;
    let res = save(&name, None, token).await.expect("save");
    assert_eq!(res.status().as_u16(), answer, "create under {kind}");
    if kind == "delay" {
        until_abandoned(&stack, seq, "records").await;
    }
    let made = stack
        .endpoints_since(seq)
        .await
        .iter()
        .filter(|e| *e == "records")
        .count();
    assert_eq!(made, 1 + usize::from(applies), "create under {kind}: tries");
    assert_eq!(
        found(&browser, &stack, &name).await,
        usize::from(applies),
        "create under {kind}"
    );
    survived += 1;

    // Edit.
    let renamed = format!("Renamed{}", kind.replace('_', ""));
    let seq = stack.last_seq().await;
    fault(&stack, kind, "records", 1, Some(2500)).await;
    let res = save(&renamed, Some(&lead), "0".repeat(32))
        .await
        .expect("save");
    assert_eq!(res.status().as_u16(), answer, "edit under {kind}");
    if kind == "delay" {
        until_abandoned(&stack, seq, "records").await;
    }
    let now = lead_name(&browser, &stack, &lead).await;
    let expected = if applies { &renamed } else { &original };
    assert_eq!(now.as_ref(), Some(expected), "edit under {kind}");
    survived += 1;

    // Delete (the Lead just made, or a fresh one).
    let victim = {
        let res = save("Victim", None, zoho::random_hex(16))
            .await
            .expect("save");
        let out: Value = res.json().await.expect("json");
        out["Saved"]["id"].as_str().expect("saved").to_owned()
    };
    let seq = stack.last_seq().await;
    fault(&stack, kind, "records", 1, Some(2500)).await;
    let res = delete(victim.clone()).await.expect("delete");
    assert_eq!(res.status().as_u16(), answer, "delete under {kind}");
    if kind == "delay" {
        until_abandoned(&stack, seq, "records").await;
    }
    assert_eq!(
        lead_name(&browser, &stack, &victim).await.is_none(),
        applies,
        "delete under {kind}"
    );
    survived += 1;
    assert_eq!(status_of(&stack).await, ["Active"]);
    tell(
        survived,
        &format!("at create, edit and delete under {kind}"),
    );
}

#[test]
fn writes_when_zoho_fails_with_a_5xx() {
    testkit::block_on(writes_under("http_500", 502));
}

#[test]
fn writes_when_zoho_answers_too_late() {
    testkit::block_on(writes_under("delay", 502));
}

#[test]
fn writes_that_zoho_refused_with_429_are_sent_again_and_made_once() {
    // Zoho did not run a call it answered 429: zportal sends it again, once, after a pause.
    testkit::block_on(writes_under("access_denied", 200));
}

#[test]
fn writes_when_zoho_dropped_the_token() {
    testkit::block_on(writes_under("invalid_token", 200));
}
