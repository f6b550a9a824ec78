//! Forms: the form for a new or an existing record, built from the field metadata; saving it
//! (what was typed converted to Zoho's types, Zoho's per-record errors brought back to the field
//! they name, a new record made once per form); deleting; and the lookup search.

use serde_json::{Map, Value};
use zoho::crm::metadata::FieldInfo;
use zoho::crm::records::{RecordError, Search};

use super::{Records, text};
use crate::AppError;
use crate::records::{
    Choice, Conflict, Control, DeleteOutcome, FieldProblem, FieldValue, FormField, FormSpec, Input,
    LookupRef, MAX_DELETE, Meanwhile, SaveOutcome, Values,
};

impl Records {
    /// The form for a new record of `module` (`id` = `None`) or for editing record `id`.
    pub async fn form(
        &self,
        module: &str,
        id: Option<String>,
        parent: Option<&str>,
    ) -> Result<FormSpec, AppError> {
        let m = self.module(module).await?;
        let form_fields = form_fields(&m.fields);
        let linked = match (parent, &id) {
            (Some(parent), None) => self.parent_link(&form_fields, parent).await?,
            _ => None,
        };
        let record = match &id {
            None => None,
            Some(id) => Some(
                self.zoho
                    .crm
                    .record(&self.conn, &m.name, id)
                    .await?
                    .ok_or_else(|| {
                        AppError::BadRequest(format!("This {} does not exist.", m.info.singular))
                    })?,
            ),
        };
        let get = |api: &str| record.as_ref().and_then(|r| r.get(api));
        Ok(FormSpec {
            title: match &record {
                Some(_) => format!("Edit {}", text(get(&m.name_field()))),
                None => format!("New {}", m.info.singular),
            },
            values: form_fields
                .iter()
                .map(|f| match &linked {
                    Some((field, r)) if field == &f.api_name => {
                        (f.api_name.clone(), Input::Lookup(Some(r.clone())))
                    }
                    _ => (f.api_name.clone(), input_of(f, get(&f.api_name))),
                })
                .collect(),
            read_only: m
                .fields
                .iter()
                .filter(|f| f.data_type == "subform")
                .map(|f| FieldValue {
                    api_name: f.api_name.clone(),
                    label: f.field_label.clone(),
                    value: text(get(&f.api_name)),
                    kind: Default::default(),
                    group: Default::default(),
                    link: None,
                })
                .collect(),
            fields: form_fields,
            record_id: id,
            module: m.info,
            save_token: zoho::random_hex(16),
        })
    }

    /// The fields of record `id` whose value Zoho holds now is not `base`'s (read anew).
    pub async fn changed_meanwhile(
        &self,
        module: &str,
        id: &str,
        base: &Values,
    ) -> Result<Meanwhile, AppError> {
        let m = self.module(module).await?;
        let Some(now) = self.zoho.crm.record_now(&self.conn, &m.name, id).await? else {
            return Ok(Meanwhile {
                gone: true,
                ..Meanwhile::default()
            });
        };
        let fields = form_fields(&m.fields)
            .iter()
            .filter(|f| base.contains_key(&f.api_name))
            .filter(|f| {
                let theirs = input_of(f, now.get(&f.api_name));
                !same(f, Some(&theirs), base.get(&f.api_name))
            })
            .map(|f| f.label.clone())
            .collect();
        Ok(Meanwhile {
            fields,
            by: super::modified_by(&now),
            at: now
                .get("Modified_Time")
                .and_then(Value::as_str)
                .map(str::to_owned),
            gone: false,
        })
    }

