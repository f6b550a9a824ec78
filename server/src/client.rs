//! Who a connection or a request comes from, as every per-client limit counts clients (rate
//! limits, connection caps, stream caps, refused notifications): an IPv4 address, or an IPv6
//! host's /64 — one host is given a whole /64, so counting by address would give it 2^64
//! allowances. An IPv4-mapped IPv6 address is its IPv4 one.
//!
//! The client of a request is its TCP peer, unless the peer is a trusted proxy
//! (`ZPORTAL_TRUSTED_PROXIES`): then the nearest `X-Forwarded-For` hop that is not one of them.
//! Behind a load balancer that is not listed, every client shares the balancer's allowance.

use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use http::HeaderMap;
use http::request::Parts;
use ipnet::IpNet;

use crate::AppState;

/// One client, as the limits count them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    /// The client `ip` belongs to: itself for IPv4, its /64 for IPv6.
    pub fn of(ip: IpAddr) -> Self {
        ClientKey(match canonical(ip) {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        })
    }

    /// What an in-process caller (no TCP peer) is counted as: one shared client.
    pub fn in_process() -> Self {
        ClientKey(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// `ip` with an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) turned into its IPv4 one.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The trusted proxies, and so how a request's client is found.
#[derive(Clone, Debug, Default)]
pub struct Clients {
    trusted: Vec<IpNet>,
}

impl Clients {
    pub fn new(trusted: Vec<IpNet>) -> Self {
        Clients { trusted }
    }

    /// Whether `ip` is a trusted proxy (whose connections are many clients').
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client a request from `peer` with `headers` is counted against: see the module's note.
    pub fn of_request(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> ClientKey {
        let Some(peer) = peer else {
            return ClientKey::in_process();
        };
        if !self.is_trusted(peer) {
            return ClientKey::of(peer);
        }
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| hop.trim().parse().ok())
            .collect();
        let client = hops
            .iter()
            .rev()
            .find(|hop| !self.is_trusted(**hop))
            .or(hops.first())
            .copied()
            .unwrap_or(peer);
        ClientKey::of(client)
    }
}

/// The client a request comes from, as a handler's argument.
pub struct Client(pub ClientKey);

impl FromRequestParts<AppState> for Client {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Client(
            state.limits.clients().of_request(peer, &parts.headers),
        ))
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn forwarded(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static(value));
        h
    }

    #[test]
    fn an_ipv6_host_is_its_slash_64() {
        let a = ClientKey::of(ip("2001:db8:1:2:aaaa::1"));
        assert_eq!(a, ClientKey::of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        assert_ne!(
            a,
            ClientKey::of(ip("2001:db8:1:3::1")),
            "the next /64 is another host"
        );
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn an_ipv4_client_is_its_address_however_it_is_written() {
        let a = ClientKey::of(ip("192.0.2.7"));
        assert_eq!(a, ClientKey::of(ip("::ffff:192.0.2.7")), "IPv4-mapped IPv6");
        assert_ne!(a, ClientKey::of(ip("192.0.2.8")));
        assert_eq!(a.to_string(), "192.0.2.7");
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let c = Clients::new(vec!["10.0.0.0/8".parse().expect("cidr")]);
        let proxy = ip("10.1.2.3");
        let stranger = ip("198.51.100.9");
        let h = forwarded("203.0.113.5, 10.9.9.9");
        assert_eq!(
            c.of_request(Some(proxy), &h),
            ClientKey::of(ip("203.0.113.5"))
        );
        assert_eq!(
            c.of_request(Some(stranger), &h),
            ClientKey::of(stranger),
            "a forged header from a client"
        );
        // A client's own made-up hop in front of the real one does not move its address.
        let h = forwarded("1.2.3.4, 203.0.113.5");
        assert_eq!(
            c.of_request(Some(proxy), &h),
            ClientKey::of(ip("203.0.113.5"))
        );
        assert_eq!(
            c.of_request(Some(proxy), &HeaderMap::new()),
            ClientKey::of(proxy)
        );
        assert!(
            c.is_trusted(ip("::ffff:10.0.0.1")),
            "a mapped proxy address"
        );
    }

    #[test]
    fn clients_behind_a_proxy_are_keyed_by_their_slash_64() {
        let c = Clients::new(vec!["127.0.0.0/8".parse().expect("cidr")]);
        let h1 = forwarded("2001:db8:0:1::1");
        let h2 = forwarded("2001:db8:0:1::ffff");
        let proxy = Some(ip("127.0.0.1"));
        assert_eq!(c.of_request(proxy, &h1), c.of_request(proxy, &h2));
        assert_eq!(c.of_request(None, &h1), ClientKey::in_process());
    }
}
