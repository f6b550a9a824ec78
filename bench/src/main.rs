//! `bench`: measures a release zportal against the emulator in one run and writes
//! `report.md`, `report.json` and `throughput.svg`. Started by `cargo xtask bench`, which builds
//! the binaries first. Figures are reported (and compared with a baseline), never asserted.

mod live;
mod pages;
mod report;
mod stack;
mod wrk;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use futures::future::join_all;
use serde_json::json;

use report::{CLIENTS, Figures, STORMS};
use stack::{Binaries, Browser, Stack};
use wrk::Wrk;

#[derive(Parser)]
#[command(name = "bench", about = "Measure zportal against its emulator")]
struct Cli {
    /// The release `server` binary.
    #[arg(long)]
    server: PathBuf,
    /// The release `emulator` binary.
    #[arg(long)]
    emulator: PathBuf,
    /// The built site (`target/site`), served by the server and measured for its WASM size.
    #[arg(long)]
    site_root: PathBuf,
    /// `bench/browser`, with its npm packages installed (Lighthouse, playwright-core).
    #[arg(long)]
    browser_dir: PathBuf,
    /// Where the report goes.
    #[arg(long)]
    out: PathBuf,
    /// A baseline `report.json` to compare every figure with.
    #[arg(long)]
    compare: Option<PathBuf>,
    /// Seconds per load run.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Live sessions to create (by complete sign-ins) before measuring memory.
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
}

/// The seeded users, one or more per data center: sign-ins spread over all of them.
pub(crate) const USERS: [&str; 10] = [
    "ada@us.zportal.test",
    "ben@us.zportal.test",
    "eva@eu.zportal.test",
    "ish@in.zportal.test",
    "ava@au.zportal.test",
    "jun@jp.zportal.test",
    "cleo@ca.zportal.test",
    "sami@sa.zportal.test",
    "chen@cn.zportal.test",
    "uma@uk.zportal.test",
];

/// Browsers signing in at once.
const SIGN_IN_CONCURRENCY: usize = 8;

/// The list both sides serve: Leads, the default columns, newest first, 20 rows.
const LIST_QUERY: &str = "args[module]=Leads&args[sort]=id&args[ascending]=false&args[per_page]=20&args[page]=1&args[match_any]=false";
const DIRECT_QUERY: &str =
    "fields=Full_Name,Company,Email,Lead_Status&sort_by=id&sort_order=desc&per_page=20&page=1";

