//! Zoho's search criteria: `((Last_Name:equals:Burns)and(First_Name:starts_with:B))`. A `(`, `)`,
//! `,` or `\` inside a value is escaped with a backslash. At most ten conditions; `and` and `or`
//! may not be mixed at one level without parentheses.

use serde_json::{Map, Value};

/// A parsed criteria expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Criteria {
    Cond {
        field: String,
        op: Op,
        values: Vec<String>,
    },
    And(Vec<Criteria>),
    Or(Vec<Criteria>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Equals,
    NotEqual,
    StartsWith,
    In,
    NotIn,
    GreaterThan,
    GreaterEqual,
    LessThan,
    LessEqual,
    Between,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "equals" => Op::Equals,
            "not_equal" => Op::NotEqual,
            "starts_with" => Op::StartsWith,
            "in" => Op::In,
            "not_in" => Op::NotIn,
            "greater_than" => Op::GreaterThan,
            "greater_equal" => Op::GreaterEqual,
            "less_than" => Op::LessThan,
            "less_equal" => Op::LessEqual,
            "between" => Op::Between,
            _ => return None,
        })
    }
}

pub const MAX_CONDITIONS: usize = 10;

/// Parses criteria; the error says what is wrong, in Zoho's spirit.
pub fn parse(input: &str) -> Result<Criteria, String> {
    let chars: Vec<char> = input.trim().chars().collect();
    let mut pos = 0;
    let c = parse_expr(&chars, &mut pos)?;
    if pos != chars.len() {
        return Err(format!("unexpected text at position {pos}"));
    }
    if c.count() > MAX_CONDITIONS {
        return Err(format!("at most {MAX_CONDITIONS} conditions are allowed"));
    }
    Ok(c)
}

fn parse_expr(s: &[char], pos: &mut usize) -> Result<Criteria, String> {
    let mut terms = vec![parse_group(s, pos)?];
    let mut joiner: Option<&str> = None;
    loop {
        let rest: String = s[*pos..]
            .iter()
            .take(3)
            .collect::<String>()
            .to_ascii_lowercase();
        let word = if rest.starts_with("and") {
            "and"
        } else if rest.starts_with("or") {
            "or"
        } else {
            break;
        };
        if joiner.is_some_and(|j| j != word) {
            return Err("mix of `and` and `or` at one level: add parentheses".into());
        }
        joiner = Some(word);
        *pos += word.len();
        terms.push(parse_group(s, pos)?);
    }
    Ok(match (joiner, terms.len()) {
        (_, 1) => terms.remove(0),
        (Some("and"), _) => Criteria::And(terms),
        _ => Criteria::Or(terms),
    })
}

fn parse_group(s: &[char], pos: &mut usize) -> Result<Criteria, String> {
    if s.get(*pos) != Some(&'(') {
        return Err(format!("expected `(` at position {pos}"));
    }
    *pos += 1;
    let inner = if s.get(*pos) == Some(&'(') {
        parse_expr(s, pos)?
    } else {
        parse_cond(s, pos)?
    };
    if s.get(*pos) != Some(&')') {
        return Err(format!("expected `)` at position {pos}"));
    }
    *pos += 1;
    Ok(inner)
}

/// `field:op:value` up to the closing unescaped `)`.
fn parse_cond(s: &[char], pos: &mut usize) -> Result<Criteria, String> {
    let mut raw = String::new();
    while let Some(&c) = s.get(*pos) {
        match c {
            '\\' => {
                raw.push('\\');
                if let Some(&next) = s.get(*pos + 1) {
                    raw.push(next);
                    *pos += 2;
                    continue;
                }
                return Err("a value ends with a lone backslash".into());
            }
            ')' => break,
            '(' => return Err(format!("unescaped `(` in a value at position {pos}")),
            _ => raw.push(c),
        }
        *pos += 1;
    }
    let mut parts = raw.splitn(3, ':');
    let field = parts.next().unwrap_or_default().trim().to_owned();
    let op_text = parts.next().ok_or("a condition is field:operator:value")?;
    let value = parts.next().ok_or("a condition is field:operator:value")?;
    let op = Op::parse(op_text.trim()).ok_or_else(|| format!("unknown operator {op_text:?}"))?;
    if field.is_empty()
        || !field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    {
        return Err(format!("invalid field name {field:?}"));
    }
    let values = split_values(value);
    let arity_ok = match op {
        Op::In | Op::NotIn => !values.is_empty(),
        Op::Between => values.len() == 2,
        _ => values.len() == 1,
    };
    let values = if arity_ok {
        values
    } else if matches!(op, Op::In | Op::NotIn | Op::Between) {
        return Err(format!("wrong number of values for {op_text}"));
    } else {
        // A single-value operator takes the whole (unescaped) text, commas included.
        vec![unescape(value)]
    };
    Ok(Criteria::Cond { field, op, values })
}

/// Splits on unescaped commas and unescapes each part.
fn split_values(raw: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next()
                    && let Some(last) = out.last_mut()
                {
                    last.push(next);
                }
            }
            ',' => out.push(String::new()),
            c => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    out
}

