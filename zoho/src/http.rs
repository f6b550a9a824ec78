//! The HTTP layer every Zoho call goes through: one client (no redirects followed, bounded time),
//! where a connection's API calls go ([`Api`]), and the one error for a call that got no usable
//! answer ([`HttpError`]).

use std::time::Duration;

use crate::dc::DataCenter;

/// Why a call to Zoho got no usable answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("Zoho did not answer in time")]
    Timeout,
    #[error("could not reach Zoho: {0}")]
    Transport(String),
    /// A status the endpoint never answers with when it works, and no error code of Zoho's.
    #[error("Zoho answered HTTP {0}")]
    Status(u16),
    #[error("Zoho's answer could not be read: {0}")]
    Malformed(&'static str),
}

impl HttpError {
    /// Whether trying again later may help: Zoho was slow or out of reach, not refusing.
    pub fn is_transient(&self) -> bool {
        matches!(self, HttpError::Timeout | HttpError::Transport(_))
    }
}

impl From<reqwest::Error> for HttpError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            HttpError::Timeout
        } else {
            // Without the URL: it may carry a query with secrets.
            HttpError::Transport(e.without_url().to_string())
        }
    }
}

/// The HTTP client for Zoho: no redirects followed, bounded time for every call.
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5).min(timeout))
        .timeout(timeout)
        .user_agent(concat!("zportal/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Where a connection's API calls go: its data center and the `api_domain` Zoho gave it.
#[derive(Clone, Copy, Debug)]
pub struct Api<'a> {
    pub dc: DataCenter,
    pub domain: &'a str,
}
