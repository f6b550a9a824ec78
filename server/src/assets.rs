//! The site's build output (the WASM, its JS glue, the CSS) and the compression of everything
//! else. Static files go out precompressed when the build left `.br` or `.gz` beside them (the
//! xtask's release build does), else compressed on the fly; each may be cached but is revalidated
//! (`no-cache` with `Last-Modified`: file names carry no hash). Dynamic answers (server
//! functions' JSON, redirects' bodies) are compressed too — except streamed pages: tower-http's
//! encoder holds a stream back until it ends (tower-rs/tower-http#292), which would undo Leptos'
//! out-of-order streaming, so HTML goes out as it renders.

use axum::http::{HeaderValue, header};
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeader;

/// The service for the site's `pkg` directory under `site_root`.
pub fn pkg(site_root: &str, pkg_dir: &str) -> SetResponseHeader<ServeDir, HeaderValue> {
    let dir = std::path::Path::new(site_root).join(pkg_dir);
    SetResponseHeader::overriding(
        ServeDir::new(dir).precompressed_br().precompressed_gzip(),
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    )
}

/// Brotli or gzip, as the client accepts, for answers worth compressing that are not pages.
pub fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .compress_when(DefaultPredicate::new().and(NotForContentType::const_new("text/html")))
}
