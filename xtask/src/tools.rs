//! Installs what the build and the tests need, pinned, when it is missing — and says what and why.
//! Nothing here downloads from anywhere but the package registries (crates.io, npm, Debian).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{Workspace, run};

/// cargo-leptos 0.3.11 needs a newer rustc than stable 1.95; 0.3.10 builds and works.
const CARGO_LEPTOS_VERSION: &str = "0.3.10";

/// How cargo-leptos is compiled: unoptimised, without LTO, in many units. It only orchestrates
/// (cargo, wasm-bindgen and wasm-opt do the heavy work, as programs of their own), so nobody waits
/// on its speed; measured on 2 cores: 4 min 35 s this way on a new machine (9 min 20 s on a
/// slower one), 13 min 24 s there with `opt-level = 2` and no LTO, about 15 min with its own
/// release profile (fat LTO).
const QUICK_INSTALL: [&str; 6] = [
    "profile.release.opt-level=0",
    "profile.release.lto=false",
    "profile.release.codegen-units=256",
    "profile.release.debug=false",
    "profile.release.incremental=false",
    "profile.release.strip=true",
];

/// How wasm-bindgen-cli is compiled: optimised a little (it rewrites every WASM cargo-leptos
/// builds, so `watch` waits on it), without LTO, in many units. Its own release profile took
/// 2 min 0 s on a new 2-core machine.
const WASM_BINDGEN_INSTALL: [&str; 5] = [
    "profile.release.opt-level=1",
    "profile.release.lto=false",
    "profile.release.codegen-units=256",
    "profile.release.debug=false",
    "profile.release.incremental=false",
];

/// Where `cargo install` puts binaries.
fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

/// PATH with cargo's bin directory and the end-to-end npm binaries (wasm-opt) in front.
pub fn path_with_tools(ws: &Workspace) -> OsString {
    let mut dirs = vec![cargo_bin(), ws.root.join("end2end/node_modules/.bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// The first line a tool prints for `--version`, if it runs at all.
fn version_of(ws: &Workspace, program: &str, args: &[&str]) -> Option<String> {
    let out = ws.cmd(program).args(args).output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_owned()
    })
}

fn step(what: &str, why: &str) {
    println!("\n==> installing {what}: {why}");
}

/// The Rust side: the wasm32 target, cargo-leptos, and the wasm-bindgen CLI matching Cargo.lock.
pub fn ensure_build_tools(ws: &Workspace) -> Result<()> {
    let targets = ws
        .cmd("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed to add the wasm32 target")?;
    if !String::from_utf8_lossy(&targets.stdout).contains("wasm32-unknown-unknown") {
        step(
            "the wasm32-unknown-unknown target",
            "the browser half is WebAssembly",
        );
        run(
            "rustup target add wasm32-unknown-unknown",
            ws.cmd("rustup")
                .args(["target", "add", "wasm32-unknown-unknown"]),
        )?;
    }

    let leptos = version_of(ws, "cargo", &["leptos", "--version"]).unwrap_or_default();
    if !leptos.contains(CARGO_LEPTOS_VERSION) {
        step(
            &format!("cargo-leptos {CARGO_LEPTOS_VERSION}"),
            "it builds the server and the WASM together (about 5 minutes, once)",
        );
        run(
            "cargo install cargo-leptos",
            ws.cmd("cargo")
                .args([
                    "install",
                    "cargo-leptos",
                    "--version",
                    CARGO_LEPTOS_VERSION,
                    "--locked",
                ])
                .args(QUICK_INSTALL.iter().flat_map(|c| ["--config", c])),
        )?;
    }

    let wanted = locked_version(&ws.root, "wasm-bindgen")?;
    let have = version_of(ws, "wasm-bindgen", &["--version"]).unwrap_or_default();
    if !have.ends_with(&format!(" {wanted}")) {
        step(
            &format!("wasm-bindgen-cli {wanted}"),
            "cargo-leptos runs the wasm-bindgen on PATH, which must match Cargo.lock",
        );
        run(
            "cargo install wasm-bindgen-cli",
            ws.cmd("cargo")
                .args([
                    "install",
                    "wasm-bindgen-cli",
                    "--version",
                    &wanted,
                    "--locked",
                    "--force",
                ])
                .args(WASM_BINDGEN_INSTALL.iter().flat_map(|c| ["--config", c])),
        )?;
    }
    Ok(())
}

/// The version of `name` that Cargo.lock pins.
fn locked_version(root: &Path, name: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{name}\"")
            && let Some(v) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
        {
            return Ok(v.to_owned());
        }
    }
    bail!("{name} is not in Cargo.lock")
}

/// The browser side of the tests: Node's packages (Playwright, and binaryen's wasm-opt for the
/// release build) from the committed lockfile, and a Chromium to drive.
pub fn ensure_browser_tools(ws: &Workspace) -> Result<()> {
    ensure_node_packages(ws)?;
    if find_chromium().is_none() {
        if can_apt() {
            step(
                "Chromium (Debian package)",
                "the browser tests run in it, headless",
            );
            apt_install(ws, &["chromium"])?;
        } else {
            println!(
                "\n==> no system Chromium and no apt-get as root: falling back to \
                 `npx playwright install chromium` (a download that needs the internet)"
            );
            run(
                "npx playwright install chromium",
                ws.cmd("npx").current_dir(ws.root.join("end2end")).args([
                    "playwright",
                    "install",
                    "chromium",
                ]),
            )?;
        }
    }
    Ok(())
}

