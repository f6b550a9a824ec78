//! The CSRF guard in front of every non-GET route, server functions included (Leptos' server
//! functions have none of their own). The rule: `Sec-Fetch-Site` of
//! `same-origin` or `none` passes; without that header, a missing `Origin` (not a browser) or one
//! equal to the public origin passes; anything else is refused with 403.

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
}
