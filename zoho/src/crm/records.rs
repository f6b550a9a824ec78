//! CRM records for a stored connection, as typed calls: a page of records (by page number, or by
//! `page_token` past Zoho's first 2,000) and search — with search criteria built safely by
//! [`Criterion`] — read straight into text rows of the fields asked for; one record with every
//! field; and writes with Zoho's per-record results.

use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::text::{RowsSeed, TextRow};
use super::{ApiError, CrmClient, CrmError, api_error};
use crate::call::{Call, Op, Resource};
use crate::http::HttpError;
use crate::ids::ConnectionId;
use crate::ids::ModuleName;

/// Which page to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageRef {
    Number(u32),
    /// Zoho's `next_page_token`, needed past the first 2,000 records.
    Token(String),
}

/// How to list.
#[derive(Clone, Debug)]
pub struct ListQuery {
    pub fields: Vec<String>,
    pub sort_by: SortBy,
    pub ascending: bool,
    pub per_page: u32,
    pub page: PageRef,
    /// An org view's id (`cvid`): its records in its own order, so `sort_by` is not sent.
    pub view: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Id,
    CreatedTime,
    ModifiedTime,
}

impl SortBy {
    fn as_str(self) -> &'static str {
        match self {
            SortBy::Id => "id",
            SortBy::CreatedTime => "Created_Time",
            SortBy::ModifiedTime => "Modified_Time",
        }
    }
}

/// One page of records, each as the text of the fields asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub rows: Vec<TextRow>,
    pub page: u32,
    pub more: bool,
    pub next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct Info {
    #[serde(default)]
    page: u32,
    #[serde(default)]
    more_records: bool,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct DataBody {
    data: Vec<Map<String, Value>>,
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Reads a list or search answer into a page of `columns`, in one pass over the body. Zoho
/// answers an empty list or search with 204: an empty page, not an error.
pub(crate) fn read_page(
    (status, body): (u16, bytes::Bytes),
    columns: &[&str],
) -> Result<Page, CrmError> {
    if status == 204 {
        return Ok(Page::default());
    }
    if !(200..300).contains(&status) {
        return Err(api_error(status, &body).into());
    }
    let mut de = serde_json::Deserializer::from_slice(&body);
    let page = PageSeed(columns)
        .deserialize(&mut de)
        .and_then(|page| de.end().map(|()| page))
        .map_err(|_| HttpError::Malformed("CRM response"))?;
    Ok(page)
}

/// A list or search body: `{"data": [records], "info": {…}}`.
struct PageSeed<'c>(&'c [&'c str]);

enum BodyKey {
    Data,
    Info,
    Other,
}

impl<'de> Deserialize<'de> for BodyKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = BodyKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, s: &str) -> Result<BodyKey, E> {
                Ok(match s {
                    "data" => BodyKey::Data,
                    "info" => BodyKey::Info,
                    _ => BodyKey::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = Page;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Page, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = Page;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a page of records")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page, A::Error> {
        let (mut rows, mut info) = (None, None::<Info>);
        while let Some(key) = map.next_key::<BodyKey>()? {
            match key {
                BodyKey::Data => rows = Some(map.next_value_seed(RowsSeed(self.0))?),
                BodyKey::Info => info = map.next_value()?,
                BodyKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let rows = rows.ok_or_else(|| serde::de::Error::missing_field("data"))?;
        Ok(Page {
            rows,
            page: info.as_ref().map_or(1, |i| i.page.max(1)),
            more: info.as_ref().is_some_and(|i| i.more_records),
            next_page_token: info.and_then(|i| i.next_page_token),
        })
    }
}

/// One condition of a search: `(field:operator:value)`, the value escaped as Zoho wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Criterion {
    pub field: String,
    pub operator: Operator,
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Equals,
    NotEqual,
    StartsWith,
    GreaterThan,
    GreaterEqual,
    LessThan,
}

impl Operator {
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "equals",
            Operator::NotEqual => "not_equal",
            Operator::StartsWith => "starts_with",
            Operator::GreaterThan => "greater_than",
            Operator::GreaterEqual => "greater_equal",
            Operator::LessThan => "less_than",
        }
    }
}

/// Escapes a criteria value: a backslash before each `\`, `(`, `)` and `,`.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '(' | ')' | ',') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Criterion {
    /// `(field:op:value)`, or `None` for a field name that is not an API name.
    pub fn render(&self) -> Option<String> {
        ModuleName::parse(&self.field)?;
        Some(format!(
            "({}:{}:{})",
            self.field,
            self.operator.as_str(),
            escape_value(&self.value)
        ))
    }
}

/// What to search by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Search {
    Word(String),
    Email(String),
    Phone(String),
    /// Conditions joined with `and` (every one must hold) or `or` (any one may).
    Criteria {
        conditions: Vec<Criterion>,
        any: bool,
    },
}

