//! The browser's defences, set on every answer: a Content-Security-Policy that lets exactly this
//! app run (its own files, inline scripts only with this response's nonce, WebAssembly, forms
//! that go to zportal or a Zoho accounts server, no framing), `nosniff`, a referrer policy, and
//! HSTS when zportal is served over https. Answers that may be personal — every server function's,
//! and any to a request carrying the session cookie — are `Cache-Control: no-store` with
//! `Vary: Cookie`, so no shared or browser cache keeps one person's page for the next. Signed-out
//! pages vary by cookie too (the theme cookie picks their colours). The static files under `/pkg`
//! keep their own caching.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use app::context::CspNonce;

/// What the policy is built from, computed once per server.
#[derive(Clone, Debug)]
pub struct Policy {
    /// `form-action`: this site and every enabled data center's accounts origin.
    form_action: Arc<str>,
    /// `connect-src`: this site, plus the live-reload socket under `cargo leptos watch`.
    connect: Arc<str>,
    hsts: bool,
    /// The session cookie's name, e.g. `zportal_session`.
    session_cookie: Arc<str>,
    /// The static files' prefix, e.g. `/pkg/`.
    static_prefix: Arc<str>,
}

impl Policy {
    /// The policy for these accounts servers; `session_cookie` and `static_dir` decide which
    /// answers may be stored.
    pub fn new<'a>(
        accounts_servers: impl IntoIterator<Item = &'a str>,
        live_reload: Option<String>,
        https: bool,
        session_cookie: &str,
        static_dir: &str,
    ) -> Self {
        let mut origins: Vec<String> = accounts_servers
            .into_iter()
            .filter_map(|u| url::Url::parse(u).ok())
            .map(|u| u.origin().ascii_serialization())
            .collect();
        origins.sort();
        origins.dedup();
        let form_action = std::iter::once("'self'".to_owned())
            .chain(origins)
            .collect::<Vec<_>>()
            .join(" ");
        let connect = match live_reload {
            Some(socket) => format!("'self' {socket}"),
            None => "'self'".to_owned(),
        };
        Policy {
            form_action: form_action.into(),
            connect: connect.into(),
            hsts: https,
            session_cookie: session_cookie.into(),
            static_prefix: format!("{}/", static_dir.trim_end_matches('/')).into(),
        }
    }

    /// Whether the answer to this request may be personal and so must not be stored.
    pub fn private(&self, path: &str, headers: &header::HeaderMap) -> bool {
        if path.starts_with(&*self.static_prefix) {
            return false;
        }
        path.starts_with("/api/") || carries_cookie(headers, &self.session_cookie)
    }

    /// The Content-Security-Policy for a response whose inline scripts carry `nonce`.
    pub fn csp(&self, nonce: &str) -> String {
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; connect-src {}; form-action {}; \
             frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            self.connect, self.form_action
        )
    }
}

/// Gives the request a fresh nonce (the page's renderer puts it on its inline scripts) and sets
/// the headers on the answer.
pub async fn set(State(policy): State<Policy>, mut req: Request, next: Next) -> Response {
    let nonce = zoho::random_hex(16);
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let private = policy.private(req.uri().path(), req.headers());
    let is_static = req.uri().path().starts_with(&*policy.static_prefix);
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    if private {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if !is_static {
        headers.append(header::VARY, HeaderValue::from_static("Cookie"));
    }
    // A download sets its own, stricter `sandbox`; keep that.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(csp) = HeaderValue::from_str(&policy.csp(&nonce))
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The callback sets a stricter `no-referrer` itself; keep that.
    headers
        .entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    if policy.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

/// Whether the `Cookie` headers name `name`.
fn carries_cookie(headers: &header::HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .any(|c| c.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_answers_are_not_stored_static_files_are() {
        let p = Policy::new(
            ["https://accounts.zoho.com"],
            None,
            true,
            "__Host-zportal_session",
            "/pkg",
        );
        let mut signed_in = header::HeaderMap::new();
        signed_in.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; __Host-zportal_session=abc"),
        );
        let none = header::HeaderMap::new();
        assert!(p.private("/m/Leads", &signed_in));
        assert!(p.private("/api/session/me", &none), "every server function");
        assert!(!p.private("/m/Leads", &none), "a signed-out page");
        assert!(!p.private("/pkg/zportal.wasm", &signed_in));
        let mut other = header::HeaderMap::new();
        other.insert(
            header::COOKIE,
            HeaderValue::from_static("x__Host-zportal_session=abc"),
        );
        assert!(!p.private("/m/Leads", &other), "the exact name only");
    }

    #[test]
    fn the_policy_names_the_nonce_the_accounts_origins_and_nothing_loose() {
        let p = Policy::new(
            [
                "https://accounts.zoho.com",
                "https://accounts.zoho.eu/",
                "https://accounts.zoho.com",
            ],
            None,
            true,
            "zportal_session",
            "/pkg",
        );
        let csp = p.csp("abc123");
        assert!(
            csp.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"),
            "{csp}"
        );
        assert!(
            csp.contains("form-action 'self' https://accounts.zoho.com https://accounts.zoho.eu;"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("connect-src 'self';"));
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains(" 'unsafe-eval'") && !csp.contains('*')
        );
        let dev = Policy::new(
            ["http://127.0.0.1:3100/us/accounts"],
            Some("ws://127.0.0.1:3001".into()),
            false,
            "zportal_session",
            "/pkg",
        );
        let csp = dev.csp("n");
        assert!(
            csp.contains("connect-src 'self' ws://127.0.0.1:3001;"),
            "{csp}"
        );
        assert!(
            csp.contains("form-action 'self' http://127.0.0.1:3100;"),
            "{csp}"
        );
    }
}
