//! The small, closed set of errors a server function can return to the page. Each says what went
//! wrong in words a person can act on; internal causes are logged on the server, never sent.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No signed-in Zoho account in this browser session.
    #[error("Please sign in with Zoho.")]
    Unauthenticated,
    /// The request itself was wrong; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// Zoho refused the stored refresh token: this account must sign in again.
    #[error("Zoho needs you to sign in again to reconnect this account.")]
    NeedsReconnect,
    /// The connection lacks a permission (an OAuth scope) this page needs: one more consent
    /// round at Zoho grants it.
    #[error("zportal needs one more permission from Zoho for this. Reconnect to grant it.")]
    NeedsConsent,
    /// Zoho is limiting requests; zportal retries after `retry_at` (Unix seconds).
    #[error("Zoho is limiting requests right now; zportal will retry shortly.")]
    Throttled { retry_at: i64 },
    /// The org's API credits for the day are spent: zportal leaves Zoho alone for it until
    /// `retry_at` (Unix seconds).
    /// Its words end where the page puts the time, in the browser's zone.
    #[error("Zoho's daily API limit for {org} is used up;")]
    BudgetSpent { org: String, retry_at: i64 },
    /// Zoho did not answer (or not in time).
    #[error("Zoho could not be reached. Please try again shortly.")]
    ZohoUnavailable,
    /// Something failed on our side; details are in the server log.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The call never completed: network trouble between the page and zportal.
    #[error("Could not reach zportal: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status a server function answers with when it fails this way (the page reads
    /// the body; the status is for everything else: logs, metrics, proxies, scripts).
    pub fn http_status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::BadRequest(_) => 400,
            AppError::NeedsReconnect => 409,
            AppError::NeedsConsent => 403,
            AppError::Throttled { .. } | AppError::BudgetSpent { .. } => 429,
            AppError::ZohoUnavailable | AppError::Transport(_) => 502,
            AppError::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = crate::wire::JsonText;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                AppError::BadRequest(format!("Invalid request: {msg}"))
            }
            // On the server, what fails to deserialize is the request's body.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(msg) => {
                AppError::BadRequest(format!("Invalid request: {msg}"))
            }
            ServerFnErrorErr::ServerError(_)
            | ServerFnErrorErr::MiddlewareError(_)
            | ServerFnErrorErr::Response(_)
            | ServerFnErrorErr::Registration(_) => AppError::Internal,
            other => AppError::Transport(other.to_string()),
        }
    }
}

/// The server's errors, each becoming the one the page is shown. This is where a cause meets the
/// page, so it is logged here, once: what is sent has no cause in it.
#[cfg(feature = "ssr")]
mod from_server {
    use keeper::refresh::RefreshError;
    use zoho::crm::{ApiError, CrmError};

    use super::AppError;

    impl From<CrmError> for AppError {
        fn from(e: CrmError) -> Self {
            match e {
                CrmError::Token(RefreshError::NeedsReconnect) => AppError::NeedsReconnect,
                CrmError::Token(RefreshError::Throttled { retry_at }) => {
                    AppError::Throttled { retry_at }
                }
                CrmError::Token(RefreshError::NotFound) => AppError::Unauthenticated,
                CrmError::Api(ApiError::ScopeMismatch) => AppError::NeedsConsent,
                CrmError::BudgetSpent { org_name, retry_at } => AppError::BudgetSpent {
                    org: org_name,
                    retry_at,
                },
                CrmError::Api(ApiError::TooManyRequests) => AppError::Throttled {
                    retry_at: zoho::clock::now() + 60,
                },
                CrmError::Token(RefreshError::Unavailable)
                | CrmError::Http(_)
                | CrmError::Api(ApiError::Other { status: 500.., .. }) => {
                    tracing::warn!(error = %e, "Zoho call failed");
                    AppError::ZohoUnavailable
                }
                other => {
                    tracing::error!(error = %other, "Zoho call failed");
                    AppError::Internal
                }
            }
        }
    }

    impl From<keeper::vault::VaultError> for AppError {
        fn from(e: keeper::vault::VaultError) -> Self {
            tracing::error!(error = %e, "connection store failed");
            AppError::Internal
        }
    }

    impl From<tower_sessions::session::Error> for AppError {
        fn from(e: tower_sessions::session::Error) -> Self {
            tracing::error!(error = %e, "session store failed");
            AppError::Internal
        }
    }

    impl From<keeper::SaveError> for AppError {
        fn from(e: keeper::SaveError) -> Self {
            match e {
                keeper::SaveError::Crm(e) => e.into(),
                keeper::SaveError::Store(e) => e.into(),
                keeper::SaveError::Busy => AppError::BadRequest(
                    "This form is still being saved. Wait a moment, then press Save again.".into(),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn each_error_has_its_own_status_and_only_ours_is_a_500() {
        let all = [
            AppError::Unauthenticated,
            AppError::BadRequest("x".into()),
            AppError::NeedsReconnect,
            AppError::NeedsConsent,
            AppError::Throttled { retry_at: 1 },
            AppError::BudgetSpent {
                org: "Acme".into(),
                retry_at: 1,
            },
            AppError::ZohoUnavailable,
            AppError::Internal,
        ];
        let statuses: Vec<u16> = all.iter().map(AppError::http_status).collect();
        assert_eq!(statuses, [401, 400, 409, 403, 429, 429, 502, 500]);
    }
}
