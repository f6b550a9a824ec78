//! The list's records: the page size, the table (its headers order it), the rows shown and how
//! many there are, and the way to the pages around it.

use leptos::prelude::*;

use super::Cursor;
use super::Order;
use super::state::ROW_CHOICES;
use super::tools::BulkDelete;
use crate::AppError;
use crate::records::RecordsPage;

/// How many rows a page shows.
#[component]
pub(super) fn PageSize(per_page: RwSignal<u32>, restart: Callback<()>) -> impl IntoView {
    view! {
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

/// `2,500`: a count with its thousands apart.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (at, d) in digits.chars().enumerate() {
        if at > 0 && (digits.len() - at).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// "1–50 of 2,500": the rows shown and how many the list holds ("about" when Zoho's count
/// disagrees with the pages; the range alone where Zoho cannot count).
pub fn range_words(first: u64, shown: usize, total: Option<u64>, about: bool) -> String {
    let last = first + shown as u64 - 1;
    let range = format!("{}–{}", grouped(first), grouped(last));
    match total {
        Some(t) if about => format!("{range} of about {}", grouped(t)),
        Some(t) => format!("{range} of {}", grouped(t)),
        None => range,
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
    order: Order,
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
    let range = (!p.rows.is_empty()).then(|| range_words(p.first, p.rows.len(), p.total, p.about));
    let order_note = p.order_note.clone();
    // The order asked for could not be had: no header says it is in force.
    let zoho_order = order_note.is_some();
    view! {
        <p class="loading" role="status">
            {move || if pending.get() { "Loading…" } else { "" }}
        </p>
        <div class="list-notice">{move || notice.get().map(|n| view! { <p class="notice">{n}</p> })}</div>
        {order_note.map(|n| view! { <p class="notice order-note">{n}</p> })}
        {range.map(|r| view! { <p class="range">{r}</p> })}
        <BulkDelete module=module.clone() selected reload report open=bulk_open />
        <div class="table-wrap" aria-busy=move || pending.get().to_string()>
            <RecordsTable page=p module=module.api_name selected fresh order zoho_order />
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

/// A column's header: a sortable one is a button that orders the list by it, ascending first,
/// then descending; its `aria-sort` says the order in force.
fn header(c: &crate::records::Column, order: Order, zoho_order: bool) -> AnyView {
    let label = c.label.clone();
    if !c.sortable {
        return view! { <th scope="col">{label}</th> }.into_any();
    }
    let api = StoredValue::new(c.api_name.clone());
    let Order {
        sort,
        ascending,
        restart,
    } = order;
    let mine =
        move || !zoho_order && sort.with(|s| api.with_value(|a| s.as_deref() == Some(a.as_str())));
    let aria = move || match (mine(), ascending.get()) {
        (true, true) => "ascending",
        (true, false) => "descending",
        (false, _) => "none",
    };
    let click = move |_| {
        if mine() && ascending.get_untracked() {
            ascending.set(false);
        } else {
            sort.set(Some(api.get_value()));
            ascending.set(true);
        }
        restart.run(());
    };
    // The arrow is for the eye: `aria-sort` says the order, and the button keeps its name.
    let arrow = move || match aria() {
        "ascending" => " ▲",
        "descending" => " ▼",
        _ => "",
    };
    view! {
        <th scope="col" aria-sort=aria>
            <button type="button" class="sort" on:click=click>
                {label}
                <span aria-hidden="true">{arrow}</span>
            </button>
        </th>
    }
    .into_any()
}

#[component]
fn RecordsTable(
    page: RecordsPage,
    module: String,
    selected: RwSignal<Vec<String>>,
    fresh: Vec<String>,
    order: Order,
    zoho_order: bool,
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
                    {page.columns.iter().map(|c| header(c, order, zoho_order)).collect_view()}
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_and_total_read_as_people_write_them() {
        assert_eq!(range_words(1, 50, Some(2500), false), "1–50 of 2,500");
        assert_eq!(
            range_words(51, 50, Some(2500), true),
            "51–100 of about 2,500"
        );
        assert_eq!(range_words(1, 7, None, false), "1–7");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
    }
}
