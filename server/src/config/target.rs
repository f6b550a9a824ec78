//! Which Zoho the server talks to, and how: real Zoho with a client, an emulator already
//! running, or the embedded one (only in development, on loopback, never behind https); the
//! data centers, the scopes, and the pace of calls to Zoho.

use std::net::SocketAddr;
use std::time::Duration;

use url::Url;
use zoho::{DataCenter, Secret};

use super::ConfigError;
use super::http::HttpConfig;
use super::parse::{parse_base_url, parse_choice, parse_duration, parse_or, parse_positive};

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

/// Zoho: where, as which client, for which data centers and scopes, and how calls are paced.
#[derive(Debug, Clone)]
pub struct ZohoConfig {
    pub target: ZohoTarget,
    /// The client secret, when one is configured; never printed ([`Secret`]'s `Debug`).
    pub client_secret: Option<Secret>,
    pub dcs: Vec<DataCenter>,
    /// The OAuth scopes requested at sign-in.
    pub scopes: Vec<String>,
    /// The longest any single call to Zoho may take (`ZPORTAL_ZOHO_TIMEOUT`).
    pub timeout: Duration,
    /// Calls to Zoho in flight per connection in this process, at most
    /// (`ZPORTAL_ZOHO_CONCURRENCY`; the bound adapts down on 429).
    pub concurrency: usize,
    /// How long a CRM read's answer is served again without asking Zoho (`ZPORTAL_ZOHO_CACHE`,
    /// default 5s; `off` keeps none). Writes through zportal end it at once.
    pub cache: Duration,
    /// How long an org whose API credits are spent is first left alone; it doubles up to 30
    /// times this (not configurable from the environment: Zoho's window is a day).
    pub backoff: Duration,
    /// Whether Zoho is asked to notify this server of changes (`ZPORTAL_NOTIFICATIONS`, `auto`:
    /// whenever it can reach it); `off` for a server Zoho cannot reach though it is on https.
    pub notifications: bool,
}

/// `ZPORTAL_ZOHO_CONCURRENCY`'s default: well under every edition's cap (Free's is 5).
pub const DEFAULT_ZOHO_CONCURRENCY: usize = 4;

/// The scopes zportal asks for: only what the UI uses (modules, their metadata, the user, the org).
pub const DEFAULT_SCOPES: &str = "ZohoCRM.modules.ALL,ZohoCRM.settings.modules.READ,ZohoCRM.settings.fields.READ,ZohoCRM.settings.related_lists.READ,ZohoCRM.coql.READ,ZohoCRM.notifications.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ,ZohoCRM.change_owner.CREATE,ZohoCRM.mass_update.UPDATE,ZohoCRM.settings.custom_views.READ";

/// The seeded development client of the emulator (README, "The emulator").
pub const DEV_CLIENT_ID: &str = "1000.ZPORTALDEV";
/// Its secret: public seed data of the emulator, not a real credential.
pub const DEV_CLIENT_SECRET: &str = "zportal-dev-secret";

impl ZohoConfig {
    /// Reads Zoho's variables through `var`; `http` says where this server listens, which
    /// decides whether the embedded emulator may run.
    pub(super) fn read(
        var: &impl Fn(&str) -> Option<String>,
        http: &HttpConfig,
        build: Build,
    ) -> Result<Self, ConfigError> {
        let client_secret = var("ZOHO_CLIENT_SECRET").map(Secret::new);
        let target = target(var, client_secret.is_some(), http, build)?;
        let dcs = match var("ZOHO_DCS") {
            Some(list) => zoho::dc::parse_locations(&list)
                .map_err(|e| ConfigError::new("ZOHO_DCS", e.to_string()))?,
            None => DataCenter::ALL.to_vec(),
        };
        let timeout = parse_duration("ZPORTAL_ZOHO_TIMEOUT", var("ZPORTAL_ZOHO_TIMEOUT"), "10s")?;
        let cache = match var("ZPORTAL_ZOHO_CACHE").as_deref().map(str::trim) {
            Some("off" | "0") => Duration::ZERO,
            raw => parse_duration("ZPORTAL_ZOHO_CACHE", raw.map(str::to_owned), "5s")?,
        };
        if cache > Duration::from_secs(60) {
            return Err(ConfigError::new(
                "ZPORTAL_ZOHO_CACHE",
                "at most 1m: changes made in Zoho directly show only once it is up",
            ));
        }
        let notifications = parse_choice(
            "ZPORTAL_NOTIFICATIONS",
            var("ZPORTAL_NOTIFICATIONS").as_deref(),
            &[("auto", true), ("off", false)],
            true,
        )?;
        let concurrency = parse_positive(
            "ZPORTAL_ZOHO_CONCURRENCY",
            var("ZPORTAL_ZOHO_CONCURRENCY"),
            DEFAULT_ZOHO_CONCURRENCY,
        )?;
        Ok(ZohoConfig {
            target,
            client_secret,
            dcs,
            scopes: scopes(var)?,
            timeout,
            concurrency,
            cache,
            backoff: Duration::from_secs(60),
            notifications,
        })
    }
}

