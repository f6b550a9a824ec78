//! Zoho for zportal, without any UI. The modules import one way, each only from those listed
//! before it:
//!
//! - leaves: [`clock`], [`dc`] (data centers and where they live), [`ids`], [`secret`],
//!   [`meter`], [`cache`];
//! - [`bus`]: changes one process tells the others of, so caches stay true;
//! - [`call`]: what one CRM request is, as a value (what it does to what);
//! - [`http`]: the one HTTP client, where calls go, and the one transport error;
//! - [`budget`]: Zoho's API limits shared fairly (queues, retries of 429, credits, back-off);
//! - [`oauth`]: Zoho Accounts (authorization URL, code exchange, refresh, revoke);
//! - [`vault`]: connections stored with their tokens encrypted;
//! - [`refresh`]: access tokens handed out, each connection refreshed once per need;
//! - [`live`]: the ordered log of what changed in each org's records, for open pages;
//! - [`crm`]: CRM calls of a connection (identity, metadata, records, watch channels);
//! - [`watch`]: one Zoho watch channel per org with open pages, across processes;
//! - [`connect`]: [`Zoho`], all of the above for one client, and the completion of a sign-in;
//! - [`ledger`]: one record per form, however often its "Save" is pressed.

pub mod budget;
pub mod bus;
pub mod cache;
pub mod call;
pub mod clock;
pub mod connect;
pub mod crm;
pub mod dc;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod http;
pub mod ids;
pub mod ledger;
pub mod live;
pub mod meter;
pub mod oauth;
mod random;
pub mod refresh;
pub mod secret;
pub mod vault;
pub mod watch;

pub use connect::{SignInError, SignedIn, Zoho};
pub use dc::{DataCenter, DcError, DcTable};
pub use ids::{ClientId, ConnectionId, OrgId, UserId};
pub use ledger::SaveError;
pub use secret::Secret;

/// A fresh random value for state and ids: `bytes` random bytes as base64url.
pub fn random_token(bytes: usize) -> String {
    random::token(bytes)
}

/// A fresh random value as lowercase hex: `bytes` random bytes, twice as many characters.
pub fn random_hex(bytes: usize) -> String {
    random::hex(bytes)
}
