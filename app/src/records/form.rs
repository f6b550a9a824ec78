//! `/m/{Module}/new` and `/m/{Module}/{id}/edit`: the record form. Every keystroke is kept as a
//! draft in this browser (per connection, module and record) and offered back after a reload;
//! "Save" sends once, keeps the input when Zoho refuses it, and shows why beside the field. An
//! edit sends what the form was opened with too: a field someone else changed meanwhile is a
//! conflict the person settles ("Keep mine", "Use theirs"), a record deleted meanwhile can be
//! saved as a new one. While an edit is open, a change someone else makes to the record is said
//! (which fields, who, when), never put into the form: the input stays, and "Save" checks.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::{
    Conflict, Control, FieldProblem, FormField, FormSpec, Input, LookupRef, Meanwhile, SaveOutcome,
    Values, changed_meanwhile, find_lookup, record_form, save_record,
};
use super::{FieldValue, Problem};
use crate::stash;
use crate::time::LocalTime;

/// The form of the module and record in the URL (no id: a new record).
#[component]
pub fn RecordFormPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = Memo::new(move |_| {
        let p = params.read();
        let parent = query.read().get("parent");
        (p.get("module").unwrap_or_default(), p.get("id"), parent)
    });
    let spec = Resource::new(
        move || key.get(),
        |(m, id, parent)| record_form(m, id, parent),
    );
    // Outside the suspended part (see the list's title).
    let title = move || match spec.get() {
        Some(Ok(s)) => crate::page_title(&[&s.title]),
        _ => crate::page_title(&[&key.get().0.replace('_', " ")]),
    };
    view! {
        <leptos_meta::Title text=title />
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
    // What the record held when the form opened: a save changes only what differs from it.
    let base = RwSignal::new(initial.clone());
    let clash = RwSignal::new(None::<Clash>);
    let gone = RwSignal::new(false);
    // Live: what others change while this form is open is said, never put into the form.
    let meanwhile = RwSignal::new(None::<Meanwhile>);
    if let Some(id) = record_id.clone() {
        let touched = (module.api_name.clone(), id.clone());
        let module = module.api_name.clone();
        crate::live::on_change(
            move |c| c.touches(&touched.0, Some(&touched.1)),
            move || {
                let (module, id, base) = (module.clone(), id.clone(), base.get_untracked());
                spawn_local(async move {
                    if let Ok(found) = changed_meanwhile(module, id, base).await {
                        let news = found.gone || !found.fields.is_empty();
                        meanwhile.set(news.then_some(found));
                    }
                });
            },
        );
    }
    let problems = RwSignal::new(Vec::<FieldProblem>::new());
    let saving = RwSignal::new(false);
    let offered = RwSignal::new(None::<Draft>);
    let unpicked = RwSignal::new(BTreeSet::<String>::new());
    provide_context(Unpicked(unpicked));
    let draft = StoredValue::new(draft_key(&module.api_name, record_id.as_deref()));
    let back = match &record_id {
        Some(id) => format!("/m/{}/{id}", module.api_name),
        None => format!("/m/{}", module.api_name),
    };
    let navigate = use_navigate();

    // After hydration: offer back what was typed here before a reload or a crash.
    Effect::new(move |_| {
        if let Some(conn) = stash::active_connection()
            && let Some(saved) = stash::load::<Draft>(&conn, &draft.get_value()).or_else(|| {
                // A draft kept before drafts knew their base: taken as typed over this form.
                stash::load::<Values>(&conn, &draft.get_value()).map(|values| Draft {
                    values,
                    base: initial.clone(),
                })
            })
            && saved.values != initial
        {
            offered.set(Some(saved));
        }
    });
    let remember = move || {
        if let Some(conn) = stash::active_connection_untracked() {
            let kept = Draft {
                values: values.get_untracked(),
                base: base.get_untracked(),
            };
            stash::save(&conn, &draft.get_value(), &kept);
        }
    };
    let forget = move || {
        if let Some(conn) = stash::active_connection_untracked() {
            stash::remove(&conn, &draft.get_value());
        }
    };

    let toasts = crate::toast::Toasts::get();
    let save = {
        let singular = module.singular.clone();
        let module = module.api_name.clone();
        let navigate = navigate.clone();
        let (record_id, save_token) = (record_id.clone(), save_token.clone());
        move |as_new: bool| {
            // One save at a time: a double click sends once.
            if saving.get_untracked() {
                return;
            }
            saving.set(true);
            let (module, token) = (module.clone(), save_token.clone());
            let id = record_id.clone().filter(|_| !as_new);
            let opened_with = id.as_ref().map(|_| base.get_untracked());
            let navigate = navigate.clone();
            let singular = singular.clone();
            spawn_local(async move {
                let typed = values.get_untracked();
                let result = save_record(module.clone(), id, typed, token, opened_with).await;
                saving.set(false);
                match result {
                    Ok(SaveOutcome::Saved { id }) => {
                        forget();
                        toasts.say(format!("{singular} saved."));
                        navigate(&format!("/m/{module}/{id}"), Default::default());
                    }
                    Ok(SaveOutcome::Refused { problems: list }) => {
                        focus_first_problem(&list);
                        problems.set(list);
                    }
                    Ok(SaveOutcome::Conflict { conflicts, by, at }) => {
                        problems.set(Vec::new());
                        clash.set(Some(Clash { conflicts, by, at }));
                        focus_once_drawn("save-conflict");
                    }
                    Ok(SaveOutcome::Gone) => {
                        problems.set(Vec::new());
                        gone.set(true);
                        focus_once_drawn("save-gone");
                    }
                    Err(e) => problems.set(vec![FieldProblem {
                        field: None,
                        message: e.to_string(),
                    }]),
                }
            });
        }
    };
    let on_submit = {
        let save = save.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            // Text typed in a lookup but not picked is not a value: saving now would drop it.
            let waiting = unpicked.get_untracked();
            if !waiting.is_empty() {
                problems.set(
                    waiting
                        .into_iter()
                        .map(|field| FieldProblem {
                            field: Some(field),
                            message: UNPICKED.into(),
                        })
                        .collect(),
                );
                focus_first_problem(&problems.get_untracked());
                return;
            }
            clash.set(None);
            save(false);
        }
    };
    // Their values become what the form was opened with: "Keep mine" then writes mine over
    // them (checked again), "Use theirs" puts them in the form too.
    let settle = move |take_theirs: bool| {
        let Some(c) = clash.get_untracked() else {
            return;
        };
        base.update(|b| {
            for x in &c.conflicts {
                b.insert(x.field.clone(), x.theirs.clone());
            }
        });
        if take_theirs {
            values.update(|v| {
                for x in &c.conflicts {
                    v.insert(x.field.clone(), x.theirs.clone());
                }
            });
            remember();
        }
        clash.set(None);
    };
    let keep_mine = {
        let save = save.clone();
        move |_| {
            settle(false);
            save(false);
        }
    };
    let save_as_new = {
        let save = save.clone();
        move |_| {
            gone.set(false);
            save(true);
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
                                    // Its changes stay changes from what the form showed then.
                                    values.set(restore.values.clone());
                                    base.set(restore.base.clone());
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
        {
            let singular = module.singular.clone();
            move || {
                clash
                    .get()
                    .map(|c| {
                        let who = c.by.clone().unwrap_or_else(|| "Someone".into());
                        view! {
                            <div class="problem conflict" role="alert" id="save-conflict" tabindex="-1">
                                <p>
                                    {format!("{who} changed this {singular} while you were editing")}
                                    {c.at.clone().map(|at| view! { " (" <LocalTime iso=at.clone() fallback=at /> ")" })}
                                    ". Nothing was saved."
                                </p>
                                <ul>
                                    {c.conflicts
                                        .iter()
                                        .map(|x| {
                                            view! {
                                                <li>
                                                    <strong>{x.label.clone()}</strong>
                                                    {format!(": theirs “{}”, yours “{}”", x.theirs_text, x.yours_text)}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                                <button type="button" class="primary" on:click=keep_mine.clone()>
                                    "Keep mine"
                                </button>
                                <button type="button" on:click=move |_| settle(true)>
                                    "Use theirs"
                                </button>
                            </div>
                        }
                    })
            }
        }
        {
            let singular = module.singular.clone();
            move || {
                gone.get()
                    .then(|| {
                        view! {
                            <div class="problem gone" role="alert" id="save-gone" tabindex="-1">
                                <p>
                                    {format!("This {singular} was deleted while you were editing. Nothing was saved.")}
                                </p>
                                <button type="button" class="primary" on:click=save_as_new.clone()>
                                    {format!("Save as a new {singular}")}
                                </button>
                            </div>
                        }
                    })
            }
        }
        {
            let singular = module.singular.clone();
            move || {
                meanwhile
                    .get()
                    .map(|m| {
                        let said = if m.gone {
                            format!(
                                "Someone deleted this {singular} while you were editing. What you typed is kept."
                            )
                        } else {
                            format!(
                                "{} changed {} while you were editing. What you typed is kept; “Save” checks each field you changed.",
                                m.by.clone().unwrap_or_else(|| "Someone".into()),
                                m.fields.join(", "),
                            )
                        };
                        view! {
                            <div class="notice meanwhile" role="status">
                                <p>
                                    {said}
                                    {m.at.clone().map(|at| view! { " (" <LocalTime iso=at.clone() fallback=at /> ")" })}
                                </p>
                            </div>
                        }
                    })
            }
        }
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
                    {move || match (saving.get(), field_count()) {
                        (true, _) => String::new() + "Saving…",
                        (false, 0) => String::new(),
                        (false, 1) => "Not saved: one field needs your attention.".into(),
                        (false, n) => format!("Not saved: {n} fields need your attention."),
                    }}
                </span>
            </div>
        </form>
    }
}

/// What a draft keeps: the values typed, and the values the form was opened with.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Draft {
    values: Values,
    base: Values,
}

/// A save that met someone else's changes: which fields, who made the last change, and when.
#[derive(Clone, Debug, PartialEq)]
struct Clash {
    conflicts: Vec<Conflict>,
    by: Option<String>,
    at: Option<String>,
}

/// Moves the focus to the first field Zoho (or the form) found a problem with, so a refusal
/// is seen where it applies and not only at the top of a long form.
fn focus_first_problem(list: &[FieldProblem]) {
    #[cfg(feature = "hydrate")]
    if let Some(field) = list.iter().find_map(|p| p.field.as_deref())
        && let Some(el) = document().get_element_by_id(&format!("f-{field}"))
        && let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el)
    {
        let _ = el.focus();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = list;
}

/// Moves the focus (and so the view) to the element `id` once it is drawn: a notice at the top
/// of a long form must not go unseen by someone who pressed "Save" at its foot.
fn focus_once_drawn(id: &'static str) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        if let Some(el) = document().get_element_by_id(id)
            && let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el)
        {
            let _ = el.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
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

/// The lookup fields whose text was typed but no record picked from it: saving waits for them.
#[derive(Clone, Copy)]
struct Unpicked(RwSignal<BTreeSet<String>>);

/// What a lookup with typed-but-unpicked text says beside itself.
const UNPICKED: &str = "Pick one of the matches, or clear the text: nothing is chosen yet.";

/// A lookup as an accessible combobox (WAI-ARIA's "list autocomplete"): type part of a name,
/// move through Zoho's matches with the arrow keys, pick with Enter or a click (Enter never
/// submits the form), close with Esc. The choice shows as a chip that can be removed; text
/// typed but not picked keeps the form from saving.
#[component]
fn LookupControl(
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
