//! CRM records: the modules the signed-in user can open, a module's records as a paged table with
//! columns labelled from Zoho's field metadata, one record with every field, and the forms that
//! create, edit and delete them. By side: [`dto`] is the contract both halves compile; the
//! server functions below are one line each over `ssr` (the server's half); `list`, `record` and
//! `form` are the pages, `widgets` what they share.

pub mod board;
mod dto;
mod form;
mod list;
pub mod numbers;
mod record;
pub mod sections;
#[cfg(feature = "ssr")]
mod ssr;
pub mod views;
mod widgets;

pub use crate::problem::{Problem, ReconnectButton};
pub use dto::*;
pub use form::RecordFormPage;
pub use list::ModulePage;
pub use record::{RecordData, RecordPage};
pub use widgets::{ContinueLink, GoButton, ModuleNav, ModulesResource, provide_modules};

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::AppError;
use crate::wire::Json;

/// The modules the signed-in user can open.
#[server(endpoint = "records/modules", input = GetUrl, output = Json)]
pub async fn list_modules() -> Result<Vec<ModuleDto>, AppError> {
    ssr::Records::active().await?.modules().await
}

/// A module's name, the fields its list can show or test, and its default columns.
#[server(endpoint = "records/meta", input = GetUrl, output = Json)]
pub async fn describe_module(module: String) -> Result<ModuleMeta, AppError> {
    ssr::Records::active().await?.describe(&module).await
}

/// A page of a module's records, or of a search in it.
#[server(endpoint = "records/list", input = GetUrl, output = Json)]
pub async fn list_records(args: ListArgs) -> Result<RecordsPage, AppError> {
    ssr::Records::active().await?.list(args).await
}

/// One record of `module`, every field labelled.
#[server(endpoint = "records/get", input = GetUrl, output = Json)]
pub async fn get_record(module: String, id: String) -> Result<RecordView, AppError> {
    ssr::Records::active().await?.get(&module, &id).await
}

/// The form for a new record of `module` (`id` = `None`) or for editing record `id`. A new
/// record may start linked to `parent` (`Accounts.<id>`): its lookup to that module is filled.
#[server(endpoint = "records/form", input = GetUrl, output = Json)]
pub async fn record_form(
    module: String,
    id: Option<String>,
    parent: Option<String>,
) -> Result<FormSpec, AppError> {
    let records = ssr::Records::active().await?;
    records.form(&module, id, parent.as_deref()).await
}

/// Saves the form: creates a record (`id` = `None`) or updates record `id`. With `base` (the
/// values the form was opened with), an update writes only the fields changed from it, and
/// nothing if someone else changed one of them meanwhile ([`SaveOutcome::Conflict`]).
#[server(endpoint = "records/save", input = Json, output = Json)]
pub async fn save_record(
    module: String,
    id: Option<String>,
    values: Values,
    save_token: String,
    #[server(default)] base: Option<Values>,
) -> Result<SaveOutcome, AppError> {
    let records = ssr::Records::active().await?;
    records.save(&module, id, values, &save_token, base).await
}

/// What someone else changed in record `id` since its form was opened with `base`: the fields
/// by label, who and when — read from Zoho anew. For the notice a form shows while its person
/// edits and the record changes underneath.
#[server(endpoint = "records/changed", input = Json, output = Json)]
pub async fn changed_meanwhile(
    module: String,
    id: String,
    base: Values,
) -> Result<Meanwhile, AppError> {
    let records = ssr::Records::active().await?;
    records.changed_meanwhile(&module, &id, &base).await
}

/// Deletes records of `module`; which went, and why any did not.
#[server(endpoint = "records/delete", output = Json)]
pub async fn delete_records(module: String, ids: Vec<String>) -> Result<DeleteOutcome, AppError> {
    ssr::Records::active().await?.delete(&module, &ids).await
}

/// Records of `module` whose name matches `text`, for a lookup field.
#[server(endpoint = "records/lookup", input = GetUrl, output = Json)]
pub async fn find_lookup(module: String, text: String) -> Result<Vec<LookupRef>, AppError> {
    ssr::Records::active().await?.lookup(&module, &text).await
}
