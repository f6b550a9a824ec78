//! The site's build output (the WASM, its JS glue, the CSS) and the compression of everything
//! else. Static files go out precompressed when the build left `.br` or `.gz` beside them (the
//! xtask's release build does), else compressed on the fly. When the build put a content hash in
//! every file name (the xtask's release builds), each is `immutable` for a year; otherwise it may be
//! cached but is revalidated (`no-cache` with `Last-Modified`). Dynamic answers (server
//! functions' JSON, redirects' bodies) are compressed too — except streamed pages: tower-http's
//! encoder holds a stream back until it ends (tower-rs/tower-http#292), which would undo Leptos'
//! out-of-order streaming, so HTML goes out as it renders.

use axum::http::{HeaderValue, Response, StatusCode, header};
use tower::util::MapResponse;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::services::ServeDir;
use tower_http::services::fs::ServeFileSystemResponseBody;

/// The service for the site's `pkg` directory under `site_root`; `hashed`: every file's name
/// carries its content's hash. Only a file found is cacheable (a 404 for a name a newer build
/// made must not stick), and every answer varies by `Accept-Encoding` (a `.br` or `.gz` beside
/// the file goes only to a browser that asked for it).
pub fn pkg(site_root: &str, pkg_dir: &str, hashed: bool) -> MapResponse<ServeDir, FileCaching> {
    let dir = std::path::Path::new(site_root).join(pkg_dir);
    let service = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    MapResponse::new(service, if hashed { immutable } else { revalidated })
}

/// Sets a static file answer's caching headers.
pub type FileCaching = fn(FileResponse) -> FileResponse;
type FileResponse = Response<ServeFileSystemResponseBody>;

fn immutable(res: FileResponse) -> FileResponse {
    cache_if_found(res, "public, max-age=31536000, immutable")
}

fn revalidated(res: FileResponse) -> FileResponse {
    cache_if_found(res, "no-cache")
}

fn cache_if_found(mut res: FileResponse, caching: &'static str) -> FileResponse {
    let found = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
    let headers = res.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if found { caching } else { "no-store" }),
    );
    headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    res
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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt;

    async fn get(hashed: bool, path: &str) -> (u16, String, String) {
        let site = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(site.path().join("pkg")).expect("pkg");
        std::fs::write(site.path().join("pkg/zportal.abc.wasm"), b"\0asm").expect("write");
        let res = super::pkg(&site.path().to_string_lossy(), "pkg", hashed)
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("answer");
        let header = |name| {
            let value = res.headers().get(name).and_then(|v| v.to_str().ok());
            value.unwrap_or_default().to_owned()
        };
        (
            res.status().as_u16(),
            header(header::CACHE_CONTROL),
            header(header::VARY),
        )
    }

    #[tokio::test]
    async fn hashed_files_are_immutable_a_missing_one_is_not_kept_and_both_vary_by_encoding() {
        let (status, caching, vary) = get(true, "/zportal.abc.wasm").await;
        assert_eq!(status, 200);
        assert_eq!(caching, "public, max-age=31536000, immutable");
        assert_eq!(vary, "Accept-Encoding");
        let (status, caching, vary) = get(true, "/zportal.new.wasm").await;
        assert_eq!(status, 404);
        assert_eq!(
            caching, "no-store",
            "a name a newer build made must not stick"
        );
        assert_eq!(vary, "Accept-Encoding");
        let (_, caching, _) = get(false, "/zportal.abc.wasm").await;
        assert_eq!(caching, "no-cache", "unhashed names are revalidated");
    }
}
