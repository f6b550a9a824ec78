//! Lead conversion (reference §9.2): `Leads/{id}/__conversion_options` suggests the Contacts and
//! Accounts a Lead could join; `Leads/{id}/actions/convert` turns it into a Contact, under a new
//! or existing Account (or none, when the Lead has no Company), optionally with a Deal. Zoho may
//! convert at once (200, what it made) or in the background (202 `SCHEDULED`); a Lead converted
//! before is refused with `ID_ALREADY_CONVERTED`, and its `$converted_detail` says into what.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::records::{RecordError, is_record_id, write_results};
use super::{ApiError, CrmClient, CrmError};
use crate::call::{Call, Op, Resource};
use crate::http::HttpError;
use crate::ids::ConnectionId;

/// A record as a conversion names it: `{name, id}`, or (v2 style) the id alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    pub name: Option<String>,
}

impl Named {
    /// Reads `{name, id}` or a plain id, leniently; `None` for anything else.
    pub fn read(v: &Value) -> Option<Named> {
        let (id, name) = match v {
            Value::String(id) => (id.clone(), None),
            Value::Number(n) => (n.to_string(), None),
            Value::Object(o) => {
                let id = match o.get("id")? {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                (id, o.get("name").and_then(Value::as_str).map(str::to_owned))
            }
            _ => return None,
        };
        is_record_id(&id).then_some(Named { id, name })
    }
}

/// What a Lead became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted {
    pub contact: Named,
    pub account: Option<Named>,
    pub deal: Option<Named>,
}

impl Converted {
    /// Reads a conversion's `details`, or a Lead's `$converted_detail`: `Contacts`, `Accounts`,
    /// `Deals` (any case), each `{name, id}` or an id.
    pub fn read(details: &Value) -> Option<Converted> {
        let obj = details.as_object()?;
        let get = |key: &str| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .and_then(|(_, v)| Named::read(v))
        };
        Some(Converted {
            contact: get("Contacts").or_else(|| get("Contact"))?,
            account: get("Accounts").or_else(|| get("Account")),
            deal: get("Deals").or_else(|| get("Deal")),
        })
    }

    /// What a Lead record says it was converted into, if it was.
    pub fn of_lead(lead: &Map<String, Value>) -> Option<Converted> {
        let converted = lead.get("$converted").and_then(Value::as_bool) == Some(true)
            || lead.get("Converted__s").and_then(Value::as_bool) == Some(true);
        if !converted {
            return None;
        }
        lead.get("$converted_detail").and_then(Converted::read)
    }
}

/// Where the Lead's person goes: a new Contact, or one that exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContactChoice {
    New,
    Existing(String),
}

/// Where the Lead's company goes: a new Account (from its Company), one that exists, or none.
/// Zoho cannot skip the Account of a Lead with a Company, so `None` is for a Lead without one
/// and sends what `New` sends (Zoho then makes no Account).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountChoice {
    New,
    Existing(String),
    None,
}

/// One conversion, as the dialog chose it.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversion {
    pub contact: ContactChoice,
    pub account: AccountChoice,
    /// The Deal's fields (`Deal_Name`, `Stage`, `Closing_Date`, `Amount`, `Pipeline`…), when
    /// one is to be made.
    pub deal: Option<Map<String, Value>>,
}

impl Conversion {
    /// The body's item. `overwrite` and the notifications are off (the decision); the
    /// new records belong to the Lead's owner (Zoho's default without `assign_to`).
    pub fn item(&self) -> Value {
        let mut item = json!({ "overwrite": false, "notify_lead_owner": false, "notify_new_entity_owner": false });
        if let ContactChoice::Existing(id) = &self.contact {
            item["Contacts"] = json!({ "id": id });
        }
        if let AccountChoice::Existing(id) = &self.account {
            item["Accounts"] = json!({ "id": id });
        }
        if let Some(deal) = &self.deal {
            item["Deals"] = Value::Object(deal.clone());
        }
        item
    }
}

