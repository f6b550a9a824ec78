//! Browser sessions: tower-sessions backed by the SQLite store, with the cookie name, flags and
//! idle timeout of contracts.md. A session exists only once something is written to it.

use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

use crate::config::Config;

/// The session layer for `store`, configured from `config`.
pub fn layer(store: SqliteStore, config: &Config) -> SessionManagerLayer<SqliteStore> {
    let idle = time::Duration::try_from(config.session_idle).unwrap_or(time::Duration::HOUR);
    SessionManagerLayer::new(store)
        .with_name(config.session_cookie_name())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.is_https())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}