/// The most conditions one Zoho search takes.
pub const MAX_CONDITIONS: usize = 10;

impl Search {
    /// The search's query parameter, encoded; `None` when it cannot be sent.
    pub(crate) fn param(&self) -> Option<String> {
        Some(match self {
            Search::Word(w) => format!("word={}", encode(w)),
            Search::Email(e) => format!("email={}", encode(e)),
            Search::Phone(p) => format!("phone={}", encode(p)),
            Search::Criteria { conditions, any } => {
                if conditions.len() > MAX_CONDITIONS {
                    return None;
                }
                let parts: Option<Vec<String>> = conditions.iter().map(Criterion::render).collect();
                let parts = parts?;
                let joiner = if *any { "or" } else { "and" };
                let joined = match parts.len() {
                    0 => return None,
                    1 => parts[0].clone(),
                    _ => format!("({})", parts.join(joiner)),
                };
                format!("criteria={}", encode(&joined))
            }
        })
    }
}

/// What Zoho said about one record of a write it did not accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    /// Zoho's code: `MANDATORY_NOT_FOUND`, `INVALID_DATA`, `DUPLICATE_DATA`, …
    pub code: String,
    pub message: String,
    /// The field it names (`details.api_name`), when it names one.
    pub field: Option<String>,
}

impl RecordError {
    /// What a call with an id that cannot be Zoho's is refused with, before it is sent.
    pub fn invalid_id() -> Self {
        RecordError {
            code: "INVALID_DATA".into(),
            message: "invalid record id".into(),
            field: None,
        }
    }
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} ({}: {})", self.message, self.code, field),
            None => write!(f, "{} ({})", self.message, self.code),
        }
    }
}

/// Zoho's answer for one record of a write.
#[derive(Deserialize)]
struct WriteItem {
    #[serde(default)]
    code: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Map<String, Value>,
}

impl WriteItem {
    fn into_result(self) -> Result<Option<String>, RecordError> {
        let text = |k: &str| {
            self.details
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        if self.status == "success" {
            return Ok(text("id"));
        }
        // `json_path` is `$.data[0].Last_Name`; `api_name` says the same more simply.
        let field = text("api_name")
            .or_else(|| text("json_path").and_then(|p| p.rsplit('.').next().map(str::to_owned)));
        Err(RecordError {
            code: self.code.chars().take(64).collect(),
            message: self.message.chars().take(300).collect(),
            field: field.filter(|f| ModuleName::parse(f).is_some()),
        })
    }
}

#[derive(Deserialize)]
struct WriteBody {
    data: Vec<WriteItem>,
}

/// The per-record results of a write, in the order sent. Zoho answers 200, 201 or 207 with
/// them, and 400 too when every record failed; any other answer is an error of the call.
pub(crate) fn write_results(
    (status, body): (u16, bytes::Bytes),
) -> Result<Vec<Result<Option<String>, RecordError>>, CrmError> {
    match serde_json::from_slice::<WriteBody>(&body) {
        Ok(w) if matches!(status, 200 | 201 | 207 | 400) && !w.data.is_empty() => {
            Ok(w.data.into_iter().map(WriteItem::into_result).collect())
        }
        _ if (200..300).contains(&status) => Err(HttpError::Malformed("CRM write response").into()),
        _ => Err(api_error(status, &body).into()),
    }
}

/// The most records one Zoho write or delete takes.
pub const MAX_PER_CALL: usize = 100;

/// A record id: digits only, so it can go into a path or a query as it is.
pub(crate) fn is_record_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit())
}

