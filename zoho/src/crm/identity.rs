//! Who a token belongs to: the user (`users?type=CurrentUser`) and their org (`org`). A sign-in
//! reads both with the token it was just given, to key the connection; the Connection page reads
//! the org again through the client.

use serde::Deserialize;

use super::{ApiError, CrmClient, CrmError, json_body, send};
use crate::call::{Call, Resource};
use crate::http::Api;
use crate::ids::{ConnectionId, OrgId, UserId};
use crate::secret::Secret;

/// The signed-in user, from `users?type=CurrentUser`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentUser {
    pub zuid: UserId,
    pub email: String,
    pub full_name: String,
}

/// The user's org, from `org`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Org {
    pub zgid: OrgId,
    pub name: String,
    /// The org's home currency (ISO 4217, `iso_code`), when Zoho says.
    pub currency: Option<String>,
    /// Its API credits per rolling 24 hours, when its edition and licenses say.
    pub daily_credits: Option<u64>,
}

#[derive(Deserialize)]
struct UsersBody {
    users: Vec<UserBody>,
}

#[derive(Deserialize)]
struct UserBody {
    zuid: String,
    email: String,
    full_name: Option<String>,
}

#[derive(Deserialize)]
struct OrgBody {
    org: Vec<OrgEntry>,
}

#[derive(Deserialize)]
struct OrgEntry {
    zgid: String,
    company_name: Option<String>,
    #[serde(default)]
    iso_code: Option<String>,
    #[serde(default)]
    license_details: Option<License>,
}

#[derive(Deserialize)]
struct License {
    paid_type: Option<String>,
    users_license_purchased: Option<u64>,
}

impl OrgBody {
    /// The identity is `org[0].zgid` (as the SDK keys it), not `org[0].id`.
    fn into_org(self) -> Result<Org, CrmError> {
        let org = self.org.into_iter().next().ok_or(ApiError::NoContent)?;
        let daily_credits = org.license_details.as_ref().and_then(|l| {
            crate::budget::daily_credits(l.paid_type.as_deref()?, l.users_license_purchased?)
        });
        Ok(Org {
            daily_credits,
            zgid: OrgId::new(org.zgid),
            name: org.company_name.unwrap_or_default(),
            currency: org
                .iso_code
                .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())),
        })
    }
}

/// `GET users?type=CurrentUser` with `token`: the email is `users[0].email`, the identity
/// `users[0].zuid`.
pub async fn current_user(
    http: &reqwest::Client,
    api: Api<'_>,
    token: &Secret,
) -> Result<CurrentUser, CrmError> {
    let answer = send(http, api, Call::read(&Resource::CurrentUser, ""), token).await?;
    let body: UsersBody = json_body(answer)?;
    let user = body.users.into_iter().next().ok_or(ApiError::NoContent)?;
    Ok(CurrentUser {
        zuid: UserId::new(user.zuid),
        full_name: user.full_name.unwrap_or_else(|| user.email.clone()),
        email: user.email,
    })
}

/// `GET org` with `token`.
pub async fn org(http: &reqwest::Client, api: Api<'_>, token: &Secret) -> Result<Org, CrmError> {
    let body: OrgBody = json_body(send(http, api, Call::read(&Resource::Org, ""), token).await?)?;
    body.into_org()
}

impl CrmClient {
    /// Who a just-granted token belongs to: the user and their org, read with that token (not
    /// through the refresh coordinator: there is no stored connection yet).
    pub async fn identify(
        &self,
        api: Api<'_>,
        token: &Secret,
    ) -> Result<(CurrentUser, Org), CrmError> {
        let user = current_user(self.http(), api, token).await?;
        let org = org(self.http(), api, token).await?;
        // Two calls of the org's budget, though no connection is stored yet.
        let key = crate::budget::OrgKey {
            dc: api.dc,
            org: org.zgid.clone(),
        };
        self.budget().spend(&key, 2);
        Ok((user, org))
    }

    /// The connection's org, read live from Zoho (and kept for [`Self::org_cached`]).
    pub async fn org(&self, id: &ConnectionId) -> Result<std::sync::Arc<Org>, CrmError> {
        let org = self
            .read::<OrgBody>(id, &Resource::Org, "")
            .await?
            .into_org()?;
        Ok(self.metadata().orgs.put(id.as_str().to_owned(), org))
    }

    /// The connection's org as read in the last minute (its name and currency for a page).
    pub async fn org_cached(&self, id: &ConnectionId) -> Result<std::sync::Arc<Org>, CrmError> {
        match self.org_known(id) {
            Some(known) => Ok(known),
            None => self.org(id).await,
        }
    }

    /// The connection's org if it was read in the last minute, without asking Zoho.
    pub fn org_known(&self, id: &ConnectionId) -> Option<std::sync::Arc<Org>> {
        self.metadata().orgs.get(id.as_str())
    }
}
