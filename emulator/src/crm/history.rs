//! A record's history as Zoho's timeline tells it (`{Module}/{id}/__timeline`): who changed which
//! field from what to what and when, who deleted it, and the notes and attachments added to it or
//! removed. Every write the emulator takes — from zportal, an SDK or a direct API call — is
//! recorded here; a record's creation is read from its own `Created_*` fields, so the seed needs
//! no entries of its own.

use serde_json::{Map, Value, json};

use super::{CrmData, Record, iso};
use crate::crm::meta::Module;
use crate::model::User;

/// What a timeline entry is about: the record itself, or a note or attachment on it.
pub fn subject(module: &str, module_id: u32, id: &str, name: &str) -> Value {
    json!({ "name": name, "id": id, "module": { "api_name": module, "id": module_id.to_string() } })
}

/// The fields an update changed, as the timeline's `field_history` lists them.
pub fn field_changes(m: &Module, before: &Record, after: &Record) -> Vec<Value> {
    m.fields
        .iter()
        .filter(|f| !f.read_only)
        .filter_map(|f| {
            let old = before.get(f.api_name).cloned().unwrap_or(Value::Null);
            let new = after.get(f.api_name).cloned().unwrap_or(Value::Null);
            (old != new).then(|| {
                json!({
                    "api_name": f.api_name,
                    "id": format!("{}{:03}", m.id, m.fields.iter().position(|x| x.api_name == f.api_name).unwrap_or(0)),
                    "field_label": f.label,
                    "data_type": f.kind.data_type(),
                    "_value": { "old": shown(&old), "new": shown(&new) },
                })
            })
        })
        .collect()
}

/// How the timeline shows a value: text, with a lookup by its name.
fn shown(v: &Value) -> Value {
    match v {
        Value::Object(o) => o.get("name").cloned().unwrap_or(Value::Null),
        Value::Array(items) => Value::String(
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        other => other.clone(),
    }
}

/// One thing that happened to a record.
pub struct Event<'a> {
    /// `added`, `updated` or `deleted`.
    pub action: &'static str,
    pub by: &'a User,
    pub at: i64,
    /// The record, or the note or attachment the action was on.
    pub subject: Value,
    pub fields: Vec<Value>,
}

impl CrmData {
    /// Appends `event` to the timeline of record `id` of `org`.
    pub fn audit(&mut self, org: &str, id: u64, event: Event) {
        self.next_event += 1;
        let entry = json!({
            "id": (super::FIRST_ID + 500_000_000 + self.next_event).to_string(),
            "audited_time": iso(event.at),
            "action": event.action,
            "source": "crm_api",
            "done_by": { "name": event.by.full_name(), "id": event.by.user_id },
            "record": event.subject,
            "field_history": if event.fields.is_empty() { Value::Null } else { Value::Array(event.fields) },
        });
        self.timeline
            .entry(org.to_owned())
            .or_default()
            .entry(id)
            .or_default()
            .push(entry);
    }

    /// A record's timeline, oldest first: its creation (from the record), then what was recorded.
    pub fn history(&self, org: &str, m: &Module, id: u64, record: &Record) -> Vec<Value> {
        let name = record
            .get(m.name_field())
            .and_then(Value::as_str)
            .unwrap_or_default();
        let creator = record.get("Created_By").cloned().unwrap_or(Value::Null);
        let mut done_by = Map::new();
        done_by.insert(
            "name".into(),
            creator.get("name").cloned().unwrap_or(Value::Null),
        );
        done_by.insert(
            "id".into(),
            creator.get("id").cloned().unwrap_or(Value::Null),
        );
        let mut out = vec![json!({
            "id": (super::FIRST_ID + 400_000_000 + (id - super::FIRST_ID.min(id))).to_string(),
            "audited_time": record.get("Created_Time").cloned().unwrap_or(Value::Null),
            "action": "added",
            "source": "crm_api",
            "done_by": done_by,
            "record": subject(m.api_name, m.id, &id.to_string(), name),
            "field_history": null,
        })];
        if let Some(recorded) = self.timeline.get(org).and_then(|t| t.get(&id)) {
            out.extend(recorded.iter().cloned());
        }
        out
    }
}
