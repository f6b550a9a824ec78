//! A lookup field's control: an accessible combobox over Zoho's matches, and the rule that text
//! typed but not picked keeps the form from saving.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::records::{FormField, Input, LookupRef, Values, find_lookup};

/// The lookup fields whose text was typed but no record picked from it: saving waits for them.
#[derive(Clone, Copy)]
pub(super) struct Unpicked(pub(super) RwSignal<BTreeSet<String>>);

/// What a lookup with typed-but-unpicked text says beside itself.
pub(super) const UNPICKED: &str =
    "Pick one of the matches, or clear the text: nothing is chosen yet.";

/// A lookup as an accessible combobox (WAI-ARIA's "list autocomplete"): type part of a name,
/// move through Zoho's matches with the arrow keys, pick with Enter or a click (Enter never
/// submits the form), close with Esc. The choice shows as a chip that can be removed; text
/// typed but not picked keeps the form from saving.
#[component]
pub(super) fn LookupControl(
    field: FormField,
    values: RwSignal<Values>,
    set: impl Fn(Input) + Copy + Send + Sync + 'static,
    problem: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let Unpicked(unpicked) = expect_context::<Unpicked>();
    let api = StoredValue::new(field.api_name.clone());
    let target = StoredValue::new(field.lookup_module.clone().unwrap_or_default());
    let chosen = move || match values.read().get(&api.get_value()) {
        Some(Input::Lookup(Some(r))) => Some(r.clone()),
        _ => None,
    };
    let typed = RwSignal::new(String::new());
    let found = RwSignal::new(Vec::<LookupRef>::new());
    let open = RwSignal::new(false);
    let active = RwSignal::new(None::<usize>);
    let searched = RwSignal::new(false);
    let asked = StoredValue::new(0u32);
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let id = format!("f-{}", field.api_name);
    let list_id = format!("{id}-list");
    let err_id = format!("{id}-error");
    let option_id = StoredValue::new(format!("{id}-opt-"));

    let mark = move |text: &str| {
        let name = api.get_value();
        unpicked.update(|u| {
            if text.trim().is_empty() {
                u.remove(&name);
            } else {
                u.insert(name);
            }
        });
    };
    let close = move || {
        open.set(false);
        active.set(None);
    };
    let pick = move |r: LookupRef| {
        typed.set(String::new());
        mark("");
        found.set(Vec::new());
        searched.set(false);
        close();
        set(Input::Lookup(Some(r)));
        if let Some(input) = input_ref.get_untracked() {
            let _ = input.focus();
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        typed.set(text.clone());
        mark(&text);
        active.set(None);
        if text.trim().is_empty() {
            found.set(Vec::new());
            searched.set(false);
            close();
            return;
        }
        let n = asked.get_value() + 1;
        asked.set_value(n);
        spawn_local(async move {
            let result = find_lookup(target.get_value(), text).await;
            // Only the answer to the latest question counts.
            if asked.get_value() == n {
                found.set(result.unwrap_or_default());
                searched.set(true);
                open.set(true);
            }
        });
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let count = found.read_untracked().len();
        match ev.key().as_str() {
            "ArrowDown" | "ArrowUp" if count > 0 => {
                ev.prevent_default();
                let down = ev.key() == "ArrowDown";
                let next = match (active.get_untracked(), down, open.get_untracked()) {
                    (_, true, false) | (None, true, _) => 0,
                    (_, false, false) | (None, false, _) => count - 1,
                    (Some(i), true, true) => (i + 1) % count,
                    (Some(i), false, true) => (i + count - 1) % count,
                };
                open.set(true);
                active.set(Some(next));
            }
            "Enter" => {
                // Enter in a lookup picks; it never submits the form.
                ev.prevent_default();
                let list = found.get_untracked();
                let choice = match active.get_untracked() {
                    Some(i) if open.get_untracked() => list.get(i).cloned(),
                    _ if list.len() == 1 => list.first().cloned(),
                    _ => None,
                };
                match choice {
                    Some(r) => pick(r),
                    None if count > 0 => open.set(true),
                    None => {}
                }
            }
            "Escape" if open.get_untracked() => {
                ev.prevent_default();
                close();
            }
            _ => {}
        }
    };
    let required = field.required;
    let label = StoredValue::new(field.label.clone());
    view! {
        <div class="field lookup">
            <div class="field-label">
                <label for=id.clone()>{field.label.clone()}</label>
                {required.then(|| view! { <span class="required" aria-hidden="true">"*"</span> })}
            </div>
            {move || {
                chosen()
                    .map(|r| {
                        view! {
                            <span class="chip">
                                <span class="chip-name">{r.name.clone()}</span>
                                <button
                                    type="button"
                                    class="chip-remove"
                                    aria-label=format!("Remove {} from {}", r.name, label.get_value())
                                    on:click=move |_| {
                                        set(Input::Lookup(None));
                                        if let Some(input) = input_ref.get_untracked() {
                                            let _ = input.focus();
                                        }
                                    }
                                >
                                    "×"
                                </button>
                            </span>
                        }
                    })
            }}
            <input
                type="text"
                id=id
                node_ref=input_ref
                role="combobox"
                aria-autocomplete="list"
                aria-controls=list_id.clone()
                aria-expanded=move || if open.get() && !found.read().is_empty() { "true" } else { "false" }
                aria-activedescendant=move || {
                    active.get().filter(|_| open.get()).map(|i| format!("{}{i}", option_id.get_value()))
                }
                aria-invalid=move || problem().is_some().then_some("true")
                aria-describedby=err_id.clone()
                required=move || required && chosen().is_none()
                autocomplete="off"
                placeholder=move || if chosen().is_some() { "Type to change…" } else { "Type to find…" }
                prop:value=move || typed.get()
                on:input=on_input
                on:keydown=on_keydown
                on:blur=move |_| close()
            />
            <ul
                class="lookup-results"
                id=list_id
                role="listbox"
                aria-label=format!("{} matches", field.label)
                hidden=move || !open.get() || found.read().is_empty()
            >
                {move || {
                    found
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, r)| {
                            let name = r.name.clone();
                            view! {
                                <li
                                    role="option"
                                    id=format!("{}{i}", option_id.get_value())
                                    class:active=move || active.get() == Some(i)
                                    aria-selected=move || if active.get() == Some(i) { "true" } else { "false" }
                                    // Keep the focus in the input: a click picks without a blur.
                                    on:mousedown=|ev| ev.prevent_default()
                                    on:click=move |_| pick(r.clone())
                                >
                                    {name}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <p class="hint lookup-status" role="status">
                {move || {
                    (searched.get() && found.read().is_empty() && !typed.read().trim().is_empty())
                        .then(|| format!("No {} match “{}”.", target.get_value(), typed.get().trim()))
                }}
            </p>
            <p class="field-error" id=err_id>
                {problem}
            </p>
        </div>
    }
}
