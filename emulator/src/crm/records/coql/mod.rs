//! COQL (`POST /crm/v8/coql`, scope `ZohoCRM.coql.READ` and the module's READ): a plain select
//! ([`select`]), and the grouped query the Deals board asks:
//! `select <field>, count(id), sum(<number field>) from <Module> group by <field>` — one row per
//! value of the field with the number of records and the sum, computed over every record (not a
//! page). Any other grouped query is refused with Zoho's `SYNTAX_ERROR`. The keys of a row are the
//! expressions as the query wrote them (`count(id)`, `sum(Amount)`): the reference does not say
//! how Zoho names them, so zportal reads them without depending on case.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

mod select;

use super::{CrmRequest, Emu, bad, find_module};
use crate::crm::meta::Kind;
use crate::faults::Endpoint;
use crate::reply::Reply;

/// What the one supported shape asks for.
#[derive(Debug, PartialEq, Eq)]
struct GroupQuery {
    group: String,
    count_expr: String,
    sum: Option<(String, String)>,
    module: String,
}

fn syntax_error(why: &str) -> Reply {
    bad(
        "SYNTAX_ERROR",
        "error occured while parsing the query",
        json!({ "reason": why }),
    )
}

/// Reads `select G, count(id)[, sum(F)] from M group by G` (keywords in any case).
fn parse(query: &str) -> Result<GroupQuery, Reply> {
    let words: Vec<&str> = query.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let at = |kw: &str| lower.iter().position(|w| w == kw);
    let (Some(select), Some(from)) = (at("select"), at("from")) else {
        return Err(syntax_error("a query is select … from …"));
    };
    let group_at = lower
        .windows(2)
        .position(|w| w[0] == "group" && w[1] == "by")
        .ok_or_else(|| syntax_error("only grouped queries are served here"))?;
    if select != 0 || from < 2 || group_at != from + 2 || words.len() != group_at + 3 {
        return Err(syntax_error("expected select … from Module group by field"));
    }
    let list = words[1..from].join(" ");
    let exprs: Vec<String> = list.split(',').map(|e| e.trim().to_owned()).collect();
    let module = words[from + 1].to_owned();
    let group = words[group_at + 2].to_owned();
    let field_name =
        |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !s.is_empty();
    let inner = |e: &str, f: &str| {
        let l = e.to_ascii_lowercase();
        l.strip_prefix(&format!("{f}("))
            .and_then(|r| r.strip_suffix(')'))
            .map(|_| e[f.len() + 1..e.len() - 1].trim().to_owned())
    };
    match exprs.as_slice() {
        [g, count, rest @ ..]
            if g == &group
                && field_name(g)
                && inner(count, "count").as_deref() == Some("id")
                && rest.len() <= 1 =>
        {
            let sum = match rest.first() {
                None => None,
                Some(s) => match inner(s, "sum") {
                    Some(f) if field_name(&f) => Some((s.clone(), f)),
                    _ => return Err(syntax_error("the third column is sum(field)")),
                },
            };
            Ok(GroupQuery {
                group: group.clone(),
                count_expr: count.clone(),
                sum,
                module,
            })
        }
        _ => Err(syntax_error(
            "expected: select field, count(id), sum(field) … group by field",
        )),
    }
}

/// `POST coql` with `{"select_query": "…"}`.
pub(super) async fn query(emu: Emu, req: CrmRequest, body: Bytes) -> Response {
    req.run(&emu, Endpoint::Records, "coql", |world, fault| {
        let (token, user) = req.authorize_token(world, fault, "ZohoCRM.coql.READ", "coql")?;
        let text = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| {
                v.get("select_query")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .ok_or_else(|| {
                bad(
                    "MANDATORY_NOT_FOUND",
                    "required field not found",
                    json!({ "api_name": "select_query" }),
                )
            })?;
        let readable = |m: &crate::crm::meta::Module| {
            let scope = format!("ZohoCRM.modules.{}.READ", m.api_name.to_ascii_lowercase());
            if crate::api::scope_covers(&token.scopes, &scope) {
                Ok(())
            } else {
                Err(crate::api::scope_mismatch())
            }
        };
        if !select::is_grouped(&text) {
            return select::run(world, &user.org_zgid, &text, readable);
        }
        let q = parse(&text)?;
        let m = find_module(&q.module)?;
        readable(&m)?;
        let unknown = |f: &str| syntax_error(&format!("no field {f} in {}", m.api_name));
        m.field(&q.group).ok_or_else(|| unknown(&q.group))?;
        if let Some((_, f)) = &q.sum {
            let field = m.field(f).ok_or_else(|| unknown(f))?;
            if !matches!(
                field.kind,
                Kind::Currency | Kind::Double | Kind::Integer | Kind::Percent
            ) {
                return Err(syntax_error("sum() takes a number field"));
            }
        }
        let empty = Default::default();
        let records = world
            .crm
            .module(&user.org_zgid, m.api_name)
            .unwrap_or(&empty);
        let mut groups: BTreeMap<String, (Value, u64, f64)> = BTreeMap::new();
        for r in records.values() {
            let key = r.get(&q.group).cloned().unwrap_or(Value::Null);
            let slot = groups
                .entry(key.to_string())
                .or_insert_with(|| (key, 0, 0.0));
            slot.1 += 1;
            if let Some((_, f)) = &q.sum {
                slot.2 += r.get(f).and_then(Value::as_f64).unwrap_or(0.0);
            }
        }
        if groups.is_empty() {
            return Ok(Reply::Empty(StatusCode::NO_CONTENT));
        }
        let rows: Vec<Value> = groups
            .into_values()
            .map(|(key, count, sum)| {
                let mut row = serde_json::Map::new();
                row.insert(q.group.clone(), key);
                row.insert(q.count_expr.clone(), json!(count));
                if let Some((expr, _)) = &q.sum {
                    row.insert(expr.clone(), json!(sum));
                }
                Value::Object(row)
            })
            .collect();
        let count = rows.len();
        Ok(Reply::Json(
            StatusCode::OK,
            json!({ "data": rows, "info": { "count": count, "more_records": false } }),
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boards_query_is_read_and_others_are_refused() {
        let q = parse("select Stage, count(id), sum(Amount) from Deals group by Stage")
            .expect("parsed");
        assert_eq!(q.group, "Stage");
        assert_eq!(q.count_expr, "count(id)");
        assert_eq!(q.sum, Some(("sum(Amount)".into(), "Amount".into())));
        assert_eq!(q.module, "Deals");
        assert!(parse("SELECT Stage, COUNT(id) FROM Deals GROUP BY Stage").is_ok());
        for bad in [
            "select Stage from Deals",
            "select Stage, count(id) from Deals group by Owner",
            "select Stage, count(id), sum(Amount) from Deals where Amount > 1 group by Stage",
            "delete from Deals",
            "select Stage, count(id), avg(Amount) from Deals group by Stage",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
