//! CRM records: the modules the signed-in user can open, a module's records as a paged table with
//! columns labelled from Zoho's field metadata, and one record with every field. The server
//! functions are thin and typed: the work is in `zoho::records`, through the connection's tokens.

mod edit;
mod form;
mod list;
mod record;

pub use edit::{
    Control, DeleteOutcome, FieldProblem, FormField, FormSpec, Input, LookupRef, MAX_DELETE,
    SaveOutcome, Values, delete_records, find_lookup, record_form, save_record,
};
pub use form::RecordFormPage;
pub use list::ModulePage;
pub use record::RecordPage;

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::wire::Json;

/// The most columns a list shows at once.
pub const MAX_COLUMNS: usize = 12;
/// The most conditions one search takes (Zoho's limit).
pub const MAX_CONDITIONS: usize = 10;

/// A module, as the navigation shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleDto {
    pub api_name: String,
    pub plural: String,
    pub singular: String,
}

/// A field as a column or a condition offers it: its API name and Zoho's label for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub api_name: String,
    pub label: String,
}

/// What the list page needs to know of a module before it lists anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleMeta {
    pub module: ModuleDto,
    /// Every field that can be a column or a condition, in Zoho's order.
    pub fields: Vec<Column>,
    /// The columns a list starts with.
    pub default_columns: Vec<String>,
}

/// How a list is ordered (the orders Zoho's list API offers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Id,
    CreatedTime,
    ModifiedTime,
}

impl SortKey {
    pub const ALL: [SortKey; 3] = [SortKey::Id, SortKey::CreatedTime, SortKey::ModifiedTime];

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Id => "Record ID",
            SortKey::CreatedTime => "Created Time",
            SortKey::ModifiedTime => "Modified Time",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Id => "id",
            SortKey::CreatedTime => "created_time",
            SortKey::ModifiedTime => "modified_time",
        }
    }

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A condition's operator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionOp {
    #[default]
    Equals,
    NotEqual,
    StartsWith,
    GreaterThan,
    LessThan,
}

impl ConditionOp {
    pub const ALL: [ConditionOp; 5] = [
        ConditionOp::Equals,
        ConditionOp::NotEqual,
        ConditionOp::StartsWith,
        ConditionOp::GreaterThan,
        ConditionOp::LessThan,
    ];

    /// The operator in words, as the builder offers it.
    pub fn words(self) -> &'static str {
        match self {
            ConditionOp::Equals => "is",
            ConditionOp::NotEqual => "is not",
            ConditionOp::StartsWith => "starts with",
            ConditionOp::GreaterThan => "is more than",
            ConditionOp::LessThan => "is less than",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConditionOp::Equals => "equals",
            ConditionOp::NotEqual => "not_equal",
            ConditionOp::StartsWith => "starts_with",
            ConditionOp::GreaterThan => "greater_than",
            ConditionOp::LessThan => "less_than",
        }
    }

    pub fn parse(s: &str) -> Option<ConditionOp> {
        ConditionOp::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// One condition of a search: field, operator, value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub field: String,
    pub operator: ConditionOp,
    pub value: String,
}

/// What the list shows: a module, its columns, order and page, and an optional search — a text
/// (searched as an email, a phone number or a word, whichever it looks like) or conditions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListArgs {
    pub module: String,
    /// The columns to show, in order; none for the module's defaults.
    pub columns: Vec<String>,
    pub sort: SortKey,
    pub ascending: bool,
    pub per_page: u32,
    /// The page number (1-based); lists past the first page use `page_token` instead.
    pub page: u32,
    pub page_token: Option<String>,
    pub text: Option<String>,
    pub conditions: Vec<Condition>,
    /// Whether any one condition is enough (`or`) rather than all of them (`and`).
    pub match_any: bool,
}

/// One row: the record id and its cells as text, in column order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub cells: Vec<String>,
}

/// A page of a module's records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsPage {
    pub module: ModuleDto,
    pub columns: Vec<Column>,
    /// Whether this page is a search result.
    pub searched: bool,
    pub rows: Vec<Row>,
    pub page: u32,
    pub more: bool,
    pub next_token: Option<String>,
}

/// One field of a record as text; instants are shown in the reader's zone, lookups link to the
/// record they name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldValue {
    pub label: String,
    pub value: String,
    pub instant: bool,
    pub link: Option<String>,
}

