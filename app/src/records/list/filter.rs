//! The list's search: the "Search" box, and the conditions — their builder, folded under
//! "Conditions", and the chips that show (and remove) those in force.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::Query;
use crate::records::widgets::Folded;
use crate::records::{Condition, ConditionOp, FilterField, FilterKind, MAX_CONDITIONS};

/// The searchbox "Search": a word, an email or a phone number.
#[component]
pub(super) fn SearchBox(query: RwSignal<Query>, restart: Callback<()>) -> impl IntoView {
    let typed = RwSignal::new(query.read_untracked().text.clone().unwrap_or_default());
    // Back to an earlier search shows its words again.
    Effect::new(move |_| {
        let text = query.read().text.clone().unwrap_or_default();
        if text != typed.get_untracked().trim() {
            typed.set(text);
        }
    });
    // Zoho takes a search word of two characters at least: a shorter one is said here.
    let too_short = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = typed.get_untracked();
        let text = text.trim();
        let short = text.chars().count() == 1;
        too_short.set(short);
        if short {
            return;
        }
        query.set(Query {
            text: (!text.is_empty()).then(|| text.to_owned()),
            ..Query::default()
        });
        restart.run(());
    };
    let clear = move |_| {
        too_short.set(false);
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
            // Drawn only with its words: an empty alert would be one more alert on every list.
            <Show when=move || too_short.get()>
                <p class="field-error" role="alert">{crate::records::SHORT_SEARCH}</p>
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
pub(super) fn ConditionChips(
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
#[cfg_attr(any(feature = "ssr", feature = "split"), lazy)]
async fn condition_chips(
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
pub(super) fn FilterBox(
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
#[cfg_attr(any(feature = "ssr", feature = "split"), lazy)]
async fn condition_builder(
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
                    let names = crate::records::find_lookup(module.get_value(), text).await.unwrap_or_default();
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
