//! What the vault stores, by concern, each a repository trait the SQL in `sql.rs` and
//! `live_sql.rs` implements for both stores: connections and their refresh leases, the save
//! ledger, the API credits, the saved views, the live log and the watch channels. [`VaultRepo`]
//! is all of them, which is what a vault is opened on.

use async_trait::async_trait;
use zoho::budget::OrgKey;
use zoho::ids::ConnectionId;

use super::{ConnectionRow, ConnectionStatus, StoredRefresh, VaultError};

/// A change to append to the live log.
#[derive(Clone, Copy, Debug)]
pub struct NewLiveEvent<'a> {
    pub dc: &'a str,
    pub org: &'a str,
    pub module: &'a str,
    /// Comma-separated record ids.
    pub ids: &'a str,
    pub op: &'a str,
    pub echo_pending: Echo,
    pub at: i64,
}

/// Which other word of the same change may still come: a write through zportal is followed by
/// Zoho's notification of it, and that notification may even arrive first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// Nothing (or it came): the entry is settled.
    None,
    /// Written through zportal: Zoho's notification of it is still to come.
    Notification,
    /// Notified by Zoho: zportal's own word of its write may still come.
    Write,
}

impl Echo {
    pub fn code(self) -> i64 {
        match self {
            Echo::None => 0,
            Echo::Notification => 1,
            Echo::Write => 2,
        }
    }
}

/// One entry of the live log, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRow {
    pub seq: i64,
    /// Its number among its org's events (the id that org's pages see).
    pub org_seq: i64,
    pub dc: String,
    pub org: String,
    pub module: String,
    pub ids: String,
    pub op: String,
    pub at: i64,
}

/// An org's registered watch channel: its id, the SHA-256 of its token (hex), the connection
/// that registered it and its expiry (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredChannel {
    pub channel_id: i64,
    pub token_hash: String,
    pub connection_id: String,
    pub expires_at: i64,
}

/// An org's row of `watch_channels`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchRow {
    pub org: OrgKey,
    /// `None` until one is registered (or after it was removed).
    pub channel: Option<StoredChannel>,
    /// Until when some process has open pages of the org.
    pub wanted_until: i64,
}

/// The ordered log of changes open pages follow.
#[async_trait]
pub trait LiveRepo: Send + Sync {
    /// Tells `e`: settles the oldest entry like it since the given time that waits for its
    /// `other` word (then `e` is that word, not a change of its own: `None`), else appends it —
    /// its seq, larger than any before. One teller at a time, across processes.
    async fn tell_live(
        &self,
        e: &NewLiveEvent<'_>,
        other: Option<(Echo, i64)>,
    ) -> Result<Option<i64>, VaultError>;
    /// Up to `limit` entries after `after`, in order.
    async fn live_after(&self, after: i64, limit: i64) -> Result<Vec<LiveRow>, VaultError>;
    /// Up to `limit` of `org`'s entries after its own number `after`, in order (by an index:
    /// no other org's entry is read).
    async fn live_in_org(
        &self,
        org: &OrgKey,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LiveRow>, VaultError>;
    /// The smallest and largest seq kept (0 for an empty log).
    async fn live_bounds(&self) -> Result<(i64, i64), VaultError>;
    /// The smallest and largest of `org`'s own numbers kept (0 when it has none).
    async fn live_org_bounds(&self, org: &OrgKey) -> Result<(i64, i64), VaultError>;
    /// The largest of `org`'s own numbers among the entries up to `seq` (0 when none).
    async fn live_org_head(&self, org: &OrgKey, seq: i64) -> Result<i64, VaultError>;
    /// Forgets entries stored before `before`, but never the newest, nor any org's newest (its
    /// numbers go on from it).
    async fn prune_live(&self, before: i64) -> Result<u64, VaultError>;
}

/// Connections and their refresh leases, row by row.
#[async_trait]
pub trait ConnectionRepo: Send + Sync {
    async fn by_id(&self, id: &str) -> Result<Option<ConnectionRow>, VaultError>;
    async fn by_key(
        &self,
        client_id: &str,
        dc: &str,
        org: &str,
        user: &str,
    ) -> Result<Option<ConnectionRow>, VaultError>;
    async fn insert(&self, row: &ConnectionRow) -> Result<(), VaultError>;
    /// Replaces the sign-in fields and tokens of an existing row (by id), bumping its generation.
    async fn update_sign_in(&self, row: &ConnectionRow) -> Result<(), VaultError>;
    async fn delete(&self, id: &str) -> Result<bool, VaultError>;
    async fn all(&self) -> Result<Vec<ConnectionRow>, VaultError>;
    /// Takes the refresh lease if it is free or expired (`lease_until < now`); true if taken.
    async fn try_lease(
        &self,
        id: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, VaultError>;
    /// Gives the lease back, if `holder` still has it.
    async fn release_lease(&self, id: &str, holder: &str) -> Result<(), VaultError>;
    /// Stores a refreshed access token and releases the lease, if `holder` still has it: bumps the
    /// generation and counts the refresh in the budget window. True if stored.
    async fn store_refresh(
        &self,
        id: &str,
        holder: &str,
        r: &StoredRefresh,
    ) -> Result<bool, VaultError>;
    /// Sets the connection's status, if it is still at `generation`; whether it was.
    async fn set_status(
        &self,
        id: &str,
        status: ConnectionStatus,
        generation: i64,
        now: i64,
    ) -> Result<bool, VaultError>;
    /// Replaces the ciphertexts of the row's tokens (the same tokens under the current key), if
    /// it is still at `generation`; whether it was.
    async fn rewrap(
        &self,
        id: &str,
        refresh_token: Option<&str>,
        access_token: Option<&str>,
        generation: i64,
    ) -> Result<bool, VaultError>;
    /// How many connections are in each status.
    async fn count_by_status(&self) -> Result<Vec<(String, i64)>, VaultError>;
    /// Proves the database answers.
    async fn ping(&self) -> Result<(), VaultError>;
}

/// What [`Vault::claim_save`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveClaim {
    /// This caller asks Zoho, then calls `finish_save` or `release_save`.
    Claimed,
    /// An earlier press of Save created this record.
    Done(String),
    /// Another request is asking Zoho right now.
    Busy,
}

/// The save ledger: one record per form, however often its "Save" is pressed.
#[async_trait]
pub trait SaveRepo: Send + Sync {
    /// Claims the save of form `token` until `until`: a new row, or one whose claim lapsed
    /// without a record (its holder died). Otherwise says what the row holds.
    async fn claim_save(
        &self,
        connection: &ConnectionId,
        token: &str,
        now: i64,
        until: i64,
    ) -> Result<SaveClaim, VaultError>;
    /// Records the id the claimed save created.
    async fn finish_save(
        &self,
        connection: &ConnectionId,
        token: &str,
        record_id: &str,
    ) -> Result<(), VaultError>;
    /// Gives a claim back when nothing was created, so the form can be saved again.
    async fn release_save(&self, connection: &ConnectionId, token: &str) -> Result<(), VaultError>;
    /// Forgets saves made before `before` (forms are long gone by then).
    async fn prune_saves(&self, before: i64) -> Result<u64, VaultError>;
}

/// The API credits each org spent, in ten-minute buckets.
#[async_trait]
pub trait CreditRepo: Send + Sync {
    /// Adds `used` API credits to the org's bucket starting at `bucket` (Unix seconds).
    async fn add_credits(&self, org: &OrgKey, bucket: i64, used: i64) -> Result<(), VaultError>;
    /// The org's credits in buckets that start after `since`.
    async fn credits_since(&self, org: &OrgKey, since: i64) -> Result<i64, VaultError>;
    /// Forgets buckets that start before `before`.
    async fn prune_credits(&self, before: i64) -> Result<u64, VaultError>;
}

/// Whose saved views: a person in an org of a data center (not a connection: views survive a
/// disconnect and a sign-in again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewOwner {
    pub dc: String,
    pub org: String,
    pub user: String,
}

