//! The sign-in routes under `/auth/zoho/`. Sign-in itself arrives with the OAuth flow; until then
//! `start` checks the chosen data center and says plainly that sign-in is not available.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Redirect;
use axum::routing::get;
use serde::Deserialize;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/auth/zoho/start", get(start))
}

#[derive(Debug, Deserialize)]
struct StartParams {
    dc: Option<String>,
}

async fn start(State(state): State<AppState>, Query(params): Query<StartParams>) -> Redirect {
    let known = match params.dc.as_deref() {
        None => true,
        Some(loc) => loc
            .parse::<zoho::DataCenter>()
            .is_ok_and(|dc| state.ctx.dcs.endpoints(dc).is_ok()),
    };
    let reason = if known { "not_available" } else { "unknown_dc" };
    Redirect::to(&format!("/auth/error?reason={reason}"))
}
