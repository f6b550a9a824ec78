//! The operator's endpoints against a real zportal and emulator: `/metrics` scraped before and
//! after calls (the counters move by what was done), `/readyz` answering for the database and
//! Zoho, and a request id on every answer.

use serde_json::json;
use testkit::server::*;

/// The value of the sample `name{labels}` in Prometheus text, 0 when absent. `labels` are
/// `key="value"` pairs that must all appear in the sample's label set.
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name && labels.iter().all(|want| rest.contains(want)))
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

async fn scrape(browser: &Browser, stack: &Stack) -> String {
    let res = browser.get(&format!("{}/metrics", stack.ops_base)).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/plain")
    );
    res.text().await.expect("text")
}

#[test]
fn metrics_count_requests_zoho_calls_refreshes_sessions_and_connections() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        let before = scrape(&browser, &stack).await;

        // Three different pages (the same one again would be answered from the first).
        let list = |per_page: u32| {
            format!(
                "{}/api/records/list?args[module]=Leads&args[per_page]={per_page}",
                stack.base
            )
        };
        for per_page in 5..8 {
            assert_eq!(browser.get(&list(per_page)).await.status(), 200);
        }
        // Zoho drops the access token; the next call refreshes once.
        stack
            .control("tokens/expire", json!({"email": "ada@us.zportal.test"}))
            .await;
        assert_eq!(browser.get(&list(8)).await.status(), 200);
        // The same page again within seconds: answered without Zoho.
        assert_eq!(browser.get(&list(8)).await.status(), 200);
        let after = scrape(&browser, &stack).await;

        let moved = |name: &str, labels: &[&str]| {
            sample(&after, name, labels) - sample(&before, name, labels)
        };
        assert_eq!(
            moved(
                "zportal_http_requests_total",
                &[r#"route="/api/records/list""#, r#"status="200""#]
            ),
            5.0,
            "{after}"
        );
        // The same page again, and each list's total after the first (one count, kept while
        // the pages change size): five answers reused.
        assert_eq!(
            moved(
                "zoho_answers_reused_total",
                &[r#"dc="us""#, r#"how="kept""#]
            ),
            5.0,
            "{after}"
        );
        // Three lists, the one retried after the 401, and one count (metadata is cached after
        // the first).
        assert_eq!(
            moved(
                "zoho_calls_total",
                &[r#"dc="us""#, r#"endpoint="records""#, r#"outcome="ok""#]
            ),
            5.0,
            "{after}"
        );
        assert_eq!(
            moved(
                "zoho_calls_total",
                &[r#"endpoint="records""#, r#"outcome="unauthorized""#]
            ),
            1.0
        );
        assert_eq!(
            moved("zoho_calls_total", &[r#"endpoint="settings""#]),
            2.0,
            "settings/modules and settings/fields once each, then from the cache"
        );
        assert_eq!(moved("zportal_refreshes_total", &[r#"outcome="ok""#]), 1.0);
        assert!(
            after.contains("zoho_call_duration_seconds_bucket{"),
            "a latency histogram"
        );
        assert!(sample(&after, "zportal_live_sessions", &[]) >= 1.0);
        assert_eq!(
            sample(&after, "zportal_connections", &[r#"status="active""#]),
            1.0
        );
        assert_eq!(
            sample(
                &after,
                "zportal_connections",
                &[r#"status="needs_reconnect""#]
            ),
            0.0
        );

        // Zoho revokes the refresh token: the connection needs a reconnect, and /metrics says so.
        stack
            .control("tokens/revoke", json!({"email": "ada@us.zportal.test"}))
            .await;
        assert_ne!(browser.get(&list(9)).await.status(), 200);
        let revoked = scrape(&browser, &stack).await;
        assert_eq!(
            sample(
                &revoked,
                "zportal_connections",
                &[r#"status="needs_reconnect""#]
            ),
            1.0,
            "{revoked}"
        );
        assert_eq!(
            sample(
                &revoked,
                "zportal_refreshes_total",
                &[r#"outcome="refused""#]
            ) - sample(&after, "zportal_refreshes_total", &[r#"outcome="refused""#]),
            1.0
        );
        for secret_word in ["zportal-dev-secret", "ada@", "Zoho-oauthtoken"] {
            assert!(!revoked.contains(secret_word), "{secret_word} in /metrics");
        }
    });
}

#[test]
fn metrics_count_zohos_429s_by_kind_and_the_credits_spent_by_data_center() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        // Every call asks for a page of its own size: none is answered from another's.
        let list = |per_page: u32| {
            format!(
                "{}/api/records/list?args[module]=Leads&args[per_page]={per_page}",
                stack.base
            )
        };
        assert_eq!(browser.get(&list(5)).await.status(), 200);
        let before = scrape(&browser, &stack).await;
        for per_page in 6..9 {
            assert_eq!(browser.get(&list(per_page)).await.status(), 200);
        }
        // A cap below zportal's bound: Zoho refuses some of a burst, zportal retries them.
        stack
            .control(
                "config",
                json!({"api_latency_ms": 150, "limits": {"api_concurrency": 2}}),
            )
            .await;
        let pages: Vec<String> = (10..22).map(list).collect();
        let burst = pages.iter().map(|url| browser.get(url));
        for res in futures::future::join_all(burst).await {
            assert_eq!(res.status(), 200);
        }
        // The org's credits spent: past the retries, one "credits" refusal.
        stack
            .control("credits", json!({"org_zgid": "70001", "remaining": 0}))
            .await;
        assert_eq!(browser.get(&list(30)).await.status(), 429);
        let after = scrape(&browser, &stack).await;
        let moved = |name: &str, labels: &[&str]| {
            sample(&after, name, labels) - sample(&before, name, labels)
        };
        assert_eq!(
            moved("zoho_credits_used", &[r#"dc="us""#]),
            15.0,
            "three lists and a burst of twelve, each one call: {after}"
        );
        assert!(
            moved(
                "zoho_rate_limited_total",
                &[r#"dc="us""#, r#"kind="concurrency""#]
            ) >= 1.0,
            "{after}"
        );
        assert_eq!(
            moved(
                "zoho_rate_limited_total",
                &[r#"dc="us""#, r#"kind="credits""#]
            ),
            1.0
        );
        for org in ["Acme", "70001"] {
            assert!(!after.contains(org), "{org} in /metrics");
        }
    });
}

#[test]
fn readiness_names_what_does_not_answer_and_every_answer_has_a_request_id() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        let res = browser.get(&format!("{}/readyz", stack.base)).await;
        assert_eq!(res.status(), 200);
        let id = res.headers()["x-request-id"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert_eq!(id.len(), 36, "a UUID: {id}");
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body, json!({"ready": true, "database": "ok"}));
        let res = browser.get(&format!("{}/readyz", stack.ops_base)).await;
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body, json!({"ready": true, "database": "ok", "zoho": "ok"}));
        assert_eq!(
            browser
                .get(&format!("{}/healthz", stack.base))
                .await
                .status(),
            200
        );

        // A zportal whose Zoho is gone: the ops listener says so; the public port stays ready (a
        // load balancer must not drop every process while Zoho is down).
        let dead = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a port nobody listens on");
        let orphan = stack_with(&[("ZOHO_EMULATOR_URL", &format!("http://{dead}"))], |_| {}).await;
        let res = browser.get(&format!("{}/readyz", orphan.ops_base)).await;
        assert_eq!(res.status(), 503);
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(
            body,
            json!({"ready": false, "database": "ok", "zoho": "unavailable"})
        );
        let public = browser.get(&format!("{}/readyz", orphan.base)).await;
        assert_eq!(public.status(), 200);
        assert_eq!(
            browser
                .get(&format!("{}/healthz", orphan.base))
                .await
                .status(),
            200
        );
    });
}
