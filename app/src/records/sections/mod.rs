//! What a record page shows below its fields, each loaded by the browser once the page is up
//! (the server renders placeholders, so the fields show at once and a page view costs Zoho only
//! the record): [`notes`], [`attachments`], [`history`] (Zoho's timeline) and the record's
//! [`related`] lists from Zoho's related-list metadata.

mod attachments;
mod history;
mod notes;
mod related;

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use super::{Column, Row};
use crate::AppError;
use crate::wire::Json;

/// One note on a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteDto {
    pub id: String,
    pub title: Option<String>,
    pub content: String,
    pub author: String,
    pub created: Option<String>,
    /// When it was changed after it was written.
    pub edited: Option<String>,
}

/// One attachment: a file to download, or a link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentDto {
    pub id: String,
    pub name: String,
    pub size: Option<u64>,
    /// Where it downloads from (zportal's route), or the link it is.
    pub href: String,
    pub is_link: bool,
    pub author: String,
    pub created: Option<String>,
}

/// One field an update changed: its label, from what, to what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeDto {
    pub label: String,
    pub old: String,
    pub new: String,
}

/// One entry of a record's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub id: String,
    pub when: Option<String>,
    pub who: String,
    /// What happened, in words: "created this Lead", "added the note “Pricing”".
    pub what: String,
    pub changes: Vec<ChangeDto>,
}

/// A page of history, newest first, and the token of the next (older) one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    pub next: Option<String>,
}

/// One related list of a record, with its first records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedSection {
    pub api_name: String,
    /// Zoho's `display_label`: the section's heading.
    pub label: String,
    /// The module its records are in.
    pub module: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub more: bool,
    /// Where "New" goes: a new record of the list's module, linked to this one.
    pub new_href: String,
    /// Why its records could not be read, if they could not.
    pub problem: Option<AppError>,
}

/// What became of a change to a note or an attachment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Done,
    /// Zoho refused it; the words say why.
    Refused {
        message: String,
    },
}

/// The record's notes, newest first.
#[server(endpoint = "records/notes", input = GetUrl, output = Json)]
pub async fn list_notes(module: String, id: String) -> Result<Vec<NoteDto>, AppError> {
    crate::records::ssr::Records::active()
        .await?
        .notes(&module, &id)
        .await
}

/// Adds a note to the record.
#[server(endpoint = "records/notes/add", input = Json, output = Json)]
pub async fn add_note(module: String, id: String, content: String) -> Result<Outcome, AppError> {
    let records = crate::records::ssr::Records::active().await?;
    records.add_note(&module, &id, &content).await
}

/// Changes a note's text.
#[server(endpoint = "records/notes/edit", input = Json, output = Json)]
pub async fn edit_note(note_id: String, content: String) -> Result<Outcome, AppError> {
    let records = crate::records::ssr::Records::active().await?;
    records.edit_note(&note_id, &content).await
}

/// Deletes a note.
#[server(endpoint = "records/notes/delete", input = Json, output = Json)]
pub async fn delete_note(note_id: String) -> Result<Outcome, AppError> {
    crate::records::ssr::Records::active()
        .await?
        .delete_note(&note_id)
        .await
}

/// The record's attachments, newest first.
#[server(endpoint = "records/attachments", input = GetUrl, output = Json)]
pub async fn list_attachments(module: String, id: String) -> Result<Vec<AttachmentDto>, AppError> {
    crate::records::ssr::Records::active()
        .await?
        .attachments(&module, &id)
        .await
}

/// Removes an attachment from the record.
#[server(endpoint = "records/attachments/remove", input = Json, output = Json)]
pub async fn remove_attachment(
    module: String,
    id: String,
    attachment_id: String,
) -> Result<Outcome, AppError> {
    let records = crate::records::ssr::Records::active().await?;
    records
        .remove_attachment(&module, &id, &attachment_id)
        .await
}

/// A page of the record's history (`page_token` from the page before, for older entries).
#[server(endpoint = "records/history", input = GetUrl, output = Json)]
pub async fn record_history(
    module: String,
    id: String,
    page_token: Option<String>,
) -> Result<HistoryPage, AppError> {
    let records = crate::records::ssr::Records::active().await?;
    records.history(&module, &id, page_token.as_deref()).await
}

/// The record's related lists (Notes and Attachments aside), each with its first records.
#[server(endpoint = "records/related", input = GetUrl, output = Json)]
pub async fn related_lists(module: String, id: String) -> Result<Vec<RelatedSection>, AppError> {
    crate::records::ssr::Records::active()
        .await?
        .related(&module, &id)
        .await
}

/// A section that loads in the browser after the page: what it shows while it loads.
#[component]
fn Placeholder(#[prop(into)] label: String) -> impl IntoView {
    view! {
        <div class="placeholder" aria-busy="true" aria-label=label>
            <div class="ph ph-line"></div>
            <div class="ph ph-line short"></div>
        </div>
    }
}

/// Every section of a record page, in the order people look for them.
#[component]
pub fn RecordSections(module: String, id: String) -> impl IntoView {
    let activities = crate::activities::section::has_activities(&module).then(|| {
        view! { <crate::activities::section::ActivitiesSection module=module.clone() id=id.clone() /> }
    });
    view! {
        {activities}
        <notes::NotesSection module=module.clone() id=id.clone() />
        <attachments::AttachmentsSection module=module.clone() id=id.clone() />
        <related::RelatedSections module=module.clone() id=id.clone() />
        <history::HistorySection module id />
    }
}
