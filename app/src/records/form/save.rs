//! Where a save stands, and what its answer does to the form: one save at a time (a double click
//! sends once); `Saved`, `Refused` (each problem beside its field, the first one focused),
//! `Conflict` (someone else changed a field meanwhile: "Keep mine" or "Use theirs") or `Gone`
//! (the record was deleted meanwhile: "Save as a new …").

use std::collections::BTreeSet;

use leptos::prelude::*;

use super::lookup::UNPICKED;
use crate::AppError;
use crate::records::{Conflict, FieldProblem, SaveOutcome, Values};

/// A save that met someone else's changes: which fields, who made the last change, and when.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Clash {
    pub(super) conflicts: Vec<Conflict>,
    pub(super) by: Option<String>,
    pub(super) at: Option<String>,
}

/// The state of a form's saves, as the page shows it.
#[derive(Clone, Copy)]
pub(super) struct SaveState {
    pub(super) saving: RwSignal<bool>,
    pub(super) problems: RwSignal<Vec<FieldProblem>>,
    pub(super) clash: RwSignal<Option<Clash>>,
    pub(super) gone: RwSignal<bool>,
}

impl SaveState {
    pub(super) fn new() -> Self {
        SaveState {
            saving: RwSignal::new(false),
            problems: RwSignal::new(Vec::new()),
            clash: RwSignal::new(None),
            gone: RwSignal::new(false),
        }
    }

    /// Takes the next save; `false` while one is under way.
    pub(super) fn begin(self) -> bool {
        if self.saving.get_untracked() {
            return false;
        }
        self.saving.set(true);
        true
    }

    /// Shows what the save's answer says; the saved record's id when it was saved.
    pub(super) fn finish(self, result: Result<SaveOutcome, AppError>) -> Option<String> {
        self.saving.set(false);
        match result {
            Ok(SaveOutcome::Saved { id }) => return Some(id),
            Ok(SaveOutcome::Refused { problems: list }) => {
                focus_first_problem(&list);
                self.problems.set(list);
            }
            Ok(SaveOutcome::Conflict { conflicts, by, at }) => {
                self.problems.set(Vec::new());
                self.clash.set(Some(Clash { conflicts, by, at }));
                focus_once_drawn("save-conflict");
            }
            Ok(SaveOutcome::Gone) => {
                self.problems.set(Vec::new());
                self.gone.set(true);
                focus_once_drawn("save-gone");
            }
            Err(e) => self.problems.set(vec![FieldProblem {
                field: None,
                message: e.to_string(),
            }]),
        }
        None
    }

    /// Text typed in a lookup but not picked is not a value: saving now would drop it. `true`
    /// (and each such field marked) when the save must wait.
    pub(super) fn held_by_unpicked(self, waiting: BTreeSet<String>) -> bool {
        if waiting.is_empty() {
            return false;
        }
        let list: Vec<FieldProblem> = waiting
            .into_iter()
            .map(|field| FieldProblem {
                field: Some(field),
                message: UNPICKED.into(),
            })
            .collect();
        focus_first_problem(&list);
        self.problems.set(list);
        true
    }

    /// Settles a conflict: their values become what the form was opened with, so "Keep mine"
    /// then writes mine over them (checked again); with `take_theirs` ("Use theirs") they go
    /// into the form too. Whether the form's values changed.
    pub(super) fn settle(
        self,
        base: RwSignal<Values>,
        values: RwSignal<Values>,
        take_theirs: bool,
    ) -> bool {
        let Some(c) = self.clash.get_untracked() else {
            return false;
        };
        base.update(|b| {
            for x in &c.conflicts {
                b.insert(x.field.clone(), x.theirs.clone());
            }
        });
        if take_theirs {
            values.update(|v| {
                for x in &c.conflicts {
                    v.insert(x.field.clone(), x.theirs.clone());
                }
            });
        }
        self.clash.set(None);
        take_theirs
    }

    /// The problems that belong to no field.
    pub(super) fn general(self) -> Vec<String> {
        self.problems
            .read()
            .iter()
            .filter(|p| p.field.is_none())
            .map(|p| p.message.clone())
            .collect()
    }

    /// How many fields have a problem.
    pub(super) fn field_count(self) -> usize {
        self.problems
            .read()
            .iter()
            .filter(|p| p.field.is_some())
            .count()
    }
}

/// Moves the focus to the first field Zoho (or the form) found a problem with, so a refusal
/// is seen where it applies and not only at the top of a long form.
fn focus_first_problem(list: &[FieldProblem]) {
    #[cfg(feature = "hydrate")]
    if let Some(field) = list.iter().find_map(|p| p.field.as_deref())
        && let Some(el) = document().get_element_by_id(&format!("f-{field}"))
        && let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el)
    {
        let _ = el.focus();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = list;
}

/// Moves the focus (and so the view) to the element `id` once it is drawn: a notice at the top
/// of a long form must not go unseen by someone who pressed "Save" at its foot.
fn focus_once_drawn(id: &'static str) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        if let Some(el) = document().get_element_by_id(id)
            && let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el)
        {
            let _ = el.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}
