//! The dialogs "Change owner" and "Update field", over a record page or a list's selection:
//! native modal dialogs (the page behind is inert, Escape closes them) that read what they offer
//! when opened (a connection missing the scopes is asked to reconnect first, before anything is
//! typed), and report per record what changed and why anything did not.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{
    BulkChoices, BulkReport, MassField, ValueControl, bulk_setup, change_owner, update_field,
};
use crate::problem::Problem;

impl BulkReport {
    /// The report in words: `done` says what happened to each changed record ("Changed the
    /// owner of"), then each record left alone and why.
    pub fn words(&self, done: &str) -> String {
        if let Some(refused) = &self.refused {
            return refused.clone();
        }
        let n = self.changed.len();
        let mut words = format!("{done} {n} {}.", if n == 1 { "record" } else { "records" });
        for s in &self.skipped {
            words.push_str(&format!(" {}: {}", s.name, s.reason));
        }
        words
    }
}

/// A modal dialog named by its heading; Escape (unless `busy`) and "Close" call `close`.
#[component]
fn Modal(
    heading_id: &'static str,
    heading: &'static str,
    busy: RwSignal<bool>,
    close: Callback<()>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(d) = dialog.get() {
            let _ = d.show_modal();
        }
    });
    view! {
        <dialog
            node_ref=dialog
            class="dialog"
            aria-labelledby=heading_id
            on:cancel=move |ev: leptos::ev::Event| {
                ev.prevent_default();
                if !busy.get_untracked() {
                    close.run(());
                }
            }
            // The browser may close it anyway (a second Escape): the page follows.
            on:close=move |_: leptos::ev::Event| close.run(())
        >
            <h2 id=heading_id>{heading}</h2>
            {children()}
        </dialog>
    }
}

/// What the dialog offers, once read: the form, or why it cannot be (with "Reconnect" when a
/// scope is missing).
fn loaded(
    setup: LocalResource<Result<BulkChoices, crate::AppError>>,
    close: Callback<()>,
    form: impl Fn(BulkChoices) -> AnyView + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p aria-busy="true" class="hint">"Loading…"</p> }>
            {move || {
                setup
                    .get()
                    .map(|r| match r {
                        Ok(s) => form(s),
                        Err(e) => view! {
                            <Problem error=e retry=Callback::new(move |()| setup.refetch()) />
                            <div class="actions">
                                <button type="button" on:click=move |_| close.run(())>"Close"</button>
                            </div>
                        }
                        .into_any(),
                    })
            }}
        </Suspense>
    }
}

/// "Change owner" for the records `ids` of `module`; `done` gets the report once Zoho took it.
#[component]
pub fn ChangeOwnerDialog(
    module: String,
    ids: Vec<String>,
    close: Callback<()>,
    done: Callback<BulkReport>,
) -> impl IntoView {
    let key = StoredValue::new((module, ids));
    let setup = LocalResource::new(move || {
        let (m, ids) = key.get_value();
        bulk_setup(m, ids)
    });
    let busy = RwSignal::new(false);
    let form = move |s: BulkChoices| view! { <OwnerForm setup=s key busy close done /> }.into_any();
    view! {
        <Modal heading_id="owner-heading" heading="Change owner" busy close>
            {loaded(setup, close, form)}
        </Modal>
    }
}

