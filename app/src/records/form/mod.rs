//! `/m/{Module}/new` and `/m/{Module}/{id}/edit`: the record form. Every keystroke is kept as a
//! draft in this browser (per connection, module and record) and offered back after a reload;
//! "Save" sends once, keeps the input when Zoho refuses it, and shows why beside the field. An
//! edit sends what the form was opened with too: a field someone else changed meanwhile is a
//! conflict the person settles ("Keep mine", "Use theirs"), a record deleted meanwhile can be
//! saved as a new one. While an edit is open, a change someone else makes to the record is said
//! (which fields, who, when), never put into the form: the input stays, and "Save" checks.

mod controls;
mod draft;
mod lookup;
mod save;

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::{FormSpec, Meanwhile, Problem, changed_meanwhile, record_form, save_record};
use crate::time::LocalTime;
use controls::{FieldControl, ReadOnly};
use draft::{Draft, DraftSlot};
use lookup::Unpicked;
use save::SaveState;

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
    let state = SaveState::new();
    let SaveState {
        saving,
        problems,
        clash,
        gone,
    } = state;
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
    let offered = RwSignal::new(None::<Draft>);
    let unpicked = RwSignal::new(BTreeSet::<String>::new());
    provide_context(Unpicked(unpicked));
    let draft = DraftSlot::new(&module.api_name, record_id.as_deref());
    let back = match &record_id {
        Some(id) => format!("/m/{}/{id}", module.api_name),
        None => format!("/m/{}", module.api_name),
    };
    let navigate = use_navigate();

    // After hydration: offer back what was typed here before a reload or a crash.
    Effect::new(move |_| {
        if let Some(saved) = draft.load(&initial) {
            offered.set(Some(saved));
        }
    });
    let remember = move || draft.save(values.get_untracked(), base.get_untracked());
    let forget = move || draft.forget();

    let toasts = crate::toast::Toasts::get();
    let save = {
        let singular = module.singular.clone();
        let module = module.api_name.clone();
        let navigate = navigate.clone();
        let (record_id, save_token) = (record_id.clone(), save_token.clone());
        move |as_new: bool| {
            // One save at a time: a double click sends once.
            if !state.begin() {
                return;
            }
            let (module, token) = (module.clone(), save_token.clone());
            let id = record_id.clone().filter(|_| !as_new);
            let opened_with = id.as_ref().map(|_| base.get_untracked());
            let navigate = navigate.clone();
            let singular = singular.clone();
            spawn_local(async move {
                let typed = values.get_untracked();
                let result = save_record(module.clone(), id, typed, token, opened_with).await;
                if let Some(id) = state.finish(result) {
                    forget();
                    toasts.say(format!("{singular} saved."));
                    navigate(&format!("/m/{module}/{id}"), Default::default());
                }
            });
        }
    };
    let on_submit = {
        let save = save.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if state.held_by_unpicked(unpicked.get_untracked()) {
                return;
            }
            clash.set(None);
            save(false);
        }
    };
    let settle = move |take_theirs: bool| {
        if state.settle(base, values, take_theirs) {
            remember();
        }
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
    let general = move || state.general();
    let field_count = move || state.field_count();

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
