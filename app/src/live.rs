//! Live pages, in the app: `public/live.js` keeps one event stream per browser and dispatches
//! each event as a `zportal:live` event on `window`; here those become a signal that pages
//! watch, each re-reading what it shows when a change touches it (its module, its record, the
//! notes) — or everything, when the stream says to reload or the page polls. A page whose
//! stream was replaced by a newer one of its session polls instead.

use leptos::prelude::*;

pub use crate::live_event::LiveEvent;

/// The event a `zportal:live` event carries: its line, as the stream sent it.
#[cfg(feature = "hydrate")]
fn read(ev: &web_sys::Event) -> Option<LiveEvent> {
    let detail = js_sys::Reflect::get(ev, &wasm_bindgen::JsValue::from_str("detail")).ok()?;
    LiveEvent::parse(&detail.as_string()?)
}

/// Tells `live.js` how often to ask this page to check for changes while it is visible (`0`:
/// never, Zoho notifies zportal): what the stream's `hello` said.
#[cfg(feature = "hydrate")]
fn poll_every(secs: u64) {
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&wasm_bindgen::JsValue::from_f64(secs as f64));
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict("zportal:live-poll", &init) {
        let _ = window().dispatch_event(&event);
    }
}

/// The latest event, numbered so that two equal events are still two.
#[derive(Clone, Copy)]
pub struct Live(
    // Read by the pages' watchers, which run in the browser only.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))] ReadSignal<Option<(u64, LiveEvent)>>,
);

/// Listens for the stream's events (in the browser; the server renders no changes).
pub fn provide() {
    let (latest, set_latest) = signal(None::<(u64, LiveEvent)>);
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener_untyped("zportal:live", move |ev| {
            if let Some(change) = read(&ev) {
                match &change {
                    LiveEvent::Hello(mode) => poll_every(if mode.is_push() {
                        0
                    } else {
                        crate::live_event::POLL_SECS
                    }),
                    // Another stream of this session serves it now: this page polls.
                    LiveEvent::Replaced => poll_every(crate::live_event::POLL_SECS),
                    // (`end`: live.js loads the page anew.)
                    _ => {}
                }
                set_latest.update(|l| {
                    let n = l.as_ref().map_or(0, |(n, _)| n + 1);
                    *l = Some((n, change));
                });
            }
        });
        // The app lives as long as the page.
        std::mem::forget(handle);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = set_latest;
    provide_context(Live(latest));
}

/// Asks `live.js` to open the stream: someone is signed in.
pub fn start() {
    #[cfg(feature = "hydrate")]
    if let Ok(event) = web_sys::Event::new("zportal:live-start") {
        let _ = window().dispatch_event(&event);
    }
}

/// Runs `again` when an event of the stream `touches` what the caller shows. A burst of events
/// (a bulk delete, a board move and its notification) runs it once, a moment after the last.
///
/// Generic only in name: the callbacks are boxed at once, so every page shares one watcher
/// instead of a copy of the effect's machinery per closure type.
pub fn on_change(touches: impl Fn(&LiveEvent) -> bool + 'static, again: impl Fn() + 'static) {
    // The server renders no changes (and must not keep this page's values past its render).
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (touches, again);
    }
    #[cfg(feature = "hydrate")]
    watch(Box::new(touches), std::rc::Rc::new(again));
}

#[cfg(feature = "hydrate")]
fn watch(touches: Box<dyn Fn(&LiveEvent) -> bool>, again: std::rc::Rc<dyn Fn()>) {
    let Some(Live(latest)) = use_context::<Live>() else {
        return;
    };
    let waiting = StoredValue::new(false);
    Effect::new(move |_| {
        let Some((_, change)) = latest.get() else {
            return;
        };
        if !touches(&change) || waiting.get_value() {
            return;
        }
        waiting.set_value(true);
        let again = again.clone();
        set_timeout(
            move || {
                waiting.set_value(false);
                again();
            },
            std::time::Duration::from_millis(150),
        );
    });
}
