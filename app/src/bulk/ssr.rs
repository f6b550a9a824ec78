//! The server's side of changing records in one go: the scopes it needs (asked for before the
//! dialog opens), the owners and fields the dialogs offer, each record compared with what it was
//! when its dialog opened, the change through the save ledger (a double click is one change),
//! and Zoho's answers in words.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use keeper::Zoho;
use serde_json::{Map, Value, json};
use zoho::ConnectionId;
use zoho::crm::bulk::{BulkOutcome, CallRefusal, NO_ANSWER};
use zoho::crm::metadata::{FieldInfo, ModuleName};
use zoho::crm::records::RecordError;

use super::{BulkChoices, BulkReport, MAX_RECORDS, MassField, Skipped, ValueControl};
use crate::AppError;
use crate::activities::OwnerChoice;
use crate::activities::ssr::{check_token, instant, is_date, is_id, picklist, zoho_instant};
use crate::context::server_context;
use crate::session::ActiveConnection;

/// The scopes of the two changes (reference §9.3, §9.4).
pub const CHANGE_OWNER_SCOPE: &str = "ZohoCRM.change_owner.CREATE";
pub const MASS_UPDATE_SCOPE: &str = "ZohoCRM.mass_update.UPDATE";
/// The most fields one read names (Zoho's limit, reference §3.6).
const MAX_FIELDS: usize = 50;
/// The fields a record may be named by, the first its module has being its name.
const NAME_FIELDS: [&str; 10] = [
    "Full_Name",
    "Account_Name",
    "Deal_Name",
    "Event_Title",
    "Subject",
    "Product_Name",
    "Campaign_Name",
    "Vendor_Name",
    "Solution_Title",
    "Name",
];

/// Changes in one go, as the signed-in browser's active connection makes them.
pub struct Bulk {
    zoho: Arc<Zoho>,
    conn: ConnectionId,
    scopes: Vec<String>,
    save_hold: Duration,
}

/// Whether the `granted` scopes cover `wanted` for `module`: it, its group's `.ALL`
/// (`ZohoCRM.change_owner.ALL` covers `ZohoCRM.change_owner.CREATE`), or the module's own
/// (`ZohoCRM.change_owner.leads.CREATE`, or its `.ALL`).
pub fn covers(granted: &[String], wanted: &str, module: &str) -> bool {
    let Some((group, action)) = wanted.rsplit_once('.') else {
        return false;
    };
    let module = module.to_ascii_lowercase();
    let enough = [
        wanted.to_owned(),
        format!("{group}.ALL"),
        format!("{group}.{module}.{action}"),
        format!("{group}.{module}.ALL"),
    ];
    granted
        .iter()
        .any(|g| enough.iter().any(|e| g.eq_ignore_ascii_case(e)))
}

/// The control for a field, if "Update field" may offer it: one Zoho may mass update, this user
/// may edit, and of a kind with a control (no lookup, email or multi-line field, §9.4).
fn control(f: &FieldInfo, fields: &[FieldInfo]) -> Option<ValueControl> {
    if !f.mass_update || f.read_only {
        return None;
    }
    Some(match f.data_type.as_str() {
        "text" | "phone" | "website" => ValueControl::Text { max: f.length },
        "picklist" => ValueControl::Picklist(picklist(fields, &f.api_name)),
        "date" => ValueControl::Date,
        "datetime" => ValueControl::DateTime,
        "integer" | "bigint" => ValueControl::Whole,
        "double" | "decimal" => ValueControl::Decimal,
        "currency" => ValueControl::Currency,
        "percent" => ValueControl::Percent,
        "boolean" => ValueControl::Boolean,
        _ => return None,
    })
}

