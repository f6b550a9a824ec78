//! Zoho's API limits as a client meets them (`zoho-reference.md` §3.3, §8.7): the calls one user
//! has in flight through one OAuth client, and each org's rolling 24-hour credit budget. Both
//! answer HTTP 429 `TOO_MANY_REQUESTS` beyond; the messages tell the two apart (Zoho's own
//! bodies do not reliably, so a client must not depend on them).

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// The window credits are counted in: a rolling 24 hours.
pub const CREDIT_WINDOW_SECS: i64 = 86_400;
/// Spends are kept per minute: a day is at most 1,440 entries per org.
const BUCKET_SECS: i64 = 60;

/// A CRM edition, which sets an org's limits. Seeded orgs are Enterprise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Edition {
    Free,
    Standard,
    Professional,
    #[default]
    Enterprise,
    Ultimate,
}

impl Edition {
    /// Calls one user may have in flight through one OAuth client.
    pub fn concurrency(self) -> u32 {
        match self {
            Edition::Free => 5,
            Edition::Standard => 10,
            Edition::Professional => 15,
            Edition::Enterprise => 20,
            Edition::Ultimate => 25,
        }
    }

    /// The org's credits per rolling 24 hours with `users` licensed users.
    pub fn credits(self, users: u64) -> u64 {
        let (per_user, max) = match self {
            Edition::Free => return 5_000,
            Edition::Standard => (250, 100_000),
            Edition::Professional => (500, 3_000_000),
            Edition::Enterprise => (1_000, 5_000_000),
            Edition::Ultimate => (2_000, u64::MAX),
        };
        (50_000 + per_user * users).min(max)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Edition::Free => "free",
            Edition::Standard => "standard",
            Edition::Professional => "professional",
            Edition::Enterprise => "enterprise",
            Edition::Ultimate => "ultimate",
        }
    }
}

/// A limit that follows each org's edition unless a number is set, or is off. On the wire
/// `true` (the edition's), a positive number, or `false`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ByEdition {
    #[default]
    Edition,
    Max(u64),
    Off,
}

impl ByEdition {
    pub fn apply(&mut self, value: &serde_json::Value) -> Result<(), String> {
        *self = match value {
            serde_json::Value::Bool(true) => ByEdition::Edition,
            serde_json::Value::Bool(false) => ByEdition::Off,
            serde_json::Value::Number(n) => match n.as_u64().filter(|n| *n > 0) {
                Some(max) => ByEdition::Max(max),
                None => return Err(format!("a limit must be a positive whole number, got {n}")),
            },
            other => return Err(format!("a limit is a number or true/false, got {other}")),
        };
        Ok(())
    }

    pub fn to_json(self) -> serde_json::Value {
        match self {
            ByEdition::Edition => serde_json::Value::Bool(true),
            ByEdition::Max(n) => serde_json::Value::from(n),
            ByEdition::Off => serde_json::Value::Bool(false),
        }
    }

    /// The limit in force, given what the edition says; `None` when off.
    pub fn resolve(self, by_edition: u64) -> Option<u64> {
        match self {
            ByEdition::Edition => Some(by_edition),
            ByEdition::Max(n) => Some(n),
            ByEdition::Off => None,
        }
    }
}

/// Who a call's concurrency counts against: the user (`zuid`) and the OAuth client.
pub type Caller = (String, String);

/// Why a call was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Concurrency,
    Credits,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Concurrency => {
                "the concurrency limit of API calls for this user and app has been exceeded"
            }
            Refusal::Credits => {
                "the API credit limit of your organization for the last 24 hours has been exceeded"
            }
        }
    }
}

/// The metering state: credits spent per org (kept across restarts) and calls in flight.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Metering {
    /// org zgid → (minute, credits spent in it), oldest first, within the window.
    spent: BTreeMap<String, VecDeque<(i64, u64)>>,
    #[serde(skip)]
    in_flight: HashMap<Caller, u64>,
}

impl Metering {
    fn prune(&mut self, org: &str, now: i64) {
        if let Some(spends) = self.spent.get_mut(org) {
            while spends
                .front()
                .is_some_and(|(t, _)| *t <= now - CREDIT_WINDOW_SECS)
            {
                spends.pop_front();
            }
        }
    }

    /// Credits `org` spent in the window ending at `now`.
    pub fn spent(&mut self, org: &str, now: i64) -> u64 {
        self.prune(org, now);
        self.spent
            .get(org)
            .map_or(0, |s| s.iter().map(|(_, n)| n).sum())
    }

