//! What one process changes, the others see within a second. Each server keeps sessions and
//! connections in memory (a warm request reads no database), so sign-out, disconnect, "needs
//! reconnect" and the CLI's `connections revoke` must reach the other processes' copies: over
//! PostgreSQL's NOTIFY between two real servers, and through SQLite's change log from the CLI to a
//! server on the same file. Each case waits with a generous bound and leaves the time it took
//! in the `coherence` summary (`cargo xtask test` prints it).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::server::process::client_with;
use testkit::server::*;

use crate::many_servers::{Cluster, cluster};

/// Far more than the second a change should take: a loaded CI machine must not fail this.
const BOUND: Duration = Duration::from_secs(10);

/// Waits until `check` holds, for at most [`BOUND`]; records how long it took as `what`.
async fn within<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < BOUND, "{what}: not seen within {BOUND:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    add_to_summary("coherence", &format!("{what}\t{ms:.0} ms"));
}

async fn me(client: &reqwest::Client, base: &str) -> Value {
    let res = client
        .get(format!("{base}/api/session/me"))
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

/// A header form's button: an empty form posted from this site.
async fn post(client: &reqwest::Client, url: String) {
    let res = client
        .post(url)
        .header("sec-fetch-site", "same-origin")
        .form(&[("return_to", "/")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 303);
}

/// ada signed in twice through A: two browsers on one connection.
async fn two_browsers(cluster: &Cluster) -> (reqwest::Client, reqwest::Client) {
    let first = client_with(&cluster.sign_in_on_a().await);
    let second = client_with(&cluster.sign_in_on_a().await);
    (first, second)
}

#[test]
fn a_sign_out_on_one_process_ends_the_session_on_the_other() {
    testkit::block_on(async {
        let Some(cluster) = cluster().await else {
            return;
        };
        let cookie = cluster.sign_in_on_a().await;
        let (on_a, on_b) = (client_with(&cookie), client_with(&cookie));
        // Both processes now hold the session in memory.
        assert_eq!(
            me(&on_a, &cluster.a.base).await["active"]["email"],
            "ada@us.zportal.test"
        );
        assert_eq!(
            me(&on_b, &cluster.b.base).await["active"]["email"],
            "ada@us.zportal.test"
        );

        post(&on_b, format!("{}/auth/signout", cluster.b.base)).await;
        assert_eq!(
            me(&on_b, &cluster.b.base).await,
            Value::Null,
            "at once where it happened"
        );
        within("postgres: sign-out reaches the other process", || async {
            me(&on_a, &cluster.a.base).await.is_null()
        })
        .await;
    })
}

#[test]
fn a_disconnect_on_one_process_reaches_another_browser_on_the_other() {
    testkit::block_on(async {
        let Some(cluster) = cluster().await else {
            return;
        };
        let (first, second) = two_browsers(&cluster).await;
        assert_eq!(
            me(&second, &cluster.b.base).await["active"]["email"],
            "ada@us.zportal.test"
        );

        post(&first, format!("{}/auth/disconnect", cluster.a.base)).await;
        within("postgres: disconnect reaches the other process", || async {
            me(&second, &cluster.b.base).await.is_null()
        })
        .await;
        let res = second
            .get(format!("{}/api/records/modules", cluster.b.base))
            .send()
            .await
            .expect("modules");
        assert_eq!(res.status(), 401, "the deleted connection is not used");
    })
}

#[test]
fn needs_reconnect_found_on_one_process_shows_on_the_other() {
    testkit::block_on(async {
        let Some(cluster) = cluster().await else {
            return;
        };
        let (first, second) = two_browsers(&cluster).await;
        let reconnect = |v: Value| v["active"]["needs_reconnect"] == true;
        assert!(!reconnect(me(&second, &cluster.b.base).await));
        // The access token lapses and Zoho refuses the refresh token: A finds out.
        cluster
            .control("clock/advance", json!({ "seconds": 3700 }))
            .await;
        cluster
            .control(
                "faults",
                json!({ "kind": "invalid_code", "endpoint": "refresh", "count": 100 }),
            )
            .await;
        let res = first
            .get(format!("{}/api/records/modules", cluster.a.base))
            .send()
            .await
            .expect("modules");
        assert_ne!(res.status(), 200);
        assert!(
            reconnect(me(&first, &cluster.a.base).await),
            "A knows at once"
        );
        within(
            "postgres: needs-reconnect reaches the other process",
            || async { reconnect(me(&second, &cluster.b.base).await) },
        )
        .await;
    })
}

#[test]
fn a_revocation_by_the_cli_reaches_every_running_server() {
    testkit::block_on(async {
        let Some(cluster) = cluster().await else {
            return;
        };
        let cookie = cluster.sign_in_on_a().await;
        let (on_a, on_b) = (client_with(&cookie), client_with(&cookie));
        let id = me(&on_a, &cluster.a.base).await["active"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        assert!(!me(&on_b, &cluster.b.base).await.is_null());

        let out = revoke(
            &[
                ("DATABASE_URL", cluster.database_url.as_str()),
                ("ZPORTAL_TOKEN_KEY", cluster.key.as_str()),
            ],
            &cluster.dir(),
            &cluster.emulator.base_url,
            &id,
        )
        .await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        within("postgres: CLI revoke reaches server A", || async {
            me(&on_a, &cluster.a.base).await.is_null()
        })
        .await;
        within("postgres: CLI revoke reaches server B", || async {
            me(&on_b, &cluster.b.base).await.is_null()
        })
        .await;
    })
}

/// `server connections revoke <id>` with `env`, the way an operator runs it.
async fn revoke(
    env: &[(&str, &str)],
    data_dir: &std::path::Path,
    emulator: &str,
    id: &str,
) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(testkit::server::process::server_binary());
    cmd.args(["connections", "revoke", id])
        .env("ZPORTAL_DATA_DIR", data_dir)
        .env("ZOHO_EMULATOR_URL", emulator)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied());
    cmd.output().await.expect("the CLI runs")
}

#[test]
fn on_sqlite_a_revocation_by_the_cli_reaches_the_server_through_the_change_log() {
    testkit::block_on(async {
        if postgres_url().await.is_some() {
            // The PostgreSQL run covers the CLI with the case above.
            return;
        }
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        let id = browser.signed_in(&stack).await["active"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        // Warm: the server holds session and connection in memory.
        assert!(!browser.signed_in(&stack).await.is_null());

        let out = revoke(&[], stack.dir.path(), &stack.emulator.base_url, &id).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        within("sqlite: CLI revoke reaches the server", || async {
            browser.signed_in(&stack).await.is_null()
        })
        .await;
    })
}