/// What came of a conversion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConvertOutcome {
    /// Converted; into what, when Zoho's answer says (else read the Lead's `$converted_detail`).
    Converted(Option<Converted>),
    /// Zoho converts in the background (`job_id`); the Lead shows it once done.
    Scheduled {
        job_id: Option<String>,
    },
    /// It was converted before (into what its record says, if it says).
    AlreadyConverted,
    Refused(RecordError),
}

/// A Contact or Account a Lead could join.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub id: String,
    pub name: String,
    /// A Contact's email, or an Account's phone: what tells two of the same name apart.
    pub hint: Option<String>,
}

/// `__conversion_options`: what Zoho suggests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConversionOptions {
    pub contacts: Vec<Suggestion>,
    pub accounts: Vec<Suggestion>,
}

#[derive(Deserialize)]
struct OptionsBody {
    #[serde(rename = "__conversion_options", default)]
    options: Map<String, Value>,
}

fn suggestions(list: Option<&Value>, name: &str, hint: &str) -> Vec<Suggestion> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let id = Named::read(s.get("id")?)?.id;
            Some(Suggestion {
                name: s
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or(&id)
                    .to_owned(),
                hint: s.get(hint).and_then(Value::as_str).map(str::to_owned),
                id,
            })
        })
        .collect()
}

impl CrmClient {
    /// The Contacts and Accounts Zoho suggests for the Lead (none: 204).
    pub async fn conversion_options(
        &self,
        id: &ConnectionId,
        lead_id: &str,
    ) -> Result<ConversionOptions, CrmError> {
        if !is_record_id(lead_id) {
            return Ok(ConversionOptions::default());
        }
        let resource = Resource::ConversionOptions(lead_id.to_owned());
        match self.read::<OptionsBody>(id, &resource, "").await {
            Ok(body) => Ok(ConversionOptions {
                contacts: suggestions(body.options.get("Contacts"), "Full_Name", "Email"),
                accounts: suggestions(body.options.get("Accounts"), "Account_Name", "Phone"),
            }),
            Err(CrmError::Api(ApiError::NoContent)) => Ok(ConversionOptions::default()),
            Err(e) => Err(e),
        }
    }

    /// Converts the Lead.
    pub async fn convert_lead(
        &self,
        id: &ConnectionId,
        lead_id: &str,
        conversion: &Conversion,
    ) -> Result<ConvertOutcome, CrmError> {
        if !is_record_id(lead_id) {
            return Ok(ConvertOutcome::Refused(RecordError::invalid_id()));
        }
        let body = json!({ "data": [conversion.item()] });
        let resource = Resource::ConvertLead(lead_id.to_owned());
        let answer = self
            .call(id, Call::json(Op::Create, &resource, &body))
            .await?;
        read_answer(answer)
    }
}

