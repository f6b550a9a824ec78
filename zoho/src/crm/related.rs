//! What hangs off a record besides its fields: Zoho's related lists (metadata kept a minute with
//! the rest of the metadata; their records read as text rows, as lists are) and the record's
//! timeline — who changed which field from what to what, and when.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::records::{Page, is_record_id, read_page};
use super::{ApiError, CrmClient, CrmError};
use crate::call::{Call, Resource};
use crate::ids::ConnectionId;
use crate::ids::ModuleName;

/// One related list of a module, as `settings/related_lists` describes it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RelatedList {
    pub api_name: String,
    pub display_label: String,
    /// Where its records are: `Accounts/{ENTITYID}/Contacts`.
    #[serde(default)]
    pub href: Option<String>,
    #[serde(default)]
    pub module: Option<ListModule>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default = "visible")]
    pub visible: bool,
}

fn visible() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ListModule {
    pub api_name: String,
}

impl RelatedList {
    /// The path segment of its records, read from `href` (never guessed): `Contacts` of
    /// `Accounts/{ENTITYID}/Contacts`.
    pub fn records_segment(&self) -> Option<ModuleName> {
        let href = self.href.as_deref()?;
        let mut parts = href.split('/');
        let (_, entity, segment) = (parts.next()?, parts.next()?, parts.next()?);
        (entity == "{ENTITYID}" && parts.next().is_none())
            .then(|| ModuleName::parse(segment))
            .flatten()
    }

    /// The module its records belong to, when they are records of a module.
    pub fn records_module(&self) -> Option<ModuleName> {
        self.module
            .as_ref()
            .and_then(|m| ModuleName::parse(&m.api_name))
    }
}

#[derive(Deserialize)]
struct RelatedListsBody {
    related_lists: Vec<RelatedList>,
}

/// One entry of a record's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TimelineEntry {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub audited_time: Option<String>,
    /// `added`, `updated`, `deleted`, …
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub done_by: Option<Doer>,
    #[serde(default)]
    pub record: Option<Subject>,
    #[serde(default)]
    pub field_history: Option<Vec<FieldChange>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Doer {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// What an entry was about: the record, or a note or attachment on it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Subject {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub module: Option<ListModule>,
}

/// One field an update changed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct FieldChange {
    pub api_name: String,
    #[serde(default)]
    pub field_label: Option<String>,
    #[serde(rename = "_value", default)]
    pub value: Option<OldNew>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OldNew {
    #[serde(default)]
    pub old: Value,
    #[serde(default)]
    pub new: Value,
}

/// A page of a timeline, with the token of the next one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    pub entries: Vec<TimelineEntry>,
    pub next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct TimelineBody {
    #[serde(rename = "__timeline", default)]
    entries: Vec<TimelineEntry>,
    #[serde(default)]
    info: TimelineInfo,
}

#[derive(Default, Deserialize)]
struct TimelineInfo {
    #[serde(default)]
    more_records: bool,
    #[serde(default)]
    next_page_token: Option<String>,
}

/// How many timeline entries a page shows.
pub const TIMELINE_PER_PAGE: u32 = 20;

impl CrmClient {
    /// The module's related lists, as Zoho's metadata lists them (kept a minute).
    pub async fn related_lists(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
    ) -> Result<Arc<Vec<RelatedList>>, CrmError> {
        let key = format!("{} {}", id.as_str(), module.as_str());
        if let Some(known) = self.metadata().related.get(&key) {
            return Ok(known);
        }
        let lists = Resource::RelatedLists(module.clone());
        let lists = match self.read::<RelatedListsBody>(id, &lists, "").await {
            Ok(body) => body.related_lists,
            Err(CrmError::Api(ApiError::NoContent)) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(self.metadata().related.put(key, lists))
    }

    /// The first `per_page` records of a related list, as text rows of `columns`.
    pub async fn related_records(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
        list: &ModuleName,
        columns: &[&str],
        per_page: u32,
    ) -> Result<Page, CrmError> {
        if !is_record_id(record_id) {
            return Ok(Page::default());
        }
        let fields: Vec<String> = columns
            .iter()
            .map(|c| url::form_urlencoded::byte_serialize(c.as_bytes()).collect())
            .collect();
        let related = Resource::Related {
            module: module.clone(),
            id: record_id.to_owned(),
            list: list.as_str().to_owned(),
        };
        let query = format!(
            "fields={}&page=1&per_page={}",
            fields.join(","),
            per_page.clamp(1, 200),
        );
        read_page(self.call(id, Call::read(&related, &query)).await?, columns)
    }

    /// A page of the record's timeline, newest first.
    pub async fn timeline(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
        page_token: Option<&str>,
    ) -> Result<Timeline, CrmError> {
        if !is_record_id(record_id) {
            return Ok(Timeline::default());
        }
        let timeline = Resource::Timeline {
            module: module.clone(),
            id: record_id.to_owned(),
        };
        let mut query = format!(
            "sort_by=audited_time&sort_order=desc&per_page={TIMELINE_PER_PAGE}&include_inner_details=field_history.field_label"
        );
        if let Some(t) = page_token {
            let t: String = url::form_urlencoded::byte_serialize(t.as_bytes()).collect();
            query.push_str(&format!("&page_token={t}"));
        }
        match self.read::<TimelineBody>(id, &timeline, &query).await {
            Ok(body) => Ok(Timeline {
                entries: body.entries,
                next_page_token: body.info.next_page_token.filter(|_| body.info.more_records),
            }),
            Err(CrmError::Api(ApiError::NoContent)) => Ok(Timeline::default()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(href: &str) -> RelatedList {
        RelatedList {
            api_name: "Contacts".into(),
            display_label: "Contacts".into(),
            href: Some(href.into()),
            module: None,
            kind: None,
            visible: true,
        }
    }

    #[test]
    fn a_related_lists_path_comes_from_its_href_and_nothing_else() {
        assert_eq!(
            list("Accounts/{ENTITYID}/Contacts").records_segment(),
            ModuleName::parse("Contacts")
        );
        for bad in [
            "Accounts/{ENTITYID}/../org",
            "Accounts/1/Contacts",
            "Contacts",
            "Accounts/{ENTITYID}/Deals/x",
        ] {
            assert_eq!(list(bad).records_segment(), None, "{bad}");
        }
    }
}
