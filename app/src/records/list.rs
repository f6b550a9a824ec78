//! `/m/{Module}`: a module's records as a table. Columns come from Zoho's field metadata and are
//! the user's to choose (kept in this browser per connection and module); the list sorts, pages
//! through everything with Zoho's page tokens, and searches by text or by conditions. While a
//! page loads the last one stays on screen, marked busy, so a slow Zoho never freezes the page.
//! It is live: when anyone changes the module's records the page is read again — changed rows
//! show their new values, a row that was not there before is marked new, a deleted one goes.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::list_tools::{BulkDelete, ColumnPicker};
use super::list_url::{ListState, ROW_CHOICES};
use super::widgets::{Folded, LAST_MODULE};
use super::{
    Condition, ConditionOp, FilterField, FilterKind, ListArgs, MAX_CONDITIONS, ModuleMeta, Problem,
    RecordsPage, SortKey, describe_module, list_records,
};
use crate::AppError;
use crate::stash;
use leptos::task::spawn_local;

/// Which page to show: its number, and Zoho's token for it once past the first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Cursor {
    page: u32,
    token: Option<String>,
}

impl Cursor {
    fn first() -> Self {
        Cursor {
            page: 1,
            token: None,
        }
    }
}

/// The search applied to the list: a text, or conditions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Query {
    text: Option<String>,
    conditions: Vec<Condition>,
    match_any: bool,
}

impl Query {
    fn is_active(&self) -> bool {
        self.text.is_some() || !self.conditions.is_empty()
    }
}

/// One page in flight, counted in its signal until it is in (or its fetch is dropped).
struct InFlight(RwSignal<u32>);

impl InFlight {
    fn start(count: RwSignal<u32>) -> Self {
        count.update(|n| *n += 1);
        InFlight(count)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.try_update(|n| *n = n.saturating_sub(1));
    }
}

/// The stash key of a module's column choice.
pub(super) fn columns_key(module: &str) -> String {
    format!("columns.{module}")
}

/// The list of the module in the URL; a new module gets a fresh list (its own columns, page and
/// search), while the same module keeps its state.
#[component]
pub fn ModulePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let module = Memo::new(move |_| params.read().get("module").unwrap_or_default());
    let board = Memo::new(move |_| query.read().get("view").as_deref() == Some("board"));
    // The board is a WASM chunk of its own, loaded once the page is up: the server renders its
    // placeholder, and hydration finds the same.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    move || {
        let module = module.get();
        if board.get() {
            let loading = || view! { <p aria-busy="true" class="records">"Loading the board…"</p> };
            if !mounted.get() {
                return loading().into_any();
            }
            view! {
                <Suspense fallback=loading>
                    {Suspend::new(super::board::board_page(module))}
                </Suspense>
            }
            .into_any()
        } else {
            view! { <ModuleRecords module /> }.into_any()
        }
    }
}

