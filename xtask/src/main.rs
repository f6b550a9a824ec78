//! `cargo xtask`: the commands README gives users. Each installs what is missing (pinned, and
//! saying what and why), then runs: `dev` serves zportal on the embedded emulator and rebuilds on
//! change; `test` runs every check CI runs; `bench` measures a release build.

mod postgres;
mod site;
mod tools;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Build, run and test zportal")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run zportal on the embedded emulator at http://127.0.0.1:3000, rebuilding on change.
    Dev,
    /// Run every check: format, lints, Rust tests, and the browser tests against a release build.
    Test {
        /// Skip the Playwright suite (and the release build it needs).
        #[arg(long)]
        no_browser: bool,
    },
    /// Drive 54 users through two server processes on PostgreSQL for N seconds, checking that
    /// every answer is the asker's (`server/tests/load.rs`; `test` runs it for 20 s).
    Load {
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// Fuzz every target in fuzz/ for N seconds each (nightly toolchain, cargo-fuzz).
    Fuzz {
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// Measure a release build against the emulator; writes target/bench/report.{md,json}.
    Bench {
        /// Print each figure's change against bench/baseline.json.
        #[arg(long)]
        compare: bool,
        /// Seconds per load run.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Live sessions to create before measuring memory.
        #[arg(long, default_value_t = 10_000)]
        sessions: usize,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = Workspace::locate().and_then(|ws| match cli.command {
        Cmd::Dev => dev(&ws),
        Cmd::Test { no_browser } => test(&ws, !no_browser),
        Cmd::Load { seconds } => load(&ws, seconds),
        Cmd::Fuzz { seconds } => fuzz(&ws, seconds),
        Cmd::Bench {
            compare,
            seconds,
            sessions,
        } => bench(&ws, compare, seconds, sessions),
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The workspace and the directories the tasks use.
pub struct Workspace {
    pub root: PathBuf,
    pub target: PathBuf,
}

impl Workspace {
    fn locate() -> Result<Self> {
        // `cargo run` says at run time which checkout it ran from. The compile-time value can be
        // another checkout's: one target directory shared by two clones with the same xtask
        // sources reuses the binary built for the first.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest_dir
            .parent()
            .context("xtask lives one level below the workspace root")?
            .to_path_buf();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|p| if p.is_absolute() { p } else { root.join(p) })
            .unwrap_or_else(|| root.join("target"));
        Ok(Workspace { root, target })
    }

    /// A command run at the workspace root with the shared environment: the tools' PATH and the
    /// `LEPTOS_*` variables cargo-leptos sets, so plain cargo builds and cargo-leptos builds agree
    /// (a server built without them asks for the wrong WASM file and never hydrates).
    pub fn cmd(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root)
            .env("PATH", tools::path_with_tools(self));
        for (k, v) in leptos_env() {
            cmd.env(k, v);
        }
        cmd
    }

    fn cargo(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd("cargo");
        cmd.args(args);
        cmd
    }
}

/// The compile-time environment cargo-leptos gives a debug build of this workspace. Not
/// `LEPTOS_HASH_FILES` nor `LEPTOS_JS_MINIFY`: cargo-leptos reads those from the environment too,
/// and the release builds below hash and minify.
fn leptos_env() -> [(&'static str, &'static str); 7] {
    [
        ("LEPTOS_OUTPUT_NAME", "zportal"),
        ("LEPTOS_SITE_ROOT", "target/site"),
        ("LEPTOS_SITE_PKG_DIR", "pkg"),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:3000"),
        ("LEPTOS_RELOAD_PORT", "3001"),
        ("LEPTOS_LIB_DIR", "frontend"),
        ("LEPTOS_BIN_DIR", "server"),
    ]
}

/// The release site as it ships: the front end split into lazy chunks (the `split` feature makes
/// `#[lazy]` real; `--split` splits), every file name hashed (so `/pkg` is `immutable`), and the
/// server. Starts from an empty `pkg`, so no file of an earlier build is served or preloaded.
fn build_release_site(ws: &Workspace, why: &str) -> Result<()> {
    let pkg = ws.root.join("target/site/pkg");
    if pkg.exists() {
        std::fs::remove_dir_all(&pkg).with_context(|| format!("clearing {}", pkg.display()))?;
    }
    run(
        &format!("cargo leptos build --release --split --lib-features split ({why})"),
        ws.cargo(&[
            "leptos",
            "build",
            "--release",
            "--split",
            "--lib-features",
            "split",
        ])
        .env("LEPTOS_HASH_FILES", "true"),
    )?;
    site::precompress_and_report(&ws.root)
}

/// Runs `cmd`, failing with its description when it does not succeed.
pub fn run(what: &str, cmd: &mut Command) -> Result<()> {
    println!("\n==> {what}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start: {what}"))?;
    if !status.success() {
        bail!("failed ({status}): {what}");
    }
    Ok(())
}

fn dev(ws: &Workspace) -> Result<()> {
    tools::ensure_build_tools(ws)?;
    let data_dir = ws.root.join("data");
    std::fs::create_dir_all(&data_dir)?;
    run(
        "cargo leptos watch --split --lib-features split (zportal on http://127.0.0.1:3000, Zoho emulator embedded)",
        ws.cmd("cargo")
            // Split as the release is: the lazy pages and the board are WASM chunks of their own.
            .args(["leptos", "watch", "--split", "--lib-features", "split"])
            // Development: the one setting in which the embedded emulator is the default.
            .env("LEPTOS_ENV", "DEV")
            .env("ZPORTAL_DATA_DIR", &data_dir),
    )
}

/// The fuzz targets, each for `seconds`; fails on the first crash (its input is kept under
/// fuzz/artifacts/).
fn fuzz(ws: &Workspace, seconds: u64) -> Result<()> {
    tools::ensure_fuzz_tools(ws)?;
    let out = ws
        .cargo(&["+nightly", "fuzz", "list"])
        .output()
        .context("cargo fuzz list")?;
    let list = String::from_utf8_lossy(&out.stdout);
    let targets: Vec<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if !out.status.success() || targets.is_empty() {
        bail!(
            "cargo fuzz list found no targets: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for target in &targets {
        run(
            &format!("fuzz {target} for {seconds} s"),
            &mut ws.cargo(&[
                "+nightly",
                "fuzz",
                "run",
                target,
                "--",
                &format!("-max_total_time={seconds}"),
            ]),
        )?;
    }
    println!(
        "\nxtask: {} fuzz targets ran {seconds} s each; nothing found",
        targets.len()
    );
    Ok(())
}

/// Builds the release site, server, emulator and bench, then runs the bench on loopback.
fn bench(ws: &Workspace, compare: bool, seconds: u64, sessions: usize) -> Result<()> {
    tools::ensure_build_tools(ws)?;
    tools::ensure_browser_tools(ws)?;
    tools::ensure_bench_browser_packages(ws)?;
    tools::ensure_wrk(ws)?;
    build_release_site(ws, "the site and server under test")?;
    run(
        "cargo build --release -p emulator -p bench",
        ws.cargo(&[
            "build",
            "--locked",
            "--release",
            "-p",
            "emulator",
            "-p",
            "bench",
        ])
        // The flags cargo-leptos builds the server with, so the two builds share dependencies.
        .env("RUSTFLAGS", "--cfg erase_components"),
    )?;
    let release = ws.target.join("release");
    let mut cmd = ws.cmd(&release.join("bench").to_string_lossy());
    cmd.arg("--server")
        .arg(release.join("server"))
        .arg("--emulator")
        .arg(release.join("emulator"))
        .arg("--site-root")
        .arg(ws.root.join("target/site"))
        .arg("--browser-dir")
        .arg(ws.root.join("bench/browser"))
        .env("CHROME_PATH", tools::chromium_path()?)
        .arg("--out")
        .arg(ws.root.join("target/bench"))
        .arg("--seconds")
        .arg(seconds.to_string())
        .arg("--sessions")
        .arg(sessions.to_string());
    if compare {
        cmd.arg("--compare")
            .arg(ws.root.join("bench/baseline.json"));
    }
    run("bench", &mut cmd)
}

/// Packages built for the server side, in one cargo call so `app` gets `ssr` only.
const SERVER_PACKAGES: &[&str] = &[
    "-p", "app", "-p", "zoho", "-p", "keeper", "-p", "emulator", "-p", "testkit", "-p", "server",
    "-p", "xtask", "-p", "bench",
];

fn test(ws: &Workspace, browser: bool) -> Result<()> {
    tools::ensure_build_tools(ws)?;
    tools::ensure_python_venv(ws)?;
    if browser {
        tools::ensure_browser_tools(ws)?;
    }

    run(
        "cargo fmt --check",
        &mut ws.cargo(&["fmt", "--all", "--check"]),
    )?;
    let mut clippy_server = ws.cargo(&["clippy", "--locked", "--all-targets"]);
    clippy_server
        .args(SERVER_PACKAGES)
        .args(["--", "-D", "warnings"]);
    run("clippy, server side (ssr)", &mut clippy_server)?;
    // Both front ends: the plain one `cargo leptos watch` builds, and the split one that ships.
    for features in [&[][..], &["--features", "split"]] {
        run(
            &format!(
                "clippy, browser side (wasm32, hydrate) {}",
                features.join(" ")
            ),
            ws.cargo(&[
                "clippy",
                "--locked",
                "-p",
                "frontend",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .args(features)
            .args(["--", "-D", "warnings"]),
        )?;
    }
    check_wasm_dependencies(ws)?;
    check_protocol_crate_stores_nothing(ws)?;

    let binaries = build_tests(ws)?;
    let mut tests = ws.cargo(&["test", "--locked"]);
    // One test at a time within each test binary: Leptos keeps process-wide rendering state, and
    // two *different* apps rendering at once in one process (as parallel tests build them) can
    // leave a page's stream waiting forever. A real server runs one app, and renders it
    // concurrently without trouble.
    tests.args(SERVER_PACKAGES).args(["--", "--test-threads=1"]);
    // The suites write their summaries afresh; an old one must not stand in for a run.
    clear_summaries(ws);
    run("Rust tests (SQLite store)", &mut tests)?;
    let hostile = summary(ws, "hostile")?;
    let faults = summary(ws, "faults")?;
    let restarts_sqlite = summary(ws, "restarts")?.lines().count();
    let mut coherence = summary(ws, "coherence")?;
    let mut hardening = summary(ws, "hardening")?;

    // The suites that touch storage, again on PostgreSQL (every test in a fresh schema), plus
    // the tests that need several server processes sharing one database: among them the load
    // test, for 20 seconds here.
    clear_summaries(ws);
    let database = postgres::provision(ws)?;
    println!("\n==> Rust tests (PostgreSQL store): keeper's and server's test binaries, as built");
    for test in binaries
        .iter()
        .filter(|t| t.package == "keeper" || t.package == "server")
    {
        run(
            &format!("{} ({}) on PostgreSQL", test.name, test.package),
            ws.cmd(&test.path.to_string_lossy())
                .current_dir(&test.package_dir)
                .env("ZPORTAL_TEST_POSTGRES_URL", &database.url)
                .env("ZPORTAL_LOAD_SECONDS", "20")
                .arg("--test-threads=1"),
        )?;
    }
    drop(database);
    let restarts_postgres = summary(ws, "restarts")?.lines().count();
    let load = summary(ws, "load")?;
    coherence.push_str(&summary(ws, "coherence")?);
    hardening.push_str(&summary(ws, "hardening")?);

    let tried: u32 = hostile
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, _)| n.parse::<u32>().context("the hostile summary counts"))
        .sum::<Result<u32>>()?;
    println!(
        "\nhostile inputs tried: {tried} in {} cases; every one refused cleanly (no 5xx, no echo, server up)",
        hostile.lines().count()
    );
    // Each rule's test records it once per store it ran on.
    let rules: std::collections::BTreeSet<&str> = hardening.lines().collect();
    println!("hardening: {} rules tested, all held", rules.len());
    println!("\n==> Faults, restarts and load");
    let mut rows = vec![
        ("figure".to_owned(), "value".to_owned()),
        ("---".to_owned(), "---".to_owned()),
    ];
    let (mut total, mut parts) = (0, Vec::new());
    for (n, what) in faults.lines().filter_map(|l| l.split_once(' ')) {
        total += n.parse::<u32>().context("the faults summary counts")?;
        parts.push(format!("{n} {what}"));
    }
    rows.push((
        "faults injected and survived".to_owned(),
        format!("{total} ({})", parts.join("; ")),
    ));
    rows.push((
        "restarts survived".to_owned(),
        format!(
            "{} ({restarts_sqlite} on SQLite, {restarts_postgres} on PostgreSQL)",
            restarts_sqlite + restarts_postgres
        ),
    ));
    rows.extend(figures(&load));
    rows.extend(
        coherence
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(what, took)| (format!("cross-process: {what}"), took.to_owned())),
    );
    for (figure, value) in rows {
        println!("| {figure} | {value} |");
    }

    if browser {
        // The plain build first, so the split, hashed one that ships is what `target/site` and
        // the hash file beside the server hold at the end.
        plain_build_hydrates(ws)?;
        build_release_site(ws, "the site the browser tests use")?;
        check_wasm_has_no_secrets(ws)?;
        let first_visit = ws.target.join("tmp/first-visit.json");
        let _ = std::fs::remove_file(&first_visit);
        end_to_end(ws, &first_visit)?;
        site::gate_first_visit(&ws.root, &first_visit)?;
    }
    println!("\nxtask: every check passed");
    Ok(())
}

/// A test binary `cargo test` built.
struct TestBinary {
    /// The package's directory name (each is its package's name here).
    package: String,
    /// The test target's name.
    name: String,
    path: PathBuf,
    package_dir: PathBuf,
}

/// Builds the server side's tests once, for both stores' runs. Running the PostgreSQL suites as
/// `cargo test -p keeper -p server` would unify features differently from the whole set of
/// packages and rebuild much of the tree (1 min 49 s on a new 2-core machine); the binaries built
/// here run as they are instead.
fn build_tests(ws: &Workspace) -> Result<Vec<TestBinary>> {
    println!("\n==> building the Rust tests (both stores run these binaries)");
    let out = ws
        .cargo(&[
            "test",
            "--locked",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .args(SERVER_PACKAGES)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cargo test --no-run")?;
    if !out.status.success() {
        bail!("building the tests failed ({})", out.status);
    }
    let mut binaries = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let is_test =
            message["reason"] == "compiler-artifact" && message["profile"]["test"] == true;
        let (Some(path), Some(manifest), Some(name)) = (
            message["executable"].as_str(),
            message["manifest_path"].as_str(),
            message["target"]["name"].as_str(),
        ) else {
            continue;
        };
        let package_dir = PathBuf::from(manifest)
            .parent()
            .context("a manifest has a directory")?
            .to_path_buf();
        if is_test {
            binaries.push(TestBinary {
                package: package_dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                name: name.to_owned(),
                path: PathBuf::from(path),
                package_dir,
            });
        }
    }
    for package in ["keeper", "server"] {
        if !binaries.iter().any(|t| t.package == package) {
            bail!("cargo test --no-run listed no {package} test binary to run on PostgreSQL");
        }
    }
    Ok(binaries)
}

/// The conventional way works: a plain `cargo leptos end-to-end --release` (no `--split`, no
/// hashed names: the build a Leptos developer makes) builds the site, starts the server itself,
/// and its WASM hydrates in the browser. The server binary is the one the split build makes too
/// (the `split` feature is the front end's alone), so of the two builds only the WASM differs. On
/// its own address and data, so a `cargo xtask dev` on :3000 is not disturbed.
fn plain_build_hydrates(ws: &Workspace) -> Result<()> {
    let data_dir = ws.target.join("e2e-plain-data");
    if data_dir.exists() {
        std::fs::remove_dir_all(&data_dir)?;
    }
    let pkg = ws.root.join("target/site/pkg");
    if pkg.exists() {
        std::fs::remove_dir_all(&pkg)?;
    }
    run(
        "cargo leptos end-to-end --release (the plain build, on the server cargo-leptos starts)",
        ws.cargo(&["leptos", "end-to-end", "--release"])
            .env(
                "LEPTOS_END2END_CMD",
                "npx playwright test tests/plain.spec.ts",
            )
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:3460")
            .env("LEPTOS_RELOAD_PORT", "3462")
            // A release server runs the embedded emulator only when asked (README).
            .env("ZOHO_EMULATOR", "1")
            .env("ZOHO_EMULATOR_ADDR", "127.0.0.1:3461")
            .env("ZPORTAL_DATA_DIR", &data_dir)
            .env("CHROMIUM_PATH", tools::chromium_path()?),
    )
}

/// Suites that leave a summary in the test target's tmp directory for the xtask to print.
const SUMMARIES: &[&str] = &[
    "hostile",
    "faults",
    "restarts",
    "load",
    "coherence",
    "hardening",
];

fn clear_summaries(ws: &Workspace) {
    for suite in SUMMARIES {
        let _ = std::fs::remove_file(ws.target.join(format!("tmp/{suite}-summary.txt")));
    }
}

/// The summary a suite wrote on its last run; missing means the suite did not run.
fn summary(ws: &Workspace, suite: &str) -> Result<String> {
    let file = ws.target.join(format!("tmp/{suite}-summary.txt"));
    std::fs::read_to_string(&file)
        .with_context(|| format!("the {suite} suite left no summary at {}", file.display()))
}

/// The `figure: value` lines of a summary.
fn figures(summary: &str) -> Vec<(String, String)> {
    summary
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The load test alone, for `seconds`, on PostgreSQL.
fn load(ws: &Workspace, seconds: u64) -> Result<()> {
    let database = postgres::provision(ws)?;
    let _ = std::fs::remove_file(ws.target.join("tmp/load-summary.txt"));
    run(
        &format!("load test ({seconds} s)"),
        ws.cargo(&["test", "--locked", "-p", "server", "--test", "load"])
            .env("ZPORTAL_TEST_POSTGRES_URL", &database.url)
            .env("ZPORTAL_LOAD_SECONDS", seconds.to_string())
            .args(["--", "--nocapture"]),
    )?;
    drop(database);
    for (figure, value) in figures(&summary(ws, "load")?) {
        println!("| {figure} | {value} |");
    }
    Ok(())
}

/// The WASM bundle must not pull in server-only crates.
fn check_wasm_dependencies(ws: &Workspace) -> Result<()> {
    println!("\n==> WASM dependency boundary");
    let server_only = [
        "reqwest",
        "sqlx",
        "tokio",
        "aes-gcm",
        "zoho",
        "keeper",
        "tower-sessions",
    ];
    let tree = &[
        "-p",
        "frontend",
        "--target",
        "wasm32-unknown-unknown",
        "-e",
        "normal",
    ];
    let found = depended_on(ws, tree, &server_only)?;
    if !found.is_empty() {
        bail!("the WASM build depends on server-only crates: {found:?}");
    }
    println!("the WASM build holds none of {}", server_only.join(", "));
    Ok(())
}

/// `zoho` is Zoho's protocol only: it must not depend on storage (that is keeper's).
fn check_protocol_crate_stores_nothing(ws: &Workspace) -> Result<()> {
    println!("\n==> zoho stores nothing");
    let storage = ["sqlx", "keeper", "tower-sessions"];
    let found = depended_on(ws, &["-p", "zoho", "-e", "normal,build"], &storage)?;
    if !found.is_empty() {
        bail!("zoho depends on storage crates: {found:?}");
    }
    println!("zoho depends on none of {}", storage.join(", "));
    Ok(())
}

/// Which of `names` are in `cargo tree` with `args` (package, target, edge kinds).
fn depended_on<'a>(ws: &Workspace, args: &[&str], names: &[&'a str]) -> Result<Vec<&'a str>> {
    let out = ws
        .cargo(&["tree", "--locked", "--prefix", "none"])
        .args(args)
        .output()
        .context("cargo tree")?;
    if !out.status.success() {
        bail!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let tree = String::from_utf8_lossy(&out.stdout);
    Ok(names
        .iter()
        .copied()
        .filter(|name| tree.lines().any(|l| l.starts_with(&format!("{name} v"))))
        .collect())
}

/// The bundle a browser downloads must not carry a secret or the names that guard one.
fn check_wasm_has_no_secrets(ws: &Workspace) -> Result<()> {
    println!("\n==> secrets in the release WASM");
    let pkg = ws.root.join("target/site/pkg");
    let needles: [&[u8]; 5] = [
        b"zportal-dev-secret",
        b"us-only-secret",
        b"client_secret",
        b"ZPORTAL_TOKEN_KEY",
        b"ZOHO_CLIENT_SECRET",
    ];
    for entry in std::fs::read_dir(&pkg).with_context(|| format!("reading {}", pkg.display()))? {
        let path = entry?.path();
        let bytes = std::fs::read(&path)?;
        for needle in needles {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                bail!(
                    "{} contains {:?}",
                    path.display(),
                    String::from_utf8_lossy(needle)
                );
            }
        }
    }
    println!("no secret and no secret-bearing name in {}", pkg.display());
    Ok(())
}

/// Runs the Playwright suite against the release build, each run with fresh data.
fn end_to_end(ws: &Workspace, first_visit: &std::path::Path) -> Result<()> {
    let data_dir = ws.target.join("e2e-data");
    if data_dir.exists() {
        std::fs::remove_dir_all(&data_dir)?;
    }
    std::fs::create_dir_all(&data_dir)?;
    let server = ws.target.join("release/server");
    if !server.exists() {
        bail!("no release server at {}", server.display());
    }
    // Live pages across two server processes: the suite starts them on a database of its own.
    let database = postgres::provision(ws)?;
    let mut cmd = ws.cmd("npx");
    cmd.current_dir(ws.root.join("end2end"))
        .args(["playwright", "test"])
        .env("ZPORTAL_E2E_POSTGRES_URL", &database.url)
        .env("ZPORTAL_E2E_SERVER", &server)
        .env("ZPORTAL_E2E_SITE_ROOT", ws.root.join("target/site"))
        .env("ZPORTAL_E2E_DATA_DIR", &data_dir)
        .env("ZPORTAL_E2E_FIRST_VISIT", first_visit)
        .env("CHROMIUM_PATH", tools::chromium_path()?);
    run("Playwright (Chromium, release build)", &mut cmd)
}
