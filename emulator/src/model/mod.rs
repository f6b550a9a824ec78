//! The emulator's world: clients, users, orgs, codes and tokens, the emulated clock, the limits,
//! and the counters; the CRM's records ([`records`]), files ([`files`]) and watch channels
//! ([`watch`]). Plain data behind one mutex (never held across an await), serialisable so a
//! restart can pick up where it left off.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::dc::Dc;
use crate::metering::ByEdition;

pub mod files;
pub mod people;
pub mod records;
pub mod watch;

/// A registered OAuth client.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    /// Exact redirect URIs; `:*` in place of a port accepts any port (the dev client's loopback rule).
    pub redirect_uris: Vec<String>,
    /// Data centers enabled for this client (Zoho's "Multi-DC" setting).
    pub dcs: Vec<Dc>,
}

impl Client {
    /// Whether `uri` is one of this client's redirect URIs.
    pub fn accepts_redirect(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|pattern| match pattern.split_once(":*/") {
                None => pattern == uri,
                Some((prefix, suffix)) => uri
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .and_then(|rest| rest.split_once('/'))
                    .is_some_and(|(port, path)| {
                        !port.is_empty()
                            && port.len() <= 5
                            && port.bytes().all(|b| b.is_ascii_digit())
                            && path == suffix
                    }),
            })
    }
}

/// A Zoho user. `zuid` is the accounts id; `user_id` the CRM user record's id.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub email: String,
    pub zuid: String,
    pub user_id: String,
    pub first_name: String,
    pub last_name: String,
    pub dc: Dc,
    pub org_zgid: String,
    /// Active or deactivated (a snapshot from before this existed: active).
    #[serde(default)]
    pub status: people::Status,
    /// Whether they accepted the invitation to the org (before this existed: everyone had).
    #[serde(default = "accepted")]
    pub confirmed: bool,
    #[serde(default)]
    pub role: people::Role,
    #[serde(default)]
    pub profile: people::Profile,
}

/// A user saved before invitations were modelled had accepted theirs.
fn accepted() -> bool {
    true
}

impl User {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// Active and confirmed: a user who holds one of the org's licences, can own records and
    /// appears in owner pickers (`ActiveConfirmedUsers`).
    pub fn licensed(&self) -> bool {
        self.status == people::Status::Active && self.confirmed
    }
}

/// A CRM organisation, living in one data center.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Org {
    pub zgid: String,
    pub id: String,
    pub name: String,
    pub dc: Dc,
    /// Sets the org's API limits.
    #[serde(default)]
    pub edition: crate::metering::Edition,
}

/// A grant code waiting to be exchanged.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Code {
    pub client_id: String,
    pub dc: Dc,
    pub zuid: String,
    /// `None` for self-client codes, which are exchanged without a redirect URI.
    pub redirect_uri: Option<String>,
    pub scopes: Vec<String>,
    pub offline: bool,
    pub consent: bool,
    pub code_challenge: Option<(String, String)>,
    pub expires_at: i64,
}

/// A refresh token. `id` is the short public name the stats use.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshToken {
    pub id: String,
    pub client_id: String,
    pub dc: Dc,
    pub zuid: String,
    pub scopes: Vec<String>,
    pub issued_at: i64,
    /// Mint order, to find the oldest when several share a second.
    pub seq: u64,
    /// When access tokens were minted from it, for the per-window refresh limit.
    pub mints: VecDeque<i64>,
}

/// An access token, minted at exchange or refresh.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessToken {
    pub client_id: String,
    pub dc: Dc,
    pub zuid: String,
    pub scopes: Vec<String>,
    /// The refresh token it came from (`None` for an online-only exchange).
    pub refresh: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    /// Mint order, to find the oldest when several share a second.
    pub seq: u64,
}

/// One of Zoho's limits: on with a maximum, or switched off. On the wire a number (on, with that
/// maximum) or `false` (off); `true` switches it back on at Zoho's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub on: bool,
    pub default: u32,
}

impl Limit {
    const fn new(default: u32) -> Self {
        Limit {
            max: default,
            on: true,
            default,
        }
    }

    /// Whether `used` more would exceed it.
    pub fn reached(&self, used: usize) -> bool {
        self.on && used >= self.max as usize
    }