fn step(what: &str) {
    println!("bench: {what}");
    let _ = std::io::stdout().flush();
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let started = Instant::now();
    // A thousand concurrent calls need a thousand sockets here and in the server (a child
    // inherits the limit).
    rlimit::increase_nofile_limit(65_536).context("raising RLIMIT_NOFILE")?;
    std::fs::create_dir_all(&cli.out)?;
    let work = tempdir()?;
    let wrk = Wrk::new(&work)?;
    let stack = Stack::start(
        &Binaries {
            server: &cli.server,
            emulator: &cli.emulator,
            site_root: &cli.site_root,
        },
        &work,
    )
    .await?;
    let time = Duration::from_secs(cli.seconds);
    let mut f = Figures::default();

    tokio::time::sleep(Duration::from_secs(1)).await;
    f.set("memory.idle_rss_mb", stack.server.rss_mb()?);

    // Sessions first, so their memory is measured before the load runs grow the heap.
    stack.lift_limits().await?;
    step(&format!(
        "{} sign-ins, {SIGN_IN_CONCURRENCY} at a time",
        cli.sessions
    ));
    let (done, elapsed) = sign_in_many(&stack.server.base, cli.sessions).await?;
    f.set("sign_in.per_second", done as f64 / elapsed.as_secs_f64());
    f.set("sign_in.concurrency", SIGN_IN_CONCURRENCY as f64);
    tokio::time::sleep(Duration::from_millis(500)).await;
    f.set("memory.sessions_rss_mb", stack.server.rss_mb()?);
    f.set("memory.live_sessions", live_sessions(&stack).await?);

    step("signing in ada");
    let ada = Browser::new()?;
    ada.sign_in(&stack.server.base, USERS[0]).await?;
    let cookie = format!("Cookie: {}", ada.cookie_header(&stack.server.base)?);
    let via_zportal = format!("{}/api/records/list?{LIST_QUERY}", stack.server.base);
    // One call first: it fills zportal's caches (the access token, Leads' metadata).
    let first = ada.http.get(&via_zportal).send().await?;
    if !first.status().is_success() {
        bail!(
            "records/list through zportal: HTTP {}: {}",
            first.status(),
            first.text().await.unwrap_or_default()
        );
    }
    let token = stack.stored_access_token(USERS[0]).await?;
    let direct = format!(
        "{}/crm/v8/Leads?{DIRECT_QUERY}",
        stack.api_domain("us").await?
    );
    let auth = format!("Authorization: Zoho-oauthtoken {token}");

    for c in CLIENTS {
        step(&format!(
            "proxy overhead at {c} clients (three runs each way)"
        ));
        let (mut z, mut d) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            z.push(wrk.run(&via_zportal, c, time, std::slice::from_ref(&cookie))?);
            d.push(wrk.run(&direct, c, time, std::slice::from_ref(&auth))?);
        }
        // Single runs vary by ±20 % here: each figure is the median of the runs.
        let m = |runs: &[wrk::Run], of: fn(&wrk::Run) -> f64| median(runs.iter().map(of));
        let ratios = z.iter().zip(&d).map(|(z, d)| z.rps() / d.rps());
        let p = format!("proxy.c{c}");
        f.set(format!("{p}.zportal_rps"), m(&z, wrk::Run::rps));
        f.set(format!("{p}.direct_rps"), m(&d, wrk::Run::rps));
        f.set(format!("{p}.ratio"), median(ratios));
        f.set(format!("{p}.zportal_p50_ms"), m(&z, wrk::Run::p50_ms));
        f.set(format!("{p}.zportal_p99_ms"), m(&z, wrk::Run::p99_ms));
        f.set(format!("{p}.direct_p50_ms"), m(&d, wrk::Run::p50_ms));
        f.set(format!("{p}.direct_p99_ms"), m(&d, wrk::Run::p99_ms));
        let added = |of: fn(&wrk::Run) -> f64| median(z.iter().zip(&d).map(|(z, d)| of(z) - of(d)));
        f.set(format!("{p}.added_p50_ms"), added(wrk::Run::p50_ms));
        f.set(format!("{p}.added_p99_ms"), added(wrk::Run::p99_ms));
    }

    step("where a proxied list's time goes (Server-Timing of 500 calls)");
    for (part, ms) in breakdown(&ada.http, &via_zportal, 500).await? {
        f.set(format!("breakdown.{part}_ms"), ms);
    }

    step("a revocation by the CLI reaching the running server");
    f.set(
        "coherence.cli_revoke_ms",
        cli_revoke_reaches_server(&stack).await?,
    );

    step(&format!(
        "change-to-browser latency with {} open streams",
        live::STREAMS
    ));
    live::latency(&stack, &ada, USERS[0], &mut f).await?;

    step("server-side rendering of the Leads page");
    let page = format!("{}/m/Leads", stack.server.base);
    let ssr = wrk.run(&page, 1, time, std::slice::from_ref(&cookie))?;
    f.set("ssr.records_page.p50_ms", ssr.p50_ms());
    f.set("ssr.records_page.p99_ms", ssr.p99_ms());
    f.set("ssr.records_page.rps", ssr.rps());

    step("first visits' bytes, Lighthouse (mobile, desktop) and click-to-record in Chromium");
    pages::first_visit(
        &reqwest::Client::new(),
        &stack.server.base,
        "/",
        "home",
        &cli.site_root,
        &mut f,
    )
    .await?;
    pages::first_visit(
        &ada.http,
        &stack.server.base,
        "/m/Leads",
        "leads",
        &cli.site_root,
        &mut f,
    )
    .await?;
    pages::in_browser(&cli.browser_dir, &stack.server.base, &mut f).await?;

    let client = Arc::new(
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(120))
            .build()?,
    );
    let cookie_value = ada.cookie_header(&stack.server.base)?;
    for n in STORMS {
        step(&format!("refresh storm of {n}"));
        stack
            .control("tokens/expire", Some(json!({"email": USERS[0]})))
            .await?;
        let before = stack.token_requests().await?;
        let calls = (0..n).map(|_| {
            let client = client.clone();
            let url = via_zportal.clone();
            let cookie = cookie_value.clone();
            async move { timed_get(&client, &url, &cookie).await }
        });
        let results = join_all(calls).await;
        let after = stack.token_requests().await?;
        let p = format!("refresh_storm.n{n}");
        f.set(format!("{p}.token_requests"), (after - before) as f64);
        f.set(
            format!("{p}.failed"),
            results.iter().filter(|(ok, _)| !ok).count() as f64,
        );
        let slowest = results.iter().map(|(_, t)| *t).max().unwrap_or_default();
        f.set(format!("{p}.slowest_ms"), slowest.as_secs_f64() * 1000.0);
    }

    step(&format!(
        "{LIMITS_CALLS} calls of one user at once against Zoho's cap of {LIMITS_CAP}"
    ));
    limits_row(&stack, &client, &via_zportal, &cookie_value, &mut f).await?;

    let wasm = pages::main_wasm(&cli.site_root)?;
    f.set("wasm.raw_kb", wasm.len() as f64 / 1024.0);
    f.set("wasm.gzip_kb", gzip_len(&wasm)? as f64 / 1024.0);

    let machine = json!({
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "os": std::env::consts::OS,
        "seconds_per_run": cli.seconds,
        "bench_seconds": started.elapsed().as_secs(),
    });
    std::fs::write(
        cli.out.join("report.json"),
        serde_json::to_string_pretty(&f.to_json(&machine))?,
    )?;
    std::fs::write(
        cli.out.join("report.md"),
        report::markdown(&f, &machine, cli.sessions),
    )?;
    std::fs::write(cli.out.join("throughput.svg"), report::throughput_svg(&f))?;
    drop(stack);
    let _ = std::fs::remove_dir_all(&work);

    println!("\n{}", report::markdown(&f, &machine, cli.sessions));
    if let Some(baseline) = &cli.compare {
        println!(
            "\n## Against {}\n\n{}",
            baseline.display(),
            f.compare(&Figures::read(baseline)?)
        );
    }
    println!(
        "bench: report in {} ({} s)",
        cli.out.display(),
        started.elapsed().as_secs()
    );
    Ok(())
}

