//! Numbers as the reader's locale writes them: the server renders a neutral form (digits grouped
//! by thousands with commas, a point before the decimals, the currency's code after money), and
//! once the page is hydrated the browser rewrites it with `Intl.NumberFormat` in its own locale.

use leptos::prelude::*;

use super::ValueKind;

/// `2497000` → `2,497,000`; `1234.5` → `1,234.5`; anything that is not a number stays as it is.
pub fn grouped(raw: &str) -> String {
    let raw = raw.trim();
    let (sign, digits) = match raw.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", raw),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len() + whole.len() / 3);
    out.push_str(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = fraction.filter(|f| !f.is_empty()) {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// The server's neutral text for a number of `kind`.
pub fn neutral(raw: &str, kind: ValueKind, currency: Option<&str>) -> String {
    match kind {
        ValueKind::Currency => {
            let cents = raw
                .trim()
                .parse::<f64>()
                .map(|n| format!("{n:.2}"))
                .unwrap_or_else(|_| raw.to_owned());
            match currency {
                Some(code) => format!("{} {code}", grouped(&cents)),
                None => grouped(&cents),
            }
        }
        ValueKind::Percent => format!("{}%", grouped(raw)),
        _ => grouped(raw),
    }
}

/// A number, money or a percentage: the neutral form until hydration, then the reader's.
#[component]
pub fn LocalNumber(
    #[prop(into)] raw: String,
    kind: ValueKind,
    currency: Option<String>,
) -> impl IntoView {
    let text = RwSignal::new(neutral(&raw, kind, currency.as_deref()));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(local) = in_locale(&raw, kind, currency.as_deref()) {
            text.set(local);
        }
    });
    view! { <span class="number">{move || text.get()}</span> }
}

#[cfg(feature = "hydrate")]
fn in_locale(raw: &str, kind: ValueKind, currency: Option<&str>) -> Option<String> {
    use wasm_bindgen::JsValue;
    let n = raw.trim().parse::<f64>().ok()?;
    let options = js_sys::Object::new();
    let set = |k: &str, v: JsValue| js_sys::Reflect::set(&options, &JsValue::from_str(k), &v);
    let value = match (kind, currency) {
        (ValueKind::Currency, Some(code)) => {
            set("style", "currency".into()).ok()?;
            set("currency", code.into()).ok()?;
            n
        }
        (ValueKind::Currency, None) => {
            set("minimumFractionDigits", 2.into()).ok()?;
            set("maximumFractionDigits", 2.into()).ok()?;
            n
        }
        (ValueKind::Percent, _) => {
            set("style", "percent".into()).ok()?;
            set("maximumFractionDigits", 2.into()).ok()?;
            n / 100.0
        }
        _ => n,
    };
    let format = js_sys::Intl::NumberFormat::new(&js_sys::Array::new(), &options).format();
    format
        .call1(&JsValue::NULL, &JsValue::from_f64(value))
        .ok()?
        .as_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands_and_the_rest_is_left_alone() {
        assert_eq!(grouped("2497000"), "2,497,000");
        assert_eq!(grouped("-1234.5"), "-1,234.5");
        assert_eq!(grouped("999"), "999");
        assert_eq!(grouped("12a"), "12a");
        assert_eq!(
            neutral("2497000", ValueKind::Currency, Some("USD")),
            "2,497,000.00 USD"
        );
        assert_eq!(neutral("30", ValueKind::Percent, None), "30%");
    }
}
