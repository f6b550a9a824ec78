//! A page of records from a COQL select (reference §9.6), for an order Zoho's list cannot give:
//! the query is built from typed parts, so a value never becomes syntax (`'` doubled) and a name
//! is an API name; conditions are nested in pairs as COQL wants them (`((A and B) and C)`).
//! COQL answers a lookup as its id alone: its name is a column of its own (`Owner.last_name`).

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{ApiError, CrmClient, CrmError};
use crate::call::{Call, Op, Resource};
use crate::ids::{ConnectionId, ModuleName};

/// The most rows one COQL call answers.
pub const MAX_LIMIT: u32 = 2_000;
/// The furthest row COQL reaches by offset.
pub const MAX_REACH: u32 = 100_000;
/// The most conditions one query takes.
pub const MAX_CONDITIONS: usize = 25;

/// A value in a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Text(String),
    Number(f64),
    Bool(bool),
}

impl Literal {
    fn render(&self) -> String {
        match self {
            Literal::Text(s) => format!("'{}'", s.replace('\'', "''")),
            Literal::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
            Literal::Number(n) => n.to_string(),
            Literal::Bool(b) => b.to_string(),
        }
    }
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Compare {
    fn as_str(self) -> &'static str {
        match self {
            Compare::Eq => "=",
            Compare::Ne => "!=",
            Compare::Lt => "<",
            Compare::Le => "<=",
            Compare::Gt => ">",
            Compare::Ge => ">=",
        }
    }
}

/// A WHERE clause.
#[derive(Clone, Debug, PartialEq)]
pub enum Where {
    Compare(String, Compare, Literal),
    /// `like`, `%` being any run of characters (a `%` in the text matches itself only loosely:
    /// COQL has no escape for it).
    Like {
        field: String,
        pattern: String,
        negated: bool,
    },
    IsNull {
        field: String,
        negated: bool,
    },
    In {
        field: String,
        values: Vec<Literal>,
        negated: bool,
    },
    All(Vec<Where>),
    Any(Vec<Where>),
}

impl Where {
    /// How many conditions it holds.
    pub fn count(&self) -> usize {
        match self {
            Where::All(v) | Where::Any(v) => v.iter().map(Where::count).sum(),
            _ => 1,
        }
    }

    fn render(&self) -> Option<String> {
        let name = |f: &str| field_name(f).then(|| f.to_owned());
        Some(match self {
            Where::Compare(f, op, v) => format!("{} {} {}", name(f)?, op.as_str(), v.render()),
            Where::Like {
                field,
                pattern,
                negated,
            } => format!(
                "{} {}like {}",
                name(field)?,
                if *negated { "not " } else { "" },
                Literal::Text(pattern.clone()).render()
            ),
            Where::IsNull { field, negated } => format!(
                "{} is {}null",
                name(field)?,
                if *negated { "not " } else { "" }
            ),
            Where::In {
                field,
                values,
                negated,
            } => {
                if values.is_empty() {
                    return None;
                }
                let list: Vec<String> = values.iter().map(Literal::render).collect();
                format!(
                    "{} {}in ({})",
                    name(field)?,
                    if *negated { "not " } else { "" },
                    list.join(", ")
                )
            }
            Where::All(v) | Where::Any(v) => {
                let joiner = if matches!(self, Where::All(_)) {
                    "and"
                } else {
                    "or"
                };
                let mut parts = v.iter().map(Where::render);
                let mut out = parts.next()??;
                for (at, part) in parts.enumerate() {
                    // Pairs: `(A and B)`, then `((A and B) and C)`.
                    let left = if at == 0 && v.len() > 1 {
                        out
                    } else {
                        format!("({out})")
                    };
                    out = format!("{left} {joiner} {}", part?);
                }
                if v.len() > 1 { format!("({out})") } else { out }
            }
        })
    }
}

/// A field or a lookup's field: API names joined by one dot at most.
fn field_name(f: &str) -> bool {
    let mut parts = f.split('.');
    let ok = |p: Option<&str>| p.is_some_and(|p| ModuleName::parse(p).is_some());
    match (parts.next(), parts.next(), parts.next()) {
        (first, None, None) => ok(first),
        (first, second, None) => ok(first) && ok(second),
        _ => false,
    }
}

/// A select: its columns, conditions, order and the rows wanted.
#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    pub module: ModuleName,
    pub columns: Vec<String>,
    pub filter: Option<Where>,
    /// Fields and whether descending; ties are broken by `id` in the first one's direction.
    pub order: Vec<(String, bool)>,
    pub offset: u32,
    pub limit: u32,
}

