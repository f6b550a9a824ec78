//! The bench's results: one flat set of named figures (`proxy.c16.ratio`), written as
//! `report.json`, a Markdown report, an SVG chart of throughput, and compared with a baseline.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};

/// Figures by name, in name order.
#[derive(Default)]
pub struct Figures(pub BTreeMap<String, f64>);

impl Figures {
    pub fn set(&mut self, name: impl Into<String>, value: f64) {
        self.0
            .insert(name.into(), (value * 1000.0).round() / 1000.0);
    }

    pub fn get(&self, name: &str) -> f64 {
        self.0.get(name).copied().unwrap_or(f64::NAN)
    }

    pub fn to_json(&self, machine: &Value) -> Value {
        json!({ "machine": machine, "figures": self.0 })
    }

    /// Reads the figures of a `report.json` (or a baseline in the same shape).
    pub fn read(path: &Path) -> Result<Figures> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let json: Value = serde_json::from_str(&text)?;
        let figures = json["figures"]
            .as_object()
            .context("no \"figures\" object")?
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
            .collect();
        Ok(Figures(figures))
    }

    /// Each figure beside the baseline's, with the change in percent.
    pub fn compare(&self, baseline: &Figures) -> String {
        let mut out = String::from("| figure | baseline | now | change |\n|---|---:|---:|---:|\n");
        for (name, now) in &self.0 {
            let (base, change) = match baseline.0.get(name) {
                Some(base) if *base != 0.0 => (
                    format!("{base}"),
                    format!("{:+.1}%", (now - base) / base.abs() * 100.0),
                ),
                Some(base) => (format!("{base}"), "—".to_owned()),
                None => ("—".to_owned(), "new".to_owned()),
            };
            let _ = writeln!(out, "| {name} | {base} | {now} | {change} |");
        }
        out
    }
}

pub const CLIENTS: [u32; 3] = [1, 16, 64];
pub const STORMS: [usize; 3] = [10, 100, 1000];

