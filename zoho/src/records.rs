//! CRM records for a stored connection, as typed calls: the modules the user may see, a module's
//! fields, a page of records (by page number, or by `page_token` past Zoho's first 2,000), one
//! record, and search — with search criteria built safely by [`Criterion`].

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::crm::{ApiError, CrmClient, CrmError};
use crate::ids::ConnectionId;

/// A module's API name (`Leads`, `Sales_Orders`): letters, digits and underscores only, so it can
/// never smuggle a path or a query into a URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ModuleName(String);

impl ModuleName {
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && s.as_bytes()[0].is_ascii_alphabetic();
        ok.then(|| ModuleName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A module as `settings/modules` describes it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ModuleInfo {
    pub api_name: String,
    pub singular_label: String,
    pub plural_label: String,
    #[serde(default)]
    pub api_supported: bool,
}

/// A field as `settings/fields` describes it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct FieldInfo {
    pub api_name: String,
    pub field_label: String,
    pub data_type: String,
    #[serde(default)]
    pub json_type: String,
    #[serde(default)]
    pub length: Option<u32>,
    #[serde(default)]
    pub system_mandatory: bool,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub pick_list_values: Vec<PickListValue>,
    #[serde(default)]
    pub lookup: Option<Value>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct PickListValue {
    pub display_value: String,
    pub actual_value: String,
}

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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
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

/// One page of records.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub records: Vec<Map<String, Value>>,
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
struct DataBody {
    data: Vec<Map<String, Value>>,
    info: Option<Info>,
}

#[derive(Deserialize)]
struct ModulesBody {
    modules: Vec<ModuleInfo>,
}

#[derive(Deserialize)]
struct FieldsBody {
    fields: Vec<FieldInfo>,
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Zoho answers an empty list or search with 204: an empty page, not an error.
fn page_or_empty(result: Result<DataBody, CrmError>) -> Result<Page, CrmError> {
    match result {
        Ok(body) => {
            let info = body.info;
            Ok(Page {
                records: body.data,
                page: info.as_ref().map_or(1, |i| i.page.max(1)),
                more: info.as_ref().is_some_and(|i| i.more_records),
                next_page_token: info.and_then(|i| i.next_page_token),
            })
        }
        Err(CrmError::Api(ApiError::NoContent)) => Ok(Page::default()),
        Err(e) => Err(e),
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
    LessThan,
}

impl Operator {
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "equals",
            Operator::NotEqual => "not_equal",
            Operator::StartsWith => "starts_with",
            Operator::GreaterThan => "greater_than",
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
    /// All of these conditions (`and`).
    Criteria(Vec<Criterion>),
}

impl Search {
    fn param(&self) -> Option<String> {
        Some(match self {
            Search::Word(w) => format!("word={}", encode(w)),
            Search::Email(e) => format!("email={}", encode(e)),
            Search::Phone(p) => format!("phone={}", encode(p)),
            Search::Criteria(list) => {
                let parts: Option<Vec<String>> = list.iter().map(Criterion::render).collect();
                let parts = parts?;
                let joined = match parts.len() {
                    0 => return None,
                    1 => parts[0].clone(),
                    _ => format!("({})", parts.join("and")),
                };
                format!("criteria={}", encode(&joined))
            }
        })
    }
}

impl CrmClient {
    /// The modules the API serves to this user.
    pub async fn modules(&self, id: &ConnectionId) -> Result<Vec<ModuleInfo>, CrmError> {
        let body: ModulesBody = self.get(id, "settings/modules").await?;
        Ok(body
            .modules
            .into_iter()
            .filter(|m| m.api_supported)
            .collect())
    }

    /// A module's fields.
    pub async fn fields(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
    ) -> Result<Vec<FieldInfo>, CrmError> {
        let body: FieldsBody = self
            .get(id, &format!("settings/fields?module={}", module.as_str()))
            .await?;
        Ok(body.fields)
    }

    /// A page of a module's records.
    pub async fn list(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        q: &ListQuery,
    ) -> Result<Page, CrmError> {
        let fields: Vec<String> = q.fields.iter().map(|f| encode(f)).collect();
        let mut path = format!(
            "{}?fields={}&sort_by={}&sort_order={}&per_page={}",
            module.as_str(),
            fields.join(","),
            q.sort_by.as_str(),
            if q.ascending { "asc" } else { "desc" },
            q.per_page.clamp(1, 200),
        );
        match &q.page {
            PageRef::Number(n) => path.push_str(&format!("&page={}", n.max(&1))),
            PageRef::Token(t) => path.push_str(&format!("&page_token={}", encode(t))),
        }
        page_or_empty(self.get(id, &path).await)
    }

    /// One record, every field.
    pub async fn record(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
    ) -> Result<Option<Map<String, Value>>, CrmError> {
        if record_id.is_empty() || !record_id.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        match self
            .get::<DataBody>(id, &format!("{}/{record_id}", module.as_str()))
            .await
        {
            Ok(body) => Ok(body.data.into_iter().next()),
            Err(CrmError::Api(ApiError::NoContent)) => Ok(None),
            Err(CrmError::Api(ApiError::Other {
                status: 400,
                ref code,
            })) if code == "INVALID_DATA" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Searches a module; `page` starts at 1.
    pub async fn search(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        search: &Search,
        page: u32,
        per_page: u32,
    ) -> Result<Page, CrmError> {
        let Some(param) = search.param() else {
            return Ok(Page::default());
        };
        let path = format!(
            "{}/search?{param}&page={}&per_page={}",
            module.as_str(),
            page.max(1),
            per_page.clamp(1, 200)
        );
        page_or_empty(self.get(id, &path).await)
    }
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
        let two = Search::Criteria(vec![c.clone(), c]);
        assert!(
            two.param()
                .is_some_and(|p| p.starts_with("criteria=%28%28"))
        );
        assert_eq!(Search::Criteria(vec![]).param(), None);
    }
}
