//! Changes to many records in one call (reference §9.3, §9.4): `actions/change_owner` hands
//! records to another user, `actions/mass_update` sets one field on them; each takes at most
//! [`MAX_IDS`] ids and answers per record (200 all, 202/207 some, 400 none), or refuses the
//! whole call (an inactive owner, a field that cannot be mass updated, no permission). Also the
//! records of given ids as Zoho holds them now, which a change compares with first.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::records::{RecordError, is_record_id};
use super::{CrmClient, CrmError, api_error};
use crate::call::{Call, Op, Resource};
use crate::http::HttpError;
use crate::ids::{ConnectionId, ModuleName};

/// The most ids one change owner or mass update takes.
pub const MAX_IDS: usize = 500;
/// The code of a record Zoho's answer says nothing about.
pub const NO_ANSWER: &str = "NO_ANSWER";
/// The most ids one read of records by id takes.
pub const MAX_READ_IDS: usize = 100;

/// Why Zoho refused a whole call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRefusal {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// The field or parameter it names (`details.api_name`).
    pub field: Option<String>,
    /// Why the new owner cannot own records (`details.owner_status`: `inactive`,
    /// `include_subordinate_owners`, `deleted`, …).
    pub owner_status: Option<String>,
}

/// What came of a change of many records: each record's result, in the order of the ids, or
/// the call's refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BulkOutcome {
    Done(Vec<(String, Result<(), RecordError>)>),
    Refused(CallRefusal),
}

#[derive(Deserialize)]
struct ItemBody {
    #[serde(default)]
    status: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Map<String, Value>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    data: Vec<ItemBody>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Map<String, Value>,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads an answer: per record (matched by `details.id`, else by position), or the refusal.
fn read_answer(
    (status, body): (u16, bytes::Bytes),
    ids: &[String],
) -> Result<BulkOutcome, CrmError> {
    let answer: Option<Answer> = serde_json::from_slice(&body).ok();
    match answer {
        Some(a) if matches!(status, 200 | 202 | 207 | 400) && !a.data.is_empty() => {
            let mut results: Vec<(String, Result<(), RecordError>)> = ids
                .iter()
                .map(|id| {
                    let unanswered = RecordError {
                        code: NO_ANSWER.into(),
                        message: "Zoho did not say what became of it".into(),
                        field: None,
                    };
                    (id.clone(), Err(unanswered))
                })
                .collect();
            // By id; by position only when no item names one (one unnamed item must not take
            // another record's place).
            let by_position = a.data.iter().all(|i| text(i.details.get("id")).is_none());
            for (at, item) in a.data.into_iter().enumerate() {
                let named = text(item.details.get("id"));
                let slot = match named {
                    Some(id) => ids.iter().position(|i| *i == id),
                    None if by_position => Some(at),
                    None => None,
                };
                let Some(slot) = slot else {
                    continue;
                };
                let Some(entry) = results.get_mut(slot) else {
                    continue;
                };
                entry.1 = if item.status == "success" {
                    Ok(())
                } else {
                    Err(RecordError {
                        code: item.code,
                        message: item.message,
                        field: text(item.details.get("api_name")),
                    })
                };
            }
            Ok(BulkOutcome::Done(results))
        }
        Some(Answer {
            code: Some(code),
            message,
            details,
            ..
        }) if matches!(status, 400 | 403) => Ok(BulkOutcome::Refused(CallRefusal {
            status,
            code,
            message: message.unwrap_or_default(),
            field: text(details.get("api_name")),
            owner_status: text(details.get("owner_status")),
        })),
        _ if (200..300).contains(&status) => Err(HttpError::Malformed("bulk answer").into()),
        _ => Err(api_error(status, &body).into()),
    }
}

/// The ids Zoho can take (digits only), at most [`MAX_IDS`]; `None` for more.
fn checked(ids: &[String]) -> Option<Vec<String>> {
    (ids.len() <= MAX_IDS).then(|| ids.iter().filter(|i| is_record_id(i)).cloned().collect())
}

impl CrmClient {
    /// Hands the records of `ids` to user `owner_id`.
    pub async fn change_owner(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        ids: &[String],
        owner_id: &str,
    ) -> Result<BulkOutcome, CrmError> {
        let Some(ids) = checked(ids) else {
            return Ok(BulkOutcome::Refused(too_many()));
        };
        if ids.is_empty() {
            return Ok(BulkOutcome::Done(Vec::new()));
        }
        let body = json!({ "owner": { "id": owner_id }, "ids": ids, "notify": false });
        let resource = Resource::ChangeOwner {
            module: module.clone(),
            ids: ids.clone(),
        };
        let answer = self
            .call(id, Call::json(Op::Update, &resource, &body))
            .await?;
        read_answer(answer, &ids)
    }

