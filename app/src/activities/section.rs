//! A record's "Activities" section: its open tasks, meetings and calls in one timeline, soonest
//! first ("Show closed" adds the done ones), the three forms that add one, and "Complete task" and
//! "Cancel meeting" on each item that allows it. It follows live changes to any activity.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::forms::{ActivityForm, Tokens, Which};
use super::{
    ActivityDto, ActivityList, ActivityOutcome, Kind, activity_forms, cancel_meeting,
    complete_task, record_activities,
};
use crate::AppError;
use crate::problem::Problem;
use crate::toast::Toasts;

/// The modules whose record pages have the section.
pub fn has_activities(module: &str) -> bool {
    matches!(module, "Leads" | "Contacts" | "Accounts" | "Deals")
}

#[component]
pub fn ActivitiesSection(module: String, id: String) -> impl IntoView {
    let target = StoredValue::new((module.clone(), id.clone()));
    let open = LocalResource::new(move || {
        let (m, i) = target.get_value();
        record_activities(m, i, false)
    });
    let show_closed = RwSignal::new(false);
    let closed = LocalResource::new(move || {
        let (m, i) = target.get_value();
        let wanted = show_closed.get();
        async move {
            if wanted {
                record_activities(m, i, true).await.map(Some)
            } else {
                Ok(None)
            }
        }
    });
    let form = RwSignal::new(None::<Which>);
    // The forms' owners, participants and first tokens: asked for when a form first opens.
    let wants_setup = RwSignal::new(false);
    let setup = LocalResource::new(move || {
        let (m, i) = target.get_value();
        let wanted = wants_setup.get();
        async move {
            if wanted {
                activity_forms(m, i).await.map(Some)
            } else {
                Ok(None)
            }
        }
    });
    // The forms' press tokens: from the first setup, then from each save's answer.
    let tokens: Tokens = RwSignal::new(None);
    Effect::new(move |_| {
        if let Some(Ok(Some(s))) = setup.get()
            && tokens.get_untracked().is_none()
        {
            tokens.set(Some(s.tokens));
        }
    });
    let reload = move || {
        open.refetch();
        if show_closed.get_untracked() {
            closed.refetch();
        }
    };
    crate::live::on_change(move |c| c.touches_activities(), reload);

    let opener = move |which: Which| {
        let pressed = move || form.get() == Some(which);
        view! {
            <button
                type="button"
                aria-expanded=move || pressed().to_string()
                on:click=move |_| {
                    wants_setup.set(true);
                    form.set(if pressed() { None } else { Some(which) });
                }
            >
                {which.label()}
            </button>
        }
    };
    view! {
        <section class="record-section activities" aria-labelledby="activities-heading">
            <h2 id="activities-heading">"Activities"</h2>
            <div class="item-actions">
                {opener(Which::Task)}
                {opener(Which::Call)}
                {opener(Which::Meeting)}
                <button
                    type="button"
                    class="ghost"
                    aria-pressed=move || show_closed.get().to_string()
                    on:click=move |_| show_closed.update(|s| *s = !*s)
                >
                    "Show closed"
                </button>
            </div>
            {move || {
                let which = form.get()?;
                Some(view! {
                    <Suspense fallback=|| view! { <p aria-busy="true" class="hint">"Loading…"</p> }>
                        {move || {
                            setup
                                .get()
                                .map(|r| match r {
                                    Ok(Some(s)) => {
                                        let (m, i) = target.get_value();
                                        view! {
                                            <ActivityForm
                                                which
                                                module=m
                                                id=i
                                                setup=s
                                                tokens
                                                close=move |()| form.set(None)
                                                saved=move |()| {
                                                    form.set(None);
                                                    reload();
                                                }
                                            />
                                        }
                                            .into_any()
                                    }
                                    Ok(None) => ().into_any(),
                                    Err(e) => view! { <Problem error=e /> }.into_any(),
                                })
                        }}
                    </Suspense>
                })
            }}
            <Suspense fallback=|| view! { <p aria-busy="true" class="hint">"Loading activities…"</p> }>
                {move || open.get().map(|r| view! { <Listing list=r empty="No open activities." reload /> })}
            </Suspense>
            <Show when=move || show_closed.get()>
                <h3>"Closed"</h3>
                <Suspense fallback=|| view! { <p aria-busy="true" class="hint">"Loading closed activities…"</p> }>
                    {move || {
                        closed
                            .get()
                            .map(|r| match r {
                                Ok(Some(list)) => view! { <Listing list=Ok(list) empty="No closed activities." reload /> }.into_any(),
                                Ok(None) => ().into_any(),
                                Err(e) => view! { <Listing list=Err(e) empty="" reload /> }.into_any(),
                            })
                    }}
                </Suspense>
            </Show>
        </section>
    }
}

