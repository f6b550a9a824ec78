//! Sign in with Zoho end to end over HTTP on 127.0.0.1: zportal's real router against the real
//! emulator. Every refusal is checked through the emulator's request log: no request carrying the
//! client secret goes out when none was due.

use std::time::Duration;

use serde_json::{Value, json};
use testkit::server::*;

fn reason(location: &str) -> String {
    assert!(location.starts_with("/auth/error?reason="), "{location}");
    location
        .trim_start_matches("/auth/error?reason=")
        .to_owned()
}

/// A sign-in stopped at the callback: the start has happened, Zoho has answered.
async fn at_callback(stack: &Stack, browser: &Browser, email: &str) -> String {
    let auth = browser.start(stack, "").await;
    browser.at_zoho(&auth, email, "accept").await
}

#[test]
fn ada_signs_in_and_sees_her_own_account() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        assert_eq!(browser.signed_in(&stack).await, Value::Null);
        let auth = browser.start(&stack, "dc=us&return_to=/connection").await;
        let q = query_of(&auth);
        assert!(auth.starts_with(&format!(
            "{}/us/accounts/oauth/v2/auth?",
            stack.emulator_base()
        )));
        assert_eq!(q["access_type"], "offline");
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(q["state"].len() >= 43, "state carries at least 128 bits");
        assert!(!q.contains_key("prompt"), "no consent prompt unless needed");
        assert!(!auth.contains("secret"));

        let back = browser
            .at_zoho(&auth, "ada@us.zportal.test", "accept")
            .await;
        assert_eq!(browser.callback(&back).await, "/connection");
        let me = browser.signed_in(&stack).await;
        assert_eq!(me["active"]["email"], json!("ada@us.zportal.test"));
        assert_eq!(me["active"]["org_name"], json!("Acme Corp"));
        assert_eq!(me["active"]["dc"], json!("us"));
        assert!(
            !me.to_string().contains("1000."),
            "no token reaches the browser: {me}"
        );
    })
}

#[test]
fn the_session_id_changes_at_sign_in_and_the_old_one_is_dead() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        let back = at_callback(&stack, &browser, "eva@eu.zportal.test").await;
        let before = browser
            .session_cookie(&stack.base)
            .expect("a session from the start");
        browser.callback(&back).await;
        let after = browser
            .session_cookie(&stack.base)
            .expect("a session after sign-in");
        assert_ne!(before, after);

        let old = reqwest::Client::new()
            .get(format!("{}/api/session/me", stack.base))
            .header("cookie", format!("zportal_session={before}"))
            .send()
            .await
            .expect("GET");
        assert_eq!(old.json::<Value>().await.expect("json"), Value::Null);
        assert_eq!(
            browser.signed_in(&stack).await["active"]["email"],
            json!("eva@eu.zportal.test")
        );
    })
}

#[test]
fn tokens_are_never_in_the_database_in_plain_text() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        let connections = stack.state.zoho().vault.all().await.expect("connections");
        assert_eq!(connections.len(), 1);
        let c = &connections[0];
        let secrets = [
            c.refresh_token
                .as_ref()
                .expect("refresh")
                .expose()
                .to_owned(),
            c.access_token.as_ref().expect("access").expose().to_owned(),
        ];
        // The database (and its write-ahead log, on SQLite), byte for byte.
        let stored = stack.stored_text().await;
        for (what, text) in &stored {
            for secret in &secrets {
                assert!(!text.contains(secret.as_str()), "{what} holds a token");
            }
        }
        assert!(
            stored.len() >= 2 && stored.iter().any(|(_, t)| t.contains(c.id.as_str())),
            "the store was checked, and holds the connection: {:?}",
            stored.iter().map(|(w, _)| w).collect::<Vec<_>>()
        );
    })
}

#[test]
fn a_returning_user_gets_no_new_refresh_token() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        Browser::new().sign_in(&stack, "ada@us.zportal.test").await;
        let again = Browser::new();
        let auth = again.start(&stack, "").await;
        assert!(!auth.contains("prompt=consent"));
        let back = again.at_zoho(&auth, "ada@us.zportal.test", "accept").await;
        assert_eq!(again.callback(&back).await, "/");
        let stats = stack.control_get("stats").await;
        assert_eq!(
            stats["by_user"]["ada@us.zportal.test"]["exchanges"],
            json!(2)
        );
        assert_eq!(
            stats["by_refresh_token"].as_object().map(|m| m.len()),
            Some(1),
            "one refresh token minted for two sign-ins: {stats}"
        );
    })
}

