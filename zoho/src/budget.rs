//! Zoho's API budget, shared fairly (`zoho-reference.md` §3.3, §8.7). Zoho caps the calls one
//! user has in flight through one app and meters each org's credits over a rolling day; both
//! answer 429. So every CRM call of a connection takes its turn in a fair (first come, first
//! served) queue bounded in flight per process — a bound that shrinks on a 429 and grows back —
//! and a 429, which Zoho did not run, is tried again after a jittered pause. 429s that outlast
//! the retries while Zoho answers none of the org's calls mean its credits are spent: its calls
//! stop for a growing back-off (1 minute doubling to 30), and one call per period tests the water.
//! (While some are answered, Zoho is busy — its cap, met by other processes too — and the call
//! keeps trying until its time is up.) The credits spent are counted per
//! org, in memory, for the store to sum across processes (`Zoho::keep_credits` flushes them).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::clock::now_ms;
use crate::dc::DataCenter;
use crate::http::HttpError;
use crate::ids::{ConnectionId, OrgId};
use crate::meter::{CREDITS_USED, RATE_LIMITED};

/// Successful calls at a bound before it grows by one.
const GROW_AFTER: u32 = 8;

/// Tuning; the defaults suit real Zoho.
#[derive(Clone, Debug)]
pub struct BudgetSettings {
    /// Calls in flight per connection in this process, at most (`ZPORTAL_ZOHO_CONCURRENCY`).
    pub concurrency: usize,
    /// How long a call may wait for its turn (`ZPORTAL_ZOHO_TIMEOUT`).
    pub queue_wait: Duration,
    /// The pause before the first retry of a 429; each further one doubles, all jittered ±50 %.
    pub retry_pause: Duration,
    /// Retries of a 429 before the org's credits are taken to be spent.
    pub retries: u32,
    /// The first back-off once they are; each refused probe doubles it, up to `backoff_max`.
    pub backoff_first: Duration,
    pub backoff_max: Duration,
    /// How long a read's answer is served again without asking Zoho (`ZPORTAL_ZOHO_CACHE`;
    /// zero keeps none). Writes through zportal end it at once.
    pub keep_answers: Duration,
}

impl Default for BudgetSettings {
    fn default() -> Self {
        BudgetSettings {
            concurrency: 4,
            queue_wait: Duration::from_secs(10),
            retry_pause: Duration::from_millis(250),
            retries: 4,
            backoff_first: Duration::from_secs(60),
            backoff_max: Duration::from_secs(30 * 60),
            keep_answers: Duration::from_secs(5),
        }
    }
}

impl BudgetSettings {
    /// The longest the pauses between a call's attempts can add up to.
    pub fn longest_pauses(&self) -> Duration {
        (0..self.retries)
            .map(|k| self.retry_pause * 2u32.pow(k) * 3 / 2)
            .sum()
    }
}

/// An org, as the budget knows it: credits are the org's, in its data center.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrgKey {
    pub dc: DataCenter,
    pub org: OrgId,
}

/// Whether a call may go to Zoho now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead, retrying 429s.
    Go,
    /// The org's back-off has run out: this call alone tests the water, without retries.
    Probe,
    /// The org's credits are spent: no call before `retry_at` (Unix seconds).
    Refused { retry_at: i64 },
}

/// An org whose credits are spent, and until when it is left alone.
#[derive(Debug)]
struct Backoff {
    until_ms: i64,
    period: Duration,
}