#[component]
fn ModuleRecords(module: String) -> impl IntoView {
    let meta = Resource::new(
        {
            let module = module.clone();
            move || module.clone()
        },
        describe_module,
    );
    // The list starts as its URL says (a reload, Back, a shared link).
    let url = use_query_map();
    let start = ListState::from_query(&url.read_untracked());
    let columns = RwSignal::new(Vec::<String>::new());
    let sort = RwSignal::new(start.sort);
    let ascending = RwSignal::new(start.ascending);
    let per_page = RwSignal::new(start.per_page);
    let cursor = RwSignal::new(Cursor {
        page: start.page,
        token: start.token.clone(),
    });
    let history = RwSignal::new(Vec::<Cursor>::new());
    let query = RwSignal::new(Query {
        text: start.text.clone(),
        conditions: start.conditions.clone(),
        match_any: start.match_any,
    });
    let selected = RwSignal::new(Vec::<String>::new());
    let state = move || {
        let q = query.get();
        let c = cursor.get();
        ListState {
            text: q.text,
            conditions: q.conditions,
            match_any: q.match_any,
            sort: sort.get(),
            ascending: ascending.get(),
            per_page: per_page.get(),
            page: c.page,
            token: c.token,
        }
    };
    // Each change of the list is a step in the browser's history; the first only tidies the URL.
    let navigate = use_navigate();
    let path = format!("/m/{module}");
    Effect::new(move |first: Option<()>| {
        let want = state().to_query();
        let have = ListState::from_query(&url.get_untracked()).to_query();
        if want != have {
            let target = if want.is_empty() {
                path.clone()
            } else {
                format!("{path}?{want}")
            };
            navigate(
                &target,
                NavigateOptions {
                    replace: first.is_none(),
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    });
    // Back and Forward: the URL's list becomes the list.
    Effect::new(move |_| {
        let s = ListState::from_query(&url.get());
        let now = untrack(state);
        if s != now {
            history.set(Vec::new());
            selected.set(Vec::new());
            query.set(Query {
                text: s.text,
                conditions: s.conditions,
                match_any: s.match_any,
            });
            sort.set(s.sort);
            ascending.set(s.ascending);
            per_page.set(s.per_page);
            cursor.set(Cursor {
                page: s.page,
                token: s.token,
            });
        }
    });
    // What the last bulk delete did; kept here, as the listing is rebuilt when the page reloads.
    let report = RwSignal::new(None::<Result<String, AppError>>);
    // What the list says about itself (an expired page link it replaced with the first page).
    let notice = RwSignal::new(None::<String>);
    let restart = Callback::new(move |()| {
        history.set(Vec::new());
        cursor.set(Cursor::first());
        selected.set(Vec::new());
        notice.set(None);
    });

    // A visit by client-side navigation has no server HTML to agree with: the stored columns
    // apply at once, so the first list fetched is already the right one.
    #[cfg(feature = "hydrate")]
    {
        let hydrating = Owner::current_shared_context().is_some_and(|c| c.during_hydration());
        if !hydrating
            && let Some(conn) = stash::active_connection_untracked()
            && let Some(saved) = stash::load::<Vec<String>>(&conn, &columns_key(&module))
        {
            columns.set(saved);
        }
    }
    // After hydration: remember this module as the last one, and bring back its columns.
    Effect::new({
        let module = module.clone();
        move |_| {
            if let Some(conn) = stash::active_connection() {
                stash::save(&conn, LAST_MODULE, &module);
                if let Some(saved) = stash::load::<Vec<String>>(&conn, &columns_key(&module))
                    && saved != columns.get_untracked()
                {
                    columns.set(saved);
                }
            }
        }
    });

    // Pages asked for by this browser and not yet in: what "Loading…" says. Counted here, not
    // taken from the Transition, whose pending state can stay set after hydration.
    let in_flight = RwSignal::new(0u32);
    // Set while a live re-read is on its way: quiet (nobody asked for it; the rows shown stay
    // until the new ones are in), and what it brings that was not shown is new.
    let live_reread = StoredValue::new(false);
    let page = Resource::new(
        {
            let module = module.clone();
            move || {
                let q = query.get();
                let c = cursor.get();
                ListArgs {
                    module: module.clone(),
                    columns: columns.get(),
                    sort: sort.get(),
                    ascending: ascending.get(),
                    per_page: per_page.get(),
                    page: c.page,
                    page_token: c.token,
                    text: q.text,
                    conditions: q.conditions,
                    match_any: q.match_any,
                }
            }
        },
        move |args| {
            let busy = (!live_reread.get_value()).then(|| InFlight::start(in_flight));
            async move {
                let page = list_records(args).await;
                drop(busy);
                page
            }
        },
    );
    let pending = Signal::derive(move || in_flight.get() > 0);
    let reload = Callback::new(move |()| {
        selected.set(Vec::new());
        page.refetch();
    });
    // The rows shown before a live re-read: those it brings that were not among them are new.
    // (A page holds at most 200 rows: plain lists, which the main chunk has code for already.)
    let shown_ids = StoredValue::new(None::<Vec<String>>);
    crate::live::on_change(
        {
            let module = module.clone();
            move |c| c.touches(&module, None)
        },
        move || {
            live_reread.set_value(true);
            page.refetch();
        },
    );
    let fresh_rows = move |p: &RecordsPage| {
        let ids: Vec<String> = p.rows.iter().map(|r| r.id.clone()).collect();
        let fresh = match shown_ids.get_value() {
            Some(before) if live_reread.get_value() => ids
                .iter()
                .filter(|id| !before.contains(id))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        live_reread.set_value(false);
        shown_ids.set_value(Some(ids));
        fresh
    };

    // Outside the suspended part: a title the server writes into the head at once (one written
    // while streaming would land in the body, and not where hydration looks for it).
    let title = crate::page_title(&[&module.replace('_', " ")]);
    view! {
        <leptos_meta::Title text=title />
        <section class="records">
            <Suspense fallback=|| view! { <ListPlaceholder /> }>
                {move || {
                    meta.get()
                        .map(|r| match r {
                            Ok(meta) => {
                                let ModuleMeta { module: info, fields, filters, default_columns } = meta;
                                let filters = StoredValue::new(filters);
                                let first_field = default_columns.first().cloned().unwrap_or_default();
                                view! {
                                    <header class="records-head">
                                        <h1>{info.plural.clone()}</h1>
                                        {fields.iter().any(|f| f.api_name == "Stage").then(|| view! {
                                            <a href=format!("/m/{}?view=board", info.api_name) class="view-switch">"Board"</a>
                                        })}
                                        <super::GoButton href=format!("/m/{}/new", info.api_name) label="New" class="primary" />
                                    </header>
                                    <SearchBox query restart />
                                    <ConditionChips filters query restart />
                                    <FilterBox filters first_field query restart />
                                    <div class="toolbar">
                                        <ColumnPicker
                                            fields
                                            defaults=default_columns
                                            columns
                                            module=info.api_name.clone()
                                            restart
                                        />
                                        <SortControls sort ascending per_page query restart />
                                    </div>
                                    <Transition
                                        fallback=|| view! { <ListPlaceholder /> }
                                    >
                                        {move || {
                                            page.get()
                                                .map(|r| match r {
                                                    Ok(p) => {
                                                        let fresh = fresh_rows(&p);
                                                        view! { <Listing p cursor history pending selected reload report notice fresh /> }.into_any()
                                                    }
                                                    Err(e) => {
                                                        view! { <Problem error=e retry=reload /> }.into_any()
                                                    }
                                                })
                                        }}
                                    </Transition>
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! { <Problem error=e retry=Callback::new(move |()| meta.refetch()) /> }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

/// What a list shows while its first page loads: the shape of a table.
#[component]
fn ListPlaceholder() -> impl IntoView {
    view! {
        <div class="placeholder" aria-busy="true" aria-label="Loading records">
            // Static markup only: a fallback the server streams is swapped out before hydration.
            <div class="ph ph-title"></div>
            <div class="ph ph-line"></div>
            <div class="ph ph-line"></div>
            <div class="ph ph-line"></div>
            <div class="ph ph-line short"></div>
        </div>
    }
}

/// The searchbox "Search": a word, an email or a phone number.
#[component]
fn SearchBox(query: RwSignal<Query>, restart: Callback<()>) -> impl IntoView {
    let typed = RwSignal::new(query.read_untracked().text.clone().unwrap_or_default());
    // Back to an earlier search shows its words again.
    Effect::new(move |_| {
        let text = query.read().text.clone().unwrap_or_default();
        if text != typed.get_untracked().trim() {
            typed.set(text);
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = typed.get_untracked();
        let text = text.trim();
        query.set(Query {
            text: (!text.is_empty()).then(|| text.to_owned()),
            ..Query::default()
        });
        restart.run(());
    };
    let clear = move |_| {
        typed.set(String::new());
        query.set(Query::default());
        restart.run(());
    };
    view! {
        <form role="search" class="search" on:submit=on_submit>
            <input
                type="search"
                aria-label="Search"
                placeholder="Search by word, email or phone"
                maxlength="200"
                prop:value=move || typed.get()
                on:input=move |ev| typed.set(event_target_value(&ev))
            />
            <button type="submit">"Find"</button>
            <Show when=move || query.read().is_active()>
                <button type="button" on:click=clear>
                    "Clear search"
                </button>
            </Show>
        </form>
    }
}

/// One condition as it is being edited.
#[derive(Clone, Copy)]
struct ConditionRow {
    key: usize,
    field: RwSignal<String>,
    op: RwSignal<ConditionOp>,
    value: RwSignal<String>,
}

impl ConditionRow {
    fn new(key: usize, field: String) -> Self {
        ConditionRow {
            key,
            field: RwSignal::new(field),
            op: RwSignal::new(ConditionOp::Equals),
            value: RwSignal::new(String::new()),
        }
    }
}

/// The conditions in force as chips, each removable. Drawn once the page is up (the chips'
/// code is a chunk of its own, which a list without conditions never fetches).
#[component]
fn ConditionChips(
    filters: StoredValue<Vec<FilterField>>,
    query: RwSignal<Query>,
    restart: Callback<()>,
) -> impl IntoView {
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    view! {
        <Show when=move || mounted.get() && !query.read().conditions.is_empty()>
            <Suspense>{move || Suspend::new(condition_chips(filters, query, restart))}</Suspense>
        </Show>
    }
}

/// The chips, from their own chunk.
#[lazy]
fn condition_chips(
    filters: StoredValue<Vec<FilterField>>,
    query: RwSignal<Query>,
    restart: Callback<()>,
) -> AnyView {
    view! { <Chips filters query restart /> }.into_any()
}

#[component]
fn Chips(
    filters: StoredValue<Vec<FilterField>>,
    query: RwSignal<Query>,
    restart: Callback<()>,
) -> impl IntoView {
    let words = move |c: &Condition| {
        let field = filters.with_value(|f| f.iter().find(|x| x.api_name == c.field).cloned());
        let label = field.as_ref().map_or(c.field.clone(), |f| f.label.clone());
        let value = field
            .and_then(|f| f.choices.into_iter().find(|ch| ch.value == c.value))
            .map_or(c.value.clone(), |ch| ch.label);
        format!("{label} {} {value}", c.operator.words())
    };
    view! {
            <ul class="chips" aria-label="Conditions in force">
                {move || {
                    let q = query.get();
                    let joiner = if q.match_any { "or" } else { "and" };
                    q.conditions
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            let text = words(c);
                            view! {
                                <li class="chip">
                                    {(i > 0).then(|| view! { <span class="joiner">{joiner}</span> })}
                                    <span class="chip-name">{text.clone()}</span>
                                    <button
                                        type="button"
                                        class="chip-remove"
                                        aria-label=format!("Remove {text}")
                                        on:click=move |_| {
                                            query.update(|q| {
                                                if i < q.conditions.len() {
                                                    q.conditions.remove(i);
                                                }
                                            });
                                            restart.run(());
                                        }
                                    >
                                        "×"
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
    }
}

/// Where the builder goes: "Conditions", folded, its controls a WASM chunk of their own that
/// the browser fetches when the person first opens it (a list's first visit does not pay for it).
#[component]
fn FilterBox(
    filters: StoredValue<Vec<FilterField>>,
    first_field: String,
    query: RwSignal<Query>,
    restart: Callback<()>,
) -> impl IntoView {
    // Open at once (and fetched after mount) when the URL brings conditions.
    let open = !query.read_untracked().conditions.is_empty();
    view! {
        <Folded
            class="filter-box"
            summary="Conditions"
            open
            load=move || condition_builder(filters, first_field.clone(), query, restart)
        />
    }
}

/// The builder, from its own chunk.
#[lazy]
fn condition_builder(
    filters: StoredValue<Vec<FilterField>>,
    first_field: String,
    query: RwSignal<Query>,
    restart: Callback<()>,
) -> AnyView {
    view! { <Filter filters first_field query restart /> }.into_any()
}

/// The criteria builder, folded away until wanted: up to ten conditions (field, operator,
/// value — a picklist's values, a date's calendar, a lookup's names), all or any of them.
#[component]
fn Filter(
    filters: StoredValue<Vec<FilterField>>,
    first_field: String,
    query: RwSignal<Query>,
    restart: Callback<()>,
) -> impl IntoView {
    let next_key = StoredValue::new(1usize);
    let blank = first_field.clone();
    // Each row gets a key never used before, so the list renders the new rows (with their own
    // signals) rather than keeping old ones under the same key.
    let from_query = move |q: &Query| -> Vec<ConditionRow> {
        let base = next_key.get_value();
        next_key.set_value(base + q.conditions.len().max(1));
        if q.conditions.is_empty() {
            return vec![ConditionRow::new(base, blank.clone())];
        }
        q.conditions
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let row = ConditionRow::new(base + i, c.field.clone());
                row.op.set(c.operator);
                row.value.set(c.value.clone());
                row
            })
            .collect()
    };
    let rows = RwSignal::new(from_query(&query.read_untracked()));
    let any = RwSignal::new(query.read_untracked().match_any);
    let entered = move || -> Vec<Condition> {
        rows.get_untracked()
            .iter()
            .map(|r| Condition {
                field: r.field.get_untracked(),
                operator: r.op.get_untracked(),
                value: r.value.get_untracked(),
            })
            .filter(|c| !c.value.trim().is_empty())
            .collect()
    };
    // A chip removed, or Back: the builder shows the conditions in force. The new rows' signals
    // belong to the builder, not to this effect (whose next run would dispose them).
    let builder = Owner::current();
    Effect::new(move |_| {
        let q = query.get();
        if q.conditions != entered() {
            let fresh = match &builder {
                Some(owner) => owner.with(|| from_query(&q)),
                None => from_query(&q),
            };
            next_key.set_value(fresh.iter().map(|r| r.key + 1).max().unwrap_or(1));
            rows.set(fresh);
            any.set(q.match_any);
        }
    });
    let add = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        rows.write()
            .push(ConditionRow::new(key, first_field.clone()));
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        query.set(Query {
            text: None,
            conditions: entered(),
            match_any: any.get_untracked(),
        });
        restart.run(());
    };
    let many = move || rows.read().len() > 1;
    view! {
            <form class="filter" on:submit=on_submit aria-label="Filter">
                <For each=move || rows.get() key=|r| r.key let:row>
                    <ConditionFields row rows filters />
                </For>
                <div class="filter-actions">
                    <Show when=many>
                        <label for="match">"Match"</label>
                        <select id="match" on:change=move |ev| any.set(event_target_value(&ev) == "any")>
                            <option value="all" selected=move || !any.get()>
                                "all conditions"
                            </option>
                            <option value="any" selected=move || any.get()>
                                "any condition"
                            </option>
                        </select>
                    </Show>
                    <button
                        type="button"
                        class="ghost"
                        disabled=move || { rows.read().len() >= MAX_CONDITIONS }
                        on:click=add
                    >
                        "Add condition"
                    </button>
                    <button type="submit">"Filter"</button>
                </div>
            </form>
    }
}

/// One condition's field, operator and value, in a group named "Condition N". The value's
/// control follows the field: a picklist's values, a date input, names found in a lookup's
/// module, a number, or text.
#[component]
fn ConditionFields(
    row: ConditionRow,
    rows: RwSignal<Vec<ConditionRow>>,
    filters: StoredValue<Vec<FilterField>>,
) -> impl IntoView {
    let position = move || {
        rows.read()
            .iter()
            .position(|r| r.key == row.key)
            .map_or(0, |p| p + 1)
    };
    let id = move |what: &str| format!("cond-{}-{what}", row.key);
    let remove = move |_| rows.write().retain(|r| r.key != row.key);
    let field = move || {
        let name = row.field.get();
        filters.with_value(|f| f.iter().find(|x| x.api_name == name).cloned())
    };
    let value_control = move || {
        let f = field();
        let kind = f.as_ref().map_or(FilterKind::Text, |f| f.kind);
        match (kind, f) {
            (FilterKind::Picklist, Some(f)) => view! {
                <select
                    id=id("value")
                    on:change=move |ev| row.value.set(event_target_value(&ev))
                >
                    <option value="" selected=move || row.value.get().is_empty()>"—"</option>
                    {f.choices
                        .into_iter()
                        .map(|c| {
                            let v = c.value.clone();
                            view! { <option value=c.value selected=move || row.value.get() == v>{c.label}</option> }
                        })
                        .collect_view()}
                </select>
            }
                .into_any(),
            (FilterKind::Lookup, Some(f)) => {
                view! { <LookupNames id=id("value") row module=f.lookup_module.unwrap_or_default() /> }.into_any()
            }
            (kind, _) => view! {
                <input
                    id=id("value")
                    type=match kind {
                        FilterKind::Date => "date",
                        FilterKind::Number => "number",
                        _ => "text",
                    }
                    step=(kind == FilterKind::Number).then_some("any")
                    maxlength="255"
                    prop:value=move || row.value.get()
                    on:input=move |ev| row.value.set(event_target_value(&ev))
                />
            }
                .into_any(),
        }
    };
    view! {
        <fieldset class="condition">
            <legend class="sr-only">{move || format!("Condition {}", position())}</legend>
            <label for=id("field")>"Field"</label>
            <select
                id=id("field")
                on:change=move |ev| {
                    row.field.set(event_target_value(&ev));
                    row.value.set(String::new());
                }
            >
                {filters
                    .get_value()
                    .into_iter()
                    .map(|c| {
                        let api = c.api_name.clone();
                        view! {
                            <option value=c.api_name selected=move || row.field.get() == api>
                                {c.label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <label for=id("op")>"Operator"</label>
            <select
                id=id("op")
                on:change=move |ev| {
                    if let Some(op) = ConditionOp::parse(&event_target_value(&ev)) {
                        row.op.set(op);
                    }
                }
            >
                {ConditionOp::ALL.map(|op| {
                    view! {
                        <option value=op.as_str() selected=move || row.op.get() == op>
                            {op.words()}
                        </option>
                    }
                })}
            </select>
            <label for=id("value")>"Value"</label>
            {value_control}
            <Show when=move || { rows.read().len() > 1 }>
                <button
                    type="button"
                    class="ghost"
                    aria-label=move || format!("Remove condition {}", position())
                    on:click=remove
                >
                    "Remove"
                </button>
            </Show>
        </fieldset>
    }
}

/// A lookup condition's value: a name, with the names Zoho finds in `module` offered as the
/// person types (the browser's own suggestion list).
#[component]
fn LookupNames(id: String, row: ConditionRow, module: String) -> impl IntoView {
    let found = RwSignal::new(Vec::<String>::new());
    let asked = StoredValue::new(0u32);
    let module = StoredValue::new(module);
    let list_id = format!("{id}-names");
    view! {
        <input
            id=id
            list=list_id.clone()
            maxlength="255"
            autocomplete="off"
            prop:value=move || row.value.get()
            on:input=move |ev| {
                let text = event_target_value(&ev);
                row.value.set(text.clone());
                let n = asked.get_value() + 1;
                asked.set_value(n);
                spawn_local(async move {
                    let names = super::find_lookup(module.get_value(), text).await.unwrap_or_default();
                    if asked.get_value() == n {
                        found.set(names.into_iter().map(|r| r.name).collect());
                    }
                });
            }
        />
        <datalist id=list_id>
            {move || found.get().into_iter().map(|n| view! { <option value=n></option> }).collect_view()}
        </datalist>
    }
}

/// Order and page size. Zoho's search has no order, so the order waits while a search is on.
#[component]
fn SortControls(
    sort: RwSignal<SortKey>,
    ascending: RwSignal<bool>,
    per_page: RwSignal<u32>,
    query: RwSignal<Query>,
    restart: Callback<()>,
) -> impl IntoView {
    let searching = move || query.read().is_active();
    view! {
        <label for="sort-by">"Sort by"</label>
        <select
            id="sort-by"
            disabled=searching
            on:change=move |ev| {
                if let Some(key) = SortKey::parse(&event_target_value(&ev)) {
                    sort.set(key);
                    restart.run(());
                }
            }
        >
            {SortKey::ALL.map(|k| view! { <option value=k.as_str() selected=move || sort.get() == k>{k.label()}</option> })}
        </select>
        <button
            type="button"
            disabled=searching
            on:click=move |_| {
                ascending.update(|a| *a = !*a);
                restart.run(());
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
                    restart.run(());
                }
            }
        >
            // An array, not a Vec: its options need no marker nodes (which a <select> streamed
            // inside a <template> does not keep).
            {ROW_CHOICES.map(|n| {
                view! { <option value=n.to_string() selected=move || per_page.get() == n>{n.to_string()}</option> }
            })}
        </select>
    }
}

/// A page of records and the way to the pages around it.
#[component]
fn Listing(
    p: RecordsPage,
    cursor: RwSignal<Cursor>,
    history: RwSignal<Vec<Cursor>>,
    pending: Signal<bool>,
    selected: RwSignal<Vec<String>>,
    reload: Callback<()>,
    report: RwSignal<Option<Result<String, AppError>>>,
    notice: RwSignal<Option<String>>,
    /// Rows a live re-read brought that were not shown before.
    fresh: Vec<String>,
) -> impl IntoView {
    if let Some(note) = p.note.clone() {
        // The link named a page there is no more: say so, and make the URL the first page's.
        notice.set(Some(note));
        history.set(Vec::new());
        // In the browser only: the server renders the page it was given, with the note.
        #[cfg(feature = "hydrate")]
        queue_microtask(move || cursor.set(Cursor::first()));
    }
    let next = Cursor {
        page: cursor.get_untracked().page + 1,
        token: if p.searched {
            None
        } else {
            p.next_token.clone()
        },
    };
    let has_next = p.more;
    let module = p.module.clone();
    view! {
        <p class="loading" role="status">
            {move || if pending.get() { "Loading…" } else { "" }}
        </p>
        <div class="list-notice">{move || notice.get().map(|n| view! { <p class="notice">{n}</p> })}</div>
        <BulkDelete module=module.clone() selected reload report />
        <div class="table-wrap" aria-busy=move || pending.get().to_string()>
            <RecordsTable page=p module=module.api_name selected fresh />
        </div>
        <nav class="pager" aria-label="Pages">
            <button
                type="button"
                disabled=move || (history.read().is_empty() && cursor.read().page <= 1) || pending.get()
                on:click=move |_| {
                    // After a reload the way back is by number, as far as Zoho numbers pages.
                    let prev = history.write().pop().or_else(|| {
                        let page = cursor.get_untracked().page.saturating_sub(1).max(1);
                        Some(Cursor { page, token: None })
                    });
                    if let Some(prev) = prev {
                        selected.set(Vec::new());
                        cursor.set(prev);
                    }
                }
            >
                "Previous page"
            </button>
            <span class="page-no">{move || format!("Page {}", cursor.get().page)}</span>
            <button
                type="button"
                // Not while the next page is on its way: a second press would ask for it again.
                disabled=move || !has_next || pending.get()
                on:click=move |_| {
                    history.write().push(cursor.get_untracked());
                    selected.set(Vec::new());
                    cursor.set(next.clone());
                }
            >
                "Next page"
            </button>
        </nav>
    }
}

#[component]
fn RecordsTable(
    page: RecordsPage,
    module: String,
    selected: RwSignal<Vec<String>>,
    fresh: Vec<String>,
) -> impl IntoView {
    if page.rows.is_empty() {
        let words = if page.searched {
            format!("No {} match this search.", page.module.plural)
        } else {
            format!("No {} yet.", page.module.plural)
        };
        let new = format!("New {}", page.module.singular);
        return view! {
            <p class="empty">
                {words}
                " "
                <a href=format!("/m/{module}/new")>{new}</a>
            </p>
        }
        .into_any();
    }
    let ids: Vec<String> = page.rows.iter().map(|r| r.id.clone()).collect();
    let all_ids = StoredValue::new(ids);
    let all_checked = move || {
        let sel = selected.read();
        all_ids.with_value(|ids| !ids.is_empty() && ids.iter().all(|i| sel.contains(i)))
    };
    view! {
        <table>
            <thead>
                <tr>
                    <th scope="col" class="select">
                        <input
                            type="checkbox"
                            aria-label="Select all on this page"
                            prop:checked=all_checked
                            on:change=move |ev| {
                                if event_target_checked(&ev) {
                                    selected.set(all_ids.get_value());
                                } else {
                                    selected.set(Vec::new());
                                }
                            }
                        />
                    </th>
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
                        let is_new = fresh.contains(&row.id);
                        let id = StoredValue::new(row.id.clone());
                        view! {
                            <tr class:new-row=is_new>
                                <td class="select">
                                    <input
                                        type="checkbox"
                                        aria-label=format!("Select {label}")
                                        prop:checked=move || selected.read().contains(&id.get_value())
                                        on:change=move |ev| {
                                            let id = id.get_value();
                                            selected.update(|s| {
                                                s.retain(|x| *x != id);
                                                if event_target_checked(&ev) {
                                                    s.push(id);
                                                }
                                            });
                                        }
                                    />
                                </td>
                                <td>
                                    <a href=href>{label}</a>
                                    {is_new.then(|| view! { <span class="badge-new">"New"</span> })}
                                </td>
                                {cells.map(|c| view! { <td>{c}</td> }).collect_view()}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }.into_any()
}