#[test]
fn consent_is_asked_again_only_when_no_usable_refresh_token_is_stored() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        Browser::new().sign_in(&stack, "ben@us.zportal.test").await;
        // zportal lost the connection (deleted), but Zoho still has ben's refresh token.
        for c in stack.state.zoho().vault.all().await.expect("all") {
            stack
                .state
                .zoho()
                .vault
                .delete(&c.id)
                .await
                .expect("delete");
        }
        let browser = Browser::new();
        let back = at_callback(&stack, &browser, "ben@us.zportal.test").await;
        let next = browser.callback(&back).await;
        assert!(
            next.contains("/oauth/v2/auth") && next.contains("prompt=consent"),
            "{next}"
        );
        let back = browser
            .at_zoho(&next, "ben@us.zportal.test", "accept")
            .await;
        assert_eq!(browser.callback(&back).await, "/");
        let c = &stack.state.zoho().vault.all().await.expect("all")[0];
        assert!(c.refresh_token.is_some());
        let stats = stack.control_get("stats").await;
        assert_eq!(
            stats["by_refresh_token"].as_object().map(|m| m.len()),
            Some(2)
        );
    })
}

#[test]
fn state_missing_unknown_replayed_or_expired_is_refused_before_any_secret_goes_out() {
    testkit::block_on(async {
        let stack = stack(&[]).await;

        // Missing state.
        let browser = Browser::new();
        let back = at_callback(&stack, &browser, "ada@us.zportal.test").await;
        let seq = stack.last_seq().await;
        assert_eq!(
            reason(&browser.callback(&without_param(&back, "state")).await),
            "state_missing"
        );
        assert!(stack.secret_requests_since(seq).await.is_empty());

        // Unknown state.
        let browser = Browser::new();
        let back = at_callback(&stack, &browser, "ada@us.zportal.test").await;
        let seq = stack.last_seq().await;
        let forged = with_param(
            &back,
            "state",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        );
        assert_eq!(reason(&browser.callback(&forged).await), "state_mismatch");
        assert!(stack.secret_requests_since(seq).await.is_empty());
        // The pending sign-in was used up by the failed attempt: the genuine answer is now refused too.
        assert_eq!(reason(&browser.callback(&back).await), "state_missing");
        assert!(stack.secret_requests_since(seq).await.is_empty());

        // Replayed: a completed callback URL used again.
        let browser = Browser::new();
        let back = at_callback(&stack, &browser, "ada@us.zportal.test").await;
        assert_eq!(browser.callback(&back).await, "/");
        let seq = stack.last_seq().await;
        assert_eq!(reason(&browser.callback(&back).await), "state_missing");
        assert!(stack.secret_requests_since(seq).await.is_empty());

        // A callback in a browser that never started a sign-in.
        let stranger = Browser::new();
        assert_eq!(reason(&stranger.callback(&back).await), "state_missing");
        assert!(stack.secret_requests_since(seq).await.is_empty());
    })
}

#[test]
fn an_expired_sign_in_is_refused_before_any_secret_goes_out() {
    testkit::block_on(async {
        let stack = stack_with(&[], |c| c.store.sign_in_ttl = Duration::from_secs(1)).await;
        let browser = Browser::new();
        let back = at_callback(&stack, &browser, "ada@us.zportal.test").await;
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let seq = stack.last_seq().await;
        assert_eq!(reason(&browser.callback(&back).await), "expired");
        assert!(stack.secret_requests_since(seq).await.is_empty());
    })
}

#[test]
fn accounts_servers_off_the_table_are_refused_before_any_secret_goes_out() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let pinned = format!("{}/us/accounts", stack.emulator_base());
        let https = pinned.replacen("http://", "https://", 1);
        let suffix = format!("{pinned}.evil.test");
        let slash = format!("{pinned}/");
        let eu = format!("{}/eu/accounts", stack.emulator_base());
        let cases: Vec<(&str, &str)> = vec![
            ("us", "https://evil.test"),
            ("us", &https),
            ("us", &suffix),
            ("us", &slash),
            ("us", &eu),     // location and accounts-server disagree
            ("eu", &pinned), // the other way round
            ("mars", &pinned),
        ];
        for (location, server) in cases {
            let browser = Browser::new();
            let back = at_callback(&stack, &browser, "ada@us.zportal.test").await;
            let tampered = with_param(
                &with_param(&back, "accounts-server", server),
                "location",
                location,
            );
            let seq = stack.last_seq().await;
            assert_eq!(
                reason(&browser.callback(&tampered).await),
                "dc_not_allowed",
                "{location} {server}"
            );
            assert!(
                stack.secret_requests_since(seq).await.is_empty(),
                "{server}"
            );
            assert!(
                stack.endpoints_since(seq).await.is_empty(),
                "nothing at all was sent to Zoho"
            );
        }
    })
}

