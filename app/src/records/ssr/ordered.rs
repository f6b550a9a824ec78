//! A list in an order Zoho's list API cannot give (by any column, or a view ordered anew): its
//! page comes from COQL, and must hold the records the list or search would. So the conditions
//! are said as search matches them (its `equals` on text contains; COQL's `=` is exact), a
//! plain list of Leads leaves out converted ones (COQL keeps them), a view's criteria are said
//! again where COQL can say them, and a lookup's name is a join (COQL gives its id alone).

use serde_json::{Map, Value};
use zoho::crm::metadata::FieldInfo;
use zoho::crm::select::{Compare, Literal, Where};
use zoho::crm::text::{TextRow, as_text};
use zoho::crm::views::ViewCriteria;

use crate::AppError;
use crate::records::{Condition, ConditionOp};

/// Whether a list can be ordered by a field of this type.
pub fn sortable(f: &FieldInfo) -> bool {
    matches!(
        f.data_type.as_str(),
        "text"
            | "email"
            | "phone"
            | "website"
            | "integer"
            | "bigint"
            | "double"
            | "decimal"
            | "currency"
            | "percent"
            | "date"
            | "datetime"
            | "picklist"
            | "boolean"
    )
}

fn is_text(f: &FieldInfo) -> bool {
    matches!(
        f.data_type.as_str(),
        "text" | "textarea" | "email" | "phone" | "website"
    )
}

fn is_number(f: &FieldInfo) -> bool {
    matches!(
        f.data_type.as_str(),
        "integer" | "bigint" | "double" | "decimal" | "currency" | "percent"
    )
}

fn is_lookup(f: &FieldInfo) -> bool {
    matches!(f.data_type.as_str(), "lookup" | "ownerlookup")
}

/// How COQL names a lookup's name: its target's name field (`Account_Name.Account_Name`), or
/// an owner's last name and first name.
#[derive(Clone, Debug, Default)]
pub struct Joins {
    /// Lookup field → the columns that name what it points at.
    pub names: Vec<(String, Vec<String>)>,
}

impl Joins {
    fn of(&self, field: &str) -> Option<&[String]> {
        self.names
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, c)| c.as_slice())
    }
}

/// A condition's value as COQL takes it for field `f`.
fn literal(f: &FieldInfo, value: &str) -> Result<Literal, AppError> {
    if is_number(f) {
        return value
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Literal::Number)
            .ok_or_else(|| AppError::BadRequest(format!("“{}” takes a number.", f.field_label)));
    }
    if f.data_type == "boolean" {
        return Ok(Literal::Bool(matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "yes" | "1"
        )));
    }
    Ok(Literal::Text(value.to_owned()))
}

/// `2026-12-06`: a day, as a date control gives it.
fn is_day(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// A list's conditions (`any`: one is enough) as COQL says them, matching what search finds.
pub fn conditions_where(
    conditions: &[Condition],
    any: bool,
    fields: &[FieldInfo],
    joins: &Joins,
) -> Result<Option<Where>, AppError> {
    let mut parts = Vec::new();
    for c in conditions.iter().filter(|c| !c.value.trim().is_empty()) {
        let f = fields
            .iter()
            .find(|f| f.api_name == c.field)
            .ok_or_else(|| {
                AppError::BadRequest("A condition names a field this module does not have.".into())
            })?;
        let value = c.value.trim();
        // A lookup is matched by its id, or by the name of what it points at (an owner's
        // whole name, as search matches it).
        let by_name = is_lookup(f) && !value.bytes().all(|b| b.is_ascii_digit());
        let field = if by_name && f.data_type == "ownerlookup" {
            format!("{}.full_name", f.api_name)
        } else if by_name {
            joins
                .of(&f.api_name)
                .and_then(|c| c.last())
                .cloned()
                .unwrap_or_else(|| f.api_name.clone())
        } else {
            f.api_name.clone()
        };
        let pattern = |p: String| Where::Like {
            field: field.clone(),
            pattern: p,
            negated: false,
        };
        // A day given for a date-time field is the whole of that day (UTC).
        if f.data_type == "datetime" && is_day(value) {
            let start = Literal::Text(format!("{value}T00:00:00+00:00"));
            let end = Literal::Text(format!("{value}T23:59:59+00:00"));
            let at = |op, v| Where::Compare(field.clone(), op, v);
            parts.push(match c.operator {
                ConditionOp::Equals => {
                    Where::All(vec![at(Compare::Ge, start), at(Compare::Le, end)])
                }
                ConditionOp::NotEqual => {
                    Where::Any(vec![at(Compare::Lt, start), at(Compare::Gt, end)])
                }
                ConditionOp::GreaterThan => at(Compare::Gt, end),
                ConditionOp::LessThan => at(Compare::Lt, start),
                ConditionOp::StartsWith => pattern(format!("{value}%")),
            });
            continue;
        }
        parts.push(match c.operator {
            ConditionOp::Equals if is_text(f) => pattern(format!("%{value}%")),
            ConditionOp::Equals => Where::Compare(field.clone(), Compare::Eq, literal(f, value)?),
            ConditionOp::NotEqual => Where::Compare(field.clone(), Compare::Ne, literal(f, value)?),
            ConditionOp::StartsWith => pattern(format!("{value}%")),
            ConditionOp::GreaterThan => {
                Where::Compare(field.clone(), Compare::Gt, literal(f, value)?)
            }
            ConditionOp::LessThan => Where::Compare(field.clone(), Compare::Lt, literal(f, value)?),
        });
    }
    Ok(match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ if any => Some(Where::Any(parts)),
        _ => Some(Where::All(parts)),
    })
}