/// The limits row: this many list calls of ada at once, against an emulator taking this many
/// of her calls at a time, each answering after `LIMITS_LATENCY_MS` (as real Zoho takes time).
const LIMITS_CALLS: usize = 64;
const LIMITS_CAP: u64 = 10;
const LIMITS_LATENCY_MS: u64 = 100;

/// Zoho's limits back on (credits too, the org's budget full): `LIMITS_CALLS` concurrent
/// lists through zportal — how many failed, their p50 and p99, the 429s Zoho sent (zportal
/// retried them) and the most calls Zoho saw in flight.
async fn limits_row(
    stack: &Stack,
    client: &reqwest::Client,
    url: &str,
    cookie: &str,
    f: &mut Figures,
) -> Result<()> {
    stack
        .control(
            "config",
            Some(json!({"api_latency_ms": LIMITS_LATENCY_MS,
                "limits": {"api_concurrency": LIMITS_CAP, "api_credits": true}})),
        )
        .await?;
    stack
        .control(
            "credits",
            Some(json!({"org_zgid": "70001", "remaining": 52_000})),
        )
        .await?;
    let refused_before =
        stack.control("stats", None).await?["by_user"][USERS[0]]["too_many_requests"]
            .as_u64()
            .unwrap_or(0);
    let calls = (0..LIMITS_CALLS).map(|_| async move {
        let (ok, took) = timed_get(client, url, cookie).await;
        (ok, took.as_secs_f64() * 1000.0)
    });
    let results = join_all(calls).await;
    let stats = stack.control("stats", None).await?;
    let ada = &stats["by_user"][USERS[0]];
    let mut ms: Vec<f64> = results.iter().map(|(_, ms)| *ms).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    f.set(
        "limits.c64.errors",
        results.iter().filter(|(ok, _)| !ok).count() as f64,
    );
    f.set("limits.c64.p50_ms", at(0.5));
    f.set("limits.c64.p99_ms", at(0.99));
    f.set(
        "limits.c64.zoho_429s",
        (ada["too_many_requests"].as_u64().unwrap_or(0) - refused_before) as f64,
    );
    f.set(
        "limits.c64.max_in_flight_at_zoho",
        ada["max_in_flight"].as_f64().unwrap_or(f64::NAN),
    );
    f.set("limits.cap", LIMITS_CAP as f64);
    f.set("limits.latency_ms", LIMITS_LATENCY_MS as f64);
    Ok(())
}

