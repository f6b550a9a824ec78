//! The History section: Zoho's timeline of the record, newest first — who did what and when,
//! and for a change each field from what to what; "Show older" reads the next page. It reads
//! the first page again when the record, its notes or its activities change.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{HistoryEntry, Placeholder, record_history};
use crate::records::Problem;

#[component]
pub fn HistorySection(module: String, id: String) -> impl IntoView {
    let key = StoredValue::new((module, id));
    let first = LocalResource::new(move || {
        let (m, id) = key.get_value();
        record_history(m, id, None)
    });
    // Older pages, appended as they are asked for.
    let older = RwSignal::new(Vec::<HistoryEntry>::new());
    let next = RwSignal::new(None::<Option<String>>);
    let loading = RwSignal::new(false);
    let problem = RwSignal::new(None::<crate::AppError>);
    // Live: a change to the record, its notes or its activities starts the history afresh.
    {
        let (module, id) = key.get_value();
        crate::live::on_change(
            move |c| c.keeps(&module, &id) || c.touches_notes() || c.touches_activities(),
            move || {
                older.set(Vec::new());
                next.set(None);
                first.refetch();
            },
        );
    }
    let token = move || match next.get() {
        Some(t) => t,
        None => first.get().and_then(|r| r.ok()).and_then(|p| p.next),
    };
    let more = move |_| {
        let Some(t) = token() else {
            return;
        };
        loading.set(true);
        let (m, id) = key.get_value();
        spawn_local(async move {
            let result = record_history(m, id, Some(t)).await;
            loading.set(false);
            match result {
                Ok(page) => {
                    older.update(|o| o.extend(page.entries));
                    next.set(Some(page.next));
                    problem.set(None);
                }
                Err(e) => problem.set(Some(e)),
            }
        });
    };
    view! {
        <section class="record-section history" aria-labelledby="history-heading">
            <h2 id="history-heading">"History"</h2>
            <Suspense fallback=|| view! { <Placeholder label="Loading the history" /> }>
                {move || {
                    first
                        .get()
                        .map(|r| match r {
                            Ok(page) => view! {
                                <ol class="timeline">
                                    {page.entries.into_iter().map(|e| view! { <Entry e /> }).collect_view()}
                                    <For each=move || older.get() key=|e| e.id.clone() let:e>
                                        <Entry e />
                                    </For>
                                </ol>
                                <Show when=move || token().is_some()>
                                    <button type="button" class="ghost" disabled=move || loading.get() on:click=more>
                                        "Show older"
                                    </button>
                                </Show>
                                {move || problem.get().map(|e| view! { <Problem error=e /> })}
                            }
                                .into_any(),
                            Err(e) => view! { <Problem error=e retry=Callback::new(move |()| first.refetch()) /> }
                                .into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn Entry(e: HistoryEntry) -> impl IntoView {
    view! {
        <li class="timeline-entry">
            <p>
                <strong>{e.who}</strong>
                " "
                {e.what}
                {e.when.map(|t| view! { " · " <crate::time::LocalTime iso=t.clone() fallback=t /> })}
            </p>
            {(!e.changes.is_empty()).then(|| view! {
                <ul class="changes">
                    {e.changes.into_iter().map(|c| view! {
                        <li>
                            <span class="change-label">{c.label}</span>": "
                            <span class="old">{if c.old.is_empty() { "—".to_owned() } else { c.old }}</span>
                            " → "
                            <span class="new">{if c.new.is_empty() { "—".to_owned() } else { c.new }}</span>
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </li>
    }
}