    /// Spends `credits` of `org`'s budget at `now`.
    pub fn charge(&mut self, org: &str, now: i64, credits: u64) {
        if credits == 0 {
            return;
        }
        let minute = now - now.rem_euclid(BUCKET_SECS);
        let spends = self.spent.entry(org.to_owned()).or_default();
        match spends.back_mut() {
            Some((t, n)) if *t == minute => *n += credits,
            _ => spends.push_back((minute, credits)),
        }
    }

    /// Makes `org`'s spend in the window `spent`, as if all of it happened at `now`.
    pub fn set_spent(&mut self, org: &str, now: i64, spent: u64) {
        self.spent.remove(org);
        if spent > 0 {
            self.charge(org, now, spent);
        }
    }

    /// When `org`'s oldest spend leaves the window (credits start coming back); `now` plus a
    /// day when nothing is spent.
    pub fn resets_at(&mut self, org: &str, now: i64) -> i64 {
        self.prune(org, now);
        self.spent
            .get(org)
            .and_then(|s| s.front())
            .map_or(now, |(t, _)| *t)
            + CREDIT_WINDOW_SECS
    }

    /// Calls `caller` has in flight.
    pub fn in_flight(&self, caller: &Caller) -> u64 {
        self.in_flight.get(caller).copied().unwrap_or(0)
    }

    /// One more call of `caller` in flight; how many it has now.
    pub fn enter(&mut self, caller: &Caller) -> u64 {
        let n = self.in_flight.entry(caller.clone()).or_default();
        *n += 1;
        *n
    }

    /// A call of `caller` answered.
    pub fn leave(&mut self, caller: &Caller) {
        if let Some(n) = self.in_flight.get_mut(caller) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.in_flight.remove(caller);
            }
        }
    }
}

/// Credits a write of `records` records costs: one per ten, at least one.
pub fn write_credits(records: usize) -> u64 {
    (records as u64).div_ceil(10).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editions_set_budgets_as_zoho_documents_them() {
        assert_eq!(Edition::Free.credits(40), 5_000);
        assert_eq!(Edition::Standard.credits(10), 52_500);
        assert_eq!(Edition::Standard.credits(1_000), 100_000);
        assert_eq!(Edition::Enterprise.credits(2), 52_000);
        assert_eq!(Edition::Enterprise.credits(10_000), 5_000_000);
        assert_eq!(Edition::Enterprise.concurrency(), 20);
        assert_eq!(Edition::Free.concurrency(), 5);
    }

    #[test]
    fn credits_roll_out_of_the_window_a_day_later() {
        let mut m = Metering::default();
        let t0 = 999_999_980; // 20 s into a minute
        m.charge("o", t0, 3);
        m.charge("o", t0 + 30, 2);
        m.charge("o", t0 + 3_600, 5);
        assert_eq!(m.spent("o", t0 + 3_600), 10);
        assert_eq!(m.resets_at("o", t0), t0 - 20 + CREDIT_WINDOW_SECS);
        assert_eq!(m.spent("o", t0 + CREDIT_WINDOW_SECS), 5);
        assert_eq!(m.spent("o", t0 + 3_600 + CREDIT_WINDOW_SECS), 0);
        assert_eq!(m.spent("other", t0), 0);
        m.set_spent("o", t0, 7);
        assert_eq!(m.spent("o", t0), 7);
    }

    #[test]
    fn in_flight_counts_per_caller_and_never_goes_below_zero() {
        let mut m = Metering::default();
        let a: Caller = ("1".into(), "c".into());
        let b: Caller = ("2".into(), "c".into());
        assert_eq!(m.enter(&a), 1);
        assert_eq!(m.enter(&a), 2);
        assert_eq!(m.enter(&b), 1);
        m.leave(&a);
        m.leave(&a);
        m.leave(&a);
        assert_eq!(m.in_flight(&a), 0);
        assert_eq!(m.in_flight(&b), 1);
    }

    #[test]
    fn writes_cost_a_credit_per_ten_records() {
        assert_eq!(write_credits(0), 1);
        assert_eq!(write_credits(1), 1);
        assert_eq!(write_credits(10), 1);
        assert_eq!(write_credits(11), 2);
        assert_eq!(write_credits(100), 10);
    }
}