/// One saved view as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedViewRow {
    pub id: String,
    pub module: String,
    pub name: String,
    /// The JSON the app wrote: conditions, columns, sort, page size.
    pub body: String,
    pub updated_at: i64,
}

/// Each person's named views of a module's list.
#[async_trait]
pub trait ViewRepo: Send + Sync {
    /// The owner's views of `module`, by name (case-insensitively).
    async fn views_of(
        &self,
        owner: &ViewOwner,
        module: &str,
    ) -> Result<Vec<SavedViewRow>, VaultError>;
    /// Stores a view under `name`: a view of that name already there is replaced (keeping its
    /// id, with the new body and `at`); otherwise a new row with id `new_id`. Returns the stored
    /// row. One statement, so two processes saving at once do not fail.
    async fn put_view(
        &self,
        owner: &ViewOwner,
        module: &str,
        new_id: &str,
        name: &str,
        body: &str,
        at: i64,
    ) -> Result<SavedViewRow, VaultError>;
    /// Deletes the owner's view `id` of `module`; whether there was one. Another owner's id
    /// deletes nothing.
    async fn delete_view(
        &self,
        owner: &ViewOwner,
        module: &str,
        id: &str,
    ) -> Result<bool, VaultError>;
}

/// Each org's Zoho watch channel, and which process may register or remove it.
#[async_trait]
pub trait WatchRepo: Send + Sync {
    /// Creates the org's watch row if missing, and keeps it wanted until at least `until`.
    async fn want_watch(&self, org: &OrgKey, until: i64) -> Result<(), VaultError>;
    async fn watch(&self, org: &OrgKey) -> Result<Option<WatchRow>, VaultError>;
    async fn watch_by_channel(&self, channel_id: i64) -> Result<Option<WatchRow>, VaultError>;
    async fn watches(&self) -> Result<Vec<WatchRow>, VaultError>;
    /// Takes the org's watch lease if it is free or lapsed; true if taken.
    async fn lease_watch(
        &self,
        org: &OrgKey,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, VaultError>;
    /// Stores the org's channel (or that it has none) and gives the lease back, if `holder`
    /// still holds it; whether it did.
    async fn store_watch(
        &self,
        org: &OrgKey,
        holder: &str,
        channel: Option<&StoredChannel>,
    ) -> Result<bool, VaultError>;
    /// Deletes the org's watch row, if `holder` holds its lease.
    async fn drop_watch(&self, org: &OrgKey, holder: &str) -> Result<(), VaultError>;
}

/// Everything a vault stores: what `SqliteRepo` and `PgRepo` are.
pub trait VaultRepo:
    ConnectionRepo + SaveRepo + CreditRepo + ViewRepo + LiveRepo + WatchRepo
{
}

impl<T: ConnectionRepo + SaveRepo + CreditRepo + ViewRepo + LiveRepo + WatchRepo> VaultRepo for T {}