#[test]
fn a_data_center_not_enabled_is_refused_before_any_secret_goes_out() {
    testkit::block_on(async {
        let stack = stack(&[("ZOHO_DCS", "us")]).await;
        let browser = Browser::new();
        // eva lives in the EU; this zportal only serves the US.
        let back = at_callback(&stack, &browser, "eva@eu.zportal.test").await;
        assert_eq!(query_of(&back)["location"], "eu");
        let seq = stack.last_seq().await;
        assert_eq!(reason(&browser.callback(&back).await), "dc_not_allowed");
        assert!(stack.secret_requests_since(seq).await.is_empty());
        assert_eq!(
            reason(
                &browser
                    .start(&stack, "dc=eu")
                    .await
                    .replace(&stack.base, "")
            ),
            "unknown_dc"
        );
    })
}

#[test]
fn a_refusal_at_zoho_is_reported_without_any_secret_going_out() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        let auth = browser.start(&stack, "").await;
        let back = browser.at_zoho(&auth, "", "reject").await;
        assert_eq!(query_of(&back)["error"], "access_denied");
        let seq = stack.last_seq().await;
        assert_eq!(reason(&browser.callback(&back).await), "access_denied");
        assert!(stack.secret_requests_since(seq).await.is_empty());
        let page = browser
            .get(&format!("{}/auth/error?reason=access_denied", stack.base))
            .await;
        let html = page.text().await.expect("html");
        assert!(html.contains("You declined access at Zoho"));
        assert!(html.contains("Sign in with Zoho"));
    })
}

#[test]
fn exchange_failures_each_end_on_the_error_page_with_one_exchange_and_no_session() {
    testkit::block_on(async {
        let stack = stack_with(&[], |c| c.zoho.timeout = Duration::from_millis(700)).await;
        let cases = [
            (
                json!({"kind": "http_500", "endpoint": "exchange", "count": 1}),
                "zoho_unavailable",
            ),
            (
                json!({"kind": "http_503", "endpoint": "exchange", "count": 1}),
                "zoho_unavailable",
            ),
            (
                json!({"kind": "delay", "endpoint": "exchange", "count": 1, "delay_ms": 1500}),
                "zoho_unavailable",
            ),
            (
                json!({"kind": "redirect", "endpoint": "exchange", "count": 1}),
                "zoho_unavailable",
            ),
            (
                json!({"kind": "invalid_code", "endpoint": "exchange", "count": 1}),
                "exchange_failed",
            ),
            (
                json!({"kind": "access_denied", "endpoint": "exchange", "count": 1}),
                "zoho_throttled",
            ),
            (
                json!({"kind": "invalid_token", "endpoint": "exchange", "count": 1}),
                "exchange_failed",
            ),
        ];
        for (fault, expected) in cases {
            let browser = Browser::new();
            let back = at_callback(&stack, &browser, "ada@us.zportal.test").await;
            stack.control("faults", fault.clone()).await;
            let seq = stack.last_seq().await;
            assert_eq!(reason(&browser.callback(&back).await), expected, "{fault}");
            if let Some(ms) = fault["delay_ms"].as_u64() {
                // The emulator logs a request when it answers: let the slow one finish.
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            let sent = stack.secret_requests_since(seq).await;
            assert_eq!(
                sent.len(),
                1,
                "exactly the one exchange that was due: {fault}"
            );
            assert_eq!(sent[0]["endpoint"], json!("exchange"));
            assert_eq!(browser.signed_in(&stack).await, Value::Null, "{fault}");
        }
        // The emulator's own HTTP-200 refusals: a wrong secret and an unknown client.
        for (client, expected) in [("1000.ZPORTALDEV", "client_rejected")] {
            let wrong = stack_with(
                &[
                    ("ZOHO_CLIENT_ID", client),
                    ("ZOHO_CLIENT_SECRET", "not-the-secret"),
                ],
                |_| {},
            )
            .await;
            let browser = Browser::new();
            let back = at_callback(&wrong, &browser, "ada@us.zportal.test").await;
            assert_eq!(reason(&browser.callback(&back).await), expected);
        }
    })
}

#[test]
fn an_api_domain_off_the_table_is_refused_and_never_called() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        stack
            .control(
                "config",
                json!({"api_domain_override": "https://www.zohoapis.evil.test"}),
            )
            .await;
        let browser = Browser::new();
        let back = at_callback(&stack, &browser, "ada@us.zportal.test").await;
        let seq = stack.last_seq().await;
        assert_eq!(reason(&browser.callback(&back).await), "dc_not_allowed");
        assert_eq!(
            stack.endpoints_since(seq).await,
            vec!["exchange"],
            "no API call follows"
        );
        assert_eq!(browser.signed_in(&stack).await, Value::Null);
    })
}

