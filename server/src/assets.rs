//! The site's build output (the WASM, its JS glue, the CSS) and the compression of everything
//! else. Static files go out precompressed when the build left `.br` or `.gz` beside them (the
//! xtask's release build does), else compressed on the fly. When the build put a content hash in
//! every file name (the xtask's release builds), each is `immutable` for a year; otherwise it may be
//! cached but is revalidated (`no-cache` with `Last-Modified`). Dynamic answers (server
//! functions' JSON, redirects' bodies) are compressed too — except streamed pages: tower-http's
//! encoder holds a stream back until it ends (tower-rs/tower-http#292), which would undo Leptos'
//! out-of-order streaming, so HTML goes out as it renders.

use axum::http::{HeaderValue, header};
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeader;

/// The service for the site's `pkg` directory under `site_root`; `hashed`: every file's name
/// carries its content's hash.
pub fn pkg(
    site_root: &str,
    pkg_dir: &str,
    hashed: bool,
) -> SetResponseHeader<ServeDir, HeaderValue> {
    let dir = std::path::Path::new(site_root).join(pkg_dir);
    let caching = if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    SetResponseHeader::overriding(
        ServeDir::new(dir).precompressed_br().precompressed_gzip(),
        header::CACHE_CONTROL,
        HeaderValue::from_static(caching),
    )
}

/// Whether the site was built with hashed file names, for a server cargo-leptos did not start
/// (the xtask's, the bench's, a deployment's), which is not told: `LEPTOS_HASH_FILES` when set,
/// else whether the hash file cargo-leptos writes beside the server binary names a WASM that is
/// in `pkg` (a hash file left by an earlier build names one that is not).
pub fn detect_hashed_names(options: &mut leptos::config::LeptosOptions) {
    if std::env::var_os("LEPTOS_HASH_FILES").is_some() {
        return;
    }
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())));
    let Some(hashes) = beside_exe.and_then(|path| std::fs::read_to_string(path).ok()) else {
        return;
    };
    let Some(named) = hashes
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(file, _)| file.trim() == "wasm")
        .map(|(_, hash)| format!("{}.{}.wasm", options.output_name, hash.trim()))
    else {
        return;
    };
    let pkg = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    options.hash_files = pkg.join(&named).is_file();
    if !options.hash_files {
        tracing::warn!(
            "the hash file beside the server names {named}, which is not in {}: serving unhashed \
             file names (build the site and the server together, with `cargo xtask` or cargo-leptos)",
            pkg.display()
        );
    }
}

/// Brotli or gzip, as the client accepts, for answers worth compressing that are not pages.
pub fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .compress_when(DefaultPredicate::new().and(NotForContentType::const_new("text/html")))
}