/// The Markdown report.
pub fn markdown(f: &Figures, machine: &Value, sessions: usize) -> String {
    let mut md = String::from("# zportal bench\n\n");
    let _ = writeln!(
        md,
        "Machine: {} cores, {}. Everything below was measured in one run, on loopback, against \
         the emulator.\n",
        machine["cores"], machine["os"]
    );
    md.push_str(
        "## Proxy overhead\n\nAuthenticated record lists (Leads, 20 rows) through zportal's \
         `records/list` server function vs the same list straight from the emulator with the same \
         access token. zportal runs with `ZPORTAL_ZOHO_CACHE=off` throughout: every call reaches \
         Zoho (with its default, the same list again within 5 s would not).\n\n\
         | clients | zportal req/s | direct req/s | ratio | zportal p50 / p99 ms | direct p50 / p99 ms | added p50 / p99 ms |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for c in CLIENTS {
        let p = format!("proxy.c{c}");
        let _ = writeln!(
            md,
            "| {c} | {:.0} | {:.0} | {:.2} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} / {:.2} |",
            f.get(&format!("{p}.zportal_rps")),
            f.get(&format!("{p}.direct_rps")),
            f.get(&format!("{p}.ratio")),
            f.get(&format!("{p}.zportal_p50_ms")),
            f.get(&format!("{p}.zportal_p99_ms")),
            f.get(&format!("{p}.direct_p50_ms")),
            f.get(&format!("{p}.direct_p99_ms")),
            f.get(&format!("{p}.added_p50_ms")),
            f.get(&format!("{p}.added_p99_ms")),
        );
    }
    md.push_str("\n![throughput](throughput.svg)\n");
    md.push_str(
        "\n## Refresh storm\n\nN concurrent record lists arriving after Zoho expired the access \
         token.\n\n| N | token requests at Zoho | failed calls | slowest call ms |\n|---:|---:|---:|---:|\n",
    );
    for n in STORMS {
        let p = format!("refresh_storm.n{n}");
        let _ = writeln!(
            md,
            "| {n} | {} | {} | {:.1} |",
            f.get(&format!("{p}.token_requests")),
            f.get(&format!("{p}.failed")),
            f.get(&format!("{p}.slowest_ms")),
        );
    }
    let _ = writeln!(
        md,
        "\n## Zoho's API limits\n\nThe rows above run with the emulator's API limits off and \
         zportal's bound on one connection's calls in flight raised to {} (wrk's clients are all \
         one user). Here they are on: {} list calls of one user at once against Zoho's cap of {} \
         calls in flight per user (each answering after {} ms, credits metered).\n\n\
         | failed calls | p50 ms | p99 ms | 429s from Zoho (retried) | most in flight at Zoho |\n\
         |---:|---:|---:|---:|---:|\n\
         | {} | {:.0} | {:.0} | {} | {} |",
        crate::stack::ZOHO_CONCURRENCY,
        64,
        f.get("limits.cap"),
        f.get("limits.latency_ms"),
        f.get("limits.c64.errors"),
        f.get("limits.c64.p50_ms"),
        f.get("limits.c64.p99_ms"),
        f.get("limits.c64.zoho_429s"),
        f.get("limits.c64.max_in_flight_at_zoho"),
    );
    let _ = writeln!(
        md,
        "\n## Sign-in\n\n{:.1} complete sign-ins per second (start → consent → callback → first \
         page), {} sign-ins by {} browsers at a time.\n",
        f.get("sign_in.per_second"),
        sessions,
        f.get("sign_in.concurrency"),
    );
    let _ = writeln!(
        md,
        "## Server-side rendering\n\nThe Leads page (`/m/Leads`, signed in, one client): p50 {:.2} ms, \
         p99 {:.2} ms ({:.0} pages/s).\n",
        f.get("ssr.records_page.p50_ms"),
        f.get("ssr.records_page.p99_ms"),
        f.get("ssr.records_page.rps"),
    );
    let _ = writeln!(
        md,
        "## Memory\n\nServer RSS idle: {:.1} MB; with {} live sessions: {:.1} MB.\n",
        f.get("memory.idle_rss_mb"),
        f.get("memory.live_sessions"),
        f.get("memory.sessions_rss_mb"),
    );
    let _ = writeln!(
        md,
        "## WASM\n\nThe main chunk (all a first visit to a record list needs; the other pages are \
         chunks of their own): {:.0} KB raw, {:.0} KB gzip.\n",
        f.get("wasm.raw_kb"),
        f.get("wasm.gzip_kb"),
    );
    md.push_str(
        "## In the browser\n\nLighthouse 12.2.3 in the machine's Chromium, over http (so bytes \
         are gzip: Chromium asks for brotli only over https); `mobile` is its default preset (a \
         slow 4G phone, the CPU slowed 4×), `desktop` its desktop one. Signed in as ada; the \
         record is the newest Lead.\n\n\
         | page | preset | performance | accessibility | best practices | SEO | LCP ms | TBT ms | CLS | KB |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for page in ["home", "leads", "record"] {
        for preset in ["mobile", "desktop"] {
            let p = format!("browser.{page}.{preset}");
            let _ = writeln!(
                md,
                "| {page} | {preset} | {} | {} | {} | {} | {:.0} | {:.0} | {:.3} | {:.0} |",
                f.get(&format!("{p}.performance")),
                f.get(&format!("{p}.accessibility")),
                f.get(&format!("{p}.best-practices")),
                f.get(&format!("{p}.seo")),
                f.get(&format!("{p}.lcp_ms")),
                f.get(&format!("{p}.tbt_ms")),
                f.get(&format!("{p}.cls")),
                f.get(&format!("{p}.bytes_kb")),
            );
        }
    }
    let _ = writeln!(
        md,
        "\nA first visit's bytes (the page and every file its HTML names, compressed at the \
         highest level): `/` {:.0} KB gzip, {:.0} KB brotli; `/m/Leads` {:.0} KB gzip, {:.0} KB \
         brotli.\n\nA click on a list row until the record's heading shows: {:.0} ms with the \
         record page's code not yet loaded (cold), {:.0} ms with it loaded (warm).\n",
        f.get("first_visit.home.gzip_kb"),
        f.get("first_visit.home.brotli_kb"),
        f.get("first_visit.leads.gzip_kb"),
        f.get("first_visit.leads.brotli_kb"),
        f.get("browser.click_to_record.cold_ms"),
        f.get("browser.click_to_record.warm_ms"),
    );
    let _ = writeln!(
        md,
        "## Where a proxied list's time goes\n\nMedians of the server's `Server-Timing` over 500 \
         sequential calls (one client), ms:\n\n| session | connection | Zoho call | rest (routing, \
         arguments, encoding) | total |\n|---:|---:|---:|---:|---:|\n| {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
        f.get("breakdown.session_ms"),
        f.get("breakdown.connection_ms"),
        f.get("breakdown.zoho_ms"),
        f.get("breakdown.rest_ms"),
        f.get("breakdown.total_ms"),
    );
    let _ = writeln!(
        md,
        "## Live pages\n\nChange-to-browser latency with {} event streams of one org open, over {} \
         changes each way, per stream: from just before the change was sent until the stream had \
         its event.\n\n| change | p50 ms | p99 ms | events lost |\n|---|---:|---:|---:|\n\
         | a save through zportal (its re-read and write included) | {:.1} | {:.1} | {} |\n\
         | straight at Zoho's API (Zoho notifies zportal) | {:.1} | {:.1} | {} |\n",
        f.get("live.streams"),
        f.get("live.changes"),
        f.get("live.zportal.p50_ms"),
        f.get("live.zportal.p99_ms"),
        f.get("live.zportal.lost"),
        f.get("live.zoho.p50_ms"),
        f.get("live.zoho.p99_ms"),
        f.get("live.zoho.lost"),
    );
    let _ = writeln!(
        md,
        "## Cross-process invalidation\n\nA `connections revoke` by the CLI (another process on \
         the same SQLite file) reached the running server after {:.0} ms (it reads the change log \
         once a second).",
        f.get("coherence.cli_revoke_ms"),
    );
    md
}

