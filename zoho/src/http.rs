//! The HTTP layer every Zoho call goes through: one client (no redirects followed, bounded time),
//! where a connection's API calls go ([`Api`]), what one CRM request is ([`Call`]), and the one
//! error for a call that got no usable answer ([`HttpError`]).

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

/// A request to `{api_domain}/crm/v8/{path}`: its method and body, if any.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    pub method: &'a reqwest::Method,
    pub path: &'a str,
    pub body: Body<'a>,
    /// `If-Modified-Since`: Zoho answers 304 with no body if nothing changed after it.
    pub since: Option<std::time::SystemTime>,
}

/// What a CRM request carries.
#[derive(Clone, Copy, Debug)]
pub enum Body<'a> {
    None,
    Json(&'a serde_json::Value),
    /// A file, sent as the `file` part of a `multipart/form-data` body. The bytes are held so
    /// the call can be sent again after a refused token.
    File(&'a FilePart),
}

/// A file to upload.
#[derive(Clone, Debug)]
pub struct FilePart {
    pub file_name: String,
    pub content_type: String,
    pub bytes: bytes::Bytes,
}

impl<'a> Call<'a> {
    /// `GET {api_domain}/crm/v8/{path}`.
    pub fn get(path: &'a str) -> Self {
        Call {
            method: &reqwest::Method::GET,
            path,
            body: Body::None,
            since: None,
        }
    }

    /// `method {api_domain}/crm/v8/{path}` with a JSON body.
    pub fn json(method: &'a reqwest::Method, path: &'a str, body: &'a serde_json::Value) -> Self {
        Call {
            method,
            path,
            body: Body::Json(body),
            since: None,
        }
    }

    /// `DELETE {api_domain}/crm/v8/{path}`.
    pub fn delete(path: &'a str) -> Self {
        Call {
            method: &reqwest::Method::DELETE,
            path,
            body: Body::None,
            since: None,
        }
    }
}