/// The shared budget of one process: a queue per connection, back-offs and unflushed credits
/// per org.
#[derive(Debug, Default)]
pub struct Budget {
    settings: BudgetSettings,
    gates: Mutex<HashMap<ConnectionId, Arc<Gate>>>,
    backoffs: Mutex<HashMap<OrgKey, Backoff>>,
    unflushed: Mutex<HashMap<OrgKey, u64>>,
    /// When Zoho last answered one of the org's calls with anything but 429: while it does,
    /// the 429s others get are its concurrency cap, not spent credits.
    answered: Mutex<HashMap<OrgKey, tokio::time::Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Budget {
    pub fn new(settings: BudgetSettings) -> Self {
        Budget {
            settings,
            ..Budget::default()
        }
    }

    pub fn settings(&self) -> &BudgetSettings {
        &self.settings
    }

    /// The longest one CRM call may take, every attempt included — a save's claim must outlast
    /// it: a refresh before the first attempt, and one attempt (see [`Self::attempt`]); a
    /// retry starts only when it can end within this time too.
    pub fn longest_call(&self) -> Duration {
        self.settings.queue_wait + self.attempt() + self.settings.longest_pauses()
    }

    /// The longest one attempt may take: its turn and its send within `queue_wait`, then after
    /// a 401 a refresh and a second send, each within the same time.
    pub fn attempt(&self) -> Duration {
        self.settings.queue_wait * 3
    }

    /// Waits for a turn of connection `id` (at most `queue_wait`; then Zoho "did not answer in
    /// time"). The turn ends when it is dropped.
    pub async fn turn(&self, id: &ConnectionId) -> Result<Turn, HttpError> {
        let gate = lock(&self.gates)
            .entry(id.clone())
            .or_insert_with(|| Arc::new(Gate::new(self.settings.concurrency.max(1))))
            .clone();
        gate.enter(self.settings.queue_wait).await
    }

    /// Whether a call for `org` may go now (see [`Admission`]).
    pub fn admit(&self, org: &OrgKey) -> Admission {
        let mut backoffs = lock(&self.backoffs);
        let Some(b) = backoffs.get_mut(org) else {
            return Admission::Go;
        };
        let now = now_ms();
        if now < b.until_ms {
            return Admission::Refused {
                retry_at: b.until_ms.div_euclid(1000) + 1,
            };
        }
        // Others wait one more period while this call tests the water.
        b.until_ms = now + b.period.as_millis() as i64;
        Admission::Probe
    }

    /// 429s outlasted the retries (or refused a probe): the org's credits are spent. Starts or
    /// doubles its back-off; when calls may resume (Unix seconds).
    pub fn spent(&self, org: &OrgKey) -> i64 {
        metrics::counter!(RATE_LIMITED, "dc" => org.dc.location(), "kind" => "credits")
            .increment(1);
        let mut backoffs = lock(&self.backoffs);
        let first = self.settings.backoff_first;
        let b = backoffs
            .entry(org.clone())
            .and_modify(|b| b.period = (b.period * 2).min(self.settings.backoff_max))
            .or_insert(Backoff {
                until_ms: 0,
                period: first,
            });
        b.until_ms = now_ms() + b.period.as_millis() as i64;
        tracing::warn!(
            dc = %org.dc,
            backoff_secs = b.period.as_secs(),
            "Zoho's API credits for an org are spent; leaving it alone"
        );
        b.until_ms.div_euclid(1000) + 1
    }

    /// Zoho answered one of the org's calls (anything but 429).
    pub fn answered(&self, org: &OrgKey) {
        lock(&self.answered).insert(org.clone(), tokio::time::Instant::now());
    }

    /// Whether Zoho answered one of the org's calls after `since`: then a call's 429s that
    /// outlast its retries meet the concurrency cap (busy, perhaps from other processes), not
    /// a spent budget, which refuses every call.
    pub fn answered_since(&self, org: &OrgKey, since: tokio::time::Instant) -> bool {
        lock(&self.answered).get(org).is_some_and(|at| *at > since)
    }

    /// A probe got an answer other than 429: the org's calls resume.
    pub fn recovered(&self, org: &OrgKey) {
        if lock(&self.backoffs).remove(org).is_some() {
            tracing::info!(dc = %org.dc, "Zoho's API credits for an org are back");
        }
    }

    /// A probe got no answer at all: the next call tests the water instead.
    pub fn probe_lost(&self, org: &OrgKey) {
        if let Some(b) = lock(&self.backoffs).get_mut(org) {
            b.until_ms = now_ms();
        }
    }

    /// `n` 429s that a retry got past.
    pub fn retried(&self, org: &OrgKey, n: u64) {
        if n > 0 {
            metrics::counter!(RATE_LIMITED, "dc" => org.dc.location(), "kind" => "concurrency")
                .increment(n);
        }
    }

    /// Counts `credits` spent by `org`.
    pub fn spend(&self, org: &OrgKey, credits: u64) {
        metrics::counter!(CREDITS_USED, "dc" => org.dc.location()).increment(credits);
        *lock(&self.unflushed).entry(org.clone()).or_default() += credits;
    }

    /// Credits counted for `org` and not yet flushed to the store.
    pub fn unflushed(&self, org: &OrgKey) -> u64 {
        lock(&self.unflushed).get(org).copied().unwrap_or(0)
    }

    /// Takes every count not yet flushed (give back what could not be stored with
    /// [`Self::give_back`]); drops the queues of connections nobody is using.
    pub fn take_unflushed(&self) -> Vec<(OrgKey, u64)> {
        lock(&self.gates).retain(|_, gate| Arc::strong_count(gate) > 1 || !gate.idle());
        let stale = tokio::time::Instant::now() - self.longest_call();
        lock(&self.answered).retain(|_, at| *at > stale);
        lock(&self.unflushed).drain().collect()
    }

    pub fn give_back(&self, counts: Vec<(OrgKey, u64)>) {
        let mut unflushed = lock(&self.unflushed);
        for (org, n) in counts {
            *unflushed.entry(org).or_default() += n;
        }
    }

    /// The bound a connection's queue is at now (for tests and diagnostics).
    pub fn bound(&self, id: &ConnectionId) -> Option<usize> {
        lock(&self.gates).get(id).map(|g| lock(&g.state).limit)
    }

    /// The pause before retry `k` (0-based) of a 429: doubling, jittered ±50 %.
    pub fn pause(&self, k: u32) -> Duration {
        let base = self.settings.retry_pause * 2u32.pow(k.min(16));
        base.mul_f64(0.5 + rand::random::<f64>())
    }
}

/// One connection's queue: a fair semaphore whose size is the current bound.
#[derive(Debug)]
struct Gate {
    permits: Arc<Semaphore>,
    state: Mutex<GateState>,
    max: usize,
}

#[derive(Debug)]
struct GateState {
    /// The bound now: at most `max`, at least 1.
    limit: usize,
    /// Permits to retire as they come back (the bound shrank while they were out).
    debt: usize,
    /// Answers since the last 429.
    calm: u32,
}

impl Gate {
    fn new(max: usize) -> Self {
        Gate {
            permits: Arc::new(Semaphore::new(max)),
            state: Mutex::new(GateState {
                limit: max,
                debt: 0,
                calm: 0,
            }),
            max,
        }
    }

