//! The list's tools a first visit need not download: the column choice and the selection's
//! actions. Each is a WASM chunk of its own (in a split build), fetched when first used — the
//! columns when "Columns" is opened, the actions when a row is first selected.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::state::columns_key;
use crate::AppError;
use crate::records::widgets::Folded;
use crate::records::{Column, MAX_COLUMNS, ModuleDto, Problem, delete_records};
use crate::stash;

/// Which fields are the columns: "Columns", folded until opened.
#[component]
pub(super) fn ColumnPicker(
    fields: Vec<Column>,
    defaults: Vec<String>,
    columns: RwSignal<Vec<String>>,
    module: String,
    restart: Callback<()>,
    /// Whether a choice is this browser's to keep: not while a view (with columns of its own)
    /// is chosen.
    kept: Signal<bool>,
    /// The columns the table shows now (a view's own, when one is chosen): what the boxes
    /// start from when no choice is made.
    shown_now: Signal<Vec<String>>,
) -> impl IntoView {
    let args = StoredValue::new((fields, defaults, module));
    view! {
        <Folded
            class="picker"
            summary="Columns"
            load=move || {
                let (fields, defaults, module) = args.get_value();
                column_choices(fields, defaults, columns, module, restart, kept, shown_now)
            }
        />
    }
}

/// The checkboxes, from their own chunk.
#[cfg_attr(any(feature = "ssr", feature = "split"), lazy)]
async fn column_choices(
    fields: Vec<Column>,
    defaults: Vec<String>,
    columns: RwSignal<Vec<String>>,
    module: String,
    restart: Callback<()>,
    kept: Signal<bool>,
    shown_now: Signal<Vec<String>>,
) -> AnyView {
    view! { <ColumnChoices fields defaults columns module restart kept shown_now /> }.into_any()
}

