//! "My activities" (`/activities`): the signed-in user's open tasks, meetings and calls in the
//! active account's org, grouped "Overdue", "Today", "Upcoming" and "No due date" — in UTC as the
//! server renders it, then in the browser's own zone. Beside its link in the modules' nav, the
//! count of what is overdue or due today, loaded after hydration from its own chunk.

use leptos::prelude::*;

use super::group::{Group, due_count, group, today};
use super::open_activities;
use super::section::ActivityItem;
use crate::problem::Problem;

/// The count's element, which the link's `aria-describedby` names.
pub const COUNT_ID: &str = "my-activities-count";

/// The link at the top of the modules' nav, with its count beside it. The count's element is
/// always there (empty until the count comes): changing its text never changes the page's shape,
/// so it cannot disturb a page that is still hydrating (a lazy route hydrates after its chunk
/// arrives, and new elements in the nav meanwhile would break it).
#[component]
pub fn MyActivitiesLink() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let here = move || (location.pathname.get() == "/activities").then_some("page");
    let due = RwSignal::new(None::<usize>);
    let load = move || {
        leptos::task::spawn_local(async move {
            if let Some(n) = count_due().await {
                due.set(Some(n));
            }
        });
    };
    // After hydration, then again whenever an activity changes.
    Effect::new(move |_| load());
    crate::live::on_change(|c| c.touches_activities(), load);
    let words = move || {
        due.get().map(|n| match n {
            0 => "none due".to_owned(),
            n => format!("{n} due"),
        })
    };
    view! {
        <li class="mine">
            <a href="/activities" aria-current=here aria-describedby=COUNT_ID>
                "My activities"
            </a>
            <span
                class="badge"
                id=COUNT_ID
                class:zero=move || due.get() == Some(0)
                data-loaded=move || due.get().map(|_| "true")
            >
                {words}
            </span>
        </li>
    }
}

/// How many of the signed-in user's open activities are overdue or due today, in the browser's
/// zone; from its own chunk (with the grouping), so a first visit's bundle does not carry it.
#[cfg_attr(any(feature = "ssr", feature = "split"), lazy)]
async fn count_due() -> Option<usize> {
    let list = open_activities().await.ok()?;
    Some(due_count(&list.items, &today(true), true))
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
