//! The org's users (reference §9.7), for owner pickers: the active, confirmed ones, and which of
//! them is the signed-in user. Kept a minute with the rest of the metadata: people join an org
//! far less often than a form is opened.

use std::sync::Arc;

use serde::Deserialize;

use super::{ApiError, CrmClient, CrmError};
use crate::call::{Resource, UserType};
use crate::ids::ConnectionId;

/// A CRM user: the `id` their records' `Owner` carries.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CrmUser {
    pub id: String,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

impl CrmUser {
    /// The name people read: the full name, else the address, else the id.
    pub fn label(&self) -> String {
        self.full_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| self.email.clone())
            .unwrap_or_else(|| self.id.clone())
    }
}

#[derive(Deserialize)]
struct UsersBody {
    #[serde(default)]
    users: Vec<CrmUser>,
}

impl CrmClient {
    /// The org's active, confirmed users (the first 200), kept a minute.
    pub async fn owners(&self, id: &ConnectionId) -> Result<Arc<Vec<CrmUser>>, CrmError> {
        self.users_of(id, UserType::ActiveConfirmed).await
    }

    /// All the org's users (the first 200), deactivated and invited ones too, kept a minute.
    pub async fn all_users(&self, id: &ConnectionId) -> Result<Arc<Vec<CrmUser>>, CrmError> {
        self.users_of(id, UserType::All).await
    }

    /// The signed-in user as the CRM knows them, kept a minute.
    pub async fn me(&self, id: &ConnectionId) -> Result<Option<CrmUser>, CrmError> {
        Ok(self.users_of(id, UserType::Current).await?.first().cloned())
    }

    async fn users_of(
        &self,
        id: &ConnectionId,
        kind: UserType,
    ) -> Result<Arc<Vec<CrmUser>>, CrmError> {
        let key = format!("{} {}", id.as_str(), kind.as_str());
        if let Some(known) = self.metadata().users.get(&key) {
            return Ok(known);
        }
        let users = match self
            .read::<UsersBody>(id, &Resource::Users(kind), "page=1&per_page=200")
            .await
        {
            Ok(body) => body.users,
            Err(CrmError::Api(ApiError::NoContent)) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(self.metadata().users.put(key, users))
    }
}