/// Real Zoho when a client is configured; an emulator when one is named, or asked for, or this
/// is development; otherwise a refusal that says what to set.
fn target(
    var: &impl Fn(&str) -> Option<String>,
    has_secret: bool,
    http: &HttpConfig,
    build: Build,
) -> Result<ZohoTarget, ConfigError> {
    let client_id = var("ZOHO_CLIENT_ID");
    let emulator_url = var("ZOHO_EMULATOR_URL");
    let emulator_asked = parse_choice(
        "ZOHO_EMULATOR",
        var("ZOHO_EMULATOR").as_deref(),
        &[("0", false), ("1", true)],
        false,
    )?;
    Ok(match (client_id, has_secret, emulator_url) {
        (Some(_), false, _) => {
            return Err(ConfigError::new(
                "ZOHO_CLIENT_SECRET",
                "must be set together with ZOHO_CLIENT_ID",
            ));
        }
        (None, true, _) => {
            return Err(ConfigError::new(
                "ZOHO_CLIENT_ID",
                "must be set together with ZOHO_CLIENT_SECRET",
            ));
        }
        (Some(_), true, None) if emulator_asked => {
            return Err(ConfigError::new(
                "ZOHO_EMULATOR",
                "a Zoho client is configured: unset ZOHO_EMULATOR to use real Zoho, or \
                 unset ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET to use the emulator",
            ));
        }
        (Some(client_id), true, None) => ZohoTarget::Zoho { client_id },
        (client_id, _, Some(url)) => ZohoTarget::Emulator {
            url: parse_emulator_url(&url)?,
            client_id: client_id.unwrap_or_else(|| DEV_CLIENT_ID.to_owned()),
        },
        (None, false, None) if emulator_asked || is_development(var, http, build) => {
            ZohoTarget::Embedded {
                addr: embedded_addr(var, http)?,
            }
        }
        (None, false, None) => {
            return Err(ConfigError::new(
                "ZOHO_CLIENT_ID",
                "no Zoho client is configured: set ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET \
                 (README, \"Running against real Zoho\"), or ask for the built-in emulator \
                 with ZOHO_EMULATOR=1 (development and tests only)",
            ));
        }
    })
}

/// Where the embedded emulator listens: loopback only, and only for a server on loopback that is
/// not behind https (a fake Zoho with a public secret must not be what a deployment serves).
fn embedded_addr(
    var: &impl Fn(&str) -> Option<String>,
    http: &HttpConfig,
) -> Result<SocketAddr, ConfigError> {
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
    if http.public_url.scheme() == "https" {
        return Err(ConfigError::new(
            "ZPORTAL_PUBLIC_URL",
            "the embedded emulator is for development and does not run behind an \
             https public URL: configure Zoho (ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET)",
        ));
    }
    if !http.site_addr.ip().is_loopback() {
        return Err(ConfigError::new(
            "LEPTOS_SITE_ADDR",
            "the embedded emulator runs only in a server that listens on loopback: \
             configure Zoho (ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET) to listen elsewhere",
        ));
    }
    Ok(addr)
}

/// `ZOHO_SCOPES`, which must let sign-in read the user and the org.
fn scopes(var: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
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
    Ok(scopes)
}

/// Which kind of build reads the configuration: it decides nothing but whether a server with no
/// Zoho client configured may fall back to the embedded emulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// `cargo leptos watch`, `serve` and `end-to-end` without `--release`.
    Debug,
    Release,
}

impl Build {
    /// The build this code was compiled as.
    pub fn current() -> Build {
        if cfg!(debug_assertions) {
            Build::Debug
        } else {
            Build::Release
        }
    }
}

/// Whether this server runs for development: `LEPTOS_ENV=DEV` (what `cargo xtask dev` sets),
/// under `cargo leptos watch` (which sets `LEPTOS_WATCH`), or a debug build that is reached on
/// loopback alone (`cargo leptos serve`, `end-to-end`: it listens on loopback, its public URL is
/// a loopback one, and no proxy is trusted to speak for others). Only then is the embedded
/// emulator the default; anywhere else, and always with `LEPTOS_ENV=PROD`, a server without a
/// Zoho client refuses to start.
fn is_development(var: &impl Fn(&str) -> Option<String>, http: &HttpConfig, build: Build) -> bool {
    let env = var("LEPTOS_ENV").map(|v| v.trim().to_ascii_lowercase());
    match env.as_deref() {
        Some("dev" | "development") => return true,
        Some("prod" | "production") => return false,
        _ => {}
    }
    let public_on_loopback = match http.public_url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    let debug_on_loopback = build == Build::Debug
        && http.site_addr.ip().is_loopback()
        && public_on_loopback
        && http.trusted_proxies.is_empty();
    var("LEPTOS_WATCH").is_some_and(|v| v.trim() == "true") || debug_on_loopback
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
