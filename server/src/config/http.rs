//! How the server meets the web: where it listens and the origin people use, the ops listener,
//! and the limits on clients (rate, proxies, connections, live streams, time for a request's
//! head and body).

use std::net::SocketAddr;
use std::time::Duration;

use url::Url;

use super::ConfigError;
use super::parse::{parse_base_url, parse_choice, parse_or, parse_positive};

/// Where and how the server listens.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub site_addr: SocketAddr,
    /// The one public origin, without a trailing slash (e.g. `http://127.0.0.1:3000`).
    pub public_url: Url,
    /// Where `/metrics` and the detailed readiness are served (`ZPORTAL_OPS_ADDR`); `None`: nowhere.
    pub ops_addr: Option<SocketAddr>,
    /// Sign-in starts per minute per client address (`ZPORTAL_RATE_LIMIT`; server functions get
    /// twenty times as many); `None`: no limit.
    pub rate_limit: Option<std::num::NonZeroU32>,
    /// Proxies whose `X-Forwarded-For` names the client (`ZPORTAL_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a connection has to send a request head, and may idle between requests.
    pub header_read_timeout: Duration,
    /// How long a request body may take (see `body_deadline`).
    pub body_deadline: crate::body_deadline::BodyDeadline,
    /// Connections open at once (`ZPORTAL_MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// Connections open at once from one client (`ZPORTAL_MAX_CONNECTIONS_PER_CLIENT`).
    pub max_connections_per_client: usize,
    /// Live streams open at once for one session (`ZPORTAL_MAX_STREAMS_PER_SESSION`): a new
    /// one past it closes the session's oldest.
    pub max_streams_per_session: usize,
    /// Live streams open at once from one client (`ZPORTAL_MAX_STREAMS_PER_CLIENT`).
    pub max_streams_per_client: usize,
    /// Whether answers say where their time went (`ZPORTAL_SERVER_TIMING=1`: a `Server-Timing`
    /// header; the bench turns it on).
    pub server_timing: bool,
}

/// `ZPORTAL_MAX_CONNECTIONS`' default: open connections one process serves at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// `ZPORTAL_MAX_CONNECTIONS_PER_CLIENT`'s default: an office of about a hundred people behind
/// one address, each browser holding a few connections (pages, server functions, its stream).
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: usize = 512;

/// `ZPORTAL_MAX_STREAMS_PER_SESSION`'s default: a browser shares one stream across its tabs;
/// a few more cover a stream being replaced and a browser without Web Locks.
pub const DEFAULT_MAX_STREAMS_PER_SESSION: usize = 4;

/// `ZPORTAL_MAX_STREAMS_PER_CLIENT`'s default: the office above, a few browsers each.
pub const DEFAULT_MAX_STREAMS_PER_CLIENT: usize = 256;

/// `ZPORTAL_RATE_LIMIT`'s default: sign-in starts per minute per client address.
pub const DEFAULT_SIGN_IN_STARTS_PER_MINUTE: u32 = 60;

/// `ZPORTAL_RATE_LIMIT`'s default on the embedded emulator (loopback, development only).
pub const DEVELOPMENT_SIGN_IN_STARTS_PER_MINUTE: u32 = 1000;

