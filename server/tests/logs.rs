//! Everything zportal (and the libraries under it) logs at `debug` during a full sign-in, a live
//! call, a refresh after a 401 and a disconnect, captured and searched: no token, grant code,
//! state, client secret, token key or session id may appear in it.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use testkit::server::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn a_full_sign_in_refresh_and_disconnect_log_no_secret() {
    let logs = Captured::default();
    // The JSON format operators switch on with `ZPORTAL_LOG_FORMAT=json`, at `debug`.
    server::telemetry::init_with(
        server::config::LogFormat::Json,
        // `cookie_store` is only the test's own browser, which logs the cookies it receives.
        tracing_subscriber::EnvFilter::new("debug,cookie_store=off"),
        logs.clone(),
    );

    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        let auth = browser.start(&stack, "").await;
        let state = query_of(&auth)["state"].clone();
        let back = browser
            .at_zoho(&auth, "ada@us.zportal.test", "accept")
            .await;
        let code = query_of(&back)["code"].clone();
        assert_eq!(browser.callback(&back).await, "/");
        let session = browser.session_cookie(&stack.base).expect("session");

        // A live call, then a refresh forced by a 401.
        assert_eq!(
            browser
                .get(&format!("{}/api/connection/health", stack.base))
                .await
                .status(),
            200
        );
        let before = stack.state.zoho().vault.all().await.expect("all")[0].clone();
        stack
            .control("clock/advance", json!({"seconds": 3700}))
            .await;
        assert_eq!(
            browser
                .get(&format!("{}/api/connection/health", stack.base))
                .await
                .status(),
            200
        );
        let after = stack.state.zoho().vault.all().await.expect("all")[0].clone();
        assert!(after.generation > before.generation, "a refresh happened");

        // A mistyped address: the app's 404 page, which is no error of ours.
        let res = browser.get(&format!("{}/no/such/page", stack.base)).await;
        assert_eq!(res.status(), 404);
        assert!(res.text().await.expect("page").contains("Page not found"));

        let res = browser
            .post_form(&format!("{}/auth/disconnect", stack.base), &[])
            .await;
        assert_eq!(res.status(), 303);

        let key = match &stack.token_key {
            Some(key) => key.clone(),
            None => std::fs::read_to_string(stack.dir.path().join("token.key")).expect("key file"),
        };
        let mut secrets = vec![
            ("state", state),
            ("grant code", code),
            ("session id", session),
            ("client secret", "zportal-dev-secret".to_owned()),
            ("token key", key.trim().trim_start_matches("k1:").to_owned()),
        ];
        for (what, token) in [
            ("first access token", before.access_token.clone()),
            ("refreshed access token", after.access_token.clone()),
            ("refresh token", after.refresh_token.clone()),
        ] {
            secrets.push((what, token.expect("token").expose().to_owned()));
        }

        let text =
            String::from_utf8_lossy(&logs.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
        assert!(
            text.lines().count() > 50,
            "the capture saw the run:\n{text}"
        );
        assert!(text.contains("access token refreshed"));
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        let in_requests: Vec<&serde_json::Value> = lines
            .iter()
            .filter(|l| l["span"]["name"] == "request")
            .collect();
        assert!(!in_requests.is_empty(), "events carry their request span");
        let errors: Vec<&serde_json::Value> =
            lines.iter().filter(|l| l["level"] == "ERROR").collect();
        assert!(errors.is_empty(), "a normal run logs no error: {errors:#?}");
        for l in &in_requests {
            let id = l["span"]["id"].as_str().unwrap_or_default();
            assert_eq!(id.len(), 36, "a request id (UUID) in {l}");
        }
        for (what, secret) in secrets {
            assert!(!secret.is_empty(), "{what}");
            let leaks: Vec<&str> = text
                .lines()
                .filter(|l| l.contains(&secret))
                .take(3)
                .collect();
            assert!(leaks.is_empty(), "the logs hold the {what}: {leaks:#?}");
        }
    });
}
