//! Per-client rate limits (`ZPORTAL_RATE_LIMIT`), per process: sign-in starts, the other
//! `/auth/*` posts (switching, disconnecting, signing out) and server-function calls, each client
//! its own allowance (a client as [`crate::client`] keys it: an IPv6 host by its /64), refused
//! with 429 and `Retry-After` before any body is read. One client flooding `/auth/zoho/start`
//! creates no sessions and spends no Zoho budget; the others are not slowed.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use crate::client::{ClientKey, Clients};

/// What the server functions get for each sign-in start: a page makes many calls, a person
/// starts few sign-ins (the default: 60 starts and 1,200 calls a minute).
const CALLS_PER_START: NonZeroU32 = NonZeroU32::new(20).expect("twenty is not zero");

/// The limits of one process.
pub struct RateLimits {
    starts: Option<DefaultKeyedRateLimiter<ClientKey>>,
    calls: Option<DefaultKeyedRateLimiter<ClientKey>>,
    clients: Clients,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("on", &self.starts.is_some())
            .field("clients", &self.clients)
            .finish()
    }
}

impl RateLimits {
    /// `starts_per_minute` sign-in starts (and other `/auth/*` posts) per client, and
    /// [`CALLS_PER_START`] times as many server-function calls; `None` turns both off.
    pub fn new(starts_per_minute: Option<NonZeroU32>, clients: Clients) -> Self {
        let keyed = |per_minute: NonZeroU32| RateLimiter::keyed(Quota::per_minute(per_minute));
        RateLimits {
            starts: starts_per_minute.map(keyed),
            calls: starts_per_minute
                .map(|n| n.saturating_mul(CALLS_PER_START))
                .map(keyed),
            clients,
        }
    }

    /// Who requests are from.
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// The limiter a `method` request to `path` is counted by, if any.
    fn for_request(
        &self,
        method: &Method,
        path: &str,
    ) -> Option<&DefaultKeyedRateLimiter<ClientKey>> {
        if path == "/auth/zoho/start" || (method == Method::POST && path.starts_with("/auth/")) {
            self.starts.as_ref()
        } else if path.starts_with("/api/") {
            self.calls.as_ref()
        } else {
            None
        }
    }

    /// Forgets addresses whose allowance is full again (so memory follows the active clients).
    pub fn prune(&self) {
        for limiter in [&self.starts, &self.calls].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Whether `client` may make this call now; if not, the whole seconds until it may.
    fn check(&self, method: &Method, path: &str, client: ClientKey) -> Result<(), u64> {
        let Some(limiter) = self.for_request(method, path) else {
            return Ok(());
        };
        limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// axum middleware applying the limits; 429 with `Retry-After` when one is spent.
pub async fn limit(State(limits): State<Arc<RateLimits>>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = limits.clients.of_request(peer, req.headers());
    match limits.check(req.method(), req.uri().path(), client) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            tracing::warn!(path = req.uri().path(), "rate limit reached");
            let mut res = (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests from this address: try again shortly.",
            )
                .into_response();
            retry_after(res.headers_mut(), wait);
            res
        }
    }
}

/// Says in `headers` to come back in `secs` seconds (at least one).
pub fn retry_after(headers: &mut HeaderMap, secs: u64) {
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        headers.insert(header::RETRY_AFTER, v);
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn limits(per_minute: u32) -> RateLimits {
        RateLimits::new(NonZeroU32::new(per_minute), Clients::default())
    }

    fn client(ip: &str) -> ClientKey {
        ClientKey::of(ip.parse::<IpAddr>().expect("ip"))
    }

    const GET: Method = Method::GET;

    #[test]
    fn each_client_has_its_own_allowance_and_learns_when_to_return() {
        let l = limits(2);
        let (a, b) = (client("192.0.2.1"), client("192.0.2.2"));
        assert!(l.check(&GET, "/auth/zoho/start", a).is_ok());
        assert!(l.check(&GET, "/auth/zoho/start", a).is_ok());
        let wait = l.check(&GET, "/auth/zoho/start", a).expect_err("spent");
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(
            l.check(&GET, "/auth/zoho/start", b).is_ok(),
            "another address"
        );
        assert!(
            l.check(&GET, "/m/Leads", a).is_ok(),
            "pages are not counted"
        );
        assert!(
            l.check(&GET, "/api/session/me", a).is_ok(),
            "calls have their own allowance"
        );
    }

    #[test]
    fn auth_posts_share_the_sign_in_allowance_and_an_ipv6_host_has_one() {
        let l = limits(2);
        let (a, same_host) = (client("2001:db8::1"), client("2001:db8::2"));
        assert!(l.check(&Method::POST, "/auth/switch", a).is_ok());
        assert!(l.check(&Method::POST, "/auth/signout", same_host).is_ok());
        assert!(l.check(&Method::POST, "/auth/disconnect", a).is_err());
        assert!(
            l.check(&GET, "/auth/zoho/callback", a).is_ok(),
            "Zoho's redirect back is not counted"
        );
    }

    #[test]
    fn server_functions_get_twenty_times_the_starts() {
        let l = limits(1);
        let a = client("192.0.2.1");
        for _ in 0..20 {
            assert!(l.check(&Method::POST, "/api/records/list", a).is_ok());
        }
        assert!(l.check(&Method::POST, "/api/records/list", a).is_err());
    }

    #[test]
    fn off_means_off() {
        let l = RateLimits::new(None, Clients::default());
        let a = client("192.0.2.1");
        for _ in 0..1000 {
            assert!(l.check(&GET, "/auth/zoho/start", a).is_ok());
        }
    }
}
