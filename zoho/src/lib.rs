//! Zoho for zportal, without any UI: which data centers exist and where they live, and (as the
//! sign-in and refresh work lands) the OAuth client, the encrypted token vault and the CRM client.

pub mod dc;

pub use dc::{DataCenter, DcError, DcTable};
