//! "Convert" on a Lead's page and the dialog it opens, "Convert lead": where the Lead's company
//! and person go (Zoho's suggestions, or new records), an optional Deal, and "Convert now". After
//! converting, the page goes to the Contact and a toast links what was made. When Zoho converts
//! in the background, the dialog says so and asks again, a bounded number of times.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use super::{
    Conversion, ConvertChoice, ConvertSetup, ConvertedInto, NewDeal, conversion_setup,
    conversion_state, convert_lead,
};
use crate::problem::Problem;
use crate::toast::Toasts;

/// How often a scheduled conversion is asked after, and how many times.
const POLL_EVERY: std::time::Duration = std::time::Duration::from_millis(1500);
const POLLS: u32 = 20;

/// Where the dialog is.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Choosing,
    /// Zoho converts in the background: asked after every [`POLL_EVERY`].
    Scheduled,
    /// Zoho has not finished after every poll.
    StillScheduled,
    /// Someone converted it before.
    Already(ConvertedInto),
    Done(ConvertedInto),
}

/// The links a toast or a notice gives for what a Lead became: "Ada Lovelace (contact)", …
pub fn links(c: &ConvertedInto) -> Vec<(String, String)> {
    c.parts()
        .into_iter()
        .map(|(word, l)| (format!("{} ({word})", l.name), l.href()))
        .collect()
}

/// The links as a sentence's end: "Ada (contact), Acme (account)".
fn linked(c: &ConvertedInto) -> impl IntoView + use<> {
    let list = links(c);
    let last = list.len().saturating_sub(1);
    list.into_iter()
        .enumerate()
        .map(|(i, (name, href))| {
            let sep = match i {
                0 => "",
                i if i == last => " and ",
                _ => ", ",
            };
            view! { {sep} <a href=href>{name}</a> }
        })
        .collect_view()
}

/// The button that opens the dialog. The page keeps whether it is open (and the button, to
/// give the focus back): a live re-read of the record draws its header anew, and must not
/// close a dialog someone is filling in.
#[component]
pub fn ConvertButton(
    open: RwSignal<bool>,
    node_ref: NodeRef<leptos::html::Button>,
) -> impl IntoView {
    view! {
        <button
            type="button"
            node_ref=node_ref
            aria-haspopup="dialog"
            aria-expanded=move || open.get().to_string()
            on:click=move |_| open.set(true)
        >
            "Convert"
        </button>
    }
}

/// The dialog: its heading, what it offers once read, and "Close".
#[component]
pub fn ConvertDialog(lead_id: String, close: Callback<()>) -> impl IntoView {
    let lead = StoredValue::new(lead_id);
    let setup = LocalResource::new(move || conversion_setup(lead.get_value()));
    // A native modal dialog: the page behind it is inert, Escape closes it, and the focus
    // goes back to "Convert" when it closes.
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(d) = dialog.get() {
            let _ = d.show_modal();
        }
    });
    // Closing the native dialog first gives the page back (and the focus to "Convert").
    let close = Callback::new(move |()| {
        #[cfg(feature = "hydrate")]
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
        close.run(());
    });
    let step = RwSignal::new(Step::Choosing);
    let busy = RwSignal::new(false);
    // "Convert now" is there once the dialog offers something to convert.
    let ready = move || {
        step.get() == Step::Choosing
            && setup
                .get()
                .is_some_and(|r| r.is_ok_and(|s| s.converted.is_none()))
    };
    let navigate = use_navigate();
    let toasts = Toasts::get();
    Effect::new(move |_| {
        if let Step::Done(c) = step.get() {
            toasts.say_with_links("Lead converted into", links(&c));
            close.run(());
            navigate(&c.contact.href(), Default::default());
        }
    });
    view! {
        <dialog
            node_ref=dialog
            class="dialog"
            aria-labelledby="convert-heading"
            on:cancel=move |ev: leptos::ev::Event| {
                // Not while "Convert now" is being answered: the answer must be seen.
                ev.prevent_default();
                if !busy.get_untracked() {
                    close.run(());
                }
            }
            // The browser may close it anyway (a second Escape): the page follows.
            on:close=move |_: leptos::ev::Event| close.run(())
        >
                <h2 id="convert-heading">"Convert lead"</h2>
                <Suspense fallback=|| view! { <p aria-busy="true" class="hint">"Loading…"</p> }>
                    {move || {
                        setup
                            .get()
                            .map(|r| match r {
                                Ok(s) => view! {
                                    <ConvertForm lead_id=lead.get_value() setup=s step busy />
                                }
                                    .into_any(),
                                Err(e) => view! {
                                    <Problem error=e retry=Callback::new(move |()| setup.refetch()) />
                                }
                                    .into_any(),
                            })
                    }}
                </Suspense>
                <div class="actions">
                    <Show when=ready>
                        <button
                            type="submit"
                            form="convert-form"
                            class="primary"
                            disabled=move || busy.get()
                        >
                            "Convert now"
                        </button>
                    </Show>
                    <button type="button" disabled=move || busy.get() on:click=move |_| close.run(())>
                        "Close"
                    </button>
                </div>
        </dialog>
    }
    .into_any()
}

