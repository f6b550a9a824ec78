//! The server's configuration, read once from the environment into types, by concern: where
//! it listens ([`http`]), which Zoho it talks to ([`target`]) and what it keeps ([`store`]).
//! A missing or malformed value stops the server with a message that names the variable
//! (README, "Configuration").

mod http;
mod parse;
mod store;
mod target;

pub use http::{DEFAULT_MAX_CONNECTIONS, DEFAULT_SIGN_IN_STARTS_PER_MINUTE, HttpConfig};
pub use store::{DatabaseUrl, StoreConfig};
pub use target::{
    Build, DEFAULT_SCOPES, DEFAULT_ZOHO_CONCURRENCY, DEV_CLIENT_ID, DEV_CLIENT_SECRET, ZohoConfig,
    ZohoTarget,
};

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

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the server reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub http: HttpConfig,
    pub zoho: ZohoConfig,
    pub store: StoreConfig,
    pub log_format: LogFormat,
}

impl Config {
    /// Reads the process environment, as this build (debug or release) reads it.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(|k| std::env::var(k).ok(), Build::current())
    }

    /// Reads the configuration through `get` as a release build does, so tests need not touch
    /// the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(get, Build::Release)
    }

    /// Reads the configuration through `get`, for a `build` of that kind.
    pub fn read(get: impl Fn(&str) -> Option<String>, build: Build) -> Result<Self, ConfigError> {
        let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let mut http = HttpConfig::read(&var)?;
        let zoho = ZohoConfig::read(&var, &http, build)?;
        // The embedded emulator runs on loopback only, for one developer and their browser tests,
        // which sign in far more often than a person: the per-client limit protects nothing there.
        if matches!(zoho.target, ZohoTarget::Embedded { .. }) && var("ZPORTAL_RATE_LIMIT").is_none()
        {
            http.rate_limit =
                std::num::NonZeroU32::new(http::DEVELOPMENT_SIGN_IN_STARTS_PER_MINUTE);
        }
        let store = StoreConfig::read(&var)?;
        let log_format = parse::parse_choice(
            "ZPORTAL_LOG_FORMAT",
            var("ZPORTAL_LOG_FORMAT").as_deref(),
            &[("text", LogFormat::Text), ("json", LogFormat::Json)],
            LogFormat::Text,
        )?;
        Ok(Config {
            http,
            zoho,
            store,
            log_format,
        })
    }

    /// What each connection may take (see `listen`).
    pub fn connection_limits(&self) -> crate::listen::Limits {
        crate::listen::Limits {
            header_read_timeout: self.http.header_read_timeout,
            body: self.http.body_deadline,
            max_connections: self.http.max_connections,
            per_client: self.http.max_connections_per_client,
            clients: crate::client::Clients::new(self.http.trusted_proxies.clone()),
        }
    }

    /// Whether the public origin is https (then cookies are `Secure` with the `__Host-` prefix).
    pub fn is_https(&self) -> bool {
        self.http.public_url.scheme() == "https"
    }

    /// The public origin as browsers send it in `Origin` (scheme, host and port, no slash).
    pub fn public_origin(&self) -> String {
        self.http.public_url.origin().ascii_serialization()
    }

    /// Where Zoho is to POST its notifications, if it can reach this server: always for the
    /// emulator (it runs beside zportal), for real Zoho only over https (it must come from the
    /// internet), and never with `ZPORTAL_NOTIFICATIONS=off`. `None`: open pages poll instead.
    pub fn notify_url(&self) -> Option<String> {
        let reachable = self.zoho.notifications
            && match self.zoho.target {
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use std::time::Duration;

    use zoho::DataCenter;

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
        assert_eq!(c.http.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_origin(), "http://127.0.0.1:3000");
        assert_eq!(c.redirect_uri(), "http://127.0.0.1:3000/auth/zoho/callback");
        assert_eq!(
            c.zoho.target,
            ZohoTarget::Embedded {
                addr: "127.0.0.1:3100".parse().expect("addr")
            }
        );
        assert_eq!(c.zoho.dcs.len(), 9);
        assert_eq!(c.store.session_idle, Duration::from_secs(2 * 3600));
        assert_eq!(c.store.session_max, Duration::from_secs(24 * 3600));
        assert_eq!(c.session_cookie_name(), "zportal_session");
        assert!(c.store.database_url.as_str().starts_with("sqlite://"));
        assert_eq!(c.zoho.scopes.len(), 11);
        for wanted in [
            "ZohoCRM.notifications.ALL",
            "ZohoCRM.settings.custom_views.READ",
            "ZohoCRM.change_owner.CREATE",
            "ZohoCRM.mass_update.UPDATE",
        ] {
            assert!(c.zoho.scopes.iter().any(|s| s == wanted), "{wanted}");
        }
        assert_eq!(
            c.notify_url().as_deref(),
            Some("http://127.0.0.1:3000/zoho/notify"),
            "the emulator reaches a server on loopback"
        );
        assert!(c.store.token_key.is_none());
        assert_eq!(
            c.http.rate_limit.map(|n| n.get()),
            Some(1000),
            "on the embedded emulator, a developer's browser tests are not throttled"
        );
        let real =
            config(&[("ZOHO_CLIENT_ID", "1000.REAL"), ("ZOHO_CLIENT_SECRET", "s")]).expect("valid");
        assert_eq!(real.http.rate_limit.map(|n| n.get()), Some(60));
        let set = dev(&[("ZPORTAL_RATE_LIMIT", "30")]).expect("valid");
        assert_eq!(set.http.rate_limit.map(|n| n.get()), Some(30));
        assert!(c.http.trusted_proxies.is_empty());
        assert_eq!(c.http.ops_addr, None);
        assert_eq!(c.zoho.cache, Duration::from_secs(5));
        let off = dev(&[("ZPORTAL_ZOHO_CACHE", "off")]).expect("off is valid");
        assert_eq!(off.zoho.cache, Duration::ZERO);
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
            c.zoho.target,
            ZohoTarget::Zoho {
                client_id: "1000.REAL".into()
            }
        );
        assert_eq!(c.zoho.dcs, vec![DataCenter::Eu, DataCenter::Us]);
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
                &keeper::vault::TokenCipher::generate_key_list(),
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
            c.zoho.target,
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
                config(vars).expect("valid").zoho.target,
                ZohoTarget::Embedded { .. }
            )
        };
        assert!(embedded(&[("ZOHO_EMULATOR", "1")]));
        assert!(embedded(&[("LEPTOS_WATCH", "true")]));
        assert!(embedded(&[("LEPTOS_ENV", "development")]));
        // A debug build (`cargo leptos serve`, `end-to-end`) on loopback is development too; on
        // another address it refuses as a release build does.
        let debug = |vars: &[(&str, &str)]| {
            let map: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Config::read(|k| map.get(k).cloned(), Build::Debug)
        };
        assert!(matches!(
            debug(&[]).expect("valid").zoho.target,
            ZohoTarget::Embedded { .. }
        ));
        for reached_elsewhere in [
            &[("LEPTOS_SITE_ADDR", "0.0.0.0:3000")][..],
            &[("ZPORTAL_PUBLIC_URL", "http://crm.internal")],
            &[("ZPORTAL_TRUSTED_PROXIES", "127.0.0.1")],
            &[("LEPTOS_ENV", "PROD")],
        ] {
            assert_eq!(
                debug(reached_elsewhere).expect_err("not development").var,
                "ZOHO_CLIENT_ID",
                "{reached_elsewhere:?}"
            );
        }
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
            assert!(matches!(
                c.expect(url).zoho.target,
                ZohoTarget::Emulator { .. }
            ));
        }
    }
}
