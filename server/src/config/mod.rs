//! The server's configuration, read once from the environment into types. A missing or malformed
//! value stops the server with a message that names the variable (README, "Configuration").

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;
use zoho::vault::TokenCipher;
use zoho::{DataCenter, Secret};

/// Why the configuration could not be read: always names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(var: &'static str, problem: impl Into<String>) -> Self {
        ConfigError {
            var,
            problem: problem.into(),
        }
    }
}

/// Which Zoho the server talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZohoTarget {
    /// Real Zoho, through the pinned data-center table.
    Zoho { client_id: String },
    /// An emulator already running at `url` (several servers may share one).
    Emulator { url: Url, client_id: String },
    /// An emulator this server starts in-process, listening on `addr` (loopback only).
    Embedded { addr: SocketAddr },
}

/// `DATABASE_URL`, whose `Debug` hides the password it may carry.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("redacted"));
                write!(f, "{:?}", url.as_str())
            }
            Ok(_) => write!(f, "{:?}", self.0),
            Err(_) => f.write_str("\"<not a URL>\""),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the server reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub site_addr: SocketAddr,
    /// The one public origin, without a trailing slash (e.g. `http://127.0.0.1:3000`).
    pub public_url: Url,
    pub zoho: ZohoTarget,
    /// The client secret, when one is configured; never printed (see [`Config`]'s `Debug`).
    pub client_secret: Option<Secret>,
    pub dcs: Vec<DataCenter>,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub session_idle: Duration,
    pub session_max: Duration,
    pub log_format: LogFormat,
    /// The OAuth scopes requested at sign-in.
    pub scopes: Vec<String>,
    /// `ZPORTAL_TOKEN_KEY`, validated; `None` means the generated key file in the data directory.
    pub token_key: Option<Secret>,
    /// How long a refresh lease lives if its holder dies (`ZPORTAL_LEASE_TTL`).
    pub lease_ttl: Duration,
    /// How long a started sign-in may take (not configurable from the environment).
    pub sign_in_ttl: Duration,
    /// The longest any single call to Zoho may take (`ZPORTAL_ZOHO_TIMEOUT`).
    pub zoho_timeout: Duration,
    /// Calls to Zoho in flight per connection in this process, at most
    /// (`ZPORTAL_ZOHO_CONCURRENCY`; the bound adapts down on 429).
    pub zoho_concurrency: usize,
    /// How long a CRM read's answer is served again without asking Zoho (`ZPORTAL_ZOHO_CACHE`,
    /// default 5s; `off` keeps none). Writes through zportal end it at once.
    pub zoho_cache: Duration,
    /// How long an org whose API credits are spent is first left alone; it doubles up to 30
    /// times this (not configurable from the environment: Zoho's window is a day).
    pub zoho_backoff: Duration,
    /// Whether answers say where their time went (`ZPORTAL_SERVER_TIMING=1`: a `Server-Timing`
    /// header; the bench turns it on).
    pub server_timing: bool,
    /// Whether Zoho is asked to notify this server of changes (`ZPORTAL_NOTIFICATIONS`, `auto`:
    /// whenever it can reach it); `off` for a server Zoho cannot reach though it is on https.
    pub notifications: bool,
    /// Where `/metrics` and the detailed readiness are served (`ZPORTAL_OPS_ADDR`); `None`: nowhere.
    pub ops_addr: Option<SocketAddr>,
    /// Sign-in starts per minute per client address (`ZPORTAL_RATE_LIMIT`; server functions get
    /// twenty times as many); `None`: no limit.
    pub rate_limit: Option<std::num::NonZeroU32>,
    /// Proxies whose `X-Forwarded-For` names the client (`ZPORTAL_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a connection has to send a request head, and may idle between requests.
    pub header_read_timeout: Duration,
    /// Connections open at once (`ZPORTAL_MAX_CONNECTIONS`).
    pub max_connections: usize,
}

/// `ZPORTAL_MAX_CONNECTIONS`' default: open connections one process serves at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// `ZPORTAL_ZOHO_CONCURRENCY`'s default: well under every edition's cap (Free's is 5).
pub const DEFAULT_ZOHO_CONCURRENCY: usize = 4;

/// A positive whole number from `name`, or `default` when unset.
fn parse_positive(
    name: &'static str,
    raw: Option<String>,
    default: usize,
) -> Result<usize, ConfigError> {
    match raw {
        None => Ok(default),
        Some(n) => n
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                ConfigError::new(name, format!("expected a positive number, got {n:?}"))
            }),
    }
}

