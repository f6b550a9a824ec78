//! A form's draft: what was typed, kept in this browser (per connection, module and record)
//! with the values the form was opened with, and offered back after a reload or a crash.

use leptos::prelude::*;

use crate::records::Values;
use crate::stash;

/// What a draft keeps: the values typed, and the values the form was opened with.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Draft {
    pub(super) values: Values,
    pub(super) base: Values,
}

/// Where one form's draft is kept.
#[derive(Clone, Copy)]
pub(super) struct DraftSlot(StoredValue<String>);

impl DraftSlot {
    /// The draft of record `id` of `module` (no id: a new record).
    pub(super) fn new(module: &str, id: Option<&str>) -> Self {
        DraftSlot(StoredValue::new(format!(
            "draft.{module}.{}",
            id.unwrap_or("new")
        )))
    }

    /// The draft kept before, unless it holds what the form shows anyway. Read after
    /// hydration: the server has no drafts.
    pub(super) fn load(self, initial: &Values) -> Option<Draft> {
        let conn = stash::active_connection()?;
        let key = self.0.get_value();
        stash::load::<Draft>(&conn, &key)
            .or_else(|| {
                // A draft kept before drafts knew their base: taken as typed over this form.
                stash::load::<Values>(&conn, &key).map(|values| Draft {
                    values,
                    base: initial.clone(),
                })
            })
            .filter(|saved| saved.values != *initial)
    }

    /// Keeps what is typed now, and what the form was opened with.
    pub(super) fn save(self, values: Values, base: Values) {
        if let Some(conn) = stash::active_connection_untracked() {
            stash::save(&conn, &self.0.get_value(), &Draft { values, base });
        }
    }

    /// Drops the draft: the form was saved or cancelled.
    pub(super) fn forget(self) {
        if let Some(conn) = stash::active_connection_untracked() {
            stash::remove(&conn, &self.0.get_value());
        }
    }
}
