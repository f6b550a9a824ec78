//! Zoho's protocol, and nothing else: data centers, OAuth, the CRM API and its shapes, and
//! Zoho's API budget — for any program that holds a token. It stores nothing and knows of no
//! other process: where tokens come from is a [`tokens::TokenSource`] its user implements (zportal's
//! is in the `keeper` crate), and what sits in front of Zoho is a [`crm::CallLayer`].
//!
//! The modules import one way, each only from those listed before it:
//!
//! - leaves: [`clock`], [`dc`] (data centers and where they live), [`ids`], [`secret`],
//!   [`meter`], [`cache`];
//! - [`call`]: what one CRM request is, as a value (what it does to what);
//! - [`http`]: the one HTTP client, where calls go, and the one transport error;
//! - [`budget`]: Zoho's API limits shared fairly (queues, retries of 429, credits, back-off);
//! - [`oauth`]: Zoho Accounts (authorization URL, code exchange, refresh, revoke);
//! - [`tokens`]: where CRM calls get their access tokens;
//! - [`crm`]: CRM calls of a connection (identity, metadata, records, watch channels).
//!
//! Used alone: sign in (here with a self-client code, as a headless tool does; a browser goes
//! through [`oauth::OAuthClient::start`] and [`oauth::OAuthClient::exchange`]), then list Leads
//! with the token, held however the program likes. This runs against the emulator:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use zoho::crm::CrmClient;
//! use zoho::crm::records::{ListQuery, PageRef, SortBy};
//! use zoho::oauth::{ClientConfig, OAuthClient};
//! use zoho::tokens::{AccessToken, RefreshError, TokenSource};
//! use zoho::{ClientId, ConnectionId, DataCenter, DcTable, ModuleName, Secret};
//!
//! /// One access token, kept by whoever got it (a sign-in, a CLI, a secret store).
//! #[derive(Debug)]
//! struct Held(AccessToken);
//!
//! #[async_trait::async_trait]
//! impl TokenSource for Held {
//!     async fn access_token(&self, _: &ConnectionId) -> Result<AccessToken, RefreshError> {
//!         Ok(self.0.clone())
//!     }
//!     async fn after_unauthorized(
//!         &self,
//!         _: &ConnectionId,
//!         _: i64,
//!     ) -> Result<AccessToken, RefreshError> {
//!         Err(RefreshError::NeedsReconnect)
//!     }
//! }
//! # let emulator = emulator::start(emulator::Options {
//! #     addr: "127.0.0.1:0".parse()?,
//! #     state_file: None,
//! # })
//! # .await?;
//! # let zoho_accounts = emulator.base_url.clone();
//! # let code: String = reqwest::Client::new()
//! #     .post(format!("{zoho_accounts}/__emulator/self-client"))
//! #     .json(&serde_json::json!({
//! #         "client_id": "1000.ZPORTALDEV",
//! #         "email": "ada@us.zportal.test",
//! #         "scope": "ZohoCRM.modules.ALL,ZohoCRM.settings.fields.READ,ZohoCRM.users.READ,ZohoCRM.org.READ",
//! #     }))
//! #     .send()
//! #     .await?
//! #     .json::<serde_json::Value>()
//! #     .await?["code"]
//! #     .as_str()
//! #     .ok_or("a code")?
//! #     .to_owned();
//!
//! // Real Zoho: `DcTable::zoho(&DataCenter::ALL)`.
//! let dcs = Arc::new(DcTable::emulator(&zoho_accounts, &DataCenter::ALL)?);
//! let http = zoho::http::client(Duration::from_secs(10))?;
//! let oauth = OAuthClient::new(
//!     ClientConfig {
//!         client_id: ClientId::new("1000.ZPORTALDEV"),
//!         client_secret: Secret::new("zportal-dev-secret"),
//!         redirect_uri: "http://127.0.0.1:3000/auth/zoho/callback".into(),
//!         scopes: vec![],
//!     },
//!     dcs,
//!     http.clone(),
//! );
//! let grant = oauth.exchange_self_client(DataCenter::Us, &Secret::new(code)).await?;
//!
//! // Who the token is for, then the token kept as the program likes.
//! let org = zoho::crm::identity::org(&http, grant.api(DataCenter::Us), &grant.access_token).await?;
//! let held = Held(AccessToken {
//!     token: grant.access_token.clone(),
//!     generation: 1,
//!     dc: DataCenter::Us,
//!     api_domain: grant.api_domain.clone(),
//!     expires_at: zoho::clock::now() + grant.expires_in,
//!     obtained_at: zoho::clock::now(),
//!     org: org.zgid.clone(),
//!     org_name: org.name.clone(),
//! });
//!
//! let crm = CrmClient::new(http, Arc::new(held), Arc::default());
//! let leads = ModuleName::parse("Leads").ok_or("a module name")?;
//! let query = ListQuery {
//!     fields: vec!["Last_Name".into(), "Email".into()],
//!     sort_by: SortBy::Id,
//!     ascending: false,
//!     per_page: 20,
//!     page: PageRef::Number(1),
//!     view: None,
//! };
//! let page = crm.list(&ConnectionId::new("ada"), &leads, &query).await?;
//! assert!(!page.rows.is_empty(), "ada's org has seeded Leads");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })
//! # }
//! ```

pub mod budget;
pub mod cache;
pub mod call;
pub mod clock;
pub mod crm;
pub mod dc;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod http;
pub mod ids;
pub mod meter;
pub mod oauth;
mod random;
pub mod secret;
pub mod tokens;

pub use dc::{DataCenter, DcError, DcTable};
pub use ids::{ClientId, ConnectionId, ModuleName, OrgId, UserId};
pub use secret::Secret;

/// A fresh random value for state and ids: `bytes` random bytes as base64url.
pub fn random_token(bytes: usize) -> String {
    random::token(bytes)
}

/// A fresh random value as lowercase hex: `bytes` random bytes, twice as many characters.
pub fn random_hex(bytes: usize) -> String {
    random::hex(bytes)
}