#[component]
fn OwnerForm(
    setup: BulkChoices,
    key: StoredValue<(String, Vec<String>)>,
    busy: RwSignal<bool>,
    close: Callback<()>,
    done: Callback<BulkReport>,
) -> impl IntoView {
    let BulkChoices {
        owners,
        base,
        token,
        ..
    } = setup;
    let owner = RwSignal::new(owners.first().map(|o| o.id.clone()).unwrap_or_default());
    let problem = RwSignal::new(None::<String>);
    let base = StoredValue::new(base);
    let token = StoredValue::new(token);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (module, ids) = key.get_value();
        let base = base.with_value(|b| seen(b, &ids, "Owner"));
        let (owner_id, token) = (owner.get_untracked(), token.get_value());
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            let answer = change_owner(module, owner_id, token, base).await;
            // The dialog went meanwhile (the page changed): nobody is there to tell.
            if busy.try_set(false).is_some() {
                return;
            }
            match answer {
                Ok(report) if report.refused.is_some() => {
                    problem.try_set(report.refused);
                }
                Ok(report) => done.run(report),
                Err(e) => {
                    problem.try_set(Some(e.to_string()));
                }
            }
        });
    };
    view! {
        <form class="bulk-form" aria-labelledby="owner-heading" on:submit=submit>
            <div class="field">
                <div class="field-label"><label for="owner-new">"New owner"</label></div>
                <select id="owner-new" on:change=move |ev| owner.set(event_target_value(&ev))>
                    {owners
                        .into_iter()
                        .map(|o| {
                            let mine = o.id.clone();
                            view! { <option value=o.id selected=move || owner.get() == mine>{o.name}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <p class="field-error" role="alert">{move || problem.get()}</p>
            <div class="actions">
                <button type="submit" class="primary" disabled=move || busy.get()>"Set owner"</button>
                <button type="button" disabled=move || busy.get() on:click=move |_| close.run(())>
                    "Close"
                </button>
            </div>
        </form>
    }
}

/// Each record's `field` as the dialog saw it (a record it could not read: empty, and the
/// server reports it gone).
fn seen(
    base: &BTreeMap<String, BTreeMap<String, String>>,
    ids: &[String],
    field: &str,
) -> BTreeMap<String, String> {
    ids.iter()
        .map(|id| {
            let value = base
                .get(id)
                .and_then(|r| r.get(field))
                .cloned()
                .unwrap_or_default();
            (id.clone(), value)
        })
        .collect()
}

/// "Update field" for the records `ids` of `module`.
#[component]
pub fn UpdateFieldDialog(
    module: String,
    ids: Vec<String>,
    close: Callback<()>,
    done: Callback<BulkReport>,
) -> impl IntoView {
    let key = StoredValue::new((module, ids));
    let setup = LocalResource::new(move || {
        let (m, ids) = key.get_value();
        bulk_setup(m, ids)
    });
    let busy = RwSignal::new(false);
    let form = move |s: BulkChoices| view! { <FieldForm setup=s key busy close done /> }.into_any();
    view! {
        <Modal heading_id="update-heading" heading="Update field" busy close>
            {loaded(setup, close, form)}
        </Modal>
    }
}

#[component]
fn FieldForm(
    setup: BulkChoices,
    key: StoredValue<(String, Vec<String>)>,
    busy: RwSignal<bool>,
    close: Callback<()>,
    done: Callback<BulkReport>,
) -> impl IntoView {
    let BulkChoices {
        fields,
        base,
        token,
        ..
    } = setup;
    let count = key.with_value(|(_, ids)| ids.len());
    let field = RwSignal::new(
        fields
            .first()
            .map(|f| f.api_name.clone())
            .unwrap_or_default(),
    );
    let value = RwSignal::new(start(fields.first()));
    let problem = RwSignal::new(None::<String>);
    let fields = StoredValue::new(fields);
    let base = StoredValue::new(base);
    let token = StoredValue::new(token);
    let chosen = move || {
        let name = field.get();
        fields.with_value(|all| all.iter().find(|f| f.api_name == name).cloned())
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Some(f) = chosen() else {
            problem.set(Some("Choose a field.".into()));
            return;
        };
        let (module, ids) = key.get_value();
        let base = base.with_value(|b| seen(b, &ids, &f.api_name));
        let raw = value.get_untracked();
        let sent = match f.control {
            ValueControl::DateTime => crate::time::from_local_input(&raw),
            _ => raw,
        };
        busy.set(true);
        problem.set(None);
        let token = token.get_value();
        spawn_local(async move {
            let answer = update_field(module, f.api_name, sent, token, base).await;
            // The dialog went meanwhile (the page changed): nobody is there to tell.
            if busy.try_set(false).is_some() {
                return;
            }
            match answer {
                Ok(report) if report.refused.is_some() => {
                    problem.try_set(report.refused);
                }
                Ok(report) => done.run(report),
                Err(e) => {
                    problem.try_set(Some(e.to_string()));
                }
            }
        });
    };
    let options = fields.with_value(|all| {
        all.iter()
            .map(|f| (f.api_name.clone(), f.label.clone()))
            .collect::<Vec<_>>()
    });
    let none = options.is_empty();
    view! {
        <form class="bulk-form" aria-labelledby="update-heading" on:submit=submit>
            {none.then(|| view! { <p>"No field of these records can be set on many at once by you."</p> })}
            <div class="field">
                <div class="field-label"><label for="update-field">"Field"</label></div>
                <select
                    id="update-field"
                    on:change=move |ev| {
                        let name = event_target_value(&ev);
                        value.set(fields.with_value(|all| start(all.iter().find(|f| f.api_name == name))));
                        field.set(name);
                    }
                >
                    {options
                        .into_iter()
                        .map(|(api, label)| {
                            let mine = api.clone();
                            view! { <option value=api selected=move || field.get() == mine>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <div class="field-label"><label for="update-value">"Value"</label></div>
                {move || chosen().map(|f| value_control(f, value))}
            </div>
            <p class="field-error" role="alert">{move || problem.get()}</p>
            <div class="actions">
                <button type="submit" class="primary" disabled=move || busy.get() || none>
                    {format!("Update {count} {}", if count == 1 { "record" } else { "records" })}
                </button>
                <button type="button" disabled=move || busy.get() on:click=move |_| close.run(())>
                    "Close"
                </button>
            </div>
        </form>
    }
}

/// The value a field's control starts with: a yes/no field shows "Yes", so it means it; the
/// others start empty, to be filled in.
fn start(f: Option<&MassField>) -> String {
    match f.map(|f| &f.control) {
        Some(ValueControl::Boolean) => "true".into(),
        _ => String::new(),
    }
}

/// The field's own control for its new value, labelled "Value".
fn value_control(f: MassField, value: RwSignal<String>) -> AnyView {
    let on_input = move |ev: leptos::ev::Event| value.set(event_target_value(&ev));
    let input = |kind: &'static str, step: Option<&'static str>, max: Option<u32>| {
        view! {
            <input
                type=kind
                id="update-value"
                step=step
                maxlength=max.map(|m| m.to_string())
                prop:value=move || value.get()
                on:input=on_input
            />
        }
        .into_any()
    };
    match f.control {
        ValueControl::Picklist(choices) => view! {
            <select id="update-value" on:change=on_input>
                <option value="" selected=move || value.get().is_empty()>"—"</option>
                {choices
                    .into_iter()
                    .map(|c| {
                        let mine = c.value.clone();
                        view! { <option value=c.value selected=move || value.get() == mine>{c.label}</option> }
                    })
                    .collect_view()}
            </select>
        }
        .into_any(),
        ValueControl::Boolean => {
            view! {
                <select id="update-value" on:change=on_input>
                    <option value="true" selected=move || value.get() == "true">"Yes"</option>
                    <option value="false" selected=move || value.get() == "false">"No"</option>
                </select>
            }
            .into_any()
        }
        ValueControl::Date => input("date", None, None),
        ValueControl::DateTime => input("datetime-local", None, None),
        ValueControl::Whole => input("number", Some("1"), None),
        ValueControl::Decimal | ValueControl::Currency | ValueControl::Percent => {
            input("number", Some("any"), None)
        }
        ValueControl::Text { max } => input("text", None, max),
    }
}
