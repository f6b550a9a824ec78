//! Preferences that belong to this browser, not to an account. The theme is a cookie
//! (`zportal_theme`), so the server renders the chosen theme in the first paint; with no cookie,
//! the browser's `prefers-color-scheme` decides, in CSS alone.

use leptos::prelude::*;

/// The theme cookie's name (README, "Configuration").
pub const THEME_COOKIE: &str = "zportal_theme";

/// Which colour scheme the page uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThemeChoice {
    Light,
    Dark,
    /// No cookie: the browser's own setting.
    #[default]
    System,
}

impl ThemeChoice {
    pub const ALL: [ThemeChoice; 3] = [ThemeChoice::Light, ThemeChoice::Dark, ThemeChoice::System];

    /// The cookie's value and the `<select>`'s; `<html data-theme>` carries it unless `System`.
    pub fn as_str(self) -> &'static str {
        match self {
            ThemeChoice::Light => "light",
            ThemeChoice::Dark => "dark",
            ThemeChoice::System => "system",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ThemeChoice::Light => "Light",
            ThemeChoice::Dark => "Dark",
            ThemeChoice::System => "System",
        }
    }

    /// A cookie's or the select's value; anything else is `System`.
    pub fn parse(value: &str) -> ThemeChoice {
        match value.trim() {
            "light" => ThemeChoice::Light,
            "dark" => ThemeChoice::Dark,
            _ => ThemeChoice::System,
        }
    }

    /// The `data-theme` attribute `<html>` carries, if any.
    pub fn attribute(self) -> Option<&'static str> {
        (self != ThemeChoice::System).then(|| self.as_str())
    }
}

/// The theme this request's cookie asks for (the server's side of the first paint).
#[cfg(feature = "ssr")]
pub fn requested_theme() -> ThemeChoice {
    request_cookie(|c| c.name() == THEME_COOKIE)
        .map(|value| ThemeChoice::parse(&value))
        .unwrap_or_default()
}

/// Whether this request carries a session cookie (`zportal_session`, or `__Host-zportal_session`
/// on https): without one, the page is a signed-out one.
#[cfg(feature = "ssr")]
pub fn has_session_cookie() -> bool {
    request_cookie(|c| c.name().ends_with("zportal_session")).is_some()
}

/// The value of the first cookie of this request that `pick` picks.
#[cfg(feature = "ssr")]
fn request_cookie(pick: impl Fn(&cookie::Cookie<'_>) -> bool) -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| pick(c))
        .map(|c| c.value().to_owned())
}

/// The page's theme, shared through the context.
#[derive(Clone, Copy, Debug)]
pub struct Theme(RwSignal<ThemeChoice>);

/// Where an earlier zportal kept the choice; it moves to the cookie once.
#[cfg(feature = "hydrate")]
const OLD_STORAGE_KEY: &str = "zportal.theme";

impl Theme {
    /// Creates the theme signal from the cookie (the server's render and the browser's first one
    /// read the same cookie, so they agree), provides it, and in the browser keeps
    /// `<html data-theme>` and the cookie in step with it.
    pub fn provide() -> Theme {
        #[cfg(feature = "ssr")]
        let initial = requested_theme();
        #[cfg(feature = "hydrate")]
        let initial = browser::cookie_theme().unwrap_or_default();
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        let initial = ThemeChoice::default();
        let signal = RwSignal::new(initial);
        #[cfg(feature = "hydrate")]
        {
            Effect::new(move |_| {
                if let Some(old) = browser::take_stored_choice()
                    && browser::cookie_theme().is_none()
                {
                    signal.set(old);
                    browser::write_cookie(old);
                }
            });
            Effect::new(move |_| browser::show(signal.get()));
        }
        let theme = Theme(signal);
        provide_context(theme);
        theme
    }

    pub fn get(self) -> ThemeChoice {
        self.0.get()
    }

    /// Switches the theme and remembers the choice in this browser's cookie.
    pub fn choose(self, choice: ThemeChoice) {
        self.0.set(choice);
        #[cfg(feature = "hydrate")]
        browser::write_cookie(choice);
    }
}

/// The "Theme" select: Light, Dark or System.
#[component]
pub fn ThemeSelect(theme: Theme) -> impl IntoView {
    view! {
        <label class="theme-choice">
            "Theme"
            <select on:change=move |ev| theme.choose(ThemeChoice::parse(&event_target_value(&ev)))>
                {ThemeChoice::ALL
                    .into_iter()
                    .map(|c| view! { <option value=c.as_str() selected=move || theme.get() == c>{c.label()}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    //! The browser's side: `document.cookie` and the attribute on `<html>`.

    use super::{OLD_STORAGE_KEY, THEME_COOKIE, ThemeChoice};
    use leptos::prelude::document;
    use wasm_bindgen::JsCast;

    fn html_document() -> Option<web_sys::HtmlDocument> {
        document().dyn_into::<web_sys::HtmlDocument>().ok()
    }

    /// The cookie's choice, if it is set. By hand, not with the `cookie` crate the server uses:
    /// one `name=value` pair of `document.cookie` is all there is to read, and that crate would
    /// bring its date handling into the WASM.
    pub fn cookie_theme() -> Option<ThemeChoice> {
        let all = html_document()?.cookie().ok()?;
        all.split(';')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| k.trim() == THEME_COOKIE)
            .map(|(_, v)| ThemeChoice::parse(v))
    }

    /// Stores `choice` for a year (`System` deletes the cookie). Not `HttpOnly`: this code writes
    /// it. `Secure` on https.
    pub fn write_cookie(choice: ThemeChoice) {
        let Some(doc) = html_document() else { return };
        let secure = if leptos::prelude::location().protocol().as_deref() == Ok("https:") {
            "; Secure"
        } else {
            ""
        };
        let cookie = match choice.attribute() {
            Some(value) => {
                format!("{THEME_COOKIE}={value}; Path=/; Max-Age=31536000; SameSite=Lax{secure}")
            }
            None => format!("{THEME_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax{secure}"),
        };
        let _ = doc.set_cookie(&cookie);
    }

    /// The choice an earlier zportal kept in localStorage, which is removed.
    pub fn take_stored_choice() -> Option<ThemeChoice> {
        use gloo_storage::{LocalStorage, Storage};
        let raw = LocalStorage::raw().get_item(OLD_STORAGE_KEY).ok()??;
        LocalStorage::delete(OLD_STORAGE_KEY);
        Some(ThemeChoice::parse(raw.trim_matches('"')))
    }

    /// Puts the choice on `<html data-theme>` (none for `System`: the CSS follows the browser).
    pub fn show(choice: ThemeChoice) {
        let Some(root) = document().document_element() else {
            return;
        };
        let _ = match choice.attribute() {
            Some(value) => root.set_attribute("data-theme", value),
            None => root.remove_attribute("data-theme"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::ThemeChoice;

    #[test]
    fn a_cookie_value_names_a_theme_and_anything_else_is_the_system_one() {
        for c in ThemeChoice::ALL {
            assert_eq!(ThemeChoice::parse(c.as_str()), c);
        }
        assert_eq!(ThemeChoice::parse("sepia"), ThemeChoice::System);
        assert_eq!(ThemeChoice::System.attribute(), None);
        assert_eq!(ThemeChoice::Dark.attribute(), Some("dark"));
    }
}
