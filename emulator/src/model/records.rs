//! Every org's records, their notes, attachments' metadata and timeline: the CRM's state, as
//! the emulator keeps (and saves) it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::files;

/// A record: Zoho's JSON object, with `id` as a string.
pub type Record = Map<String, Value>;

/// Every org's records: org zgid → module → id → record; and org → id for the notes, the
/// attachments (their metadata; the bytes are in [`files::Files`]) and the recorded timeline.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CrmData {
    pub orgs: BTreeMap<String, BTreeMap<String, BTreeMap<u64, Record>>>,
    pub next_id: u64,
    #[serde(default)]
    pub notes: BTreeMap<String, BTreeMap<u64, Record>>,
    #[serde(default)]
    pub attachments: BTreeMap<String, BTreeMap<u64, Record>>,
    /// org → record id → what happened to it after its creation.
    #[serde(default)]
    pub timeline: BTreeMap<String, BTreeMap<u64, Vec<Value>>>,
    #[serde(default)]
    pub next_event: u64,
    #[serde(skip)]
    pub files: files::Files,
}

/// Record ids look like Zoho's: 19 digits.
pub const FIRST_ID: u64 = 4_150_868_000_000_100_001;

impl CrmData {
    pub fn new_id(&mut self) -> u64 {
        if self.next_id < FIRST_ID {
            self.next_id = FIRST_ID;
        }
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn module(&self, org: &str, module: &str) -> Option<&BTreeMap<u64, Record>> {
        self.orgs.get(org).and_then(|m| m.get(module))
    }

    /// The record `id` of `module` in `org`.
    pub fn record(&self, org: &str, module: &str, id: u64) -> Option<&Record> {
        self.module(org, module).and_then(|m| m.get(&id))
    }

    pub fn module_mut(&mut self, org: &str, module: &str) -> &mut BTreeMap<u64, Record> {
        self.orgs
            .entry(org.to_owned())
            .or_default()
            .entry(module.to_owned())
            .or_default()
    }
}
