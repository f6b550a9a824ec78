//! How the CRM client gets its access tokens: through a [`TokenSource`], which whoever stores
//! the connections implements (zportal's refresh coordinator, or anything that holds a token).
//! zoho itself keeps no token.

use async_trait::async_trait;

use crate::dc::DataCenter;
use crate::http::Api;
use crate::ids::ConnectionId;
use crate::secret::Secret;

/// Why no access token could be had. A closed set: callers match on it, never on text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    #[error("the connection does not exist")]
    NotFound,
    #[error("Zoho refused the stored refresh token: sign in again")]
    NeedsReconnect,
    /// Zoho is limiting requests (or our own budget is spent); try again at `retry_at` (Unix s).
    #[error("Zoho is limiting requests; retrying at {retry_at}")]
    Throttled { retry_at: i64 },
    #[error("Zoho could not be reached")]
    Unavailable,
    #[error("the connection store failed")]
    Store,
}

/// An access token ready to use, and which generation of the connection it belongs to.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub token: Secret,
    pub generation: i64,
    pub dc: DataCenter,
    pub api_domain: String,
    pub expires_at: i64,
    /// When it was obtained: the margin before expiry is at most half its life.
    pub obtained_at: i64,
    /// The connection's org (whose API budget its calls spend), and its name.
    pub org: crate::ids::OrgId,
    pub org_name: String,
}

impl AccessToken {
    /// Where calls with this token go.
    pub fn api(&self) -> Api<'_> {
        Api {
            dc: self.dc,
            domain: &self.api_domain,
        }
    }
}

/// Where CRM calls get their access tokens.
#[async_trait]
pub trait TokenSource: Send + Sync + std::fmt::Debug {
    /// A token for connection `id` that is good for a call now.
    async fn access_token(&self, id: &ConnectionId) -> Result<AccessToken, RefreshError>;

    /// Zoho answered 401 `INVALID_TOKEN` to a token of `generation`: a token to try once more
    /// with (a new one, unless another call already replaced that one).
    async fn after_unauthorized(
        &self,
        id: &ConnectionId,
        generation: i64,
    ) -> Result<AccessToken, RefreshError>;
}