/// A view's criteria as COQL says them, for the user `me` (their CRM id); `None` where COQL
/// cannot say them (a date placeholder, a comparator it has no word for).
pub fn view_where(c: &ViewCriteria, me: &str) -> Option<Where> {
    match c {
        ViewCriteria::Group { any, group } => {
            let parts = group
                .iter()
                .map(|g| view_where(g, me))
                .collect::<Option<Vec<_>>>()?;
            Some(if *any {
                Where::Any(parts)
            } else {
                Where::All(parts)
            })
        }
        ViewCriteria::Condition {
            field,
            comparator,
            value,
        } => {
            let one = |v: &Value| -> Option<Literal> {
                match v {
                    Value::String(s) if s == "${CURRENTUSER}" => Some(Literal::Text(me.to_owned())),
                    Value::String(s) if s.starts_with("${") => None,
                    Value::String(s) => Some(Literal::Text(s.clone())),
                    Value::Number(n) => n.as_f64().map(Literal::Number),
                    Value::Bool(b) => Some(Literal::Bool(*b)),
                    Value::Object(o) => o
                        .get("id")
                        .and_then(Value::as_str)
                        .map(|id| Literal::Text(id.to_owned())),
                    _ => None,
                }
            };
            let text = |v: &Value| {
                v.as_str()
                    .filter(|s| !s.starts_with("${"))
                    .map(str::to_owned)
            };
            let field = field.clone();
            match (comparator.as_str(), value) {
                (_, Value::String(s)) if s == "${EMPTY}" => Some(Where::IsNull {
                    field,
                    negated: comparator == "not_equal",
                }),
                (_, Value::String(s)) if s == "${NOTEMPTY}" => Some(Where::IsNull {
                    field,
                    negated: comparator != "not_equal",
                }),
                ("equal" | "not_equal", Value::Array(values)) => Some(Where::In {
                    field,
                    values: values.iter().map(one).collect::<Option<Vec<_>>>()?,
                    negated: comparator == "not_equal",
                }),
                ("equal", v) => Some(Where::Compare(field, Compare::Eq, one(v)?)),
                ("not_equal", v) => Some(Where::Compare(field, Compare::Ne, one(v)?)),
                ("greater_than", v) => Some(Where::Compare(field, Compare::Gt, one(v)?)),
                ("greater_equal", v) => Some(Where::Compare(field, Compare::Ge, one(v)?)),
                ("less_than", v) => Some(Where::Compare(field, Compare::Lt, one(v)?)),
                ("less_equal", v) => Some(Where::Compare(field, Compare::Le, one(v)?)),
                ("contains" | "not_contains", v) => Some(Where::Like {
                    field,
                    pattern: format!("%{}%", text(v)?),
                    negated: comparator == "not_contains",
                }),
                ("starts_with", v) => Some(Where::Like {
                    field,
                    pattern: format!("{}%", text(v)?),
                    negated: false,
                }),
                ("ends_with", v) => Some(Where::Like {
                    field,
                    pattern: format!("%{}", text(v)?),
                    negated: false,
                }),
                _ => None,
            }
        }
    }
}

/// What COQL is asked to select for `columns`: each field, and for a lookup the columns that
/// name it.
pub fn select_columns(columns: &[FieldInfo], joins: &Joins) -> Vec<String> {
    let mut out = Vec::new();
    for c in columns {
        out.push(c.api_name.clone());
        if let Some(names) = joins.of(&c.api_name) {
            out.extend(names.iter().cloned());
        }
    }
    out
}

