//! Small pieces every record page uses: a button that navigates, a folded part loaded when
//! opened, and the module navigation. What a failed call shows is [`crate::problem`]'s.

use leptos::prelude::*;

use super::list_modules;
use crate::AppError;

/// A button that opens `href`: a plain GET form before the WASM has loaded (the query as
/// hidden fields, since a GET form replaces its action's query), a client-side navigation after.
#[component]
pub fn GoButton(
    href: String,
    label: &'static str,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let target = href.clone();
    let (path, query) = match href.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (href, String::new()),
    };
    let hidden = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| view! { <input type="hidden" name=k.to_owned() value=v.to_owned() /> })
        .collect_view();
    view! {
        <form
            method="get"
            action=path
            class="go"
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                navigate(&target, Default::default());
            }
        >
            {hidden}
            <button type="submit" class=class>
                {label}
            </button>
        </form>
    }
}

/// A folded `<details>` whose contents are a WASM chunk of their own (a `#[lazy]` function's
/// call, `load`), fetched the first time the person opens it — or once mounted, when it starts
/// `open` — so a visit that never opens it never downloads them.
#[component]
pub fn Folded<L, Fut>(
    class: &'static str,
    summary: &'static str,
    #[prop(optional)] open: bool,
    load: L,
) -> impl IntoView
where
    L: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = AnyView> + Send + 'static,
{
    let wanted = RwSignal::new(false);
    Effect::new(move |_| {
        if open {
            wanted.set(true);
        }
    });
    view! {
        <details class=class open=open>
            <summary on:click=move |_| wanted.set(true)>{summary}</summary>
            {move || {
                let load = load.clone();
                wanted.get().then(|| view! {
                    <Suspense fallback=|| view! { <p aria-busy="true" class="hint">"Loading…"</p> }>
                        {Suspend::new(load())}
                    </Suspense>
                })
            }}
        </details>
    }
}

/// What the stash keeps for the last module opened.
pub(super) const LAST_MODULE: &str = "last_module";

/// The modules the signed-in user can open, loaded once per page by the app (see
/// [`ModulesResource::provide`]) for the sidebar and the home page's way back.
pub type ModulesResource = Resource<Result<Vec<super::ModuleDto>, AppError>>;

/// Creates the modules resource where the app starts, so it is made in the same order on the
/// server and in the browser (a resource made inside a suspended part may be made in another
/// order on each side, and then read the other one's data while hydrating).
pub fn provide_modules() -> ModulesResource {
    let modules = Resource::new(|| (), |_| list_modules());
    provide_context(modules);
    modules
}

/// The modules, as links carrying their plural names: the sidebar of every signed-in page
/// (a row of links on a phone), the one being viewed marked as the current page.
#[component]
pub fn ModuleNav() -> impl IntoView {
    let modules = expect_context::<ModulesResource>();
    let location = leptos_router::hooks::use_location();
    let current = move || {
        location
            .pathname
            .get()
            .strip_prefix("/m/")
            .map(|rest| rest.split('/').next().unwrap_or_default().to_owned())
    };
    view! {
        <Suspense>
            {move || {
                modules
                    .get()
                    .and_then(Result::ok)
                    .map(|list| view! {
                        <aside class="sidebar">
                        <nav class="modules" aria-label="Modules">
                                <ul>
                                    <crate::activities::mine::MyActivitiesLink />
                                    {list
                                        .into_iter()
                                        .map(|m| {
                                            let api = m.api_name.clone();
                                            view! {
                                                <li>
                                                    <a
                                                        href=format!("/m/{}", m.api_name)
                                                        aria-current=move || (current().as_deref() == Some(api.as_str())).then_some("page")
                                                    >
                                                        {m.plural}
                                                    </a>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                        </nav>
                        </aside>
                    })
            }}
        </Suspense>
    }
}

/// A way back to the module opened last in this browser (read after hydration: the server
/// cannot know what this browser kept).
#[component]
pub fn ContinueLink() -> impl IntoView {
    let modules = expect_context::<ModulesResource>();
    let last = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(conn) = crate::stash::active_connection() {
            last.set(crate::stash::load::<String>(&conn, LAST_MODULE));
        }
    });
    view! {
        <Suspense>
            {move || {
                let list = modules.get().and_then(Result::ok)?;
                let m = last.get().and_then(|l| list.into_iter().find(|m| m.api_name == l))?;
                Some(view! {
                    <p class="resume">
                        <a href=format!("/m/{}", m.api_name)>{format!("Continue with {}", m.plural)}</a>
                    </p>
                })
            }}
        </Suspense>
    }
}
