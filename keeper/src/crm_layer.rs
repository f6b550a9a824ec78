//! What zportal puts in front of Zoho's CRM API ([`zoho::crm::CallLayer`]): reads of records
//! answered from the [`ResponseCache`] while they hold (one call to Zoho for the same reads that
//! arrive together, a record past its time asked for with `If-Modified-Since`), and every write
//! invalidating its org's cached answers here, published on the bus to the other processes and
//! into the live log for open pages.

use async_trait::async_trait;
use bytes::Bytes;
use zoho::budget::OrgKey;
use zoho::call::Call;
use zoho::crm::{CallLayer, CrmClient, CrmError};
use zoho::ids::ConnectionId;
use zoho::meter::CACHED_ANSWERS;

use crate::bus::{Bus, Change};
use crate::live::{Changed, Hub};
use crate::response_cache::{CachedRead, Lookup, ResponseCache, SingleFlight};

/// The response cache and the publishing of writes, for one process.
#[derive(Debug)]
pub struct CrmLayer {
    cache: ResponseCache,
    bus: Bus,
    live: Hub,
}

#[async_trait]
impl CallLayer for CrmLayer {
    async fn call(
        &self,
        crm: &CrmClient,
        id: &ConnectionId,
        call: Call<'_>,
    ) -> Result<(u16, Bytes), CrmError> {
        if self.cache.enabled() && call.reads_record_data() {
            return self.cached(crm, id, call).await;
        }
        if call.changes_records() {
            let org = crm.org_key(id).await?;
            // Invalidated whatever the outcome: a write whose answer was lost may still have
            // landed.
            let answer = crm.send(id, call).await;
            let body = answer.as_ref().ok().map(|(_, body)| body.as_ref());
            self.records_changed(&org, crate::live::changed_by(&org, &call, body))
                .await;
            return answer;
        }
        crm.send(id, call).await
    }
}

impl CrmLayer {
    /// Answers kept `fresh_for` (zero keeps none), changes published on `bus` and into `live`.
    pub fn new(fresh_for: std::time::Duration, bus: Bus, live: Hub) -> Self {
        CrmLayer {
            cache: ResponseCache::new(fresh_for),
            bus,
            live,
        }
    }

    /// Records of `org` changed through another process: what was read of them here before is
    /// not served again.
    pub fn invalidate_org(&self, org: &OrgKey) {
        self.cache.invalidate_org(org);
    }

    /// Changes may have been missed: no answer read before is served again.
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// `org`'s records changed: its cached answers are invalidated here, the open pages told
    /// what changed when the call says (a write whose answer was lost says nothing for sure),
    /// and the other processes told to invalidate theirs.
    pub async fn records_changed(&self, org: &OrgKey, changed: Option<Changed>) {
        self.cache.invalidate_org(org);
        if let Some(changed) = changed
            && let Err(e) = self.live.wrote(&changed).await
        {
            tracing::warn!(error = %e, "could not tell the open pages of a write");
        }
        self.publish_records_changed(org).await;
    }

    /// Tells the other processes that `org`'s records changed: they invalidate what they cached.
    pub async fn publish_records_changed(&self, org: &OrgKey) {
        let change = Change::records(org.dc, &org.org);
        if let Err(e) = self.bus.publish(change).await {
            // Other processes serve what they read before for a few seconds more at most.
            tracing::warn!(error = %e, "could not tell the other processes of a write");
        }
    }

    /// A read of records: the cached answer if it still holds, else Zoho's answer (one call for
    /// all the same reads that arrive meanwhile), cached for the next.
    async fn cached(
        &self,
        crm: &CrmClient,
        id: &ConnectionId,
        call: Call<'_>,
    ) -> Result<(u16, Bytes), CrmError> {
        let org = crm.org_key(id).await?;
        let reused = |how: &'static str| {
            metrics::counter!(CACHED_ANSWERS, "dc" => org.dc.location(), "how" => how).increment(1);
        };
        let read = CachedRead::of(&call);
        let since = match self.cache.lookup(id, &org, &read) {
            Lookup::Fresh(status, body) => {
                reused("kept");
                return Ok((status, body));
            }
            Lookup::Revalidate { since } => Some(since),
            Lookup::Miss => None,
        };
        let _leading = match self.cache.single_flight(id, &read) {
            SingleFlight::Leader(flight) => Some(flight),
            SingleFlight::Follower(leader) => {
                // Its answer, once it has one; if it cached none (it failed), this read goes on
                // by itself rather than queue behind the next leader.
                drop(leader.read().await);
                if let Lookup::Fresh(status, body) = self.cache.lookup(id, &org, &read) {
                    reused("kept");
                    return Ok((status, body));
                }
                None
            }
        };
        let snapshot = self.cache.snapshot(&org);
        let answer = crm.send(id, Call { since, ..call }).await?;
        if answer.0 == 304 {
            if let Some(kept) = self.cache.still_holds(snapshot, id, &org, &read) {
                reused("not_modified");
                return Ok(kept);
            }
            // Changed through zportal while Zoho was asked: read it whole.
            let snapshot = self.cache.snapshot(&org);
            let answer = crm.send(id, call).await?;
            self.fill(snapshot, id, &org, &read, &answer);
            return Ok(answer);
        }
        self.fill(snapshot, id, &org, &read, &answer);
        Ok(answer)
    }

    fn fill(
        &self,
        snapshot: crate::response_cache::Snapshot,
        id: &ConnectionId,
        org: &OrgKey,
        read: &CachedRead,
        answer: &(u16, Bytes),
    ) {
        // While the bus may be missing other processes' writes, nothing read can be trusted.
        if self.bus.in_sync() {
            self.cache.fill(snapshot, id, org, read, answer.clone());
        }
    }
}
