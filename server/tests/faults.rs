//! Zoho failing at each step, injected through the emulator's fault API: at code exchange, user
//! and org discovery, refresh, revoke and CRM calls — 5xx, answers slower than the timeout,
//! "Access Denied", `INVALID_TOKEN` on a good token, `invalid_code`. Each case checks the answer
//! the user gets, the connection's state afterwards, and that nothing was half-written; reads are
//! retried, writes never. The count is written for `cargo xtask test` to print.

mod common;
mod runtime;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

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
    format!(
        "{}/api/records/list?args[module]=Leads&args[per_page]=5",
        stack.base
    )
}

async fn list(browser: &Browser, stack: &Stack) -> (u16, Value) {
    let res = browser.get(&list_url(stack)).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn status_of(stack: &Stack) -> Vec<String> {
    stack
        .state
        .vault
        .all()
        .await
        .expect("all")
        .iter()
        .map(|c| format!("{:?}", c.status))
        .collect()
}

/// A Zoho whose answers time out after a second.
async fn impatient_stack() -> Stack {
    stack_with(&[], |c| c.zoho_timeout = Duration::from_secs(1)).await
}

#[test]
fn zoho_failing_at_each_step_leaves_the_right_state_and_a_clear_answer() {
    runtime::block_on(async {
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
                stack.state.vault.all().await.expect("all").is_empty(),
                "{kind} at {endpoint}: no connection half-written"
            );
            assert_eq!(browser.signed_in(&stack).await, Value::Null);
            survived += 1;
        }

        // Signed in: CRM reads, refreshes and revokes failing.
        let stack = impatient_stack().await;
        let browser = Browser::new();
        browser.sign_in(&stack, ADA).await;
        assert_eq!(list(&browser, &stack).await.0, 200);

        // A read that fails once (5xx or too slow) is retried and the user never sees it.
        for (kind, delay) in [
            ("http_500", None),
            ("http_503", None),
            ("delay", Some(2500)),
        ] {
            fault(&stack, kind, "records", 1, delay).await;
            assert_eq!(list(&browser, &stack).await.0, 200, "{kind} once: retried");
            survived += 1;
        }
        // Failing on every try: a clear "Zoho unavailable", the connection untouched.
        fault(&stack, "http_500", "records", 10, None).await;
        let (status, body) = list(&browser, &stack).await;
        assert_eq!(
            (status, body.clone()),
            (502, json!("ZohoUnavailable")),
            "{body}"
        );
        clear_faults(&stack).await;
        assert_eq!(status_of(&stack).await, ["Active"]);
        survived += 1;

        // INVALID_TOKEN on a token that should be good (Zoho evicted it): one refresh, retried.
        let before = stack.control_get("stats").await["total"]["refreshes"]
            .as_u64()
            .unwrap_or(0);
        fault(&stack, "invalid_token", "records", 1, None).await;
        assert_eq!(list(&browser, &stack).await.0, 200);
        let after = stack.control_get("stats").await["total"]["refreshes"]
            .as_u64()
            .unwrap_or(0);
        assert_eq!(after, before + 1, "exactly one refresh");
        survived += 1;

        // A write is never retried: Zoho may have applied one whose answer was lost.
        let form: Value = browser
            .get(&format!("{}/api/records/form?module=Leads", stack.base))
            .await
            .json()
            .await
            .expect("form");
        let seq = stack.last_seq().await;
        fault(&stack, "http_500", "records", 1, None).await;
        let res = browser
            .http
            .post(format!("{}/api/records/save", stack.base))
            .header("sec-fetch-site", "same-origin")
            .json(
                &json!({"module": "Leads", "id": null, "save_token": form["save_token"],
                "values": {"Last_Name": {"kind": "Text", "value": "Faulty"}}}),
            )
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status(), 502);
        let writes = stack
            .endpoints_since(seq)
            .await
            .into_iter()
            .filter(|e| e == "records")
            .count();
        assert_eq!(writes, 1, "one attempt reached Zoho");
        survived += 1;

        // Refresh failing: 5xx and slowness are "unavailable", Access Denied is throttling —
        // the connection stays active; invalid_code (revoked) means reconnect.
        for (kind, status, body) in [
            ("http_500", 502, json!("ZohoUnavailable")),
            ("delay", 502, json!("ZohoUnavailable")),
        ] {
            stack.control("tokens/expire", json!({"email": ADA})).await;
            fault(&stack, kind, "refresh", 1, Some(2500)).await;
            let (got, answer) = list(&browser, &stack).await;
            assert_eq!((got, answer), (status, body), "refresh {kind}");
            assert_eq!(status_of(&stack).await, ["Active"], "refresh {kind}");
            assert_eq!(
                list(&browser, &stack).await.0,
                200,
                "after refresh {kind}: recovers"
            );
            survived += 1;
        }
        stack.control("tokens/expire", json!({"email": ADA})).await;
        fault(&stack, "access_denied", "refresh", 1, None).await;
        let (got, answer) = list(&browser, &stack).await;
        assert_eq!(got, 429, "{answer}");
        assert!(answer["Throttled"]["retry_at"].is_i64(), "{answer}");
        assert_eq!(status_of(&stack).await, ["Active"]);
        survived += 1;

        let other = impatient_stack().await;
        let eva = Browser::new();
        eva.sign_in(&other, "eva@eu.zportal.test").await;
        other
            .control("tokens/expire", json!({"email": "eva@eu.zportal.test"}))
            .await;
        fault(&other, "invalid_code", "refresh", 1, None).await;
        assert_eq!(
            list(&eva, &other).await,
            (409, json!("NeedsReconnect")),
            "a refused refresh token"
        );
        assert_eq!(status_of(&other).await, ["NeedsReconnect"]);
        survived += 1;

        // Revoke failing at disconnect: the user still gets out, and the connection is gone here.
        fault(&other, "http_500", "revoke", 1, None).await;
        let res = eva
            .post_form(&format!("{}/auth/disconnect", other.base), &[])
            .await;
        assert_eq!(res.status(), 303);
        assert!(other.state.vault.all().await.expect("all").is_empty());
        survived += 1;

        assert_eq!(
            browser
                .get(&format!("{}/healthz", stack.base))
                .await
                .status(),
            200
        );
        let summary = format!(
            "faults injected and survived: {survived} (sign-in, CRM reads and writes, refresh, revoke)"
        );
        println!("{summary}");
        let _ = std::fs::write(
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("faults-summary.txt"),
            summary,
        );
    });
}
