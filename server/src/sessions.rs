//! Browser sessions: tower-sessions backed by the database store (SQLite or PostgreSQL, so every
//! server process sees every session), with the cookie README's "Configuration" describes
//! (`zportal_session`, HttpOnly, SameSite=Lax; `__Host-` and Secure on https) and its idle and
//! absolute timeouts. A session exists only once something is written to it.

use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::config::Config;
use crate::store::Sessions;

/// The session layer for `store`, configured from `config`.
pub fn layer(store: Sessions, config: &Config) -> SessionManagerLayer<Sessions> {
    let idle = time::Duration::try_from(config.store.session_idle).unwrap_or(time::Duration::HOUR);
    SessionManagerLayer::new(store)
        .with_name(config.session_cookie_name())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.is_https())
        .with_path("/")
        // Saved when changed; `timeouts` changes it often enough for the idle timeout to roll.
        .with_expiry(Expiry::OnInactivity(idle))
}

/// The session's timeouts: the absolute lifetime (`ZPORTAL_SESSION_MAX`) and the idle timeout
/// (`ZPORTAL_SESSION_IDLE`).
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub max: std::time::Duration,
    pub idle: std::time::Duration,
}

impl Timeouts {
    /// How stale the stored expiry may get before a request moves it: a tenth of the idle
    /// timeout, at most a minute. Writing the session on every request instead made every page
    /// and server-function call a database write.
    fn touch_every(self) -> std::time::Duration {
        (self.idle / 10).min(std::time::Duration::from_secs(60))
    }
}

/// Ends a session whose sign-in is older than the absolute limit, however active it has been;
/// otherwise rolls a signed-in session's idle expiry forward, at most every
/// [`Timeouts::touch_every`] (so a session can end up to that much before the full idle time).
pub async fn timeouts(
    axum::extract::State(limits): axum::extract::State<Timeouts>,
    session: tower_sessions::Session,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    // The first read loads the session: from memory when this process has it.
    let start = std::time::Instant::now();
    let signed_in = app::session::SessionAccounts::load(session.clone()).await;
    if let Some(t) = req.extensions().get::<app::context::Timings>() {
        t.add("session", start.elapsed());
    }
    if let Ok(accounts) = signed_in
        && let Some(signed_in_at) = accounts.signed_in_at()
    {
        let age = zoho::clock::now() - signed_in_at;
        if age > limits.max.as_secs() as i64 {
            tracing::info!("session reached its absolute lifetime; signing out");
            let _ = accounts.sign_out().await;
        } else {
            let every = limits.touch_every().as_millis() as i64;
            app::session::touch(&session, zoho::clock::now_ms(), every).await;
        }
    }
    next.run(req).await
}

/// With `ZPORTAL_SERVER_TIMING=1`: times the request and says where its time went in a
/// `Server-Timing` header (see [`app::context::Timings`]).
pub async fn server_timing(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let timings = app::context::Timings::default();
    req.extensions_mut().insert(timings.clone());
    let start = std::time::Instant::now();
    let mut res = next.run(req).await;
    if let Ok(v) = axum::http::HeaderValue::from_str(&timings.header(start.elapsed())) {
        res.headers_mut().insert("server-timing", v);
    }
    res
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Timeouts;

    #[test]
    fn the_idle_expiry_moves_at_most_every_tenth_of_the_idle_time_and_minute() {
        let t = |idle| Timeouts {
            max: Duration::from_secs(86_400),
            idle,
        };
        assert_eq!(
            t(Duration::from_secs(2)).touch_every(),
            Duration::from_millis(200)
        );
        assert_eq!(
            t(Duration::from_secs(7200)).touch_every(),
            Duration::from_secs(60)
        );
    }
}