/// A list of activities, or why it could not be read.
#[component]
fn Listing(
    list: Result<ActivityList, AppError>,
    empty: &'static str,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    match list {
        Ok(list) if list.items.is_empty() => view! { <p class="empty">{empty}</p> }.into_any(),
        Ok(list) => view! {
            <ul class="activity-list">
                {list
                    .items
                    .into_iter()
                    .map(|a| view! { <ActivityItem a reload show_parent=false /> })
                    .collect_view()}
            </ul>
            {list.more.then(|| view! { <p class="hint">"Zoho holds more; the first 200 are shown."</p> })}
        }
        .into_any(),
        Err(e) => view! { <Problem error=e retry=Callback::new(move |()| reload()) /> }.into_any(),
    }
}

/// When an activity is due or starts, in words (an instant in the reader's zone).
#[component]
pub fn When(a: ActivityDto) -> impl IntoView {
    let lead = match a.kind {
        Kind::Task => "Due ",
        Kind::Meeting | Kind::Call => "",
    };
    match (a.kind, a.due_date, a.starts) {
        (Kind::Task, Some(d), _) => view! { <span class="when">{lead}{d}</span> }.into_any(),
        (_, _, Some(t)) => {
            view! { <span class="when"><crate::time::LocalTime iso=t.clone() fallback=t /></span> }
                .into_any()
        }
        _ => view! { <span class="when">"No due date"</span> }.into_any(),
    }
}

/// One activity: its kind, its title linking to its own page, when, what became of it, and the
/// action it allows.
#[component]
pub fn ActivityItem(
    a: ActivityDto,
    reload: impl Fn() + Copy + Send + Sync + 'static,
    show_parent: bool,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let toasts = Toasts::get();
    let token = StoredValue::new(a.action_token.clone());
    let activity_id = StoredValue::new(a.id.clone());
    let act = move |complete: bool| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let (id, token) = (activity_id.get_value(), token.get_value());
            let outcome = if complete {
                complete_task(id, token).await
            } else {
                cancel_meeting(id, token).await
            };
            busy.set(false);
            match outcome {
                Ok(ActivityOutcome::Done { .. }) => {
                    toasts.say(if complete {
                        "Task completed."
                    } else {
                        "Meeting cancelled."
                    });
                    reload();
                }
                Ok(ActivityOutcome::Refused { message, .. }) => problem.set(Some(message)),
                Err(e) => problem.set(Some(e.to_string())),
            }
        });
    };
    let href = a.href();
    let details: Vec<String> = [
        a.status.clone(),
        a.call_type.clone().map(|t| format!("{t} call")),
        a.duration_minutes.map(|m| format!("{m} min")),
        a.call_result.clone(),
        a.cancelled.then(|| "Cancelled".to_owned()),
        a.owner.clone().map(|o| format!("Owner: {o}")),
        a.recurrence.clone().map(|r| format!("Repeats: {r}")),
        a.reminder.clone().map(|r| format!("Reminder: {r}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let parent = a.parent.clone().filter(|_| show_parent);
    view! {
        <li class="activity" class:closed=a.closed>
            <span class="kind">{a.kind.label()}</span>
            <a class="title" href=href>{a.title.clone()}</a>
            <When a=a.clone() />
            {parent.map(|p| view! {
                <span class="parent">
                    "on "
                    <a href=format!("/m/{}/{}", p.module, p.id)>{p.name}</a>
                </span>
            })}
            {(!details.is_empty()).then(|| view! { <span class="details">{details.join(" · ")}</span> })}
            {a.can_complete.then(|| view! {
                <button type="button" class="ghost" disabled=move || busy.get() on:click=move |_| act(true)>
                    "Complete task"
                </button>
            })}
            {a.can_cancel.then(|| view! {
                <button type="button" class="ghost danger" disabled=move || busy.get() on:click=move |_| act(false)>
                    "Cancel meeting"
                </button>
            })}
            <p class="field-error" role="alert">{move || problem.get()}</p>
        </li>
    }
}
