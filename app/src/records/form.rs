//! `/m/{Module}/new` and `/m/{Module}/{id}/edit`: the record form. Every keystroke is kept as a
//! draft in this browser (per connection, module and record) and offered back after a reload;
//! "Save" sends once, keeps the input when Zoho refuses it, and shows why beside the field.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::{
    Control, FieldProblem, FormField, FormSpec, Input, LookupRef, SaveOutcome, Values, find_lookup,
    record_form, save_record,
};
use super::{FieldValue, Problem};
use crate::stash;

/// The form of the module and record in the URL (no id: a new record).
#[component]
pub fn RecordFormPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        let p = params.read();
        (p.get("module").unwrap_or_default(), p.get("id"))
    });
    let spec = Resource::new(move || key.get(), |(m, id)| record_form(m, id));
    view! {
        <section class="panel form-page">
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading the form…"</p> }>
                {move || {
                    spec.get()
                        .map(|r| match r {
                            Ok(spec) => view! { <RecordForm spec /> }.into_any(),
                            Err(e) => view! { <Problem error=e /> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

/// The stash key of a record's draft.
fn draft_key(module: &str, id: Option<&str>) -> String {
    format!("draft.{module}.{}", id.unwrap_or("new"))
}

#[component]
fn RecordForm(spec: FormSpec) -> impl IntoView {
    let FormSpec {
        module,
        record_id,
        title,
        fields,
        values: initial,
        read_only,
        save_token,
    } = spec;
    let values = RwSignal::new(initial.clone());
    let problems = RwSignal::new(Vec::<FieldProblem>::new());
    let saving = RwSignal::new(false);
    let offered = RwSignal::new(None::<Values>);
    let draft = StoredValue::new(draft_key(&module.api_name, record_id.as_deref()));
    let back = match &record_id {
        Some(id) => format!("/m/{}/{id}", module.api_name),
        None => format!("/m/{}", module.api_name),
    };
    let navigate = use_navigate();

    // After hydration: offer back what was typed here before a reload or a crash.
    Effect::new(move |_| {
        if let Some(conn) = stash::active_connection()
            && let Some(saved) = stash::load::<Values>(&conn, &draft.get_value())
            && saved != initial
        {
            offered.set(Some(saved));
        }
    });
    let remember = move || {
        if let Some(conn) = stash::active_connection_untracked() {
            stash::save(&conn, &draft.get_value(), &values.get_untracked());
        }
    };
    let forget = move || {
        if let Some(conn) = stash::active_connection_untracked() {
            stash::remove(&conn, &draft.get_value());
        }
    };

    let on_submit = {
        let module = module.api_name.clone();
        let navigate = navigate.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            // One save at a time: a double click sends once.
            if saving.get_untracked() {
                return;
            }
            saving.set(true);
            let (module, id, token) = (module.clone(), record_id.clone(), save_token.clone());
            let navigate = navigate.clone();
            spawn_local(async move {
                let result = save_record(module.clone(), id, values.get_untracked(), token).await;
                saving.set(false);
                match result {
                    Ok(SaveOutcome::Saved { id }) => {
                        forget();
                        navigate(&format!("/m/{module}/{id}"), Default::default());
                    }
                    Ok(SaveOutcome::Refused { problems: list }) => problems.set(list),
                    Err(e) => problems.set(vec![FieldProblem {
                        field: None,
                        message: e.to_string(),
                    }]),
                }
            });
        }
    };
    let cancel = {
        let back = back.clone();
        move |_| {
            forget();
            navigate(&back, Default::default());
        }
    };
    let general = move || {
        problems
            .read()
            .iter()
            .filter(|p| p.field.is_none())
            .map(|p| p.message.clone())
            .collect::<Vec<_>>()
    };
    let field_count = move || problems.read().iter().filter(|p| p.field.is_some()).count();

    view! {
        <p class="crumbs">
            <a href=format!("/m/{}", module.api_name)>{module.plural.clone()}</a>
        </p>
        <h1>{title}</h1>
        {move || {
            offered
                .get()
                .map(|saved| {
                    let restore = saved.clone();
                    view! {
                        <div class="notice draft" role="status">
                            <p>"You have unsaved changes from before."</p>
                            <button
                                type="button"
                                on:click=move |_| {
                                    values.set(restore.clone());
                                    offered.set(None);
                                }
                            >
                                "Restore draft"
                            </button>
                            <button
                                type="button"
                                class="ghost"
                                on:click=move |_| {
                                    forget();
                                    offered.set(None);
                                }
                            >
                                "Discard draft"
                            </button>
                        </div>
                    }
                })
        }}
        <Show when=move || !problems.read().is_empty()>
            <div class="problem" role="alert">
                {move || general().into_iter().map(|m| view! { <p class="error">{m}</p> }).collect_view()}
                <Show when=move || { field_count() > 0 }>
                    <p class="error">"Please correct the fields marked below."</p>
                </Show>
            </div>
        </Show>
        <form class="record-form" on:submit=on_submit>
            <div class="fields">
                {fields
                    .into_iter()
                    .map(|field| view! { <FieldControl field values problems remember /> })
                    .collect_view()}
            </div>
            {(!read_only.is_empty()).then(|| view! { <ReadOnly list=read_only /> })}
            <div class="actions">
                <button type="submit" class="primary" disabled=move || saving.get()>
                    "Save"
                </button>
                <button type="button" on:click=cancel>
                    "Cancel"
                </button>
                <span class="hint" role="status">
                    {move || if saving.get() { "Saving…" } else { "" }}
                </span>
            </div>
        </form>
    }
}

/// Subform fields, shown but not edited.
#[component]
fn ReadOnly(list: Vec<FieldValue>) -> impl IntoView {
    view! {
        <dl class="facts read-only">
            {list
                .into_iter()
                .map(|f| {
                    view! {
                        <dt>{f.label}</dt>
                        <dd>{if f.value.is_empty() { "—".to_owned() } else { f.value }}</dd>
                    }
                })
                .collect_view()}
        </dl>
    }
}

/// One field: its label (Zoho's `field_label`), its control, and Zoho's word on it.
#[component]
fn FieldControl(
    field: FormField,
    values: RwSignal<Values>,
    problems: RwSignal<Vec<FieldProblem>>,
    remember: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let api = StoredValue::new(field.api_name.clone());
    let id = format!("f-{}", field.api_name);
    let err_id = format!("{id}-error");
    let problem = move || {
        problems
            .read()
            .iter()
            .find(|p| p.field.as_deref() == Some(api.get_value().as_str()))
            .map(|p| p.message.clone())
    };
    let invalid = move || problem().is_some().then_some("true");
    let set = move |input: Input| {
        values.update(|v| {
            v.insert(api.get_value(), input);
        });
        // The field's own problem is settled by a new value.
        problems
            .update(|list| list.retain(|p| p.field.as_deref() != Some(api.get_value().as_str())));
        remember();
    };
    let text = move || match values.read().get(&api.get_value()) {
        Some(Input::Text(s)) => s.clone(),
        _ => String::new(),
    };
    let on_text = move |ev: leptos::ev::Event| set(Input::Text(event_target_value(&ev)));
    let max = field.max_length.map(|m| m.to_string());
    let required = field.required;
    let input_type = match field.control {
        Control::Email => "email",
        Control::Phone => "tel",
        Control::Url => "url",
        Control::Integer | Control::Decimal | Control::Currency | Control::Percent => "number",
        Control::Date => "date",
        _ => "text",
    };
    let step = match field.control {
        Control::Integer => Some("1"),
        Control::Currency => Some("0.01"),
        Control::Decimal | Control::Percent => Some("any"),
        _ => None,
    };
    let control = match field.control {
        Control::TextArea => view! {
            <textarea
                id=id.clone()
                required=required
                maxlength=max
                rows="4"
                aria-invalid=invalid
                aria-describedby=err_id.clone()
                prop:value=text
                on:input=on_text
            ></textarea>
        }.into_any(),
        Control::Boolean => view! {
            <input
                type="checkbox"
                id=id.clone()
                aria-describedby=err_id.clone()
                prop:checked=move || matches!(values.read().get(&api.get_value()), Some(Input::Flag(true)))
                on:change=move |ev| set(Input::Flag(event_target_checked(&ev)))
            />
        }.into_any(),
        Control::Picklist => {
            let choices = field.choices.clone();
            view! {
                <select
                    id=id.clone()
                    required=required
                    aria-invalid=invalid
                    aria-describedby=err_id.clone()
                    on:change=on_text
                >
                    <option value="" selected=move || text().is_empty()>
                        "—"
                    </option>
                    {choices
                        .into_iter()
                        .map(|c| {
                            let value = c.value.clone();
                            view! {
                                <option value=c.value selected=move || text() == value>
                                    {c.label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            }.into_any()
        }
        Control::MultiSelect => {
            return view! { <MultiSelect field values set /> }.into_any();
        }
        Control::Lookup => {
            return view! { <LookupControl field values set problem /> }.into_any();
        }
        Control::DateTime => view! {
            <input
                type="datetime-local"
                id=id.clone()
                required=required
                aria-invalid=invalid
                aria-describedby=err_id.clone()
                prop:value=move || crate::time::to_local_input(&text())
                on:input=move |ev| set(Input::Text(crate::time::from_local_input(&event_target_value(&ev))))
            />
        }.into_any(),
        _ => view! {
            <input
                type=input_type
                id=id.clone()
                required=required
                maxlength=max
                step=step
                aria-invalid=invalid
                aria-describedby=err_id.clone()
                prop:value=text
                on:input=on_text
            />
        }.into_any(),
    };
    view! {
        <div class="field" class:wide=field.control == Control::TextArea>
            <div class="field-label">
                <label for=id>{field.label}</label>
                {required.then(|| view! { <span class="required" aria-hidden="true">"*"</span> })}
            </div>
            {control}
            <p class="field-error" id=err_id>
                {problem}
            </p>
        </div>
    }
    .into_any()
}

/// A multi-select picklist as a group of checkboxes named by the field's label.
#[component]
fn MultiSelect(
    field: FormField,
    values: RwSignal<Values>,
    set: impl Fn(Input) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let api = StoredValue::new(field.api_name.clone());
    let chosen = move || match values.read().get(&api.get_value()) {
        Some(Input::Many(list)) => list.clone(),
        _ => Vec::new(),
    };
    view! {
        <fieldset class="field wide multi">
            <legend>{field.label}</legend>
            {field
                .choices
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let id = format!("f-{}-{i}", field.api_name);
                    let value = StoredValue::new(c.value);
                    view! {
                        <span class="check">
                            <input
                                type="checkbox"
                                id=id.clone()
                                prop:checked=move || chosen().contains(&value.get_value())
                                on:change=move |ev| {
                                    let mut list = chosen();
                                    list.retain(|v| *v != value.get_value());
                                    if event_target_checked(&ev) {
                                        list.push(value.get_value());
                                    }
                                    set(Input::Many(list));
                                }
                            />
                            <label for=id>{c.label}</label>
                        </span>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

/// A lookup: type part of a name, pick the record from what Zoho finds.
#[component]
fn LookupControl(
    field: FormField,
    values: RwSignal<Values>,
    set: impl Fn(Input) + Copy + Send + Sync + 'static,
    problem: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let api = StoredValue::new(field.api_name.clone());
    let target = StoredValue::new(field.lookup_module.clone().unwrap_or_default());
    let current = move || match values.read().get(&api.get_value()) {
        Some(Input::Lookup(Some(r))) => r.name.clone(),
        _ => String::new(),
    };
    let typed = RwSignal::new(None::<String>);
    let found = RwSignal::new(Vec::<LookupRef>::new());
    let asked = StoredValue::new(0u32);
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        typed.set(Some(text.clone()));
        if text.trim().is_empty() {
            set(Input::Lookup(None));
            found.set(Vec::new());
            return;
        }
        let n = asked.get_value() + 1;
        asked.set_value(n);
        spawn_local(async move {
            let result = find_lookup(target.get_value(), text).await;
            // Only the answer to the latest question counts.
            if asked.get_value() == n {
                found.set(result.unwrap_or_default());
            }
        });
    };
    let id = format!("f-{}", field.api_name);
    let err_id = format!("{id}-error");
    let list_label = format!("{} matches", field.label);
    view! {
        <div class="field lookup">
            <div class="field-label">
                <label for=id.clone()>{field.label.clone()}</label>
                {field.required.then(|| view! { <span class="required" aria-hidden="true">"*"</span> })}
            </div>
            <input
                type="search"
                id=id
                required=field.required
                autocomplete="off"
                placeholder="Type to find…"
                aria-describedby=err_id.clone()
                prop:value=move || typed.get().unwrap_or_else(current)
                on:input=on_input
            />
            <Show when=move || !found.read().is_empty()>
                <ul class="lookup-results" aria-label=list_label.clone()>
                    {move || {
                        found
                            .get()
                            .into_iter()
                            .map(|r| {
                                let name = r.name.clone();
                                view! {
                                    <li>
                                        <button
                                            type="button"
                                            class="ghost"
                                            on:click=move |_| {
                                                typed.set(None);
                                                found.set(Vec::new());
                                                set(Input::Lookup(Some(r.clone())));
                                            }
                                        >
                                            {name}
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </Show>
            <p class="field-error" id=err_id>
                {problem}
            </p>
        </div>
    }
}