/// The value as Zoho takes it for a field of `control`; the words say what is wrong. A value is
/// required: one press must not empty a field on every record chosen.
fn field_value(control: &ValueControl, label: &str, value: &str) -> Result<Value, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("Give “{label}” a value."));
    }
    let number = |v: &str| v.parse::<f64>().ok().filter(|n| n.is_finite());
    match control {
        ValueControl::Text { max } => {
            let max = max.unwrap_or(255) as usize;
            if value.chars().count() > max {
                return Err(format!("“{label}” holds at most {max} characters."));
            }
            Ok(json!(value))
        }
        ValueControl::Picklist(choices) => choices
            .iter()
            .any(|c| c.value == value)
            .then(|| json!(value))
            .ok_or_else(|| format!("Choose one of the values of “{label}”.")),
        ValueControl::Date => is_date(value)
            .then(|| json!(value))
            .ok_or_else(|| format!("Give “{label}” as a date.")),
        ValueControl::DateTime => instant(value)
            .and_then(zoho_instant)
            .map(Value::String)
            .ok_or_else(|| format!("Give “{label}” a date and time.")),
        ValueControl::Whole => value
            .parse::<i64>()
            .map(|n| json!(n))
            .map_err(|_| format!("Give “{label}” as a whole number.")),
        ValueControl::Decimal | ValueControl::Currency | ValueControl::Percent => number(value)
            .map(|n| json!(n))
            .ok_or_else(|| format!("Give “{label}” as a number, such as 1250.50.")),
        ValueControl::Boolean => match value {
            "true" => Ok(json!(true)),
            "false" => Ok(json!(false)),
            _ => Err(format!("Choose yes or no for “{label}”.")),
        },
    }
}

/// A value as the dialog and the check compare it: its JSON text; a lookup (the owner) by id.
fn as_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Object(o)) if o.contains_key("id") => o
            .get("id")
            .map(|id| id.as_str().map_or_else(|| id.to_string(), str::to_owned))
            .unwrap_or_default(),
        Some(other) => other.to_string(),
    }
}

/// A record's id, as text.
fn id_of(r: &Map<String, Value>) -> String {
    match r.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// What a record's own refusal means, in words.
fn record_words(e: &RecordError) -> String {
    match e.code.as_str() {
        NO_ANSWER => "Zoho did not say whether it changed it; look at the record.".to_owned(),
        "NO_PERMISSION" => "You may not change it.".to_owned(),
        "RECORD_LOCKED" => "It is locked (an approval or a process holds it).".to_owned(),
        "CONVERTED_RECORD" => "It was converted, so it cannot change.".to_owned(),
        "CANNOT_PERFORM_ACTION" => "Zoho does not allow this change to it.".to_owned(),
        _ => format!("Zoho did not change it: {}", e.message),
    }
}

/// What a refusal of the whole change means, in words; `owner` is the new owner's name and
/// `field` the field's label, where they apply.
fn refusal_words(r: &CallRefusal, owner: Option<&str>, field: Option<&str>) -> String {
    // A change of owner names no field.
    let owner_call = field.is_none();
    let owner = owner.unwrap_or("That user");
    let field = field.unwrap_or("That field");
    match (r.code.as_str(), r.owner_status.as_deref()) {
        (_, Some("inactive")) => format!("{owner} is not an active user, so cannot own records."),
        (_, Some("include_subordinate_owners")) => format!(
            "You can hand records only to users below you in the role hierarchy, and {owner} is not."
        ),
        (_, Some("deleted" | "not_crm_user")) => {
            format!("{owner} is no longer a user of this org.")
        }
        ("CANNOT_ASSIGN", _) => format!("{owner} cannot own these records: no access to them yet."),
        ("NO_PERMISSION", _) if r.field.is_some() => {
            format!("Your profile may not edit “{field}”.")
        }
        ("NO_PERMISSION", _) => "Your profile does not allow this change.".to_owned(),
        ("LIMIT_EXCEEDED", _) => format!("At most {MAX_RECORDS} records can change at once."),
        ("INVALID_DATA", _) if owner_call && r.owner_status.is_none() => {
            format!("{owner} is not a user of this org.")
        }
        ("INVALID_DATA", _) if r.field.is_some() && r.owner_status.is_none() => {
            format!("Zoho cannot set “{field}” on many records at once.")
        }
        _ => format!("Zoho refused the change: {}", r.message),
    }
}

/// The first of a module's fields a record is named by.
fn name_field(fields: &[FieldInfo]) -> &'static str {
    NAME_FIELDS
        .into_iter()
        .find(|n| fields.iter().any(|f| f.api_name == *n))
        .unwrap_or("id")
}

fn record_name(r: &Map<String, Value>, name_field: &str, id: &str) -> String {
    r.get(name_field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(id)
        .to_owned()
}

/// One change, checked: which field it compares, what it compares with, and the call.
struct Change<'a> {
    module: ModuleName,
    /// The field compared: `Owner`, or the field set.
    field: &'a str,
    /// What the field becomes, as compared: a record that holds it already is changed (an
    /// earlier press whose answer was lost).
    target: String,
    base: BTreeMap<String, String>,
    /// Words for a refusal of the whole call.
    refusal: Box<dyn Fn(&CallRefusal) -> String + Send + Sync + 'a>,
}

