//! `server connections import | list | revoke`, run as the real binary against the emulator: an
//! imported self-client code becomes a connection bound to the right user and org; `list` shows it
//! without any secret; `revoke` revokes it at Zoho and deletes it.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// The store every CLI run of this test uses: SQLite in the data directory, or on the PostgreSQL
/// run a fresh schema (with the token key every process must share).
static STORE: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();

fn server(
    data_dir: &std::path::Path,
    emulator: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String) {
    let mut child = Command::new(testkit::server::process::server_binary())
        .args(args)
        .env("ZPORTAL_DATA_DIR", data_dir)
        .env("ZOHO_EMULATOR_URL", emulator)
        .env("RUST_LOG", "warn")
        .envs(STORE.get().into_iter().flatten().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server binary");
    if let Some(input) = stdin
        && let Some(mut pipe) = child.stdin.take()
    {
        pipe.write_all(input.as_bytes()).expect("stdin");
    }
    let out = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn import_list_and_revoke_round_trip_without_printing_a_secret() {
    let emu = emulator::start(emulator::Options {
        addr: "127.0.0.1:0".parse().expect("addr"),
        state_file: None,
    })
    .await
    .expect("emulator");
    let base = emu.base_url.clone();
    let dir = tempfile::tempdir().expect("dir");
    let store = match testkit::postgres_url().await {
        Some(url) => vec![
            ("DATABASE_URL".to_owned(), url),
            (
                "ZPORTAL_TOKEN_KEY".to_owned(),
                keeper::vault::TokenCipher::generate_key_list(),
            ),
        ],
        None => Vec::new(),
    };
    let _ = STORE.set(store);
    let http = reqwest::Client::new();
    let grant: Value = http
        .post(format!("{base}/__emulator/self-client"))
        .json(&json!({"client_id": "1000.ZPORTALDEV", "email": "eva@eu.zportal.test", "scope": "ZohoCRM.modules.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ"}))
        .send()
        .await
        .expect("self-client")
        .json()
        .await
        .expect("json");
    let code = grant["code"].as_str().expect("code").to_owned();

    let d = dir.path().to_owned();
    let b = base.clone();
    let c = code.clone();
    let (ok, out) = tokio::task::spawn_blocking(move || {
        server(
            &d,
            &b,
            &[
                "connections",
                "import",
                "--dc",
                "eu",
                "--kind",
                "grant-code",
            ],
            Some(&c),
        )
    })
    .await
    .expect("join");
    assert!(ok, "{out}");
    assert!(
        out.contains("eva@eu.zportal.test") && out.contains("Euro GmbH"),
        "{out}"
    );
    assert!(!out.contains(&code));

    let d = dir.path().to_owned();
    let b = base.clone();
    let (ok, list) =
        tokio::task::spawn_blocking(move || server(&d, &b, &["connections", "list"], None))
            .await
            .expect("join");
    assert!(ok, "{list}");
    assert!(
        list.contains("eva@eu.zportal.test") && list.contains("70002") && list.contains("active"),
        "{list}"
    );
    assert!(!list.contains("1000."), "no token in the listing: {list}");
    let id = list.split('\t').next().expect("id").trim().to_owned();

    // A secret on the command line is not accepted: there is no such argument.
    let d = dir.path().to_owned();
    let b = base.clone();
    let (ok, _) = tokio::task::spawn_blocking(move || {
        server(
            &d,
            &b,
            &["connections", "import", "--dc", "eu", "--token", "1000.x.y"],
            None,
        )
    })
    .await
    .expect("join");
    assert!(!ok);

    let d = dir.path().to_owned();
    let b = base.clone();
    let (ok, out) =
        tokio::task::spawn_blocking(move || server(&d, &b, &["connections", "revoke", &id], None))
            .await
            .expect("join");
    assert!(ok, "{out}");
    let log: Value = http
        .get(format!("{base}/__emulator/requests"))
        .send()
        .await
        .expect("log")
        .json()
        .await
        .expect("json");
    let endpoints: Vec<&str> = log["requests"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["endpoint"].as_str())
        .collect();
    assert!(endpoints.contains(&"revoke"), "{endpoints:?}");
    let d = dir.path().to_owned();
    let (_, list) =
        tokio::task::spawn_blocking(move || server(&d, &base, &["connections", "list"], None))
            .await
            .expect("join");
    assert!(list.contains("no connections"), "{list}");
}