    /// Applies a wire value (`false`, `true` or a number).
    pub fn apply(&mut self, value: &serde_json::Value) -> Result<(), String> {
        match value {
            serde_json::Value::Bool(on) => {
                self.on = *on;
                if *on {
                    self.max = self.default;
                }
                Ok(())
            }
            serde_json::Value::Number(n) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(max) if max > 0 => {
                    self.max = max;
                    self.on = true;
                    Ok(())
                }
                _ => Err(format!("a limit must be a positive whole number, got {n}")),
            },
            other => Err(format!("a limit is a number or true/false, got {other}")),
        }
    }

    pub fn to_json(self) -> serde_json::Value {
        if self.on {
            serde_json::Value::from(self.max)
        } else {
            serde_json::Value::Bool(false)
        }
    }
}

impl Serialize for Limit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.max, self.on, self.default).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (max, on, default) = <(u32, bool, u32)>::deserialize(d)?;
        Ok(Limit { max, on, default })
    }
}

/// Zoho's token limits — at most 15 live access tokens per refresh token and 10 refreshes per
/// 10 minutes, at most 20 refresh tokens per user — each switchable.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Limits {
    /// Access tokens minted per refresh token within [`WINDOW_SECS`].
    pub refresh_window: Limit,
    /// Live access tokens per refresh token; the oldest is evicted.
    pub live_access_tokens: Limit,
    /// Refresh tokens per user and client; the oldest is deleted with its access tokens.
    pub refresh_tokens_per_user: Limit,
    /// Grant codes per client within [`WINDOW_SECS`].
    pub codes_per_client: Limit,
    /// CRM calls in flight per user and client (by default the org's edition's).
    #[serde(default)]
    pub api_concurrency: ByEdition,
    /// Each org's credits per rolling 24 hours (by default the org's edition's).
    #[serde(default)]
    pub api_credits: ByEdition,
}

/// The sliding window of the per-window limits: ten minutes.
pub const WINDOW_SECS: i64 = 600;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            refresh_window: Limit::new(10),
            live_access_tokens: Limit::new(15),
            refresh_tokens_per_user: Limit::new(20),
            codes_per_client: Limit::new(10),
            api_concurrency: ByEdition::Edition,
            api_credits: ByEdition::Edition,
        }
    }
}

/// What `POST config` changes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EmuConfig {
    pub access_token_ttl: i64,
    pub code_ttl: i64,
    /// Answer token requests in the legacy shape (`expires_in_sec`, `expires_in` in ms).
    pub legacy_token_shape: bool,
    /// Advertise this `api_domain` in token responses instead of the real one (to test that
    /// clients check it against their pinned table).
    #[serde(default)]
    pub api_domain_override: Option<String>,
    pub limits: Limits,
    /// How long every CRM call takes to answer, in milliseconds (real Zoho takes a few hundred;
    /// 0 answers at once), so that calls overlap as they do at Zoho.
    #[serde(default)]
    pub api_latency_ms: u64,
    /// Answer a lead conversion 202 `SCHEDULED` and carry it out a moment later.
    #[serde(default)]
    pub convert_scheduled: bool,
    /// How far `actions/count` lags, in seconds: records created that recently are not counted
    /// yet (Zoho's count can lag by minutes; 0 counts at once).
    #[serde(default)]
    pub count_lag_secs: u64,
}

impl Default for EmuConfig {
    fn default() -> Self {
        EmuConfig {
            access_token_ttl: 3600,
            code_ttl: 120,
            legacy_token_shape: false,
            api_domain_override: None,
            limits: Limits::default(),
            api_latency_ms: 0,
            convert_scheduled: false,
            count_lag_secs: 0,
        }
    }
}

impl EmuConfig {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "access_token_ttl": self.access_token_ttl,
            "code_ttl": self.code_ttl,
            "legacy_token_shape": self.legacy_token_shape,
            "api_domain_override": self.api_domain_override,
            "api_latency_ms": self.api_latency_ms,
            "convert_scheduled": self.convert_scheduled,
            "count_lag_secs": self.count_lag_secs,
            "limits": {
                "refresh_window": self.limits.refresh_window.to_json(),
                "live_access_tokens": self.limits.live_access_tokens.to_json(),
                "refresh_tokens_per_user": self.limits.refresh_tokens_per_user.to_json(),
                "codes_per_client": self.limits.codes_per_client.to_json(),
                "api_concurrency": self.limits.api_concurrency.to_json(),
                "api_credits": self.limits.api_credits.to_json(),
            }
        })
    }
}

