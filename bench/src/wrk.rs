//! Load from wrk (Debian's package): fixed concurrency for a fixed time against one URL, with its
//! latency histogram read out through a small Lua `done` hook as one JSON line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// Prints wrk's summary as JSON (latencies in microseconds).
const REPORT_LUA: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":%d,"non_2xx":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"#;

/// What one wrk run measured.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Run {
    pub requests: u64,
    pub duration_us: u64,
    /// Connect, read, write and timeout errors.
    pub errors: u64,
    /// Answers that were not 2xx/3xx.
    pub non_2xx: u64,
    pub p50_us: u64,
    pub p99_us: u64,
}

impl Run {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / (self.duration_us.max(1) as f64 / 1e6)
    }
    pub fn p50_ms(&self) -> f64 {
        self.p50_us as f64 / 1000.0
    }
    pub fn p99_ms(&self) -> f64 {
        self.p99_us as f64 / 1000.0
    }
}

/// The wrk binary and its report script.
pub struct Wrk {
    script: PathBuf,
}

impl Wrk {
    pub fn new(work_dir: &Path) -> Result<Self> {
        let script = work_dir.join("report.lua");
        std::fs::write(&script, REPORT_LUA)?;
        let found = Command::new("wrk").arg("--version").output();
        if found.is_err() {
            bail!("wrk is not installed (`apt-get install wrk`; `cargo xtask bench` installs it)");
        }
        Ok(Wrk { script })
    }

    /// `clients` connections for `time` against `url`, each request carrying `headers`.
    pub fn run(&self, url: &str, clients: u32, time: Duration, headers: &[String]) -> Result<Run> {
        let threads = clients.clamp(1, 2);
        let mut cmd = Command::new("wrk");
        cmd.arg(format!("-t{threads}"))
            .arg(format!("-c{clients}"))
            .arg(format!("-d{}s", time.as_secs().max(1)))
            .arg("--timeout")
            .arg("30s")
            .arg("-s")
            .arg(&self.script);
        for h in headers {
            cmd.arg("-H").arg(h);
        }
        cmd.arg(url);
        let out = cmd.output().context("running wrk")?;
        if !out.status.success() {
            bail!("wrk failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .context("wrk printed no report")?;
        let run: Run = serde_json::from_str(line).context("wrk's report")?;
        if run.errors > 0 || run.non_2xx > 0 {
            bail!(
                "{url} at {clients} clients: {} transport errors and {} non-2xx answers of {}",
                run.errors,
                run.non_2xx,
                run.requests
            );
        }
        Ok(run)
    }
}
