//! The server's side of converting a Lead: what the dialog offers (Zoho's suggestions, the Deals'
//! stages and pipelines), the dialog's choice checked before it goes to Zoho, the conversion
//! itself through the save ledger (a double click is one conversion), and Zoho's answer in the
//! dialog's words.

use std::sync::Arc;
use std::time::Duration;

use keeper::Zoho;
use serde_json::{Map, Value, json};
use zoho::ConnectionId;
use zoho::crm::convert::{AccountChoice, ContactChoice, ConvertOutcome, Converted, Named};
use zoho::crm::metadata::ModuleName;
use zoho::crm::records::RecordError;

use super::{
    Conversion, ConvertChoice, ConvertSetup, ConvertedInto, NewDeal, RecordLink, Suggested,
};
use crate::AppError;
use crate::activities::Pick;
use crate::activities::ssr::{check_token, is_date, is_id, picklist};
use crate::context::server_context;
use crate::session::ActiveConnection;

/// The longest Deal name Zoho takes.
const DEAL_NAME_MAX: usize = 120;
/// What the save ledger keeps for a press: the Contact's id, or one of these when Zoho's answer
/// named none: converted into what it did not say, scheduled, or converted before.
const CONVERTED: &str = "converted";
const SCHEDULED: &str = "scheduled";
const ALREADY: &str = "already";

/// Conversions as the signed-in browser's active connection makes them.
pub struct Converter {
    zoho: Arc<Zoho>,
    conn: ConnectionId,
    save_hold: Duration,
}

/// What the rep must fix before anything goes to Zoho: the words, and the dialog's label.
#[derive(Debug, PartialEq, Eq)]
struct Refusal {
    message: String,
    field: Option<&'static str>,
}

fn refused(message: impl Into<String>, field: Option<&'static str>) -> Refusal {
    Refusal {
        message: message.into(),
        field,
    }
}

impl From<Refusal> for Conversion {
    fn from(r: Refusal) -> Self {
        Conversion::Refused {
            message: r.message,
            field: r.field.map(str::to_owned),
        }
    }
}

/// The dialog's label of a field Zoho names in a refusal.
fn label_of(api_name: &str) -> Option<&'static str> {
    Some(match api_name {
        "Deal_Name" => "Deal Name",
        "Closing_Date" => "Closing Date",
        "Stage" => "Stage",
        "Amount" => "Amount",
        "Pipeline" => "Pipeline",
        "Accounts" => "Account",
        "Contacts" => "Contact",
        _ => return None,
    })
}

/// Zoho's refusal in words.
fn zoho_refused(e: &RecordError) -> Conversion {
    let field = e.field.as_deref().and_then(label_of);
    let message = match (e.code.as_str(), field) {
        ("MANDATORY_NOT_FOUND", Some(label)) => format!("Zoho needs the deal's “{label}”."),
        ("INVALID_DATA", Some("Account")) => {
            "That account is not in Zoho any more; choose another.".to_owned()
        }
        ("INVALID_DATA", Some("Contact")) => {
            "That contact is not in Zoho any more; choose another.".to_owned()
        }
        _ => format!("Zoho did not convert it: {}", e.message),
    };
    refused(message, field).into()
}

/// The dialog's choice, checked: the conversion to ask Zoho for, or what the rep must fix.
/// `company` is the Lead's; `stages` and `pipelines` are the org's.
fn conversion(
    choice: ConvertChoice,
    company: Option<&str>,
    stages: &[Pick],
    pipelines: Option<&[Pick]>,
) -> Result<zoho::crm::convert::Conversion, Refusal> {
    let account = match choice.account.as_str() {
        "new" if company.is_some() => AccountChoice::New,
        "none" if company.is_none() => AccountChoice::None,
        "none" => {
            return Err(refused(
                "A lead with a company needs an account: a new one or one that exists.",
                Some("Account"),
            ));
        }
        id if is_id(id) => AccountChoice::Existing(id.to_owned()),
        _ => return Err(refused("Choose an account.", Some("Account"))),
    };
    let contact = match choice.contact.as_str() {
        "new" => ContactChoice::New,
        id if is_id(id) => ContactChoice::Existing(id.to_owned()),
        _ => return Err(refused("Choose a contact.", Some("Contact"))),
    };
    let deal = choice
        .deal
        .map(|d| deal_fields(d, stages, pipelines))
        .transpose()?;
    Ok(zoho::crm::convert::Conversion {
        contact,
        account,
        deal,
    })
}

