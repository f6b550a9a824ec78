//! The list's "View" select, "Save view" and "Delete view". Drawn once the page is up, from a
//! WASM chunk of its own (a first visit does not download it). Choosing an org view lists what
//! Zoho's view holds, in its columns and order; choosing a saved view puts its conditions,
//! columns, order and page size in force. The URL names the view (`cv=`, `sv=`).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{SavedView, ViewChoices, ViewDef, delete_view, list_views, save_view};
use crate::records::{ListSignals, ModuleDto, ViewRef, columns_key};
use crate::stash;

/// The views' controls, in the list's toolbar.
#[component]
pub fn ViewBar(module: ModuleDto, state: ListSignals, restart: Callback<()>) -> impl IntoView {
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let module = StoredValue::new(module);
    view! {
        <div class="views">
            <Show when=move || mounted.get()>
                <Suspense>
                    {move || Suspend::new(view_controls(module.get_value(), state, restart))}
                </Suspense>
            </Show>
        </div>
    }
}

/// The controls, from their own chunk.
#[cfg_attr(any(feature = "ssr", feature = "split"), lazy)]
async fn view_controls(module: ModuleDto, state: ListSignals, restart: Callback<()>) -> AnyView {
    view! { <Controls module state restart /> }.into_any()
}

/// The columns this browser keeps for the module (what a list without a view shows).
fn stored_columns(module: &str) -> Vec<String> {
    stash::active_connection_untracked()
        .and_then(|conn| stash::load::<Vec<String>>(&conn, &columns_key(module)))
        .unwrap_or_default()
}

#[component]
fn Controls(module: ModuleDto, state: ListSignals, restart: Callback<()>) -> impl IntoView {
    let api = StoredValue::new(module.api_name.clone());
    let choices = LocalResource::new(move || list_views(api.get_value()));
    let said = RwSignal::new(None::<String>);
    let naming = RwSignal::new(false);
    let known = move || -> Option<ViewChoices> { choices.get().and_then(Result::ok) };
    let saved_view = move |id: &str| -> Option<SavedView> {
        known().and_then(|c| c.saved.into_iter().find(|v| v.id == id))
    };
    // A saved view's columns are its own while it is chosen (a reload, a link, Back).
    Effect::new(move |_| {
        let Some(ViewRef::Saved(id)) = state.view.get() else {
            return;
        };
        if let Some(v) = saved_view(&id)
            && !v.def.columns.is_empty()
            && state.columns.get_untracked() != v.def.columns
        {
            state.columns.set(v.def.columns);
        }
    });
    let apply_saved = move |v: SavedView| {
        let ViewDef {
            conditions,
            match_any,
            columns,
            sort,
            ascending,
            per_page,
        } = v.def;
        state.set_conditions(conditions, match_any);
        state.columns.set(if columns.is_empty() {
            stored_columns(&api.get_value())
        } else {
            columns
        });
        state.sort.set(sort);
        state.ascending.set(ascending);
        state.per_page.set(per_page);
        state.view.set(Some(ViewRef::Saved(v.id)));
    };
    let on_change = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        said.set(None);
        if let Some(id) = value.strip_prefix("sv:") {
            if let Some(v) = saved_view(id) {
                apply_saved(v);
            }
        } else {
            // An org view (or the plain list): Zoho's records, columns and order (the list
            // sets the columns as the view changes).
            let org = value
                .strip_prefix("cv:")
                .map(|id| ViewRef::Org(id.to_owned()));
            state.set_conditions(Vec::new(), false);
            state.sort.set(None);
            state.ascending.set(false);
            state.view.set(org);
        }
        restart.run(());
    };
    let selected = move || match state.view.get() {
        Some(ViewRef::Org(id)) => format!("cv:{id}"),
        Some(ViewRef::Saved(id)) => format!("sv:{id}"),
        None => String::new(),
    };
    let current_saved = move || match state.view.get() {
        Some(ViewRef::Saved(id)) => saved_view(&id),
        _ => None,
    };
    let delete = move |_| {
        let Some(v) = current_saved() else {
            return;
        };
        spawn_local(async move {
            match delete_view(api.get_value(), v.id).await {
                Ok(()) => {
                    said.try_set(Some(format!("Deleted the view “{}”.", v.name)));
                    state.view.try_set(None);
                    choices.refetch();
                }
                Err(e) => {
                    said.try_set(Some(e.to_string()));
                }
            }
        });
    };
    let saved_as = Callback::new(move |v: SavedView| {
        naming.set(false);
        said.set(Some(format!("Saved the view “{}”.", v.name)));
        state.view.set(Some(ViewRef::Saved(v.id)));
        choices.refetch();
    });
    view! {
        <label for="view-select">"View"</label>
        <select id="view-select" on:change=on_change prop:value=selected>
            {move || {
                known()
                    .map(|c| {
                        let ViewChoices { org, saved, .. } = c;
                        let org = org
                            .into_iter()
                            .map(|v| {
                                // The default view is the plain list.
                                let value = if v.default { String::new() } else { format!("cv:{}", v.id) };
                                let mine = value.clone();
                                view! { <option value=value selected=move || selected() == mine>{v.label}</option> }
                            })
                            .collect_view();
                        let saved = (!saved.is_empty())
                            .then(|| {
                                view! {
                                    <optgroup label="My views">
                                        {saved
                                            .into_iter()
                                            .map(|v| {
                                                let value = format!("sv:{}", v.id);
                                                let mine = value.clone();
                                                view! { <option value=value selected=move || selected() == mine>{v.name}</option> }
                                            })
                                            .collect_view()}
                                    </optgroup>
                                }
                            });
                        view! { {org} {saved} }
                    })
            }}
        </select>
        // A saved view is conditions of the list's own: an org view's are Zoho's to keep.
        <button
            type="button"
            disabled=move || matches!(state.view.get(), Some(ViewRef::Org(_)))
            aria-describedby="save-view-hint"
            on:click=move |_| naming.set(true)
        >
            "Save view"
        </button>
        <span id="save-view-hint" class="hint">
            {move || {
                matches!(state.view.get(), Some(ViewRef::Org(_)))
                    .then_some("Zoho keeps its own views: choose conditions on the plain list to save one.")
            }}
        </span>
        <button type="button" disabled=move || current_saved().is_none() on:click=delete>
            "Delete view"
        </button>
        {move || {
            known()
                .filter(|c| c.org_needs_consent)
                .map(|_| {
                    view! {
                        <p class="notice">"Zoho's own views need one more permission from Zoho."</p>
                        <crate::problem::ReconnectButton />
                    }
                })
        }}
        <p class="views-said" role="status">{move || said.get()}</p>
        <Show when=move || naming.get()>
            <SaveViewDialog
                module=api.get_value()
                state
                name=current_saved().map(|v| v.name).unwrap_or_default()
                close=Callback::new(move |()| naming.set(false))
                done=saved_as
            />
        </Show>
    }
}

