//! The server's side of the record pages: the active connection's CRM calls and the conversions
//! between Zoho's records and the pages' DTOs. Each server function in `records` is a line over
//! [`Records`]; browsing is in [`browse`], forms and deletes in [`forms`].

mod board;
mod browse;
mod forms;
mod ordered;
mod sections;
pub(super) mod views;

use std::sync::Arc;
use std::time::Duration;

use keeper::Zoho;
use zoho::ConnectionId;
use zoho::crm::metadata::{FieldInfo, ModuleInfo, ModuleName};

use super::ModuleDto;
use crate::AppError;
use crate::context::server_context;
use crate::session::ActiveConnection;

/// The CRM as the signed-in browser's active connection sees it.
pub struct Records {
    zoho: std::sync::Arc<Zoho>,
    conn: ConnectionId,
    save_hold: Duration,
}

impl Records {
    /// A page's rows as a table shows them (see [`rows`]), with the org's currency when one of
    /// `columns` holds money (cached; not asked for otherwise).
    pub async fn table_rows(
        &self,
        page: Vec<zoho::crm::text::TextRow>,
        columns: &[FieldInfo],
    ) -> Vec<super::Row> {
        let currency = if shows_money(columns) {
            let org = self.zoho.crm.org_cached(&self.conn).await;
            org.ok().and_then(|o| o.currency.clone())
        } else {
            None
        };
        rows(page, columns, currency.as_deref())
    }

    /// The active connection's records, or `Unauthenticated`.
    pub async fn active() -> Result<Self, AppError> {
        let ctx = server_context()?;
        let ActiveConnection(c) = ActiveConnection::current().await?;
        Ok(Records {
            zoho: ctx.zoho,
            conn: c.id,
            save_hold: ctx.save_hold,
        })
    }

    /// The module's description and fields, or a clear error when Zoho has no such module.
    async fn module(&self, raw: &str) -> Result<Module, AppError> {
        let name = ModuleName::parse(raw).ok_or_else(no_such_module)?;
        let crm = &self.zoho.crm;
        let info = crm
            .modules(&self.conn)
            .await?
            .iter()
            .find(|m| m.api_name == name.as_str())
            .map(module_dto)
            .ok_or_else(no_such_module)?;
        let fields = crm.fields(&self.conn, &name).await?;
        Ok(Module { name, info, fields })
    }
}

/// A module Zoho has, with its fields.
struct Module {
    name: ModuleName,
    info: ModuleDto,
    fields: Arc<Vec<FieldInfo>>,
}

impl Module {
    /// The field that names a record (the first default column).
    fn name_field(&self) -> String {
        default_columns(self.name.as_str(), &self.fields)
            .first()
            .map(|f| f.api_name.clone())
            .unwrap_or_default()
    }
}

pub(super) fn no_such_module() -> AppError {
    AppError::BadRequest("There is no such module.".into())
}

fn module_dto(m: &ModuleInfo) -> ModuleDto {
    ModuleDto {
        api_name: m.api_name.clone(),
        plural: m.plural_label.clone(),
        singular: m.singular_label.clone(),
    }
}

/// The columns a module's list starts with: its usual ones where we know them, else its
/// first few fields that people fill in.
pub fn default_columns(module: &str, fields: &[FieldInfo]) -> Vec<FieldInfo> {
    let preferred: &[&str] = match module {
        "Leads" => &["Full_Name", "Company", "Email", "Lead_Status"],
        "Contacts" => &["Full_Name", "Email", "Account_Name", "Phone"],
        "Accounts" => &["Account_Name", "Phone", "Industry", "Billing_City"],
        "Deals" => &["Deal_Name", "Stage", "Amount", "Closing_Date"],
        _ => &[],
    };
    let chosen: Vec<FieldInfo> = preferred
        .iter()
        .filter_map(|p| fields.iter().find(|f| f.api_name == *p).cloned())
        .collect();
    if !chosen.is_empty() {
        return chosen;
    }
    fields
        .iter()
        .filter(|f| !f.read_only && f.data_type != "ownerlookup" && f.data_type != "subform")
        .take(4)
        .cloned()
        .collect()
}

/// A field value as a person reads it.
pub use zoho::crm::text::as_text as text;

/// A page's rows as the table shows them: numbers, money and percentages of `columns` in the
/// neutral written form (`2,497,000.00 USD`), the rest as Zoho gave it.
pub fn rows(
    rows: Vec<zoho::crm::text::TextRow>,
    columns: &[FieldInfo],
    currency: Option<&str>,
) -> Vec<super::Row> {
    let kinds: Vec<super::ValueKind> = columns.iter().map(browse::value_kind).collect();
    rows.into_iter()
        .map(|r| super::Row {
            id: r.id,
            cells: r
                .cells
                .into_iter()
                .zip(
                    kinds
                        .iter()
                        .chain(std::iter::repeat(&super::ValueKind::Text)),
                )
                .map(|(cell, kind)| match kind {
                    super::ValueKind::Number
                    | super::ValueKind::Currency
                    | super::ValueKind::Percent
                        if !cell.is_empty() =>
                    {
                        crate::records::numbers::neutral(&cell, *kind, currency)
                    }
                    _ => cell,
                })
                .collect(),
        })
        .collect()
}

/// Who last changed `record`, as Zoho names them (`Modified_By`).
pub fn modified_by(record: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    record
        .get("Modified_By")
        .and_then(|b| b.get("name"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// Whether any of `columns` holds money (and the org's currency is worth asking for).
pub fn shows_money(columns: &[FieldInfo]) -> bool {
    columns
        .iter()
        .any(|c| browse::value_kind(c) == super::ValueKind::Currency)
}
