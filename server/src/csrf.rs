//! The CSRF guard in front of every non-GET route, server functions included (Leptos' server
//! functions have none of their own). The rule: `Sec-Fetch-Site` of
//! `same-origin` or `none` passes; without that header, a missing `Origin` (not a browser) or one
//! equal to the public origin passes; anything else is refused with 403.
//!
//! Server functions (`/api/*`) are for this app's own page only, so they also refuse cross-site
//! and same-site *reads*: a top-level navigation from another site must learn nothing (not
//! "signed in", not "record N exists"). And they never redirect (Leptos answers a request that
//! accepts HTML, taken for a plain form post, with a redirect to its `Referer` or to `/`; zportal
//! makes no such posts): `Accept` and `Referer` are dropped before a server function runs.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode};

/// The origin a same-site request must carry, e.g. `https://crm.example.com`.
#[derive(Clone, Debug)]
pub struct PublicOrigin(pub Arc<str>);

/// Whether a request may change state.
pub fn allowed(method: &Method, headers: &HeaderMap, public_origin: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    match headers.get(http::header::ORIGIN) {
        None => true,
        Some(origin) => origin.as_bytes() == public_origin.as_bytes(),
    }
}

/// axum middleware applying [`allowed`].
pub async fn guard(State(origin): State<PublicOrigin>, req: Request, next: Next) -> Response {
    if allowed(req.method(), req.headers(), &origin.0) {
        next.run(req).await
    } else {
        tracing::warn!(method = %req.method(), path = req.uri().path(), "cross-site request refused");
        (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response()
    }
}

/// Where the server functions live.
const API: &str = "/api/";

/// Whether a request to a server function comes from another site, by Fetch Metadata (browsers
/// without it are covered by the CSRF guard for writes and by the missing redirect for reads).
pub fn foreign_api_call(path: &str, headers: &HeaderMap) -> bool {
    path.starts_with(API)
        && headers
            .get("sec-fetch-site")
            .is_some_and(|site| matches!(site.as_bytes(), b"cross-site" | b"same-site"))
}

/// axum middleware: refuses [`foreign_api_call`]s with 403 and takes `Accept` and `Referer` away
/// from server functions, so none answers with a redirect.
pub async fn api_guard(mut req: Request, next: Next) -> Response {
    if foreign_api_call(req.uri().path(), req.headers()) {
        tracing::warn!(method = %req.method(), path = req.uri().path(), "cross-site server-function call refused");
        return (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
    }
    if req.uri().path().starts_with(API) {
        req.headers_mut().remove(http::header::REFERER);
        req.headers_mut().remove(http::header::ACCEPT);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    const ORIGIN: &str = "http://127.0.0.1:3000";

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn reads_always_pass() {
        let h = headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.test"),
        ]);
        assert!(allowed(&Method::GET, &h, ORIGIN));
        assert!(allowed(&Method::HEAD, &h, ORIGIN));
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(allowed(
            &Method::POST,
            &headers(&[("sec-fetch-site", "same-origin")]),
            ORIGIN
        ));
        assert!(allowed(
            &Method::POST,
            &headers(&[("sec-fetch-site", "none")]),
            ORIGIN
        ));
        for site in ["cross-site", "same-site", "bogus"] {
            let h = headers(&[("sec-fetch-site", site), ("origin", ORIGIN)]);
            assert!(!allowed(&Method::POST, &h, ORIGIN), "{site}");
        }
    }

    #[test]
    fn origin_decides_without_fetch_metadata() {
        assert!(allowed(&Method::POST, &headers(&[]), ORIGIN));
        assert!(allowed(
            &Method::POST,
            &headers(&[("origin", ORIGIN)]),
            ORIGIN
        ));
        for origin in [
            "https://evil.test",
            "http://127.0.0.1:3000.evil.test",
            "null",
            "http://127.0.0.1:3001",
        ] {
            let h = headers(&[("origin", origin)]);
            assert!(!allowed(&Method::POST, &h, ORIGIN), "{origin}");
            assert!(!allowed(&Method::DELETE, &h, ORIGIN), "{origin}");
        }
    }

    #[test]
    fn server_functions_refuse_other_sites_for_reads_too() {
        for site in ["cross-site", "same-site"] {
            let h = headers(&[("sec-fetch-site", site)]);
            assert!(foreign_api_call("/api/records/get", &h), "{site}");
            assert!(
                !foreign_api_call("/m/Leads", &h),
                "pages are not server functions"
            );
        }
        for site in ["same-origin", "none"] {
            let h = headers(&[("sec-fetch-site", site)]);
            assert!(!foreign_api_call("/api/records/get", &h), "{site}");
        }
        assert!(!foreign_api_call("/api/records/get", &HeaderMap::new()));
    }
}
