//! zportal's truth, and its processes in step, over the [`zoho`] protocol crate: what is stored
//! (connections with their tokens encrypted, refresh leases, saves, API credits, saved views, the
//! live log, watch channels) and what keeps several server processes agreeing on it. The modules
//! import one way, each only from those listed before it:
//!
//! - leaves: [`coherent`] (a cache writers invalidate), [`response_cache`];
//! - [`bus`]: changes one process publishes to the others, so caches stay true;
//! - [`vault`]: connections stored with their tokens encrypted, and the other tables;
//! - [`refresh`]: access tokens handed out, each connection refreshed once per need;
//! - [`live`]: the ordered log of what changed in each org's records, for open pages;
//! - [`crm_layer`]: the response cache in front of Zoho, and the publishing of writes;
//! - [`watch`]: one Zoho watch channel per org with open pages, across processes;
//! - [`connect`]: [`Zoho`], all of the above for one client, and the completion of a sign-in;
//! - [`ledger`]: one record per form, however often its "Save" is pressed.

pub mod bus;
pub mod coherent;
pub mod connect;
pub mod crm_layer;
pub mod ledger;
pub mod live;
pub mod refresh;
pub mod response_cache;
pub mod vault;
pub mod watch;

pub use connect::{SignInError, SignedIn, Zoho};
pub use ledger::SaveError;