    /// Sets `field` to `value` on the records of `ids`.
    pub async fn mass_update(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        ids: &[String],
        field: &str,
        value: Value,
    ) -> Result<BulkOutcome, CrmError> {
        let Some(ids) = checked(ids) else {
            return Ok(BulkOutcome::Refused(too_many()));
        };
        if ids.is_empty() {
            return Ok(BulkOutcome::Done(Vec::new()));
        }
        let mut set = Map::new();
        set.insert(field.to_owned(), value);
        let body = json!({ "data": [set], "ids": ids });
        let resource = Resource::MassUpdate {
            module: module.clone(),
            ids: ids.clone(),
        };
        let answer = self
            .call(id, Call::json(Op::Update, &resource, &body))
            .await?;
        read_answer(answer, &ids)
    }

    /// The records of `ids` as Zoho holds them now (never as read before), with `fields`;
    /// [`MAX_READ_IDS`] a call. Records Zoho no longer has are missing from the answer.
    pub async fn records_now(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        ids: &[String],
        fields: &[&str],
    ) -> Result<Vec<Map<String, Value>>, CrmError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            data: Vec<Map<String, Value>>,
        }
        let good: Vec<String> = ids.iter().filter(|i| is_record_id(i)).cloned().collect();
        let mut out = Vec::with_capacity(good.len());
        for chunk in good.chunks(MAX_READ_IDS) {
            let resource = Resource::Records {
                module: module.clone(),
                ids: chunk.to_vec(),
            };
            // Converted Leads too: lists hide them, and a change must name them, not lose them.
            let converted = if module.as_str() == "Leads" {
                "&converted=both"
            } else {
                ""
            };
            let query = format!("fields={}{converted}", fields.join(","));
            match self.read_now::<Page>(id, &resource, &query).await {
                Ok(page) => out.extend(page.data),
                Err(CrmError::Api(super::ApiError::NoContent)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

/// What is said of more than [`MAX_IDS`] ids, before anything is sent.
fn too_many() -> CallRefusal {
    CallRefusal {
        status: 400,
        code: "LIMIT_EXCEEDED".into(),
        message: format!("at most {MAX_IDS} records at once"),
        field: Some("ids".into()),
        owner_status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: Value, ids: &[&str]) -> BulkOutcome {
        let ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
        read_answer((status, bytes::Bytes::from(body.to_string())), &ids).expect("an outcome")
    }

    #[test]
    fn each_record_is_matched_to_its_result_by_id() {
        let mixed = json!({ "data": [
            { "status": "error", "code": "INVALID_DATA", "message": "the id given seems to be invalid", "details": { "id": "2" } },
            { "status": "success", "code": "SUCCESS", "message": "owner is successfully updated", "details": { "id": "1" } },
        ] });
        match answer(202, mixed, &["1", "2"]) {
            BulkOutcome::Done(r) => {
                assert_eq!(r[0], ("1".to_owned(), Ok(())));
                assert_eq!(
                    r[1].1.as_ref().err().map(|e| e.code.as_str()),
                    Some("INVALID_DATA")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refused_call_keeps_its_reason() {
        let inactive = json!({ "code": "INVALID_DATA", "status": "error", "message": "the owner is inactive",
            "details": { "api_name": "id", "json_path": "$.owner.id", "owner_status": "inactive" } });
        match answer(400, inactive, &["1"]) {
            BulkOutcome::Refused(r) => {
                assert_eq!(r.owner_status.as_deref(), Some("inactive"));
                assert_eq!(r.code, "INVALID_DATA");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(checked(&vec!["1".to_owned(); MAX_IDS + 1]), None);
        let scope = json!({ "code": "OAUTH_SCOPE_MISMATCH", "status": "error", "message": "x", "details": {} });
        let ids = vec!["1".to_owned()];
        assert!(matches!(
            read_answer((401, bytes::Bytes::from(scope.to_string())), &ids),
            Err(CrmError::Api(super::super::ApiError::ScopeMismatch))
        ));
    }
}