/// One record: its title and every field with its label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordView {
    pub module: ModuleDto,
    pub title: String,
    pub fields: Vec<FieldValue>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::sync::Arc;

    use serde_json::Value;
    use zoho::ConnectionId;
    use zoho::records::{Criterion, FieldInfo, ModuleInfo, ModuleName, Operator, Search, SortBy};

    use super::{Column, ConditionOp, ListArgs, MAX_COLUMNS, MAX_CONDITIONS, ModuleDto, SortKey};
    use crate::AppError;
    use crate::ssr::{self as app_ssr, server_context};

    /// The active connection and the CRM client to use for it.
    pub async fn connection() -> Result<(zoho::crm::CrmClient, ConnectionId), AppError> {
        let ctx = server_context()?;
        let c = app_ssr::active_connection().await?;
        Ok((ctx.crm, c.id))
    }

    pub fn module_name(raw: &str) -> Result<ModuleName, AppError> {
        ModuleName::parse(raw).ok_or_else(no_such_module)
    }

    fn no_such_module() -> AppError {
        AppError::BadRequest("There is no such module.".into())
    }

    pub fn module_dto(m: &ModuleInfo) -> ModuleDto {
        ModuleDto {
            api_name: m.api_name.clone(),
            plural: m.plural_label.clone(),
            singular: m.singular_label.clone(),
        }
    }

    /// The module's description and fields, or a clear error when Zoho has no such module.
    pub async fn module(
        crm: &zoho::crm::CrmClient,
        id: &ConnectionId,
        name: &ModuleName,
    ) -> Result<(ModuleDto, Arc<Vec<FieldInfo>>), AppError> {
        let info = crm
            .modules(id)
            .await
            .map_err(app_ssr::crm_error)?
            .iter()
            .find(|m| m.api_name == name.as_str())
            .map(module_dto)
            .ok_or_else(no_such_module)?;
        let fields = crm.fields(id, name).await.map_err(app_ssr::crm_error)?;
        Ok((info, fields))
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

    /// The columns a module's list starts with: its usual ones where we know them, else its
    /// first few fields that people fill in.
    pub fn default_columns(module: &str, fields: &[FieldInfo]) -> Vec<FieldInfo> {
        let preferred: &[&str] = match module {
            "Leads" => &["Full_Name", "Company", "Email", "Lead_Status"],
            "Contacts" => &["Full_Name", "Email", "Account_Name", "Phone"],
            "Accounts" => &["Account_Name", "Phone", "Industry", "Billing_City"],
            "Deals" => &["Deal_Name", "Stage", "Amount", "Closing_Date"],
            _ => &[],
        };
        let chosen: Vec<FieldInfo> = preferred
            .iter()
            .filter_map(|p| fields.iter().find(|f| f.api_name == *p).cloned())
            .collect();
        if !chosen.is_empty() {
            return chosen;
        }
        fields
            .iter()
            .filter(|f| !f.read_only && f.data_type != "ownerlookup" && f.data_type != "subform")
            .take(4)
            .cloned()
            .collect()
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

    /// A field value as a person reads it.
    pub fn text(v: Option<&Value>) -> String {
        match v {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(true)) => "Yes".into(),
            Some(Value::Bool(false)) => "No".into(),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
                _ => n.to_string(),
            },
            Some(Value::Object(o)) => o
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| text(Some(x)))
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
        }
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
}

/// The modules the signed-in user can open.
#[server(endpoint = "records/modules", input = GetUrl, output = Json)]
pub async fn list_modules() -> Result<Vec<ModuleDto>, AppError> {
    let (crm, id) = ssr::connection().await?;
    Ok(crm
        .modules(&id)
        .await
        .map_err(crate::ssr::crm_error)?
        .iter()
        .map(ssr::module_dto)
        .collect())
}

/// A module's name, the fields its list can show or test, and its default columns.
#[server(endpoint = "records/meta", input = GetUrl, output = Json)]
pub async fn describe_module(module: String) -> Result<ModuleMeta, AppError> {
    let (crm, id) = ssr::connection().await?;
    let name = ssr::module_name(&module)?;
    let (info, fields) = ssr::module(&crm, &id, &name).await?;
    Ok(ModuleMeta {
        default_columns: ssr::default_columns(name.as_str(), &fields)
            .into_iter()
            .map(|f| f.api_name)
            .collect(),
        fields: ssr::listable(&fields).map(ssr::column).collect(),
        module: info,
    })
}

