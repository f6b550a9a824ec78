//! The release site after `cargo leptos build --release`: every static file precompressed (gzip
//! and brotli beside it, which the server sends to browsers that accept them), and the gate on
//! what a first visit to a record list downloads to hydrate.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The most WASM (gzip) a browser may download to hydrate `/m/Leads` from a cold cache.
pub const INITIAL_WASM_BUDGET_KB: usize = 250;

/// What the site's compressible files weigh.
struct Weight {
    raw: usize,
    gzip: usize,
    brotli: usize,
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    Ok(gz.finish()?)
}

fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

/// The site's files a browser may ask for, compressed: `.wasm`, `.js`, `.css`.
fn compressible(pkg: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(pkg).with_context(|| format!("reading {}", pkg.display()))? {
        let path = entry?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if matches!(ext, "wasm" | "js" | "css") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Writes `<file>.gz` and `<file>.br` beside each static file of the site; returns each one's
/// weight.
fn precompress(pkg: &Path) -> Result<Vec<(PathBuf, Weight)>> {
    let mut out = Vec::new();
    for path in compressible(pkg)? {
        let bytes = std::fs::read(&path)?;
        let (gz, br) = (gzip(&bytes)?, brotli(&bytes)?);
        let beside = |ext: &str| {
            let mut name = path.clone().into_os_string();
            name.push(ext);
            PathBuf::from(name)
        };
        std::fs::write(beside(".gz"), &gz)?;
        std::fs::write(beside(".br"), &br)?;
        out.push((
            path,
            Weight {
                raw: bytes.len(),
                gzip: gz.len(),
                brotli: br.len(),
            },
        ));
    }
    Ok(out)
}

/// Precompresses the release site, prints what each file and a first visit weigh, and fails when
/// the WASM a first visit needs is over [`INITIAL_WASM_BUDGET_KB`].
pub fn precompress_and_gate(root: &Path) -> Result<()> {
    let pkg = root.join("target/site/pkg");
    let weights = precompress(&pkg)?;
    println!("\n==> the release site (precompressed: .gz and .br beside each file)");
    println!("| file | raw KB | gzip KB | brotli KB |\n| --- | --- | --- | --- |");
    let kb = |n: usize| n.div_ceil(1024);
    for (path, w) in &weights {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        println!(
            "| {name} | {} | {} | {} |",
            kb(w.raw),
            kb(w.gzip),
            kb(w.brotli)
        );
    }
    let wasm: Vec<&Weight> = weights
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "wasm"))
        .map(|(_, w)| w)
        .collect();
    if wasm.is_empty() {
        bail!("no WASM in {}", pkg.display());
    }
    let initial_gzip: usize = wasm.iter().map(|w| w.gzip).sum();
    let initial_brotli: usize = wasm.iter().map(|w| w.brotli).sum();
    let everything: usize = weights.iter().map(|(_, w)| w.gzip).sum();
    println!(
        "\nfirst visit to /m/Leads: {} KB of WASM gzip ({} KB brotli; budget {INITIAL_WASM_BUDGET_KB} KB gzip); \
         every static file together: {} KB gzip",
        kb(initial_gzip),
        kb(initial_brotli),
        kb(everything),
    );
    if initial_gzip > INITIAL_WASM_BUDGET_KB * 1024 {
        bail!("the WASM of a first visit is over its budget of {INITIAL_WASM_BUDGET_KB} KB gzip");
    }
    Ok(())
}
