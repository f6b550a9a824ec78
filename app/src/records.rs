//! CRM records: the modules the signed-in user can open, a module's records as a paged table with
//! columns labelled from Zoho's field metadata, and one record with every field. The server
//! functions are thin: the work is in `zoho::records`, through the connection's tokens.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// A module, as the navigation shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleDto {
    pub api_name: String,
    pub plural: String,
    pub singular: String,
}

/// A column of the list: the field's API name and Zoho's label for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub api_name: String,
    pub label: String,
}

/// One row: the record id and its cells as text, in column order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub cells: Vec<String>,
}

/// What the list shows: a module, its order and page size, and an optional search — a text
/// (searched as an email, a phone number or a word, whichever it looks like) or one condition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListArgs {
    pub module: String,
    pub page_token: Option<String>,
    pub ascending: bool,
    pub per_page: u32,
    pub text: Option<String>,
    pub field: Option<String>,
    pub operator: Option<String>,
    pub value: Option<String>,
}

/// A page of a module's records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsPage {
    pub module: ModuleDto,
    pub columns: Vec<Column>,
    /// Every field a condition can test.
    pub searchable: Vec<Column>,
    /// Whether this page is a search result (which pages by number, not by token).
    pub searched: bool,
    pub rows: Vec<Row>,
    pub page: u32,
    pub more: bool,
    pub next_token: Option<String>,
}

/// One field of a record, as text, and whether it is an instant (shown in the reader's zone).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldValue {
    pub label: String,
    pub value: String,
    pub instant: bool,
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
    use serde_json::Value;
    use zoho::ConnectionId;
    use zoho::records::{FieldInfo, ModuleName};

    use super::ModuleDto;
    use crate::AppError;
    use crate::ssr::{self as app_ssr, server_context};

    /// The active connection and the CRM client to use for it.
    pub async fn connection() -> Result<(zoho::crm::CrmClient, ConnectionId), AppError> {
        let ctx = server_context()?;
        let c = app_ssr::active_connection().await?;
        Ok((ctx.crm, c.id))
    }

    pub fn module_name(raw: &str) -> Result<ModuleName, AppError> {
        ModuleName::parse(raw)
            .ok_or_else(|| AppError::BadRequest("There is no such module.".into()))
    }

    /// The module's description, or a clear error when Zoho has no such module.
    pub async fn module(
        crm: &zoho::crm::CrmClient,
        id: &ConnectionId,
        name: &ModuleName,
    ) -> Result<ModuleDto, AppError> {
        crm.modules(id)
            .await
            .map_err(app_ssr::crm_error)?
            .into_iter()
            .find(|m| m.api_name == name.as_str())
            .map(|m| ModuleDto {
                api_name: m.api_name,
                plural: m.plural_label,
                singular: m.singular_label,
            })
            .ok_or_else(|| AppError::BadRequest("There is no such module.".into()))
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
}

/// The modules the signed-in user can open.
#[server(endpoint = "records/modules", input = GetUrl)]
pub async fn list_modules() -> Result<Vec<ModuleDto>, AppError> {
    let (crm, id) = ssr::connection().await?;
    Ok(crm
        .modules(&id)
        .await
        .map_err(crate::ssr::crm_error)?
        .into_iter()
        .map(|m| ModuleDto {
            api_name: m.api_name,
            plural: m.plural_label,
            singular: m.singular_label,
        })
        .collect())
}

