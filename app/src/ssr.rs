//! Server-side helpers for the server functions: the state the server hands them through the
//! Leptos context, and access to this request's session.

use std::sync::Arc;

use leptos::prelude::*;
use tower_sessions::Session;
use zoho::DcTable;

use crate::AppError;

/// What the server gives every server function and SSR render, through `provide_context`.
#[derive(Clone, Debug)]
pub struct ServerContext {
    pub dcs: Arc<DcTable>,
}

/// The server's context; its absence is a wiring bug, reported as an internal error.
pub fn server_context() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>().ok_or_else(|| {
        tracing::error!("ServerContext missing from the Leptos context");
        AppError::Internal
    })
}

/// This request's session (created lazily: nothing is stored until something is written).
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "session layer missing");
        AppError::Internal
    })
}

/// Logs a session-store failure and turns it into the user-facing internal error.
pub fn store_error(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    AppError::Internal
}