/// What the rep must fix: the dialog's label it is about (none: the whole), and the words.
type Fix = RwSignal<Option<(Option<String>, String)>>;

/// One radio of a group.
fn radio(
    group: &'static str,
    value: String,
    label: String,
    hint: Option<String>,
    chosen: RwSignal<String>,
) -> impl IntoView {
    let id = format!("convert-{group}-{value}");
    let hint_id = format!("{id}-hint");
    let mine = value.clone();
    // The hint (an email, a phone) describes the choice; its name is the record's name.
    view! {
        <div class="field check">
            <input
                type="radio"
                id=id.clone()
                name=format!("convert-{group}")
                value=value
                aria-describedby=hint.is_some().then(|| hint_id.clone())
                prop:checked=move || chosen.get() == mine
                on:change=move |ev| chosen.set(event_target_value(&ev))
            />
            <label for=id>{label}</label>
            {hint.map(|h| view! { " " <span class="hint" id=hint_id>{h}</span> })}
        </div>
    }
}

/// The choices, checked and sent.
#[component]
fn ConvertForm(
    lead_id: String,
    setup: ConvertSetup,
    step: RwSignal<Step>,
    busy: RwSignal<bool>,
) -> impl IntoView {
    let ConvertSetup {
        lead_name,
        company,
        accounts,
        contacts,
        stages,
        pipelines,
        token,
        converted,
    } = setup;
    if let Some(c) = converted {
        return view! {
            <p role="alert">"This lead was converted already, into " {linked(&c)} "."</p>
        }
        .into_any();
    }
    let problem: Fix = RwSignal::new(None);
    // Zoho's suggestion first: joining what exists makes no duplicate.
    let account = RwSignal::new(match (accounts.first(), &company) {
        (Some(a), _) => a.id.clone(),
        (None, Some(_)) => "new".to_owned(),
        (None, None) => "none".to_owned(),
    });
    let contact = RwSignal::new(
        contacts
            .first()
            .map_or_else(|| "new".to_owned(), |c| c.id.clone()),
    );
    let with_deal = RwSignal::new(false);
    let deal_name = RwSignal::new(company.clone().unwrap_or_else(|| lead_name.clone()));
    let closing = RwSignal::new(String::new());
    let stage = RwSignal::new(stages.first().map(|s| s.value.clone()).unwrap_or_default());
    let amount = RwSignal::new(String::new());
    let pipeline = RwSignal::new(
        pipelines
            .as_ref()
            .and_then(|p| p.first())
            .map(|p| p.value.clone()),
    );
    // Pressed before without an answer: a Lead found converted was converted by that press.
    let retry = RwSignal::new(false);
    let lead = StoredValue::new(lead_id);
    let token = StoredValue::new(token);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || step.get_untracked() != Step::Choosing {
            return;
        }
        let choice = ConvertChoice {
            account: account.get_untracked(),
            contact: contact.get_untracked(),
            deal: with_deal.get_untracked().then(|| NewDeal {
                name: deal_name.get_untracked(),
                closing_date: closing.get_untracked(),
                stage: stage.get_untracked(),
                amount: amount.get_untracked(),
                pipeline: pipeline.get_untracked(),
            }),
        };
        busy.set(true);
        problem.set(None);
        let again = retry.get_untracked();
        let (lead_id, token) = (lead.get_value(), token.get_value());
        spawn_local(async move {
            let answer = convert_lead(lead_id.clone(), token, choice, again).await;
            busy.try_set(false);
            match answer {
                Ok(Conversion::Converted(c)) => {
                    step.try_set(Step::Done(c));
                }
                Ok(Conversion::Already(c)) => {
                    step.try_set(Step::Already(c));
                }
                Ok(Conversion::Scheduled) => {
                    step.try_set(Step::Scheduled);
                    poll(lead_id, POLLS, step);
                }
                Ok(Conversion::Refused { message, field }) => {
                    problem.try_set(Some((field, message)));
                }
                Err(e) => {
                    // The press may have reached Zoho (its answer lost): the next one says so.
                    if matches!(
                        e,
                        crate::AppError::ZohoUnavailable
                            | crate::AppError::Internal
                            | crate::AppError::Transport(_)
                    ) {
                        retry.try_set(true);
                    }
                    problem.try_set(Some((
                        None,
                        format!("{e} Press “Convert now” again: it converts the lead once, however often it is pressed."),
                    )));
                }
            }
        });
    };

    let error_of = move |label: &'static str| {
        move || {
            problem
                .get()
                .filter(|(f, _)| f.as_deref() == Some(label))
                .map(|(_, m)| m)
        }
    };
    let invalid = move |label: &'static str| {
        move || {
            problem
                .get()
                .is_some_and(|(f, _)| f.as_deref() == Some(label))
                .then_some("true")
        }
    };
    let general = move || problem.get().filter(|(f, _)| f.is_none()).map(|(_, m)| m);

    let account_options = view! {
        <fieldset class="choices" role="radiogroup" aria-labelledby="convert-account-legend" aria-describedby="convert-account-error">
            <legend id="convert-account-legend">"Account"</legend>
            {company.clone().map(|c| radio("account", "new".into(), format!("New: {c}"), None, account))}
            {accounts
                .into_iter()
                .map(|a| radio("account", a.id, a.name, a.hint, account))
                .collect_view()}
            {company.is_none().then(|| radio("account", "none".into(), "No account".into(), None, account))}
            <p class="field-error" role="alert" id="convert-account-error">{error_of("Account")}</p>
        </fieldset>
    };
    let contact_options = view! {
        <fieldset class="choices" role="radiogroup" aria-labelledby="convert-contact-legend" aria-describedby="convert-contact-error">
            <legend id="convert-contact-legend">"Contact"</legend>
            {radio("contact", "new".into(), format!("New: {lead_name}"), None, contact)}
            {contacts
                .into_iter()
                .map(|c| radio("contact", c.id, c.name, c.hint, contact))
                .collect_view()}
            <p class="field-error" role="alert" id="convert-contact-error">{error_of("Contact")}</p>
        </fieldset>
    };
    let input = move |label: &'static str,
                      id: &'static str,
                      kind: &'static str,
                      value: RwSignal<String>| {
        view! {
            <div class="field">
                <div class="field-label"><label for=id>{label}</label></div>
                <input
                    type=kind
                    id=id
                    required=move || kind != "number" && with_deal.get()
                    min=(kind == "number").then_some("0")
                    step=(kind == "number").then_some("0.01")
                    aria-describedby=format!("{id}-error")
                    aria-invalid=invalid(label)
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                />
                <p class="field-error" role="alert" id=format!("{id}-error")>{error_of(label)}</p>
            </div>
        }
    };
    let stage_select = view! {
        <div class="field">
            <div class="field-label"><label for="convert-stage">"Stage"</label></div>
            <select
                id="convert-stage"
                aria-describedby="convert-stage-error"
                aria-invalid=invalid("Stage")
                on:change=move |ev| stage.set(event_target_value(&ev))
            >
                {stages
                    .into_iter()
                    .map(|s| {
                        let mine = s.value.clone();
                        view! { <option value=s.value selected=move || stage.get() == mine>{s.label}</option> }
                    })
                    .collect_view()}
            </select>
            <p class="field-error" role="alert" id="convert-stage-error">{error_of("Stage")}</p>
        </div>
    };
    let pipeline_select = pipelines.map(|list| {
        view! {
            <div class="field">
                <div class="field-label"><label for="convert-pipeline">"Pipeline"</label></div>
                <select
                    id="convert-pipeline"
                    aria-describedby="convert-pipeline-error"
                    aria-invalid=invalid("Pipeline")
                    on:change=move |ev| pipeline.set(Some(event_target_value(&ev)))
                >
                    {list
                        .into_iter()
                        .map(|p| {
                            let mine = p.value.clone();
                            view! { <option value=p.value selected=move || pipeline.get().as_deref() == Some(mine.as_str())>{p.label}</option> }
                        })
                        .collect_view()}
                </select>
                <p class="field-error" role="alert" id="convert-pipeline-error">{error_of("Pipeline")}</p>
            </div>
        }
    });
    let deal_fields = view! {
        <div class="fields">
            {input("Deal Name", "convert-deal-name", "text", deal_name)}
            {input("Closing Date", "convert-closing", "date", closing)}
            {stage_select}
            {input("Amount", "convert-amount", "number", amount)}
            {pipeline_select}
        </div>
    };

    view! {
        {move || match step.get() {
            Step::Already(c) => Some(view! {
                <p role="alert">"This lead was converted already, into " {linked(&c)} "."</p>
            }.into_any()),
            Step::Scheduled => Some(view! {
                <p role="status" aria-busy="true">
                    "Zoho is converting this lead in the background. This page goes to the contact once it is done."
                </p>
            }.into_any()),
            Step::StillScheduled => Some(view! {
                <p role="status">
                    "Zoho is still converting this lead. Its page will say “Converted to …” once it is done; you can close this."
                </p>
            }.into_any()),
            Step::Choosing | Step::Done(_) => None,
        }}
        <form
            id="convert-form"
            class="convert-form"
            aria-labelledby="convert-heading"
            hidden=move || step.get() != Step::Choosing
            on:submit=submit
        >
            {account_options}
            {contact_options}
            <p class="hint">"The lead's notes, attachments and open activities move to the contact."</p>
            <div class="field check">
                <input
                    type="checkbox"
                    id="convert-with-deal"
                    prop:checked=move || with_deal.get()
                    on:change=move |ev| with_deal.set(event_target_checked(&ev))
                />
                <label for="convert-with-deal">"Create a deal"</label>
            </div>
            <div hidden=move || !with_deal.get()>
                {deal_fields}
            </div>
            <p class="field-error" role="alert">{general}</p>
        </form>
    }
    .into_any()
}

/// Asks Zoho `left` more times, [`POLL_EVERY`] apart, whether the Lead is converted; stops
/// when it is, when the dialog is gone, or when the asking is used up.
fn poll(lead_id: String, left: u32, step: RwSignal<Step>) {
    set_timeout(
        move || {
            if step.try_get_untracked() != Some(Step::Scheduled) {
                return;
            }
            spawn_local(async move {
                match conversion_state(lead_id.clone()).await {
                    Ok(Some(c)) => {
                        step.try_set(Step::Done(c));
                    }
                    _ if left > 1 => poll(lead_id, left - 1, step),
                    _ => {
                        step.try_set(Step::StillScheduled);
                    }
                }
            });
        },
        POLL_EVERY,
    );
}