/// Grouped bars: requests/s through zportal and direct, per client count.
pub fn throughput_svg(f: &Figures) -> String {
    let series = [
        ("zportal", "zportal_rps", "#3b6fd8"),
        ("direct", "direct_rps", "#9aa5b1"),
    ];
    let max = CLIENTS
        .iter()
        .flat_map(|c| {
            series
                .iter()
                .map(move |s| f.get(&format!("proxy.c{c}.{}", s.1)))
        })
        .filter(|v| v.is_finite())
        .fold(1.0_f64, f64::max);
    let (width, height, top, bottom, left) = (560.0, 300.0, 44.0, 40.0, 60.0);
    let plot = height - top - bottom;
    let group = (width - left - 20.0) / CLIENTS.len() as f64;
    let bar = group / 3.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <text x=\"{left}\" y=\"18\" font-size=\"14\">Record lists per second (higher is better)</text>\n"
    );
    for (i, c) in CLIENTS.iter().enumerate() {
        let x0 = left + i as f64 * group + bar / 2.0;
        for (j, (name, key, color)) in series.iter().enumerate() {
            let v = f.get(&format!("proxy.c{c}.{key}"));
            let v = if v.is_finite() { v } else { 0.0 };
            let h = v / max * plot;
            let x = x0 + j as f64 * bar;
            let y = top + plot - h;
            let _ = writeln!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{color}\">\
                 <title>{name}: {v:.0}/s</title></rect>\n\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{v:.0}</text>",
                bar - 4.0,
                x + (bar - 4.0) / 2.0,
                y - 4.0
            );
        }
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{c} client{}</text>",
            x0 + bar,
            height - bottom + 18.0,
            if *c == 1 { "" } else { "s" }
        );
    }
    for (j, (name, _, color)) in series.iter().enumerate() {
        let x = width - 150.0 + j as f64 * 70.0;
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"8\" width=\"10\" height=\"10\" fill=\"{color}\"/>\
             <text x=\"{}\" y=\"17\">{name}</text>",
            x + 14.0
        );
    }
    let _ = writeln!(
        svg,
        "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>\n</svg>",
        top + plot,
        width - 20.0,
        top + plot
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_shows_change_against_the_baseline_and_new_figures() {
        let mut base = Figures::default();
        base.set("proxy.c1.zportal_rps", 1000.0);
        let mut now = Figures::default();
        now.set("proxy.c1.zportal_rps", 1100.0);
        now.set("wasm.gzip_kb", 396.0);
        let table = now.compare(&base);
        assert!(
            table.contains("| proxy.c1.zportal_rps | 1000 | 1100 | +10.0% |"),
            "{table}"
        );
        assert!(
            table.contains("| wasm.gzip_kb | — | 396 | new |"),
            "{table}"
        );
    }

    #[test]
    fn the_chart_has_a_bar_per_series_and_client_count() {
        let mut f = Figures::default();
        for c in CLIENTS {
            f.set(format!("proxy.c{c}.zportal_rps"), 100.0 * c as f64);
            f.set(format!("proxy.c{c}.direct_rps"), 120.0 * c as f64);
        }
        let svg = throughput_svg(&f);
        assert_eq!(svg.matches("<rect").count(), 2 * CLIENTS.len() + 2);
        assert!(svg.contains("<title>direct: 7680/s</title>"), "{svg}");
    }
}