/// A page of a module's records, or of a search in it.
#[server(endpoint = "records/list", input = GetUrl)]
pub async fn list_records(args: ListArgs) -> Result<RecordsPage, AppError> {
    use zoho::records::{Criterion, ListQuery, Operator, PageRef, Search, SortBy};
    let (crm, id) = ssr::connection().await?;
    let name = ssr::module_name(&args.module)?;
    let info = ssr::module(&crm, &id, &name).await?;
    let fields = crm
        .fields(&id, &name)
        .await
        .map_err(crate::ssr::crm_error)?;
    let columns = ssr::default_columns(name.as_str(), &fields);
    let per_page = args.per_page.clamp(1, 200);
    let text = args
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let condition = match (&args.field, &args.operator, &args.value) {
        (Some(field), Some(op), Some(value)) if !value.trim().is_empty() => {
            if !fields.iter().any(|f| &f.api_name == field) {
                return Err(AppError::BadRequest(
                    "That field is not in this module.".into(),
                ));
            }
            let operator = match op.as_str() {
                "equals" => Operator::Equals,
                "not_equal" => Operator::NotEqual,
                "starts_with" => Operator::StartsWith,
                "greater_than" => Operator::GreaterThan,
                "less_than" => Operator::LessThan,
                _ => {
                    return Err(AppError::BadRequest(
                        "That operator is not supported.".into(),
                    ));
                }
            };
            Some(Criterion {
                field: field.clone(),
                operator,
                value: value.trim().to_owned(),
            })
        }
        _ => None,
    };
    let search = match (text, condition) {
        (_, Some(c)) => Some(Search::Criteria(vec![c])),
        (Some(t), None) if t.contains('@') => Some(Search::Email(t.to_owned())),
        (Some(t), None)
            if t.chars().filter(char::is_ascii_digit).count() >= 5
                && t.chars()
                    .all(|c| c.is_ascii_digit() || " +-().".contains(c)) =>
        {
            Some(Search::Phone(t.to_owned()))
        }
        (Some(t), None) => Some(Search::Word(t.to_owned())),
        (None, None) => None,
    };
    let page = match &search {
        Some(search) => crm.search(&id, &name, search, 1, per_page).await,
        None => {
            let query = ListQuery {
                fields: columns.iter().map(|c| c.api_name.clone()).collect(),
                sort_by: SortBy::Id,
                ascending: args.ascending,
                per_page,
                page: args.page_token.map_or(PageRef::Number(1), PageRef::Token),
            };
            crm.list(&id, &name, &query).await
        }
    }
    .map_err(crate::ssr::crm_error)?;
    let column = |f: &zoho::records::FieldInfo| Column {
        api_name: f.api_name.clone(),
        label: f.field_label.clone(),
    };
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
        searchable: fields
            .iter()
            .filter(|f| !matches!(f.data_type.as_str(), "subform" | "multiselectpicklist"))
            .map(column)
            .collect(),
        columns: columns.iter().map(column).collect(),
        searched: search.is_some(),
        page: page.page,
        more: page.more,
        next_token: page.next_page_token,
    })
}

/// One record of `module`, every field labelled.
#[server(endpoint = "records/get", input = GetUrl)]
pub async fn get_record(module: String, id: String) -> Result<RecordView, AppError> {
    let (crm, conn) = ssr::connection().await?;
    let name = ssr::module_name(&module)?;
    let info = ssr::module(&crm, &conn, &name).await?;
    let fields = crm
        .fields(&conn, &name)
        .await
        .map_err(crate::ssr::crm_error)?;
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
            })
            .collect(),
        module: info,
    })
}

/// What a failed records call shows: words, and the way on.
#[component]
fn Problem(error: AppError) -> impl IntoView {
    let hint = match error {
        AppError::NeedsReconnect => {
            Some(view! { <a href="/connection">"Go to the Connection page"</a> }.into_any())
        }
        AppError::Unauthenticated => Some(view! { <a href="/">"Sign in"</a> }.into_any()),
        _ => None,
    };
    view! {
        <p class="error" role="alert">{error.to_string()}</p>
        {hint}
    }
}

