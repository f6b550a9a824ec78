//! Reading one variable's text into a type, each failure naming the variable.

use std::time::Duration;

use url::Url;

use super::ConfigError;

/// `value` parsed, or `default` when unset.
pub(super) fn parse_or<T: std::str::FromStr>(
    var: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    let raw = value.as_deref().unwrap_or(default);
    raw.trim()
        .parse()
        .map_err(|e| ConfigError::new(var, format!("{raw:?} is not valid: {e}")))
}

/// A duration like `2h` or `30m`, longer than zero; `default` when unset.
pub(super) fn parse_duration(
    var: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<Duration, ConfigError> {
    let raw = value.as_deref().unwrap_or(default);
    let d = humantime::parse_duration(raw.trim()).map_err(|e| {
        ConfigError::new(
            var,
            format!("{raw:?} is not a duration like 2h or 30m: {e}"),
        )
    })?;
    if d.is_zero() {
        return Err(ConfigError::new(var, "must be longer than zero"));
    }
    Ok(d)
}

/// A positive whole number, or `default` when unset.
pub(super) fn parse_positive(
    var: &'static str,
    raw: Option<String>,
    default: usize,
) -> Result<usize, ConfigError> {
    match raw {
        None => Ok(default),
        Some(n) => n
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ConfigError::new(var, format!("expected a positive number, got {n:?}"))),
    }
}

/// One of a few words (`on`/`off`/`auto`, `0`/`1`, `text`/`json`): the value of the one
/// `choices` names, `default` when unset.
pub(super) fn parse_choice<T: Copy>(
    var: &'static str,
    raw: Option<&str>,
    choices: &[(&str, T)],
    default: T,
) -> Result<T, ConfigError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(default);
    };
    if let Some((_, value)) = choices.iter().find(|(word, _)| *word == raw) {
        return Ok(*value);
    }
    let words: Vec<String> = choices.iter().map(|(w, _)| format!("`{w}`")).collect();
    Err(ConfigError::new(
        var,
        format!("expected {}, got {raw:?}", words.join(" or ")),
    ))
}

/// An http(s) URL with a host and no query or fragment.
pub(super) fn parse_base_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim())
        .map_err(|e| ConfigError::new(var, format!("{raw:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::new(var, "must be an http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(var, "must not carry a query or fragment"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_choice_is_one_of_its_words_or_the_default() {
        let choices = [("auto", true), ("off", false)];
        assert_eq!(parse_choice("V", None, &choices, true), Ok(true));
        assert_eq!(parse_choice("V", Some(" "), &choices, true), Ok(true));
        assert_eq!(parse_choice("V", Some("off"), &choices, true), Ok(false));
        let err = parse_choice("V", Some("on"), &choices, true).expect_err("not a word");
        assert_eq!(err.var, "V");
        assert_eq!(err.problem, "expected `auto` or `off`, got \"on\"");
    }
}