/// The Deal's fields as Zoho takes them.
fn deal_fields(
    d: NewDeal,
    stages: &[Pick],
    pipelines: Option<&[Pick]>,
) -> Result<Map<String, Value>, Refusal> {
    let name = d.name.trim();
    if name.is_empty() {
        return Err(refused("Give the deal a name.", Some("Deal Name")));
    }
    if name.chars().count() > DEAL_NAME_MAX {
        return Err(refused(
            format!("A deal's name holds at most {DEAL_NAME_MAX} characters."),
            Some("Deal Name"),
        ));
    }
    let closing = d.closing_date.trim();
    if !is_date(closing) {
        return Err(refused(
            "Give the deal a closing date.",
            Some("Closing Date"),
        ));
    }
    if !stages.iter().any(|s| s.value == d.stage) {
        return Err(refused("Choose one of the stages.", Some("Stage")));
    }
    let mut fields = Map::new();
    fields.insert("Deal_Name".into(), json!(name));
    fields.insert("Closing_Date".into(), json!(closing));
    fields.insert("Stage".into(), json!(d.stage));
    let amount = d.amount.trim();
    if !amount.is_empty() {
        match amount.parse::<f64>() {
            Ok(a) if (0.0..1e15).contains(&a) => {
                fields.insert("Amount".into(), json!(a));
            }
            _ => {
                return Err(refused(
                    "Give the amount as a number, such as 1250.50.",
                    Some("Amount"),
                ));
            }
        }
    }
    // `Pipeline` only where the org's Deals have it, and then one of its values.
    match (pipelines, d.pipeline) {
        (Some(list), Some(p)) if list.iter().any(|c| c.value == p) => {
            fields.insert("Pipeline".into(), json!(p));
        }
        (Some(_), _) => return Err(refused("Choose a pipeline.", Some("Pipeline"))),
        (None, _) => {}
    }
    Ok(fields)
}

