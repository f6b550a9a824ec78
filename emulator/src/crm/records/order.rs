//! How records are ordered by any field's value: by a view's order, search's `sort_by` and COQL's
//! `ORDER BY`. Numbers compare as numbers, date-times as instants, text without case, a lookup
//! by its name; an empty value is the smallest (it comes first ascending, as in MySQL, whose
//! order Zoho's is taken to be: the reference does not say). Ties are broken by id, in the same
//! direction.

use std::cmp::Ordering;

use serde_json::Value;

use crate::crm::Record;

/// Compares two values of one field.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    let instant = |v: &Value| {
        v.as_str().and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
    };
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => match (instant(a), instant(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => text(a).cmp(&text(b)),
        },
    }
}

/// A value as text to order by: a lookup or owner by its name, lower-cased.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_lowercase(),
        Value::Object(o) => o
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_lowercase(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The record's id as a number (records always have one).
pub fn id_of(r: &Record) -> u64 {
    r.get("id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or_default()
}

/// Sorts `records` by the `keys` (field, descending) in turn, then by id in the first key's
/// direction (ascending when there is none).
pub fn sort_by_keys(records: &mut [&Record], keys: &[(String, bool)]) {
    records.sort_by(|a, b| compare_by(a, b, keys));
}

/// How `a` and `b` order by the `keys`, then by id (see [`sort_by_keys`]).
pub fn compare_by(a: &Record, b: &Record, keys: &[(String, bool)]) -> Ordering {
    let id_desc = keys.first().is_some_and(|(_, desc)| *desc);
    keys.iter()
        .map(|(field, desc)| {
            let o = if field == "id" {
                id_of(a).cmp(&id_of(b))
            } else {
                compare(
                    a.get(field).unwrap_or(&Value::Null),
                    b.get(field).unwrap_or(&Value::Null),
                )
            };
            if *desc { o.reverse() } else { o }
        })
        .find(|o| o.is_ne())
        .unwrap_or_else(|| {
            let o = id_of(a).cmp(&id_of(b));
            if id_desc { o.reverse() } else { o }
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_order_by_their_kind_and_ties_by_id() {
        assert_eq!(compare(&json!(9), &json!(10)), Ordering::Less);
        assert_eq!(compare(&json!("b"), &json!("A")), Ordering::Greater);
        assert_eq!(
            compare(
                &json!("2026-01-01T10:00:00+05:00"),
                &json!("2026-01-01T06:00:00+00:00")
            ),
            Ordering::Less
        );
        assert_eq!(compare(&Value::Null, &json!("a")), Ordering::Less);
        let rec = |id: &str, c: &str| {
            let Value::Object(o) = json!({ "id": id, "Company": c }) else {
                unreachable!()
            };
            o
        };
        let (a, b, c) = (rec("1", "Zeta"), rec("2", "alpha"), rec("3", "Alpha"));
        let mut v = vec![&a, &b, &c];
        sort_by_keys(&mut v, &[("Company".into(), false)]);
        assert_eq!(v.iter().map(|r| id_of(r)).collect::<Vec<_>>(), [2, 3, 1]);
        sort_by_keys(&mut v, &[("Company".into(), true)]);
        assert_eq!(v.iter().map(|r| id_of(r)).collect::<Vec<_>>(), [1, 3, 2]);
    }
}