impl HttpConfig {
    /// Reads the web-facing variables through `var`.
    pub(super) fn read(var: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let site_addr: SocketAddr = parse_or(
            "LEPTOS_SITE_ADDR",
            var("LEPTOS_SITE_ADDR"),
            "127.0.0.1:3000",
        )?;
        let public_url = match var("ZPORTAL_PUBLIC_URL") {
            Some(v) => parse_public_url(&v)?,
            None => parse_public_url(&format!("http://{site_addr}"))?,
        };
        let server_timing = parse_choice(
            "ZPORTAL_SERVER_TIMING",
            var("ZPORTAL_SERVER_TIMING").as_deref(),
            &[("0", false), ("1", true)],
            false,
        )?;
        Ok(HttpConfig {
            ops_addr: ops_addr(var, site_addr)?,
            rate_limit: rate_limit(var)?,
            trusted_proxies: trusted_proxies(var)?,
            header_read_timeout: Duration::from_secs(10),
            body_deadline: crate::body_deadline::BodyDeadline::default(),
            max_connections: parse_positive(
                "ZPORTAL_MAX_CONNECTIONS",
                var("ZPORTAL_MAX_CONNECTIONS"),
                DEFAULT_MAX_CONNECTIONS,
            )?,
            max_connections_per_client: parse_positive(
                "ZPORTAL_MAX_CONNECTIONS_PER_CLIENT",
                var("ZPORTAL_MAX_CONNECTIONS_PER_CLIENT"),
                DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
            )?,
            max_streams_per_session: parse_positive(
                "ZPORTAL_MAX_STREAMS_PER_SESSION",
                var("ZPORTAL_MAX_STREAMS_PER_SESSION"),
                DEFAULT_MAX_STREAMS_PER_SESSION,
            )?,
            max_streams_per_client: parse_positive(
                "ZPORTAL_MAX_STREAMS_PER_CLIENT",
                var("ZPORTAL_MAX_STREAMS_PER_CLIENT"),
                DEFAULT_MAX_STREAMS_PER_CLIENT,
            )?,
            server_timing,
            site_addr,
            public_url,
        })
    }
}

/// `ZPORTAL_OPS_ADDR`: an address other than the public one.
fn ops_addr(
    var: &impl Fn(&str) -> Option<String>,
    site_addr: SocketAddr,
) -> Result<Option<SocketAddr>, ConfigError> {
    let Some(raw) = var("ZPORTAL_OPS_ADDR") else {
        return Ok(None);
    };
    let addr: SocketAddr = raw.trim().parse().map_err(|e| {
        ConfigError::new(
            "ZPORTAL_OPS_ADDR",
            format!("{raw:?} is not an address: {e}"),
        )
    })?;
    if addr == site_addr {
        return Err(ConfigError::new(
            "ZPORTAL_OPS_ADDR",
            "must differ from LEPTOS_SITE_ADDR: the ops listener is not public",
        ));
    }
    Ok(Some(addr))
}

/// `ZPORTAL_RATE_LIMIT`: sign-in starts per minute per client, or `off`.
fn rate_limit(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Option<std::num::NonZeroU32>, ConfigError> {
    Ok(match var("ZPORTAL_RATE_LIMIT").as_deref().map(str::trim) {
        None => std::num::NonZeroU32::new(DEFAULT_SIGN_IN_STARTS_PER_MINUTE),
        Some("off") => None,
        Some(n) => Some(n.parse::<std::num::NonZeroU32>().map_err(|_| {
            ConfigError::new(
                "ZPORTAL_RATE_LIMIT",
                format!(
                    "expected sign-in starts per minute (a positive number) or `off`, got {n:?}"
                ),
            )
        })?),
    })
}

/// `ZPORTAL_TRUSTED_PROXIES`: addresses or CIDR ranges, separated by commas or spaces.
fn trusted_proxies(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let Some(list) = var("ZPORTAL_TRUSTED_PROXIES") else {
        return Ok(Vec::new());
    };
    list.split([',', ' '])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            n.parse::<ipnet::IpNet>()
                .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        "ZPORTAL_TRUSTED_PROXIES",
                        format!("{n:?} is not an address or CIDR range"),
                    )
                })
        })
        .collect()
}

/// `ZPORTAL_PUBLIC_URL`: an origin, served from `/`.
fn parse_public_url(raw: &str) -> Result<Url, ConfigError> {
    let url = parse_base_url("ZPORTAL_PUBLIC_URL", raw)?;
    if url.path() != "/" {
        return Err(ConfigError::new(
            "ZPORTAL_PUBLIC_URL",
            "must be an origin without a path (zportal is served from /)",
        ));
    }
    Ok(url)
}
