//! The response cache: answers of CRM reads, kept for a few seconds so that the same read again (another tab, a
//! reload, a page and its next navigation) costs Zoho nothing and the org no credit.
//!
//! An answer is kept per connection and path (two users of one org may see different records),
//! and tagged with its org's *generation*: every write through zportal to that org — in this
//! process, or in another one, heard on the change bus — moves the generation on, so nothing
//! read before a write is served after it. A read fills the cache only if the generation did
//! not move while it was in flight and the bus is in sync (no change may have been missed).
//! Reads of one path that arrive together go to Zoho once (the others wait for that answer).
//! A record's answer past its time is asked for again with `If-Modified-Since`; Zoho's 304 means
//! it still holds. Changes made in Zoho directly are seen once an answer's time is up.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::sync::{OwnedRwLockWriteGuard, RwLock};

use zoho::budget::OrgKey;
use zoho::call::{Call, Resource};
use zoho::ids::ConnectionId;

/// How long past its time a record's answer is kept to be asked for again conditionally.
const KEEP_FOR_REVALIDATION: Duration = Duration::from_secs(10 * 60);
/// How far before an answer was read its `If-Modified-Since` is put, so that a change Zoho
/// stamped with the same second (or a clock a little behind ours) is never taken as older.
const CLOCK_MARGIN: Duration = Duration::from_secs(2);
/// The bytes of answers one process keeps, at most.
const CAPACITY_BYTES: u64 = 32 * 1024 * 1024;

/// A read whose answer may be kept: its path with the query (the key, with the connection), and
/// whether it is one record's, the one read Zoho answers conditionally and that says when a
/// record went away (a list would still answer 304 after a delete).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedRead {
    path: String,
    record: bool,
}

impl CachedRead {
    pub fn of(call: &Call<'_>) -> Self {
        CachedRead {
            path: call.path(),
            record: matches!(call.resource, Resource::Record { .. }),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    connection: String,
    path: String,
}

#[derive(Clone, Debug)]
struct Entry {
    org: OrgKey,
    /// The org's generation (and the cache's epoch) when the read began.
    generation: u64,
    epoch: u64,
    read_at: Instant,
    read_at_wall: SystemTime,
    status: u16,
    body: Bytes,
}

#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<Key, Entry> for ByBytes {
    fn weight(&self, key: &Key, entry: &Entry) -> u64 {
        (key.connection.len() + key.path.len() + entry.body.len() + 128) as u64
    }
}

/// What the cache holds for a read.
#[derive(Debug)]
pub enum Lookup {
    /// An answer still in its time.
    Fresh(u16, Bytes),
    /// A record's answer past its time: ask Zoho whether it changed since `since`.
    Revalidate { since: SystemTime },
    /// Nothing to use.
    Miss,
}

/// Taken when a read begins; a fill with it is dropped if the org changed meanwhile.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot {
    generation: u64,
    epoch: u64,
}

/// The answers one process keeps.
pub struct ResponseCache {
    fresh_for: Duration,
    entries: quick_cache::sync::Cache<Key, Entry, ByBytes>,
    generations: Mutex<HashMap<OrgKey, u64>>,
    /// Moves on when everything is dropped (the bus may have missed changes).
    epoch: AtomicU64,
    flights: Mutex<HashMap<Key, Arc<RwLock<()>>>>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("fresh_for", &self.fresh_for)
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// The read of one path that others wait for; when it ends (or is dropped) they go on.
pub struct Flight<'a> {
    cache: &'a ResponseCache,
    key: Key,
    lock: Arc<RwLock<()>>,
    _leading: OwnedRwLockWriteGuard<()>,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut flights = lock(&self.cache.flights);
        if flights
            .get(&self.key)
            .is_some_and(|l| Arc::ptr_eq(l, &self.lock))
        {
            flights.remove(&self.key);
        }
    }
}

/// Whether this read goes to Zoho for everyone, or waits for the one that already does.
pub enum SingleFlight<'a> {
    Leader(Flight<'a>),
    Follower(Arc<RwLock<()>>),
}