impl CrmClient {
    /// Creates one record; its new id, or what Zoho said was wrong with it.
    pub async fn insert(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        fields: Map<String, Value>,
    ) -> Result<Result<String, RecordError>, CrmError> {
        let body = serde_json::json!({ "data": [fields] });
        let records = Resource::Records {
            module: module.clone(),
            ids: Vec::new(),
        };
        let call = Call::json(Op::Create, &records, &body);
        let mut results = write_results(self.call(id, call).await?)?;
        Ok(match results.swap_remove(0) {
            Ok(Some(new_id)) => Ok(new_id),
            Ok(None) => return Err(HttpError::Malformed("insert result without id").into()),
            Err(e) => Err(e),
        })
    }

    /// Changes the given fields of one record, or says what Zoho found wrong.
    pub async fn update(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
        fields: Map<String, Value>,
    ) -> Result<Result<(), RecordError>, CrmError> {
        if !is_record_id(record_id) {
            return Ok(Err(RecordError::invalid_id()));
        }
        let body = serde_json::json!({ "data": [fields] });
        let record = Resource::Record {
            module: module.clone(),
            id: record_id.to_owned(),
        };
        let call = Call::json(Op::Update, &record, &body);
        let mut results = write_results(self.call(id, call).await?)?;
        Ok(results.swap_remove(0).map(|_| ()))
    }

    /// Deletes records, [`MAX_PER_CALL`] per call; each id with its result, in order.
    pub async fn delete(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        ids: &[String],
    ) -> Result<Vec<(String, Result<(), RecordError>)>, CrmError> {
        let mut out = Vec::with_capacity(ids.len());
        let (good, bad): (Vec<&String>, Vec<&String>) = ids.iter().partition(|i| is_record_id(i));
        for chunk in good.chunks(MAX_PER_CALL) {
            let records = Resource::Records {
                module: module.clone(),
                ids: chunk.iter().map(|s| (*s).clone()).collect(),
            };
            let call = Call::delete(&records);
            let results = write_results(self.call(id, call).await?)?;
            if results.len() != chunk.len() {
                return Err(HttpError::Malformed("delete results").into());
            }
            out.extend(
                chunk
                    .iter()
                    .zip(results)
                    .map(|(i, r)| ((*i).clone(), r.map(|_| ()))),
            );
        }
        out.extend(bad.into_iter().map(|i| {
            let e = RecordError {
                code: "INVALID_DATA".into(),
                message: "invalid record id".into(),
                field: None,
            };
            (i.clone(), Err(e))
        }));
        Ok(out)
    }

    /// A page of a module's records.
    pub async fn list(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        q: &ListQuery,
    ) -> Result<Page, CrmError> {
        let fields: Vec<String> = q.fields.iter().map(|f| encode(f)).collect();
        let order = match q.view.as_deref() {
            // Zoho refuses a view with `sort_by`: a view brings its own order.
            Some(view) if is_record_id(view) => format!("cvid={view}"),
            Some(_) => return Ok(Page::default()),
            None => format!(
                "sort_by={}&sort_order={}",
                q.sort_by.as_str(),
                if q.ascending { "asc" } else { "desc" }
            ),
        };
        let mut query = format!(
            "fields={}&{order}&per_page={}",
            fields.join(","),
            q.per_page.clamp(1, 200),
        );
        match &q.page {
            PageRef::Number(n) => query.push_str(&format!("&page={}", n.max(&1))),
            PageRef::Token(t) => query.push_str(&format!("&page_token={}", encode(t))),
        }
        let columns: Vec<&str> = q.fields.iter().map(String::as_str).collect();
        let records = Resource::Records {
            module: module.clone(),
            ids: Vec::new(),
        };
        read_page(self.call(id, Call::read(&records, &query)).await?, &columns)
    }

    /// One record, every field (as read moments ago, if it was).
    pub async fn record(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
    ) -> Result<Option<Map<String, Value>>, CrmError> {
        self.record_read(id, module, record_id, false).await
    }

    /// One record as Zoho holds it now, never as read before: what a save compares with.
    pub async fn record_now(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
    ) -> Result<Option<Map<String, Value>>, CrmError> {
        self.record_read(id, module, record_id, true).await
    }

