//! What zportal's tests share, so no crate keeps its own copy: a fresh PostgreSQL schema when the
//! run has a test database ([`postgres_url`]), an emulator on a free loopback port
//! ([`emulator`]), one tokio runtime per test binary ([`block_on`]), where the test target keeps
//! its files ([`target_dir`]), and — with feature `server` — a real zportal in front of the
//! emulator with a client that walks the sign-in as a browser does ([`server`]); and each crate's
//! module graph, for the tests of its shape ([`modules`]).

pub mod modules;
#[cfg(feature = "server")]
pub mod server;

use std::future::Future;
use std::path::PathBuf;
use std::sync::LazyLock;

/// With `ZPORTAL_TEST_POSTGRES_URL` set (as `cargo xtask test` does on its PostgreSQL run), the URL
/// of a fresh schema in that database; `None` otherwise (the suites then run on SQLite).
pub async fn postgres_url() -> Option<String> {
    let url = std::env::var("ZPORTAL_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let schema = format!("t_{:016x}", rand::random::<u64>());
    let admin = sqlx::PgPool::connect(&url).await.expect("test PostgreSQL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .expect("a fresh schema");
    admin.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{sep}options[search_path]={schema}"))
}

/// A fresh emulator on a free port of 127.0.0.1, keeping its state in `state_file` if given.
pub async fn emulator_with(state_file: Option<PathBuf>) -> emulator::Running {
    emulator::start(emulator::Options {
        addr: "127.0.0.1:0".parse().expect("addr"),
        state_file,
    })
    .await
    .expect("emulator starts")
}

/// A fresh emulator on a free port of 127.0.0.1, in memory only.
pub async fn emulator() -> emulator::Running {
    emulator_with(None).await
}

/// The requests the emulator at `base` logged after number `since`, oldest first.
pub async fn emulator_requests(base: &str, since: u64) -> Vec<serde_json::Value> {
    reqwest::get(format!("{base}/__emulator/requests?since={since}"))
        .await
        .expect("the request log")
        .json::<serde_json::Value>()
        .await
        .expect("json")["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The number of the newest request the emulator at `base` logged (0 before any).
pub async fn emulator_last_seq(base: &str) -> u64 {
    emulator_requests(base, 0)
        .await
        .last()
        .and_then(|r| r["seq"].as_u64())
        .unwrap_or(0)
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
});

/// Runs `f` to completion on the one runtime of this test binary. Leptos keeps process-wide
/// state (its task spawner among it): a runtime per test would let a render wait on a runtime
/// that another test has already shut down.
pub fn block_on<F: Future>(f: F) -> F::Output {
    RUNTIME.block_on(f)
}

/// The target directory this test binary was built into (`…/target`, whatever
/// `CARGO_TARGET_DIR` says): test binaries live in `<target>/<profile>/deps`.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(3)
        .expect("<target>/<profile>/deps/<test binary>")
        .to_path_buf()
}

/// Adds `line` to the summary of `suite` (`<suite>-summary.txt` in the test target's tmp
/// directory), which `cargo xtask test` clears before a run and prints after it.
pub fn add_to_summary(suite: &str, line: &str) {
    use std::io::Write;
    let dir = target_dir().join("tmp");
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join(format!("{suite}-summary.txt"));
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
    {
        let _ = writeln!(f, "{line}");
    }
}