    async fn enter(self: Arc<Self>, wait: Duration) -> Result<Turn, HttpError> {
        let permit = tokio::time::timeout(wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| HttpError::Timeout)?
            .map_err(|_| HttpError::Timeout)?;
        Ok(Turn {
            permit: Some(permit),
            gate: self,
        })
    }

    fn idle(&self) -> bool {
        let s = lock(&self.state);
        s.limit == self.max && self.permits.available_permits() == self.max
    }

    /// Zoho answered 429: from now on one call fewer than were in flight when it did (and
    /// fewer than the bound), down to one. A burst of refusals thus brings a bound far above
    /// Zoho's cap down to about what Zoho took, at once.
    fn shrink(&self) {
        let mut s = lock(&self.state);
        s.calm = 0;
        // Permits out: the bound's and those owed back, less those still free.
        let out = (s.limit + s.debt).saturating_sub(self.permits.available_permits());
        let target = s.limit.min(out).saturating_sub(1).max(1);
        let cut = s.limit - target;
        s.limit = target;
        let forgotten = self.permits.forget_permits(cut);
        s.debt += cut - forgotten;
    }

    /// Zoho answered: after enough calm, one call more (up to the configured bound).
    fn calm(&self) {
        let mut s = lock(&self.state);
        s.calm += 1;
        if s.limit < self.max && s.calm >= GROW_AFTER {
            s.limit += 1;
            s.calm = 0;
            if s.debt > 0 {
                s.debt -= 1;
            } else {
                self.permits.add_permits(1);
            }
        }
    }
}

/// A connection's turn to call Zoho; the next in the queue goes when it is dropped.
#[derive(Debug)]
pub struct Turn {
    permit: Option<OwnedSemaphorePermit>,
    gate: Arc<Gate>,
}

impl Turn {
    /// Zoho answered 429 during this turn.
    pub fn refused(&self) {
        self.gate.shrink();
    }

