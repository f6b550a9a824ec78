//! The server's side of views: the org's from Zoho (a connection without the scope still gets
//! its saved views, and word that one consent round brings the org's), and the person's from
//! the store, checked before they are kept.

use std::sync::Arc;

use keeper::Zoho;
use keeper::vault::{SavedViewRow, ViewOwner};
use zoho::ConnectionId;
use zoho::crm::metadata::ModuleName;
use zoho::crm::{ApiError, CrmError};

use crate::AppError;
use crate::context::server_context;
use crate::records::list::state::{DEFAULT_ROWS, ListState, ROW_CHOICES, ViewRef};
use crate::records::views::{MAX_NAME, MAX_SAVED, OrgView, SavedView, ViewChoices, ViewDef};
use crate::records::{MAX_COLUMNS, MAX_CONDITIONS, sort_field};
use crate::session::ActiveConnection;

/// The active connection's views.
pub struct Views {
    zoho: Arc<Zoho>,
    conn: ConnectionId,
    owner: ViewOwner,
}

fn module_name(module: &str) -> Result<ModuleName, AppError> {
    ModuleName::parse(module)
        .filter(ModuleName::is_capitalized)
        .ok_or_else(|| AppError::BadRequest("There is no such module.".into()))
}

/// A saved view's name, tidied: required, at most [`MAX_NAME`] characters, no control ones.
fn view_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::BadRequest("Give the view a name.".into()));
    }
    if name.chars().count() > MAX_NAME {
        return Err(AppError::BadRequest(format!(
            "A view's name is at most {MAX_NAME} characters."
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::BadRequest(
            "A view's name is one line of text.".into(),
        ));
    }
    Ok(name.to_owned())
}

/// A view as it may be kept: its names API names, its counts within the list's limits.
fn checked(mut def: ViewDef) -> Result<ViewDef, AppError> {
    let api_name = |s: &str| sort_field(s).is_some_and(|f| f == s);
    if def.conditions.len() > MAX_CONDITIONS || def.columns.len() > MAX_COLUMNS {
        return Err(AppError::BadRequest(
            "That view holds more than a list can.".into(),
        ));
    }
    let names_ok = def.conditions.iter().all(|c| api_name(&c.field))
        && def.columns.iter().all(|c| api_name(c))
        && def.sort.as_deref().is_none_or(api_name);
    if !names_ok {
        return Err(AppError::BadRequest(
            "That view names a field that cannot be.".into(),
        ));
    }
    def.conditions
        .iter_mut()
        .for_each(|c| c.value = c.value.chars().take(255).collect());
    if !ROW_CHOICES.contains(&def.per_page) {
        def.per_page = DEFAULT_ROWS;
    }
    Ok(def)
}

fn saved(row: SavedViewRow) -> Option<SavedView> {
    // A row this version cannot read is left out, not an error of the whole list.
    let def: ViewDef = serde_json::from_str(&row.body).ok()?;
    let state = ListState {
        view: Some(ViewRef::Saved(row.id.clone())),
        conditions: def.conditions,
        match_any: def.match_any,
        sort: def.sort,
        ascending: def.ascending,
        per_page: def.per_page,
        ..ListState::default()
    };
    Some(SavedView {
        id: row.id,
        name: row.name,
        query: state.to_query(),
        columns: def.columns,
    })
}

impl Views {
    /// The active connection's views, or `Unauthenticated`.
    pub async fn active() -> Result<Self, AppError> {
        let ctx = server_context()?;
        let ActiveConnection(c) = ActiveConnection::current().await?;
        Ok(Views {
            zoho: ctx.zoho,
            owner: ViewOwner {
                dc: c.key.dc.location().to_owned(),
                org: c.key.org.as_str().to_owned(),
                user: c.key.user.as_str().to_owned(),
            },
            conn: c.id,
        })
    }

    pub async fn list(&self, module: &str) -> Result<ViewChoices, AppError> {
        let m = module_name(module)?;
        let (org, mine) = futures::join!(
            self.zoho.crm.custom_views(&self.conn, &m),
            self.zoho.vault.saved_views(&self.owner, m.as_str())
        );
        let (org, org_needs_consent) = match org {
            Ok(views) => (
                views
                    .iter()
                    .map(|v| OrgView {
                        id: v.id.clone(),
                        label: v.label().to_owned(),
                        default: v.default,
                    })
                    .collect(),
                false,
            ),
            Err(CrmError::Api(ApiError::ScopeMismatch)) => (Vec::new(), true),
            Err(e) => return Err(e.into()),
        };
        Ok(ViewChoices {
            org,
            saved: mine?.into_iter().filter_map(saved).collect(),
            org_needs_consent,
        })
    }

    pub async fn save(
        &self,
        module: &str,
        name: &str,
        def: ViewDef,
    ) -> Result<SavedView, AppError> {
        let m = module_name(module)?;
        // A view of a module this user has (a made-up name would keep views of nothing).
        let modules = self.zoho.crm.modules(&self.conn).await?;
        if !modules.iter().any(|x| x.api_name == m.as_str()) {
            return Err(AppError::BadRequest("There is no such module.".into()));
        }
        let name = view_name(name)?;
        let def = checked(def)?;
        let vault = &self.zoho.vault;
        let existing = vault.saved_views(&self.owner, m.as_str()).await?;
        if existing.len() >= MAX_SAVED && !existing.iter().any(|v| v.name == name) {
            return Err(AppError::BadRequest(format!(
                "You have {MAX_SAVED} views of this list already: delete one first."
            )));
        }
        let body = serde_json::to_string(&def).map_err(|_| AppError::Internal)?;
        let row = vault
            .save_view(&self.owner, m.as_str(), &name, &body)
            .await?;
        saved(row).ok_or(AppError::Internal)
    }

    pub async fn delete(&self, module: &str, id: &str) -> Result<(), AppError> {
        let m = module_name(module)?;
        let ok_id =
            !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok_id
            && self
                .zoho
                .vault
                .delete_view(&self.owner, m.as_str(), id)
                .await?
        {
            Ok(())
        } else {
            Err(AppError::BadRequest(
                "There is no such view of yours.".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Condition, ConditionOp};

    #[test]
    fn a_view_is_checked_before_it_is_kept() {
        assert_eq!(view_name("  Hot leads ").as_deref(), Ok("Hot leads"));
        assert!(view_name(" ").is_err());
        assert!(view_name(&"x".repeat(61)).is_err());
        assert!(view_name("two\nlines").is_err());
        let def = ViewDef {
            conditions: vec![Condition {
                field: "Lead_Status".into(),
                operator: ConditionOp::Equals,
                value: "Contacted".into(),
            }],
            columns: vec!["Full_Name".into(), "Company".into()],
            sort: Some("Company".into()),
            per_page: 7,
            ..ViewDef::default()
        };
        assert_eq!(checked(def.clone()).map(|d| d.per_page), Ok(50));
        let bad = ViewDef {
            columns: vec!["Company; drop".into()],
            ..def.clone()
        };
        assert!(checked(bad).is_err());
        let old_sort = ViewDef {
            sort: Some("created_time".into()),
            ..def
        };
        assert!(checked(old_sort).is_err(), "a view keeps API names only");
    }
}