/// The counters of `GET stats`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counters {
    pub codes_issued: u64,
    pub exchanges: u64,
    pub refreshes: u64,
    pub refreshes_denied: u64,
    pub revocations: u64,
    pub api_calls: u64,
    pub unauthorized: u64,
    /// Calls refused with 429 for the concurrency cap or the credit budget.
    #[serde(default)]
    pub too_many_requests: u64,
    /// The most CRM calls seen in flight at once (per user: through one client).
    #[serde(default)]
    pub max_in_flight: u64,
}

/// Which counter an event moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    CodesIssued,
    Exchanges,
    Refreshes,
    RefreshesDenied,
    Revocations,
    ApiCalls,
    Unauthorized,
    TooManyRequests,
}

impl Counters {
    fn bump(&mut self, c: Counter) {
        let slot = match c {
            Counter::CodesIssued => &mut self.codes_issued,
            Counter::Exchanges => &mut self.exchanges,
            Counter::Refreshes => &mut self.refreshes,
            Counter::RefreshesDenied => &mut self.refreshes_denied,
            Counter::Revocations => &mut self.revocations,
            Counter::ApiCalls => &mut self.api_calls,
            Counter::Unauthorized => &mut self.unauthorized,
            Counter::TooManyRequests => &mut self.too_many_requests,
        };
        *slot += 1;
    }
}

/// `GET stats`: the counters in total and by data center, user and refresh token.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stats {
    pub total: Counters,
    pub by_dc: BTreeMap<String, Counters>,
    pub by_user: BTreeMap<String, Counters>,
    pub by_refresh_token: BTreeMap<String, Counters>,
    /// CRM calls that passed authorization, by module (or `settings`) and HTTP method.
    #[serde(default)]
    pub by_module: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Stats {
    /// Counts one event against the total and each key that applies.
    pub fn count(&mut self, c: Counter, dc: Dc, user: Option<&str>, refresh_id: Option<&str>) {
        self.total.bump(c);
        self.by_dc.entry(dc.to_string()).or_default().bump(c);
        if let Some(email) = user {
            self.by_user.entry(email.to_owned()).or_default().bump(c);
        }
        if let Some(id) = refresh_id {
            self.by_refresh_token
                .entry(id.to_owned())
                .or_default()
                .bump(c);
        }
    }
}

impl Stats {
    /// Notes `n` calls in flight at once for `user` (in total, in `dc`, for the user).
    pub fn saw_in_flight(&mut self, dc: Dc, user: &str, n: u64) {
        for c in [
            &mut self.total,
            self.by_dc.entry(dc.to_string()).or_default(),
            self.by_user.entry(user.to_owned()).or_default(),
        ] {
            c.max_in_flight = c.max_in_flight.max(n);
        }
    }
}

/// One line of `GET requests`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestRecord {
    pub seq: u64,
    pub dc: Dc,
    pub endpoint: String,
    pub method: String,
    /// The path only: queries carry secrets.
    pub path: String,
    pub client_id: Option<String>,
    pub secret_present: bool,
    pub status: u16,
}

/// The whole emulated Zoho.
#[derive(Debug, Serialize, Deserialize)]
pub struct World {
    /// Seconds added to the real clock (`POST clock/advance`).
    pub clock_offset: i64,
    pub config: EmuConfig,
    pub clients: BTreeMap<String, Client>,
    pub users: Vec<User>,
    pub orgs: BTreeMap<String, Org>,
    pub codes: HashMap<String, Code>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    pub access_tokens: HashMap<String, AccessToken>,
    /// When each client was issued codes, for the per-window code limit.
    pub code_issues: HashMap<String, VecDeque<i64>>,
    pub next_refresh_id: u64,
    /// The next token's mint order.
    pub next_token_seq: u64,
    /// Every org's CRM records.
    pub crm: records::CrmData,
    /// Credits spent and calls in flight, for Zoho's API limits.
    #[serde(default)]
    pub metering: crate::metering::Metering,
    /// Every org's notification channels, and the notifications owed and sent.
    #[serde(default)]
    pub watch: watch::Watch,
    pub stats: Stats,
    #[serde(skip)]
    pub requests: VecDeque<RequestRecord>,
    #[serde(skip)]
    pub next_seq: u64,
}

/// At most this many request records are kept; older ones are dropped.
pub const MAX_REQUEST_RECORDS: usize = 200_000;

