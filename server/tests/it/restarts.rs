//! The real `server` binary, stopped the ways production stops it. SIGTERM lets the request in
//! flight finish before the process exits. SIGKILL — at rest, in the middle of a sign-in, of a
//! refresh and of a save — loses nothing that was stored and half-writes nothing: after a restart
//! on the same store the browser's session and connection still work, no refresh lease stays
//! taken, and the user carries on. Each restart survived is counted for `cargo xtask test`.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use testkit::server::process::ServerProcess;
use testkit::server::*;

/// One `server` process in front of an emulator of its own (reached through
/// `ZOHO_EMULATOR_URL`, so it outlives every kill), with a store and port a restart keeps: the
/// data directory's SQLite, or a fresh PostgreSQL schema on the PostgreSQL run.
struct Solo {
    emulator: emulator::Running,
    dir: tempfile::TempDir,
    postgres: Option<String>,
    server: ServerProcess,
}

/// The store the server writes, read behind its back.
enum Store {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Store {
    async fn count(&self, sql: &str) -> i64 {
        match self {
            Store::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Store::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .expect(sql)
    }

    async fn leases_taken(&self) -> i64 {
        self.count("SELECT count(*) FROM connections WHERE lease_holder IS NOT NULL")
            .await
    }

    async fn connections(&self) -> i64 {
        self.count("SELECT count(*) FROM connections").await
    }
}

impl Solo {
    async fn start() -> Solo {
        let emulator = emulator::start(emulator::Options {
            addr: "127.0.0.1:0".parse().expect("addr"),
            state_file: None,
        })
        .await
        .expect("emulator");
        let dir = tempfile::tempdir().expect("dir");
        let data = dir.path().to_string_lossy().into_owned();
        let mut env = vec![
            ("ZOHO_EMULATOR_URL", emulator.base_url.clone()),
            ("ZPORTAL_DATA_DIR", data),
            // A lease whose holder died is free again after two seconds.
            ("ZPORTAL_LEASE_TTL", "2s".to_owned()),
            // A press of Save whose process died holds its form for about 19 seconds (a call's
            // longest time with its retries of 429, and one more).
            ("ZPORTAL_ZOHO_TIMEOUT", "3s".to_owned()),
        ];
        let postgres = postgres_url().await;
        if let Some(url) = &postgres {
            env.push(("DATABASE_URL", url.clone()));
            env.push((
                "ZPORTAL_TOKEN_KEY",
                keeper::vault::TokenCipher::generate_key_list(),
            ));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let server = ServerProcess::start(&env).await;
        Solo {
            server,
            emulator,
            dir,
            postgres,
        }
    }

    /// SIGKILL, then the same binary on the same port, store and emulator.
    async fn kill_and_restart(&mut self) {
        self.server.kill_and_restart().await;
    }

    async fn store(&self) -> Store {
        match &self.postgres {
            Some(url) => Store::Postgres(sqlx::PgPool::connect(url).await.expect("pool")),
            None => {
                let file = self.dir.path().join("zportal.db");
                let url = format!("sqlite://{}?mode=ro", file.display());
                Store::Sqlite(sqlx::SqlitePool::connect(&url).await.expect("pool"))
            }
        }
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        emulator_post(&self.emulator.base_url, path, body).await
    }

    async fn control_get(&self, path: &str) -> Value {
        emulator_get(&self.emulator.base_url, path).await
    }

    /// Makes the next call to Zoho's `endpoint` hang for ten seconds.
    async fn hang_next(&self, endpoint: &str) {
        self.control(
            "faults",
            json!({"kind": "delay", "endpoint": endpoint, "count": 1, "delay_ms": 10_000}),
        )
        .await;
    }

    /// Waits until the hanging call has reached Zoho (its fault fired), so a kill lands while
    /// zportal is waiting for the answer.
    async fn until_hanging(&self) {
        for _ in 0..400 {
            if self.control_get("faults").await["faults"]
                .as_array()
                .is_some_and(Vec::is_empty)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the call never reached the emulator");
    }

    /// The emulator's totals (`stats.total`).
    async fn totals(&self) -> Value {
        self.control_get("stats").await["total"].clone()
    }
}

/// Counts a restart survived, for the summary `cargo xtask test` prints.
fn survived(what: &str) {
    add_to_summary("restarts", what);
}

async fn signed_in_email(browser: &Browser, base: &str) -> Option<String> {
    let me: serde_json::Value = browser
        .get(&format!("{base}/api/session/me"))
        .await
        .json()
        .await
        .ok()?;
    me["active"]["email"].as_str().map(str::to_owned)
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits() {
    testkit::block_on(async {
        let mut solo = Solo::start().await;
        let base = solo.server.base.clone();
        let browser = Browser::new();
        browser.sign_in_at(&base, "ada@us.zportal.test").await;
        let list = format!("{base}/api/records/list?args[module]=Leads&args[per_page]=5");
        assert_eq!(
            browser.get(&list).await.status(),
            200,
            "warm: metadata cached"
        );

        // Zoho answers the next list (another page: the first is answered again for a few
        // seconds) slowly; SIGTERM arrives while zportal waits for it.
        let list = format!("{base}/api/records/list?args[module]=Leads&args[per_page]=6");
        solo.control(
            "faults",
            json!({"kind": "delay", "endpoint": "records", "count": 1, "delay_ms": 1500}),
        )
        .await;
        let in_flight = tokio::spawn({
            let http = browser.http.clone();
            let list = list.clone();
            async move { http.get(list).send().await.map(|r| r.status().as_u16()) }
        });
        solo.until_hanging().await;
        let term = Command::new("kill")
            .args(["-TERM", &solo.server.pid().to_string()])
            .status()
            .expect("kill");
        assert!(term.success());
        assert_eq!(
            in_flight.await.expect("task").expect("answered"),
            200,
            "the request in flight finished"
        );
        let status = solo
            .server
            .exit_status()
            .await
            .expect("the server exits after SIGTERM");
        assert!(status.success(), "a clean exit: {status}");
        assert!(
            reqwest::Client::new()
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_err(),
            "nothing listens any more"
        );
        survived("SIGTERM with a request in flight");
    });
}

#[test]
fn after_sigkill_and_a_restart_the_session_and_connection_carry_on() {
    testkit::block_on(async {
        let mut solo = Solo::start().await;
        let base = solo.server.base.clone();
        let browser = Browser::new();
        browser.sign_in_at(&base, "eva@eu.zportal.test").await;
        assert_eq!(
            signed_in_email(&browser, &base).await.as_deref(),
            Some("eva@eu.zportal.test")
        );

        solo.kill_and_restart().await;
        assert_eq!(
            signed_in_email(&browser, &base).await.as_deref(),
            Some("eva@eu.zportal.test"),
            "the same cookie is the same session after the restart"
        );
        // Zoho drops the access token: the restarted process refreshes and carries on.
        solo.control("tokens/expire", json!({"email": "eva@eu.zportal.test"}))
            .await;
        let res = browser
            .get(&format!(
                "{base}/api/records/list?args[module]=Leads&args[per_page]=5"
            ))
            .await;
        assert_eq!(res.status(), 200);
        survived("SIGKILL at rest");
    });
}

fn list_url(base: &str) -> String {
    testkit::server::leads_list_url(base, 5)
}

#[test]
fn sigkill_in_the_middle_of_a_sign_in_half_writes_nothing_and_signing_in_again_works() {
    testkit::block_on(async {
        let mut solo = Solo::start().await;
        let base = solo.server.base.clone();
        let browser = Browser::new();
        let res = browser.get(&format!("{base}/auth/zoho/start")).await;
        let back = browser
            .at_zoho(&location(&res), "ava@au.zportal.test", "accept")
            .await;
        // The code is exchanged and the user known; zportal waits for the org when it dies.
        solo.hang_next("org").await;
        let callback = tokio::spawn({
            let http = browser.http.clone();
            let back = back.clone();
            async move { http.get(back).send().await.map(|r| r.status()) }
        });
        solo.until_hanging().await;
        solo.kill_and_restart().await;
        assert!(callback.await.expect("task").is_err(), "died mid-callback");

        let store = solo.store().await;
        assert_eq!(store.connections().await, 0, "no half-made connection");
        assert_eq!(signed_in_email(&browser, &base).await, None);
        // The browser retries the callback: the code is spent, and the user is told so.
        let retried = browser.get(&back).await;
        assert_eq!(retried.status(), 303);
        assert!(
            location(&retried).starts_with("/auth/error?reason="),
            "{}",
            location(&retried)
        );
        // And signs in again.
        browser.sign_in_at(&base, "ava@au.zportal.test").await;
        assert_eq!(
            signed_in_email(&browser, &base).await.as_deref(),
            Some("ava@au.zportal.test")
        );
        assert_eq!(store.connections().await, 1);
        assert_eq!(browser.get(&list_url(&base)).await.status(), 200);
        assert_eq!(store.leases_taken().await, 0);
        survived("SIGKILL during a sign-in");
    });
}

#[test]
fn sigkill_in_the_middle_of_a_refresh_leaves_no_lease_taken() {
    testkit::block_on(async {
        let mut solo = Solo::start().await;
        let base = solo.server.base.clone();
        let browser = Browser::new();
        browser.sign_in_at(&base, "jun@jp.zportal.test").await;
        let store = solo.store().await;
        solo.control("tokens/expire", json!({"email": "jun@jp.zportal.test"}))
            .await;
        let before = solo.totals().await["refreshes"].as_u64().unwrap_or(0);

        // The refresh hangs at Zoho; the process dies holding the lease.
        solo.hang_next("refresh").await;
        let stuck = tokio::spawn({
            let http = browser.http.clone();
            let url = list_url(&base);
            async move { http.get(url).send().await.map(|r| r.status()) }
        });
        solo.until_hanging().await;
        assert_eq!(store.leases_taken().await, 1, "the lease is held");
        solo.kill_and_restart().await;
        assert!(stuck.await.expect("task").is_err(), "died mid-refresh");

        // The user carries on: the restarted process waits out the dead holder's lease,
        // refreshes once and answers.
        let res = browser.get(&list_url(&base)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(store.leases_taken().await, 0, "no lease stays taken");
        let after = solo.totals().await["refreshes"].as_u64().unwrap_or(0);
        assert_eq!(after - before, 1, "the interrupted refresh never completed");
        assert_eq!(
            signed_in_email(&browser, &base).await.as_deref(),
            Some("jun@jp.zportal.test")
        );
        survived("SIGKILL during a refresh");
    });
}

#[test]
fn sigkill_in_the_middle_of_a_save_loses_nothing_and_the_save_goes_through_once() {
    testkit::block_on(async {
        let mut solo = Solo::start().await;
        let base = solo.server.base.clone();
        let browser = Browser::new();
        browser.sign_in_at(&base, "cleo@ca.zportal.test").await;
        let form: Value = browser
            .get(&format!("{base}/api/records/form?module=Leads"))
            .await
            .json()
            .await
            .expect("form");
        let save = json!({"module": "Leads", "id": null, "save_token": form["save_token"],
            "values": {"Last_Name": {"kind": "Text", "value": "Survivor"}}});
        let post = |body: Value| {
            browser
                .http
                .post(format!("{base}/api/records/save"))
                .header("sec-fetch-site", "same-origin")
                .json(&body)
                .send()
        };
        let search = format!(
            "{base}/api/records/list?args[module]=Leads&args[text]=Survivor&args[per_page]=50"
        );

        // The insert hangs at Zoho; the process dies waiting for it.
        solo.hang_next("records").await;
        let stuck = tokio::spawn(post(save.clone()));
        solo.until_hanging().await;
        solo.kill_and_restart().await;
        assert!(stuck.await.expect("task").is_err(), "died mid-save");
        let found: Value = browser.get(&search).await.json().await.expect("json");
        assert_eq!(found["rows"], json!([]), "the hung insert never landed");

        // The user presses Save again with the same form: once the dead press's claim on it
        // lapses, this one creates the record.
        let res = post(save.clone()).await.expect("save");
        assert_eq!(res.status(), 200);
        let saved: Value = res.json().await.expect("json");
        let id = saved["Saved"]["id"].as_str().expect("saved").to_owned();
        let found: Value = browser.get(&search).await.json().await.expect("json");
        let rows = found["rows"].as_array().cloned().unwrap_or_default();
        assert_eq!(rows.len(), 1, "exactly one record: {found}");
        assert_eq!(rows[0]["id"], json!(id));
        assert_eq!(solo.store().await.leases_taken().await, 0);
        survived("SIGKILL during a save");
    });
}
