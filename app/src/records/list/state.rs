//! A list's state in its URL — the view, the search, the conditions, the order, the page and the
//! rows per page — so Back, Forward, a reload and a shared link all show the same list.
//! `?cv=…&q=word&c=Lead_Status:equals:Contacted&any=1&sort=Company&asc=1&rows=100&page=3&token=…`
//! (`cv` an org view, `sv` a saved one); anything missing is the default, anything unreadable is
//! dropped. An old link's `sort=created_time` still opens in that order.

use leptos_router::params::ParamsMap;

use crate::records::{Condition, ConditionOp, ListArgs, MAX_CONDITIONS, sort_field};

/// The rows a page shows unless the URL says otherwise.
pub const DEFAULT_ROWS: u32 = 50;
/// The page sizes offered.
pub const ROW_CHOICES: [u32; 4] = [20, 50, 100, 200];

/// The stash key of a module's column choice.
pub fn columns_key(module: &str) -> String {
    format!("columns.{module}")
}

/// The view a list is of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewRef {
    /// An org view of Zoho's, by its id (`cvid`).
    Org(String),
    /// One of the person's saved views, by its id.
    Saved(String),
}

/// A view id as a URL may carry it: letters and digits, not too long.
fn view_id(raw: &str) -> Option<String> {
    (!raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| raw.to_owned())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListState {
    pub view: Option<ViewRef>,
    pub text: Option<String>,
    pub conditions: Vec<Condition>,
    pub match_any: bool,
    /// The field ordered by; none for Zoho's order.
    pub sort: Option<String>,
    pub ascending: bool,
    pub per_page: u32,
    pub page: u32,
    pub token: Option<String>,
}

impl Default for ListState {
    fn default() -> Self {
        ListState {
            view: None,
            text: None,
            conditions: Vec::new(),
            match_any: false,
            sort: None,
            ascending: false,
            per_page: DEFAULT_ROWS,
            page: 1,
            token: None,
        }
    }
}

impl ListState {
    pub fn from_query(q: &ParamsMap) -> Self {
        let d = ListState::default();
        let text = q
            .get("q")
            .map(|t| t.trim().chars().take(200).collect::<String>())
            .filter(|t| !t.is_empty());
        let conditions = q
            .get_all("c")
            .unwrap_or_default()
            .iter()
            .filter_map(|c| parse_condition(c))
            .take(MAX_CONDITIONS)
            .collect::<Vec<_>>();
        let view = match (q.get("cv").and_then(|v| view_id(&v)), q.get("sv")) {
            (Some(cv), _) => Some(ViewRef::Org(cv)),
            (None, Some(sv)) => view_id(&sv).map(ViewRef::Saved),
            (None, None) => None,
        };
        ListState {
            view,
            // A search is a text or conditions, never both.
            text: if conditions.is_empty() { text } else { None },
            match_any: q.get("any").as_deref() == Some("1"),
            conditions,
            sort: q.get("sort").and_then(|s| sort_field(&s)).or(d.sort),
            ascending: q.get("asc").as_deref() == Some("1"),
            per_page: q
                .get("rows")
                .and_then(|r| r.parse().ok())
                .filter(|r| ROW_CHOICES.contains(r))
                .unwrap_or(d.per_page),
            page: q
                .get("page")
                .and_then(|p| p.parse().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1),
            token: q.get("token").filter(|t| !t.is_empty() && t.len() <= 512),
        }
    }

    /// What to ask the server for: this list of `module`, with `columns` (none for its defaults).
    pub fn args(self, module: String, columns: Vec<String>) -> ListArgs {
        ListArgs {
            module,
            columns,
            view: match self.view {
                Some(ViewRef::Org(id)) => Some(id),
                _ => None,
            },
            sort: self.sort,
            ascending: self.ascending,
            per_page: self.per_page,
            page: self.page,
            page_token: self.token,
            text: self.text,
            conditions: self.conditions,
            match_any: self.match_any,
        }
    }

    /// The query string (without `?`; empty for the default list).
    pub fn to_query(&self) -> String {
        let d = ListState::default();
        let mut parts: Vec<(&str, String)> = Vec::new();
        match &self.view {
            Some(ViewRef::Org(id)) => parts.push(("cv", id.clone())),
            Some(ViewRef::Saved(id)) => parts.push(("sv", id.clone())),
            None => {}
        }
        if let Some(t) = &self.text {
            parts.push(("q", t.clone()));
        }
        for c in &self.conditions {
            parts.push((
                "c",
                format!("{}:{}:{}", c.field, c.operator.as_str(), c.value),
            ));
        }
        // Even with one condition: the URL must give back exactly this state.
        if self.match_any {
            parts.push(("any", "1".into()));
        }
        if let Some(sort) = self.sort.as_ref().filter(|_| self.sort != d.sort) {
            parts.push(("sort", sort.clone()));
        }
        if self.ascending {
            parts.push(("asc", "1".into()));
        }
        if self.per_page != d.per_page {
            parts.push(("rows", self.per_page.to_string()));
        }
        if self.page > 1 {
            parts.push(("page", self.page.to_string()));
        }
        if let Some(t) = &self.token {
            parts.push(("token", t.clone()));
        }
        parts
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// `field:operator:value` (the value may hold colons).
fn parse_condition(raw: &str) -> Option<Condition> {
    let (field, rest) = raw.split_once(':')?;
    let (op, value) = rest.split_once(':')?;
    let ok = !field.is_empty()
        && field.len() <= 100
        && field
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let operator = ConditionOp::parse(op)?;
    (ok && !value.trim().is_empty()).then(|| Condition {
        field: field.to_owned(),
        operator,
        value: value.chars().take(255).collect(),
    })
}

/// Percent-encodes a query value: unreserved characters as they are, everything else `%XX`.
fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> ListState {
        let map = ParamsMap::from_iter(q.split('&').filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.to_owned(), v.replace("%20", " ").replace("%26", "&")))
        }));
        ListState::from_query(&map)
    }

    #[test]
    fn a_list_comes_back_from_its_url() {
        let s = ListState {
            view: Some(ViewRef::Org("7000000000101".into())),
            text: None,
            conditions: vec![
                Condition {
                    field: "Lead_Status".into(),
                    operator: ConditionOp::Equals,
                    value: "Not Contacted".into(),
                },
                Condition {
                    field: "Company".into(),
                    operator: ConditionOp::StartsWith,
                    value: "A&B: x".into(),
                },
            ],
            match_any: true,
            sort: Some("Company".into()),
            ascending: true,
            per_page: 100,
            page: 3,
            token: None,
        };
        let q = s.to_query();
        assert_eq!(
            q,
            "cv=7000000000101&c=Lead_Status:equals:Not%20Contacted&c=Company:starts_with:A%26B:%20x&any=1&sort=Company&asc=1&rows=100&page=3"
        );
        assert_eq!(parse(&q), s);
        assert_eq!(ListState::default().to_query(), "");
    }

    #[test]
    fn what_cannot_be_read_is_dropped() {
        let s =
            parse("q=lead&rows=7&page=0&sort=bo gus&sv=../x&c=bad field:equals:x&c=Email:nope:x");
        assert_eq!(s.text.as_deref(), Some("lead"));
        assert_eq!((s.per_page, s.page, s.sort), (DEFAULT_ROWS, 1, None));
        assert_eq!(s.view, None);
        assert!(s.conditions.is_empty());
    }

    #[test]
    fn an_old_links_order_still_opens() {
        let s = parse("sort=created_time&asc=1");
        assert_eq!(s.sort.as_deref(), Some("Created_Time"));
        assert!(s.ascending);
        assert_eq!(
            parse("sv=abc123").view,
            Some(ViewRef::Saved("abc123".into()))
        );
    }
}
