//! Several server processes, one PostgreSQL: two real `server` binaries share a database and an
//! emulator (`coherence` uses the same pair). 200 concurrent calls across both after
//! the access token expired cost exactly one refresh; a process killed while holding the refresh
//! lease does not wedge the connection; 30 calls of one user across both stay within Zoho's
//! concurrency cap, every one answered; a write through one process ends the other's kept
//! answers of that org at once. Needs `ZPORTAL_TEST_POSTGRES_URL` (the xtask's PostgreSQL
//! run provides it; the SQLite run has nothing to share between processes and skips this file).

use std::time::Duration;

use serde_json::{Value, json};
use testkit::server::process::{ServerProcess, client_with};
use testkit::server::*;

/// Starts a server on a free port with the shared database, key and emulator.
async fn process(
    database_url: &str,
    key: &str,
    emulator: &str,
    data: &std::path::Path,
) -> ServerProcess {
    ServerProcess::start(&[
        ("DATABASE_URL", database_url),
        ("ZPORTAL_TOKEN_KEY", key),
        ("ZOHO_EMULATOR_URL", emulator),
        ("ZPORTAL_DATA_DIR", &data.to_string_lossy()),
        ("ZPORTAL_LEASE_TTL", "2s"),
    ])
    .await
}

pub(crate) struct Cluster {
    pub emulator: emulator::Running,
    pub database_url: String,
    /// The token key both processes (and a CLI run beside them) share.
    pub key: String,
    pub a: ServerProcess,
    pub b: ServerProcess,
    dir: tempfile::TempDir,
}

pub(crate) async fn cluster() -> Option<Cluster> {
    let Some(database_url) = postgres_url().await else {
        eprintln!("ZPORTAL_TEST_POSTGRES_URL is not set: the many-servers tests need PostgreSQL");
        return None;
    };
    let emulator = emulator::start(emulator::Options {
        addr: "127.0.0.1:0".parse().expect("addr"),
        state_file: None,
    })
    .await
    .expect("emulator");
    let key = keeper::vault::TokenCipher::generate_key_list();
    let dir = tempfile::tempdir().expect("dir");
    let a = process(
        &database_url,
        &key,
        &emulator.base_url,
        &dir.path().join("a"),
    )
    .await;
    let b = process(
        &database_url,
        &key,
        &emulator.base_url,
        &dir.path().join("b"),
    )
    .await;
    Some(Cluster {
        database_url,
        key,
        emulator,
        a,
        b,
        dir,
    })
}

impl Cluster {
    /// A data directory for a third process (a CLI run).
    pub fn dir(&self) -> std::path::PathBuf {
        self.dir.path().join("cli")
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        emulator_post(&self.emulator.base_url, path, body).await
    }

    async fn refreshes(&self) -> (u64, usize) {
        let stats = emulator_get(&self.emulator.base_url, "stats").await;
        let log = emulator_get(&self.emulator.base_url, "requests").await;
        let reached = log["requests"].as_array().map_or(0, |r| {
            r.iter().filter(|r| r["endpoint"] == "refresh").count()
        });
        (stats["total"]["refreshes"].as_u64().unwrap_or(0), reached)
    }

    /// Signs ada in through process A, the way a browser does; returns the session cookie.
    pub async fn sign_in_on_a(&self) -> String {
        let browser = Browser::new();
        let next = browser
            .sign_in_at(&self.a.base, "ada@us.zportal.test")
            .await;
        assert!(!next.starts_with("/auth/error"), "{next}");
        browser
            .session_cookie(&self.a.base)
            .expect("session cookie")
    }
}

/// 200 concurrent calls that need the access token, spread over `bases`.
async fn storm(cookie: &str, bases: &[&str]) -> Vec<(u16, String)> {
    let client = client_with(cookie);
    let calls = (0..200).map(|i| {
        let url = format!("{}/api/records/modules", bases[i % bases.len()]);
        let client = client.clone();
        async move {
            match client.get(&url).send().await {
                Ok(res) => {
                    let status = res.status().as_u16();
                    (status, res.text().await.unwrap_or_default())
                }
                Err(e) => (0, e.to_string()),
            }
        }
    });
    futures::future::join_all(calls).await
}

/// Every call of a storm answered 200.
fn all_succeed(results: Vec<(u16, String)>) {
    let failed: Vec<_> = results.iter().filter(|(s, _)| *s != 200).collect();
    assert!(
        failed.is_empty(),
        "{} failed, e.g. {:?}",
        failed.len(),
        failed.first()
    );
}

#[test]
fn two_hundred_calls_across_two_processes_after_expiry_cost_one_refresh() {
    testkit::block_on(async {
        let Some(cluster) = cluster().await else {
            return;
        };
        let cookie = cluster.sign_in_on_a().await;
        cluster
            .control("clock/advance", json!({ "seconds": 3700 }))
            .await;
        let (before, _) = cluster.refreshes().await;

        all_succeed(storm(&cookie, &[&cluster.a.base, &cluster.b.base]).await);
        let (after, _) = cluster.refreshes().await;
        assert_eq!(
            after - before,
            1,
            "exactly one refresh for 200 calls on two processes"
        );
    })
}