/// What a conversion's answer says: converted (into what, if it says), scheduled, converted
/// before, or refused; anything else is an error of the call.
fn read_answer((status, bytes): (u16, bytes::Bytes)) -> Result<ConvertOutcome, CrmError> {
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let item = answer.get("data").and_then(|d| d.get(0));
    fn code(v: Option<&Value>) -> Option<&str> {
        v.and_then(|v| v.get("code")).and_then(Value::as_str)
    }
    // Whatever the status: the reference finds it as a 400, and one spec lists it under 202.
    if code(Some(&answer)) == Some("ID_ALREADY_CONVERTED")
        || code(item) == Some("ID_ALREADY_CONVERTED")
    {
        return Ok(ConvertOutcome::AlreadyConverted);
    }
    if code(item) == Some("SCHEDULED") {
        let job_id = item
            .and_then(|i| i.pointer("/details/job_id"))
            .and_then(|j| {
                j.as_str()
                    .map(str::to_owned)
                    .or_else(|| j.as_u64().map(|n| n.to_string()))
            });
        return Ok(ConvertOutcome::Scheduled { job_id });
    }
    // A success, even one whose details cannot be read: the Lead was converted.
    if (200..300).contains(&status)
        && item.and_then(|i| i.get("status")).and_then(Value::as_str) == Some("success")
    {
        let converted = item
            .and_then(|i| i.get("details"))
            .and_then(Converted::read);
        return Ok(ConvertOutcome::Converted(converted));
    }
    // A refusal of the item (400 with `data[]`), or an error of the call.
    let mut results = write_results((status, bytes))?;
    match results.swap_remove(0) {
        Err(e) => Ok(ConvertOutcome::Refused(e)),
        Ok(_) => Err(HttpError::Malformed("conversion answer").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_lead_became_is_read_leniently() {
        let details = json!({
            "Contacts": { "name": "Quinn Quill", "id": "11" },
            "accounts": "22",
            "Deals": null,
        });
        let c = Converted::read(&details).expect("converted");
        assert_eq!(
            c.contact,
            Named {
                id: "11".into(),
                name: Some("Quinn Quill".into())
            }
        );
        assert_eq!(c.account.map(|a| a.id), Some("22".into()));
        assert_eq!(c.deal, None);
        // No Contact, or an id that could carry a path: nothing.
        assert_eq!(Converted::read(&json!({ "Accounts": "22" })), None);
        assert_eq!(Converted::read(&json!({ "Contacts": "../x" })), None);
        let lead = json!({ "$converted": true, "$converted_detail": { "Contacts": 33 } });
        let lead = lead.as_object().cloned().unwrap_or_default();
        assert_eq!(
            Converted::of_lead(&lead).map(|c| c.contact.id),
            Some("33".into())
        );
        let open = json!({ "$converted": false, "$converted_detail": { "Contacts": 33 } });
        assert_eq!(Converted::of_lead(open.as_object().expect("object")), None);
    }

    fn answer(status: u16, body: Value) -> ConvertOutcome {
        read_answer((status, bytes::Bytes::from(body.to_string()))).expect("an outcome")
    }

    #[test]
    fn every_answer_of_a_conversion_is_read() {
        let done = json!({ "data": [{ "code": "SUCCESS", "status": "success", "details": {
            "Contacts": { "name": "Ann", "id": "1" }, "Accounts": null, "Deals": null } }] });
        match answer(200, done) {
            ConvertOutcome::Converted(Some(c)) => assert_eq!(c.contact.id, "1"),
            other => panic!("{other:?}"),
        }
        let odd = json!({ "data": [{ "code": "SUCCESS", "status": "success", "details": {} }] });
        assert_eq!(
            answer(201, odd),
            ConvertOutcome::Converted(None),
            "converted, into what unsaid"
        );
        let later = json!({ "data": [{ "code": "SCHEDULED", "status": "success", "details": { "job_id": 7 } }] });
        assert_eq!(
            answer(202, later),
            ConvertOutcome::Scheduled {
                job_id: Some("7".into())
            }
        );
        let again = json!({ "code": "ID_ALREADY_CONVERTED", "status": "error", "details": {}, "message": "id already converted" });
        assert_eq!(answer(400, again.clone()), ConvertOutcome::AlreadyConverted);
        assert_eq!(answer(202, again), ConvertOutcome::AlreadyConverted);
        let item_again = json!({ "data": [{ "code": "ID_ALREADY_CONVERTED", "status": "error", "details": {}, "message": "x" }] });
        assert_eq!(answer(400, item_again), ConvertOutcome::AlreadyConverted);
        let refused = json!({ "data": [{ "code": "MANDATORY_NOT_FOUND", "status": "error", "message": "required field not found",
            "details": { "api_name": "Stage", "json_path": "$.data[0].Deals.Stage" } }] });
        match answer(400, refused) {
            ConvertOutcome::Refused(e) => assert_eq!(
                (e.code.as_str(), e.field.as_deref()),
                ("MANDATORY_NOT_FOUND", Some("Stage"))
            ),
            other => panic!("{other:?}"),
        }
        assert!(read_answer((500, bytes::Bytes::from_static(b"oops"))).is_err());
    }

    #[test]
    fn a_conversion_says_only_what_was_chosen() {
        let c = Conversion {
            contact: ContactChoice::New,
            account: AccountChoice::Existing("5".into()),
            deal: None,
        };
        let item = c.item();
        assert_eq!(item["Accounts"], json!({ "id": "5" }));
        assert!(item.get("Contacts").is_none() && item.get("Deals").is_none());
        assert_eq!(item["overwrite"], json!(false));
    }
}