/// The modules, as links carrying their plural names.
#[component]
pub fn ModuleNav() -> impl IntoView {
    let modules = Resource::new(|| (), |_| list_modules());
    view! {
        <nav class="modules" aria-label="Modules">
            <Suspense fallback=|| view! { <p>"Loading modules…"</p> }>
                {move || {
                    modules
                        .get()
                        .map(|r| match r {
                            Ok(list) => {
                                view! {
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
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <Problem error=e /> }.into_any(),
                        })
                }}
            </Suspense>
        </nav>
    }
}

/// The operators the condition builder offers, with their names in words.
const OPERATORS: &[(&str, &str)] = &[
    ("equals", "is"),
    ("not_equal", "is not"),
    ("starts_with", "starts with"),
    ("greater_than", "is more than"),
    ("less_than", "is less than"),
];

/// `/m/{Module}`: the module's records, newest first, paged; a search box and a condition builder.
#[component]
pub fn ModulePage() -> impl IntoView {
    let params = use_params_map();
    let module = move || params.read().get("module").unwrap_or_default();
    // Tokens of the pages before this one, so "Previous page" can go back.
    let history = RwSignal::new(Vec::<Option<String>>::new());
    let token = RwSignal::new(None::<String>);
    let ascending = RwSignal::new(false);
    let per_page = RwSignal::new(50u32);
    // The search as applied, and as being typed.
    let applied_text = RwSignal::new(None::<String>);
    let applied_condition = RwSignal::new(None::<(String, String, String)>);
    let typed = RwSignal::new(String::new());
    let cond_field = RwSignal::new(String::new());
    let cond_op = RwSignal::new("equals".to_owned());
    let cond_value = RwSignal::new(String::new());
    let restart = move || {
        history.set(Vec::new());
        token.set(None);
    };
    let page = Resource::new(
        move || {
            let condition = applied_condition.get();
            ListArgs {
                module: module(),
                page_token: token.get(),
                ascending: ascending.get(),
                per_page: per_page.get(),
                text: applied_text.get(),
                field: condition.as_ref().map(|c| c.0.clone()),
                operator: condition.as_ref().map(|c| c.1.clone()),
                value: condition.map(|c| c.2),
            }
        },
        list_records,
    );
    let on_search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = typed.get_untracked();
        applied_condition.set(None);
        applied_text.set((!text.trim().is_empty()).then_some(text));
        restart();
    };
    let on_filter = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        applied_text.set(None);
        applied_condition.set(Some((
            cond_field.get_untracked(),
            cond_op.get_untracked(),
            cond_value.get_untracked(),
        )));
        restart();
    };
    let clear = move |_| {
        typed.set(String::new());
        cond_value.set(String::new());
        applied_text.set(None);
        applied_condition.set(None);
        restart();
    };
    view! {
        <section class="records">
            <form role="search" class="search" on:submit=on_search>
                <input
                    type="search"
                    aria-label="Search"
                    placeholder="Search by word, email or phone"
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                />
                <button type="submit">"Find"</button>
                <Show when=move || applied_text.read().is_some() || applied_condition.read().is_some()>
                    <button type="button" on:click=clear>
                        "Clear search"
                    </button>
                </Show>
            </form>
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading records…"</p> }>
                {move || {
                    page.get()
                        .map(|r| match r {
                            Ok(p) => {
                                let next = p.next_token.clone();
                                let has_next = p.more && next.is_some() && !p.searched;
                                let module = p.module.api_name.clone();
                                if cond_field.get_untracked().is_empty()
                                    && let Some(first) = p.columns.first()
                                {
                                    cond_field.set(first.api_name.clone());
                                }
                                let searchable = p.searchable.clone();
                                view! {
                                    <h1>{p.module.plural.clone()}</h1>
                                    <form class="condition" on:submit=on_filter>
                                        <label for="cond-field">"Field"</label>
                                        <select
                                            id="cond-field"
                                            on:change=move |ev| cond_field.set(event_target_value(&ev))
                                        >
                                            {searchable
                                                .into_iter()
                                                .map(|c| {
                                                    let selected = c.api_name == cond_field.get_untracked();
                                                    view! {
                                                        <option value=c.api_name selected=selected>
                                                            {c.label}
                                                        </option>
                                                    }
                                                })
                                                .collect_view()}
                                        </select>
                                        <label for="cond-op">"Operator"</label>
                                        <select id="cond-op" on:change=move |ev| cond_op.set(event_target_value(&ev))>
                                            {OPERATORS
                                                .iter()
                                                .map(|(value, words)| {
                                                    let selected = *value == cond_op.get_untracked();
                                                    view! {
                                                        <option value=*value selected=selected>
                                                            {*words}
                                                        </option>
                                                    }
                                                })
                                                .collect_view()}
                                        </select>
                                        <label for="cond-value">"Value"</label>
                                        <input
                                            id="cond-value"
                                            prop:value=move || cond_value.get()
                                            on:input=move |ev| cond_value.set(event_target_value(&ev))
                                        />
                                        <button type="submit">"Filter"</button>
                                    </form>
                                    <div class="toolbar">
                                        <button
                                            type="button"
                                            on:click=move |_| {
                                                ascending.update(|a| *a = !*a);
                                                restart();
                                            }
                                        >
                                            {move || if ascending.get() { "Oldest first" } else { "Newest first" }}
                                        </button>
                                        <label for="per-page">"Rows per page"</label>
                                        <select
                                            id="per-page"
                                            on:change=move |ev| {
                                                if let Ok(n) = event_target_value(&ev).parse() {
                                                    per_page.set(n);
                                                    restart();
                                                }
                                            }
                                        >
                                            {[20u32, 50, 100, 200]
                                                .into_iter()
                                                .map(|n| {
                                                    view! {
                                                        <option value=n.to_string() selected=n == per_page.get_untracked()>
                                                            {n.to_string()}
                                                        </option>
                                                    }
                                                })
                                                .collect_view()}
                                        </select>
                                        <span class="page-no">{format!("Page {}", history.read().len() + 1)}</span>
                                        <button
                                            type="button"
                                            disabled=move || history.read().is_empty()
                                            on:click=move |_| {
                                                let prev = history.write().pop().flatten();
                                                token.set(prev);
                                            }
                                        >
                                            "Previous page"
                                        </button>
                                        <button
                                            type="button"
                                            disabled=!has_next
                                            on:click=move |_| {
                                                history.write().push(token.get_untracked());
                                                token.set(next.clone());
                                            }
                                        >
                                            "Next page"
                                        </button>
                                    </div>
                                    <RecordsTable page=p module />
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <Problem error=e /> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn RecordsTable(page: RecordsPage, module: String) -> impl IntoView {
    if page.rows.is_empty() {
        let words = if page.searched {
            format!("No {} match this search.", page.module.plural)
        } else {
            format!("No {} yet.", page.module.plural)
        };
        return view! { <p class="empty">{words}</p> }.into_any();
    }
    view! {
        <table>
            <thead>
                <tr>
                    {page.columns.iter().map(|c| view! { <th scope="col">{c.label.clone()}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody>
                {page
                    .rows
                    .into_iter()
                    .map(|row| {
                        let href = format!("/m/{module}/{}", row.id);
                        let mut cells = row.cells.into_iter();
                        let first = cells.next().unwrap_or_default();
                        let label = if first.is_empty() { row.id.clone() } else { first };
                        view! {
                            <tr>
                                <td>
                                    <a href=href>{label}</a>
                                </td>
                                {cells.map(|c| view! { <td>{c}</td> }).collect_view()}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// `/m/{Module}/{id}`: one record, every field with its label.
#[component]
pub fn RecordPage() -> impl IntoView {
    let params = use_params_map();
    let record = Resource::new(
        move || {
            let p = params.read();
            (
                p.get("module").unwrap_or_default(),
                p.get("id").unwrap_or_default(),
            )
        },
        |(m, id)| get_record(m, id),
    );
    view! {
        <section class="panel record">
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                {move || {
                    record
                        .get()
                        .map(|r| match r {
                            Ok(v) => {
                                view! {
                                    <p class="crumbs">
                                        <a href=format!("/m/{}", v.module.api_name)>{v.module.plural.clone()}</a>
                                    </p>
                                    <h1>{v.title.clone()}</h1>
                                    <dl class="facts">
                                        {v
                                            .fields
                                            .into_iter()
                                            .map(|f| {
                                                let value = if f.instant && !f.value.is_empty() {
                                                    view! {
                                                        <crate::time::LocalTime
                                                            iso=f.value.clone()
                                                            fallback=f.value
                                                        />
                                                    }
                                                        .into_any()
                                                } else {
                                                    f.value.into_any()
                                                };
                                                view! {
                                                    <dt>{f.label}</dt>
                                                    <dd>{value}</dd>
                                                }
                                            })
                                            .collect_view()}
                                    </dl>
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <Problem error=e /> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}