    /// Zoho answered (anything but 429) during this turn.
    pub fn answered(&self) {
        self.gate.calm();
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut s = lock(&self.gate.state);
        if s.debt > 0
            && let Some(permit) = self.permit.take()
        {
            s.debt -= 1;
            permit.forget();
        }
    }
}

/// An org's API credits per rolling 24 hours, as Zoho documents them for its edition
/// (`paid_type`) and licensed users; `None` for an edition zportal does not know.
pub fn daily_credits(edition: &str, users: u64) -> Option<u64> {
    let (base, per_user, max) = match edition.to_ascii_lowercase().as_str() {
        "free" => return Some(5_000),
        "standard" => (50_000, 250, 100_000),
        "professional" => (50_000, 500, 3_000_000),
        "enterprise" => (50_000, 1_000, 5_000_000),
        "ultimate" => (50_000, 2_000, u64::MAX),
        _ => return None,
    };
    Some((base + per_user * users).min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> OrgKey {
        OrgKey {
            dc: DataCenter::Us,
            org: OrgId::new("1"),
        }
    }

    fn settings(concurrency: usize) -> BudgetSettings {
        BudgetSettings {
            concurrency,
            queue_wait: Duration::from_millis(200),
            backoff_first: Duration::from_millis(300),
            backoff_max: Duration::from_millis(1_000),
            ..BudgetSettings::default()
        }
    }

    #[tokio::test]
    async fn a_connection_has_at_most_its_bound_in_flight_and_waits_in_order() {
        let budget = Budget::new(settings(2));
        let id = ConnectionId::new("c");
        let a = budget.turn(&id).await.expect("first");
        let _b = budget.turn(&id).await.expect("second");
        assert_eq!(
            budget.turn(&id).await.err(),
            Some(HttpError::Timeout),
            "a third waits past the queue's patience"
        );
        // Another connection has its own queue.
        budget.turn(&ConnectionId::new("d")).await.expect("other");
        drop(a);
        budget.turn(&id).await.expect("a turn came back");
    }

    #[tokio::test]
    async fn the_bound_shrinks_on_429_even_with_turns_out_and_grows_back() {
        let budget = Budget::new(settings(3));
        let id = ConnectionId::new("c");
        let turns: Vec<Turn> = futures_turns(&budget, &id, 3).await;
        turns[0].refused();
        turns[1].refused();
        assert_eq!(budget.bound(&id), Some(1));
        drop(turns);
        let one = budget.turn(&id).await.expect("one");
        assert_eq!(budget.turn(&id).await.err(), Some(HttpError::Timeout));
        for _ in 0..GROW_AFTER {
            one.answered();
        }
        assert_eq!(budget.bound(&id), Some(2));
        let _two = budget.turn(&id).await.expect("grown by one");
        // A bound far above what is in flight drops to just under it at the first 429.
        let wide = Budget::new(settings(64));
        let few = futures_turns(&wide, &id, 10).await;
        few[0].refused();
        assert_eq!(wide.bound(&id), Some(9));
        drop(few);
        // Never below one, never above the setting.
        for _ in 0..5 {
            one.refused();
        }
        assert_eq!(budget.bound(&id), Some(1));
        for _ in 0..10 * GROW_AFTER {
            one.answered();
        }
        assert_eq!(budget.bound(&id), Some(3));
    }

    async fn futures_turns(budget: &Budget, id: &ConnectionId, n: usize) -> Vec<Turn> {
        let mut turns = Vec::new();
        for _ in 0..n {
            turns.push(budget.turn(id).await.expect("turn"));
        }
        turns
    }

    #[tokio::test]
    async fn spent_credits_back_off_doubling_with_one_probe_per_period() {
        let budget = Budget::new(settings(4));
        assert_eq!(budget.admit(&org()), Admission::Go);
        let retry_at = budget.spent(&org());
        assert!(retry_at >= crate::clock::now());
        assert!(matches!(budget.admit(&org()), Admission::Refused { .. }));
        tokio::time::sleep(Duration::from_millis(320)).await;
        assert_eq!(budget.admit(&org()), Admission::Probe);
        assert!(
            matches!(budget.admit(&org()), Admission::Refused { .. }),
            "one probe per period"
        );
        budget.spent(&org());
        tokio::time::sleep(Duration::from_millis(320)).await;
        assert!(
            matches!(budget.admit(&org()), Admission::Refused { .. }),
            "the period doubled"
        );
        tokio::time::sleep(Duration::from_millis(320)).await;
        assert_eq!(budget.admit(&org()), Admission::Probe);
        budget.recovered(&org());
        assert_eq!(budget.admit(&org()), Admission::Go);
    }

    #[test]
    fn an_answer_for_the_org_after_a_refusal_means_zoho_is_busy_not_spent() {
        let budget = Budget::new(settings(2));
        let refused_at = tokio::time::Instant::now();
        assert!(
            !budget.answered_since(&org(), refused_at),
            "nothing answered yet"
        );
        std::thread::sleep(Duration::from_millis(2));
        budget.answered(&org());
        assert!(budget.answered_since(&org(), refused_at));
        let other = OrgKey {
            dc: DataCenter::Eu,
            org: OrgId::new("1"),
        };
        assert!(
            !budget.answered_since(&other, refused_at),
            "another data center's org is another org"
        );
        std::thread::sleep(Duration::from_millis(2));
        assert!(
            !budget.answered_since(&org(), tokio::time::Instant::now()),
            "an answer before the refusal proves nothing"
        );
    }

    #[test]
    fn credits_are_counted_per_org_until_flushed() {
        let budget = Budget::new(settings(4));
        budget.spend(&org(), 2);
        budget.spend(&org(), 3);
        assert_eq!(budget.unflushed(&org()), 5);
        let taken = budget.take_unflushed();
        assert_eq!(taken, vec![(org(), 5)]);
        assert_eq!(budget.unflushed(&org()), 0);
        budget.give_back(taken);
        assert_eq!(budget.unflushed(&org()), 5);
    }

    #[test]
    fn budgets_follow_the_edition_and_its_users() {
        assert_eq!(daily_credits("enterprise", 2), Some(52_000));
        assert_eq!(daily_credits("Standard", 1_000), Some(100_000));
        assert_eq!(daily_credits("free", 3), Some(5_000));
        assert_eq!(daily_credits("trial-of-something", 3), None);
    }
}