/// COQL's rows as the list's text rows of `columns`: a lookup by the name its join brought.
pub fn text_rows(
    rows: Vec<Map<String, Value>>,
    columns: &[FieldInfo],
    joins: &Joins,
) -> Vec<TextRow> {
    rows.into_iter()
        .map(|r| TextRow {
            id: as_text(r.get("id")),
            cells: columns
                .iter()
                .map(|c| match joins.of(&c.api_name) {
                    Some(names) => names
                        .iter()
                        .map(|n| as_text(r.get(n)))
                        .filter(|t| !t.is_empty())
                        .collect::<Vec<_>>()
                        .join(" "),
                    None => as_text(r.get(&c.api_name)),
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(api: &str, data_type: &str) -> FieldInfo {
        serde_json::from_value(json!({
            "api_name": api, "field_label": api.replace('_', " "), "data_type": data_type,
        }))
        .expect("field")
    }

    fn cond(field: &str, operator: ConditionOp, value: &str) -> Condition {
        Condition {
            field: field.into(),
            operator,
            value: value.into(),
        }
    }

    #[test]
    fn conditions_match_as_search_does() {
        let fields = [
            field("Company", "text"),
            field("Lead_Status", "picklist"),
            field("Annual_Revenue", "currency"),
            field("Owner", "ownerlookup"),
        ];
        let joins = Joins {
            names: vec![(
                "Owner".into(),
                vec!["Owner.first_name".into(), "Owner.last_name".into()],
            )],
        };
        let w = conditions_where(
            &[
                cond("Company", ConditionOp::Equals, "Acme"),
                cond("Lead_Status", ConditionOp::Equals, "Contacted"),
                cond("Annual_Revenue", ConditionOp::GreaterThan, "1000"),
                cond("Owner", ConditionOp::Equals, "Ada Lovelace"),
            ],
            false,
            &fields,
            &joins,
        )
        .expect("conditions");
        let Some(Where::All(parts)) = w else {
            panic!("all of them")
        };
        assert_eq!(
            parts[0],
            Where::Like {
                field: "Company".into(),
                pattern: "%Acme%".into(),
                negated: false
            },
            "search's equals contains"
        );
        assert_eq!(
            parts[1],
            Where::Compare(
                "Lead_Status".into(),
                Compare::Eq,
                Literal::Text("Contacted".into())
            )
        );
        assert_eq!(
            parts[2],
            Where::Compare(
                "Annual_Revenue".into(),
                Compare::Gt,
                Literal::Number(1000.0)
            )
        );
        assert_eq!(
            parts[3],
            Where::Compare(
                "Owner.full_name".into(),
                Compare::Eq,
                Literal::Text("Ada Lovelace".into())
            )
        );
        assert!(
            conditions_where(
                &[cond("Annual_Revenue", ConditionOp::LessThan, "lots")],
                false,
                &fields,
                &joins
            )
            .is_err()
        );
    }

    #[test]
    fn a_day_for_a_date_time_is_the_whole_day() {
        let fields = [field("Created_Time", "datetime")];
        let w = conditions_where(
            &[cond("Created_Time", ConditionOp::GreaterThan, "2026-12-06")],
            false,
            &fields,
            &Joins::default(),
        )
        .expect("conditions");
        assert_eq!(
            w,
            Some(Where::Compare(
                "Created_Time".into(),
                Compare::Gt,
                Literal::Text("2026-12-06T23:59:59+00:00".into())
            ))
        );
        assert!(!is_day("2026-12-6"));
    }

    #[test]
    fn a_views_criteria_are_said_in_coql_where_they_can_be() {
        let mine = ViewCriteria::read(&json!({ "group_operator": "AND", "group": [
            { "comparator": "equal", "field": { "api_name": "Owner" }, "value": "${CURRENTUSER}" },
            { "comparator": "not_equal", "field": { "api_name": "Stage" }, "value": ["Closed Won", "Closed Lost"] },
        ]}))
        .expect("read");
        let Some(Where::All(parts)) = view_where(&mine, "42") else {
            panic!("a group")
        };
        assert_eq!(
            parts[0],
            Where::Compare("Owner".into(), Compare::Eq, Literal::Text("42".into()))
        );
        assert!(matches!(&parts[1], Where::In { negated: true, values, .. } if values.len() == 2));
        let recent = ViewCriteria::read(&json!({ "comparator": "equal",
            "field": { "api_name": "Modified_Time" }, "value": "${LAST_N_DAYS:30}" }))
        .expect("read");
        assert_eq!(view_where(&recent, "42"), None, "COQL cannot say it");
    }
}
