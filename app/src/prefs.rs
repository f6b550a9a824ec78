//! Preferences that belong to this browser, not to an account: kept in localStorage and read only
//! after hydration, so the server's HTML and the first client render always agree.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Which colour scheme the page uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeName {
    #[default]
    Light,
    Dark,
}

impl ThemeName {
    pub fn as_str(self) -> &'static str {
        match self {
            ThemeName::Light => "light",
            ThemeName::Dark => "dark",
        }
    }

    fn toggled(self) -> Self {
        match self {
            ThemeName::Light => ThemeName::Dark,
            ThemeName::Dark => ThemeName::Light,
        }
    }
}

/// The page's theme, shared through the context.
#[derive(Clone, Copy, Debug)]
pub struct Theme(RwSignal<ThemeName>);

#[cfg(feature = "hydrate")]
const THEME_KEY: &str = "zportal.theme";

impl Theme {
    /// Creates the theme signal, provides it, and (in the browser) loads the stored choice and
    /// keeps `<html data-theme>` in step with it.
    pub fn provide() -> Theme {
        let signal = RwSignal::new(ThemeName::default());
        #[cfg(feature = "hydrate")]
        {
            use gloo_storage::{LocalStorage, Storage};
            Effect::new(move |_| {
                if let Ok(stored) = LocalStorage::get::<ThemeName>(THEME_KEY) {
                    signal.set(stored);
                }
            });
            Effect::new(move |_| {
                let name = signal.get();
                if let Some(root) = document().document_element() {
                    let _ = root.set_attribute("data-theme", name.as_str());
                }
            });
        }
        let theme = Theme(signal);
        provide_context(theme);
        theme
    }

    pub fn get(self) -> ThemeName {
        self.0.get()
    }

    /// Switches the theme and remembers the choice in this browser.
    pub fn toggle(self) {
        self.0.update(|t| *t = t.toggled());
        #[cfg(feature = "hydrate")]
        {
            use gloo_storage::{LocalStorage, Storage};
            let _ = LocalStorage::set(THEME_KEY, self.0.get_untracked());
        }
    }
}

/// A toggle button for the dark theme.
#[component]
pub fn ThemeToggle(theme: Theme) -> impl IntoView {
    let pressed = move || (theme.get() == ThemeName::Dark).to_string();
    view! {
        <button type="button" class="ghost" aria-pressed=pressed on:click=move |_| theme.toggle()>
            "Dark theme"
        </button>
    }
}
