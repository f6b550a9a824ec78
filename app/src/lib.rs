//! zportal's user interface: the HTML shell, the routes and pages, and the server functions the
//! pages call. Compiled twice: with `ssr` into the server and with `hydrate` into the WASM bundle.

pub mod account;
pub mod activities;
pub mod bulk;
pub mod connection;
#[cfg(feature = "ssr")]
pub mod context;
pub mod convert;
pub mod error;
pub mod live;
pub mod live_event;
pub mod prefs;
pub mod problem;
pub mod records;
#[cfg(feature = "ssr")]
pub mod session;
pub mod sign_in;
pub mod stash;
pub mod time;
pub mod toast;
pub mod wire;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, Meta, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

pub use error::AppError;

/// The product name, as shown in the header and the title.
pub const PRODUCT: &str = "zportal";

/// A page's `<title>`: its parts, then the product. The server writes a title's text as it is
/// (inside `<title>`, where markup is text until `</title>`), so angle brackets from a record's
/// name are replaced by look-alikes: no name can end the title early.
pub fn page_title(parts: &[&str]) -> String {
    let mut title = String::new();
    for p in parts.iter().filter(|p| !p.is_empty()) {
        title.push_str(p);
        title.push_str(" · ");
    }
    title.push_str(PRODUCT);
    title.replace('<', "‹").replace('>', "›")
}

/// What search engines and link previews show for every page (pages say more in their titles).
pub const DESCRIPTION: &str =
    "zportal: sign in with your Zoho account and work with your Zoho CRM records, live.";

/// The HTML document the server renders around [`App`]: in the theme the request's cookie names
/// (none: the browser's own, in CSS), with the stylesheet's and the WASM's (hashed) names; for
/// a browser with no session, the WASM is deferred.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    context::provide_csp_nonce();
    #[cfg(feature = "ssr")]
    let (theme, signed_out) = (
        prefs::requested_theme().attribute(),
        !prefs::has_session_cookie(),
    );
    #[cfg(not(feature = "ssr"))]
    let (theme, signed_out): (Option<&str>, bool) = (None, false);
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="data:," />
                <HashedStylesheet id="leptos" options=options.clone() />
                <AutoReload options=options.clone() />
                // A signed-out page works before its WASM does (its sign-in is a plain form), so
                // the WASM loads when the browser is idle, at low priority, off the first paint's
                // path.
                <HydrationScripts options defer=signed_out />
                // Live pages' one stream per browser (see `live`).
                <script type="module" src="/live.js" nonce=leptos::nonce::use_nonce()></script>
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The whole application: header, routes and pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();
    let theme = prefs::Theme::provide();
    let me = Resource::new(|| (), |_| account::who_is_signed_in());
    provide_context(me);
    records::provide_modules();
    let toasts = toast::Toasts::provide();
    live::provide();
    Effect::new(move |_| match me.get() {
        Some(Ok(Some(me))) => {
            // What this browser kept for accounts no longer in the session (signed out or
            // expired elsewhere, say) goes, as a sign-out here would have taken it.
            let ids: Vec<String> = me.accounts.iter().map(|a| a.id.clone()).collect();
            stash::keep_only(&ids);
            live::start();
        }
        Some(Ok(None)) => stash::keep_only(&[]),
        _ => {}
    });

    view! {
        <Title text=PRODUCT />
        <Meta name="description" content=DESCRIPTION />
        <Router>
            <FocusOnNavigation />
            <a class="skip-link" href="#main">
                "Skip to content"
            </a>
            <header class="topbar">
                <a class="brand" href="/">
                    {PRODUCT}
                </a>
                <span class="tagline">"Your Zoho CRM, signed in safely"</span>
                <div class="topbar-actions">
                    <Suspense>
                        {move || {
                            me.get()
                                .and_then(|r| r.ok().flatten())
                                .map(|me| view! { <account::AccountBar me /> })
                        }}
                    </Suspense>
                    <prefs::ThemeSelect theme />
                </div>
            </header>
            <div class="layout">
                // Shown when there are modules to show (signed in); one boundary, its own.
                <records::ModuleNav />
                <main class="content" id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    // Rendered whole before it is sent, as the lists are: the sign-in form is
                    // in the HTML itself, so it works before the WASM arrives (or without it).
                    <Route
                        path=StaticSegment("")
                        view={Lazy::<pages::Home>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("auth"), StaticSegment("error"))
                        view={Lazy::<pages::SignInError>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("activities")
                        view={Lazy::<pages::MyActivities>::new()}
                    />
                    <Route
                        path=StaticSegment("connection")
                        view={Lazy::<pages::Connection>::new()}
                    />
                    // Rendered whole before it is sent: a list streamed out of order arrives
                    // inside a <template>, whose parsing drops the markers hydration needs in a
                    // <select>'s options (and the page waits for its data either way).
                    <Route
                        path=(StaticSegment("m"), ParamSegment("module"))
                        view=records::ModulePage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("m"), ParamSegment("module"), StaticSegment("new"))
                        view={Lazy::<pages::RecordForm>::new()}
                    />
                    <Route
                        path=(StaticSegment("m"), ParamSegment("module"), ParamSegment("id"))
                        view={Lazy::<pages::Record>::new()}
                    />
                    <Route
                        path=(
                            StaticSegment("m"),
                            ParamSegment("module"),
                            ParamSegment("id"),
                            StaticSegment("edit"),
                        )
                        view={Lazy::<pages::RecordForm>::new()}
                    />
                </Routes>
                </main>
            </div>
            <toast::ToastRegion toasts />
        </Router>
    }
}

