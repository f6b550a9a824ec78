//! "My activities" (`/activities`): the signed-in user's open tasks, meetings and calls in the
//! active account's org, grouped "Overdue", "Today", "Upcoming" and "No due date" — in UTC as the
//! server renders it, then in the browser's own zone. Beside its link in the modules' nav, the
//! count of what is overdue or due today, loaded after hydration from its own chunk.

use leptos::prelude::*;

use super::group::{Group, due_count, group, today};
use super::open_activities;
use super::section::ActivityItem;
use crate::records::Problem;

/// The count's element, which the link's `aria-describedby` names.
pub const COUNT_ID: &str = "my-activities-count";

/// The link at the top of the modules' nav, with its count beside it.
#[component]
pub fn MyActivitiesLink() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let here = move || (location.pathname.get() == "/activities").then_some("page");
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    view! {
        <li class="mine">
            <a href="/activities" aria-current=here aria-describedby=COUNT_ID>
                "My activities"
            </a>
            <span class="count" id=COUNT_ID>
                <Show when=move || mounted.get()>
                    <Suspense>{move || Suspend::new(due_count_view())}</Suspense>
                </Show>
            </span>
        </li>
    }
}

/// The count, from its own chunk: a first visit's bundle does not carry it.
#[cfg_attr(any(feature = "ssr", feature = "split"), lazy)]
async fn due_count_view() -> AnyView {
    view! { <DueCount /> }.into_any()
}

#[component]
fn DueCount() -> impl IntoView {
    let mine = LocalResource::new(open_activities);
    crate::live::on_change(|c| c.touches_activities(), move || mine.refetch());
    move || {
        mine.get().and_then(Result::ok).map(|list| {
            let n = due_count(&list.items, &today(true), true);
            let words = match n {
                0 => "none due".to_owned(),
                n => format!("{n} due"),
            };
            view! { <span class="badge" data-loaded="true" class:zero=n == 0>{words}</span> }
        })
    }
}

/// The page.
#[component]
pub fn MyActivitiesPage() -> impl IntoView {
    let mine = Resource::new(|| (), |_| open_activities());
    crate::live::on_change(|c| c.touches_activities(), move || mine.refetch());
    // UTC until the browser has the page, then its own zone.
    let local = RwSignal::new(false);
    Effect::new(move |_| local.set(true));
    let reload = move || mine.refetch();
    view! {
        <leptos_meta::Title text=crate::page_title(&["My activities"]) />
        <section class="panel my-activities">
            <h1>"My activities"</h1>
            <Suspense fallback=|| view! { <p aria-busy="true" class="hint">"Loading your activities…"</p> }>
                {move || {
                    mine.get().map(|r| match r {
                        Ok(list) => {
                            let local = local.get();
                            let day = today(local);
                            let more = list.more;
                            let groups = Group::ALL
                                .into_iter()
                                .map(|g| {
                                    let items: Vec<_> = list
                                        .items
                                        .iter()
                                        .filter(|a| group(a, &day, local) == g)
                                        .cloned()
                                        .collect();
                                    view! {
                                        <section class="activity-group" aria-labelledby=g.id()>
                                            <h2 id=g.id()>{g.heading()}</h2>
                                            {if items.is_empty() {
                                                view! { <p class="empty">"Nothing here."</p> }.into_any()
                                            } else {
                                                view! {
                                                    <ul class="activity-list">
                                                        {items
                                                            .into_iter()
                                                            .map(|a| view! { <ActivityItem a reload show_parent=true /> })
                                                            .collect_view()}
                                                    </ul>
                                                }
                                                    .into_any()
                                            }}
                                        </section>
                                    }
                                })
                                .collect_view();
                            view! {
                                {groups}
                                {more.then(|| view! { <p class="hint">"Some lists hold more than the first 200."</p> })}
                            }
                                .into_any()
                        }
                        Err(e) => view! { <Problem error=e retry=Callback::new(move |()| reload()) /> }.into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}
