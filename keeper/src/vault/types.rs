//! The vault's types: what identifies a connection, a connection as the program sees it (its
//! tokens decrypted) and as a row stores it (ciphertexts), and the refresh budget it carries.

use zoho::dc::DataCenter;
use zoho::ids::{ClientId, ConnectionId, OrgId, UserId};
use zoho::secret::Secret;

/// What identifies a connection: one per client, data center, org and user.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionKey {
    pub client_id: ClientId,
    pub dc: DataCenter,
    pub org: OrgId,
    pub user: UserId,
}

impl ConnectionKey {
    /// Associated data for one of this connection's ciphertexts: a token decrypts only for the
    /// connection and the purpose (`refresh` or `access`) it was written for.
    pub(super) fn aad(&self, purpose: &str) -> Vec<u8> {
        format!(
            "zportal/v1|{}|{}|{}|{}|{purpose}",
            self.client_id, self.dc, self.org, self.user
        )
        .into_bytes()
    }
}

/// Whether a connection can be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionStatus {
    Active,
    /// Zoho refused the refresh token (revoked or deleted): the user must sign in again.
    NeedsReconnect,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Active => "active",
            ConnectionStatus::NeedsReconnect => "needs_reconnect",
        }
    }

    pub(super) fn parse(s: &str) -> Self {
        match s {
            "needs_reconnect" => ConnectionStatus::NeedsReconnect,
            _ => ConnectionStatus::Active,
        }
    }
}

/// A stored connection with its tokens decrypted.
#[derive(Clone, Debug)]
pub struct Connection {
    pub id: ConnectionId,
    pub key: ConnectionKey,
    pub email: String,
    pub org_name: String,
    pub scopes: Vec<String>,
    pub status: ConnectionStatus,
    pub refresh_token: Option<Secret>,
    pub access_token: Option<Secret>,
    /// Unix seconds.
    pub access_expires_at: Option<i64>,
    /// A stored token that no configured key decrypts (left out as `None` above).
    pub unreadable: bool,
    /// Bumped each time the access token changes.
    pub generation: i64,
    pub last_refresh_at: Option<i64>,
    pub created_at: i64,
    /// When the row last changed (a sign-in or a refresh stores the access token with it).
    pub updated_at: i64,
    /// Refreshes spent in Zoho's current window.
    pub budget: RefreshBudget,
}

/// A comma-separated column (a connection's scopes, a live event's ids) as its items.
pub(crate) fn comma_list(column: &str) -> Vec<String> {
    column
        .split(',')
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The associated data of a sealed value: it opens only for the purpose it was sealed for.
pub(super) fn sealed_aad(purpose: &str) -> Vec<u8> {
    format!("zportal sealed: {purpose}").into_bytes()
}

/// What `rewrap_all` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rewrapped {
    /// The key everything is now under.
    pub key: String,
    pub connections: usize,
    /// Connections whose tokens were under an older key, now under `key`.
    pub rewrapped: usize,
    /// Connections no configured key decrypts: marked "needs reconnect".
    pub unreadable: usize,
}

/// Zoho's budget: at most [`RefreshBudget::MAX`] access tokens per refresh token per
/// [`RefreshBudget::WINDOW_SECS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefreshBudget {
    pub window_start: i64,
    pub count: i64,
}

impl RefreshBudget {
    pub const MAX: i64 = 10;
    pub const WINDOW_SECS: i64 = 600;

    /// When a refresh would be allowed again, or `None` if one is allowed now.
    pub fn blocked_until(&self, now: i64) -> Option<i64> {
        let window_open = now - self.window_start < Self::WINDOW_SECS;
        (window_open && self.count >= Self::MAX).then_some(self.window_start + Self::WINDOW_SECS)
    }

    /// The window after one more refresh at `now`.
    pub(super) fn after_one_more(&self, now: i64) -> (i64, i64) {
        if now - self.window_start >= Self::WINDOW_SECS {
            (now, 1)
        } else {
            (self.window_start, self.count + 1)
        }
    }
}

/// What a sign-in learned, to store.
#[derive(Clone, Debug)]
pub struct NewConnection {
    pub key: ConnectionKey,
    pub email: String,
    pub org_name: String,
    pub scopes: Vec<String>,
    /// `None` keeps the stored refresh token (Zoho gives none to a returning user).
    pub refresh_token: Option<Secret>,
    pub access_token: Secret,
    pub access_expires_at: i64,
}

/// A row as stored: tokens are ciphertexts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionRow {
    pub id: String,
    pub client_id: String,
    pub dc: String,
    pub org_zgid: String,
    pub user_zuid: String,
    pub email: String,
    pub org_name: String,
    pub scopes: String,
    pub status: String,
    pub refresh_token: Option<String>,
    pub access_token: Option<String>,
    pub access_expires_at: Option<i64>,
    pub generation: i64,
    pub last_refresh_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Start (Unix seconds) and count of the refreshes in Zoho's current 10-minute window.
    pub refresh_window_start: i64,
    pub refresh_window_count: i64,
}

/// A refreshed access token as stored (ciphertext), with the budget window after it.
#[derive(Clone, Debug)]
pub struct StoredRefresh {
    pub access: String,
    pub expires_at: i64,
    pub now: i64,
    pub window_start: i64,
    pub window_count: i64,
}
