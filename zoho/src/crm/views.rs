//! The org's custom views of a module (reference §9.5): the list a "View" select offers, kept a
//! minute like metadata, and one view's criteria, columns and order, which a sort outside Zoho's
//! own must say again in COQL; and how many records a list, a search or a view holds
//! (`actions/count`, §9.6).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::records::{Search, is_record_id};
use super::{ApiError, CrmClient, CrmError};
use crate::call::Resource;
use crate::ids::{ConnectionId, ModuleName};

/// A view as the list of a module's views gives it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct CustomView {
    pub id: String,
    pub name: String,
    /// What Zoho's own select shows ("All Leads" for the view named "All Open Leads").
    #[serde(default)]
    pub display_value: Option<String>,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub system_defined: bool,
}

impl CustomView {
    /// What a person is shown: the display value, or the name.
    pub fn label(&self) -> &str {
        self.display_value
            .as_deref()
            .filter(|d| !d.is_empty())
            .unwrap_or(&self.name)
    }
}

/// A view's criteria: one condition, or a group of them joined by `AND` or `OR`.
#[derive(Clone, Debug, PartialEq)]
pub enum ViewCriteria {
    Condition {
        field: String,
        comparator: String,
        value: Value,
    },
    Group {
        any: bool,
        group: Vec<ViewCriteria>,
    },
}

impl ViewCriteria {
    /// Reads Zoho's criteria JSON; `None` for a shape it is not.
    pub fn read(v: &Value) -> Option<ViewCriteria> {
        if let Some(group) = v.get("group").and_then(Value::as_array) {
            let any = v
                .get("group_operator")
                .and_then(Value::as_str)
                .is_some_and(|o| o.eq_ignore_ascii_case("or"));
            let group = group
                .iter()
                .map(ViewCriteria::read)
                .collect::<Option<Vec<_>>>()?;
            return Some(ViewCriteria::Group { any, group });
        }
        Some(ViewCriteria::Condition {
            field: v.pointer("/field/api_name")?.as_str()?.to_owned(),
            comparator: v.get("comparator")?.as_str()?.to_owned(),
            value: v.get("value").cloned().unwrap_or(Value::Null),
        })
    }
}

/// One view with what it holds and how it is ordered.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewDetail {
    pub id: String,
    /// `None` for a view of every record; a criteria shape zportal cannot read is `Some(None)`.
    pub criteria: Option<Option<ViewCriteria>>,
    /// Its columns, in order.
    pub fields: Vec<String>,
    /// Its order: the field and whether descending.
    pub sort: Option<(String, bool)>,
}

#[derive(Deserialize)]
struct ViewsBody {
    #[serde(default)]
    custom_views: Vec<CustomView>,
}

#[derive(Deserialize)]
struct NamedField {
    api_name: String,
}

#[derive(Deserialize)]
struct DetailItem {
    id: String,
    #[serde(default)]
    criteria: Option<Value>,
    #[serde(default)]
    fields: Vec<NamedField>,
    #[serde(default)]
    sort_by: Option<NamedField>,
    #[serde(default)]
    sort_order: Option<String>,
}

#[derive(Deserialize)]
struct DetailBody {
    custom_views: Vec<DetailItem>,
}

#[derive(Deserialize)]
struct CountBody {
    count: Value,
}

/// What a count counts.
#[derive(Clone, Copy, Debug)]
pub enum CountOf<'a> {
    /// Every record a plain list shows.
    All,
    /// What a search finds.
    Search(&'a Search),
    /// What a view holds.
    View(&'a str),
}

impl CrmClient {
    /// The org's views of `module`, Zoho's default first, kept a minute. A connection without
    /// the views scope gets Zoho's refusal.
    pub async fn custom_views(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
    ) -> Result<Arc<Vec<CustomView>>, CrmError> {
        let key = format!("{} {}", id.as_str(), module.as_str());
        if let Some(known) = self.metadata().views.get(&key) {
            return Ok(known);
        }
        let resource = Resource::CustomViews(module.clone());
        let mut views = match self.read::<ViewsBody>(id, &resource, "").await {
            Ok(body) => body.custom_views,
            Err(CrmError::Api(ApiError::NoContent)) => Vec::new(),
            Err(e) => return Err(e),
        };
        views.retain(|v| is_record_id(&v.id));
        // The default first, the rest as Zoho lists them.
        views.sort_by_key(|v| !v.default);
        Ok(self.metadata().views.put(key, views))
    }

    /// One view of `module` with its criteria, columns and order; `None` if Zoho has no such
    /// view.
    pub async fn custom_view(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        view_id: &str,
    ) -> Result<Option<ViewDetail>, CrmError> {
        if !is_record_id(view_id) {
            return Ok(None);
        }
        let resource = Resource::CustomView {
            module: module.clone(),
            id: view_id.to_owned(),
        };
        let body = match self.read::<DetailBody>(id, &resource, "").await {
            Ok(body) => body,
            Err(CrmError::Api(ApiError::NoContent)) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(body.custom_views.into_iter().next().map(|v| ViewDetail {
            id: v.id,
            criteria: v
                .criteria
                .filter(|c| !c.is_null())
                .map(|c| ViewCriteria::read(&c)),
            fields: v.fields.into_iter().map(|f| f.api_name).collect(),
            sort: v.sort_by.map(|f| {
                let desc = v
                    .sort_order
                    .as_deref()
                    .is_some_and(|o| o.eq_ignore_ascii_case("desc"));
                (f.api_name, desc)
            }),
        }))
    }

    /// How many records of `module` `of` holds (a few seconds old at most, as other reads);
    /// `None` when Zoho does not say. Zoho's count can lag changes by minutes.
    pub async fn count(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        of: CountOf<'_>,
    ) -> Result<Option<u64>, CrmError> {
        let query = match of {
            CountOf::All => String::new(),
            CountOf::Search(search) => match search.param() {
                Some(p) => p,
                None => return Ok(None),
            },
            CountOf::View(view) if is_record_id(view) => format!("cvid={view}"),
            CountOf::View(_) => return Ok(None),
        };
        let resource = Resource::Count(module.clone());
        let body = match self.read::<CountBody>(id, &resource, &query).await {
            Ok(body) => body,
            Err(CrmError::Api(ApiError::NoContent)) => return Ok(Some(0)),
            Err(e) => return Err(e),
        };
        // A number, or (as a tag's count) a number as text.
        Ok(match body.count {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn criteria_are_read_as_zoho_writes_them() {
        let c = json!({ "group_operator": "AND", "group": [
            { "comparator": "equal", "field": { "api_name": "Owner", "id": "1" }, "value": "${CURRENTUSER}" },
            { "comparator": "equal", "field": { "api_name": "Converted__s" }, "value": false },
        ]});
        let read = ViewCriteria::read(&c).expect("read");
        let ViewCriteria::Group { any, group } = read else {
            panic!("a group")
        };
        assert!(!any);
        assert_eq!(
            group[1],
            ViewCriteria::Condition {
                field: "Converted__s".into(),
                comparator: "equal".into(),
                value: json!(false)
            }
        );
        assert_eq!(ViewCriteria::read(&json!({ "odd": 1 })), None);
    }
}