    async fn record_read(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
        now: bool,
    ) -> Result<Option<Map<String, Value>>, CrmError> {
        if record_id.is_empty() || !record_id.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let record = Resource::Record {
            module: module.clone(),
            id: record_id.to_owned(),
        };
        let read = if now {
            self.read_now::<DataBody>(id, &record, "").await
        } else {
            self.read::<DataBody>(id, &record, "").await
        };
        match read {
            Ok(body) => Ok(body.data.into_iter().next()),
            Err(CrmError::Api(ApiError::NoContent)) => Ok(None),
            Err(CrmError::Api(ApiError::Other {
                status: 400,
                ref code,
            })) if code == "INVALID_DATA" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Searches a module, each record read as the text of `columns`; `page` starts at 1.
    pub async fn search(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        search: &Search,
        page: u32,
        per_page: u32,
        columns: &[&str],
    ) -> Result<Page, CrmError> {
        let q = SearchPage {
            search,
            sort: None,
            view: None,
            page,
            per_page,
        };
        self.search_page(id, module, &q, columns).await
    }

    /// A page of a search, in an order of its own or within a view, as `q` says.
    pub async fn search_page(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        q: &SearchPage<'_>,
        columns: &[&str],
    ) -> Result<Page, CrmError> {
        let Some(param) = q.search.param() else {
            return Ok(Page::default());
        };
        let mut query = format!(
            "{param}&page={}&per_page={}",
            q.page.max(1),
            q.per_page.clamp(1, 200)
        );
        if let Some((field, descending)) = q.sort {
            if ModuleName::parse(field).is_none() {
                return Ok(Page::default());
            }
            let order = if descending { "desc" } else { "asc" };
            query.push_str(&format!("&sort_by={field}&sort_order={order}"));
        }
        match q.view {
            Some(view) if is_record_id(view) => query.push_str(&format!("&cvid={view}")),
            Some(_) => return Ok(Page::default()),
            None => {}
        }
        let search = Resource::Search(module.clone());
        read_page(self.call(id, Call::read(&search, &query)).await?, columns)
    }
}

/// A page of a search: by what, in which order (search's own `sort_by`, reference §9.6), within
/// which view.
#[derive(Clone, Copy, Debug)]
pub struct SearchPage<'a> {
    pub search: &'a Search,
    /// A field's API name and whether descending; Zoho's order (by id) when `None`.
    pub sort: Option<(&'a str, bool)>,
    /// An org view's id (`cvid`) the search stays within.
    pub view: Option<&'a str>,
    pub page: u32,
    pub per_page: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_cannot_carry_paths_or_queries() {
        assert!(ModuleName::parse("Leads").is_some());
        assert!(ModuleName::parse("Sales_Orders").is_some());
        for bad in [
            "",
            "../org",
            "Leads?x=1",
            "Leads/1",
            "1Leads",
            "Lea ds",
            "Leads%2F",
        ] {
            assert!(ModuleName::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn criteria_values_are_escaped() {
        assert_eq!(
            escape_value(r"Smith (Jr.), Esq\x"),
            r"Smith \(Jr.\)\, Esq\\x"
        );
        let c = Criterion {
            field: "Last_Name".into(),
            operator: Operator::Equals,
            value: "A,B".into(),
        };
        assert_eq!(c.render().as_deref(), Some(r"(Last_Name:equals:A\,B)"));
        let bad = Criterion {
            field: "Last_Name)or(x".into(),
            operator: Operator::Equals,
            value: "v".into(),
        };
        assert_eq!(bad.render(), None);
        let two = |any| Search::Criteria {
            conditions: vec![c.clone(), c.clone()],
            any,
        };
        let all = two(false).param().unwrap_or_default();
        assert!(all.starts_with("criteria=%28%28"), "{all}");
        assert!(all.contains("and"), "{all}");
        assert!(two(true).param().is_some_and(|p| p.contains("%29or%28")));
        let none = Search::Criteria {
            conditions: vec![],
            any: false,
        };
        assert_eq!(none.param(), None);
        let eleven = Search::Criteria {
            conditions: vec![c; MAX_CONDITIONS + 1],
            any: false,
        };
        assert_eq!(eleven.param(), None, "Zoho takes at most ten conditions");
    }
}
