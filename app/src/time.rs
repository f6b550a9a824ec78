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
