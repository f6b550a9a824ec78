//! Browser sessions: tower-sessions backed by the database store (SQLite or PostgreSQL, so every
//! server process sees every session), with the cookie name, flags and idle timeout of
//! contracts.md. A session exists only once something is written to it.

use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::config::Config;
use crate::store::Sessions;

/// The session layer for `store`, configured from `config`.
pub fn layer(store: Sessions, config: &Config) -> SessionManagerLayer<Sessions> {
    let idle = time::Duration::try_from(config.session_idle).unwrap_or(time::Duration::HOUR);
    SessionManagerLayer::new(store)
        .with_name(config.session_cookie_name())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.is_https())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
        // Saving on every request is what makes the idle timeout roll with activity.
        .with_always_save(true)
}

/// The absolute session lifetime (`ZPORTAL_SESSION_MAX`).
#[derive(Clone, Copy, Debug)]
pub struct MaxAge(pub std::time::Duration);

/// Ends a session whose sign-in is older than the absolute limit, however active it has been.
pub async fn absolute_timeout(
    axum::extract::State(max): axum::extract::State<MaxAge>,
    session: tower_sessions::Session,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if let Ok(Some(accounts)) = session.get::<app::ssr::Accounts>(app::ssr::ACCOUNTS).await {
        let age = crate::auth::now() - accounts.signed_in_at;
        if age > max.0.as_secs() as i64 {
            tracing::info!("session reached its absolute lifetime; signing out");
            let _ = session.flush().await;
        }
    }
    next.run(req).await
}
