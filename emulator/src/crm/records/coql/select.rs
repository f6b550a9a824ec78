//! COQL's plain select (reference §9.6): `select F, L.G from M [where …] [order by F [asc|desc],
//! …] [limit [offset,] n | limit n offset o]`, with Zoho's limits: 2,000 rows a call, 100,000
//! reachable by offset, ten ORDER BY fields, 25 conditions grouped in pairs. What it answers
//! differs from a list as Zoho's does: converted Leads are rows unless the query says
//! `Converted__s = false`; `=` is exact (without case) where search's `equals` contains; a lookup
//! compares and comes back as its id, and its other fields need a join (`Account_Name.Account_Name`,
//! `Owner.last_name`).

use serde_json::{Map, Value, json};

use super::super::{bad, find_module, order, read, views};
use crate::crm::Record;
use crate::crm::meta::{Kind, Module};
use crate::model::World;
use crate::reply::Reply;

/// The most rows one call answers.
const MAX_LIMIT: usize = 2_000;
/// The furthest rows reachable by offset.
const MAX_REACH: usize = 100_000;
/// The most ORDER BY fields.
const MAX_ORDER: usize = 10;
/// The most conditions in WHERE.
const MAX_CONDITIONS: usize = 25;
/// The most columns a select names.
const MAX_COLUMNS: usize = 50;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

fn syntax(why: &str) -> Reply {
    bad(
        "SYNTAX_ERROR",
        "error occured while parsing the query",
        json!({ "reason": why }),
    )
}

fn invalid_column(column: &str, clause: &str) -> Reply {
    bad(
        "INVALID_QUERY",
        "Invalid query formed",
        json!({ "column_name": column, "clause": clause, "reason": "invalid column given" }),
    )
}

fn tokens(q: &str) -> Result<Vec<Tok>, Reply> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(syntax("a text value is not closed")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            '(' | ')' | ',' | '=' => {
                out.push(Tok::Sym(match c {
                    '(' => "(",
                    ')' => ")",
                    ',' => ",",
                    _ => "=",
                }));
                i += 1;
            }
            '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let sym = match (c, next) {
                    ('!', Some('=')) | ('<', Some('>')) => "!=",
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('<', _) => "<",
                    ('>', _) => ">",
                    _ => return Err(syntax("`!` stands alone")),
                };
                i += if sym.len() == 2 { 2 } else { 1 };
                out.push(Tok::Sym(sym));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_digit() || *c == '.')
                {
                    i += 1;
                }
                out.push(Tok::Num(chars[start..i].iter().collect()));
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '.'))
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
            other => return Err(syntax(&format!("unexpected `{other}`"))),
        }
    }
    Ok(out)
}

/// A literal in a condition.
#[derive(Clone, Debug, PartialEq)]
enum Lit {
    Text(String),
    Number(f64),
    Bool(bool),
}

impl Lit {
    fn value(&self) -> Value {
        match self {
            Lit::Text(s) => json!(s),
            Lit::Number(n) => json!(n),
            Lit::Bool(b) => json!(b),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Cmp(String, Cmp, Lit),
    In(String, bool, Vec<Lit>),
    Like(String, bool, String),
    Null(String, bool),
    Between(String, Lit, Lit),
}

impl Cond {
    fn count(&self) -> usize {
        match self {
            Cond::And(a, b) | Cond::Or(a, b) => a.count() + b.count(),
            _ => 1,
        }
    }

    fn columns<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Cond::And(a, b) | Cond::Or(a, b) => {
                a.columns(out);
                b.columns(out);
            }
            Cond::Cmp(c, ..)
            | Cond::In(c, ..)
            | Cond::Like(c, ..)
            | Cond::Null(c, _)
            | Cond::Between(c, ..) => out.push(c),
        }
    }
}

