//! Injected faults (`POST /__emulator/faults`): each rule fires on the next `count` requests that
//! match its endpoint (and data center, when given), then disappears.

use serde::{Deserialize, Serialize};

use crate::dc::Dc;

/// What a fault does to the request it fires on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer 500.
    #[serde(rename = "http_500")]
    Http500,
    /// Answer 503.
    #[serde(rename = "http_503")]
    Http503,
    /// Wait `delay_ms`, then answer normally.
    Delay,
    /// Carry the request out, then wait `delay_ms` before answering: Zoho did the work, and a
    /// client that gave up waiting never hears of it.
    LateAnswer,
    /// Zoho's throttle: the HTTP-200 "Access Denied" body on token calls, 429 on the API.
    AccessDenied,
    /// The API answers 401 `INVALID_TOKEN`; token calls answer `{"error":"invalid_token"}`.
    InvalidToken,
    /// Token calls answer `{"error":"invalid_code"}` (the API treats it as `invalid_token`).
    InvalidCode,
    /// Answer 302 to another place, to catch clients that follow redirects.
    Redirect,
    /// Token responses in the legacy shape (`expires_in_sec`, `expires_in` in milliseconds).
    LegacyShape,
}

/// Which kind of request a fault targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Auth,
    Exchange,
    Refresh,
    Revoke,
    Users,
    Org,
    Settings,
    Records,
    Search,
    /// Matches every endpoint.
    Any,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Auth => "auth",
            Endpoint::Exchange => "exchange",
            Endpoint::Refresh => "refresh",
            Endpoint::Revoke => "revoke",
            Endpoint::Users => "users",
            Endpoint::Org => "org",
            Endpoint::Settings => "settings",
            Endpoint::Records => "records",
            Endpoint::Search => "search",
            Endpoint::Any => "any",
        }
    }
}

/// One rule, as posted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(default)]
    pub id: u64,
    pub kind: FaultKind,
    pub endpoint: Endpoint,
    #[serde(default)]
    pub dc: Option<Dc>,
    pub count: u32,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Fires only on requests whose path, as the request log writes it (ids as `{id}`),
    /// contains this: `Leads/{id}/actions/convert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The active rules.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<Fault>,
    next_id: u64,
}

/// A fault that fired: what to do, and for how long to wait first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fired {
    pub kind: FaultKind,
    pub delay_ms: u64,
}

impl Faults {
    /// Adds a rule and returns its id.
    pub fn add(&mut self, mut fault: Fault) -> u64 {
        self.next_id += 1;
        fault.id = self.next_id;
        self.rules.push(fault);
        self.next_id
    }

    /// The rules still armed, each with the shots it has left.
    pub fn armed(&self) -> &[Fault] {
        &self.rules
    }

    /// Removes every rule; returns how many there were.
    pub fn clear(&mut self) -> usize {
        std::mem::take(&mut self.rules).len()
    }

    /// Takes one shot of the first rule matching this request, if any.
    pub fn fire(&mut self, endpoint: Endpoint, dc: Dc, path: &str) -> Option<Fired> {
        let i = self.rules.iter().position(|f| {
            (f.endpoint == endpoint || f.endpoint == Endpoint::Any)
                && f.dc.is_none_or(|d| d == dc)
                && f.path.as_deref().is_none_or(|p| path.contains(p))
                && f.count > 0
        })?;
        let rule = &mut self.rules[i];
        rule.count -= 1;
        let fired = Fired {
            kind: rule.kind,
            delay_ms: rule.delay_ms.unwrap_or(0),
        };
        if rule.count == 0 {
            self.rules.remove(i);
        }
        Some(fired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: FaultKind, endpoint: Endpoint, dc: Option<Dc>, count: u32) -> Fault {
        Fault {
            id: 0,
            kind,
            endpoint,
            dc,
            count,
            delay_ms: None,
            path: None,
        }
    }

    #[test]
    fn a_rule_fires_count_times_on_matching_requests_only() {
        let mut f = Faults::default();
        f.add(rule(FaultKind::Http500, Endpoint::Refresh, Some(Dc::Eu), 2));
        assert_eq!(f.fire(Endpoint::Refresh, Dc::Us, ""), None);
        assert_eq!(f.fire(Endpoint::Exchange, Dc::Eu, ""), None);
        assert!(f.fire(Endpoint::Refresh, Dc::Eu, "").is_some());
        assert!(f.fire(Endpoint::Refresh, Dc::Eu, "").is_some());
        assert_eq!(f.fire(Endpoint::Refresh, Dc::Eu, ""), None);
    }

    #[test]
    fn a_rule_with_a_path_fires_only_on_that_path() {
        let mut f = Faults::default();
        let mut late = rule(FaultKind::LateAnswer, Endpoint::Records, None, 1);
        late.path = Some("/actions/convert".into());
        f.add(late);
        assert_eq!(
            f.fire(Endpoint::Records, Dc::Us, "/us/api/crm/v8/Leads/{id}"),
            None
        );
        assert_eq!(
            f.fire(
                Endpoint::Records,
                Dc::Us,
                "/us/api/crm/v8/Leads/{id}/actions/convert"
            )
            .map(|x| x.kind),
            Some(FaultKind::LateAnswer)
        );
    }

    #[test]
    fn kinds_use_the_contract_names() {
        for (kind, name) in [
            (FaultKind::Http500, "http_500"),
            (FaultKind::Http503, "http_503"),
            (FaultKind::LegacyShape, "legacy_shape"),
            (FaultKind::LateAnswer, "late_answer"),
        ] {
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::json!(name))
            );
        }
    }

    #[test]
    fn any_matches_everything_and_clear_removes_all() {
        let mut f = Faults::default();
        f.add(rule(FaultKind::Delay, Endpoint::Any, None, 5));
        assert!(
            f.fire(Endpoint::Org, Dc::Jp, "/jp/api/crm/v8/org")
                .is_some()
        );
        assert_eq!(f.clear(), 1);
        assert_eq!(f.fire(Endpoint::Org, Dc::Jp, ""), None);
    }
}
