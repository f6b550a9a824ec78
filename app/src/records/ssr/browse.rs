//! Browsing: the modules, a module's description, a page of its records or of a search in it,
//! and one record with every field.

use serde_json::Value;
use zoho::crm::metadata::{FieldInfo, ModuleName};
use zoho::crm::records::{Criterion, ListQuery, Operator, PageRef, Search, SortBy};
use zoho::crm::{ApiError, CrmError};

use super::{Records, default_columns, module_dto, text};
use crate::AppError;
use crate::context::timed;
use crate::records::{
    Choice, Column, ConditionOp, ContactLink, FieldGroup, FieldValue, FilterField, FilterKind,
    ListArgs, MAX_COLUMNS, MAX_CONDITIONS, ModuleDto, ModuleMeta, RecordView, RecordsPage, SortKey,
    ValueKind,
};

impl Records {
    /// The modules the signed-in user can open.
    pub async fn modules(&self) -> Result<Vec<ModuleDto>, AppError> {
        let modules = self.zoho.crm.modules(&self.conn).await?;
        Ok(modules.iter().map(module_dto).collect())
    }

    /// A module's name, the fields its list can show or test, and its default columns.
    pub async fn describe(&self, module: &str) -> Result<ModuleMeta, AppError> {
        let m = self.module(module).await?;
        Ok(ModuleMeta {
            default_columns: default_columns(m.name.as_str(), &m.fields)
                .into_iter()
                .map(|f| f.api_name)
                .collect(),
            fields: listable(&m.fields).map(column).collect(),
            filters: listable(&m.fields).map(filter_field).collect(),
            module: m.info,
        })
    }

    /// A page of a module's records, or of a search in it.
    pub async fn list(&self, args: ListArgs) -> Result<RecordsPage, AppError> {
        let m = self.module(&args.module).await?;
        let crm = &self.zoho.crm;
        let columns = choose_columns(m.name.as_str(), &args.columns, &m.fields);
        let per_page = args.per_page.clamp(1, 200);
        let search = search_for(&args, &m.fields)?;
        let names: Vec<&str> = columns.iter().map(|c| c.api_name.as_str()).collect();
        let mut note = None;
        let page = match &search {
            Some(search) => {
                let page = args.page.max(1);
                let found = crm.search(&self.conn, &m.name, search, page, per_page, &names);
                timed("zoho", found).await?
            }
            None => {
                let mut query = ListQuery {
                    fields: names.iter().map(|n| (*n).to_owned()).collect(),
                    sort_by: sort_by(args.sort),
                    ascending: args.ascending,
                    per_page,
                    page: args
                        .page_token
                        .clone()
                        .map_or(PageRef::Number(args.page.max(1)), PageRef::Token),
                };
                match timed("zoho", crm.list(&self.conn, &m.name, &query)).await {
                    // A page link from an earlier visit: its token expired, or its number is
                    // past what Zoho numbers. The first page, with a word about it.
                    Err(CrmError::Api(ApiError::Other { status: 400, code }))
                        if query.page != PageRef::Number(1) && is_stale_page(&code) =>
                    {
                        query.page = PageRef::Number(1);
                        note = Some(
                            "That page of the list is no longer available, so this is the first page."
                                .to_owned(),
                        );
                        crm.list(&self.conn, &m.name, &query).await?
                    }
                    other => other?,
                }
            }
        };
        Ok(RecordsPage {
            module: m.info,
            rows: self.table_rows(page.rows, &columns).await,
            columns: columns.iter().map(column).collect(),
            searched: search.is_some(),
            page: page.page,
            more: page.more,
            next_token: page.next_page_token,
            note,
        })
    }