/// A parsed select.
#[derive(Debug, PartialEq)]
struct Select {
    columns: Vec<String>,
    module: String,
    filter: Option<Cond>,
    order: Vec<(String, bool)>,
    limit: usize,
    offset: usize,
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        let hit = self.keyword(kw);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn expect_keyword(&mut self, kw: &str) -> Result<(), Reply> {
        if self.eat_keyword(kw) {
            Ok(())
        } else {
            Err(syntax(&format!("expected `{kw}`")))
        }
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        let hit = matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn name(&mut self) -> Result<String, Reply> {
        match self.toks.get(self.at).cloned() {
            Some(Tok::Word(w)) if !is_reserved(&w) => {
                self.at += 1;
                Ok(w)
            }
            _ => Err(syntax("expected a field name")),
        }
    }

    fn number(&mut self) -> Result<usize, Reply> {
        match self.toks.get(self.at).cloned() {
            Some(Tok::Num(n)) => {
                self.at += 1;
                n.parse().map_err(|_| {
                    bad(
                        "INVALID_QUERY",
                        "limit given seems to be invalid",
                        json!({ "limit": n }),
                    )
                })
            }
            _ => Err(syntax("expected a number")),
        }
    }

    fn literal(&mut self) -> Result<Lit, Reply> {
        let lit = match self.toks.get(self.at).cloned() {
            Some(Tok::Str(s)) => Lit::Text(s),
            Some(Tok::Num(n)) => Lit::Number(n.parse().map_err(|_| syntax("a bad number"))?),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Lit::Bool(true),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Lit::Bool(false),
            _ => return Err(syntax("expected a value")),
        };
        self.at += 1;
        Ok(lit)
    }

    /// A pair at most at one level: `A and B`; a third needs parentheses (Zoho's rule).
    fn expr(&mut self) -> Result<Cond, Reply> {
        let first = self.primary()?;
        let and = self.eat_keyword("and");
        if !and && !self.eat_keyword("or") {
            return Ok(first);
        }
        let second = self.primary()?;
        if self.keyword("and") || self.keyword("or") {
            return Err(syntax(
                "group criteria in pairs with parentheses: ((A and B) and C)",
            ));
        }
        Ok(if and {
            Cond::And(Box::new(first), Box::new(second))
        } else {
            Cond::Or(Box::new(first), Box::new(second))
        })
    }

    fn primary(&mut self) -> Result<Cond, Reply> {
        if self.eat_sym("(") {
            let inner = self.expr()?;
            if !self.eat_sym(")") {
                return Err(syntax("expected `)`"));
            }
            return Ok(inner);
        }
        let column = self.name()?;
        if self.eat_keyword("is") {
            let not = self.eat_keyword("not");
            self.expect_keyword("null")?;
            return Ok(Cond::Null(column, not));
        }
        let not = self.eat_keyword("not");
        if self.eat_keyword("in") {
            if !self.eat_sym("(") {
                return Err(syntax("expected `(` after in"));
            }
            let mut values = vec![self.literal()?];
            while self.eat_sym(",") {
                values.push(self.literal()?);
            }
            if !self.eat_sym(")") {
                return Err(syntax("expected `)`"));
            }
            return Ok(Cond::In(column, not, values));
        }
        if self.eat_keyword("like") {
            return match self.literal()? {
                Lit::Text(p) => Ok(Cond::Like(column, not, p)),
                _ => Err(syntax("like takes a text value")),
            };
        }
        if not {
            return Err(syntax("expected in or like after not"));
        }
        if self.eat_keyword("between") {
            let low = self.literal()?;
            self.expect_keyword("and")?;
            let high = self.literal()?;
            return Ok(Cond::Between(column, low, high));
        }
        let op = match self.toks.get(self.at) {
            Some(Tok::Sym("=")) => Cmp::Eq,
            Some(Tok::Sym("!=")) => Cmp::Ne,
            Some(Tok::Sym("<")) => Cmp::Lt,
            Some(Tok::Sym("<=")) => Cmp::Le,
            Some(Tok::Sym(">")) => Cmp::Gt,
            Some(Tok::Sym(">=")) => Cmp::Ge,
            _ => return Err(syntax("expected an operator")),
        };
        self.at += 1;
        Ok(Cond::Cmp(column, op, self.literal()?))
    }
}

fn is_reserved(w: &str) -> bool {
    [
        "select", "from", "where", "order", "by", "limit", "offset", "and", "or", "not", "in",
        "like", "is", "null", "between", "asc", "desc", "group",
    ]
    .iter()
    .any(|k| w.eq_ignore_ascii_case(k))
}

fn parse(query: &str) -> Result<Select, Reply> {
    let mut p = Parser {
        toks: tokens(query)?,
        at: 0,
    };
    p.expect_keyword("select")?;
    let mut columns = vec![p.name()?];
    while p.eat_sym(",") {
        columns.push(p.name()?);
    }
    p.expect_keyword("from")?;
    let module = p.name()?;
    let filter = if p.eat_keyword("where") {
        Some(p.expr()?)
    } else {
        None
    };
    let mut order = Vec::new();
    if p.eat_keyword("order") {
        p.expect_keyword("by")?;
        loop {
            let field = p.name()?;
            let desc = if p.eat_keyword("desc") {
                true
            } else {
                p.eat_keyword("asc");
                false
            };
            order.push((field, desc));
            if !p.eat_sym(",") {
                break;
            }
        }
    }
    let (mut limit, mut offset) = (200, 0);
    if p.eat_keyword("limit") {
        let first = p.number()?;
        if p.eat_sym(",") {
            offset = first;
            limit = p.number()?;
        } else {
            limit = first;
            if p.eat_keyword("offset") {
                offset = p.number()?;
            }
        }
    }
    if p.at != p.toks.len() {
        return Err(syntax("unexpected words at the end"));
    }
    Ok(Select {
        columns,
        module,
        filter,
        order,
        limit,
        offset,
    })
}

/// Checks the query against the module and Zoho's limits.
fn check(q: &Select, m: &Module) -> Result<(), Reply> {
    if q.columns.len() > MAX_COLUMNS {
        return Err(bad(
            "LIMIT_EXCEEDED",
            "the limit has been exceeded",
            json!({ "limit": MAX_COLUMNS, "clause": "select" }),
        ));
    }
    for c in &q.columns {
        column_kind(m, c).ok_or_else(|| invalid_column(c, "select"))?;
    }
    if let Some(f) = &q.filter {
        if f.count() > MAX_CONDITIONS {
            return Err(bad(
                "LIMIT_EXCEEDED",
                "the limit has been exceeded",
                json!({ "limit": MAX_CONDITIONS, "clause": "where" }),
            ));
        }
        let mut names = Vec::new();
        f.columns(&mut names);
        for c in names {
            column_kind(m, c).ok_or_else(|| invalid_column(c, "where"))?;
        }
    }
    if q.order.len() > MAX_ORDER {
        return Err(bad(
            "LIMIT_EXCEEDED",
            "the limit has been exceeded",
            json!({ "limit": MAX_ORDER, "clause": "order by" }),
        ));
    }
    for (at, (field, _)) in q.order.iter().enumerate() {
        if q.order[..at]
            .iter()
            .any(|(f, _)| f.eq_ignore_ascii_case(field))
        {
            return Err(bad(
                "DUPLICATE_DATA",
                "duplicate data",
                json!({ "column_name": field, "clause": "order by" }),
            ));
        }
        let fine = field == "id" || m.field(field).is_some_and(|f| views::sortable(f.kind));
        if !fine {
            return Err(invalid_column(field, "order by"));
        }
    }
    if q.limit == 0 {
        return Err(bad(
            "INVALID_DATA",
            "limit should be greater than 0",
            json!({ "limit": 0 }),
        ));
    }
    if q.limit > MAX_LIMIT {
        return Err(bad(
            "INVALID_QUERY",
            "limit given seems to be invalid",
            json!({ "limit": q.limit }),
        ));
    }
    if q.offset + q.limit > MAX_REACH {
        return Err(bad(
            "INVALID_QUERY",
            "offset given seems to be invalid",
            json!({ "offset": q.offset }),
        ));
    }
    Ok(())
}

/// What a column is: a field of the module, `id`, `Converted__s` on Leads, or a lookup's field
/// (`Account_Name.Account_Name`, `Owner.last_name`). `None` for anything else.
fn column_kind(m: &Module, column: &str) -> Option<Kind> {
    if column == "id" {
        return Some(Kind::Text(20));
    }
    if column == "Converted__s" && m.api_name == "Leads" {
        return Some(Kind::Boolean);
    }
    match column.split_once('.') {
        None => m.field(column).map(|f| f.kind),
        Some((lookup, inner)) => match m.field(lookup)?.kind {
            Kind::Owner => matches!(
                inner,
                "id" | "first_name" | "last_name" | "full_name" | "email"
            )
            .then_some(Kind::Text(200)),
            Kind::Lookup(target) => {
                let t = find_module(target).ok()?;
                if inner == "id" {
                    Some(Kind::Text(20))
                } else {
                    t.field(inner).map(|f| f.kind)
                }
            }
            _ => None,
        },
    }
}

/// A column's value on `r`: a lookup as its id, a joined field from the record or user it
/// names.
fn resolve(world: &World, org: &str, m: &Module, r: &Record, column: &str) -> Value {
    if column == "Converted__s" {
        return json!(read::is_converted(r));
    }
    let Some((lookup, inner)) = column.split_once('.') else {
        return match (m.field(column).map(|f| f.kind), r.get(column)) {
            (Some(Kind::Owner | Kind::Lookup(_)), Some(v)) => {
                v.get("id").cloned().unwrap_or(Value::Null)
            }
            (_, v) => v.cloned().unwrap_or(Value::Null),
        };
    };
    let Some(id) = r
        .get(lookup)
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str)
    else {
        return Value::Null;
    };
    match m.field(lookup).map(|f| f.kind) {
        Some(Kind::Owner) => {
            world
                .users
                .iter()
                .find(|u| u.user_id == id)
                .map_or(Value::Null, |u| match inner {
                    "id" => json!(u.user_id),
                    "first_name" => json!(u.first_name),
                    "last_name" => json!(u.last_name),
                    "email" => json!(u.email),
                    _ => json!(u.full_name()),
                })
        }
        Some(Kind::Lookup(target)) => id
            .parse::<u64>()
            .ok()
            .and_then(|id| world.crm.record(org, target, id))
            .and_then(|t| t.get(inner).cloned())
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// `%` matches any run of characters; the rest matches without case.
fn like(text: &str, pattern: &str) -> bool {
    let text = text.to_lowercase();
    let pattern = pattern.to_lowercase();
    let parts: Vec<&str> = pattern.split('%').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if parts.len() == 1 {
        return text == pattern;
    }
    if !text.starts_with(first) {
        return false;
    }
    let mut rest = &text[first.len()..];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn holds(c: &Cond, value_of: &dyn Fn(&str) -> Value) -> bool {
    use std::cmp::Ordering::*;
    let cmp = |col: &str, lit: &Lit| order::compare(&value_of(col), &lit.value());
    match c {
        Cond::And(a, b) => holds(a, value_of) && holds(b, value_of),
        Cond::Or(a, b) => holds(a, value_of) || holds(b, value_of),
        Cond::Cmp(col, op, lit) => {
            let v = value_of(col);
            if empty(&v) {
                // Null compares to nothing but `!=`.
                return *op == Cmp::Ne;
            }
            let o = cmp(col, lit);
            match op {
                Cmp::Eq => o == Equal,
                Cmp::Ne => o != Equal,
                Cmp::Lt => o == Less,
                Cmp::Le => o != Greater,
                Cmp::Gt => o == Greater,
                Cmp::Ge => o != Less,
            }
        }
        Cond::In(col, not, lits) => {
            let v = value_of(col);
            if empty(&v) {
                // As `!=`: an empty value is not among them.
                return *not;
            }
            lits.iter().any(|l| cmp(col, l) == Equal) != *not
        }
        Cond::Like(col, not, pattern) => {
            let text = match value_of(col) {
                Value::String(s) => s,
                Value::Null => return *not,
                other => other.to_string(),
            };
            like(&text, pattern) != *not
        }
        Cond::Null(col, not) => empty(&value_of(col)) != *not,
        Cond::Between(col, low, high) => {
            let v = value_of(col);
            !empty(&v) && cmp(col, low) != Less && cmp(col, high) != Greater
        }
    }
}

/// Whether `query` is grouped (`group by` as words of the query, not inside a value).
pub(super) fn is_grouped(query: &str) -> bool {
    tokens(query).is_ok_and(|toks| {
        toks.iter()
            .any(|t| matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("group")))
    })
}

/// Runs a select for `org`'s records; the module's READ scope is checked by `allowed`.
pub(super) fn run(
    world: &World,
    org: &str,
    query: &str,
    allowed: impl Fn(&Module) -> Result<(), Reply>,
) -> Result<Reply, Reply> {
    let q = parse(query)?;
    let m = find_module(&q.module)?;
    allowed(&m)?;
    check(&q, &m)?;
    let empty_module = Default::default();
    let records = world.crm.module(org, m.api_name).unwrap_or(&empty_module);
    // Ordered on the resolved values (a join orders by the joined field), then by id.
    let mut order = q.order.clone();
    if order.is_empty() {
        order.push(("id".into(), false));
    }
    let mut hits: Vec<(Record, &Record)> = records
        .values()
        .filter(|r| {
            q.filter
                .as_ref()
                .is_none_or(|f| holds(f, &|col| resolve(world, org, &m, r, col)))
        })
        .map(|r| {
            let mut keys: Record = order
                .iter()
                .map(|(f, _)| (f.clone(), resolve(world, org, &m, r, f)))
                .collect();
            keys.insert("id".into(), r.get("id").cloned().unwrap_or(Value::Null));
            (keys, r)
        })
        .collect();
    hits.sort_by(|(a, _), (b, _)| order::compare_by(a, b, &order));
    let total = hits.len();
    let rows: Vec<Value> = hits
        .iter()
        .skip(q.offset)
        .take(q.limit)
        .map(|(_, r)| {
            let mut row = Map::new();
            row.insert("id".into(), r.get("id").cloned().unwrap_or(Value::Null));
            for c in &q.columns {
                let v = match m.field(c).map(|f| f.kind) {
                    Some(Kind::Owner | Kind::Lookup(_)) => r
                        .get(c)
                        .and_then(|v| v.get("id"))
                        .map_or(Value::Null, |id| json!({ "id": id })),
                    _ => resolve(world, org, &m, r, c),
                };
                row.insert(c.clone(), v);
            }
            Value::Object(row)
        })
        .collect();
    if rows.is_empty() {
        return Ok(Reply::Empty(axum::http::StatusCode::NO_CONTENT));
    }
    let count = rows.len();
    Ok(Reply::Json(
        axum::http::StatusCode::OK,
        json!({ "data": rows, "info": { "count": count, "more_records": q.offset + count < total } }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_select_reads_where_order_and_limit() {
        let q = parse(
            "select Last_Name, Company, Owner.last_name from Leads where ((Company like '%a%' and Lead_Status = 'Contacted') or Annual_Revenue >= 1000.5) order by Company desc, id limit 50, 100",
        )
        .expect("parsed");
        assert_eq!(q.columns, ["Last_Name", "Company", "Owner.last_name"]);
        assert_eq!(
            q.order,
            [("Company".to_owned(), true), ("id".to_owned(), false)]
        );
        assert_eq!((q.offset, q.limit), (50, 100));
        assert_eq!(q.filter.as_ref().map(Cond::count), Some(3));
        let q = parse("SELECT id FROM Deals WHERE Stage NOT IN ('Closed Won', 'It''s lost') LIMIT 10 OFFSET 20")
            .expect("parsed");
        assert_eq!((q.offset, q.limit), (20, 10));
        assert_eq!(
            q.filter,
            Some(Cond::In(
                "Stage".into(),
                true,
                vec![
                    Lit::Text("Closed Won".into()),
                    Lit::Text("It's lost".into())
                ]
            ))
        );
        for bad in [
            "select from Leads",
            "select Last_Name from Leads where a = 1 and b = 2 and c = 3",
            "select Last_Name from Leads where Company = 'open",
            "select Last_Name from Leads order by",
            "select Last_Name from Leads limit 10 extra",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn like_matches_without_case() {
        assert!(like("Acme Corp", "acme%"));
        assert!(like("Acme Corp", "%CORP"));
        assert!(like("Acme Corp", "%me c%"));
        assert!(!like("Acme Corp", "corp%"));
        assert!(like("abc", "abc"));
        assert!(!is_grouped(
            "select Company from Leads where Company like '%Acme Group%'"
        ));
        assert!(is_grouped(
            "select Stage, count(id) from Deals group by Stage"
        ));
        assert!(!like("abcd", "abc"));
    }
}
