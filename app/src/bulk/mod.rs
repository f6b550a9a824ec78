//! Changing records in one go (reference §9.3, §9.4): "Change owner" hands one record, or a
//! list's selection, to another user; "Update field" sets one field on the selection. Both compare
//! each record with what it was when the dialog opened, and leave alone (and name) a record
//! someone changed meanwhile. The [`dialogs`] are the pages' half; the DTOs and server functions
//! here are the contract both halves compile; `ssr` is the server's half.

pub mod dialogs;
#[cfg(feature = "ssr")]
mod ssr;

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::activities::{OwnerChoice, Pick};
use crate::wire::Json;

/// The most records one change takes (Zoho's own limit for both calls).
pub const MAX_RECORDS: usize = 500;

/// The control a field's new value is given with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueControl {
    Text { max: Option<u32> },
    Picklist(Vec<Pick>),
    Date,
    DateTime,
    Whole,
    Decimal,
    Currency,
    Percent,
    Boolean,
}

/// A field "Update field" offers: one this user may edit and Zoho may mass update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MassField {
    pub api_name: String,
    pub label: String,
    pub control: ValueControl,
}

/// What the dialogs need: who may own records, the fields that may be set, each record as it
/// is now (its owner's id under `Owner`, and each offered field's value, as JSON text), and a
/// token for the press (a double click is one change).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkChoices {
    pub owners: Vec<OwnerChoice>,
    pub fields: Vec<MassField>,
    pub base: BTreeMap<String, BTreeMap<String, String>>,
    pub token: String,
}

/// A record left as it was, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub id: String,
    pub name: String,
    pub reason: String,
}

/// How a change ended: the records changed, those left as they were (and why), or the whole
/// change refused in words.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkReport {
    pub changed: Vec<String>,
    pub skipped: Vec<Skipped>,
    pub refused: Option<String>,
}

/// What the dialogs offer for the records `ids` of `module` (at most [`MAX_RECORDS`]). A
/// connection without the scopes these changes need is asked for one consent round here, before
/// anything is typed.
#[server(endpoint = "bulk/setup", input = Json, output = Json)]
pub async fn bulk_setup(module: String, ids: Vec<String>) -> Result<BulkChoices, AppError> {
    ssr::Bulk::active().await?.setup(&module, &ids).await
}

/// Hands the records of `base` (id → their owner's id when the dialog opened) to `owner_id`,
/// once per `token`.
#[server(endpoint = "bulk/owner", input = Json, output = Json)]
pub async fn change_owner(
    module: String,
    owner_id: String,
    token: String,
    base: BTreeMap<String, String>,
) -> Result<BulkReport, AppError> {
    let bulk = ssr::Bulk::active().await?;
    bulk.change_owner(&module, &owner_id, &token, base).await
}

/// Sets `field` to `value` (as its control gives it; empty clears it) on the records of `base`
/// (id → the field's value, as JSON text, when the dialog opened), once per `token`.
#[server(endpoint = "bulk/update", input = Json, output = Json)]
pub async fn update_field(
    module: String,
    field: String,
    value: String,
    token: String,
    base: BTreeMap<String, String>,
) -> Result<BulkReport, AppError> {
    let bulk = ssr::Bulk::active().await?;
    bulk.update_field(&module, &field, &value, &token, base)
        .await
}