/// A Lead's name, from its parts when Zoho gives no `Full_Name`.
fn lead_name(lead: &Map<String, Value>) -> String {
    let text = |k: &str| {
        lead.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    text("Full_Name")
        .map(str::to_owned)
        .or_else(|| {
            let parts: Vec<&str> = [text("First_Name"), text("Last_Name")]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
        .unwrap_or_else(|| "this lead".to_owned())
}

fn company(lead: &Map<String, Value>) -> Option<String> {
    lead.get("Company")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Converter {
    /// The active connection's conversions, or `Unauthenticated`.
    pub async fn active() -> Result<Self, AppError> {
        let ctx = server_context()?;
        let ActiveConnection(c) = ActiveConnection::current().await?;
        Ok(Converter {
            zoho: ctx.zoho,
            conn: c.id,
            save_hold: ctx.save_hold,
        })
    }

    /// The Lead, read now (`fresh`) or as kept; a Lead that is not there is the request's error.
    async fn lead(&self, id: &str, fresh: bool) -> Result<Map<String, Value>, AppError> {
        if !is_id(id) {
            return Err(AppError::BadRequest("There is no such lead.".into()));
        }
        let crm = &self.zoho.crm;
        let lead = if fresh {
            crm.record_now(&self.conn, &ModuleName::standard("Leads"), id)
                .await?
        } else {
            crm.record(&self.conn, &ModuleName::standard("Leads"), id)
                .await?
        };
        lead.ok_or_else(|| AppError::BadRequest("This lead is not there any more.".into()))
    }

    /// The Deals' stages, and their pipelines where the org has them.
    async fn deal_choices(&self) -> Result<(Vec<Pick>, Option<Vec<Pick>>), AppError> {
        let deals = ModuleName::standard("Deals");
        let fields = self.zoho.crm.fields(&self.conn, &deals).await?;
        let pipelines = fields
            .iter()
            .any(|f| f.api_name == "Pipeline")
            .then(|| picklist(&fields, "Pipeline"));
        Ok((picklist(&fields, "Stage"), pipelines))
    }

    pub async fn setup(&self, lead_id: &str) -> Result<ConvertSetup, AppError> {
        let lead = self.lead(lead_id, true).await?;
        if let Some(c) = Converted::of_lead(&lead) {
            // Nothing more to offer: the dialog says into what.
            return Ok(ConvertSetup {
                lead_name: lead_name(&lead),
                company: company(&lead),
                accounts: Vec::new(),
                contacts: Vec::new(),
                stages: Vec::new(),
                pipelines: None,
                token: zoho::random_hex(16),
                converted: Some(into_links(&self.zoho, &self.conn, c).await),
            });
        }
        let crm = &self.zoho.crm;
        let (options, choices) = futures::join!(
            crm.conversion_options(&self.conn, lead_id),
            self.deal_choices()
        );
        let (options, (stages, pipelines)) = (options?, choices?);
        let suggested = |list: Vec<zoho::crm::convert::Suggestion>| {
            list.into_iter()
                .map(|s| Suggested {
                    id: s.id,
                    name: s.name,
                    hint: s.hint,
                })
                .collect()
        };
        Ok(ConvertSetup {
            lead_name: lead_name(&lead),
            company: company(&lead),
            accounts: suggested(options.accounts),
            contacts: suggested(options.contacts),
            stages,
            pipelines,
            token: zoho::random_hex(16),
            converted: None,
        })
    }

    pub async fn convert(
        &self,
        lead_id: &str,
        token: &str,
        choice: ConvertChoice,
        retry: bool,
    ) -> Result<Conversion, AppError> {
        check_token(token)?;
        let lead = self.lead(lead_id, false).await?;
        let (stages, pipelines) = self.deal_choices().await?;
        let asked = match conversion(
            choice,
            company(&lead).as_deref(),
            &stages,
            pipelines.as_deref(),
        ) {
            Ok(c) => c,
            Err(refusal) => return Ok(refusal.into()),
        };
        let crm = &self.zoho.crm;
        // What Zoho's answer said it made, when this press made the call.
        let mut answered: Option<Converted> = None;
        let work = async {
            Ok(match crm.convert_lead(&self.conn, lead_id, &asked).await? {
                ConvertOutcome::Converted(c) => {
                    let contact = c.as_ref().map(|c| c.contact.id.clone());
                    answered = c;
                    // Some answers do not say into what: the Lead's record will.
                    Ok(contact.unwrap_or_else(|| CONVERTED.to_owned()))
                }
                ConvertOutcome::Scheduled { .. } => Ok(SCHEDULED.to_owned()),
                ConvertOutcome::AlreadyConverted => Ok(ALREADY.to_owned()),
                ConvertOutcome::Refused(e) => Err(e),
            })
        };
        // The ledger's key names the Lead: a token pressed for another Lead (or another
        // feature's form) is another press.
        let key = format!("convert:{lead_id}:{token}");
        let kept = self
            .zoho
            .once(&self.conn, &key, self.save_hold, work)
            .await?;
        let kept = match kept {
            Ok(kept) => kept,
            Err(e) => return Ok(zoho_refused(&e)),
        };
        if let Some(c) = answered {
            return Ok(Conversion::Converted(
                into_links(&self.zoho, &self.conn, c).await,
            ));
        }
        // Converted by an earlier press of this token, scheduled, or converted before: the
        // Lead's record says into what, once it is.
        let now = self.state(lead_id).await?;
        Ok(match (kept.as_str(), now) {
            // A press sent again after its answer was lost meets its own conversion, if what
            // the Lead became is what this press asked for.
            (ALREADY, Some(c)) if retry && asked_for(&asked, &c) => Conversion::Converted(c),
            (ALREADY, Some(c)) => Conversion::Already(c),
            // Converted already, but not carried out yet: Zoho converts it in the background.
            (ALREADY | SCHEDULED, None) => Conversion::Scheduled,
            (_, Some(c)) => Conversion::Converted(c),
            (CONVERTED, None) => refused(
                "Zoho converted this lead but has not said into what yet; reload this page in a moment.",
                None,
            )
            .into(),
            // An earlier press of this token made this Contact.
            (contact, None) => Conversion::Converted(
                into_links(
                    &self.zoho,
                    &self.conn,
                    Converted {
                        contact: Named {
                            id: contact.to_owned(),
                            name: None,
                        },
                        account: None,
                        deal: None,
                    },
                )
                .await,
            ),
        })
    }

    /// What the Lead was converted into, as Zoho holds it now.
    pub async fn state(&self, lead_id: &str) -> Result<Option<ConvertedInto>, AppError> {
        let lead = self.lead(lead_id, true).await?;
        Ok(match Converted::of_lead(&lead) {
            Some(c) => Some(into_links(&self.zoho, &self.conn, c).await),
            None => None,
        })
    }
}

/// Whether what a Lead became agrees with the conversion asked for: the chosen Contact and
/// Account, and a Deal when one was asked (a conversion someone else made likely differs).
fn asked_for(asked: &zoho::crm::convert::Conversion, c: &ConvertedInto) -> bool {
    let contact = match &asked.contact {
        ContactChoice::Existing(id) => c.contact.id == *id,
        ContactChoice::New => true,
    };
    let account = match &asked.account {
        AccountChoice::Existing(id) => c.account.as_ref().is_some_and(|a| a.id == *id),
        AccountChoice::New => c.account.is_some(),
        AccountChoice::None => c.account.is_none(),
    };
    contact && account && asked.deal.is_some() == c.deal.is_some()
}

/// What a Lead became, as links; a name Zoho left out is read from its record (the id stands
/// in when that read fails).
pub async fn into_links(zoho: &Zoho, conn: &ConnectionId, c: Converted) -> ConvertedInto {
    let link = |module: &'static str, name_field: &'static str, n: Named| async move {
        let name = match n.name.filter(|s| !s.trim().is_empty()) {
            Some(name) => name,
            None => {
                let m = ModuleName::standard(module);
                zoho.crm
                    .record(conn, &m, &n.id)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|r| r.get(name_field).and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| n.id.clone())
            }
        };
        RecordLink {
            module: module.to_owned(),
            id: n.id,
            name,
        }
    };
    let (contact, account, deal) = futures::join!(
        link("Contacts", "Full_Name", c.contact),
        async {
            match c.account {
                Some(a) => Some(link("Accounts", "Account_Name", a).await),
                None => None,
            }
        },
        async {
            match c.deal {
                Some(d) => Some(link("Deals", "Deal_Name", d).await),
                None => None,
            }
        }
    );
    ConvertedInto {
        contact,
        account,
        deal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(v: &str) -> Pick {
        Pick {
            value: v.into(),
            label: v.into(),
        }
    }

    fn deal(stage: &str, amount: &str, pipeline: Option<&str>) -> NewDeal {
        NewDeal {
            name: "Acme renewal".into(),
            closing_date: "2027-01-31".into(),
            stage: stage.into(),
            amount: amount.into(),
            pipeline: pipeline.map(str::to_owned),
        }
    }

    fn field(r: Refusal) -> Option<String> {
        r.field.map(str::to_owned)
    }

    #[test]
    fn the_choice_is_checked_before_it_goes_to_zoho() {
        let stages = [pick("Qualification")];
        let choice = |account: &str, deal: Option<NewDeal>| ConvertChoice {
            account: account.into(),
            contact: "new".into(),
            deal,
        };
        let check = |c: ConvertChoice, company: Option<&str>| {
            conversion(c, company, &stages, None).map_err(field)
        };
        // A Lead with a Company cannot go without an Account; one without can.
        assert_eq!(
            check(choice("none", None), Some("Acme")).err(),
            Some(Some("Account".into()))
        );
        assert!(check(choice("none", None), None).is_ok());
        assert_eq!(
            check(choice("new", None), None).err(),
            Some(Some("Account".into()))
        );
        assert_eq!(
            check(choice("../1", None), Some("Acme")).err(),
            Some(Some("Account".into()))
        );
        let made = check(
            choice("42", Some(deal("Qualification", "1250.5", None))),
            Some("Acme"),
        )
        .expect("a conversion");
        assert_eq!(made.account, AccountChoice::Existing("42".into()));
        let item = made.item();
        assert_eq!(item["Deals"]["Amount"], json!(1250.5));
        assert!(item["Deals"].get("Pipeline").is_none());
        assert_eq!(
            check(choice("new", Some(deal("Won?", "", None))), Some("Acme")).err(),
            Some(Some("Stage".into()))
        );
        assert_eq!(
            check(
                choice("new", Some(deal("Qualification", "lots", None))),
                Some("Acme")
            )
            .err(),
            Some(Some("Amount".into()))
        );
        let mut undated = deal("Qualification", "", None);
        undated.closing_date = "soon".into();
        assert_eq!(
            check(choice("new", Some(undated)), Some("Acme")).err(),
            Some(Some("Closing Date".into()))
        );
    }

    #[test]
    fn a_pipeline_is_sent_only_where_the_org_has_them() {
        let stages = [pick("Qualification")];
        let pipelines = [pick("Standard")];
        let ok = deal_fields(
            deal("Qualification", "", Some("Standard")),
            &stages,
            Some(&pipelines),
        )
        .expect("fields");
        assert_eq!(ok["Pipeline"], json!("Standard"));
        let missing = deal_fields(deal("Qualification", "", None), &stages, Some(&pipelines));
        assert_eq!(missing.err().and_then(field), Some("Pipeline".into()));
        let ignored = deal_fields(deal("Qualification", "", Some("Standard")), &stages, None)
            .expect("fields");
        assert!(ignored.get("Pipeline").is_none());
    }

    #[test]
    fn zoho_refusals_name_the_dialog_field() {
        let e = RecordError {
            code: "MANDATORY_NOT_FOUND".into(),
            message: "required field not found".into(),
            field: Some("Closing_Date".into()),
        };
        assert_eq!(
            zoho_refused(&e),
            Conversion::Refused {
                message: "Zoho needs the deal's “Closing Date”.".into(),
                field: Some("Closing Date".into())
            }
        );
    }
}
