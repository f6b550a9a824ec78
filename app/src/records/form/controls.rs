//! The form's controls, one per kind of field: text, numbers, dates, picklists, checkboxes, and
//! the read-only subform fields; a lookup's is in [`super::lookup`].

use leptos::prelude::*;

use super::lookup::LookupControl;
use crate::records::{Control, FieldProblem, FieldValue, FormField, Input, Values};

/// Subform fields, shown but not edited.
#[component]
pub(super) fn ReadOnly(list: Vec<FieldValue>) -> impl IntoView {
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
pub(super) fn FieldControl(
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