impl Select {
    /// The query text, or `None` when it cannot be sent (a bad name, too many conditions, rows
    /// beyond COQL's reach).
    pub fn render(&self) -> Option<String> {
        if self.columns.is_empty()
            || !self.columns.iter().all(|c| field_name(c))
            || self.limit == 0
            || self.limit > MAX_LIMIT
            || self.offset.saturating_add(self.limit) > MAX_REACH
            || self
                .filter
                .as_ref()
                .is_some_and(|f| f.count() > MAX_CONDITIONS)
        {
            return None;
        }
        let mut q = format!(
            "select {} from {}",
            self.columns.join(", "),
            self.module.as_str()
        );
        if let Some(f) = &self.filter {
            q.push_str(" where ");
            q.push_str(&f.render()?);
        }
        let mut order: Vec<String> = Vec::new();
        for (field, desc) in &self.order {
            if !field_name(field) {
                return None;
            }
            order.push(format!("{field} {}", if *desc { "desc" } else { "asc" }));
        }
        if !self.order.iter().any(|(f, _)| f == "id") {
            let desc = self.order.first().is_some_and(|(_, d)| *d);
            order.push(format!("id {}", if desc { "desc" } else { "asc" }));
        }
        q.push_str(&format!(
            " order by {} limit {}, {}",
            order.join(", "),
            self.offset,
            self.limit
        ));
        Some(q)
    }
}

/// The rows of a select, and whether more follow.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rows {
    pub rows: Vec<Map<String, Value>>,
    pub more: bool,
}

#[derive(Deserialize)]
struct Info {
    #[serde(default)]
    more_records: bool,
}

#[derive(Deserialize)]
struct RowsBody {
    #[serde(default)]
    data: Vec<Map<String, Value>>,
    #[serde(default)]
    info: Option<Info>,
}

impl CrmClient {
    /// Runs `select`; no rows when it cannot be sent.
    pub async fn select(&self, id: &ConnectionId, select: &Select) -> Result<Rows, CrmError> {
        let Some(query) = select.render() else {
            return Ok(Rows::default());
        };
        let body = json!({ "select_query": query });
        let call = Call::json(Op::Read, &Resource::Coql, &body);
        match super::json_body::<RowsBody>(self.call(id, call).await?) {
            Ok(b) => Ok(Rows {
                rows: b.data,
                more: b.info.is_some_and(|i| i.more_records),
            }),
            Err(CrmError::Api(ApiError::NoContent)) => Ok(Rows::default()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leads() -> ModuleName {
        ModuleName::standard("Leads")
    }

    #[test]
    fn a_select_is_rendered_with_pairs_escapes_and_a_tie_break() {
        let s = Select {
            module: leads(),
            columns: vec!["Last_Name".into(), "Owner.last_name".into()],
            filter: Some(Where::All(vec![
                Where::Compare("Converted__s".into(), Compare::Eq, Literal::Bool(false)),
                Where::Like {
                    field: "Company".into(),
                    pattern: "%O'Brien%".into(),
                    negated: false,
                },
                Where::Compare(
                    "Annual_Revenue".into(),
                    Compare::Ge,
                    Literal::Number(1000.0),
                ),
            ])),
            order: vec![("Company".into(), true)],
            offset: 2000,
            limit: 50,
        };
        assert_eq!(
            s.render().as_deref(),
            Some(
                "select Last_Name, Owner.last_name from Leads where ((Converted__s = false and Company like '%O''Brien%') and Annual_Revenue >= 1000) order by Company desc, id desc limit 2000, 50"
            )
        );
        let one = Select {
            filter: Some(Where::Any(vec![Where::IsNull {
                field: "Email".into(),
                negated: true,
            }])),
            order: vec![],
            offset: 0,
            ..s.clone()
        };
        assert_eq!(
            one.render().as_deref(),
            Some(
                "select Last_Name, Owner.last_name from Leads where Email is not null order by id asc limit 0, 50"
            )
        );
        for bad in [
            Select {
                columns: vec!["Last_Name; drop".into()],
                ..s.clone()
            },
            Select {
                limit: 2001,
                ..s.clone()
            },
            Select {
                offset: 99_990,
                ..s.clone()
            },
            Select {
                order: vec![("a.b.c".into(), false)],
                ..s.clone()
            },
        ] {
            assert_eq!(bad.render(), None);
        }
    }
}