/// The pages a first visit to a record list does not need. In a split build (the `split` feature,
/// which `cargo xtask` turns on with `cargo leptos build --release --split`) each is a WASM chunk of
/// its own, fetched when the page is first shown (and preloaded with the page when the server
/// renders it); in a plain build (`cargo leptos watch`) they are ordinary async routes, because
/// nothing would resolve a split import.
mod pages {
    use leptos::prelude::*;
    use leptos_router::LazyRoute;

    /// A lazy route: `$name` holds what `$load` starts (in `data()`, so it runs alongside the
    /// chunk's fetch, not after it), and `$view` renders the page from it.
    macro_rules! lazy_page {
        ($name:ident: $data:ty = $load:expr => $view:expr) => {
            pub struct $name($data);

            // The server names the chunk to preload whether or not the WASM was split (with no
            // split manifest beside the WASM, it names none).
            #[cfg(any(feature = "ssr", feature = "split"))]
            #[leptos_router::lazy_route]
            impl LazyRoute for $name {
                fn data() -> Self {
                    $name($load)
                }

                fn view(this: Self) -> AnyView {
                    ($view)(this.0).into_any()
                }
            }

            #[cfg(not(any(feature = "ssr", feature = "split")))]
            impl LazyRoute for $name {
                fn data() -> Self {
                    $name($load)
                }

                async fn view(this: Self) -> AnyView {
                    ($view)(this.0).into_any()
                }
            }
        };
    }

    lazy_page!(Home: () = () => |()| super::HomePage());
    lazy_page!(SignInError: () = () => |()| crate::sign_in::SignInError());
    lazy_page!(Connection: () = () => |()| crate::connection::ConnectionPage());
    lazy_page!(RecordForm: () = () => |()| crate::records::RecordFormPage());
    lazy_page!(MyActivities: () = () => |()| crate::activities::mine::MyActivitiesPage());
    lazy_page!(Record: crate::records::RecordData = crate::records::RecordData::load() => |data| {
        view! { <crate::records::RecordPage data /> }
    });
}

/// After a navigation to another page (not a first load, nor a change of the query alone), moves
/// the focus to the new page's heading, as a screen reader user expects; the page renders its
/// heading once its data is in, so this waits for it a little.
#[component]
fn FocusOnNavigation() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        if previous.is_some_and(|p| p != path) {
            focus_heading(30);
        }
        path
    });
}

/// Focuses `main h1` once the new page has one, and keeps it there while the page replaces its
/// heading as its data comes in (checking every 100 ms, `tries` times) — unless the person has
/// moved the focus elsewhere meanwhile.
pub(crate) fn focus_heading(tries: u32) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let heading = document()
            .query_selector("main h1")
            .ok()
            .flatten()
            .and_then(|h| h.dyn_into::<web_sys::HtmlElement>().ok());
        let active = document().active_element();
        let elsewhere = active.as_ref().is_some_and(|a| {
            !a.tag_name().eq_ignore_ascii_case("body")
                && !a.tag_name().eq_ignore_ascii_case("h1")
                && !a.tag_name().eq_ignore_ascii_case("a")
        });
        if let Some(h1) = heading {
            let focused = active.is_some_and(|a| {
                let h: &web_sys::Element = h1.as_ref();
                a == *h
            });
            if !focused && !elsewhere {
                if !h1.has_attribute("tabindex") {
                    let _ = h1.set_attribute("tabindex", "-1");
                }
                let _ = h1.focus();
            }
        }
        if tries > 0 {
            set_timeout(
                move || focus_heading(tries - 1),
                std::time::Duration::from_millis(100),
            );
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = tries;
}

/// Tells tests (and anything else that cares) that the WASM has taken over the page.
fn mark_hydrated() {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// The session's accounts, as the header loaded them.
pub type MeResource = Resource<Result<Option<account::SignedIn>, AppError>>;

/// `/`: the sign-in panel when signed out; the signed-in home otherwise.
#[component]
fn HomePage() -> impl IntoView {
    let me = expect_context::<MeResource>();
    // The page's own components are created in a plain reactive closure, not after an `.await`
    // inside `Suspend`: resources they create must belong to this render's owner.
    view! {
        <Suspense>
            {move || {
                me.get()
                    .map(|result| match result {
                        Ok(Some(me)) => view! { <account::SignedInHome me /> }.into_any(),
                        Ok(None) => view! { <SignedOutHome /> }.into_any(),
                        Err(e) => {
                            view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any()
                        }
                    })
            }}
        </Suspense>
    }
}

#[component]
fn SignedOutHome() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"Sign in with your Zoho account"</h1>
            <p class="lede">
                "zportal lets you browse, search and edit your Zoho CRM records. "
                "Your tokens stay on our server, encrypted; your browser only holds a session cookie."
            </p>
            <sign_in::SignInPanel />
        </section>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <section class="panel">
            <h1>"Page not found"</h1>
            <p>
                <a href="/">"Back to the start"</a>
            </p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::page_title;

    #[test]
    fn no_name_can_end_a_title_early() {
        assert_eq!(
            page_title(&["Lead 0001", "Leads"]),
            "Lead 0001 · Leads · zportal"
        );
        assert_eq!(
            page_title(&["</title><script>x</script>"]),
            "‹/title›‹script›x‹/script› · zportal"
        );
        assert_eq!(page_title(&[]), "zportal");
    }
}
