//! Browsing: the modules, a module's description, a page of its records or of a search in it,
//! and one record with every field.

use serde_json::Value;
use zoho::crm::metadata::{FieldInfo, ModuleName};
use zoho::crm::records::{
    Criterion, ListQuery, Operator, Page, PageRef, Search, SearchPage, SortBy,
};
use zoho::crm::views::{CountOf, ViewDetail};
use zoho::crm::{ApiError, CrmError};

use super::{Records, default_columns, module_dto, ordered, text};
use crate::AppError;
use crate::context::timed;
use crate::records::{
    Choice, Column, ConditionOp, ContactLink, FieldGroup, FieldValue, FilterField, FilterKind,
    ListArgs, MAX_COLUMNS, MAX_CONDITIONS, ModuleDto, ModuleMeta, RecordView, RecordsPage,
    SHORT_SEARCH, ValueKind, sort_field,
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

    /// A page of a module's records, or of a search in it, in the order asked for, with how
    /// many records the list holds (where Zoho can count them).
    pub async fn list(&self, args: ListArgs) -> Result<RecordsPage, AppError> {
        let m = self.module(&args.module).await?;
        let view = match args.view.as_deref() {
            Some(v) if !v.is_empty() && v.len() <= 32 && v.bytes().all(|b| b.is_ascii_digit()) => {
                Some(v.to_owned())
            }
            Some(_) => return Err(AppError::BadRequest("There is no such view.".into())),
            None => None,
        };
        let sort = match args.sort.as_deref().and_then(sort_field) {
            None => None,
            Some(f) if f == "id" => Some(f),
            Some(f) => match m.fields.iter().find(|x| x.api_name == f) {
                Some(x) if ordered::sortable(x) => Some(f),
                _ => {
                    return Err(AppError::BadRequest(
                        "This list cannot be ordered by that field.".into(),
                    ));
                }
            },
        };
        // A view's columns stand while it is chosen, unless the page asks for its own.
        let detail = match &view {
            Some(v) if args.columns.is_empty() || sort.is_some() => Some(
                self.zoho
                    .crm
                    .custom_view(&self.conn, &m.name, v)
                    .await?
                    .ok_or_else(|| AppError::BadRequest("There is no such view.".into()))?,
            ),
            _ => None,
        };
        let asked = match &detail {
            Some(d) if args.columns.is_empty() => d.fields.clone(),
            _ => args.columns.clone(),
        };
        let columns = choose_columns(m.name.as_str(), &asked, &m.fields);
        let per_page = args.per_page.clamp(1, 200);
        let search = search_for(&args, &m.fields)?;
        let how = Listing {
            args: &args,
            module: &m,
            columns: &columns,
            view: view.as_deref(),
            detail: detail.as_ref(),
            sort: sort.as_deref(),
            per_page,
        };
        let Fetched {
            page,
            note,
            order_note,
        } = self.fetch(&how, search.as_ref()).await?;
        // Asked once the page is in: when Zoho fails, the page says so, and the count never
        // takes a retry or a token refresh from it. Kept seconds like other reads, paging asks
        // Zoho for it once.
        let total = self.total(&m.name, search.as_ref(), view.as_deref()).await;
        // An expired page link was answered with the first page.
        let page_no = if note.is_some() { 1 } else { args.page.max(1) };
        let first = u64::from(page_no - 1) * u64::from(per_page) + 1;
        let shown_to = first - 1 + page.rows.len() as u64;
        let about = total.is_some_and(|t| {
            if page.more {
                t <= shown_to
            } else {
                t != shown_to
            }
        });
        Ok(RecordsPage {
            module: m.info.clone(),
            rows: self.table_rows(page.rows, &columns).await,
            columns: columns.iter().map(column).collect(),
            searched: search.is_some(),
            page: page.page,
            more: page.more,
            next_token: page.next_page_token,
            note,
            first,
            total,
            about,
            order_note,
        })
    }

    /// How many records the list holds, as Zoho counts them (cached like other reads); `None`
    /// where Zoho cannot count (a view with a search) or did not answer (the list still shows).
    async fn total(
        &self,
        module: &ModuleName,
        search: Option<&Search>,
        view: Option<&str>,
    ) -> Option<u64> {
        let of = match (search, view) {
            (None, None) => CountOf::All,
            (Some(s), None) => CountOf::Search(s),
            (None, Some(v)) => CountOf::View(v),
            (Some(_), Some(_)) => return None,
        };
        match timed("zoho", self.zoho.crm.count(&self.conn, module, of)).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "no total for a list");
                None
            }
        }
    }

    /// The page itself: from the list, search or COQL, whichever gives the order asked for.
    async fn fetch(&self, how: &Listing<'_>, search: Option<&Search>) -> Result<Fetched, AppError> {
        let crm = &self.zoho.crm;
        let m = how.module;
        let names: Vec<&str> = how.columns.iter().map(|c| c.api_name.as_str()).collect();
        let page = how.args.page.max(1);
        let list_sorted = matches!(
            how.sort,
            None | Some("id" | "Created_Time" | "Modified_Time")
        );
        let mut order_note = None;
        // A view whose criteria COQL cannot say keeps Zoho's order.
        let view_where = match (how.view, how.sort, how.detail) {
            (Some(_), Some(_), Some(d)) => match &d.criteria {
                None => Some(None),
                Some(Some(c)) => {
                    let me = crm.me(&self.conn).await?.map(|u| u.id).unwrap_or_default();
                    ordered::view_where(c, &me).map(Some)
                }
                Some(None) => None,
            },
            _ => Some(None),
        };
        if how.view.is_some() && how.sort.is_some() && view_where.is_none() {
            order_note = Some("This view's order is set in Zoho.".to_owned());
        }
        let by_coql = how.sort.is_some()
            && view_where.is_some()
            && match search {
                Some(Search::Criteria { .. }) => true,
                Some(_) => false,
                None => how.view.is_some() || !list_sorted,
            };
        if by_coql {
            let page = self.coql_page(how, view_where.flatten()).await?;
            return Ok(Fetched {
                page,
                note: None,
                order_note,
            });
        }
        let sort = if order_note.is_some() { None } else { how.sort };
        if let Some(search) = search {
            // A text search orders by search's own `sort_by` (a search by conditions too, but
            // when it is sorted it went to COQL above).
            let q = SearchPage {
                search,
                sort: sort.map(|f| (f, !how.args.ascending)),
                view: how.view,
                page,
                per_page: how.per_page,
            };
            let found = crm.search_page(&self.conn, &m.name, &q, &names);
            return Ok(Fetched {
                page: timed("zoho", found).await?,
                note: None,
                order_note,
            });
        }
        let mut query = ListQuery {
            fields: names.iter().map(|n| (*n).to_owned()).collect(),
            sort_by: match sort {
                Some("Created_Time") => SortBy::CreatedTime,
                Some("Modified_Time") => SortBy::ModifiedTime,
                _ => SortBy::Id,
            },
            // Zoho's own order is by id, newest first unless asked otherwise.
            ascending: how.args.ascending,
            per_page: how.per_page,
            page: how
                .args
                .page_token
                .clone()
                .map_or(PageRef::Number(page), PageRef::Token),
            view: how.view.map(str::to_owned),
        };
        let mut note = None;
        let page = match timed("zoho", crm.list(&self.conn, &m.name, &query)).await {
            // A page link from an earlier visit: its token expired, or its number is past what
            // Zoho numbers. The first page, with a word about it.
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
        };
        Ok(Fetched {
            page,
            note,
            order_note,
        })
    }

    /// A page from COQL: the list's conditions and the view's criteria (`view`), ordered by the
    /// field asked for, then by id.
    async fn coql_page(
        &self,
        how: &Listing<'_>,
        view: Option<zoho::crm::select::Where>,
    ) -> Result<Page, AppError> {
        use zoho::crm::select::{Compare, Literal, Select, Where};
        let m = how.module;
        let joins = self
            .joins(how.columns, &how.args.conditions, &m.fields)
            .await;
        let conditions =
            ordered::conditions_where(&how.args.conditions, how.args.match_any, &m.fields, &joins)?;
        let mut parts: Vec<Where> = Vec::new();
        // A list or search of Leads leaves converted ones out; COQL keeps them unless told.
        if view.is_none() && m.name.as_str() == "Leads" {
            parts.push(Where::Compare(
                "Converted__s".into(),
                Compare::Eq,
                Literal::Bool(false),
            ));
        }
        parts.extend(view);
        parts.extend(conditions);
        let filter = match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(Where::All(parts)),
        };
        let page = how.args.page.max(1);
        let offset = (page - 1).saturating_mul(how.per_page);
        if offset.saturating_add(how.per_page) > zoho::crm::select::MAX_REACH {
            return Err(AppError::BadRequest(
                "A list in this order reaches its first 100,000 records only: narrow it with conditions."
                    .into(),
            ));
        }
        let select = Select {
            module: m.name.clone(),
            columns: ordered::select_columns(how.columns, &joins),
            filter,
            order: how
                .sort
                .map(|f| vec![(f.to_owned(), !how.args.ascending)])
                .unwrap_or_default(),
            offset,
            limit: how.per_page,
        };
        if select.render().is_none() {
            return Err(AppError::BadRequest(
                "This list cannot be put in that order: it has too many conditions.".into(),
            ));
        }
        let rows = timed("zoho", self.zoho.crm.select(&self.conn, &select)).await?;
        Ok(Page {
            rows: ordered::text_rows(rows.rows, how.columns, &joins),
            page,
            more: rows.more,
            next_page_token: None,
        })
    }

    /// The joins that name the lookups among `columns` and the conditions' fields: a record's
    /// name field, an owner's first and last name.
    async fn joins(
        &self,
        columns: &[FieldInfo],
        conditions: &[crate::records::Condition],
        fields: &[FieldInfo],
    ) -> ordered::Joins {
        let mut joins = ordered::Joins::default();
        let wanted = columns.iter().chain(
            conditions
                .iter()
                .filter_map(|c| fields.iter().find(|f| f.api_name == c.field)),
        );
        for f in wanted {
            if joins.names.iter().any(|(n, _)| *n == f.api_name) {
                continue;
            }
            let names = match f.data_type.as_str() {
                "ownerlookup" => vec![
                    format!("{}.first_name", f.api_name),
                    format!("{}.last_name", f.api_name),
                ],
                "lookup" => {
                    let Some(target) = f
                        .lookup
                        .as_ref()
                        .and_then(|l| l.pointer("/module/api_name"))
                        .and_then(Value::as_str)
                        .and_then(ModuleName::parse)
                    else {
                        continue;
                    };
                    let Ok(target_fields) = self.zoho.crm.fields(&self.conn, &target).await else {
                        continue;
                    };
                    match super::default_columns(target.as_str(), &target_fields).first() {
                        Some(name) => vec![format!("{}.{}", f.api_name, name.api_name)],
                        None => continue,
                    }
                }
                _ => continue,
            };
            joins.names.push((f.api_name.clone(), names));
        }
        joins
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
        sortable: ordered::sortable(f),
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
    // Zoho refuses a shorter word (reference §9.9): said here, not sent.
    if t.chars().count() < 2 {
        return Err(AppError::BadRequest(SHORT_SEARCH.into()));
    }
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

/// How a page is to be fetched: the list asked for, as checked.
struct Listing<'a> {
    args: &'a ListArgs,
    module: &'a super::Module,
    columns: &'a [FieldInfo],
    view: Option<&'a str>,
    detail: Option<&'a ViewDetail>,
    sort: Option<&'a str>,
    per_page: u32,
}

/// A fetched page, with what the list says about it.
struct Fetched {
    page: Page,
    /// An expired page link was replaced with the first page.
    note: Option<String>,
    /// The order asked for could not be had.
    order_note: Option<String>,
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
