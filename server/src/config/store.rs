//! What the server keeps and for how long: the data directory, the database, the key its tokens
//! are encrypted with, sessions' lifetimes and the refresh lease's.

use std::path::PathBuf;
use std::time::Duration;

use keeper::vault::TokenCipher;
use url::Url;
use zoho::Secret;

use super::ConfigError;
use super::parse::parse_duration;

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

/// Where and how long things are kept.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    /// `ZPORTAL_TOKEN_KEY`, validated; `None` means the generated key file in the data directory.
    pub token_key: Option<Secret>,
    pub session_idle: Duration,
    pub session_max: Duration,
    /// How long a refresh lease lives if its holder dies (`ZPORTAL_LEASE_TTL`).
    pub lease_ttl: Duration,
    /// How long a started sign-in may take (not configurable from the environment).
    pub sign_in_ttl: Duration,
}

impl StoreConfig {
    /// Reads the store's variables through `var`.
    pub(super) fn read(var: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
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
        Ok(StoreConfig {
            data_dir,
            database_url: DatabaseUrl(database_url),
            token_key,
            session_idle,
            session_max,
            lease_ttl: parse_duration("ZPORTAL_LEASE_TTL", var("ZPORTAL_LEASE_TTL"), "10s")?,
            sign_in_ttl: Duration::from_secs(600),
        })
    }
}
