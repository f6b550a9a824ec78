//! The real `server` binary, stopped the ways production stops it: SIGTERM lets the request in
//! flight finish before the process exits; SIGKILL loses nothing that was stored — after a
//! restart on the same data directory the browser's session and its connection still work.

mod common;
mod runtime;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::json;

/// One `server` process against an in-process emulator, with its own data directory and port —
/// which a restart keeps.
struct Solo {
    emulator: emulator::Running,
    dir: tempfile::TempDir,
    port: u16,
    base: String,
    child: Child,
}

impl Drop for Solo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Self::spawn(port, dir.path(), &emulator.base_url);
        let solo = Solo {
            base: format!("http://127.0.0.1:{port}"),
            emulator,
            dir,
            port,
            child,
        };
        solo.wait_up().await;
        solo
    }

    fn spawn(port: u16, data: &std::path::Path, emulator: &str) -> Child {
        Command::new(env!("CARGO_BIN_EXE_server"))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("ZOHO_EMULATOR_URL", emulator)
            .env("ZPORTAL_DATA_DIR", data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("server binary")
    }

    async fn wait_up(&self) {
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server at {} did not start", self.base);
    }

    /// SIGKILL, then the same binary on the same port, data and emulator.
    async fn kill_and_restart(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
        self.child = Self::spawn(self.port, self.dir.path(), &self.emulator.base_url);
        self.wait_up().await;
    }

    async fn control(&self, path: &str, body: serde_json::Value) {
        let res = reqwest::Client::new()
            .post(format!("{}/__emulator/{path}", self.emulator.base_url))
            .json(&body)
            .send()
            .await
            .expect("control");
        assert!(res.status().is_success(), "{path}");
    }
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
    runtime::block_on(async {
        let mut solo = Solo::start().await;
        let base = solo.base.clone();
        let browser = Browser::new();
        browser.sign_in_at(&base, "ada@us.zportal.test").await;
        let list = format!("{base}/api/records/list?args[module]=Leads&args[per_page]=5");
        assert_eq!(
            browser.get(&list).await.status(),
            200,
            "warm: metadata cached"
        );

        // Zoho answers the next list slowly; SIGTERM arrives while zportal waits for it.
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
        tokio::time::sleep(Duration::from_millis(400)).await;
        let term = Command::new("kill")
            .args(["-TERM", &solo.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(term.success());
        assert_eq!(
            in_flight.await.expect("task").expect("answered"),
            200,
            "the request in flight finished"
        );
        let mut exited = None;
        for _ in 0..100 {
            if let Some(status) = solo.child.try_wait().expect("wait") {
                exited = Some(status);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let status = exited.expect("the server exits after SIGTERM");
        assert!(status.success(), "a clean exit: {status}");
        assert!(
            reqwest::Client::new()
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_err(),
            "nothing listens any more"
        );
    });
}

#[test]
fn after_sigkill_and_a_restart_the_session_and_connection_carry_on() {
    runtime::block_on(async {
        let mut solo = Solo::start().await;
        let base = solo.base.clone();
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
    });
}
