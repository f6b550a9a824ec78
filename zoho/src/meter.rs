//! What zoho counts, through the `metrics` facade (the server installs the exporter), and the
//! name of every Zoho metric (keeper's too): every call to Zoho by data center, endpoint and
//! outcome with its latency, every refresh by outcome, reused answers, 429s and credits.
//! Labels are small closed sets — never a path, query, token or id.

use std::time::Instant;

use crate::dc::DataCenter;

/// `zoho_calls_total{dc,endpoint,outcome}`.
pub const CALLS: &str = "zoho_calls_total";
/// `zoho_call_duration_seconds{dc,endpoint}`.
pub const CALL_SECONDS: &str = "zoho_call_duration_seconds";
/// `zportal_refreshes_total{outcome}`: refreshes this process made at Zoho.
pub const REFRESHES: &str = "zportal_refreshes_total";
/// `zoho_answers_reused_total{dc,how}`: reads answered without Zoho running them again: `kept`
/// (served from the response cache) or `not_modified` (Zoho's 304).
pub const CACHED_ANSWERS: &str = "zoho_answers_reused_total";
/// `zoho_rate_limited_total{dc,kind}`: 429s from Zoho; `kind` is `concurrency` for one a retry
/// got past, `credits` for one that outlasted the retries (or a probe's).
pub const RATE_LIMITED: &str = "zoho_rate_limited_total";
/// `zoho_credits_used{dc}`: API credits this process spent.
pub const CREDITS_USED: &str = "zoho_credits_used";

/// Which of Zoho's endpoints a call went to (the emulator's fault names use the same words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Exchange,
    Refresh,
    Revoke,
    Users,
    Org,
    Settings,
    Records,
    Search,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Exchange => "exchange",
            Endpoint::Refresh => "refresh",
            Endpoint::Revoke => "revoke",
            Endpoint::Users => "users",
            Endpoint::Org => "org",
            Endpoint::Settings => "settings",
            Endpoint::Records => "records",
            Endpoint::Search => "search",
        }
    }
}

/// How a call to Zoho ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// 401: the token was refused.
    Unauthorized,
    /// 429, or OAuth's "Access Denied" throttling.
    Throttled,
    /// Another 4xx.
    Refused,
    /// 5xx.
    ServerError,
    /// No answer: connect error, timeout, broken body.
    Transport,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Throttled => "throttled",
            Outcome::Refused => "refused",
            Outcome::ServerError => "server_error",
            Outcome::Transport => "transport",
        }
    }

    pub fn of_status(status: u16) -> Self {
        match status {
            200..=399 => Outcome::Ok,
            401 => Outcome::Unauthorized,
            429 => Outcome::Throttled,
            400..=499 => Outcome::Refused,
            _ => Outcome::ServerError,
        }
    }
}

/// A call to Zoho being timed; [`Timer::done`] records it.
pub(crate) struct Timer {
    dc: DataCenter,
    endpoint: Endpoint,
    started: Instant,
}

impl Timer {
    pub(crate) fn start(dc: DataCenter, endpoint: Endpoint) -> Self {
        Timer {
            dc,
            endpoint,
            started: Instant::now(),
        }
    }

    pub(crate) fn done(self, outcome: Outcome) {
        let dc = self.dc.location();
        let endpoint = self.endpoint.as_str();
        metrics::counter!(CALLS, "dc" => dc, "endpoint" => endpoint, "outcome" => outcome.as_str())
            .increment(1);
        metrics::histogram!(CALL_SECONDS, "dc" => dc, "endpoint" => endpoint)
            .record(self.started.elapsed().as_secs_f64());
    }
}

/// Counts one refresh this process attempted at Zoho, by how it ended.
pub fn refresh(outcome: &'static str) {
    metrics::counter!(REFRESHES, "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(Outcome::of_status(204), Outcome::Ok);
        assert_eq!(Outcome::of_status(401), Outcome::Unauthorized);
        assert_eq!(Outcome::of_status(429), Outcome::Throttled);
        assert_eq!(Outcome::of_status(400), Outcome::Refused);
        assert_eq!(Outcome::of_status(503), Outcome::ServerError);
    }
}