impl Bulk {
    /// The active connection's changes, or `Unauthenticated`.
    pub async fn active() -> Result<Self, AppError> {
        let ctx = server_context()?;
        let ActiveConnection(c) = ActiveConnection::current().await?;
        Ok(Bulk {
            zoho: ctx.zoho,
            conn: c.id,
            scopes: c.scopes,
            save_hold: ctx.save_hold,
        })
    }

    fn module(module: &str) -> Result<ModuleName, AppError> {
        ModuleName::parse(module)
            .filter(ModuleName::is_capitalized)
            .ok_or_else(|| AppError::BadRequest("There is no such module.".into()))
    }

    /// The records' ids, checked: one at least, at most [`MAX_RECORDS`], each Zoho's.
    fn ids<'i>(ids: impl ExactSizeIterator<Item = &'i String>) -> Result<Vec<String>, AppError> {
        if ids.len() > MAX_RECORDS {
            return Err(AppError::BadRequest(format!(
                "At most {MAX_RECORDS} records can change at once."
            )));
        }
        let ids: Vec<String> = ids.cloned().collect();
        if ids.is_empty() || !ids.iter().all(|i| is_id(i)) {
            return Err(AppError::BadRequest(
                "Choose the records from the list.".into(),
            ));
        }
        Ok(ids)
    }

    /// The scopes both changes need for `module`: one consent round grants them.
    fn check_scopes(&self, module: &ModuleName) -> Result<(), AppError> {
        if [CHANGE_OWNER_SCOPE, MASS_UPDATE_SCOPE]
            .iter()
            .all(|s| covers(&self.scopes, s, module.as_str()))
        {
            Ok(())
        } else {
            Err(AppError::NeedsConsent)
        }
    }

    pub async fn setup(&self, module: &str, ids: &[String]) -> Result<BulkChoices, AppError> {
        let m = Self::module(module)?;
        let ids = Self::ids(ids.iter())?;
        self.check_scopes(&m)?;
        let crm = &self.zoho.crm;
        let (users, me, fields) = futures::join!(
            crm.owners(&self.conn),
            crm.me(&self.conn),
            crm.fields(&self.conn, &m)
        );
        let (users, me, fields) = (users?, me?, fields?);
        let mut owners: Vec<OwnerChoice> = users
            .iter()
            .map(|u| OwnerChoice {
                id: u.id.clone(),
                name: u.label(),
            })
            .collect();
        if let Some(me) = &me
            && let Some(at) = owners.iter().position(|o| o.id == me.id)
        {
            let mine = owners.remove(at);
            owners.insert(0, mine);
        }
        let offered: Vec<MassField> = fields
            .iter()
            .filter_map(|f| {
                Some(MassField {
                    control: control(f, &fields)?,
                    api_name: f.api_name.clone(),
                    label: f.field_label.clone(),
                })
            })
            .take(MAX_FIELDS - 1)
            .collect();
        let mut names: Vec<&str> = vec!["Owner"];
        names.extend(offered.iter().map(|f| f.api_name.as_str()));
        let now = crm.records_now(&self.conn, &m, &ids, &names).await?;
        let base = now
            .iter()
            .filter_map(|r| {
                let id = id_of(r);
                let values = names
                    .iter()
                    .map(|n| ((*n).to_owned(), as_text(r.get(*n))))
                    .collect();
                ids.contains(&id).then_some((id, values))
            })
            .collect();
        Ok(BulkChoices {
            owners,
            fields: offered,
            base,
            token: zoho::random_hex(16),
        })
    }

    pub async fn change_owner(
        &self,
        module: &str,
        owner_id: &str,
        token: &str,
        base: BTreeMap<String, String>,
    ) -> Result<BulkReport, AppError> {
        let m = Self::module(module)?;
        check_token(token)?;
        Self::ids(base.keys())?;
        if !is_id(owner_id) {
            return Err(AppError::BadRequest(
                "Choose the new owner from the list.".into(),
            ));
        }
        self.check_scopes(&m)?;
        // Named from every user: an inactive one is named in the refusal too.
        let users = self.zoho.crm.all_users(&self.conn).await?;
        let owner = users
            .iter()
            .find(|u| u.id == owner_id)
            .map(zoho::crm::users::CrmUser::label);
        let change = Change {
            module: m.clone(),
            field: "Owner",
            target: owner_id.to_owned(),
            base,
            refusal: Box::new(move |r| refusal_words(r, owner.as_deref(), None)),
        };
        let crm = &self.zoho.crm;
        self.apply(token, change, |ids| async move {
            crm.change_owner(&self.conn, &m, &ids, owner_id).await
        })
        .await
    }

    pub async fn update_field(
        &self,
        module: &str,
        field: &str,
        value: &str,
        token: &str,
        base: BTreeMap<String, String>,
    ) -> Result<BulkReport, AppError> {
        let m = Self::module(module)?;
        check_token(token)?;
        Self::ids(base.keys())?;
        self.check_scopes(&m)?;
        let fields = self.zoho.crm.fields(&self.conn, &m).await?;
        let refuse = |words: String| BulkReport {
            refused: Some(words),
            ..BulkReport::default()
        };
        let Some(info) = fields.iter().find(|f| f.api_name == field) else {
            return Ok(refuse("There is no such field.".into()));
        };
        let Some(control) = control(info, &fields) else {
            return Ok(refuse(if info.mass_update && info.read_only {
                format!("Your profile may not edit “{}”.", info.field_label)
            } else {
                format!(
                    "“{}” cannot be set on many records at once.",
                    info.field_label
                )
            }));
        };
        let label = info.field_label.clone();
        let value = match field_value(&control, &label, value) {
            Ok(v) => v,
            Err(words) => return Ok(refuse(words)),
        };
        let change = Change {
            module: m.clone(),
            field,
            target: as_text(Some(&value)),
            base,
            refusal: Box::new(move |r| refusal_words(r, None, Some(&label))),
        };
        let crm = &self.zoho.crm;
        self.apply(token, change, |ids| async move {
            crm.mass_update(&self.conn, &m, &ids, field, value).await
        })
        .await
    }

    /// Carries a change out once per `token`: reads the records now, leaves alone those whose
    /// field is no longer what the dialog saw, asks Zoho to change the rest with `call`, and
    /// reports each.
    async fn apply<F, Fut>(
        &self,
        token: &str,
        change: Change<'_>,
        call: F,
    ) -> Result<BulkReport, AppError>
    where
        F: FnOnce(Vec<String>) -> Fut,
        Fut: Future<Output = Result<BulkOutcome, zoho::crm::CrmError>>,
    {
        let crm = &self.zoho.crm;
        let records = change.base.len();
        let work = async {
            let fields = crm.fields(&self.conn, &change.module).await?;
            let name = name_field(&fields);
            let ids: Vec<String> = change.base.keys().cloned().collect();
            let now = crm
                .records_now(&self.conn, &change.module, &ids, &[change.field, name])
                .await?;
            let now: BTreeMap<String, &Map<String, Value>> =
                now.iter().map(|r| (id_of(r), r)).collect();
            let mut report = BulkReport::default();
            let mut names = BTreeMap::new();
            let mut unchanged = Vec::new();
            for (id, seen) in &change.base {
                let Some(record) = now.get(id) else {
                    report.skipped.push(Skipped {
                        id: id.clone(),
                        name: id.clone(),
                        reason: "It is not in Zoho any more.".into(),
                    });
                    continue;
                };
                let record_name = record_name(record, name, id);
                let now = as_text(record.get(change.field));
                if now == change.target {
                    report.changed.push(id.clone());
                    continue;
                }
                if now != *seen {
                    report.skipped.push(Skipped {
                        id: id.clone(),
                        name: record_name,
                        reason: "Someone changed it meanwhile, so it was left as it is.".into(),
                    });
                    continue;
                }
                names.insert(id.clone(), record_name);
                unchanged.push(id.clone());
            }
            if !unchanged.is_empty() {
                match call(unchanged).await? {
                    BulkOutcome::Done(results) => {
                        for (id, result) in results {
                            match result {
                                Ok(()) => report.changed.push(id),
                                Err(e) => report.skipped.push(Skipped {
                                    name: names.get(&id).cloned().unwrap_or_else(|| id.clone()),
                                    reason: record_words(&e),
                                    id,
                                }),
                            }
                        }
                    }
                    // Nothing changed: the press may be made again.
                    BulkOutcome::Refused(r) => {
                        return Ok(Err(RecordError {
                            code: r.code.clone(),
                            message: (change.refusal)(&r),
                            field: r.field.clone(),
                        }));
                    }
                }
            }
            // What the ledger keeps for this press: the report, for a second press to see.
            Ok(serde_json::to_string(&report).map_err(|_| RecordError {
                code: "INTERNAL".into(),
                message: "The change was made, but its report could not be kept.".into(),
                field: None,
            }))
        };
        // The ledger's key names the feature and module: a token of another form is another press.
        let key = format!("bulk:{}:{token}", change.module.as_str());
        // The claim must outlast every call of the work: the reads (a hundred records each),
        // the metadata and the change.
        let calls = 2 + u32::try_from(records.div_ceil(100)).unwrap_or(u32::MAX);
        let hold = self.save_hold.saturating_mul(calls);
        let kept = self.zoho.once(&self.conn, &key, hold, work).await?;
        Ok(match kept {
            Ok(json) => serde_json::from_str(&json).map_err(|_| AppError::Internal)?,
            Err(e) => BulkReport {
                refused: Some(e.message),
                ..BulkReport::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_all_scope_or_the_modules_own_covers_an_operation() {
        let granted = vec![
            "ZohoCRM.modules.ALL".to_owned(),
            "zohocrm.change_owner.all".to_owned(),
        ];
        assert!(covers(&granted, CHANGE_OWNER_SCOPE, "Leads"));
        assert!(
            !covers(&granted, MASS_UPDATE_SCOPE, "Leads"),
            "modules.ALL is not mass_update"
        );
        let exact = ["ZohoCRM.mass_update.UPDATE".to_owned()];
        assert!(covers(&exact, MASS_UPDATE_SCOPE, "Leads"));
        let leads_only = [
            "ZohoCRM.mass_update.leads.UPDATE".to_owned(),
            "ZohoCRM.change_owner.Leads.ALL".to_owned(),
        ];
        assert!(covers(&leads_only, MASS_UPDATE_SCOPE, "Leads"));
        assert!(covers(&leads_only, CHANGE_OWNER_SCOPE, "Leads"));
        assert!(
            !covers(&leads_only, MASS_UPDATE_SCOPE, "Deals"),
            "a grant for Leads is not one for Deals"
        );
    }

    #[test]
    fn values_are_checked_against_their_control() {
        let picks = ValueControl::Picklist(vec![crate::activities::Pick {
            value: "Contacted".into(),
            label: "Contacted".into(),
        }]);
        assert_eq!(
            field_value(&picks, "Lead Status", "Contacted"),
            Ok(json!("Contacted"))
        );
        assert!(field_value(&picks, "Lead Status", "Won?").is_err());
        assert!(
            field_value(&picks, "Lead Status", " ").is_err(),
            "one press must not empty the field on every record"
        );
        assert_eq!(
            field_value(&ValueControl::Whole, "Employees", "12"),
            Ok(json!(12))
        );
        assert!(field_value(&ValueControl::Whole, "Employees", "1.5").is_err());
        assert_eq!(
            field_value(&ValueControl::DateTime, "Start", "2026-12-06T09:00:00.5Z"),
            Ok(json!("2026-12-06T09:00:00+00:00"))
        );
        assert!(field_value(&ValueControl::Boolean, "Opt out", "").is_err());
        let short = ValueControl::Text { max: Some(3) };
        assert!(field_value(&short, "Code", "abcd").is_err());
    }

    #[test]
    fn an_owner_is_compared_by_id() {
        let owner = json!({ "name": "Ada Lovelace", "id": "42", "email": "ada@x" });
        assert_eq!(as_text(Some(&owner)), "42");
        assert_eq!(as_text(Some(&json!("Contacted"))), "\"Contacted\"");
        assert_eq!(as_text(None), "");
    }

    #[test]
    fn refusals_are_said_in_words() {
        let r = |code: &str, status: Option<&str>, field: Option<&str>| CallRefusal {
            status: 400,
            code: code.into(),
            message: "m".into(),
            field: field.map(str::to_owned),
            owner_status: status.map(str::to_owned),
        };
        assert!(
            refusal_words(
                &r("INVALID_DATA", Some("inactive"), Some("id")),
                Some("Ines"),
                None
            )
            .starts_with("Ines is not an active user")
        );
        assert_eq!(
            refusal_words(&r("INVALID_DATA", None, Some("Email")), None, Some("Email")),
            "Zoho cannot set “Email” on many records at once."
        );
        assert_eq!(
            refusal_words(
                &r("NO_PERMISSION", None, Some("Lead_Status")),
                None,
                Some("Lead Status")
            ),
            "Your profile may not edit “Lead Status”."
        );
        assert_eq!(
            refusal_words(&r("INVALID_DATA", None, Some("id")), Some("Zed"), None),
            "Zed is not a user of this org."
        );
    }
}
