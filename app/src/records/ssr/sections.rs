//! The server's side of a record page's sections: notes, attachments, the timeline and the
//! related lists of the active connection's record, converted to what the sections show.

use serde_json::Value;
use zoho::crm::metadata::ModuleName;
use zoho::crm::related::TimelineEntry;

use super::browse::column;
use super::{Records, default_columns, no_such_module, text};
use crate::AppError;
use crate::records::sections::{
    AttachmentDto, ChangeDto, HistoryEntry, HistoryPage, NoteDto, Outcome, RelatedSection,
};

/// The longest note Zoho takes.
const NOTE_MAX: usize = 32_000;
/// The records a related list shows on the record page.
const RELATED_ROWS: u32 = 10;

fn module_name(raw: &str) -> Result<ModuleName, AppError> {
    ModuleName::parse(raw).ok_or_else(no_such_module)
}

fn outcome(result: Result<(), zoho::crm::records::RecordError>) -> Outcome {
    match result {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Refused {
            message: format!("Zoho did not take it: {}", e.message),
        },
    }
}

fn note_text(content: &str) -> Result<&str, AppError> {
    let content = content.trim();
    if content.is_empty() {
        return Err(AppError::BadRequest("Write the note first.".into()));
    }
    if content.chars().count() > NOTE_MAX {
        return Err(AppError::BadRequest(format!(
            "A note holds at most {NOTE_MAX} characters."
        )));
    }
    Ok(content)
}

impl Records {
    pub async fn notes(&self, module: &str, id: &str) -> Result<Vec<NoteDto>, AppError> {
        let module = module_name(module)?;
        let notes = self.zoho.crm.notes(&self.conn, &module, id).await?;
        Ok(notes
            .into_iter()
            .map(|n| NoteDto {
                edited: n
                    .modified_time
                    .clone()
                    .filter(|m| Some(m) != n.created_time.as_ref()),
                id: n.id,
                title: n.title,
                content: n.content.unwrap_or_default(),
                author: n.created_by.map(|p| p.name).unwrap_or_default(),
                created: n.created_time,
            })
            .collect())
    }

    pub async fn add_note(
        &self,
        module: &str,
        id: &str,
        content: &str,
    ) -> Result<Outcome, AppError> {
        let module = module_name(module)?;
        let content = note_text(content)?;
        let added = self
            .zoho
            .crm
            .add_note(&self.conn, &module, id, None, content)
            .await?;
        Ok(outcome(added.map(|_| ())))
    }

    pub async fn edit_note(&self, note_id: &str, content: &str) -> Result<Outcome, AppError> {
        let content = note_text(content)?;
        Ok(outcome(
            self.zoho
                .crm
                .edit_note(&self.conn, note_id, content)
                .await?,
        ))
    }

    pub async fn delete_note(&self, note_id: &str) -> Result<Outcome, AppError> {
        Ok(outcome(
            self.zoho.crm.delete_note(&self.conn, note_id).await?,
        ))
    }

    pub async fn attachments(
        &self,
        module: &str,
        id: &str,
    ) -> Result<Vec<AttachmentDto>, AppError> {
        let m = module_name(module)?;
        let list = self.zoho.crm.attachments(&self.conn, &m, id).await?;
        Ok(list
            .into_iter()
            .map(|a| {
                let link = a
                    .link_url
                    .clone()
                    .filter(|l| l.starts_with("https://") || l.starts_with("http://"));
                AttachmentDto {
                    size: a.size_bytes(),
                    href: link
                        .clone()
                        .unwrap_or_else(|| format!("/files/{}/{id}/{}", m.as_str(), a.id)),
                    is_link: link.is_some(),
                    id: a.id,
                    name: a.file_name,
                    author: a.created_by.map(|p| p.name).unwrap_or_default(),
                    created: a.created_time,
                }
            })
            .collect())
    }

    pub async fn remove_attachment(
        &self,
        module: &str,
        id: &str,
        attachment: &str,
    ) -> Result<Outcome, AppError> {
        let m = module_name(module)?;
        let removed = self
            .zoho
            .crm
            .remove_attachment(&self.conn, &m, id, attachment)
            .await?;
        Ok(outcome(removed))
    }