/// "Save view": asks for "View name" and keeps the list as it is under it.
#[component]
fn SaveViewDialog(
    module: String,
    state: ListSignals,
    name: String,
    close: Callback<()>,
    done: Callback<SavedView>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let typed = RwSignal::new(name);
    let problem = RwSignal::new(None::<String>);
    let module = StoredValue::new(module);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (conditions, match_any) = state.conditions();
        let def = ViewDef {
            conditions,
            match_any,
            columns: state.columns.get_untracked(),
            sort: state.sort.get_untracked(),
            ascending: state.ascending.get_untracked(),
            per_page: state.per_page.get_untracked(),
        };
        let name = typed.get_untracked();
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            let answer = save_view(module.get_value(), name, def).await;
            if busy.try_set(false).is_some() {
                return;
            }
            match answer {
                Ok(v) => done.run(v),
                Err(e) => {
                    problem.try_set(Some(e.to_string()));
                }
            }
        });
    };
    view! {
        <crate::bulk::dialogs::Modal heading_id="save-view-heading" heading="Save view" busy close>
            <form class="bulk-form" aria-labelledby="save-view-heading" on:submit=submit>
                <div class="field">
                    <div class="field-label"><label for="view-name">"View name"</label></div>
                    <input
                        id="view-name"
                        type="text"
                        required
                        maxlength=super::MAX_NAME.to_string()
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                    />
                </div>
                <p class="field-error" role="alert">{move || problem.get()}</p>
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>"Save"</button>
                    <button type="button" disabled=move || busy.get() on:click=move |_| close.run(())>
                        "Cancel"
                    </button>
                </div>
            </form>
        </crate::bulk::dialogs::Modal>
    }
}