    /// One record of `module`, every field labelled and grouped, with what its header shows.
    pub async fn get(&self, module: &str, id: &str) -> Result<RecordView, AppError> {
        let m = self.module(module).await?;
        let crm = &self.zoho.crm;
        let (record, currency) = tokio::join!(
            crm.record(&self.conn, &m.name, id),
            crm.org_cached(&self.conn)
        );
        let record = record?.ok_or_else(|| {
            AppError::BadRequest(format!("This {} does not exist.", m.info.singular))
        })?;
        let name_field = m.name_field();
        let fields: Vec<FieldValue> = m
            .fields
            .iter()
            .filter(|f| f.data_type != "subform")
            .map(|f| FieldValue {
                api_name: f.api_name.clone(),
                label: f.field_label.clone(),
                value: text(record.get(&f.api_name)),
                kind: value_kind(f),
                group: field_group(f),
                link: lookup_link(f, record.get(&f.api_name)),
            })
            .collect();
        let status = STATUS_FIELDS
            .iter()
            .find_map(|api| fields.iter().find(|f| f.api_name == *api))
            .filter(|f| !f.value.is_empty())
            .map(|f| (f.label.clone(), f.value.clone()));
        let reach = fields
            .iter()
            .filter(|f| !f.value.is_empty())
            .filter_map(|f| {
                let scheme = match f.kind {
                    ValueKind::Email => "mailto:",
                    ValueKind::Phone => "tel:",
                    _ => return None,
                };
                let target: String = match f.kind {
                    ValueKind::Phone => f
                        .value
                        .chars()
                        .filter(|c| c.is_ascii_digit() || *c == '+')
                        .collect(),
                    _ => f.value.clone(),
                };
                Some(ContactLink {
                    label: f.label.clone(),
                    href: format!("{scheme}{target}"),
                    text: f.value.clone(),
                })
            })
            .collect();
        let converted = match zoho::crm::convert::Converted::of_lead(&record) {
            Some(c) if m.name.as_str() == "Leads" => {
                Some(crate::convert::ssr::into_links(&self.zoho, &self.conn, c).await)
            }
            _ => None,
        };
        Ok(RecordView {
            title: text(record.get(&name_field)),
            owner: record
                .get("Owner")
                .and_then(|o| o.get("name"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            status,
            reach,
            currency: currency.ok().and_then(|o| o.currency.clone()),
            converted,
            fields,
            module: m.info,
        })
    }
}

/// A field as a condition offers it: a picklist's values, a date's calendar, a lookup's module.
pub fn filter_field(f: &FieldInfo) -> FilterField {
    let kind = match f.data_type.as_str() {
        "picklist" => FilterKind::Picklist,
        "date" | "datetime" => FilterKind::Date,
        "integer" | "bigint" | "double" | "decimal" | "currency" | "percent" => FilterKind::Number,
        "lookup" => FilterKind::Lookup,
        _ => FilterKind::Text,
    };
    FilterField {
        api_name: f.api_name.clone(),
        label: f.field_label.clone(),
        kind,
        choices: f
            .pick_list_values
            .iter()
            .map(|v| Choice {
                value: v.actual_value.clone(),
                label: v.display_value.clone(),
            })
            .collect(),
        lookup_module: f
            .lookup
            .as_ref()
            .and_then(|l| l.pointer("/module/api_name"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

/// Zoho's codes for a page that cannot be had any more: an expired or foreign page token, or a
/// page number past its first 2,000 records.
fn is_stale_page(code: &str) -> bool {
    matches!(
        code,
        "TOKEN_EXPIRED" | "INVALID_DATA" | "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    )
}

/// The fields that say where a record stands, by module.
const STATUS_FIELDS: &[&str] = &["Lead_Status", "Stage", "Account_Type", "Status"];

/// How a record page shows a field of `data_type`.
pub fn value_kind(f: &FieldInfo) -> ValueKind {
    match f.data_type.as_str() {
        "datetime" => ValueKind::Instant,
        "textarea" => ValueKind::LongText,
        "email" => ValueKind::Email,
        "phone" => ValueKind::Phone,
        "website" => ValueKind::Url,
        "integer" | "bigint" | "double" | "decimal" => ValueKind::Number,
        "currency" => ValueKind::Currency,
        "percent" => ValueKind::Percent,
        _ => ValueKind::Text,
    }
}

/// Where a record page shows a field: who and when with the system's fields, street and city
/// with the address, long text on its own, the rest with the details.
pub fn field_group(f: &FieldInfo) -> FieldGroup {
    const ADDRESS: &[&str] = &["Street", "City", "State", "Zip", "Code", "Country"];
    const SYSTEM: &[&str] = &[
        "Owner",
        "Created_By",
        "Modified_By",
        "Created_Time",
        "Modified_Time",
        "Last_Activity_Time",
    ];
    if SYSTEM.contains(&f.api_name.as_str()) {
        FieldGroup::System
    } else if f.data_type == "textarea" {
        FieldGroup::Description
    } else if ADDRESS
        .iter()
        .any(|part| f.api_name.split('_').any(|w| w == *part))
    {
        FieldGroup::Address
    } else {
        FieldGroup::Details
    }
}

/// Fields a list can show and a condition can test (subforms and multi-selects cannot).
pub fn listable(fields: &[FieldInfo]) -> impl Iterator<Item = &FieldInfo> {
    fields
        .iter()
        .filter(|f| !matches!(f.data_type.as_str(), "subform" | "multiselectpicklist"))
}

pub fn column(f: &FieldInfo) -> Column {
    Column {
        api_name: f.api_name.clone(),
        label: f.field_label.clone(),
    }
}

/// The columns asked for that the module has (a stored choice may name a field since
/// removed), without repeats and at most [`MAX_COLUMNS`]; the defaults when none is left.
pub fn choose_columns(module: &str, asked: &[String], fields: &[FieldInfo]) -> Vec<FieldInfo> {
    let mut chosen: Vec<FieldInfo> = Vec::new();
    for name in asked {
        if chosen.len() == MAX_COLUMNS {
            break;
        }
        if let Some(f) = listable(fields).find(|f| &f.api_name == name)
            && !chosen.iter().any(|c| &c.api_name == name)
        {
            chosen.push(f.clone());
        }
    }
    if chosen.is_empty() {
        default_columns(module, fields)
    } else {
        chosen
    }
}

pub fn sort_by(key: SortKey) -> SortBy {
    match key {
        SortKey::Id => SortBy::Id,
        SortKey::CreatedTime => SortBy::CreatedTime,
        SortKey::ModifiedTime => SortBy::ModifiedTime,
    }
}

fn operator(op: ConditionOp) -> Operator {
    match op {
        ConditionOp::Equals => Operator::Equals,
        ConditionOp::NotEqual => Operator::NotEqual,
        ConditionOp::StartsWith => Operator::StartsWith,
        ConditionOp::GreaterThan => Operator::GreaterThan,
        ConditionOp::LessThan => Operator::LessThan,
    }
}

/// The search `args` ask for, if any: conditions (blank ones skipped) win over the text.
pub fn search_for(args: &ListArgs, fields: &[FieldInfo]) -> Result<Option<Search>, AppError> {
    let conditions: Vec<_> = args
        .conditions
        .iter()
        .filter(|c| !c.value.trim().is_empty())
        .collect();
    if conditions.len() > MAX_CONDITIONS {
        return Err(AppError::BadRequest(format!(
            "A search takes at most {MAX_CONDITIONS} conditions."
        )));
    }
    if !conditions.is_empty() {
        let mut list = Vec::with_capacity(conditions.len());
        for c in conditions {
            if !listable(fields).any(|f| f.api_name == c.field) {
                return Err(AppError::BadRequest(
                    "A condition names a field this module does not have.".into(),
                ));
            }
            list.push(Criterion {
                field: c.field.clone(),
                operator: operator(c.operator),
                value: c.value.trim().to_owned(),
            });
        }
        return Ok(Some(Search::Criteria {
            conditions: list,
            any: args.match_any,
        }));
    }
    let Some(t) = args
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    let digits = t.chars().filter(char::is_ascii_digit).count();
    Ok(Some(if t.contains('@') {
        Search::Email(t.to_owned())
    } else if digits >= 5
        && t.chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        Search::Phone(t.to_owned())
    } else {
        Search::Word(t.to_owned())
    }))
}

/// Where a lookup's value leads: the record it names, in the module the field looks up.
pub fn lookup_link(field: &FieldInfo, value: Option<&Value>) -> Option<String> {
    let target = field
        .lookup
        .as_ref()?
        .pointer("/module/api_name")?
        .as_str()?;
    let target = ModuleName::parse(target)?;
    let id = value?.get("id")?.as_str()?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("/m/{}/{id}", target.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Condition;
    use serde_json::json;

    fn field(api: &str, data_type: &str) -> FieldInfo {
        serde_json::from_value(json!({
            "api_name": api, "field_label": api.replace('_', " "), "data_type": data_type,
        }))
        .expect("field")
    }

    fn lead_fields() -> Vec<FieldInfo> {
        vec![
            field("Full_Name", "text"),
            field("Company", "text"),
            field("Email", "email"),
            field("Lead_Status", "picklist"),
            field("Phone", "phone"),
            field("Tags", "multiselectpicklist"),
        ]
    }

    #[test]
    fn money_and_numbers_in_a_table_read_grouped_and_the_rest_as_zoho_gave_it() {
        let columns = vec![
            field("Deal_Name", "text"),
            field("Amount", "currency"),
            field("Probability", "integer"),
            field("Closing_Date", "date"),
        ];
        assert!(super::super::shows_money(&columns));
        assert!(!super::super::shows_money(&lead_fields()));
        let row = |cells: &[&str]| zoho::crm::text::TextRow {
            id: "1".into(),
            cells: cells.iter().map(|c| (*c).to_owned()).collect(),
        };
        let shown = super::super::rows(
            vec![
                row(&["Deal 2500", "2497000", "75", "2025-01-09"]),
                row(&["Deal 0", "", "", ""]),
            ],
            &columns,
            Some("USD"),
        );
        assert_eq!(
            shown[0].cells,
            ["Deal 2500", "2,497,000.00 USD", "75", "2025-01-09"]
        );
        assert_eq!(shown[1].cells, ["Deal 0", "", "", ""]);
    }

    #[test]
    fn columns_keep_the_users_order_and_drop_what_the_module_lacks() {
        let fields = lead_fields();
        let names = |v: Vec<FieldInfo>| v.into_iter().map(|f| f.api_name).collect::<Vec<_>>();
        let asked = ["Phone", "Gone_Field", "Email", "Phone", "Tags"].map(String::from);
        assert_eq!(
            names(choose_columns("Leads", &asked, &fields)),
            ["Phone", "Email"]
        );
        assert_eq!(
            names(choose_columns("Leads", &["Gone".into()], &fields)),
            ["Full_Name", "Company", "Email", "Lead_Status"],
            "nothing usable left: the defaults"
        );
        let many: Vec<String> = (0..40).map(|_| "Email".into()).collect();
        assert_eq!(choose_columns("Leads", &many, &fields).len(), 1);
    }

    #[test]
    fn conditions_win_over_text_and_are_checked() {
        let fields = lead_fields();
        let cond = |f: &str, v: &str| Condition {
            field: f.into(),
            operator: ConditionOp::StartsWith,
            value: v.into(),
        };
        let mut args = ListArgs {
            text: Some("ignored".into()),
            conditions: vec![cond("Company", "Acme"), cond("Email", "  ")],
            match_any: true,
            ..ListArgs::default()
        };
        match search_for(&args, &fields) {
            Ok(Some(Search::Criteria { conditions, any })) => {
                assert!(any);
                assert_eq!(conditions.len(), 1, "blank values are skipped");
            }
            other => panic!("{other:?}"),
        }
        args.conditions = vec![cond("Owner_Secret", "x")];
        assert!(matches!(
            search_for(&args, &fields),
            Err(AppError::BadRequest(_))
        ));
        args.conditions = vec![cond("Company", "x"); MAX_CONDITIONS + 1];
        assert!(matches!(
            search_for(&args, &fields),
            Err(AppError::BadRequest(_))
        ));
        args.conditions.clear();
        for (text, expected) in [
            ("a@b.test", Search::Email("a@b.test".into())),
            ("+1 555 0100", Search::Phone("+1 555 0100".into())),
            ("Lead 0042", Search::Word("Lead 0042".into())),
        ] {
            args.text = Some(text.into());
            assert_eq!(search_for(&args, &fields).ok().flatten(), Some(expected));
        }
        args.text = Some("   ".into());
        assert_eq!(search_for(&args, &fields).ok().flatten(), None);
    }

    #[test]
    fn lookups_link_only_to_a_well_formed_record() {
        let mut f = field("Account_Name", "lookup");
        f.lookup = Some(json!({ "module": { "api_name": "Accounts" } }));
        let v = json!({ "name": "Acme", "id": "4150868000000224005" });
        assert_eq!(
            lookup_link(&f, Some(&v)).as_deref(),
            Some("/m/Accounts/4150868000000224005")
        );
        let sneaky = json!({ "name": "x", "id": "1/../../auth" });
        assert_eq!(lookup_link(&f, Some(&sneaky)), None);
        f.lookup = Some(json!({ "module": { "api_name": "../x" } }));
        assert_eq!(lookup_link(&f, Some(&v)), None);
    }
}