/// Python with `venv`: the emulator's tests run Zoho's own Python SDK against it, from a virtual
/// environment they make under the target directory (its package comes from PyPI).
pub fn ensure_python_venv(ws: &Workspace) -> Result<()> {
    let works = ws
        .cmd("python3")
        .args(["-m", "venv", "--help"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !works {
        step(
            "python3-venv (Debian package)",
            "the emulator's tests run Zoho's Python SDK against it",
        );
        apt_install(ws, &["python3-venv", "python3-pip"])?;
    }
    Ok(())
}

/// The fuzzers: the nightly toolchain (cargo-fuzz needs it) and cargo-fuzz itself.
pub fn ensure_fuzz_tools(ws: &Workspace) -> Result<()> {
    let toolchains = ws
        .cmd("rustup")
        .args(["toolchain", "list"])
        .output()
        .context("rustup is needed for the nightly toolchain")?;
    if !String::from_utf8_lossy(&toolchains.stdout).contains("nightly") {
        step(
            "the nightly toolchain",
            "cargo-fuzz builds with sanitizers only on nightly",
        );
        run(
            "rustup toolchain install nightly",
            ws.cmd("rustup")
                .args(["toolchain", "install", "nightly", "--profile", "minimal"]),
        )?;
    }
    if version_of(ws, "cargo", &["fuzz", "--version"]).is_none() {
        step(
            "cargo-fuzz",
            "it builds and runs the libFuzzer targets in fuzz/",
        );
        run(
            "cargo install cargo-fuzz",
            ws.cmd("cargo").args(["install", "cargo-fuzz", "--locked"]),
        )?;
    }
    Ok(())
}

/// The bench's load generator: wrk, from Debian.
pub fn ensure_wrk(ws: &Workspace) -> Result<()> {
    if ws.cmd("wrk").arg("--version").output().is_err() {
        step("wrk (Debian package)", "the bench's load generator");
        apt_install(ws, &["wrk"])?;
    }
    Ok(())
}

/// Node's packages from the committed lockfile: Playwright, and binaryen's wasm-opt.
pub fn ensure_node_packages(ws: &Workspace) -> Result<()> {
    npm_ci(
        ws,
        "end2end",
        "@playwright/test drives the browser; binaryen's wasm-opt shrinks the release WASM",
    )
}

/// The bench's browser measurements' packages (Lighthouse, playwright-core), in `bench/browser`:
/// apart from the tests', which do not need Lighthouse's 120 MB.
pub fn ensure_bench_browser_packages(ws: &Workspace) -> Result<()> {
    npm_ci(
        ws,
        "bench/browser",
        "Lighthouse 12 scores the pages; Playwright times a click to a record",
    )
}

/// `npm ci` in `dir` (under the workspace root) unless its lockfile is installed already.
fn npm_ci(ws: &Workspace, dir: &str, why: &str) -> Result<()> {
    if version_of(ws, "npm", &["--version"]).is_none() {
        step("Node.js and npm", "Playwright runs on Node");
        apt_install(ws, &["nodejs", "npm"])?;
    }

    let at = ws.root.join(dir);
    let lock = std::fs::read(at.join("package-lock.json"))
        .with_context(|| format!("{dir}/package-lock.json"))?;
    let installed = std::fs::read(at.join("node_modules/.package-lock.json")).ok();
    let stamp = at.join("node_modules/.zportal-lock");
    if installed.is_none() || std::fs::read(&stamp).ok().as_deref() != Some(&lock[..]) {
        step(&format!("{dir} npm packages (npm ci)"), why);
        run(
            "npm ci",
            ws.cmd("npm")
                .current_dir(&at)
                .args(["ci", "--no-audit", "--no-fund"]),
        )?;
        std::fs::write(&stamp, &lock)?;
    }
    Ok(())
}

/// The Chromium the tests launch; empty means Playwright's own download.
pub fn chromium_path() -> Result<OsString> {
    Ok(find_chromium()
        .map(PathBuf::into_os_string)
        .unwrap_or_default())
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM_PATH").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn can_apt() -> bool {
    is_root() && Path::new("/usr/bin/apt-get").exists()
}

pub(crate) fn apt_install(ws: &Workspace, packages: &[&str]) -> Result<()> {
    if !can_apt() {
        bail!("please install {packages:?} (apt-get as root is not available here)");
    }
    run("apt-get update", ws.cmd("apt-get").args(["update", "-qq"]))?;
    run(
        &format!("apt-get install {}", packages.join(" ")),
        ws.cmd("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-qq"])
            .args(packages),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_locked_wasm_bindgen_version() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let v = locked_version(&root, "wasm-bindgen").expect("wasm-bindgen is locked");
        assert!(v.starts_with("0.2."), "{v}");
        assert!(locked_version(&root, "no-such-crate-here").is_err());
    }
}
