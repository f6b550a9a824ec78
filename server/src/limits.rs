//! Per-client-address rate limits (`ZPORTAL_RATE_LIMIT`), per process: sign-in starts and
//! server-function calls, each client address its own allowance, refused with 429 and
//! `Retry-After`. One address flooding `/auth/zoho/start` creates no sessions and spends no Zoho
//! budget; the others are not slowed.
//!
//! The client address is the TCP peer, unless the peer is a trusted proxy
//! (`ZPORTAL_TRUSTED_PROXIES`): then the nearest `X-Forwarded-For` hop that is not one of them.
//! Behind a load balancer that is not listed, every client shares the balancer's allowance.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use ipnet::IpNet;

/// What the server functions get for each sign-in start: a page makes many calls, a person
/// starts few sign-ins (the default: 60 starts and 1,200 calls a minute).
const CALLS_PER_START: NonZeroU32 = NonZeroU32::new(20).expect("twenty is not zero");

/// The limits of one process.
pub struct RateLimits {
    starts: Option<DefaultKeyedRateLimiter<IpAddr>>,
    calls: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trusted: Vec<IpNet>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("on", &self.starts.is_some())
            .field("trusted", &self.trusted)
            .finish()
    }
}

impl RateLimits {
    /// `starts_per_minute` sign-in starts per address (and [`CALLS_PER_START`] times as many
    /// server-function calls); `None` turns both off.
    pub fn new(starts_per_minute: Option<NonZeroU32>, trusted: Vec<IpNet>) -> Self {
        let keyed = |per_minute: NonZeroU32| RateLimiter::keyed(Quota::per_minute(per_minute));
        RateLimits {
            starts: starts_per_minute.map(keyed),
            calls: starts_per_minute
                .map(|n| n.saturating_mul(CALLS_PER_START))
                .map(keyed),
            trusted,
        }
    }

    /// The address a request is counted against: see the module's note.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> IpAddr {
        let Some(peer) = peer else {
            // Only an in-process caller has no peer; it shares one allowance.
            return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        };
        if !self.is_trusted(peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| hop.trim().parse().ok())
            .collect();
        hops.iter()
            .rev()
            .find(|hop| !self.is_trusted(**hop))
            .or(hops.first())
            .copied()
            .unwrap_or(peer)
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The limiter `path` is counted by, if any.
    fn for_path(&self, path: &str) -> Option<&DefaultKeyedRateLimiter<IpAddr>> {
        if path == "/auth/zoho/start" {
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
    fn check(&self, path: &str, client: IpAddr) -> Result<(), u64> {
        let Some(limiter) = self.for_path(path) else {
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
    let client = limits.client(peer, req.headers());
    match limits.check(req.uri().path(), client) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            tracing::warn!(path = req.uri().path(), "rate limit reached");
            let mut res = (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests from this address: try again shortly.",
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&wait.max(1).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_minute: u32, trusted: &[&str]) -> RateLimits {
        RateLimits::new(
            NonZeroU32::new(per_minute),
            trusted.iter().map(|n| n.parse().expect("cidr")).collect(),
        )
    }

    fn forwarded(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static(value));
        h
    }

    #[test]
    fn each_address_has_its_own_allowance_and_learns_when_to_return() {
        let l = limits(2, &[]);
        let (a, b): (IpAddr, IpAddr) = (
            "192.0.2.1".parse().expect("ip"),
            "192.0.2.2".parse().expect("ip"),
        );
        assert!(l.check("/auth/zoho/start", a).is_ok());
        assert!(l.check("/auth/zoho/start", a).is_ok());
        let wait = l.check("/auth/zoho/start", a).expect_err("spent");
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(l.check("/auth/zoho/start", b).is_ok(), "another address");
        assert!(l.check("/m/Leads", a).is_ok(), "pages are not counted");
        assert!(
            l.check("/api/session/me", a).is_ok(),
            "calls have their own allowance"
        );
    }

    #[test]
    fn server_functions_get_twenty_times_the_starts() {
        let l = limits(1, &[]);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..20 {
            assert!(l.check("/api/records/list", a).is_ok());
        }
        assert!(l.check("/api/records/list", a).is_err());
    }

    #[test]
    fn off_means_off() {
        let l = RateLimits::new(None, Vec::new());
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..1000 {
            assert!(l.check("/auth/zoho/start", a).is_ok());
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let l = limits(60, &["10.0.0.0/8"]);
        let proxy: IpAddr = "10.1.2.3".parse().expect("ip");
        let stranger: IpAddr = "198.51.100.9".parse().expect("ip");
        let h = forwarded("203.0.113.5, 10.9.9.9");
        assert_eq!(
            l.client(Some(proxy), &h),
            "203.0.113.5".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(
            l.client(Some(stranger), &h),
            stranger,
            "a forged header from a client"
        );
        // A client's own made-up hop in front of the real one does not move its address.
        let h = forwarded("1.2.3.4, 203.0.113.5");
        assert_eq!(
            l.client(Some(proxy), &h),
            "203.0.113.5".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(l.client(Some(proxy), &HeaderMap::new()), proxy);
    }
}
