//! Field values as a person reads them ("Yes" for true, a lookup's name, a list joined by commas),
//! and pages of records decoded straight into that text: a list asks Zoho for a few fields and
//! shows them as text, so its answer is read once into rows of strings, never into a tree of JSON
//! values first. [`as_text`] and the streaming [`TextSeed`] say the same (a test holds them to it).

use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A value as a person reads it.
pub fn as_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => yes_no(*b),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if n.is_f64() => float(f),
            _ => n.to_string(),
        },
        Some(Value::Object(o)) => o
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Some(Value::Array(a)) => join(a.iter().map(|x| as_text(Some(x)))),
    }
}

fn yes_no(b: bool) -> String {
    if b { "Yes" } else { "No" }.to_owned()
}

/// Whole amounts without a fraction (`2497000`, not `2497000.0`); others as JSON writes them.
fn float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        serde_json::Number::from_f64(f)
            .map(|n| n.to_string())
            .unwrap_or_default()
    }
}

fn join(parts: impl Iterator<Item = String>) -> String {
    parts
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads one value as [`as_text`] would show it, without building it first.
pub struct TextSeed;

impl<'de> DeserializeSeed<'de> for TextSeed {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field value")
    }

    fn visit_unit<E>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_none<E>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_bool<E>(self, b: bool) -> Result<String, E> {
        Ok(yes_no(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<String, E> {
        Ok(n.to_string())
    }

    fn visit_u64<E>(self, n: u64) -> Result<String, E> {
        Ok(n.to_string())
    }

    fn visit_f64<E>(self, f: f64) -> Result<String, E> {
        Ok(float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<String, E> {
        Ok(s.to_owned())
    }

    fn visit_string<E>(self, s: String) -> Result<String, E> {
        Ok(s)
    }

    /// A lookup (`{"name": …, "id": …}`): its name, when that is text.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<String, A::Error> {
        let mut name = String::new();
        while let Some(key) = map.next_key_seed(KeyIs("name"))? {
            if key {
                // The last `name` counts, as when the object is read whole.
                name = map.next_value::<StrOnly>()?.0.unwrap_or_default();
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(name)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
        let mut parts = Vec::new();
        while let Some(part) = seq.next_element_seed(TextSeed)? {
            parts.push(part);
        }
        Ok(join(parts.into_iter()))
    }
}

/// A string, or `None` for any other value (which is read and dropped).
struct StrOnly(Option<String>);

impl<'de> Deserialize<'de> for StrOnly {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrOnly;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E>(self, s: &str) -> Result<StrOnly, E> {
                Ok(StrOnly(Some(s.to_owned())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<StrOnly, E> {
                Ok(StrOnly(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<StrOnly, E> {
                Ok(StrOnly(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<StrOnly, E> {
                Ok(StrOnly(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<StrOnly, E> {
                Ok(StrOnly(None))
            }
            fn visit_unit<E>(self) -> Result<StrOnly, E> {
                Ok(StrOnly(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StrOnly, A::Error> {
                IgnoredAny.visit_map(map)?;
                Ok(StrOnly(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<StrOnly, A::Error> {
                IgnoredAny.visit_seq(seq)?;
                Ok(StrOnly(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether a map key is `name`, read without allocating.
struct KeyIs(&'static str);

impl<'de> DeserializeSeed<'de> for KeyIs {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, s: &str) -> Result<bool, E> {
        Ok(s == self.0)
    }
}

/// One record as a list shows it: its id, and the asked-for fields as text, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextRow {
    pub id: String,
    pub cells: Vec<String>,
}

/// Reads a record (a JSON object) into a [`TextRow`] of `columns`; other fields are skipped.
pub struct RowSeed<'c>(pub &'c [&'c str]);

/// What a key of a record is to a [`RowSeed`].
enum RowKey {
    Id,
    Column(usize),
    Other,
}

struct RowKeySeed<'c>(&'c [&'c str]);

impl<'de> DeserializeSeed<'de> for RowKeySeed<'_> {
    type Value = RowKey;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RowKey, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for RowKeySeed<'_> {
    type Value = RowKey;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, s: &str) -> Result<RowKey, E> {
        Ok(if s == "id" {
            RowKey::Id
        } else if let Some(i) = self.0.iter().position(|c| *c == s) {
            RowKey::Column(i)
        } else {
            RowKey::Other
        })
    }
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = TextRow;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<TextRow, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = TextRow;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TextRow, A::Error> {
        let mut row = TextRow {
            id: String::new(),
            cells: vec![String::new(); self.0.len()],
        };
        while let Some(key) = map.next_key_seed(RowKeySeed(self.0))? {
            match key {
                RowKey::Id => {
                    row.id = map.next_value_seed(TextSeed)?;
                    // A list may show the id as a column too.
                    if let Some(i) = self.0.iter().position(|c| *c == "id") {
                        row.cells[i] = row.id.clone();
                    }
                }
                RowKey::Column(i) => row.cells[i] = map.next_value_seed(TextSeed)?,
                RowKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(row)
    }
}

/// Reads a JSON array of records into [`TextRow`]s.
pub struct RowsSeed<'c>(pub &'c [&'c str]);

impl<'de> DeserializeSeed<'de> for RowsSeed<'_> {
    type Value = Vec<TextRow>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<TextRow>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_> {
    type Value = Vec<TextRow>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<TextRow>, A::Error> {
        let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(200));
        while let Some(row) = seq.next_element_seed(RowSeed(self.0))? {
            rows.push(row);
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn streamed(v: &Value) -> String {
        let text = v.to_string();
        TextSeed
            .deserialize(&mut serde_json::Deserializer::from_str(&text))
            .expect("reads")
    }

    #[test]
    fn the_streaming_reader_says_what_as_text_says() {
        let samples = [
            json!(null),
            json!("Lead 0001"),
            json!("with \"quotes\" and \\u00e9 é"),
            json!(true),
            json!(false),
            json!(42),
            json!(-7),
            json!(u64::MAX),
            json!(2497000.0),
            json!(12.5),
            json!(1e20),
            json!(0.1),
            json!({"name": "Account 001", "id": "9001"}),
            json!({"id": "9001"}),
            json!({"name": 5, "id": "9001"}),
            json!({"name": {"deep": [1, 2]}, "other": [1]}),
            json!(["Red", "", "Blue", null, 3]),
            json!([{"name": "A"}, {"name": "B"}]),
            json!([]),
            json!({}),
        ];
        for v in samples {
            assert_eq!(streamed(&v), as_text(Some(&v)), "{v}");
        }
        assert_eq!(as_text(Some(&json!(2497000.0))), "2497000");
        assert_eq!(as_text(Some(&json!(true))), "Yes");
    }

    #[test]
    fn a_row_keeps_the_asked_for_fields_in_order_and_skips_the_rest() {
        let body = r#"[{"Email":"a@x.test","id":"7","Owner":{"name":"Ada","id":"1"},
                       "Skipped":{"big":[1,2,3]},"Full_Name":"Ann Lee"},
                      {"id":"8"}]"#;
        let columns = ["Full_Name", "Email", "Owner"];
        let rows = RowsSeed(&columns)
            .deserialize(&mut serde_json::Deserializer::from_str(body))
            .expect("reads");
        assert_eq!(
            rows,
            vec![
                TextRow {
                    id: "7".into(),
                    cells: vec!["Ann Lee".into(), "a@x.test".into(), "Ada".into()],
                },
                TextRow {
                    id: "8".into(),
                    cells: vec![String::new(); 3],
                },
            ]
        );
        assert!(
            RowsSeed(&columns)
                .deserialize(&mut serde_json::Deserializer::from_str(r#"{"id":1}"#))
                .is_err(),
            "not a list"
        );
    }
}