/// A page of a module's records, or of a search in it.
#[server(endpoint = "records/list", input = GetUrl, output = Json)]
pub async fn list_records(args: ListArgs) -> Result<RecordsPage, AppError> {
    use zoho::records::{ListQuery, PageRef};
    let (crm, id) = ssr::connection().await?;
    let name = ssr::module_name(&args.module)?;
    let (info, fields) = ssr::module(&crm, &id, &name).await?;
    let columns = ssr::choose_columns(name.as_str(), &args.columns, &fields);
    let per_page = args.per_page.clamp(1, 200);
    let search = ssr::search_for(&args, &fields)?;
    let page = match &search {
        Some(search) => {
            crm.search(&id, &name, search, args.page.max(1), per_page)
                .await
        }
        None => {
            let query = ListQuery {
                fields: columns.iter().map(|c| c.api_name.clone()).collect(),
                sort_by: ssr::sort_by(args.sort),
                ascending: args.ascending,
                per_page,
                page: args
                    .page_token
                    .map_or(PageRef::Number(args.page.max(1)), PageRef::Token),
            };
            crm.list(&id, &name, &query).await
        }
    }
    .map_err(crate::ssr::crm_error)?;
    Ok(RecordsPage {
        module: info,
        rows: page
            .records
            .iter()
            .map(|r| Row {
                id: ssr::text(r.get("id")),
                cells: columns
                    .iter()
                    .map(|c| ssr::text(r.get(&c.api_name)))
                    .collect(),
            })
            .collect(),
        columns: columns.iter().map(ssr::column).collect(),
        searched: search.is_some(),
        page: page.page,
        more: page.more,
        next_token: page.next_page_token,
    })
}

/// One record of `module`, every field labelled.
#[server(endpoint = "records/get", input = GetUrl, output = Json)]
pub async fn get_record(module: String, id: String) -> Result<RecordView, AppError> {
    let (crm, conn) = ssr::connection().await?;
    let name = ssr::module_name(&module)?;
    let (info, fields) = ssr::module(&crm, &conn, &name).await?;
    let record = crm
        .record(&conn, &name, &id)
        .await
        .map_err(crate::ssr::crm_error)?
        .ok_or_else(|| AppError::BadRequest(format!("This {} does not exist.", info.singular)))?;
    let name_field = ssr::default_columns(name.as_str(), &fields)
        .first()
        .map(|f| f.api_name.clone())
        .unwrap_or_default();
    Ok(RecordView {
        title: ssr::text(record.get(&name_field)),
        fields: fields
            .iter()
            .map(|f| FieldValue {
                label: f.field_label.clone(),
                value: ssr::text(record.get(&f.api_name)),
                instant: f.data_type == "datetime",
                link: ssr::lookup_link(f, record.get(&f.api_name)),
            })
            .collect(),
        module: info,
    })
}

/// A button that opens `href`: a plain GET form before the WASM has loaded, a client-side
/// navigation (without the form's trailing `?`) after.
#[component]
pub fn GoButton(
    href: String,
    label: &'static str,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let target = href.clone();
    view! {
        <form
            method="get"
            action=href
            class="go"
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                navigate(&target, Default::default());
            }
        >
            <button type="submit" class=class>
                {label}
            </button>
        </form>
    }
}

/// What a failed records call shows: words, and the way on.
#[component]
pub fn Problem(error: AppError) -> impl IntoView {
    let hint = match error {
        AppError::NeedsReconnect => Some(
            view! { <a href="/connection">"Go to the Connection page"</a> }.into_any(),
        ),
        AppError::Unauthenticated => Some(view! { <a href="/">"Sign in"</a> }.into_any()),
        AppError::Throttled { retry_at } => Some(view! {
            <span>
                "Try again after "
                <crate::time::LocalTime iso=crate::time::iso(retry_at) fallback=crate::time::utc(retry_at) />
                "."
            </span>
        }.into_any()),
        _ => None,
    };
    view! {
        <div class="problem" role="alert">
            <p class="error">{error.to_string()}</p>
            {hint}
        </div>
    }
}

/// What the stash keeps for the last module opened.
const LAST_MODULE: &str = "last_module";

/// The modules, as links carrying their plural names, and a way back to the last one opened.
#[component]
pub fn ModuleNav() -> impl IntoView {
    let modules = Resource::new(|| (), |_| list_modules());
    // Read after hydration: the server cannot know what this browser kept.
    let last = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(conn) = crate::stash::active_connection() {
            last.set(crate::stash::load::<String>(&conn, LAST_MODULE));
        }
    });
    view! {
        <nav class="modules" aria-label="Modules">
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading modules…"</p> }>
                {move || {
                    modules
                        .get()
                        .map(|r| match r {
                            Ok(list) => {
                                let resume = last
                                    .get()
                                    .and_then(|l| list.iter().find(|m| m.api_name == l).cloned())
                                    .map(|m| {
                                        view! {
                                            <p class="resume">
                                                <a href=format!("/m/{}", m.api_name)>
                                                    {format!("Continue with {}", m.plural)}
                                                </a>
                                            </p>
                                        }
                                    });
                                view! {
                                    {resume}
                                    <ul>
                                        {list
                                            .into_iter()
                                            .map(|m| {
                                                view! {
                                                    <li>
                                                        <a href=format!("/m/{}", m.api_name)>{m.plural}</a>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }.into_any()
                            }
                            Err(e) => view! { <Problem error=e /> }.into_any(),
                        })
                }}
            </Suspense>
        </nav>
    }
}
