//! Views of a module's list (reference §9.5): the org's own, read from Zoho ("All Leads", "My
//! Leads", …), and each person's saved ones — a list's conditions, columns, order and page size
//! under a name, kept in zportal's store per data center, org and user, so they follow the
//! person to every browser and survive a disconnect. The DTOs and server functions here are the
//! contract both halves compile; the list's bar (`list/views.rs`) is the page's half, and
//! `ssr/views.rs` the server's.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::records::Condition;
use crate::wire::Json;

/// The longest name a saved view may have.
pub const MAX_NAME: usize = 60;
/// The most views one person saves for one module.
pub const MAX_SAVED: usize = 100;

/// What a saved view holds: a list's conditions, columns, order and page size (a text search is
/// not part of a view).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewDef {
    pub conditions: Vec<Condition>,
    pub match_any: bool,
    pub columns: Vec<String>,
    pub sort: Option<String>,
    pub ascending: bool,
    pub per_page: u32,
}

/// One of the org's views, as the select offers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgView {
    pub id: String,
    pub label: String,
    /// Zoho's default view of the module: what the plain list is.
    pub default: bool,
}

/// One of the person's saved views, as the select offers it: the list's URL query that shows
/// it (`sv=…&c=…&sort=…&rows=…`), and its columns (none: this browser's choice).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    pub id: String,
    pub name: String,
    pub query: String,
    pub columns: Vec<String>,
}

/// The views a module's "View" select offers: the org's (the default first), then the person's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewChoices {
    pub org: Vec<OrgView>,
    pub saved: Vec<SavedView>,
    /// The org's views could not be read: the connection has not granted the scope (one more
    /// consent round does).
    pub org_needs_consent: bool,
}

/// The views of `module`'s list.
#[server(endpoint = "views/list", input = GetUrl, output = Json)]
pub async fn list_views(module: String) -> Result<ViewChoices, AppError> {
    super::ssr::views::Views::active()
        .await?
        .list(&module)
        .await
}

/// Saves the list as it is under `name`; a view of that name already there is replaced.
#[server(endpoint = "views/save", input = Json, output = Json)]
pub async fn save_view(module: String, name: String, def: ViewDef) -> Result<SavedView, AppError> {
    super::ssr::views::Views::active()
        .await?
        .save(&module, &name, def)
        .await
}

/// Deletes one of the person's own views.
#[server(endpoint = "views/delete", input = Json, output = Json)]
pub async fn delete_view(module: String, id: String) -> Result<(), AppError> {
    super::ssr::views::Views::active()
        .await?
        .delete(&module, &id)
        .await
}
