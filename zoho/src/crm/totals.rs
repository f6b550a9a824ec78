//! Totals over all of a module's records, by the value of one field — what a board's columns
//! head with (`Stage`: how many deals, and their `Amount` together) — asked of Zoho with COQL,
//! so they count every record and not only the cards loaded.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{ApiError, CrmClient, CrmError};
use crate::call::{Call, Op, Resource};
use crate::ids::ConnectionId;
use crate::ids::ModuleName;

/// One value of the grouping field: how many records have it, and their sum.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupTotal {
    /// The field's value as text (`None` for records without one).
    pub value: Option<String>,
    pub count: u64,
    pub sum: f64,
}

#[derive(Deserialize)]
struct CoqlBody {
    #[serde(default)]
    data: Vec<Map<String, Value>>,
}

/// Reads a number Zoho may send as a number or as text.
fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The value of the row's key that is `function(…)`, whatever its case.
fn aggregate<'a>(row: &'a Map<String, Value>, function: &str) -> Option<&'a Value> {
    row.iter()
        .find(|(k, _)| k.to_ascii_lowercase().starts_with(&format!("{function}(")))
        .map(|(_, v)| v)
}

impl CrmClient {
    /// `count(id)` and `sum(sum_field)` of `module`'s records per value of `group`.
    pub async fn group_totals(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        group: &ModuleName,
        sum_field: &ModuleName,
    ) -> Result<Vec<GroupTotal>, CrmError> {
        let query = format!(
            "select {g}, count(id), sum({s}) from {m} group by {g}",
            g = group.as_str(),
            s = sum_field.as_str(),
            m = module.as_str()
        );
        let body = json!({ "select_query": query });
        let call = Call::json(Op::Read, &Resource::Coql, &body);
        let rows = match super::json_body::<CoqlBody>(self.call(id, call).await?) {
            Ok(b) => b.data,
            Err(CrmError::Api(ApiError::NoContent)) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(rows
            .iter()
            .map(|row| GroupTotal {
                value: row.get(group.as_str()).and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                }),
                count: number(aggregate(row, "count")).map_or(0, |n| n as u64),
                sum: number(aggregate(row, "sum")).unwrap_or(0.0),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_are_found_whatever_case_zoho_names_them_in() {
        let row: Map<String, Value> = serde_json::from_value(json!({
            "Stage": "Closed Won", "COUNT(id)": "4", "sum(Amount)": 1250.5
        }))
        .expect("row");
        assert_eq!(number(aggregate(&row, "count")), Some(4.0));
        assert_eq!(number(aggregate(&row, "sum")), Some(1250.5));
    }
}
