//! The list's records: the order and page-size controls, the table, and the way to the pages
//! around it.

use leptos::prelude::*;

use super::state::ROW_CHOICES;
use super::tools::BulkDelete;
use super::{Cursor, Query};
use crate::AppError;
use crate::records::{RecordsPage, SortKey};

/// Order and page size. Zoho's search has no order, so the order waits while a search is on.
#[component]
pub(super) fn SortControls(
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
pub(super) fn Listing(
    p: RecordsPage,
    cursor: RwSignal<Cursor>,
    history: RwSignal<Vec<Cursor>>,
    pending: Signal<bool>,
    selected: RwSignal<Vec<String>>,
    reload: Callback<()>,
    report: RwSignal<Option<Result<String, AppError>>>,
    /// The selection's open dialog (kept by the list, above this).
    bulk_open: RwSignal<Option<super::tools::Open>>,
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
        <BulkDelete module=module.clone() selected reload report open=bulk_open />
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
    // The row whose record is being opened: the record page (its chunk, its data) may take a
    // moment on a slow phone, and the URL changes only once it is ready, so the row says so at
    // once (`aria-busy`, and a progress bar in its first cell).
    let opening = RwSignal::new(None::<String>);
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
                        let busy = move || {
                            opening.with(|o| id.with_value(|i| o.as_deref() == Some(i.as_str())))
                        };
                        let progress_label = format!("Opening {label}");
                        view! {
                            <tr class:new-row=is_new aria-busy=move || busy().then_some("true")>
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
                                    <a
                                        href=href
                                        on:click=move |ev| {
                                            // A plain click opens it here; one with a modifier
                                            // opens another tab, and this page stays as it is.
                                            if ev.button() == 0 && !ev.ctrl_key() && !ev.meta_key()
                                                && !ev.shift_key() && !ev.alt_key()
                                            {
                                                opening.set(Some(id.get_value()));
                                            }
                                        }
                                    >
                                        {label}
                                    </a>
                                    {is_new.then(|| view! { <span class="badge-new">"New"</span> })}
                                    {move || {
                                        busy()
                                            .then(|| {
                                                view! {
                                                    <progress class="opening" aria-label=progress_label.clone()></progress>
                                                }
                                            })
                                    }}
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
