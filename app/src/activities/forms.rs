//! The three small forms of a record's Activities section: "New task", "Log a call" and "New
//! meeting". Each is a `<form>` named by its button's text, with the labels the contract names;
//! a refusal shows beside its field and keeps what was typed.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{ActivityOutcome, FormsSetup, NewActivityDto, add_activity};
use crate::toast::Toasts;

/// Which form is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Task,
    Call,
    Meeting,
}

impl Which {
    /// The button that opens it, and so the form's name.
    pub fn label(self) -> &'static str {
        match self {
            Which::Task => "New task",
            Which::Call => "Log a call",
            Which::Meeting => "New meeting",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Which::Task => "task",
            Which::Call => "call",
            Which::Meeting => "meeting",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Which::Task => "Task added.",
            Which::Call => "Call logged.",
            Which::Meeting => "Meeting booked.",
        }
    }

    /// Its place in the section's tokens.
    fn index(self) -> usize {
        match self {
            Which::Task => 0,
            Which::Call => 1,
            Which::Meeting => 2,
        }
    }
}

/// What a form was refused for: the field's label (none: the form's), and the words.
type Problem = RwSignal<Option<(Option<String>, String)>>;

/// One labelled input: `id`'s label, the control, and its error under it.
fn field(label: &'static str, id: String, problem: Problem, control: AnyView) -> impl IntoView {
    let err = format!("{id}-error");
    let mine = move || {
        problem
            .get()
            .filter(|(f, _)| f.as_deref() == Some(label))
            .map(|(_, m)| m)
    };
    view! {
        <div class="field">
            <div class="field-label">
                <label for=id>{label}</label>
            </div>
            {control}
            <p class="field-error" id=err>{mine}</p>
        </div>
    }
}

/// `aria-invalid` for the control of `label`.
fn invalid(problem: Problem, label: &'static str) -> impl Fn() -> Option<&'static str> + Copy {
    move || {
        problem
            .get()
            .is_some_and(|(f, _)| f.as_deref() == Some(label))
            .then_some("true")
    }
}

/// The browser's "now" as a `datetime-local` value, and a given number of minutes later.
fn local_now(plus_minutes: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let ms = js_sys::Date::now() + (plus_minutes * 60_000) as f64;
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            d.get_full_year(),
            d.get_month() + 1,
            d.get_date(),
            d.get_hours(),
            d.get_minutes()
        )
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = plus_minutes;
        String::new()
    }
}

/// The values chosen in the `<select multiple>` an event came from.
fn selected_values(ev: &leptos::ev::Event) -> Vec<String> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
            .map(|s| {
                let options = s.selected_options();
                (0..options.length())
                    .filter_map(|i| options.item(i))
                    .filter_map(|o| o.get_attribute("value"))
                    .collect()
            })
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        Vec::new()
    }
}

/// The section's press tokens, one per form: each save's answer brings the next one, so a form
/// opened again right after a save never presses with a spent token.
pub type Tokens = RwSignal<Option<[String; 3]>>;

