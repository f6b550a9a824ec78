//! One record per form, one change per press: the save ledger. A form carries a token; the first press of its "Save"
//! claims the token in the store while it asks Zoho to insert, and later presses — a double
//! click, a retried request, another process, a press after a restart — wait for that outcome and
//! answer with the same record. A press that made nothing (Zoho refused the record, or the call
//! failed) gives the claim back, so the form can be saved again; so does a claim whose holder died
//! (it lapses after its hold).

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::connect::Zoho;
use crate::vault::{SaveClaim, VaultError};
use zoho::crm::CrmError;
use zoho::crm::metadata::ModuleName;
use zoho::crm::records::RecordError;
use zoho::ids::ConnectionId;

/// How often a second press of Save looks whether the first one has finished.
const POLL: Duration = Duration::from_millis(150);
/// How much longer than a claim's hold a second press waits for the first.
const PATIENCE: Duration = Duration::from_secs(2);

/// Why a save could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(transparent)]
    Crm(#[from] CrmError),
    #[error(transparent)]
    Store(#[from] VaultError),
    /// Another press of the same form is still asking Zoho, longer than its hold allows.
    #[error("this form is still being saved")]
    Busy,
}

impl Zoho {
    /// Inserts the record of form `token` at most once: the new record's id (made by this press
    /// or an earlier one), or what Zoho found wrong with it. `hold` must outlast every Zoho call
    /// one insert can make (a refresh and the insert, each with its timeout).
    pub async fn insert_once(
        &self,
        conn: &ConnectionId,
        token: &str,
        hold: Duration,
        module: &ModuleName,
        fields: Map<String, Value>,
    ) -> Result<Result<String, RecordError>, SaveError> {
        self.once(conn, token, hold, self.crm.insert(conn, module, fields))
            .await
    }

    /// Carries out the write `work` of press `token` at most once, as [`Zoho::insert_once`]
    /// does an insert: the id it names (the record it made or changed), by this press or an
    /// earlier one, or what Zoho found wrong. `work` is not started unless this press claims the
    /// token.
    pub async fn once(
        &self,
        conn: &ConnectionId,
        token: &str,
        hold: Duration,
        work: impl Future<Output = Result<Result<String, RecordError>, CrmError>>,
    ) -> Result<Result<String, RecordError>, SaveError> {
        let waited_since = Instant::now();
        loop {
            match self.vault.claim_save(conn, token, hold).await? {
                SaveClaim::Claimed => break,
                SaveClaim::Done(id) => return Ok(Ok(id)),
                // Long enough for a claim made just before this press to lapse.
                SaveClaim::Busy if waited_since.elapsed() > hold + PATIENCE => {
                    return Err(SaveError::Busy);
                }
                SaveClaim::Busy => tokio::time::sleep(POLL).await,
            }
        }
        let outcome = work.await;
        let kept = match &outcome {
            Ok(Ok(id)) => self.vault.finish_save(conn, token, id).await,
            _ => self.vault.release_save(conn, token).await,
        };
        if let Err(e) = kept {
            // The answer stands (Zoho has or has not made the change); the claim lapses.
            tracing::error!(error = %e, "save ledger write failed");
        }
        Ok(outcome?)
    }
}
