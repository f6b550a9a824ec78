//! What the server hands every server function (through the Leptos context): Zoho, how long a
//! save may hold its form, this request's timings and CSP nonce. The session's contents are
//! [`crate::session`]'s. Server side only.

use keeper::Zoho;
use leptos::prelude::*;

use crate::AppError;

/// What the server gives every server function and SSR render, through `provide_context`.
#[derive(Clone)]
pub struct ServerContext {
    /// Shared: the context is cloned into every request.
    pub zoho: std::sync::Arc<Zoho>,
    /// How long a press of Save may hold its form's claim in the save ledger: longer than the
    /// Zoho calls one save can make (a refresh and the insert tried again, each with a timeout).
    pub save_hold: std::time::Duration,
}

/// Where one request's time went, for the `Server-Timing` header: present in the request's
/// extensions only when the server was asked to time requests (`ZPORTAL_SERVER_TIMING=1`).
#[derive(Clone, Debug, Default)]
pub struct Timings(std::sync::Arc<std::sync::Mutex<Vec<(&'static str, std::time::Duration)>>>);

impl Timings {
    /// Adds `took` to `part`.
    pub fn add(&self, part: &'static str, took: std::time::Duration) {
        let mut parts = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match parts.iter_mut().find(|(p, _)| *p == part) {
            Some((_, sum)) => *sum += took,
            None => parts.push((part, took)),
        }
    }

    /// `part;dur=<ms>` for each part, then `total` (everything the server spent on the request).
    pub fn header(&self, total: std::time::Duration) -> String {
        let parts = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        parts
            .iter()
            .map(|(p, d)| format!("{p};dur={:.3}", ms(*d)))
            .chain(std::iter::once(format!("total;dur={:.3}", ms(total))))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs `work`, counting its time as this request's `part` when the request is timed.
pub async fn timed<T>(part: &'static str, work: impl std::future::Future<Output = T>) -> T {
    let timings = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Timings>().cloned());
    let start = std::time::Instant::now();
    let out = work.await;
    if let Some(t) = timings {
        t.add(part, start.elapsed());
    }
    out
}

/// The nonce the server minted for this response's Content-Security-Policy header.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// Puts this response's CSP nonce where Leptos' inline scripts (hydration, streamed resources)
/// look for it; without it the browser would refuse to run them.
pub fn provide_csp_nonce() {
    if let Some(parts) = use_context::<http::request::Parts>()
        && let Some(CspNonce(nonce)) = parts.extensions.get::<CspNonce>()
    {
        provide_context(leptos::nonce::Nonce::from_value(nonce.as_str()));
    }
}

/// The server's context; its absence is a wiring bug, reported as an internal error.
pub fn server_context() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>().ok_or_else(|| {
        tracing::error!("ServerContext missing from the Leptos context");
        AppError::Internal
    })
}