    pub async fn history(
        &self,
        module: &str,
        id: &str,
        page_token: Option<&str>,
    ) -> Result<HistoryPage, AppError> {
        let m = self.module(module).await?;
        let page = self
            .zoho
            .crm
            .timeline(&self.conn, &m.name, id, page_token)
            .await?;
        Ok(HistoryPage {
            entries: page
                .entries
                .into_iter()
                .map(|e| entry(e, &m.info.singular, id))
                .collect(),
            next: page.next_page_token,
        })
    }

    pub async fn related(&self, module: &str, id: &str) -> Result<Vec<RelatedSection>, AppError> {
        let m = &self.module(module).await?;
        let crm = &self.zoho.crm;
        let lists = crm.related_lists(&self.conn, &m.name).await?;
        // Notes, attachments and activities have sections of their own.
        let wanted = lists.iter().filter(|l| {
            l.visible
                && !matches!(l.api_name.as_str(), "Notes" | "Attachments")
                && l.records_module().is_some_and(|m| {
                    !matches!(
                        m.as_str(),
                        "Notes" | "Attachments" | "Tasks" | "Events" | "Calls"
                    )
                })
        });
        let sections = wanted.filter_map(|l| {
            let segment = l.records_segment()?;
            let child = l.records_module()?;
            Some(async move {
                let fields = crm.fields(&self.conn, &child).await?;
                let columns = default_columns(child.as_str(), &fields);
                let names: Vec<&str> = columns.iter().map(|c| c.api_name.as_str()).collect();
                let page = crm
                    .related_records(&self.conn, &m.name, id, &segment, &names, RELATED_ROWS)
                    .await;
                let (rows, more, problem) = match page {
                    Ok(p) => (self.table_rows(p.rows, &columns).await, p.more, None),
                    Err(e) => (Vec::new(), false, Some(AppError::from(e))),
                };
                Ok::<_, AppError>(RelatedSection {
                    api_name: l.api_name.clone(),
                    label: l.display_label.clone(),
                    module: child.as_str().to_owned(),
                    columns: columns.iter().map(column).collect(),
                    rows,
                    more,
                    new_href: format!("/m/{}/new?parent={}.{id}", child.as_str(), m.name.as_str()),
                    problem,
                })
            })
        });
        // Each list is one Zoho call: all at once.
        let results = futures::future::join_all(sections.collect::<Vec<_>>()).await;
        results.into_iter().collect()
    }
}

/// One timeline entry in words.
fn entry(e: TimelineEntry, singular: &str, record_id: &str) -> HistoryEntry {
    let about = e.record.as_ref();
    let module = about
        .and_then(|r| r.module.as_ref())
        .map(|m| m.api_name.as_str())
        .unwrap_or_default();
    let name = about.and_then(|r| r.name.clone()).unwrap_or_default();
    let on_record = about.is_none_or(|r| r.id == record_id);
    let what = match (module, e.action.as_str()) {
        ("Notes", "added") => format!("added the note “{name}”"),
        ("Notes", "updated") => format!("changed the note “{name}”"),
        ("Notes", "deleted") => format!("deleted the note “{name}”"),
        ("Attachments", "added") => format!("attached “{name}”"),
        ("Attachments", "deleted") => format!("removed the attachment “{name}”"),
        ("Tasks" | "Events" | "Calls", action) => {
            let kind = match module {
                "Tasks" => "task",
                "Events" => "meeting",
                _ => "call",
            };
            let verb = match action {
                "added" => "added",
                "deleted" => "deleted",
                _ => "changed",
            };
            format!("{verb} the {kind} “{name}”")
        }
        (_, "added") if on_record => format!("created this {}", singular.to_lowercase()),
        (_, "updated") if on_record => format!("changed this {}", singular.to_lowercase()),
        (_, "deleted") if on_record => format!("deleted this {}", singular.to_lowercase()),
        (_, action) => format!("{action} {name}"),
    };
    HistoryEntry {
        id: e.id,
        when: e.audited_time,
        who: e
            .done_by
            .map(|d| d.name)
            .unwrap_or_else(|| "Someone".into()),
        what,
        changes: e
            .field_history
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                let (old, new) = c
                    .value
                    .map(|v| (shown(&v.old), shown(&v.new)))
                    .unwrap_or_default();
                ChangeDto {
                    label: c.field_label.unwrap_or(c.api_name),
                    old,
                    new,
                }
            })
            .collect(),
    }
}

fn shown(v: &Value) -> String {
    text(Some(v))
}
