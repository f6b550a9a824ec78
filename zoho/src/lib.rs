//! Zoho for zportal, without any UI: the data centers and where they live, the OAuth client, the
//! encrypted token vault, and the CRM client.

pub mod crm;
pub mod dc;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod ids;
pub mod metadata;
pub mod meter;
pub mod oauth;
mod random;
pub mod records;
pub mod refresh;
pub mod secret;
pub mod vault;

pub use dc::{DataCenter, DcError, DcTable};
pub use ids::{ClientId, ConnectionId, OrgId, UserId};
pub use secret::Secret;

/// A fresh random value for state and ids: `bytes` random bytes as base64url.
pub fn random_token(bytes: usize) -> String {
    random::token(bytes)
}

/// A fresh random value as lowercase hex: `bytes` random bytes, twice as many characters.
pub fn random_hex(bytes: usize) -> String {
    random::hex(bytes)
}