/// The checkboxes, a checkbox per field; the choice is kept per connection and module.
#[component]
fn ColumnChoices(
    fields: Vec<Column>,
    defaults: Vec<String>,
    columns: RwSignal<Vec<String>>,
    module: String,
    restart: Callback<()>,
    kept: Signal<bool>,
    shown_now: Signal<Vec<String>>,
) -> impl IntoView {
    let defaults = StoredValue::new(defaults);
    let module = StoredValue::new(module);
    let shown = move || {
        let chosen = columns.get();
        if !chosen.is_empty() {
            return chosen;
        }
        let now = shown_now.get();
        if now.is_empty() {
            defaults.get_value()
        } else {
            now
        }
    };
    let choose = move |list: Vec<String>| {
        if kept.get_untracked()
            && let Some(conn) = stash::active_connection()
        {
            let key = columns_key(&module.get_value());
            if list.is_empty() {
                stash::remove(&conn, &key);
            } else {
                stash::save(&conn, &key, &list);
            }
        }
        columns.set(list);
        restart.run(());
    };
    view! {
            <fieldset>
                <legend class="sr-only">"Columns shown"</legend>
                {fields
                    .into_iter()
                    .map(|c| {
                        let api = StoredValue::new(c.api_name.clone());
                        let checked = move || shown().contains(&api.get_value());
                        let toggle = move |ev: leptos::ev::Event| {
                            let mut list = shown();
                            let api = api.get_value();
                            if event_target_checked(&ev) {
                                if !list.contains(&api) {
                                    list.push(api);
                                }
                            } else {
                                list.retain(|a| *a != api);
                            }
                            choose(list);
                        };
                        let id = format!("col-{}", c.api_name);
                        view! {
                            <div class="check">
                                <input
                                    type="checkbox"
                                    id=id.clone()
                                    prop:checked=checked
                                    disabled=move || {
                                        let n = shown().len();
                                        (checked() && n == 1) || (!checked() && n >= MAX_COLUMNS)
                                    }
                                    on:change=toggle
                                />
                                <label for=id>{c.label}</label>
                            </div>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <button type="button" class="ghost" on:click=move |_| choose(Vec::new())>
                "Reset columns"
            </button>
    }
}

/// The selection's actions, shown while rows are selected (and what the last delete did).
#[component]
pub(super) fn BulkDelete(
    module: ModuleDto,
    selected: RwSignal<Vec<String>>,
    reload: Callback<()>,
    report: RwSignal<Option<Result<String, AppError>>>,
    open: RwSignal<Option<Open>>,
) -> impl IntoView {
    let module = StoredValue::new(module);
    let wanted = move || !selected.read().is_empty() || report.read().is_some();
    view! {
        <Show when=wanted>
            <Suspense>
                {move || Suspend::new(bulk_actions(module.get_value(), selected, reload, report, open))}
            </Suspense>
        </Show>
    }
}

/// The actions, from their own chunk.
#[cfg_attr(any(feature = "ssr", feature = "split"), lazy)]
async fn bulk_actions(
    module: ModuleDto,
    selected: RwSignal<Vec<String>>,
    reload: Callback<()>,
    report: RwSignal<Option<Result<String, AppError>>>,
    open: RwSignal<Option<Open>>,
) -> AnyView {
    view! { <BulkActions module selected reload report open /> }.into_any()
}

/// Which of the selection's dialogs is open. The list keeps it, outside the listing a live
/// re-read draws anew: a dialog being filled in stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Open {
    Owner,
    Field,
}

/// "Change owner" and "Update field" (dialogs), and "Delete selected", which asks first, then
/// deletes in Zoho's batches; each says how it went.
#[component]
fn BulkActions(
    module: ModuleDto,
    selected: RwSignal<Vec<String>>,
    reload: Callback<()>,
    report: RwSignal<Option<Result<String, AppError>>>,
    open: RwSignal<Option<Open>>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let plural = StoredValue::new(module.plural.clone());
    let api = StoredValue::new(module.api_name.clone());
    let delete = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let ids = selected.get_untracked();
        spawn_local(async move {
            let result = delete_records(api.get_value(), ids).await;
            busy.set(false);
            confirming.set(false);
            report.set(Some(result.map(|out| {
                let mut words = format!("Deleted {} {}.", out.deleted.len(), plural.get_value());
                for p in out.failed {
                    words.push(' ');
                    words.push_str(&p.message);
                }
                words
            })));
            reload.run(());
        });
    };
    view! {
        <Show when=move || !selected.read().is_empty()>
            <div class="bulk" role="region" aria-label="Selected records">
                <span>{move || format!("{} selected", selected.read().len())}</span>
                <Show
                    when=move || confirming.get()
                    fallback=move || {
                        view! {
                            <button type="button" aria-haspopup="dialog" on:click=move |_| open.set(Some(Open::Owner))>
                                "Change owner"
                            </button>
                            <button type="button" aria-haspopup="dialog" on:click=move |_| open.set(Some(Open::Field))>
                                "Update field"
                            </button>
                            <button type="button" class="danger" on:click=move |_| confirming.set(true)>
                                "Delete selected"
                            </button>
                        }
                    }
                >
                    <span role="alertdialog" aria-label="Confirm deletion" class="confirm">
                        {move || format!("Delete {} {}?", selected.read().len(), plural.get_value())}
                        <button type="button" class="danger" disabled=move || busy.get() on:click=delete>
                            "Yes, delete them"
                        </button>
                        <button type="button" on:click=move |_| confirming.set(false)>
                            "Keep them"
                        </button>
                    </span>
                </Show>
            </div>
        </Show>
        {move || {
            report
                .get()
                .map(|r| match r {
                    Ok(words) => view! { <p class="done" role="status">{words}</p> }.into_any(),
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                })
        }}
    }
}

/// The selection's open dialog, from a WASM chunk of its own (fetched when one first opens).
#[component]
pub(super) fn BulkDialogs(
    module: ModuleDto,
    selected: RwSignal<Vec<String>>,
    reload: Callback<()>,
    report: RwSignal<Option<Result<String, AppError>>>,
    open: RwSignal<Option<Open>>,
) -> impl IntoView {
    let module = StoredValue::new(module);
    view! {
        <Show when=move || open.read().is_some()>
            <Suspense>
                {move || Suspend::new(bulk_dialog(module.get_value(), selected, reload, report, open))}
            </Suspense>
        </Show>
    }
}

/// The dialog, from its own chunk.
#[cfg_attr(any(feature = "ssr", feature = "split"), lazy)]
async fn bulk_dialog(
    module: ModuleDto,
    selected: RwSignal<Vec<String>>,
    reload: Callback<()>,
    report: RwSignal<Option<Result<String, AppError>>>,
    open: RwSignal<Option<Open>>,
) -> AnyView {
    let api = StoredValue::new(module.api_name);
    view! {
        {move || {
            let which = open.get()?;
            let module = api.get_value();
            let ids = selected.get_untracked();
            let close = Callback::new(move |()| open.set(None));
            let done = Callback::new(move |r: crate::bulk::BulkReport| {
                let words = match which {
                    Open::Owner => r.words("Changed the owner of"),
                    Open::Field => r.words("Updated"),
                };
                open.set(None);
                report.set(Some(Ok(words)));
                reload.run(());
            });
            Some(match which {
                Open::Owner => view! { <crate::bulk::dialogs::ChangeOwnerDialog module ids close done /> }.into_any(),
                Open::Field => view! { <crate::bulk::dialogs::UpdateFieldDialog module ids close done /> }.into_any(),
            })
        }}
    }
    .into_any()
}