/// `ZPORTAL_RATE_LIMIT`'s default: sign-in starts per minute per client address.
pub const DEFAULT_SIGN_IN_STARTS_PER_MINUTE: u32 = 60;

/// The scopes zportal asks for: only what the UI uses (modules, their metadata, the user, the org).
pub const DEFAULT_SCOPES: &str = "ZohoCRM.modules.ALL,ZohoCRM.settings.modules.READ,ZohoCRM.settings.fields.READ,ZohoCRM.settings.related_lists.READ,ZohoCRM.coql.READ,ZohoCRM.notifications.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ";

/// Whether this server runs for development: `LEPTOS_ENV=DEV` (what `cargo xtask dev` sets) or
/// under `cargo leptos watch` (which sets `LEPTOS_WATCH`). Only then is the embedded emulator
/// the default; anywhere else a server without a Zoho client refuses to start.
fn is_development(var: &impl Fn(&str) -> Option<String>) -> bool {
    let dev_env = var("LEPTOS_ENV").is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "dev" | "development"
        )
    });
    dev_env || var("LEPTOS_WATCH").is_some_and(|v| v.trim() == "true")
}

/// `ZOHO_EMULATOR_URL`: a base URL on loopback. The emulator listens nowhere else, and a URL
/// elsewhere would receive the client secret and users' sign-in codes.
fn parse_emulator_url(raw: &str) -> Result<Url, ConfigError> {
    let url = parse_base_url("ZOHO_EMULATOR_URL", raw)?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if !loopback {
        return Err(ConfigError::new(
            "ZOHO_EMULATOR_URL",
            "must be on loopback (127.0.0.0/8, ::1 or localhost): the emulator listens nowhere \
             else, and a URL elsewhere would receive the client secret and sign-in codes",
        ));
    }
    Ok(url)
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get`, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());

        let site_addr: SocketAddr = parse_or(
            "LEPTOS_SITE_ADDR",
            var("LEPTOS_SITE_ADDR"),
            "127.0.0.1:3000",
        )?;

        let public_url = match var("ZPORTAL_PUBLIC_URL") {
            Some(v) => parse_public_url(&v)?,
            None => parse_public_url(&format!("http://{site_addr}"))?,
        };

        let client_id = var("ZOHO_CLIENT_ID");
        let client_secret = var("ZOHO_CLIENT_SECRET").map(Secret::new);
        let emulator_url = var("ZOHO_EMULATOR_URL");
        let emulator_asked = match var("ZOHO_EMULATOR").as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => {
                return Err(ConfigError::new(
                    "ZOHO_EMULATOR",
                    format!("expected `1` (run the embedded emulator) or `0`, got {other:?}"),
                ));
            }
        };
        let zoho = match (client_id, &client_secret, emulator_url) {
            (Some(_), None, _) => {
                return Err(ConfigError::new(
                    "ZOHO_CLIENT_SECRET",
                    "must be set together with ZOHO_CLIENT_ID",
                ));
            }
            (None, Some(_), _) => {
                return Err(ConfigError::new(
                    "ZOHO_CLIENT_ID",
                    "must be set together with ZOHO_CLIENT_SECRET",
                ));
            }
            (Some(_), Some(_), None) if emulator_asked => {
                return Err(ConfigError::new(
                    "ZOHO_EMULATOR",
                    "a Zoho client is configured: unset ZOHO_EMULATOR to use real Zoho, or \
                     unset ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET to use the emulator",
                ));
            }
            (Some(client_id), Some(_), None) => ZohoTarget::Zoho { client_id },
            (client_id, _, Some(url)) => ZohoTarget::Emulator {
                url: parse_emulator_url(&url)?,
                client_id: client_id.unwrap_or_else(|| DEV_CLIENT_ID.to_owned()),
            },
            (None, None, None) if emulator_asked || is_development(&var) => {
                let addr: SocketAddr = parse_or(
                    "ZOHO_EMULATOR_ADDR",
                    var("ZOHO_EMULATOR_ADDR"),
                    "127.0.0.1:3100",
                )?;
                if !addr.ip().is_loopback() {
                    return Err(ConfigError::new(
                        "ZOHO_EMULATOR_ADDR",
                        "the emulator listens on loopback only (127.0.0.0/8 or ::1)",
                    ));
                }
                // A fake Zoho with a public secret must not be what a deployment serves.
                if public_url.scheme() == "https" {
                    return Err(ConfigError::new(
                        "ZPORTAL_PUBLIC_URL",
                        "the embedded emulator is for development and does not run behind an \
                         https public URL: configure Zoho (ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET)",
                    ));
                }
                if !site_addr.ip().is_loopback() {
                    return Err(ConfigError::new(
                        "LEPTOS_SITE_ADDR",
                        "the embedded emulator runs only in a server that listens on loopback: \
                         configure Zoho (ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET) to listen elsewhere",
                    ));
                }
                ZohoTarget::Embedded { addr }
            }
            (None, None, None) => {
                return Err(ConfigError::new(
                    "ZOHO_CLIENT_ID",
                    "no Zoho client is configured: set ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET \
                     (README, \"Running against real Zoho\"), or ask for the built-in emulator \
                     with ZOHO_EMULATOR=1 (development and tests only)",
                ));
            }
        };

        let dcs = match var("ZOHO_DCS") {
            Some(list) => zoho::dc::parse_locations(&list)
                .map_err(|e| ConfigError::new("ZOHO_DCS", e.to_string()))?,
            None => DataCenter::ALL.to_vec(),
        };

        let data_dir = PathBuf::from(var("ZPORTAL_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("zportal.db").display()));
        if !database_url.starts_with("sqlite:") && !crate::store::is_postgres(&database_url) {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "use a sqlite:// or postgres:// URL",
            ));
        }

        let session_idle =
            parse_duration("ZPORTAL_SESSION_IDLE", var("ZPORTAL_SESSION_IDLE"), "2h")?;
        let session_max = parse_duration("ZPORTAL_SESSION_MAX", var("ZPORTAL_SESSION_MAX"), "24h")?;
        if session_max < session_idle {
            return Err(ConfigError::new(
                "ZPORTAL_SESSION_MAX",
                "must not be shorter than ZPORTAL_SESSION_IDLE",
            ));
        }

        let lease_ttl = parse_duration("ZPORTAL_LEASE_TTL", var("ZPORTAL_LEASE_TTL"), "10s")?;
        let zoho_timeout =
            parse_duration("ZPORTAL_ZOHO_TIMEOUT", var("ZPORTAL_ZOHO_TIMEOUT"), "10s")?;
        let zoho_cache = match var("ZPORTAL_ZOHO_CACHE").as_deref().map(str::trim) {
            Some("off" | "0") => Duration::ZERO,
            raw => parse_duration("ZPORTAL_ZOHO_CACHE", raw.map(str::to_owned), "5s")?,
        };
        if zoho_cache > Duration::from_secs(60) {
            return Err(ConfigError::new(
                "ZPORTAL_ZOHO_CACHE",
                "at most 1m: changes made in Zoho directly show only once it is up",
            ));
        }

        let server_timing = match var("ZPORTAL_SERVER_TIMING").as_deref() {
            None | Some("" | "0") => false,
            Some("1") => true,
            Some(other) => {
                return Err(ConfigError::new(
                    "ZPORTAL_SERVER_TIMING",
                    format!("expected `0` or `1`, got {other:?}"),
                ));
            }
        };

        let notifications = match var("ZPORTAL_NOTIFICATIONS").as_deref() {
            None | Some("" | "auto") => true,
            Some("off") => false,
            Some(other) => {
                return Err(ConfigError::new(
                    "ZPORTAL_NOTIFICATIONS",
                    format!("expected `auto` or `off`, got {other:?}"),
                ));
            }
        };

        let ops_addr = match var("ZPORTAL_OPS_ADDR") {
            None => None,
            Some(raw) => {
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
                Some(addr)
            }
        };

        let rate_limit = match var("ZPORTAL_RATE_LIMIT").as_deref().map(str::trim) {
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
        };
        let trusted_proxies = match var("ZPORTAL_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split([',', ' '])
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
                .collect::<Result<_, _>>()?,
        };

        let max_connections = parse_positive(
            "ZPORTAL_MAX_CONNECTIONS",
            var("ZPORTAL_MAX_CONNECTIONS"),
            DEFAULT_MAX_CONNECTIONS,
        )?;
        let zoho_concurrency = parse_positive(
            "ZPORTAL_ZOHO_CONCURRENCY",
            var("ZPORTAL_ZOHO_CONCURRENCY"),
            DEFAULT_ZOHO_CONCURRENCY,
        )?;

        let log_format = match var("ZPORTAL_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::new(
                    "ZPORTAL_LOG_FORMAT",
                    format!("expected `text` or `json`, got {other:?}"),
                ));
            }
        };

        let scopes: Vec<String> = var("ZOHO_SCOPES")
            .unwrap_or_else(|| DEFAULT_SCOPES.to_owned())
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if scopes.is_empty() {
            return Err(ConfigError::new(
                "ZOHO_SCOPES",
                "must name at least one scope",
            ));
        }
        for needed in ["ZohoCRM.users.READ", "ZohoCRM.org.READ"] {
            if !scopes.iter().any(|s| s.eq_ignore_ascii_case(needed)) {
                return Err(ConfigError::new(
                    "ZOHO_SCOPES",
                    format!("must include {needed}: sign-in reads the user and the org"),
                ));
            }
        }

        let token_key = match var("ZPORTAL_TOKEN_KEY") {
            Some(list) => {
                TokenCipher::from_key_list(&list)
                    .map_err(|e| ConfigError::new("ZPORTAL_TOKEN_KEY", e.to_string()))?;
                Some(Secret::new(list))
            }
            // Every process sharing a PostgreSQL database must encrypt with the same keys; a key
            // file generated on one machine would make the others' tokens unreadable.
            None if crate::store::is_postgres(&database_url) => {
                return Err(ConfigError::new(
                    "ZPORTAL_TOKEN_KEY",
                    "is required with a PostgreSQL DATABASE_URL: give every server process the same keys",
                ));
            }
            None => None,
        };

        Ok(Config {
            site_addr,
            public_url,
            zoho,
            client_secret,
            dcs,
            data_dir,
            database_url: DatabaseUrl(database_url),
            session_idle,
            session_max,
            log_format,
            scopes,
            token_key,
            lease_ttl,
            sign_in_ttl: Duration::from_secs(600),
            zoho_timeout,
            zoho_cache,
            zoho_concurrency,
            zoho_backoff: Duration::from_secs(60),
            server_timing,
            notifications,
            ops_addr,
            rate_limit,
            trusted_proxies,
            header_read_timeout: Duration::from_secs(10),
            max_connections,
        })
    }

    /// What each connection may take (see `listen`).
    pub fn connection_limits(&self) -> crate::listen::Limits {
        crate::listen::Limits {
            header_read_timeout: self.header_read_timeout,
            max_connections: self.max_connections,
        }
    }

    /// Whether the public origin is https (then cookies are `Secure` with the `__Host-` prefix).
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The public origin as browsers send it in `Origin` (scheme, host and port, no slash).
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// Where Zoho is to POST its notifications, if it can reach this server: always for the
    /// emulator (it runs beside zportal), for real Zoho only over https (it must come from the
    /// internet), and never with `ZPORTAL_NOTIFICATIONS=off`. `None`: open pages poll instead.
    pub fn notify_url(&self) -> Option<String> {
        let reachable = self.notifications
            && match self.zoho {
                ZohoTarget::Zoho { .. } => self.is_https(),
                ZohoTarget::Emulator { .. } | ZohoTarget::Embedded { .. } => true,
            };
        reachable.then(|| format!("{}/zoho/notify", self.public_origin()))
    }

    /// The one redirect URI registered with Zoho.
    pub fn redirect_uri(&self) -> String {
        format!("{}/auth/zoho/callback", self.public_origin())
    }

    /// The session cookie's name: `__Host-` prefixed on https.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.is_https() {
            "__Host-zportal_session"
        } else {
            "zportal_session"
        }
    }
}

/// The seeded development client of the emulator (README, "The emulator").
pub const DEV_CLIENT_ID: &str = "1000.ZPORTALDEV";
/// Its secret: public seed data of the emulator, not a real credential.
pub const DEV_CLIENT_SECRET: &str = "zportal-dev-secret";

fn parse_or<T: std::str::FromStr>(
    var: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    let raw = value.as_deref().unwrap_or(default);
    raw.trim()
        .parse()
        .map_err(|e| ConfigError::new(var, format!("{raw:?} is not valid: {e}")))
}

fn parse_duration(
    var: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<Duration, ConfigError> {
    let raw = value.as_deref().unwrap_or(default);
    let d = humantime::parse_duration(raw.trim()).map_err(|e| {
        ConfigError::new(
            var,
            format!("{raw:?} is not a duration like 2h or 30m: {e}"),
        )
    })?;
    if d.is_zero() {
        return Err(ConfigError::new(var, "must be longer than zero"));
    }
    Ok(d)
}

fn parse_base_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim())
        .map_err(|e| ConfigError::new(var, format!("{raw:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::new(var, "must be an http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(var, "must not carry a query or fragment"));
    }
    Ok(url)
}

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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    /// `vars` in development (`LEPTOS_ENV=DEV`, as `cargo xtask dev` runs the server).
    fn dev(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut all = vec![("LEPTOS_ENV", "DEV")];
        all.extend_from_slice(vars);
        config(&all)
    }

    #[test]
    fn development_defaults_run_the_embedded_emulator_on_loopback() {
        let c = dev(&[]).expect("defaults are valid");
        assert_eq!(c.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_origin(), "http://127.0.0.1:3000");
        assert_eq!(c.redirect_uri(), "http://127.0.0.1:3000/auth/zoho/callback");
        assert_eq!(
            c.zoho,
            ZohoTarget::Embedded {
                addr: "127.0.0.1:3100".parse().expect("addr")
            }
        );
        assert_eq!(c.dcs.len(), 9);
        assert_eq!(c.session_idle, Duration::from_secs(2 * 3600));
        assert_eq!(c.session_max, Duration::from_secs(24 * 3600));
        assert_eq!(c.session_cookie_name(), "zportal_session");
        assert!(c.database_url.as_str().starts_with("sqlite://"));
        assert_eq!(c.scopes.len(), 8);
        assert!(c.scopes.iter().any(|s| s == "ZohoCRM.notifications.ALL"));
        assert_eq!(
            c.notify_url().as_deref(),
            Some("http://127.0.0.1:3000/zoho/notify"),
            "the emulator reaches a server on loopback"
        );
        assert!(c.token_key.is_none());
        assert_eq!(c.rate_limit.map(|n| n.get()), Some(60));
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(c.ops_addr, None);
        assert_eq!(c.zoho_cache, Duration::from_secs(5));
        let off = dev(&[("ZPORTAL_ZOHO_CACHE", "off")]).expect("off is valid");
        assert_eq!(off.zoho_cache, Duration::ZERO);
    }

    #[test]
    fn https_public_url_prefixes_the_cookie() {
        let c = config(&[
            ("ZPORTAL_PUBLIC_URL", "https://crm.example.com"),
            ("ZOHO_CLIENT_ID", "1000.REAL"),
            ("ZOHO_CLIENT_SECRET", "s"),
        ])
        .expect("valid");
        assert!(c.is_https());
        assert_eq!(c.session_cookie_name(), "__Host-zportal_session");
        assert_eq!(c.public_origin(), "https://crm.example.com");
        assert_eq!(
            c.notify_url().as_deref(),
            Some("https://crm.example.com/zoho/notify")
        );
    }

    #[test]
    fn real_zoho_notifies_only_a_server_it_can_reach_over_https() {
        let c = config(&[
            ("ZPORTAL_PUBLIC_URL", "http://localhost:3000"),
            ("ZOHO_CLIENT_ID", "1000.REAL"),
            ("ZOHO_CLIENT_SECRET", "s"),
        ])
        .expect("valid");
        assert_eq!(c.notify_url(), None, "pages poll instead");
    }

    #[test]
    fn notifications_switched_off_are_never_asked_for() {
        let https = [
            ("ZPORTAL_PUBLIC_URL", "https://crm.example.com"),
            ("ZOHO_CLIENT_ID", "1000.REAL"),
            ("ZOHO_CLIENT_SECRET", "s"),
            ("ZPORTAL_NOTIFICATIONS", "off"),
        ];
        assert_eq!(config(&https).expect("valid").notify_url(), None);
        let emulator = dev(&[("ZPORTAL_NOTIFICATIONS", "off")]).expect("valid");
        assert_eq!(emulator.notify_url(), None, "not even the emulator's");
        let auto = dev(&[("ZPORTAL_NOTIFICATIONS", "auto")]).expect("valid");
        assert!(auto.notify_url().is_some());
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("LEPTOS_SITE_ADDR", "nowhere")], "LEPTOS_SITE_ADDR"),
            (&[("ZPORTAL_PUBLIC_URL", "ftp://x")], "ZPORTAL_PUBLIC_URL"),
            (
                &[("ZPORTAL_PUBLIC_URL", "https://x.test/app")],
                "ZPORTAL_PUBLIC_URL",
            ),
            (&[("ZOHO_CLIENT_ID", "1000.X")], "ZOHO_CLIENT_SECRET"),
            (&[("ZOHO_CLIENT_SECRET", "s")], "ZOHO_CLIENT_ID"),
            (&[("ZOHO_EMULATOR_URL", "not a url")], "ZOHO_EMULATOR_URL"),
            (
                &[("ZOHO_EMULATOR_ADDR", "0.0.0.0:3100")],
                "ZOHO_EMULATOR_ADDR",
            ),
            (&[("ZOHO_DCS", "us,mars")], "ZOHO_DCS"),
            (&[("ZPORTAL_SESSION_IDLE", "soon")], "ZPORTAL_SESSION_IDLE"),
            (
                &[
                    ("ZPORTAL_SESSION_IDLE", "3h"),
                    ("ZPORTAL_SESSION_MAX", "1h"),
                ],
                "ZPORTAL_SESSION_MAX",
            ),
            (&[("ZPORTAL_LOG_FORMAT", "xml")], "ZPORTAL_LOG_FORMAT"),
            (&[("ZPORTAL_OPS_ADDR", "metrics")], "ZPORTAL_OPS_ADDR"),
            (&[("ZPORTAL_NOTIFICATIONS", "on")], "ZPORTAL_NOTIFICATIONS"),
            (&[("ZPORTAL_RATE_LIMIT", "0")], "ZPORTAL_RATE_LIMIT"),
            (
                &[("ZPORTAL_MAX_CONNECTIONS", "0")],
                "ZPORTAL_MAX_CONNECTIONS",
            ),
            (
                &[("ZPORTAL_ZOHO_CONCURRENCY", "none")],
                "ZPORTAL_ZOHO_CONCURRENCY",
            ),
            (&[("ZPORTAL_RATE_LIMIT", "lots")], "ZPORTAL_RATE_LIMIT"),
            (
                &[("ZPORTAL_TRUSTED_PROXIES", "10.0.0.0/8, lb")],
                "ZPORTAL_TRUSTED_PROXIES",
            ),
            (
                &[("ZPORTAL_OPS_ADDR", "127.0.0.1:3000")],
                "ZPORTAL_OPS_ADDR",
            ),
            (&[("ZPORTAL_LEASE_TTL", "0s")], "ZPORTAL_LEASE_TTL"),
            (&[("ZPORTAL_ZOHO_TIMEOUT", "ten")], "ZPORTAL_ZOHO_TIMEOUT"),
            (&[("ZPORTAL_ZOHO_CACHE", "soon")], "ZPORTAL_ZOHO_CACHE"),
            (&[("ZPORTAL_ZOHO_CACHE", "2h")], "ZPORTAL_ZOHO_CACHE"),
            (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (
                &[("DATABASE_URL", "postgres://127.0.0.1/zportal")],
                "ZPORTAL_TOKEN_KEY",
            ),
            (&[("ZPORTAL_TOKEN_KEY", "k1:tooshort")], "ZPORTAL_TOKEN_KEY"),
            (&[("ZOHO_SCOPES", "ZohoCRM.modules.ALL")], "ZOHO_SCOPES"),
        ];
        for (vars, expected) in cases {
            let err = dev(vars).expect_err("must be refused");
            assert_eq!(err.var, *expected, "{vars:?} gave {err}");
            assert!(err.to_string().starts_with(expected));
        }
    }

    #[test]
    fn real_zoho_needs_both_halves_and_hides_the_secret() {
        let c = config(&[
            ("ZOHO_CLIENT_ID", "1000.REAL"),
            ("ZOHO_CLIENT_SECRET", "very-secret-value"),
            ("ZOHO_DCS", "eu,us"),
        ])
        .expect("valid");
        assert_eq!(
            c.zoho,
            ZohoTarget::Zoho {
                client_id: "1000.REAL".into()
            }
        );
        assert_eq!(c.dcs, vec![DataCenter::Eu, DataCenter::Us]);
        assert!(!format!("{c:?}").contains("very-secret-value"));
        let pg = config(&[
            ("ZOHO_CLIENT_ID", "1000.REAL"),
            ("ZOHO_CLIENT_SECRET", "s"),
            (
                "DATABASE_URL",
                "postgres://zportal:hunter2-db-pass@db.internal/zportal",
            ),
            (
                "ZPORTAL_TOKEN_KEY",
                &zoho::vault::TokenCipher::generate_key_list(),
            ),
        ])
        .expect("valid");
        let shown = format!("{pg:?}");
        assert!(!shown.contains("hunter2-db-pass"), "{shown}");
        assert!(
            shown.contains("db.internal"),
            "the rest stays useful: {shown}"
        );
        assert!(!shown.contains("k1:"), "nor the token key: {shown}");
    }

    #[test]
    fn an_emulator_url_uses_the_dev_client_unless_told_otherwise() {
        let c = config(&[("ZOHO_EMULATOR_URL", "http://127.0.0.1:3999")]).expect("valid");
        assert!(matches!(
            c.zoho,
            ZohoTarget::Emulator { ref client_id, .. } if client_id == DEV_CLIENT_ID
        ));
    }

    #[test]
    fn outside_development_a_server_without_a_zoho_client_refuses_to_start() {
        for env in [
            &[][..],
            &[("LEPTOS_ENV", "PROD")],
            &[("LEPTOS_WATCH", "false")],
        ] {
            let err = config(env).expect_err("no silent emulator");
            assert_eq!(err.var, "ZOHO_CLIENT_ID", "{env:?}");
            assert!(err.problem.contains("ZOHO_CLIENT_SECRET"), "{err}");
            assert!(err.problem.contains("ZOHO_EMULATOR=1"), "{err}");
        }
    }

    #[test]
    fn the_embedded_emulator_runs_when_asked_or_under_cargo_leptos_watch() {
        let embedded = |vars: &[(&str, &str)]| {
            matches!(
                config(vars).expect("valid").zoho,
                ZohoTarget::Embedded { .. }
            )
        };
        assert!(embedded(&[("ZOHO_EMULATOR", "1")]));
        assert!(embedded(&[("LEPTOS_WATCH", "true")]));
        assert!(embedded(&[("LEPTOS_ENV", "development")]));
        assert_eq!(
            config(&[("ZOHO_EMULATOR", "yes")])
                .expect_err("not a flag")
                .var,
            "ZOHO_EMULATOR"
        );
        let both = config(&[
            ("ZOHO_EMULATOR", "1"),
            ("ZOHO_CLIENT_ID", "1000.REAL"),
            ("ZOHO_CLIENT_SECRET", "s"),
        ]);
        assert_eq!(both.expect_err("ambiguous").var, "ZOHO_EMULATOR");
    }

    #[test]
    fn the_embedded_emulator_never_serves_https_or_a_non_loopback_address() {
        let https = config(&[
            ("ZOHO_EMULATOR", "1"),
            ("ZPORTAL_PUBLIC_URL", "https://crm.example.com"),
        ]);
        assert_eq!(https.expect_err("https").var, "ZPORTAL_PUBLIC_URL");
        let open = dev(&[("LEPTOS_SITE_ADDR", "0.0.0.0:3000")]);
        assert_eq!(open.expect_err("non-loopback").var, "LEPTOS_SITE_ADDR");
    }

    #[test]
    fn the_client_secret_never_goes_to_an_emulator_off_loopback() {
        for url in [
            "http://203.0.113.7:3100",
            "https://emulator.example.com",
            "http://127.0.0.1.example.com:3100",
        ] {
            let err = config(&[
                ("ZOHO_CLIENT_ID", "1000.REAL"),
                ("ZOHO_CLIENT_SECRET", "very-secret-value"),
                ("ZOHO_EMULATOR_URL", url),
            ])
            .expect_err(url);
            assert_eq!(err.var, "ZOHO_EMULATOR_URL", "{url}");
            assert!(!err.to_string().contains("very-secret-value"));
        }
        for url in [
            "http://127.0.0.1:3999",
            "http://localhost:3999",
            "http://[::1]:3999",
        ] {
            let c = config(&[
                ("ZOHO_CLIENT_ID", "1000.X"),
                ("ZOHO_CLIENT_SECRET", "s"),
                ("ZOHO_EMULATOR_URL", url),
            ]);
            assert!(matches!(c.expect(url).zoho, ZohoTarget::Emulator { .. }));
        }
    }
}
