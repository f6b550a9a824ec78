//! The real `server` binary, stopped the ways production stops it: SIGTERM lets the request in
//! flight finish before the process exits; SIGKILL loses nothing that was stored — after a
//! restart on the same data directory the browser's session and its connection still work.

mod common;
mod runtime;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::json;

/// One `server` process on `port`, with the data directory and emulator given.
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

async fn wait_up(base: &str) {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not start");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Start → accept at the emulator → callback, against a server known only by its base URL.
async fn sign_in(browser: &Browser, base: &str, email: &str) {
    let res = browser.get(&format!("{base}/auth/zoho/start")).await;
    let mut auth = location(&res);
    loop {
        let back = browser.at_zoho(&auth, email, "accept").await;
        let next = browser.callback(&back).await;
        if !next.contains("/oauth/v2/auth") {
            return;
        }
        auth = next;
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
        let emulator = emulator::start(emulator::Options {
            addr: "127.0.0.1:0".parse().expect("addr"),
            state_file: None,
        })
        .await
        .expect("emulator");
        let dir = tempfile::tempdir().expect("dir");
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut child = spawn(port, dir.path(), &emulator.base_url);
        wait_up(&base).await;
        let browser = Browser::new();
        sign_in(&browser, &base, "ada@us.zportal.test").await;
        let list = format!("{base}/api/records/list?args[module]=Leads&args[per_page]=5");
        assert_eq!(
            browser.get(&list).await.status(),
            200,
            "warm: metadata cached"
        );

        // Zoho answers the next list slowly; SIGTERM arrives while zportal waits for it.
        let http = reqwest::Client::new();
        http.post(format!("{}/__emulator/faults", emulator.base_url))
            .json(&json!({"kind": "delay", "endpoint": "records", "count": 1, "delay_ms": 1500}))
            .send()
            .await
            .expect("fault");
        let in_flight = tokio::spawn({
            let http = browser.http.clone();
            let list = list.clone();
            async move { http.get(list).send().await.map(|r| r.status().as_u16()) }
        });
        tokio::time::sleep(Duration::from_millis(400)).await;
        let term = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
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
            if let Some(status) = child.try_wait().expect("wait") {
                exited = Some(status);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let status = exited.unwrap_or_else(|| {
            let _ = child.kill();
            panic!("the server did not exit after SIGTERM")
        });
        assert!(status.success(), "a clean exit: {status}");
        assert!(
            http.get(format!("{base}/healthz")).send().await.is_err(),
            "nothing listens any more"
        );
    });
}

#[test]
fn after_sigkill_and_a_restart_the_session_and_connection_carry_on() {
    runtime::block_on(async {
        let emulator = emulator::start(emulator::Options {
            addr: "127.0.0.1:0".parse().expect("addr"),
            state_file: None,
        })
        .await
        .expect("emulator");
        let dir = tempfile::tempdir().expect("dir");
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut child = spawn(port, dir.path(), &emulator.base_url);
        wait_up(&base).await;
        let browser = Browser::new();
        sign_in(&browser, &base, "eva@eu.zportal.test").await;
        assert_eq!(
            signed_in_email(&browser, &base).await.as_deref(),
            Some("eva@eu.zportal.test")
        );

        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        let mut child = spawn(port, dir.path(), &emulator.base_url);
        wait_up(&base).await;
        assert_eq!(
            signed_in_email(&browser, &base).await.as_deref(),
            Some("eva@eu.zportal.test"),
            "the same cookie is the same session after the restart"
        );
        // Zoho drops the access token: the restarted process refreshes and carries on.
        reqwest::Client::new()
            .post(format!("{}/__emulator/tokens/expire", emulator.base_url))
            .json(&json!({"email": "eva@eu.zportal.test"}))
            .send()
            .await
            .expect("expire");
        let res = browser
            .get(&format!(
                "{base}/api/records/list?args[module]=Leads&args[per_page]=5"
            ))
            .await;
        assert_eq!(res.status(), 200);
        let _ = child.kill();
        let _ = child.wait();
    });
}
