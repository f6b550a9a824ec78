//! What a browser gets: the bytes of a first visit (every file a page's HTML names under `/pkg`,
//! and `live.js`, as gzip and as brotli), the main WASM chunk's size, and the measurements
//! `browser/pages.mjs` makes in Chromium (Lighthouse, click to a record).

use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result, bail};

use crate::report::Figures;

/// The main WASM chunk: `zportal.wasm`, or `zportal.<hash>.wasm` in a build with hashed names.
pub fn main_wasm(site_root: &Path) -> Result<Vec<u8>> {
    let pkg = site_root.join("pkg");
    for entry in std::fs::read_dir(&pkg).with_context(|| format!("reading {}", pkg.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let hashed = name
            .strip_prefix("zportal.")
            .and_then(|rest| rest.strip_suffix(".wasm"))
            .is_some_and(|hash| !hash.contains('.'));
        if name == "zportal.wasm" || hashed {
            return Ok(std::fs::read(pkg.join(name))?);
        }
    }
    bail!(
        "no main WASM chunk (zportal[.hash].wasm) in {}",
        pkg.display()
    )
}

/// The site files an HTML page names (`href="/pkg/…"`, `src="/…js"`), each once.
fn named_files(html: &str) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for part in html.split(attr).skip(1) {
            let Some(url) = part.split('"').next() else {
                continue;
            };
            let local = url.starts_with("/pkg/") || (url.starts_with('/') && url.ends_with(".js"));
            if local && !files.iter().any(|f| f == url) {
                files.push(url.to_owned());
            }
        }
    }
    files
}

/// The first visit to `path` (signed in with `http`'s cookies): the page, then every file its
/// HTML names, compressed as the server sends them. Sets `first_visit.{name}.{gzip,brotli}_kb`
/// and `.files`.
pub async fn first_visit(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    name: &str,
    site_root: &Path,
    f: &mut Figures,
) -> Result<()> {
    let html = http
        .get(format!("{base}{path}"))
        .send()
        .await?
        .text()
        .await?;
    let files = named_files(&html);
    let (mut gzip, mut brotli) = (
        crate::gzip_len(html.as_bytes())?,
        brotli_len(html.as_bytes())?,
    );
    for file in &files {
        let bytes = std::fs::read(site_root.join(file.trim_start_matches('/')))
            .with_context(|| format!("{path} names {file}, which the site does not have"))?;
        gzip += crate::gzip_len(&bytes)?;
        brotli += brotli_len(&bytes)?;
    }
    f.set(format!("first_visit.{name}.files"), files.len() as f64);
    f.set(format!("first_visit.{name}.gzip_kb"), gzip as f64 / 1024.0);
    f.set(
        format!("first_visit.{name}.brotli_kb"),
        brotli as f64 / 1024.0,
    );
    Ok(())
}

fn brotli_len(bytes: &[u8]) -> Result<usize> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out.len())
}

/// Runs `browser/pages.mjs` against the server at `base`; each figure it prints becomes
/// `browser.<name>`.
pub async fn in_browser(browser_dir: &Path, base: &str, f: &mut Figures) -> Result<()> {
    let out = tokio::process::Command::new("node")
        .arg(browser_dir.join("pages.mjs"))
        .args(["--base", base, "--email", crate::USERS[0]])
        .current_dir(browser_dir)
        .stderr(Stdio::inherit())
        .output()
        .await
        .context("node browser/pages.mjs (the xtask installs its packages)")?;
    if !out.status.success() {
        bail!("browser/pages.mjs failed ({})", out.status);
    }
    let figures: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).context("browser/pages.mjs's JSON")?;
    for (name, value) in figures {
        if let Some(v) = value.as_f64() {
            f.set(format!("browser.{name}"), v);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::named_files;

    #[test]
    fn a_page_names_its_site_files_once_and_nothing_else() {
        let html = r#"<link href="/pkg/a.css"><link rel="modulepreload" href="/pkg/z.js">
            <link href="/pkg/a.css"><script src="/live.js"></script><a href="/m/Leads">
            <link href="https://example.com/x.js">"#;
        assert_eq!(named_files(html), ["/pkg/a.css", "/pkg/z.js", "/live.js"]);
    }
}
