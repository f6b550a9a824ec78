//! A record's notes (Zoho's Notes API): read a record's notes, add one to it, change one, delete
//! one. Each write answers Zoho's per-item result, so a refused note says why.

use serde::Deserialize;
use serde_json::json;

use super::records::{RecordError, is_record_id, write_results};
use super::{ApiError, CrmClient, CrmError};
use crate::call::{Call, Op, Resource};
use crate::http::HttpError;
use crate::ids::ConnectionId;
use crate::ids::ModuleName;

/// Who did something, as Zoho names a user on a record (`Owner`, `Created_By`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Person {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// One note.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Note {
    pub id: String,
    #[serde(rename = "Note_Title", default)]
    pub title: Option<String>,
    #[serde(rename = "Note_Content", default)]
    pub content: Option<String>,
    #[serde(rename = "Created_By", default)]
    pub created_by: Option<Person>,
    #[serde(rename = "Created_Time", default)]
    pub created_time: Option<String>,
    #[serde(rename = "Modified_By", default)]
    pub modified_by: Option<Person>,
    #[serde(rename = "Modified_Time", default)]
    pub modified_time: Option<String>,
}

#[derive(Deserialize)]
struct NotesBody {
    data: Vec<Note>,
}

/// The fields a note list asks for (Zoho's v8 makes `fields` mandatory).
const NOTE_FIELDS: &str =
    "Note_Title,Note_Content,Created_By,Created_Time,Modified_By,Modified_Time";

/// The most notes one page holds.
pub const NOTES_PER_PAGE: u32 = 200;

impl CrmClient {
    /// The record's notes, newest first (at most [`NOTES_PER_PAGE`]).
    pub async fn notes(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
    ) -> Result<Vec<Note>, CrmError> {
        if !is_record_id(record_id) {
            return Ok(Vec::new());
        }
        let notes = Resource::Notes {
            module: module.clone(),
            id: record_id.to_owned(),
        };
        let query = format!(
            "fields={NOTE_FIELDS}&sort_by=Created_Time&sort_order=desc&per_page={NOTES_PER_PAGE}"
        );
        match self.read::<NotesBody>(id, &notes, &query).await {
            Ok(body) => Ok(body.data),
            Err(CrmError::Api(ApiError::NoContent)) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Adds a note to the record; the note's id, or what Zoho found wrong with it.
    pub async fn add_note(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
        title: Option<&str>,
        content: &str,
    ) -> Result<Result<String, RecordError>, CrmError> {
        if !is_record_id(record_id) {
            return Ok(Err(RecordError::invalid_id()));
        }
        let mut note = json!({
            "Note_Content": content,
            "Parent_Id": { "module": { "api_name": module.as_str() }, "id": record_id },
        });
        if let Some(title) = title {
            note["Note_Title"] = json!(title);
        }
        let body = json!({ "data": [note] });
        let notes = Resource::Records {
            module: ModuleName::notes(),
            ids: Vec::new(),
        };
        let call = Call::json(Op::Create, &notes, &body);
        let mut results = write_results(self.call(id, call).await?)?;
        match results.swap_remove(0) {
            Ok(Some(new_id)) => Ok(Ok(new_id)),
            Ok(None) => Err(HttpError::Malformed("note without id").into()),
            Err(e) => Ok(Err(e)),
        }
    }

    /// Changes a note's content (its title stays as it is).
    pub async fn edit_note(
        &self,
        id: &ConnectionId,
        note_id: &str,
        content: &str,
    ) -> Result<Result<(), RecordError>, CrmError> {
        if !is_record_id(note_id) {
            return Ok(Err(RecordError::invalid_id()));
        }
        let body = json!({ "data": [{ "Note_Content": content }] });
        let note = Resource::Note(note_id.to_owned());
        let call = Call::json(Op::Update, &note, &body);
        let mut results = write_results(self.call(id, call).await?)?;
        Ok(results.swap_remove(0).map(|_| ()))
    }

    /// Deletes a note.
    pub async fn delete_note(
        &self,
        id: &ConnectionId,
        note_id: &str,
    ) -> Result<Result<(), RecordError>, CrmError> {
        if !is_record_id(note_id) {
            return Ok(Err(RecordError::invalid_id()));
        }
        let note = Resource::Note(note_id.to_owned());
        let mut results = write_results(self.call(id, Call::delete(&note)).await?)?;
        Ok(results.swap_remove(0).map(|_| ()))
    }
}