#[test]
fn add_account_switch_sign_out_and_disconnect() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        browser.sign_in(&stack, "ben@us.zportal.test").await;
        let me = browser.signed_in(&stack).await;
        assert_eq!(me["active"]["email"], json!("ben@us.zportal.test"));
        assert_eq!(me["accounts"].as_array().map(Vec::len), Some(2));
        let ada_id = me["accounts"][0]["id"].as_str().expect("id").to_owned();

        let res = browser
            .post_form(
                &format!("{}/auth/switch", stack.base),
                &[("connection", &ada_id)],
            )
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            browser.signed_in(&stack).await["active"]["email"],
            json!("ada@us.zportal.test")
        );

        // Another browser cannot switch to, or disconnect, a connection it does not hold.
        let other = Browser::new();
        other.sign_in(&stack, "eva@eu.zportal.test").await;
        other
            .post_form(
                &format!("{}/auth/disconnect", stack.base),
                &[("connection", &ada_id)],
            )
            .await;
        assert_eq!(stack.state.zoho().vault.all().await.expect("all").len(), 3);

        // Disconnect revokes at Zoho and deletes the connection.
        let seq = stack.last_seq().await;
        let res = browser
            .post_form(&format!("{}/auth/disconnect", stack.base), &[])
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(stack.endpoints_since(seq).await, vec!["revoke"]);
        assert_eq!(stack.state.zoho().vault.all().await.expect("all").len(), 2);
        let me = browser.signed_in(&stack).await;
        assert_eq!(
            me["active"]["email"],
            json!("ben@us.zportal.test"),
            "ben remains"
        );

        // Sign out ends this browser's session and nobody else's.
        let res = browser
            .post_form(&format!("{}/auth/signout", stack.base), &[])
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(browser.signed_in(&stack).await, Value::Null);
        assert_eq!(
            other.signed_in(&stack).await["active"]["email"],
            json!("eva@eu.zportal.test")
        );
    })
}

#[test]
fn cross_site_posts_to_the_auth_routes_are_refused() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        for route in ["/auth/signout", "/auth/disconnect", "/auth/switch"] {
            let res = browser
                .http
                .post(format!("{}{route}", stack.base))
                .header("sec-fetch-site", "cross-site")
                .form(&[("connection", "x")])
                .send()
                .await
                .expect("POST");
            assert_eq!(res.status(), 403, "{route}");
        }
        assert_eq!(
            browser.signed_in(&stack).await["active"]["email"],
            json!("ada@us.zportal.test")
        );
        assert_eq!(stack.state.zoho().vault.all().await.expect("all").len(), 1);
    })
}

#[test]
fn activity_keeps_a_session_past_its_idle_time_and_idleness_ends_it() {
    testkit::block_on(async {
        let stack = stack(&[("ZPORTAL_SESSION_IDLE", "2s")]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert!(browser.signed_in(&stack).await.is_object(), "active");
        tokio::time::sleep(Duration::from_millis(1400)).await;
        assert!(
            browser.signed_in(&stack).await.is_object(),
            "2.6 s after sign-in, kept alive by the call at 1.2 s"
        );
        tokio::time::sleep(Duration::from_millis(2600)).await;
        assert_eq!(
            browser.signed_in(&stack).await,
            Value::Null,
            "idle for longer than 2 s"
        );
    })
}

#[test]
fn a_session_past_its_absolute_lifetime_is_signed_out() {
    testkit::block_on(async {
        let stack = stack(&[
            ("ZPORTAL_SESSION_IDLE", "1s"),
            ("ZPORTAL_SESSION_MAX", "2s"),
        ])
        .await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        assert!(browser.signed_in(&stack).await.is_object());
        // Keep it active (under the idle limit) until the absolute limit passes.
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(600)).await;
            browser.get(&format!("{}/healthz", stack.base)).await;
            let _ = browser.signed_in(&stack).await;
        }
        assert_eq!(browser.signed_in(&stack).await, Value::Null);
    })
}
