//! `/connection`: the active Zoho connection's health — data center, org, user, scopes, the last
//! refresh and the access token's expiry (times only, never a token) — and its status.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::wire::Json;

/// What the Connection page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionHealth {
    pub dc: String,
    pub dc_name: String,
    pub org_name: String,
    pub org_zgid: String,
    pub email: String,
    pub scopes: Vec<String>,
    /// Unix seconds, or `None` before the first refresh.
    pub last_refresh_at: Option<i64>,
    pub access_expires_at: Option<i64>,
    pub connected_at: i64,
    pub needs_reconnect: bool,
    /// Something to say about the live check (Zoho limiting requests, say).
    pub notice: Option<String>,
    /// The org's Zoho API credits zportal spent in the last 24 hours (every process's).
    pub credits_used: u64,
    /// The org's daily credits, when its edition says (`None`: not known).
    pub credits_budget: Option<u64>,
    /// How open pages learn of changes made by others, in a sentence.
    pub live: String,
    /// The connection lacks the scope Zoho's notifications need: reconnecting grants it.
    pub live_needs_scope: bool,
}

/// Past this share of the day's credits (in percent), the page warns.
const CREDITS_WARNING: u64 = 80;

impl ConnectionHealth {
    /// How much of the day's credits are spent in whole percent (rounded down), when the
    /// budget is known.
    pub fn credits_percent(&self) -> Option<u64> {
        self.credits_budget
            .filter(|b| *b > 0)
            .map(|b| self.credits_used.saturating_mul(100) / b)
    }
}

/// The active connection's health; `Unauthenticated` when this browser has none.
#[server(endpoint = "connection/health", input = GetUrl, output = Json)]
pub async fn get_connection_health() -> Result<ConnectionHealth, AppError> {
    ssr::health().await
}

use crate::time::{LocalTime, iso, utc};

