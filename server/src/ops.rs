//! The operator's view of a running server. On the public port: `/healthz` (the process answers)
//! and `/readyz` (its database answers: a load balancer must not drop every process because Zoho
//! is down, and a public hit must not cost a call to Zoho). On the ops listener
//! (`ZPORTAL_OPS_ADDR`, never public): the same `/healthz`, a `/readyz` that also says whether Zoho
//! answers (probed at most once per [`PROBE_EVERY`]), and `/metrics` in Prometheus' text format —
//! requests by route and status, Zoho calls and refreshes (counted in `zoho::meter`), live sessions
//! and connections needing a reconnect. Labels are routes and small closed sets, never a URI,
//! query or id.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use keeper::vault::ConnectionStatus;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use zoho::oauth::OAuthError;

use crate::AppState;

/// `zportal_http_requests_total{method,route,status}`.
const REQUESTS: &str = "zportal_http_requests_total";
/// `zportal_http_request_duration_seconds{method,route}`.
const REQUEST_SECONDS: &str = "zportal_http_request_duration_seconds";
const LIVE_SESSIONS: &str = "zportal_live_sessions";
const CONNECTIONS: &str = "zportal_connections";

/// Latency buckets, in seconds, for every `*_seconds` histogram.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder: installed once, on first use.
fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed: /metrics will stay empty");
        }
        handle
    })
}

/// Installs the recorder, so counts start with the first request.
pub fn install() {
    recorder();
}

/// How long one answer of Zoho's reachability stands.
pub const PROBE_EVERY: Duration = Duration::from_secs(30);

/// The public port's operator routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(public_readyz))
}

/// The ops listener's routes.
pub fn ops_router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
}

/// The last answer to "does Zoho answer?", shared by a process's callers of the ops `/readyz`.
#[derive(Debug, Default)]
pub struct Probe(tokio::sync::Mutex<Option<(Instant, &'static str)>>);

impl Probe {
    /// Zoho's reachability, asked at most once per [`PROBE_EVERY`] (callers arriving meanwhile
    /// wait for the one probe in flight).
    async fn zoho(&self, state: &AppState) -> &'static str {
        let mut last = self.0.lock().await;
        if let Some((at, answer)) = *last
            && at.elapsed() < PROBE_EVERY
        {
            return answer;
        }
        let answer = zoho_answers(state).await;
        *last = Some((Instant::now(), answer));
        answer
    }
}

async fn database(state: &AppState) -> &'static str {
    match state.zoho().vault.ping().await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            "unavailable"
        }
    }
}

/// 200 when the database answers; 503 when not.
async fn public_readyz(State(state): State<AppState>) -> Response {
    let database = database(&state).await;
    let ready = database == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(json!({"ready": ready, "database": database})),
    )
        .into_response()
}

/// 200 when the database and the configured Zoho (or emulator) answer; 503 naming what does not.
async fn readyz(State(state): State<AppState>) -> Response {
    let database = database(&state).await;
    let zoho = state.probe.zoho(&state).await;
    let ready = database == "ok" && zoho == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(json!({"ready": ready, "database": database, "zoho": zoho})),
    )
        .into_response()
}

/// Whether the default data center's accounts server answers HTTP at all (any status will do:
/// readiness is about reaching Zoho, not about what it thinks of an unauthenticated request).
async fn zoho_answers(state: &AppState) -> &'static str {
    let dc = state.zoho().dcs().default_dc();
    match state.zoho().oauth.probe(dc, Duration::from_secs(3)).await {
        Ok(()) => "ok",
        Err(OAuthError::DataCenter(_)) => "unconfigured",
        Err(e) => {
            tracing::warn!(error = %e, %dc, "readiness: Zoho does not answer");
            "unavailable"
        }
    }
}

/// Prometheus' text format; the store-backed gauges are read now.
async fn metrics_text(State(state): State<AppState>) -> Response {
    match state.sessions.count_live().await {
        Ok(n) => metrics::gauge!(LIVE_SESSIONS).set(n as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: could not count sessions"),
    }
    match state.zoho().vault.count_by_status().await {
        Ok(counts) => {
            for status in [ConnectionStatus::Active, ConnectionStatus::NeedsReconnect] {
                let n = counts
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map_or(0, |(_, n)| *n);
                metrics::gauge!(CONNECTIONS, "status" => status.as_str()).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not count connections"),
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        recorder().render(),
    )
        .into_response()
}

/// Counts and times every request by method, matched route and status.
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    // A client can send any method name: only the standard ones become labels.
    let method = match *req.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(REQUEST_SECONDS, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    res
}