    /// Saves the form: creates a record (`id` = `None`, once per `save_token`) or updates
    /// record `id`.
    pub async fn save(
        &self,
        module: &str,
        id: Option<String>,
        values: Values,
        save_token: &str,
        base: Option<Values>,
    ) -> Result<SaveOutcome, AppError> {
        let m = self.module(module).await?;
        let form_fields = form_fields(&m.fields);
        let mut body = match record_body(&form_fields, &values, id.is_none()) {
            Ok(body) => body,
            Err(problems) => return Ok(SaveOutcome::Refused { problems }),
        };
        if let (Some(record_id), Some(base)) = (&id, &base) {
            // Only what this person changed is written, and only if nobody else changed it.
            let changed: Vec<&FormField> = form_fields
                .iter()
                .filter(|f| !same(f, values.get(&f.api_name), base.get(&f.api_name)))
                .collect();
            if changed.is_empty() {
                return Ok(SaveOutcome::Saved {
                    id: record_id.clone(),
                });
            }
            let Some(now) = self
                .zoho
                .crm
                .record_now(&self.conn, &m.name, record_id)
                .await?
            else {
                return Ok(SaveOutcome::Gone);
            };
            let conflicts = conflicts(&changed, &now, &values, base);
            if !conflicts.is_empty() {
                return Ok(SaveOutcome::Conflict {
                    conflicts,
                    by: super::modified_by(&now),
                    at: now
                        .get("Modified_Time")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                });
            }
            body.retain(|k, _| changed.iter().any(|f| &f.api_name == k));
        }
        let outcome = match id {
            Some(id) => self
                .zoho
                .crm
                .update(&self.conn, &m.name, &id, body)
                .await?
                .map(|()| id),
            None => {
                if save_token.len() != 32 || !save_token.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(AppError::BadRequest(
                        "The form is out of date; reload it.".into(),
                    ));
                }
                self.zoho
                    .insert_once(&self.conn, save_token, self.save_hold, &m.name, body)
                    .await?
            }
        };
        Ok(match outcome {
            Ok(id) => SaveOutcome::Saved { id },
            Err(e) => SaveOutcome::Refused {
                problems: vec![problem(&form_fields, &e)],
            },
        })
    }

    /// Deletes records of `module`; which went, and why any did not.
    pub async fn delete(&self, module: &str, ids: &[String]) -> Result<DeleteOutcome, AppError> {
        if ids.is_empty() || ids.len() > MAX_DELETE {
            return Err(AppError::BadRequest(format!(
                "Choose between 1 and {MAX_DELETE} records to delete."
            )));
        }
        let name =
            zoho::crm::metadata::ModuleName::parse(module).ok_or_else(super::no_such_module)?;
        let results = self.zoho.crm.delete(&self.conn, &name, ids).await?;
        let mut out = DeleteOutcome {
            deleted: Vec::new(),
            failed: Vec::new(),
        };
        for (id, r) in results {
            match r {
                Ok(()) => out.deleted.push(id),
                Err(e) => out.failed.push(FieldProblem {
                    field: None,
                    message: format!("{id}: {} ({})", e.message, e.code),
                }),
            }
        }
        Ok(out)
    }

    /// Records of `module` whose name matches `text`, for a lookup field.
    pub async fn lookup(&self, module: &str, typed: &str) -> Result<Vec<LookupRef>, AppError> {
        let typed = typed.trim();
        if typed.chars().count() < 2 {
            return Ok(Vec::new());
        }
        let m = self.module(module).await?;
        let search = Search::Word(typed.to_owned());
        let name_field = m.name_field();
        let page = self
            .zoho
            .crm
            .search(&self.conn, &m.name, &search, 1, 10, &[&name_field])
            .await?;
        Ok(page
            .rows
            .into_iter()
            .map(|mut r| LookupRef {
                id: r.id,
                name: r.cells.pop().unwrap_or_default(),
            })
            .collect())
    }
}

impl Records {
    /// The lookup a new record starts with when it is made from `parent` (`Accounts.<id>`, a
    /// related list's "New"): the form's first lookup into that module, and the record it names.
    async fn parent_link(
        &self,
        fields: &[FormField],
        parent: &str,
    ) -> Result<Option<(String, LookupRef)>, AppError> {
        let Some((module, id)) = parent.split_once('.') else {
            return Ok(None);
        };
        let Some(field) = fields
            .iter()
            .find(|f| f.control == Control::Lookup && f.lookup_module.as_deref() == Some(module))
        else {
            return Ok(None);
        };
        let pm = self.module(module).await?;
        let Some(record) = self.zoho.crm.record(&self.conn, &pm.name, id).await? else {
            return Ok(None);
        };
        let name = text(record.get(&pm.name_field()));
        Ok(Some((
            field.api_name.clone(),
            LookupRef {
                id: id.to_owned(),
                name,
            },
        )))
    }
}

