//! The list's "View" select, "Save view" and "Delete view". The select offers the org's views
//! and the person's saved ones, each as the list URL that shows it (the server writes a saved
//! view's: its conditions, order and page size), so choosing one is going there; a view's
//! columns are its own while it is chosen. The "Save view" form, which the first visit does
//! not show, is a WASM chunk of its own, fetched when first opened.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use super::{ListSignals, ViewRef, columns_key};
use crate::records::ModuleDto;
use crate::records::views::{
    MAX_NAME, SavedView, ViewChoices, ViewDef, delete_view, list_views, save_view,
};
use crate::stash;

/// The views' controls, in the list's toolbar.
#[component]
pub(super) fn ViewBar(module: ModuleDto, state: ListSignals) -> impl IntoView {
    let api = StoredValue::new(module.api_name);
    let choices = LocalResource::new(move || list_views(api.get_value()));
    let said = RwSignal::new(None::<String>);
    let naming = RwSignal::new(false);
    let known = move || -> Option<ViewChoices> { choices.get().and_then(Result::ok) };
    let saved_view = move |id: &str| -> Option<SavedView> {
        known().and_then(|c| c.saved.into_iter().find(|v| v.id == id))
    };
    // A saved view's columns are its own while it is chosen (a choice, a reload, a link, Back);
    // one kept without columns shows this browser's.
    Effect::new(move |_| {
        let Some(ViewRef::Saved(id)) = state.view.get() else {
            return;
        };
        let Some(v) = saved_view(&id) else {
            return;
        };
        let columns = if v.columns.is_empty() {
            stash::active_connection_untracked()
                .and_then(|conn| stash::load::<Vec<String>>(&conn, &columns_key(&api.get_value())))
                .unwrap_or_default()
        } else {
            v.columns
        };
        if state.columns.get_untracked() != columns {
            state.columns.set(columns);
        }
    });
    let navigate = use_navigate();
    let on_change = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        said.set(None);
        let path = format!("/m/{}", api.get_value());
        let target = if let Some(id) = value.strip_prefix("sv:") {
            saved_view(id).map(|v| format!("{path}?{}", v.query))
        } else if let Some(id) = value.strip_prefix("cv:") {
            Some(format!("{path}?cv={id}"))
        } else {
            Some(path)
        };
        if let Some(target) = target {
            navigate(&target, Default::default());
        }
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
    let on_org_view = move || matches!(state.view.get(), Some(ViewRef::Org(_)));
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
    let saved_as = Callback::new(move |(id, name): (String, String)| {
        naming.set(false);
        said.set(Some(format!("Saved the view “{name}”.")));
        state.view.set(Some(ViewRef::Saved(id)));
        choices.refetch();
    });
    let options = move || {
        known().map(|c| {
            let ViewChoices { org, saved, .. } = c;
            let org = org
                .into_iter()
                .map(|v| {
                    // The default view is the plain list.
                    let value = if v.default {
                        String::new()
                    } else {
                        format!("cv:{}", v.id)
                    };
                    let mine = value.clone();
                    view! { <option value=value selected=move || selected() == mine>{v.label}</option> }
                })
                .collect_view();
            let saved = (!saved.is_empty()).then(|| {
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
    };
    view! {
        <div class="views">
            <label for="view-select">"View"</label>
            <select id="view-select" on:change=on_change prop:value=selected>
                {options}
            </select>
            // A saved view is conditions of the list's own: an org view's are Zoho's to keep.
            <button
                type="button"
                disabled=on_org_view
                aria-describedby="save-view-hint"
                on:click=move |_| naming.set(true)
            >
                "Save view"
            </button>
            <button type="button" disabled=move || current_saved().is_none() on:click=delete>
                "Delete view"
            </button>
            <span id="save-view-hint" class="hint">
                {move || {
                    on_org_view()
                        .then_some("Zoho keeps its own views: choose conditions on the plain list to save one.")
                }}
            </span>
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
        </div>
        <Show when=move || naming.get()>
            <Suspense>
                {move || {
                    let name = current_saved().map(|v| v.name).unwrap_or_default();
                    let close = Callback::new(move |()| naming.set(false));
                    Suspend::new(save_view_form(api.get_value(), state, name, close, saved_as))
                }}
            </Suspense>
        </Show>
    }
}

/// The "Save view" form, from its own chunk.
#[cfg_attr(any(feature = "ssr", feature = "split"), lazy)]
async fn save_view_form(
    module: String,
    state: ListSignals,
    name: String,
    close: Callback<()>,
    done: Callback<(String, String)>,
) -> AnyView {
    view! { <SaveViewForm module state name close done /> }.into_any()
}

/// "Save view": asks for "View name" and keeps the list as it is under it (a text search is not
/// part of a view). Escape or "Cancel" closes it.
#[component]
fn SaveViewForm(
    module: String,
    state: ListSignals,
    name: String,
    close: Callback<()>,
    done: Callback<(String, String)>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let typed = RwSignal::new(name);
    let problem = RwSignal::new(None::<String>);
    let module = StoredValue::new(module);
    let input = NodeRef::<leptos::html::Input>::new();
    // Opened to be typed in.
    Effect::new(move |_| {
        if let Some(i) = input.get() {
            let _ = i.focus();
        }
    });
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
            // The form went meanwhile (the page changed): nobody is there to tell.
            if busy.try_set(false).is_some() {
                return;
            }
            match answer {
                Ok(v) => done.run((v.id, v.name)),
                Err(e) => {
                    problem.try_set(Some(e.to_string()));
                }
            }
        });
    };
    view! {
        <form
            class="save-view"
            aria-label="Save view"
            on:submit=submit
            on:keydown=move |ev| {
                if ev.key() == "Escape" && !busy.get_untracked() {
                    close.run(());
                }
            }
        >
            <label for="view-name">"View name"</label>
            <input
                id="view-name"
                type="text"
                required
                node_ref=input
                maxlength=MAX_NAME.to_string()
                prop:value=move || typed.get()
                on:input=move |ev| typed.set(event_target_value(&ev))
            />
            <button type="submit" class="primary" disabled=move || busy.get()>"Save"</button>
            <button type="button" disabled=move || busy.get() on:click=move |_| close.run(())>
                "Cancel"
            </button>
            <p class="field-error" role="alert">{move || problem.get()}</p>
        </form>
    }
}