/// Each load figure is the median of this many runs.
const RUNS: usize = 3;

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The parts of the server's `Server-Timing` over `calls` sequential calls: the median of each
/// (session, connection, zoho, total), and `rest` — the total less the named parts (routing,
/// the server function's arguments, encoding the answer).
async fn breakdown(http: &reqwest::Client, url: &str, calls: usize) -> Result<Vec<(String, f64)>> {
    let mut parts: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for _ in 0..calls {
        let res = http.get(url).send().await?;
        let header = res
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .context("no Server-Timing header (ZPORTAL_SERVER_TIMING=1)")?
            .to_owned();
        res.bytes().await?;
        let mut named = 0.0;
        for item in header.split(", ") {
            let Some((name, dur)) = item.split_once(";dur=") else {
                continue;
            };
            let ms: f64 = dur.parse().context("a Server-Timing duration")?;
            if name == "total" {
                parts.entry("rest".into()).or_default().push(ms - named);
            } else {
                named += ms;
            }
            parts.entry(name.to_owned()).or_default().push(ms);
        }
    }
    Ok(parts
        .into_iter()
        .map(|(k, v)| (k, median(v.into_iter())))
        .collect())
}

/// Signs a second user in, warms the server's copy of the session and connection, revokes the
/// connection with `server connections revoke` (another process, same SQLite file) and times
/// until the server answers as signed out.
async fn cli_revoke_reaches_server(stack: &Stack) -> Result<f64> {
    let user = Browser::new()?;
    user.sign_in(&stack.server.base, USERS[9]).await?;
    let me = format!("{}/api/session/me", stack.server.base);
    let who: serde_json::Value = user.http.get(&me).send().await?.json().await?;
    let id = who["active"]["id"]
        .as_str()
        .context("the signed-in connection's id")?
        .to_owned();
    stack.revoke_by_cli(&id).await?;
    let start = Instant::now();
    loop {
        let who: serde_json::Value = user.http.get(&me).send().await?.json().await?;
        if who.is_null() {
            return Ok(start.elapsed().as_secs_f64() * 1000.0);
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("the server still used a revoked connection after 30 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `total` complete sign-ins spread over the seeded users, [`SIGN_IN_CONCURRENCY`] at a time;
/// each leaves a live session behind. Returns how many finished and how long they took.
async fn sign_in_many(server: &str, total: usize) -> Result<(usize, Duration)> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers = (0..SIGN_IN_CONCURRENCY).map(|_| {
        let next = next.clone();
        let server = server.to_owned();
        tokio::spawn(async move {
            let mut done = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return Ok::<usize, anyhow::Error>(done);
                }
                let browser = Browser::new()?;
                browser.sign_in(&server, USERS[i % USERS.len()]).await?;
                done += 1;
            }
        })
    });
    let mut done = 0;
    for worker in join_all(workers).await {
        done += worker??;
    }
    Ok((done, started.elapsed()))
}

/// The server's own count of live sessions, from `/metrics`.
async fn live_sessions(stack: &Stack) -> Result<f64> {
    let text = stack
        .http
        .get(format!("{}/metrics", stack.ops_base))
        .send()
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|l| l.strip_prefix("zportal_live_sessions "))
        .and_then(|v| v.trim().parse().ok())
        .context("zportal_live_sessions in /metrics")
}

pub(crate) fn gzip_len(bytes: &[u8]) -> Result<usize> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    Ok(gz.finish()?.len())
}

/// A fresh directory for the server's data and wrk's script.
fn tempdir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("zportal-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `GET url` with the session `cookie`: whether it succeeded, and how long it took.
async fn timed_get(client: &reqwest::Client, url: &str, cookie: &str) -> (bool, Duration) {
    let t = Instant::now();
    let ok = client
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    (ok, t.elapsed())
}
