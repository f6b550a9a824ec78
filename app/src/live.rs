//! Live pages, in the app: `public/live.js` keeps one event stream per browser and dispatches
//! each event as a `zportal:live` event on `window`; here those become a signal that pages
//! watch, each re-reading what it shows when a change touches it (its module, its record, the
//! notes) — or everything, when the stream says to reload or the page polls.

use leptos::prelude::*;

/// One event of the stream, as `live.js` passes it on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveChange {
    /// `hello`, `change`, `reload` or `poll`.
    pub kind: String,
    pub module: String,
    pub ids: Vec<String>,
    /// `create`, `edit` or `delete`.
    pub op: String,
}

impl LiveChange {
    /// Everything may have changed: the page re-reads all it shows.
    fn is_everything(&self) -> bool {
        matches!(self.kind.as_str(), "poll" | "reload")
    }

    /// Whether a page of `module` (showing record `id`, if given) should re-read.
    pub fn touches(&self, module: &str, id: Option<&str>) -> bool {
        self.is_everything()
            || (self.kind == "change"
                && self.module.eq_ignore_ascii_case(module)
                && id.is_none_or(|id| self.ids.iter().any(|i| i == id)))
    }

    /// Whether notes changed (Zoho names a note by its own id, not its record's).
    pub fn touches_notes(&self) -> bool {
        self.is_everything() || (self.kind == "change" && self.module == "Notes")
    }

    /// Whether the record `id` of `module` was deleted.
    pub fn deletes(&self, module: &str, id: &str) -> bool {
        self.kind == "change" && self.op == "delete" && self.touches(module, Some(id))
    }

    /// Whether record `id` of `module` changed and is still there: what its page's sections
    /// re-read on. A deleted record's page says so and drops them; asking Zoho for a deleted
    /// record's notes or files would only be refused.
    pub fn keeps(&self, module: &str, id: &str) -> bool {
        self.touches(module, Some(id)) && !self.deletes(module, id)
    }

    /// The change as `live.js` puts it in an event's `detail`: `kind|module|op|id,id,…`.
    pub fn parse(detail: &str) -> Option<Self> {
        let mut parts = detail.splitn(4, '|');
        let kind = parts.next().filter(|k| !k.is_empty())?.to_owned();
        let module = parts.next().unwrap_or_default().to_owned();
        let op = parts.next().unwrap_or_default().to_owned();
        let ids = parts
            .next()
            .unwrap_or_default()
            .split(',')
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        Some(LiveChange {
            kind,
            module,
            ids,
            op,
        })
    }
}

/// The change a `zportal:live` event carries (no JSON decoder of its own in the first page).
#[cfg(feature = "hydrate")]
fn read(ev: &web_sys::Event) -> Option<LiveChange> {
    let detail = js_sys::Reflect::get(ev, &wasm_bindgen::JsValue::from_str("detail")).ok()?;
    LiveChange::parse(&detail.as_string()?)
}

/// The latest event, numbered so that two equal events are still two.
#[derive(Clone, Copy)]
pub struct Live(
    // Read by the pages' watchers, which run in the browser only.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))] ReadSignal<Option<(u64, LiveChange)>>,
);

/// Listens for the stream's events (in the browser; the server renders no changes).
pub fn provide() {
    let (latest, set_latest) = signal(None::<(u64, LiveChange)>);
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener_untyped("zportal:live", move |ev| {
            if let Some(change) = read(&ev) {
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
pub fn on_change(touches: impl Fn(&LiveChange) -> bool + 'static, again: impl Fn() + 'static) {
    // The server renders no changes (and must not keep this page's values past its render).
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (touches, again);
    }
    #[cfg(feature = "hydrate")]
    watch(Box::new(touches), std::rc::Rc::new(again));
}

#[cfg(feature = "hydrate")]
fn watch(touches: Box<dyn Fn(&LiveChange) -> bool>, again: std::rc::Rc<dyn Fn()>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn change(module: &str, ids: &[&str], op: &str) -> LiveChange {
        LiveChange {
            kind: "change".into(),
            module: module.into(),
            ids: ids.iter().map(|s| (*s).to_owned()).collect(),
            op: op.into(),
        }
    }

    #[test]
    fn a_change_touches_its_module_and_its_records_only() {
        let c = change("Leads", &["1", "2"], "edit");
        assert!(c.touches("Leads", None));
        assert!(c.touches("leads", Some("2")));
        assert!(!c.touches("Leads", Some("3")));
        assert!(!c.touches("Deals", None));
        assert!(!c.touches_notes());
        assert!(change("Notes", &["9"], "create").touches_notes());
        assert!(change("Leads", &["1"], "delete").deletes("Leads", "1"));
        assert!(!c.deletes("Leads", "1"));
        assert!(c.keeps("Leads", "1"));
        assert!(!change("Leads", &["1"], "delete").keeps("Leads", "1"));
        assert!(!c.keeps("Leads", "3"));
    }

    #[test]
    fn the_detail_live_js_sends_reads_back() {
        assert_eq!(
            LiveChange::parse("change|Leads|edit|1,2"),
            Some(change("Leads", &["1", "2"], "edit"))
        );
        let poll = LiveChange::parse("poll|||").expect("poll");
        assert_eq!((poll.kind.as_str(), poll.ids.len()), ("poll", 0));
        assert_eq!(
            LiveChange::parse("reload").map(|c| c.kind),
            Some("reload".into())
        );
        assert_eq!(LiveChange::parse(""), None);
    }

    #[test]
    fn polls_and_reloads_touch_everything_and_hello_nothing() {
        for kind in ["poll", "reload"] {
            let c = LiveChange {
                kind: kind.into(),
                ..LiveChange::default()
            };
            assert!(c.touches("Deals", Some("5")) && c.touches_notes(), "{kind}");
        }
        let hello = LiveChange {
            kind: "hello".into(),
            ..LiveChange::default()
        };
        assert!(!hello.touches("Deals", None) && !hello.touches_notes());
    }
}