/// The open form: its fields, "Save" and "Cancel". `saved` runs after Zoho took it.
#[component]
pub fn ActivityForm(
    which: Which,
    module: String,
    id: String,
    setup: FormsSetup,
    tokens: Tokens,
    #[prop(into)] close: Callback<()>,
    #[prop(into)] saved: Callback<()>,
) -> impl IntoView {
    let slug = which.slug();
    let heading_id = format!("form-{slug}-heading");
    let problem: Problem = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let toasts = Toasts::get();
    let ids = |name: &str| format!("{slug}-{name}");

    // Every form's values, as text: only the open form's are sent.
    let subject = RwSignal::new(String::new());
    let due = RwSignal::new(String::new());
    let preferred = |list: &[super::Pick], wanted: &str| {
        list.iter()
            .find(|c| c.value == wanted)
            .or_else(|| list.first())
            .map(|c| c.value.clone())
            .unwrap_or_default()
    };
    let priority = RwSignal::new(preferred(&setup.choices.priorities, "Normal"));
    let owner = RwSignal::new(
        setup
            .owners
            .first()
            .map(|o| o.id.clone())
            .unwrap_or_default(),
    );
    let call_type = RwSignal::new(preferred(&setup.choices.call_types, "Outbound"));
    let starts = RwSignal::new(local_now(0));
    let minutes = RwSignal::new(String::new());
    let result = RwSignal::new(String::new());
    let ends = RwSignal::new(local_now(60));
    let chosen = RwSignal::new(
        setup
            .participants
            .iter()
            .map(|p| format!("{}:{}", p.kind, p.id))
            .collect::<Vec<_>>(),
    );
    let invite = RwSignal::new(false);
    Effect::new(move |_| {
        // The times are the browser's; the server rendered none.
        if starts.get_untracked().is_empty() {
            starts.set(local_now(0));
            ends.set(local_now(60));
        }
    });

    let target = StoredValue::new((module, id));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let when = |s: RwSignal<String>| crate::time::from_local_input(&s.get_untracked());
        let activity = match which {
            Which::Task => NewActivityDto::Task {
                subject: subject.get_untracked(),
                due_date: due.get_untracked(),
                priority: priority.get_untracked(),
                owner_id: owner.get_untracked(),
            },
            Which::Call => NewActivityDto::Call {
                subject: subject.get_untracked(),
                call_type: call_type.get_untracked(),
                starts: when(starts),
                minutes: minutes.get_untracked(),
                result: result.get_untracked(),
            },
            Which::Meeting => NewActivityDto::Meeting {
                title: subject.get_untracked(),
                starts: when(starts),
                ends: when(ends),
                participants: chosen
                    .get_untracked()
                    .iter()
                    .filter_map(|c| c.split_once(':'))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                send_invitations: invite.get_untracked(),
            },
        };
        let Some(token) = tokens.get_untracked().map(|t| t[which.index()].clone()) else {
            return;
        };
        busy.set(true);
        problem.set(None);
        let (module, id) = target.get_value();
        spawn_local(async move {
            let outcome = add_activity(module, id, token, activity).await;
            busy.set(false);
            match outcome {
                Ok(ActivityOutcome::Done { next_token, .. }) => {
                    if let Some(next) = next_token {
                        tokens.update(|t| {
                            if let Some(t) = t {
                                t[which.index()] = next;
                            }
                        });
                    }
                    toasts.say(which.done());
                    saved.run(());
                }
                Ok(ActivityOutcome::Refused { message, field }) => {
                    problem.set(Some((field, message)));
                }
                Err(e) => problem.set(Some((None, e.to_string()))),
            }
        });
    };

    let text_input =
        |label: &'static str, name: &str, value: RwSignal<String>, max: &'static str| {
            let id = ids(name);
            let control = view! {
                <input
                    type="text"
                    id=id.clone()
                    required=true
                    maxlength=max
                    aria-describedby=format!("{id}-error")
                    aria-invalid=invalid(problem, label)
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                />
            }
            .into_any();
            field(label, id, problem, control)
        };
    let datetime = |label: &'static str, name: &str, value: RwSignal<String>| {
        let id = ids(name);
        let control = view! {
            <input
                type="datetime-local"
                id=id.clone()
                required=true
                aria-describedby=format!("{id}-error")
                aria-invalid=invalid(problem, label)
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        }
        .into_any();
        field(label, id, problem, control)
    };
    let select = |label: &'static str,
                  name: &str,
                  value: RwSignal<String>,
                  options: Vec<(String, String)>,
                  blank: bool| {
        let id = ids(name);
        let control = view! {
            <select
                id=id.clone()
                aria-describedby=format!("{id}-error")
                aria-invalid=invalid(problem, label)
                on:change=move |ev| value.set(event_target_value(&ev))
            >
                {blank.then(|| view! { <option value="" selected=move || value.get().is_empty()>"—"</option> })}
                {options
                    .into_iter()
                    .map(|(v, text)| {
                        let mine = v.clone();
                        view! { <option value=v selected=move || value.get() == mine>{text}</option> }
                    })
                    .collect_view()}
            </select>
        }
        .into_any();
        field(label, id, problem, control)
    };
    let pairs = |list: &[super::Pick]| -> Vec<(String, String)> {
        list.iter()
            .map(|c| (c.value.clone(), c.label.clone()))
            .collect()
    };

    let fields = match which {
        Which::Task => view! {
            {text_input("Subject", "subject", subject, "300")}
            {
                let id = ids("due");
                let control = view! {
                    <input
                        type="date"
                        id=id.clone()
                        aria-describedby=format!("{id}-error")
                        aria-invalid=invalid(problem, "Due Date")
                        prop:value=move || due.get()
                        on:input=move |ev| due.set(event_target_value(&ev))
                    />
                }
                .into_any();
                field("Due Date", id, problem, control)
            }
            {select("Priority", "priority", priority, pairs(&setup.choices.priorities), false)}
            {select(
                "Owner",
                "owner",
                owner,
                setup.owners.iter().map(|o| (o.id.clone(), o.name.clone())).collect(),
                false,
            )}
        }
        .into_any(),
        Which::Call => view! {
            {text_input("Subject", "subject", subject, "300")}
            {select("Call Type", "type", call_type, pairs(&setup.choices.call_types), false)}
            {datetime("Call Start Time", "starts", starts)}
            {
                let id = ids("minutes");
                let control = view! {
                    <input
                        type="number"
                        id=id.clone()
                        min="0"
                        max="1440"
                        step="1"
                        inputmode="numeric"
                        aria-describedby=format!("{id}-error")
                        aria-invalid=invalid(problem, "Duration (minutes)")
                        prop:value=move || minutes.get()
                        on:input=move |ev| minutes.set(event_target_value(&ev))
                    />
                }
                .into_any();
                field("Duration (minutes)", id, problem, control)
            }
            {select("Call Result", "result", result, pairs(&setup.choices.call_results), true)}
        }
        .into_any(),
        Which::Meeting => {
            let people: Vec<(String, String)> = setup
                .participants
                .iter()
                .map(|p| (format!("{}:{}", p.kind, p.id), p.name.clone()))
                .chain(
                    setup
                        .owners
                        .iter()
                        .map(|o| (format!("user:{}", o.id), o.name.clone())),
                )
                .collect();
            let id = ids("participants");
            let participants = view! {
                <select
                    id=id.clone()
                    multiple=true
                    size="4"
                    aria-describedby=format!("{id}-error")
                    aria-invalid=invalid(problem, "Participants")
                    on:change=move |ev| chosen.set(selected_values(&ev))
                >
                    {people
                        .into_iter()
                        .map(|(v, name)| {
                            let mine = v.clone();
                            view! { <option value=v selected=move || chosen.get().contains(&mine)>{name}</option> }
                        })
                        .collect_view()}
                </select>
            }
            .into_any();
            view! {
                {text_input("Title", "title", subject, "255")}
                {datetime("From", "from", starts)}
                {datetime("To", "to", ends)}
                {field("Participants", id, problem, participants)}
                <div class="field check">
                    <input
                        type="checkbox"
                        id=ids("invite")
                        prop:checked=move || invite.get()
                        on:change=move |ev| invite.set(event_target_checked(&ev))
                    />
                    <label for=ids("invite")>"Send invitations"</label>
                </div>
            }
            .into_any()
        }
    };
    let general = move || problem.get().filter(|(f, _)| f.is_none()).map(|(_, m)| m);
    let named_by = heading_id.clone();
    view! {
        <form class="activity-form" aria-labelledby=named_by on:submit=submit>
            <h3 id=heading_id>{which.label()}</h3>
            <div class="fields">{fields}</div>
            <p class="field-error" role="alert">{general}</p>
            <div class="actions">
                <button type="submit" class="primary" disabled=move || busy.get()>"Save"</button>
                <button type="button" on:click=move |_| close.run(())>"Cancel"</button>
            </div>
        </form>
    }
}
