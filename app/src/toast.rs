//! Short confirmations after an action ("Lead saved.", "Note deleted."): one live region
//! (`role="status"`) outside the routes, so a toast said just before a navigation is still read
//! out and seen on the next page; each goes after a few seconds.

use leptos::prelude::*;

/// How long a toast stays.
const SHOWN_FOR: std::time::Duration = std::time::Duration::from_secs(6);

/// One toast: its words, then links to what it is about (name, address).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Toast {
    text: String,
    links: Vec<(String, String)>,
}

/// The page's toasts.
#[derive(Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<(u32, Toast)>>,
    next: StoredValue<u32>,
}

impl Toasts {
    /// Creates the toasts and offers them to every component below.
    pub fn provide() -> Self {
        let t = Toasts {
            list: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
        };
        provide_context(t);
        t
    }

    /// The page's toasts (none outside [`crate::App`], e.g. in a component test).
    pub fn get() -> Self {
        use_context::<Toasts>().unwrap_or_else(Toasts::provide)
    }

    /// Shows `text` for a few seconds.
    pub fn say(self, text: impl Into<String>) {
        self.say_with_links(text, Vec::new());
    }

    /// Shows `text`, then a link to each of `links` (name, address). A toast with links stays
    /// until dismissed: the links must be there for whoever reaches them by keyboard.
    pub fn say_with_links(self, text: impl Into<String>, links: Vec<(String, String)>) {
        let n = self.next.get_value() + 1;
        self.next.set_value(n);
        let lasting = !links.is_empty();
        let toast = Toast {
            text: text.into(),
            links,
        };
        self.list.update(|l| l.push((n, toast)));
        if lasting {
            return;
        }
        set_timeout(
            move || self.list.update(|l| l.retain(|(k, _)| *k != n)),
            SHOWN_FOR,
        );
    }
}

/// Where toasts appear: a live region there from the start (so what is said into it is read
/// out), its list drawn from a WASM chunk of its own once there is a first toast.
#[component]
pub fn ToastRegion(toasts: Toasts) -> impl IntoView {
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <Show when=move || !toasts.list.read().is_empty()>
                <Suspense>{move || Suspend::new(toast_list(toasts))}</Suspense>
            </Show>
        </div>
    }
}

/// The toasts, from their own chunk.
#[cfg_attr(any(feature = "ssr", feature = "split"), lazy)]
async fn toast_list(toasts: Toasts) -> AnyView {
    view! {
        <For each=move || toasts.list.get() key=|(n, _)| *n let:toast>
            <p class="toast">
                {toast.1.text}
                {(!toast.1.links.is_empty()).then(|| {
                    let n = toast.0;
                    view! {
                        {toast
                            .1
                            .links
                            .clone()
                            .into_iter()
                            .map(|(name, href)| view! { " " <a href=href>{name}</a> })
                            .collect_view()}
                        " "
                        <button
                            type="button"
                            class="ghost"
                            on:click=move |_| toasts.list.update(|l| l.retain(|(k, _)| *k != n))
                        >
                            "Dismiss"
                        </button>
                    }
                })}
            </p>
        </For>
    }
    .into_any()
}