#[test]
fn thirty_calls_across_two_processes_against_a_cap_of_three_are_all_answered() {
    testkit::block_on(async {
        let Some(cluster) = cluster().await else {
            return;
        };
        let cookie = cluster.sign_in_on_a().await;
        let emulator = cluster.emulator.base_url.clone();
        crate::budget::tight_zoho(&emulator).await;
        // Each process may have 4 of ada's calls in flight: twice as many as Zoho takes, until
        // each one's bound shrinks on Zoho's 429s.
        let client = client_with(&cookie);
        let answers = crate::budget::burst(&client, &[&cluster.a.base, &cluster.b.base], 30).await;
        let failed: Vec<_> = answers.iter().filter(|(s, _)| *s != 200).collect();
        assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
        let (max_in_flight, refused) = crate::budget::ada_at_zoho(&emulator).await;
        assert!(
            (1..=3).contains(&max_in_flight),
            "Zoho saw {max_in_flight} at once"
        );
        assert!(refused >= 1, "two processes' bounds never met the cap");
    })
}

#[test]
fn a_process_killed_while_holding_the_lease_does_not_wedge_the_connection() {
    testkit::block_on(async {
        let Some(mut cluster) = cluster().await else {
            return;
        };
        let cookie = cluster.sign_in_on_a().await;
        cluster
            .control("clock/advance", json!({ "seconds": 3700 }))
            .await;
        let (before, reached_before) = cluster.refreshes().await;
        // A's refresh hangs at Zoho; A dies holding the lease.
        cluster
            .control(
                "faults",
                json!({ "kind": "delay", "endpoint": "refresh", "count": 1, "delay_ms": 8000 }),
            )
            .await;
        let on_a = client_with(&cookie);
        let url = format!("{}/api/records/modules", cluster.a.base);
        let stuck = tokio::spawn(async move { on_a.get(url).send().await.map(|r| r.status()) });
        // Wait until A holds the lease (its refresh is then waiting at Zoho).
        let db = sqlx::PgPool::connect(&cluster.database_url)
            .await
            .expect("pool");
        let mut held = false;
        for _ in 0..100 {
            let (holders,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM connections WHERE lease_holder IS NOT NULL")
                    .fetch_one(&db)
                    .await
                    .expect("lease");
            if holders == 1 {
                held = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(held, "A took the lease and started its refresh");
        cluster.a.kill();
        assert!(stuck.await.expect("task").is_err(), "A died mid-call");

        all_succeed(storm(&cookie, &[&cluster.b.base]).await);
        let (after, reached_after) = cluster.refreshes().await;
        assert_eq!(after - before, 1, "one refresh completed");
        assert!(
            reached_after - reached_before <= 2,
            "at most two reached Zoho"
        );
    })
}

#[test]
fn the_same_form_saved_on_both_processes_at_once_creates_one_record() {
    testkit::block_on(async {
        let Some(cluster) = cluster().await else {
            return;
        };
        let cookie = cluster.sign_in_on_a().await;
        let client = client_with(&cookie);
        let body = crate::budget::new_lead(&client, &cluster.a.base, "Twice Pressed").await;
        let inserts = || async {
            let stats = emulator_get(&cluster.emulator.base_url, "stats").await;
            stats["by_module"]["Leads"]["POST"].as_u64().unwrap_or(0)
        };
        let before = inserts().await;
        // A double click that a load balancer splits across the two processes.
        let presses = [
            &cluster.a.base,
            &cluster.b.base,
            &cluster.a.base,
            &cluster.b.base,
        ]
        .map(|base| {
            client
                .post(format!("{base}/api/records/save"))
                .header("sec-fetch-site", "same-origin")
                .json(&body)
                .send()
        });
        let mut ids = Vec::new();
        for res in futures::future::join_all(presses).await {
            let res = res.expect("save");
            assert_eq!(res.status(), 200);
            let out: Value = res.json().await.expect("json");
            ids.push(out["Saved"]["id"].as_str().expect("saved").to_owned());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "every press answers with the same record");
        assert_eq!(inserts().await, before + 1, "one insert reached Zoho");
    })
}

#[test]
fn a_write_through_one_process_is_seen_at_once_by_reads_on_the_other() {
    testkit::block_on(async {
        let Some(cluster) = cluster().await else {
            return;
        };
        let cookie = cluster.sign_in_on_a().await;
        let client = client_with(&cookie);
        let name = format!("Across{}", zoho::random_hex(4));
        let search = |base: &str| {
            let url = crate::budget::search_url(base, &name);
            let client = client.clone();
            async move {
                let page: Value = client
                    .get(url)
                    .send()
                    .await
                    .expect("search")
                    .json()
                    .await
                    .expect("json");
                crate::budget::rows(&page)
            }
        };
        assert_eq!(search(&cluster.b.base).await, 0);
        let seq = last_seq(&cluster.emulator.base_url).await;
        assert_eq!(search(&cluster.b.base).await, 0);
        assert!(
            crate::budget::reads_since(&cluster.emulator.base_url, seq)
                .await
                .is_empty(),
            "B answers the same search again itself"
        );
        crate::budget::save_lead(&client, &cluster.a.base, &name).await;
        // A's write reaches B over PostgreSQL's notifications; B reads anew.
        let mut found = 0;
        for _ in 0..50 {
            found = search(&cluster.b.base).await;
            if found == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            found, 1,
            "B sees A's new record within a second, not after its cache time"
        );
    })
}

async fn last_seq(emulator: &str) -> u64 {
    testkit::emulator_last_seq(emulator).await
}