/// The form's fields: every field people may edit, in Zoho's order.
pub fn form_fields(fields: &[FieldInfo]) -> Vec<FormField> {
    fields
        .iter()
        .filter(|f| !f.read_only)
        .filter_map(|f| {
            let control = Control::for_data_type(&f.data_type)?;
            // A lookup into no one module (an activity's `What_Id`: Zoho names its module
            // `se_module`, the record's `$se_module` says which) is set from its record's page.
            let target = f
                .lookup
                .as_ref()
                .and_then(|l| l.pointer("/module/api_name"))
                .and_then(Value::as_str);
            if control == Control::Lookup && target.is_none_or(|m| m == "se_module") {
                return None;
            }
            Some(FormField {
                api_name: f.api_name.clone(),
                label: f.field_label.clone(),
                control,
                required: f.system_mandatory,
                max_length: f.length.filter(|_| {
                    matches!(
                        control,
                        Control::Text
                            | Control::TextArea
                            | Control::Email
                            | Control::Phone
                            | Control::Url
                    )
                }),
                choices: f
                    .pick_list_values
                    .iter()
                    .map(|p| Choice {
                        value: p.actual_value.clone(),
                        label: p.display_value.clone(),
                    })
                    .collect(),
                lookup_module: f
                    .lookup
                    .as_ref()
                    .and_then(|l| l.pointer("/module/api_name"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
        })
        .collect()
}

/// A stored value as the form's control holds it.
pub fn input_of(field: &FormField, v: Option<&Value>) -> Input {
    match field.control {
        Control::Boolean => Input::Flag(v.and_then(Value::as_bool).unwrap_or(false)),
        Control::MultiSelect => Input::Many(
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        ),
        Control::Lookup => Input::Lookup(v.and_then(|v| {
            Some(LookupRef {
                id: v.get("id")?.as_str()?.to_owned(),
                name: v
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            })
        })),
        _ => Input::Text(match v {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => text(Some(other)),
        }),
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn is_instant(s: &str) -> bool {
    // 2026-11-28T16:14:42+05:30
    let b = s.as_bytes();
    b.len() == 25
        && is_date(&s[..10])
        && b[10] == b'T'
        && (b[19] == b'+' || b[19] == b'-')
        && [11, 12, 14, 15, 17, 18, 20, 21, 23, 24]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
}

/// What is wrong with a field's input, as the form says it beside the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("Use at most {0} characters.")]
    TooLong(u32),
    #[error("“{0}” is not one of the choices.")]
    NotAChoice(String),
    #[error("Choose a record from the list.")]
    NoRecordChosen,
    #[error("Enter a whole number.")]
    NotAWholeNumber,
    #[error("Enter a number.")]
    NotANumber,
    #[error("Enter a date as YYYY-MM-DD.")]
    NotADate,
    #[error("Enter a date and a time.")]
    NotADateTime,
    #[error("Enter an email address.")]
    NotAnEmail,
    #[error("This value does not fit the field.")]
    DoesNotFit,
}

/// Converts one field's input into the JSON Zoho takes, or says what is wrong with it.
pub fn to_json(field: &FormField, input: &Input) -> Result<Value, InputError> {
    let text = |s: &str| -> Result<Value, InputError> {
        let s = s.trim();
        if let Some(max) = field.max_length
            && s.chars().count() > max as usize
        {
            return Err(InputError::TooLong(max));
        }
        Ok(if s.is_empty() {
            Value::Null
        } else {
            Value::String(s.to_owned())
        })
    };
    match (field.control, input) {
        (Control::Boolean, Input::Flag(b)) => Ok(Value::Bool(*b)),
        (Control::MultiSelect, Input::Many(list)) => {
            if let Some(bad) = list
                .iter()
                .find(|v| !field.choices.iter().any(|c| &c.value == *v))
            {
                return Err(InputError::NotAChoice(bad.clone()));
            }
            Ok(Value::Array(
                list.iter().cloned().map(Value::String).collect(),
            ))
        }
        (Control::Lookup, Input::Lookup(None)) => Ok(Value::Null),
        (Control::Lookup, Input::Lookup(Some(r))) => {
            if r.id.is_empty() || !r.id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(InputError::NoRecordChosen);
            }
            Ok(serde_json::json!({ "id": r.id }))
        }
        (Control::Integer, Input::Text(s)) if !s.trim().is_empty() => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| InputError::NotAWholeNumber),
        (Control::Decimal | Control::Currency | Control::Percent, Input::Text(s))
            if !s.trim().is_empty() =>
        {
            match s.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Value::from(n)),
                _ => Err(InputError::NotANumber),
            }
        }
        (Control::Date, Input::Text(s)) if !s.trim().is_empty() => {
            if is_date(s.trim()) {
                Ok(Value::String(s.trim().to_owned()))
            } else {
                Err(InputError::NotADate)
            }
        }
        (Control::DateTime, Input::Text(s)) if !s.trim().is_empty() => {
            if is_instant(s.trim()) {
                Ok(Value::String(s.trim().to_owned()))
            } else {
                Err(InputError::NotADateTime)
            }
        }
        (Control::Picklist, Input::Text(s)) if !s.is_empty() => {
            if field.choices.iter().any(|c| &c.value == s) {
                Ok(Value::String(s.clone()))
            } else {
                Err(InputError::NotAChoice(s.clone()))
            }
        }
        (Control::Email, Input::Text(s)) if !s.trim().is_empty() && !s.contains('@') => {
            Err(InputError::NotAnEmail)
        }
        // Text-like fields, and the empty value of every other field typed as text.
        (
            Control::Text
            | Control::TextArea
            | Control::Email
            | Control::Phone
            | Control::Url
            | Control::Integer
            | Control::Decimal
            | Control::Currency
            | Control::Percent
            | Control::Date
            | Control::DateTime
            | Control::Picklist,
            Input::Text(s),
        ) => text(s),
        _ => Err(InputError::DoesNotFit),
    }
}

/// The record Zoho is sent: every field of the form converted, or every problem found.
/// A new record leaves out what is empty; an edit sends empties as `null`, which clears them.
pub fn record_body(
    fields: &[FormField],
    values: &Values,
    new: bool,
) -> Result<Map<String, Value>, Vec<FieldProblem>> {
    if let Some(unknown) = values
        .keys()
        .find(|k| !fields.iter().any(|f| &f.api_name == *k))
    {
        return Err(vec![FieldProblem {
            field: None,
            message: format!("The form sent a field this module cannot take: {unknown}."),
        }]);
    }
    let mut body = Map::new();
    let mut problems = Vec::new();
    for f in fields {
        let Some(input) = values.get(&f.api_name) else {
            continue;
        };
        match to_json(f, input) {
            Ok(Value::Null) if new => {}
            Ok(v) => {
                body.insert(f.api_name.clone(), v);
            }
            Err(e) => problems.push(FieldProblem {
                field: Some(f.api_name.clone()),
                message: e.to_string(),
            }),
        }
    }
    if problems.is_empty() {
        Ok(body)
    } else {
        Err(problems)
    }
}

/// Whether two of a field's inputs mean the same to Zoho (`" Acme "` is `"Acme"`, a lookup is its
/// id); a missing one is an empty one.
fn same(field: &FormField, a: Option<&Input>, b: Option<&Input>) -> bool {
    let as_zoho = |i: Option<&Input>| {
        let empty = input_of(field, None);
        let i = i.unwrap_or(&empty);
        to_json(field, i).unwrap_or_else(|_| Value::String(format!("{i:?}")))
    };
    as_zoho(a) == as_zoho(b)
}

/// The fields of `changed` that someone else changed too, to another value: Zoho's value `now`
/// is neither what the form was opened with (`base`) nor what this save writes.
fn conflicts(
    changed: &[&FormField],
    now: &Map<String, Value>,
    values: &Values,
    base: &Values,
) -> Vec<Conflict> {
    changed
        .iter()
        .filter_map(|f| {
            let theirs = input_of(f, now.get(&f.api_name));
            let yours = values.get(&f.api_name);
            let moved = !same(f, Some(&theirs), base.get(&f.api_name));
            (moved && !same(f, Some(&theirs), yours)).then(|| Conflict {
                field: f.api_name.clone(),
                label: f.label.clone(),
                theirs_text: shown(f, Some(&theirs)),
                yours_text: shown(f, yours),
                theirs,
            })
        })
        .collect()
}

/// A field's input in words, as the conflict notice names it.
pub fn shown(field: &FormField, input: Option<&Input>) -> String {
    let label = |v: &str| {
        field
            .choices
            .iter()
            .find(|c| c.value == v)
            .map_or_else(|| v.to_owned(), |c| c.label.clone())
    };
    let words = match input {
        None => String::new(),
        Some(Input::Text(t)) => label(t.trim()),
        Some(Input::Flag(true)) => "Yes".into(),
        Some(Input::Flag(false)) => "No".into(),
        Some(Input::Many(list)) => list.iter().map(|v| label(v)).collect::<Vec<_>>().join(", "),
        Some(Input::Lookup(r)) => r.as_ref().map(|r| r.name.clone()).unwrap_or_default(),
    };
    if words.is_empty() {
        "(empty)".into()
    } else {
        words
    }
}

/// Zoho's refusal of a record, in words, beside the field it names.
pub fn problem(fields: &[FormField], e: &RecordError) -> FieldProblem {
    let field = e
        .field
        .as_ref()
        .filter(|f| fields.iter().any(|x| &x.api_name == *f))
        .cloned();
    let label = field
        .as_ref()
        .and_then(|f| fields.iter().find(|x| &x.api_name == f))
        .map(|f| f.label.clone());
    let message = match (e.code.as_str(), label) {
        ("MANDATORY_NOT_FOUND", Some(l)) => format!("{l} is required."),
        ("DUPLICATE_DATA", Some(l)) => format!("Another record already has this {l}."),
        ("INVALID_DATA", Some(l)) => format!("Zoho does not accept this {l}: {}.", e.message),
        _ => format!("Zoho refused the record: {} ({}).", e.message, e.code),
    };
    FieldProblem { field, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(api: &str, control: Control) -> FormField {
        FormField {
            api_name: api.into(),
            label: api.replace('_', " "),
            control,
            required: false,
            max_length: Some(5),
            choices: vec![super::Choice {
                value: "Hot".into(),
                label: "Hot".into(),
            }],
            lookup_module: None,
        }
    }

    #[test]
    fn only_a_field_someone_else_changed_to_another_value_is_a_conflict() {
        let company = field("Company", Control::Text);
        let lookup = field("Account_Name", Control::Lookup);
        let text = |s: &str| Input::Text(s.into());
        let acct = |id: &str, name: &str| {
            Input::Lookup(Some(LookupRef {
                id: id.into(),
                name: name.into(),
            }))
        };
        let base = Values::from([
            ("Company".into(), text("Acme")),
            ("Account_Name".into(), acct("1", "One")),
        ]);
        let values = Values::from([
            ("Company".into(), text("Mine")),
            ("Account_Name".into(), acct("2", "Two")),
        ]);
        let changed = [&company, &lookup];
        let now = |c: &str, a: &str| {
            let Value::Object(m) =
                json!({"Company": c, "Account_Name": {"id": a, "name": "Renamed"}})
            else {
                unreachable!()
            };
            m
        };
        // Nobody else touched them (a lookup is its id, whatever its name now).
        assert!(conflicts(&changed, &now("Acme", "1"), &values, &base).is_empty());
        // Someone made the same change: nothing to settle.
        assert!(conflicts(&changed, &now("Mine", "2"), &values, &base).is_empty());
        let found = conflicts(&changed, &now("Them", "1"), &values, &base);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].field.as_str(), found[0].theirs_text.as_str()),
            ("Company", "Them")
        );
        assert_eq!(found[0].yours_text, "Mine");
        assert_eq!(found[0].theirs, text("Them"));
        // Spaces Zoho would trim are no change.
        assert!(same(&company, Some(&text(" Acme ")), Some(&text("Acme"))));
        assert!(same(&company, None, Some(&text(""))));
        assert_eq!(shown(&company, Some(&text(""))), "(empty)");
        assert_eq!(
            shown(&field("Hot", Control::Boolean), Some(&Input::Flag(true))),
            "Yes"
        );
    }

    #[test]
    fn inputs_become_zoho_types_or_say_what_is_wrong() {
        let t = |c, i: Input| to_json(&field("F", c), &i);
        let text = |s: &str| Input::Text(s.into());
        assert_eq!(t(Control::Integer, text(" 42 ")), Ok(json!(42)));
        assert!(t(Control::Integer, text("4.5")).is_err());
        assert_eq!(t(Control::Currency, text("12.50")), Ok(json!(12.5)));
        assert!(t(Control::Decimal, text("NaN")).is_err());
        assert_eq!(
            t(Control::Date, text("2026-02-01")),
            Ok(json!("2026-02-01"))
        );
        assert!(t(Control::Date, text("01/02/2026")).is_err());
        assert_eq!(
            t(Control::DateTime, text("2026-02-01T09:30:00+00:00")),
            Ok(json!("2026-02-01T09:30:00+00:00"))
        );
        assert!(t(Control::DateTime, text("2026-02-01T09:30")).is_err());
        assert_eq!(t(Control::Picklist, text("Hot")), Ok(json!("Hot")));
        assert!(t(Control::Picklist, text("Lukewarm")).is_err());
        assert_eq!(t(Control::Picklist, text("")), Ok(Value::Null));
        assert!(t(Control::MultiSelect, Input::Many(vec!["Cold".into()])).is_err());
        assert_eq!(t(Control::Text, text("  hello ")), Ok(json!("hello")));
        assert!(t(Control::Text, text("too long")).is_err(), "longer than 5");
        assert_eq!(t(Control::Boolean, Input::Flag(true)), Ok(json!(true)));
        assert!(
            t(Control::Boolean, text("yes")).is_err(),
            "a mismatched input"
        );
        let lookup = |id: &str| {
            Input::Lookup(Some(LookupRef {
                id: id.into(),
                name: "A".into(),
            }))
        };
        assert_eq!(
            t(Control::Lookup, lookup("123")),
            Ok(json!({ "id": "123" }))
        );
        assert!(t(Control::Lookup, lookup("1/2")).is_err());
    }

    #[test]
    fn a_new_record_leaves_out_empties_and_an_edit_clears_them() {
        let fields = vec![
            field("Last_Name", Control::Text),
            field("City", Control::Text),
        ];
        let values: Values = [
            ("Last_Name".to_owned(), Input::Text("Zed".into())),
            ("City".to_owned(), Input::Text(String::new())),
        ]
        .into();
        let new = record_body(&fields, &values, true).expect("valid");
        assert_eq!(Value::Object(new), json!({ "Last_Name": "Zed" }));
        let edit = record_body(&fields, &values, false).expect("valid");
        assert_eq!(
            Value::Object(edit),
            json!({ "Last_Name": "Zed", "City": null })
        );
        let mut sneaky = values.clone();
        sneaky.insert("Owner".into(), Input::Text("someone".into()));
        assert!(record_body(&fields, &sneaky, true).is_err());
    }

    #[test]
    fn zohos_refusal_lands_beside_its_field() {
        let fields = vec![field("Last_Name", Control::Text)];
        let e = RecordError {
            code: "MANDATORY_NOT_FOUND".into(),
            message: "required field not found".into(),
            field: Some("Last_Name".into()),
        };
        assert_eq!(
            problem(&fields, &e),
            FieldProblem {
                field: Some("Last_Name".into()),
                message: "Last Name is required.".into()
            }
        );
        let elsewhere = RecordError {
            field: Some("Not_On_Form".into()),
            ..e
        };
        assert_eq!(problem(&fields, &elsewhere).field, None);
    }
}
