//! Times as the reader's clock shows them: the server renders the instant in UTC (it cannot know
//! the reader's zone), and once the page is hydrated the browser rewrites it in its own time zone.

use leptos::prelude::*;

/// Civil date and time of Unix seconds, in UTC: (year, month, day, hour, minute, second).
fn civil(secs: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// `2026-11-28 16:14:42 UTC`.
pub fn utc(secs: i64) -> String {
    let (y, m, d, h, min, s) = civil(secs);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02} UTC")
}

/// `2026-11-28T16:14:42Z`, for `<time datetime>`.
pub fn iso(secs: i64) -> String {
    let (y, m, d, h, min, s) = civil(secs);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}Z")
}

/// An instant (ISO 8601 with an offset), shown as given until hydration, then in the browser's
/// time zone and locale.
#[component]
pub fn LocalTime(#[prop(into)] iso: String, #[prop(into)] fallback: String) -> impl IntoView {
    let text = RwSignal::new(fallback);
    #[cfg(feature = "hydrate")]
    {
        let instant = iso.clone();
        Effect::new(move |_| {
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&instant));
            if !date.get_time().is_nan() {
                let local: String = date
                    .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
                    .into();
                text.set(local);
            }
        });
    }
    view! { <time datetime=iso>{move || text.get()}</time> }
}

/// What an `<input type="datetime-local">` shows for an instant: `YYYY-MM-DDTHH:MM` in the
/// browser's zone (on the server, the instant's own wall time, which hydration replaces).
pub fn to_local_input(iso: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(iso));
        if !date.get_time().is_nan() {
            return format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}",
                date.get_full_year(),
                date.get_month() + 1,
                date.get_date(),
                date.get_hours(),
                date.get_minutes()
            );
        }
    }
    iso.chars().take(16).collect()
}

/// The instant a `datetime-local` value means in the browser's zone, as Zoho writes instants:
/// `YYYY-MM-DDTHH:MM:SS+00:00`. Empty stays empty.
pub fn from_local_input(local: &str) -> String {
    if local.is_empty() {
        return String::new();
    }
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(local));
        if !date.get_time().is_nan() {
            return format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
                date.get_utc_full_year(),
                date.get_utc_month() + 1,
                date.get_utc_date(),
                date.get_utc_hours(),
                date.get_utc_minutes(),
                date.get_utc_seconds()
            );
        }
    }
    format!("{local}:00+00:00")
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_unix_seconds_in_utc() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(super::utc(1_795_882_482), "2026-11-28 16:14:42 UTC");
        assert_eq!(super::iso(1_795_882_482), "2026-11-28T16:14:42Z");
    }
}