#[component]
pub fn ConnectionPage() -> impl IntoView {
    let health = Resource::new(|| (), |_| get_connection_health());
    view! {
        <section class="panel">
            <leptos_meta::Title text="Connection · zportal" />
            <h1>"Connection"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    health
                        .get()
                        .map(|result| match result {
                            Ok(h) => view! { <HealthTable h /> }.into_any(),
                            Err(AppError::Unauthenticated) => {
                                view! {
                                    <p role="alert">"You are not signed in."</p>
                                    <crate::sign_in::SignInPanel />
                                }.into_any()
                            }
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn HealthTable(h: ConnectionHealth) -> impl IntoView {
    let status = if h.needs_reconnect {
        "Needs reconnect"
    } else {
        "Connected"
    };
    let when = |t: Option<i64>| match t {
        Some(secs) => view! { <LocalTime iso=iso(secs) fallback=utc(secs) /> }.into_any(),
        None => "never".into_any(),
    };
    let reconnect = h.needs_reconnect.then(|| {
        view! {
            <form method="get" action="/auth/zoho/start" class="reconnect">
                <p>"Zoho no longer accepts this connection's token. Sign in again to reconnect."</p>
                <input type="hidden" name="dc" value=h.dc.clone() />
                <input type="hidden" name="return_to" value="/connection" />
                <button type="submit" class="primary">
                    "Reconnect"
                </button>
            </form>
        }
    });
    let percent = h.credits_percent();
    let credits = match (h.credits_budget, percent) {
        (Some(budget), Some(percent)) => format!(
            "{} of {} ({percent} %)",
            crate::records::numbers::grouped(&h.credits_used.to_string()),
            crate::records::numbers::grouped(&budget.to_string()),
        ),
        _ => format!(
            "{} (this org's daily budget is not known)",
            crate::records::numbers::grouped(&h.credits_used.to_string())
        ),
    };
    let credits_warning = percent.filter(|p| *p >= CREDITS_WARNING).map(|p| {
        view! {
            <p class="notice warning" role="status" data-testid="credits-warning">
                {format!(
                    "{} has used {p} % of its daily Zoho API credits. Past the limit, Zoho refuses every call for this org until the 24-hour window frees some.",
                    h.org_name,
                )}
            </p>
        }
    });
    view! {
        {h.notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
        {credits_warning}
        {reconnect}
        <dl class="facts">
            <dt>"Status"</dt>
            <dd data-testid="status">{status}</dd>
            <dt>"Data center"</dt>
            <dd>{format!("{} ({})", h.dc_name, h.dc)}</dd>
            <dt>"Organization"</dt>
            <dd>{format!("{} (zgid {})", h.org_name, h.org_zgid)}</dd>
            <dt>"User"</dt>
            <dd>{h.email}</dd>
            <dt>"Scopes"</dt>
            <dd>
                <ul class="scopes">
                    {h.scopes.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
                </ul>
            </dd>
            <dt>"Connected"</dt>
            <dd>{when(Some(h.connected_at))}</dd>
            <dt>"Last refresh"</dt>
            <dd data-testid="last-refresh">{when(h.last_refresh_at)}</dd>
            <dt>"Access token expires"</dt>
            <dd data-testid="expiry">{when(h.access_expires_at)}</dd>
            <dt>"API credits (last 24 hours)"</dt>
            <dd data-testid="credits">{credits}</dd>
            <dt>"Live updates"</dt>
            <dd data-testid="live">
                {h.live}
                {h.live_needs_scope.then(|| view! {
                    <form method="get" action="/auth/zoho/start" class="reconnect">
                        <input type="hidden" name="dc" value=h.dc.clone() />
                        <input type="hidden" name="return_to" value="/connection" />
                        <button type="submit">"Reconnect"</button>
                    </form>
                })}
            </dd>
        </dl>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(used: u64, budget: Option<u64>) -> ConnectionHealth {
        ConnectionHealth {
            dc: "us".into(),
            dc_name: "United States".into(),
            org_name: "Acme".into(),
            org_zgid: "1".into(),
            email: "a@b".into(),
            scopes: vec![],
            last_refresh_at: None,
            access_expires_at: None,
            connected_at: 0,
            needs_reconnect: false,
            notice: None,
            credits_used: used,
            credits_budget: budget,
            live: String::new(),
            live_needs_scope: false,
        }
    }

    #[test]
    fn the_credits_warning_starts_at_eighty_percent_of_a_known_budget() {
        assert_eq!(health(41_599, Some(52_000)).credits_percent(), Some(79));
        assert_eq!(health(41_600, Some(52_000)).credits_percent(), Some(80));
        assert!(health(41_600, Some(52_000)).credits_percent() >= Some(CREDITS_WARNING));
        assert_eq!(health(60_000, Some(52_000)).credits_percent(), Some(115));
        assert_eq!(health(10, None).credits_percent(), None);
        assert_eq!(health(10, Some(0)).credits_percent(), None);
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    //! The server's half: the stored connection, and a live call through the refresher.

    use super::*;

    pub async fn health() -> Result<ConnectionHealth, AppError> {
        use crate::context;
        use keeper::vault::ConnectionStatus;
        let ctx = context::server_context()?;
        let before = crate::session::ActiveConnection::current().await?.0;
        // A live call through the refresher: renews the access token when it is due and notices a
        // refresh token Zoho no longer accepts.
        let (org, notice) = match ctx.zoho.crm.org(&before.id).await {
            Ok(org) => (Some(org), None),
            Err(e) => (
                None,
                match AppError::from(e) {
                    AppError::NeedsReconnect => None,
                    AppError::Throttled { retry_at } => Some(format!(
                        "Zoho is limiting requests right now; zportal will try again after {}.",
                        utc(retry_at)
                    )),
                    AppError::BudgetSpent { org, retry_at } => Some(format!(
                        "Zoho's daily API limit for {org} is used up; zportal tries again after {}.",
                        utc(retry_at)
                    )),
                    other => Some(other.to_string()),
                },
            ),
        };
        let c = crate::session::ActiveConnection::current().await?.0;
        let credits_used = ctx.zoho.credits_used(c.key.dc, &c.key.org).await?;
        // Zoho just failed to answer: the budget comes from an org read in the last minute, if
        // any, rather than from a second call.
        let credits_budget = org
            .or_else(|| ctx.zoho.crm.org_known(&c.id))
            .and_then(|o| o.daily_credits);
        let live_needs_scope = !c
            .scopes
            .iter()
            .any(|s| s.eq_ignore_ascii_case(NOTIFICATIONS_SCOPE));
        let mode = ctx.zoho.watches.mode(&zoho::budget::OrgKey {
            dc: c.key.dc,
            org: c.key.org.clone(),
        });
        let live = live_sentence(mode, live_needs_scope);
        Ok(ConnectionHealth {
            notice,
            dc: c.key.dc.location().to_owned(),
            dc_name: c.key.dc.name().to_owned(),
            org_name: c.org_name,
            org_zgid: c.key.org.to_string(),
            email: c.email,
            scopes: c.scopes,
            last_refresh_at: c.last_refresh_at,
            access_expires_at: c.access_expires_at,
            connected_at: c.created_at,
            needs_reconnect: c.status == ConnectionStatus::NeedsReconnect,
            credits_used,
            credits_budget,
            live,
            live_needs_scope,
        })
    }

    /// The scope Zoho's watch API needs.
    const NOTIFICATIONS_SCOPE: &str = "ZohoCRM.notifications.ALL";

    fn live_sentence(mode: keeper::watch::Mode, needs_scope: bool) -> String {
        use keeper::watch::Mode;
        let polling = "open pages check for changes every 30 seconds while they are visible (each check counts against the org's API credits)";
        match mode {
            _ if needs_scope => format!(
                "This connection has not granted {NOTIFICATIONS_SCOPE}, so {polling}. Reconnect to grant it."
            ),
            Mode::Push => "Changes anyone makes — here, on another zportal server or in Zoho — appear on open pages as they happen (Zoho notifies zportal).".into(),
            Mode::PollUnreachable => format!(
                "Zoho is not asked to notify this server (its public URL is not https, or ZPORTAL_NOTIFICATIONS is off), so {polling}."
            ),
            Mode::PollNoScope => format!(
                "No connection of this org has granted {NOTIFICATIONS_SCOPE}, so {polling}."
            ),
            Mode::PollFailed => format!(
                "Zoho did not take zportal's request to notify it, so {polling}; zportal asks again every half minute."
            ),
        }
    }
}