fn unescape(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Criteria {
    pub fn count(&self) -> usize {
        match self {
            Criteria::Cond { .. } => 1,
            Criteria::And(v) | Criteria::Or(v) => v.iter().map(Criteria::count).sum(),
        }
    }

    /// Every field the criteria name.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            Criteria::Cond { field, .. } => vec![field.as_str()],
            Criteria::And(v) | Criteria::Or(v) => v.iter().flat_map(Criteria::fields).collect(),
        }
    }

    /// Whether `record` meets the criteria, every `equals` exact.
    pub fn matches(&self, record: &Map<String, Value>) -> bool {
        self.matches_in(record, &|_| false)
    }

    /// As [`Self::matches`], where `equals` on a field `contains` names matches any value that
    /// holds the wanted text, as search's does on text fields (reference §9.9).
    pub fn matches_in(&self, record: &Map<String, Value>, contains: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Criteria::And(v) => v.iter().all(|c| c.matches_in(record, contains)),
            Criteria::Or(v) => v.iter().any(|c| c.matches_in(record, contains)),
            Criteria::Cond { field, op, values } => {
                let loose = contains(field);
                let actual = record.get(field).map(comparable).unwrap_or_default();
                // A lookup or owner matches by its name or by its id.
                let id = record
                    .get(field)
                    .and_then(|v| v.get("id"))
                    .and_then(Value::as_str);
                let eq = |v: &String| {
                    compare(&actual, v) == Some(std::cmp::Ordering::Equal) || id == Some(v.as_str())
                };
                let equals = |v: &String| {
                    eq(v) || (loose && actual.to_lowercase().contains(&v.to_lowercase()))
                };
                let cmp = |v: &String| compare(&actual, v);
                use std::cmp::Ordering::*;
                match op {
                    Op::Equals => values.iter().any(equals),
                    Op::NotEqual => !values.iter().any(eq),
                    Op::StartsWith => values
                        .iter()
                        .any(|v| actual.to_lowercase().starts_with(&v.to_lowercase())),
                    Op::In => values.iter().any(eq),
                    Op::NotIn => !values.iter().any(eq),
                    Op::GreaterThan => values.iter().all(|v| cmp(v) == Some(Greater)),
                    Op::GreaterEqual => values
                        .iter()
                        .all(|v| matches!(cmp(v), Some(Greater | Equal))),
                    Op::LessThan => values.iter().all(|v| cmp(v) == Some(Less)),
                    Op::LessEqual => values.iter().all(|v| matches!(cmp(v), Some(Less | Equal))),
                    Op::Between => {
                        matches!(cmp(&values[0]), Some(Greater | Equal))
                            && matches!(cmp(&values[1]), Some(Less | Equal))
                    }
                }
            }
        }
    }
}

/// A field's value as text to compare: lookups and owners by name, arrays joined.
fn comparable(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Object(o) => o
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Value::Array(a) => a.iter().map(comparable).collect::<Vec<_>>().join(";"),
        Value::Null => String::new(),
    }
}

/// Numbers compare as numbers, date-times as instants (whatever their offsets), everything else
/// case-insensitively as text.
fn compare(actual: &str, wanted: &str) -> Option<std::cmp::Ordering> {
    let instant = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    };
    match (actual.parse::<f64>(), wanted.parse::<f64>()) {
        (Ok(a), Ok(b)) => a.partial_cmp(&b),
        _ => match (instant(actual), instant(wanted)) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => Some(actual.to_lowercase().cmp(&wanted.to_lowercase())),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rec(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn parses_nested_and_or_with_escapes() {
        let c = parse(r"((Last_Name:equals:Smith \(Jr.\)\, Esq)and((City:equals:Pune)or(City:starts_with:Ber)))")
            .expect("valid");
        assert_eq!(c.count(), 3);
        assert!(c.matches(&rec(
            json!({"Last_Name": "Smith (Jr.), Esq", "City": "Berlin"})
        )));
        assert!(!c.matches(&rec(
            json!({"Last_Name": "Smith (Jr.), Esq", "City": "Paris"})
        )));
        assert!(!c.matches(&rec(json!({"Last_Name": "Smith", "City": "Pune"}))));
    }

    #[test]
    fn operators_on_text_numbers_and_lists() {
        let r = rec(
            json!({"Amount": 1500.0, "Stage": "Closed Won", "Account_Name": {"name": "Acme", "id": "1"}}),
        );
        for (q, want) in [
            ("(Amount:greater_than:1000)", true),
            ("(Amount:less_equal:1000)", false),
            ("(Amount:between:1000,2000)", true),
            ("(Stage:in:Qualification,Closed Won)", true),
            ("(Stage:not_in:Closed Won)", false),
            ("(Stage:not_equal:closed won)", false),
            ("(Account_Name:equals:acme)", true),
            ("(Account_Name:equals:1)", true),
            ("(Account_Name:equals:2)", false),
            ("(Stage:starts_with:closed)", true),
        ] {
            assert_eq!(parse(q).expect(q).matches(&r), want, "{q}");
        }
        let t = rec(json!({"End_DateTime": "2026-12-06T10:00:00+05:30"}));
        for (q, want) in [
            (
                "(End_DateTime:greater_equal:2026-12-06T04:30:00+00:00)",
                true,
            ),
            (
                "(End_DateTime:greater_than:2026-12-06T04:30:00+00:00)",
                false,
            ),
            ("(End_DateTime:less_than:2026-12-06T05:00:00Z)", true),
        ] {
            assert_eq!(parse(q).expect(q).matches(&t), want, "{q}");
        }
    }

    #[test]
    fn refuses_bad_criteria_in_words() {
        for bad in [
            "Last_Name:equals:x",
            "(Last_Name:equals)",
            "(Last_Name:like:x)",
            "((A:equals:1)and(B:equals:2)or(C:equals:3))",
            "(A:equals:a(b)",
            "(A:between:1)",
            "(bad name:equals:1)",
            "(A:equals:x\\",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let eleven = format!(
            "({})",
            (0..11)
                .map(|i| format!("(A:equals:{i})"))
                .collect::<Vec<_>>()
                .join("or")
        );
        assert!(parse(&eleven).expect_err("too many").contains("at most 10"));
    }
}
