//! `/m/{Module}`: a module's records as a table. Columns come from Zoho's field metadata and are
//! the user's to choose (kept in this browser per connection and module); the list sorts, pages
//! through everything with Zoho's page tokens, and searches by text or by conditions. While a
//! page loads the last one stays on screen, marked busy, so a slow Zoho never freezes the page.
//! It is live: when anyone changes the module's records the page is read again — changed rows
//! show their new values, a row that was not there before is marked new, a deleted one goes.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

mod filter;
pub(super) mod state;
mod table;
mod tools;
mod views;

use filter::{ConditionChips, FilterBox, SearchBox};
use state::ListState;
use state::{ViewRef, columns_key};
use table::{Listing, PageSize};
use tools::ColumnPicker;

use super::widgets::LAST_MODULE;
use super::{Condition, ModuleMeta, Problem, RecordsPage, describe_module, list_records};
use crate::AppError;
use crate::stash;

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

/// The list's state a view reads and sets: a saved view is its conditions, columns, order and
/// page size; an org view is Zoho's.
#[derive(Clone, Copy)]
struct ListSignals {
    view: RwSignal<Option<ViewRef>>,
    query: RwSignal<Query>,
    columns: RwSignal<Vec<String>>,
    sort: RwSignal<Option<String>>,
    ascending: RwSignal<bool>,
    per_page: RwSignal<u32>,
}

impl ListSignals {
    /// The conditions in force and whether any one is enough.
    fn conditions(&self) -> (Vec<crate::records::Condition>, bool) {
        let q = self.query.get_untracked();
        (q.conditions, q.match_any)
    }
}

/// How the table's headers order the list.
#[derive(Clone, Copy)]
pub(super) struct Order {
    sort: RwSignal<Option<String>>,
    ascending: RwSignal<bool>,
    restart: Callback<()>,
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
    let view = RwSignal::new(start.view.clone());
    let sort = RwSignal::new(start.sort.clone());
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
            view: view.get(),
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
            view.set(s.view);
            sort.set(s.sort);
            ascending.set(s.ascending);
            per_page.set(s.per_page);
            cursor.set(Cursor {
                page: s.page,
                token: s.token,
            });
        }
    });
    // A view's columns are its own while it is chosen: an org view's are Zoho's (none asked
    // for), the plain list's this browser's choice; a saved view's are set where it is applied.
    // Back and Forward change the view too, so this follows the view, whatever changed it.
    Effect::watch(
        move || view.get(),
        {
            let module = module.clone();
            move |now, _, _| match now {
                Some(ViewRef::Org(_)) => columns.set(Vec::new()),
                None => columns.set(
                    stash::active_connection_untracked()
                        .and_then(|conn| stash::load::<Vec<String>>(&conn, &columns_key(&module)))
                        .unwrap_or_default(),
                ),
                Some(ViewRef::Saved(_)) => {}
            }
        },
        false,
    );
    // What the last bulk delete did; kept here, as the listing is rebuilt when the page reloads.
    let report = RwSignal::new(None::<Result<String, AppError>>);
    // The selection's open dialog, kept here for the same reason.
    let bulk_open = RwSignal::new(None::<tools::Open>);
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
        // An org view's columns are its own while it is chosen.
        let org_view = matches!(view.get_untracked(), Some(ViewRef::Org(_)));
        if !hydrating
            && !org_view
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
                if matches!(view.get_untracked(), Some(ViewRef::Org(_))) {
                    return;
                }
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
            move || state().args(module.clone(), columns.get())
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
                                        <views::ViewBar
                                            module=info.clone()
                                            state=ListSignals { view, query, columns, sort, ascending, per_page }
                                        />
                                        <ColumnPicker
                                            fields
                                            defaults=default_columns
                                            columns
                                            module=info.api_name.clone()
                                            restart
                                            kept=Signal::derive(move || view.get().is_none())
                                            shown_now=Signal::derive(move || {
                                                page.get()
                                                    .and_then(Result::ok)
                                                    .map(|p| p.columns.into_iter().map(|c| c.api_name).collect())
                                                    .unwrap_or_default()
                                            })
                                        />
                                        <PageSize per_page restart />
                                    </div>
                                    <Transition
                                        fallback=|| view! { <ListPlaceholder /> }
                                    >
                                        {move || {
                                            page.get()
                                                .map(|r| match r {
                                                    Ok(p) => {
                                                        let fresh = fresh_rows(&p);
                                                        let order = Order { sort, ascending, restart };
                                                        view! { <Listing p cursor history pending selected reload report bulk_open notice fresh order /> }.into_any()
                                                    }
                                                    Err(e) => {
                                                        view! { <Problem error=e retry=reload /> }.into_any()
                                                    }
                                                })
                                        }}
                                    </Transition>
                                    <tools::BulkDialogs module=info.clone() selected reload report open=bulk_open />
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