impl World {
    /// The emulated time, in Unix seconds.
    pub fn now(&self) -> i64 {
        let real = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        real + self.clock_offset
    }

    /// The emulated time, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        let real = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        real + self.clock_offset * 1000
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email.trim()))
    }

    /// The users an org is licensed for: its active, confirmed users (at least one). A
    /// deactivated user frees their licence, and an invitation holds none until it is accepted.
    pub fn licensed_users(&self, zgid: &str) -> u64 {
        (self
            .users
            .iter()
            .filter(|u| u.org_zgid == zgid && u.licensed())
            .count() as u64)
            .max(1)
    }

    /// The credits `zgid` may spend per rolling 24 hours; `None` when the limit is off.
    pub fn credit_budget(&self, zgid: &str) -> Option<u64> {
        let edition = self.orgs.get(zgid).map(|o| o.edition).unwrap_or_default();
        self.config
            .limits
            .api_credits
            .resolve(edition.credits(self.licensed_users(zgid)))
    }

    pub fn user_by_zuid(&self, zuid: &str) -> Option<&User> {
        self.users.iter().find(|u| u.zuid == zuid)
    }

    /// Appends a request record, returning its sequence number.
    pub fn record(&mut self, mut rec: RequestRecord) -> u64 {
        self.next_seq += 1;
        rec.seq = self.next_seq;
        if self.requests.len() >= MAX_REQUEST_RECORDS {
            self.requests.pop_front();
        }
        self.requests.push_back(rec);
        self.next_seq
    }

    /// The next mint order number.
    pub fn next_seq_no(&mut self) -> u64 {
        self.next_token_seq += 1;
        self.next_token_seq
    }

    /// Removes a refresh token and every access token minted from it; returns how many tokens died.
    pub fn remove_refresh_token(&mut self, token: &str) -> usize {
        if self.refresh_tokens.remove(token).is_none() {
            return 0;
        }
        let before = self.access_tokens.len();
        self.access_tokens
            .retain(|_, at| at.refresh.as_deref() != Some(token));
        1 + before - self.access_tokens.len()
    }

    /// Drops codes and access tokens whose time has passed (they can never be used again).
    pub fn sweep(&mut self) {
        let now = self.now();
        self.codes.retain(|_, c| c.expires_at > now);
        self.access_tokens.retain(|_, t| t.expires_at > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(uris: &[&str]) -> Client {
        Client {
            client_id: "1000.X".into(),
            client_secret: "s".into(),
            redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
            dcs: vec![Dc::Us],
        }
    }

    #[test]
    fn redirect_patterns_accept_any_loopback_port_and_nothing_else() {
        let c = client(&["http://127.0.0.1:*/auth/zoho/callback"]);
        assert!(c.accepts_redirect("http://127.0.0.1:3000/auth/zoho/callback"));
        assert!(c.accepts_redirect("http://127.0.0.1:41234/auth/zoho/callback"));
        for bad in [
            "http://127.0.0.1/auth/zoho/callback",
            "http://127.0.0.1:/auth/zoho/callback",
            "http://127.0.0.1:30a0/auth/zoho/callback",
            "http://127.0.0.1:3000/auth/zoho/callback/x",
            "http://127.0.0.1:3000.evil.test/auth/zoho/callback",
            "https://127.0.0.1:3000/auth/zoho/callback",
            "http://127.0.0.1:123456/auth/zoho/callback",
        ] {
            assert!(!c.accepts_redirect(bad), "{bad}");
        }
        let exact = client(&["http://127.0.0.1:3000/auth/zoho/callback"]);
        assert!(exact.accepts_redirect("http://127.0.0.1:3000/auth/zoho/callback"));
        assert!(!exact.accepts_redirect("http://127.0.0.1:3001/auth/zoho/callback"));
    }

    #[test]
    fn limits_switch_off_and_back_on() {
        let mut l = Limit::new(10);
        assert!(!l.reached(9));
        assert!(l.reached(10));
        l.apply(&serde_json::json!(false)).expect("off");
        assert!(!l.reached(1000));
        assert_eq!(l.to_json(), serde_json::json!(false));
        l.apply(&serde_json::json!(3)).expect("number");
        assert!(l.reached(3));
        l.apply(&serde_json::json!(true)).expect("on");
        assert_eq!(l.to_json(), serde_json::json!(10));
        assert!(l.apply(&serde_json::json!(0)).is_err());
        assert!(l.apply(&serde_json::json!("ten")).is_err());
    }
}