/// The orgs whose generation a process counts before it starts over (see
/// [`ResponseCache::invalidate_org`]).
const MAX_ORG_GENERATIONS: usize = 10_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ResponseCache {
    /// A cache whose answers are served again for `fresh_for` after they were read; zero keeps
    /// none.
    pub fn new(fresh_for: Duration) -> Self {
        ResponseCache {
            fresh_for,
            entries: quick_cache::sync::Cache::with_weighter(4096, CAPACITY_BYTES, ByBytes),
            generations: Mutex::default(),
            epoch: AtomicU64::new(0),
            flights: Mutex::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.fresh_for.is_zero()
    }

    fn generation(&self, org: &OrgKey) -> u64 {
        lock(&self.generations).get(org).copied().unwrap_or(0)
    }

    fn key(id: &ConnectionId, read: &CachedRead) -> Key {
        Key {
            connection: id.as_str().to_owned(),
            path: read.path.clone(),
        }
    }

    /// What is kept for `read` of connection `id` in `org`.
    pub fn lookup(&self, id: &ConnectionId, org: &OrgKey, read: &CachedRead) -> Lookup {
        let Some(entry) = self.entries.get(&Self::key(id, read)) else {
            return Lookup::Miss;
        };
        let current = entry.org == *org
            && entry.generation == self.generation(org)
            && entry.epoch == self.epoch.load(Ordering::Acquire);
        let age = entry.read_at.elapsed();
        if !current {
            Lookup::Miss
        } else if age < self.fresh_for {
            Lookup::Fresh(entry.status, entry.body)
        } else if read.record && entry.status == 200 && age < KEEP_FOR_REVALIDATION {
            Lookup::Revalidate {
                since: entry
                    .read_at_wall
                    .checked_sub(CLOCK_MARGIN)
                    .unwrap_or(SystemTime::UNIX_EPOCH),
            }
        } else {
            Lookup::Miss
        }
    }

    /// Taken before a read of `org` goes to Zoho.
    pub fn snapshot(&self, org: &OrgKey) -> Snapshot {
        Snapshot {
            epoch: self.epoch.load(Ordering::Acquire),
            generation: self.generation(org),
        }
    }

    /// Keeps a 2xx answer read with `snapshot`, unless `org` changed since it was taken.
    pub fn fill(
        &self,
        snapshot: Snapshot,
        id: &ConnectionId,
        org: &OrgKey,
        read: &CachedRead,
        (status, body): (u16, Bytes),
    ) {
        if !(200..300).contains(&status) {
            return;
        }
        // An entry stored after a write moved the generation on carries the old one, and is
        // never served: no check-then-insert race to lose.
        self.entries.insert(
            Self::key(id, read),
            Entry {
                org: org.clone(),
                generation: snapshot.generation,
                epoch: snapshot.epoch,
                read_at: Instant::now(),
                read_at_wall: SystemTime::now(),
                status,
                body,
            },
        );
    }

    /// Zoho said (304) the record kept for `read` has not changed: it is good for another
    /// `fresh_for`, unless something changed while asking. Its answer, if it still holds.
    pub fn still_holds(
        &self,
        snapshot: Snapshot,
        id: &ConnectionId,
        org: &OrgKey,
        read: &CachedRead,
    ) -> Option<(u16, Bytes)> {
        let key = Self::key(id, read);
        let entry = self.entries.get(&key)?;
        let now = self.snapshot(org);
        if entry.org != *org
            || (entry.generation, entry.epoch) != (snapshot.generation, snapshot.epoch)
            || (now.generation, now.epoch) != (snapshot.generation, snapshot.epoch)
        {
            return None;
        }
        let answer = (entry.status, entry.body.clone());
        self.entries.insert(
            key,
            Entry {
                read_at: Instant::now(),
                read_at_wall: SystemTime::now(),
                ..entry
            },
        );
        Some(answer)
    }

    /// Joins the same read already going to Zoho, or becomes it.
    pub fn single_flight(&self, id: &ConnectionId, read: &CachedRead) -> SingleFlight<'_> {
        let key = Self::key(id, read);
        let mut flights = lock(&self.flights);
        if let Some(lock) = flights.get(&key) {
            return SingleFlight::Follower(lock.clone());
        }
        let lock = Arc::new(RwLock::new(()));
        let leading = match lock.clone().try_write_owned() {
            Ok(guard) => guard,
            // A lock nobody else has seen yet is always free.
            Err(_) => return SingleFlight::Follower(lock),
        };
        flights.insert(key.clone(), lock.clone());
        SingleFlight::Leader(Flight {
            cache: self,
            key,
            lock,
            _leading: leading,
        })
    }

    /// Something of `org` changed: nothing kept of it before now is served again.
    pub fn invalidate_org(&self, org: &OrgKey) {
        let mut generations = lock(&self.generations);
        if generations.len() >= MAX_ORG_GENERATIONS && !generations.contains_key(org) {
            // Counting every org ever written to would grow for ever: start over, with
            // nothing kept (every generation goes back to 0 under a new epoch).
            self.invalidate_all();
            generations.clear();
            return;
        }
        *generations.entry(org.clone()).or_insert(0) += 1;
    }

    /// Changes may have been missed: nothing kept is served again.
    pub fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoho::dc::DataCenter;
    use zoho::ids::OrgId;

    fn org(id: &str) -> OrgKey {
        OrgKey {
            dc: DataCenter::Us,
            org: OrgId::new(id.to_owned()),
        }
    }

    fn answer(body: &'static str) -> (u16, Bytes) {
        (200, Bytes::from_static(body.as_bytes()))
    }

    fn fresh(a: &ResponseCache, id: &ConnectionId, org: &OrgKey, r: &CachedRead) -> Option<Bytes> {
        match a.lookup(id, org, r) {
            Lookup::Fresh(_, body) => Some(body),
            _ => None,
        }
    }

    /// A read of one record (`Leads/1`).
    fn record(path: &str) -> CachedRead {
        CachedRead {
            path: path.to_owned(),
            record: true,
        }
    }

    /// A read of anything else (a list, a search, notes).
    fn list(path: &str) -> CachedRead {
        CachedRead {
            path: path.to_owned(),
            record: false,
        }
    }

    #[test]
    fn an_answer_is_kept_per_connection_until_its_org_changes() {
        let a = ResponseCache::new(Duration::from_secs(60));
        let (ada, ben) = (ConnectionId::new("ada"), ConnectionId::new("ben"));
        let (acme, other) = (org("1"), org("2"));
        a.fill(
            a.snapshot(&acme),
            &ada,
            &acme,
            &list("Leads"),
            answer("ada's"),
        );
        a.fill(
            a.snapshot(&other),
            &ben,
            &other,
            &list("Leads"),
            answer("ben's"),
        );
        assert_eq!(
            fresh(&a, &ada, &acme, &list("Leads")).as_deref(),
            Some(&b"ada's"[..])
        );
        assert_eq!(
            fresh(&a, &ben, &acme, &list("Leads")),
            None,
            "not another's"
        );
        a.invalidate_org(&acme);
        assert_eq!(
            fresh(&a, &ada, &acme, &list("Leads")),
            None,
            "a write to the org"
        );
        assert!(
            fresh(&a, &ben, &other, &list("Leads")).is_some(),
            "another org's stays"
        );
        a.invalidate_all();
        assert_eq!(fresh(&a, &ben, &other, &list("Leads")), None);
    }

    #[test]
    fn the_orgs_counted_are_bounded_and_starting_over_serves_nothing_stale() {
        let a = ResponseCache::new(Duration::from_secs(60));
        let (ada, acme) = (ConnectionId::new("ada"), org("acme"));
        a.invalidate_org(&acme);
        let snapshot = a.snapshot(&acme);
        a.fill(snapshot, &ada, &acme, &list("Leads"), answer("kept"));
        for i in 0..MAX_ORG_GENERATIONS {
            a.invalidate_org(&org(&i.to_string()));
        }
        assert!(lock(&a.generations).len() <= MAX_ORG_GENERATIONS);
        // Counting started over: Acme's next write brings its count back to where the kept
        // answer was read. That answer is from before the write, and must not be served.
        a.invalidate_org(&acme);
        assert_eq!(fresh(&a, &ada, &acme, &list("Leads")), None);
    }

    #[test]
    fn a_read_that_began_before_a_write_is_never_served_after_it() {
        let a = ResponseCache::new(Duration::from_secs(60));
        let (ada, acme) = (ConnectionId::new("ada"), org("1"));
        let snapshot = a.snapshot(&acme);
        // ... the read is in flight when a write to the org lands ...
        a.invalidate_org(&acme);
        a.fill(snapshot, &ada, &acme, &record("Leads/1"), answer("before"));
        assert!(matches!(
            a.lookup(&ada, &acme, &record("Leads/1")),
            Lookup::Miss
        ));
        let snapshot = a.snapshot(&acme);
        a.invalidate_all();
        a.fill(
            snapshot,
            &ada,
            &acme,
            &record("Leads/1"),
            answer("before the resync"),
        );
        assert!(matches!(
            a.lookup(&ada, &acme, &record("Leads/1")),
            Lookup::Miss
        ));
    }

    #[test]
    fn past_its_time_a_record_is_asked_for_again_and_a_list_is_not_kept() {
        let a = ResponseCache::new(Duration::from_millis(20));
        let (ada, acme) = (ConnectionId::new("ada"), org("1"));
        a.fill(
            a.snapshot(&acme),
            &ada,
            &acme,
            &record("Leads/1"),
            answer("lead"),
        );
        a.fill(
            a.snapshot(&acme),
            &ada,
            &acme,
            &list("Leads?page=1"),
            answer("list"),
        );
        a.fill(
            a.snapshot(&acme),
            &ada,
            &acme,
            &record("Leads/2"),
            (500, Bytes::new()),
        );
        assert!(fresh(&a, &ada, &acme, &record("Leads/1")).is_some());
        assert!(
            matches!(a.lookup(&ada, &acme, &record("Leads/2")), Lookup::Miss),
            "errors are not kept"
        );
        std::thread::sleep(Duration::from_millis(30));
        let Lookup::Revalidate { since } = a.lookup(&ada, &acme, &record("Leads/1")) else {
            panic!("a record past its time is revalidated");
        };
        assert!(since < SystemTime::now() - Duration::from_millis(1900));
        assert!(matches!(
            a.lookup(&ada, &acme, &list("Leads?page=1")),
            Lookup::Miss
        ));
        let snapshot = a.snapshot(&acme);
        assert_eq!(
            a.still_holds(snapshot, &ada, &acme, &record("Leads/1"))
                .map(|(_, b)| b),
            Some(Bytes::from_static(b"lead"))
        );
        assert!(
            fresh(&a, &ada, &acme, &record("Leads/1")).is_some(),
            "good for another while"
        );
    }

    #[test]
    fn reads_of_one_path_together_have_one_leader_and_the_next_read_leads_again() {
        let a = ResponseCache::new(Duration::from_secs(60));
        let ada = ConnectionId::new("ada");
        let lead = a.single_flight(&ada, &list("Leads"));
        assert!(matches!(lead, SingleFlight::Leader(_)));
        let SingleFlight::Follower(wait) = a.single_flight(&ada, &list("Leads")) else {
            panic!("a second read of the same path follows");
        };
        assert!(matches!(
            a.single_flight(&ada, &list("Contacts")),
            SingleFlight::Leader(_)
        ));
        assert!(
            wait.try_read().is_err(),
            "followers wait while the leader reads"
        );
        drop(lead);
        assert!(wait.try_read().is_ok(), "and go on once it is done");
        assert!(matches!(
            a.single_flight(&ada, &list("Leads")),
            SingleFlight::Leader(_)
        ));
    }
}
