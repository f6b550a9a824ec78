//! Zoho's module and field metadata, kept per connection for a minute. Every records call needs
//! it and it changes only when an admin edits the CRM's layout; fetching it each time tripled the
//! Zoho calls (and the API credits) behind every list. Each process keeps its own copy: nothing
//! here is a token or needs agreeing on across processes.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::{CrmClient, CrmError};
use crate::cache::Expiring;
use crate::call::Resource;
use crate::ids::ConnectionId;

/// How long metadata is used before it is fetched again.
pub const TTL: Duration = Duration::from_secs(60);

pub use crate::ids::ModuleName;

/// Every connection's module and field metadata, fresh for [`metadata::TTL`].
#[derive(Debug)]
pub struct Metadata {
    modules: Expiring<Vec<ModuleInfo>>,
    fields: Expiring<Vec<FieldInfo>>,
    pub(super) related: Expiring<Vec<super::related::RelatedList>>,
    pub(super) orgs: Expiring<super::identity::Org>,
    pub(super) users: Expiring<Vec<super::users::CrmUser>>,
    pub(super) views: Expiring<Vec<super::views::CustomView>>,
}

impl Default for Metadata {
    fn default() -> Self {
        Metadata {
            modules: Expiring::new(TTL),
            fields: Expiring::new(TTL),
            related: Expiring::new(TTL),
            orgs: Expiring::new(TTL),
            users: Expiring::new(TTL),
            views: Expiring::new(TTL),
        }
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
    /// Whether Zoho lets one call set it on many records (reference §9.4); unsaid: no.
    #[serde(default)]
    pub mass_update: bool,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct PickListValue {
    pub display_value: String,
    pub actual_value: String,
}

#[derive(Deserialize)]
struct ModulesBody {
    modules: Vec<ModuleInfo>,
}

#[derive(Deserialize)]
struct FieldsBody {
    fields: Vec<FieldInfo>,
}

impl CrmClient {
    /// The modules the API serves to this user.
    pub async fn modules(&self, id: &ConnectionId) -> Result<Arc<Vec<ModuleInfo>>, CrmError> {
        if let Some(known) = self.metadata().modules.get(id.as_str()) {
            return Ok(known);
        }
        let body: ModulesBody = self.read(id, &Resource::Modules, "").await?;
        let modules = body
            .modules
            .into_iter()
            .filter(|m| m.api_supported)
            .collect();
        Ok(self.metadata().modules.put(id.as_str().to_owned(), modules))
    }

    /// A module's fields.
    pub async fn fields(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
    ) -> Result<Arc<Vec<FieldInfo>>, CrmError> {
        let key = format!("{} {}", id.as_str(), module.as_str());
        if let Some(known) = self.metadata().fields.get(&key) {
            return Ok(known);
        }
        let body: FieldsBody = self.read(id, &Resource::Fields(module.clone()), "").await?;
        Ok(self.metadata().fields.put(key, body.fields))
    }
}
