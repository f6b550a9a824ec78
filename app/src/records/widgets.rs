//! Small pieces every record page uses: a button that navigates, what a failed call shows, and
//! the module navigation.

use leptos::prelude::*;

use super::list_modules;
use crate::AppError;

/// A button that opens `href`: a plain GET form before the WASM has loaded, a client-side
/// navigation (without the form's trailing `?`) after.
#[component]
pub fn GoButton(
    href: String,
    label: &'static str,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let target = href.clone();
    view! {
        <form
            method="get"
            action=href
            class="go"
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                navigate(&target, Default::default());
            }
        >
            <button type="submit" class=class>
                {label}
            </button>
        </form>
    }
}

/// What a failed records call shows: words, and the way on.
#[component]
pub fn Problem(error: AppError) -> impl IntoView {
    let hint = match error {
        AppError::NeedsReconnect => Some(
            view! { <a href="/connection">"Go to the Connection page"</a> }.into_any(),
        ),
        AppError::Unauthenticated => Some(view! { <a href="/">"Sign in"</a> }.into_any()),
        AppError::Throttled { retry_at } => Some(view! {
            <span>
                "Try again after "
                <crate::time::LocalTime iso=crate::time::iso(retry_at) fallback=crate::time::utc(retry_at) />
                "."
            </span>
        }.into_any()),
        _ => None,
    };
    view! {
        <div class="problem" role="alert">
            <p class="error">{error.to_string()}</p>
            {hint}
        </div>
    }
}

/// What the stash keeps for the last module opened.
pub(super) const LAST_MODULE: &str = "last_module";

/// The modules, as links carrying their plural names, and a way back to the last one opened.
#[component]
pub fn ModuleNav() -> impl IntoView {
    let modules = Resource::new(|| (), |_| list_modules());
    // Read after hydration: the server cannot know what this browser kept.
    let last = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(conn) = crate::stash::active_connection() {
            last.set(crate::stash::load::<String>(&conn, LAST_MODULE));
        }
    });
    view! {
        <nav class="modules" aria-label="Modules">
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading modules…"</p> }>
                {move || {
                    modules
                        .get()
                        .map(|r| match r {
                            Ok(list) => {
                                let resume = last
                                    .get()
                                    .and_then(|l| list.iter().find(|m| m.api_name == l).cloned())
                                    .map(|m| {
                                        view! {
                                            <p class="resume">
                                                <a href=format!("/m/{}", m.api_name)>
                                                    {format!("Continue with {}", m.plural)}
                                                </a>
                                            </p>
                                        }
                                    });
                                view! {
                                    {resume}
                                    <ul>
                                        {list
                                            .into_iter()
                                            .map(|m| {
                                                view! {
                                                    <li>
                                                        <a href=format!("/m/{}", m.api_name)>{m.plural}</a>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }.into_any()
                            }
                            Err(e) => view! { <Problem error=e /> }.into_any(),
                        })
                }}
            </Suspense>
        </nav>
    }
}
