//! Live pages: what changed in each org's records, for every page that has it open. Changes come
//! from this process's writes through zportal and from Zoho's notifications (the watch API),
//! and go into one ordered log in the store (`live_events`) that every process reads from where
//! it last read — woken by the bus, or by its own append, with a slow poll as a backstop — and
//! hands to its open streams. Each org's events are numbered on their own (`org_seq`), and that
//! number is all its pages see: nothing tells them how busy other orgs are. A stream that
//! reconnects resumes from its last number, on any process, reading only its org's events; one
//! whose number the log no longer holds (about ten minutes), or that missed more than
//! [`MAX_RESUME`] events, is told to reload. An event names what changed (module, ids,
//! operation), never the values: pages re-read.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, broadcast, watch};

use crate::vault::{Echo, LiveRow, NewLiveEvent, Vault, VaultError, comma_list};
use zoho::budget::OrgKey;
use zoho::call::{Call, Op as CallOp, Resource};
use zoho::clock::now;
use zoho::dc::DataCenter;
use zoho::ids::OrgId;

/// How long the log keeps an entry (a stream that was away longer reloads).
pub const RETENTION_SECS: i64 = 600;
/// How long after a write through zportal Zoho's notification of it counts as its echo.
const ECHO_SECS: i64 = 60;
/// How long a notification that came before zportal's own word of the write counts as it.
const EARLY_SECS: i64 = 5;
/// Entries read from the log at once.
const PAGE: i64 = 500;
/// The most events a resume replays; a stream that missed more reloads its page.
pub const MAX_RESUME: i64 = 500;
/// Events a slow stream may fall behind before it reads them from the log instead.
const BACKLOG: usize = 4096;

/// What happened to the records an event names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Create,
    Edit,
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Edit => "edit",
            Op::Delete => "delete",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "create" => Some(Op::Create),
            "edit" => Some(Op::Edit),
            "delete" => Some(Op::Delete),
            _ => None,
        }
    }

    /// The operation a Zoho notification names (`insert`, `update`, `delete`).
    pub fn of_notification(operation: &str) -> Option<Self> {
        match operation.to_ascii_lowercase().as_str() {
            "insert" | "create" => Some(Op::Create),
            "update" | "edit" => Some(Op::Edit),
            "delete" => Some(Op::Delete),
            _ => None,
        }
    }
}

/// One change to an org's records, as the log holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub seq: i64,
    /// Its number among its org's events: the id the org's pages see.
    pub org_seq: i64,
    pub org: OrgKey,
    /// The module as Zoho spells it (`Leads`, `Notes`).
    pub module: String,
    pub ids: Vec<String>,
    pub op: Op,
    /// When it was stored (Unix seconds).
    pub at: i64,
}

impl LogEntry {
    fn of_row(row: LiveRow) -> Option<Self> {
        Some(LogEntry {
            seq: row.seq,
            org_seq: row.org_seq,
            org: OrgKey {
                dc: row.dc.parse::<DataCenter>().ok()?,
                org: OrgId::new(row.org),
            },
            module: row.module,
            ids: comma_list(&row.ids),
            op: Op::parse(&row.op)?,
            at: row.at,
        })
    }
}

/// A change about to be told: which org, module, records and operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    pub org: OrgKey,
    pub module: String,
    pub ids: Vec<String>,
    pub op: Op,
    /// Zoho notifies of this kind of change (a record's or a note's; not its attachments).
    pub notified: bool,
}

/// Where a stream that reconnects picks up.
#[derive(Debug, PartialEq, Eq)]
pub enum Resume {
    /// The org's events after the stream's number, in order (perhaps none).
    Events(Vec<LogEntry>),
    /// The log no longer holds everything after it: the page must load anew.
    Reload,
}

/// One process's end of the live log; clones share it.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    vault: Vault,
    tx: broadcast::Sender<Arc<LogEntry>>,
    wake: Notify,
    /// The last seq read from the log and handed out.
    head: AtomicI64,
    /// True once the process is shutting down: streams end.
    closing: watch::Sender<bool>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("head", &self.head())
            .finish_non_exhaustive()
    }
}

impl Hub {
    pub fn new(vault: Vault) -> Self {
        Hub {
            inner: Arc::new(Inner {
                vault,
                tx: broadcast::channel(BACKLOG).0,
                wake: Notify::new(),
                head: AtomicI64::new(0),
                closing: watch::channel(false).0,
            }),
        }
    }

    /// Appends a change made through zportal (Zoho's notification of it is then its echo),
    /// unless that notification came first; the new entry's seq, if any.
    pub async fn wrote(&self, change: &Changed) -> Result<Option<i64>, VaultError> {
        if !change.notified {
            return self.tell(change, Echo::None, None).await;
        }
        self.tell(change, Echo::Notification, Some((Echo::Write, EARLY_SECS)))
            .await
    }

    /// Appends a change Zoho notified, unless it is the echo of a write through zportal
    /// already in the log; the new entry's seq, if any.
    pub async fn notified(&self, change: &Changed) -> Result<Option<i64>, VaultError> {
        self.tell(change, Echo::Write, Some((Echo::Notification, ECHO_SECS)))
            .await
    }

    /// Appends `change` waiting for its `later` word, unless an entry of the last seconds given
    /// waited for this word of it.
    async fn tell(
        &self,
        change: &Changed,
        later: Echo,
        this: Option<(Echo, i64)>,
    ) -> Result<Option<i64>, VaultError> {
        let ids = change.ids.join(",");
        let this = this.map(|(word, within)| (word, now() - within));
        let seq = self
            .inner
            .vault
            .live_repo()
            .tell_live(&entry(change, &ids, later), this)
            .await?;
        if seq.is_some() {
            self.wake();
        }
        Ok(seq)
    }

    /// Reads the log now (something was appended, here or elsewhere).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Events read from the log from now on. A receiver that lags resumes from the log.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LogEntry>> {
        self.inner.tx.subscribe()
    }

    /// The last seq this process has read and handed out.
    pub fn head(&self) -> i64 {
        self.inner.head.load(Ordering::Acquire)
    }

    /// Ends every stream: the process is shutting down.
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Becomes true when the process shuts down.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.inner.closing.subscribe()
    }

    /// `org`'s events after its own number `after`, or [`Resume::Reload`] if the log lost some
    /// of them, holds more than [`MAX_RESUME`] (a page that was away that long loads anew), or
    /// `after` is from some other log. Only `org`'s events are read.
    pub async fn resume(&self, org: &OrgKey, after: i64) -> Result<Resume, VaultError> {
        let repo = self.inner.vault.live_repo();
        let (min, max) = repo.live_org_bounds(org).await?;
        if after > max || (min > 0 && after < min - 1) {
            return Ok(Resume::Reload);
        }
        let rows = repo.live_in_org(org, after, MAX_RESUME + 1).await?;
        if rows.len() as i64 > MAX_RESUME {
            return Ok(Resume::Reload);
        }
        Ok(Resume::Events(
            rows.into_iter().filter_map(LogEntry::of_row).collect(),
        ))
    }

    /// The number of `org`'s newest event this process has handed out (0 for none): where a
    /// new stream of it starts. Events stored meanwhile still reach the stream as they are
    /// handed out.
    pub async fn org_head(&self, org: &OrgKey) -> Result<i64, VaultError> {
        self.inner
            .vault
            .live_repo()
            .live_org_head(org, self.head())
            .await
    }

    /// Reads the log whenever woken, and every `poll` anyway, handing each entry to the
    /// subscribers in order; prunes it now and then. For as long as the task runs. What is in
    /// the log when it starts is history: it hands out what comes after.
    pub async fn run(&self, poll: Duration) -> tokio::task::JoinHandle<()> {
        let started = match self.inner.vault.live_repo().live_bounds().await {
            Ok((_, max)) => {
                self.inner.head.store(max, Ordering::Release);
                true
            }
            Err(_) => false,
        };
        let hub = self.clone();
        tokio::spawn(async move {
            let repo = hub.inner.vault.live_repo();
            if !started {
                loop {
                    match repo.live_bounds().await {
                        Ok((_, max)) => {
                            hub.inner.head.store(max, Ordering::Release);
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "the live log is unreadable; trying again");
                            tokio::time::sleep(poll).await;
                        }
                    }
                }
            }
            let mut rounds: u64 = 0;
            loop {
                let _ = tokio::time::timeout(poll, hub.inner.wake.notified()).await;
                hub.read_on().await;
                rounds += 1;
                if rounds % 200 == 1
                    && let Err(e) = repo.prune_live(now() - RETENTION_SECS).await
                {
                    tracing::warn!(error = %e, "could not prune the live log");
                }
            }
        })
    }

    /// Hands out every entry after the head.
    async fn read_on(&self) {
        let repo = self.inner.vault.live_repo();
        loop {
            let head = self.head();
            let rows = match repo.live_after(head, PAGE).await {
                Ok(rows) => rows,
                Err(e) => {
                    // Nothing is lost: the entries wait in the log for the next round.
                    tracing::warn!(error = %e, "could not read the live log");
                    return;
                }
            };
            let full = rows.len() as i64 == PAGE;
            for row in rows {
                let seq = row.seq;
                if let Some(event) = LogEntry::of_row(row) {
                    // No stream open is no error.
                    let _ = self.inner.tx.send(Arc::new(event));
                }
                self.inner.head.store(seq, Ordering::Release);
            }
            if !full {
                return;
            }
        }
    }
}

fn entry<'a>(change: &'a Changed, ids: &'a str, echo_pending: Echo) -> NewLiveEvent<'a> {
    NewLiveEvent {
        dc: change.org.dc.location(),
        org: change.org.org.as_str(),
        module: &change.module,
        ids,
        op: change.op.as_str(),
        echo_pending,
        at: now(),
    }
}

/// What a write through zportal changed, from the call and Zoho's answer: a module's records
/// (created, or those of its ids), one record, a note, or a record's own part (a new note on
/// it is a note; a file added or removed edits the record, and Zoho notifies nothing of it).
/// `None` for a call that changes no record.
pub fn changed_by(org: &OrgKey, call: &Call<'_>, answer: Option<&[u8]>) -> Option<Changed> {
    if !call.resource.is_record_data() {
        return None;
    }
    let op = match call.op {
        CallOp::Read => return None,
        CallOp::Create => Op::Create,
        CallOp::Update => Op::Edit,
        CallOp::Delete => Op::Delete,
    };
    let answered = || answer.map(ids_of_answer).unwrap_or_default();
    let (module, ids, op, notified) = match call.resource {
        Resource::Records { module, ids } => {
            let mut answered = answered();
            if answered.is_empty() {
                answered.clone_from(ids);
            }
            (module.as_str(), answered, op, true)
        }
        Resource::Record { module, id } => (module.as_str(), vec![id.clone()], op, true),
        Resource::CancelMeeting(id) => ("Events", vec![id.clone()], Op::Edit, true),
        // Zoho converts a scheduled one later, and its notification tells of it then.
        Resource::ConvertLead(_) if answer.is_some_and(scheduled) => return None,
        Resource::ConvertLead(id) => ("Leads", vec![id.clone()], Op::Edit, true),
        Resource::ConversionOptions(_) => return None,
        // The records Zoho says it changed (all of `ids` when the answer says none).
        Resource::ChangeOwner { module, ids } | Resource::MassUpdate { module, ids } => {
            let mut answered = answered();
            if answered.is_empty() && answer.is_none() {
                answered.clone_from(ids);
            }
            (module.as_str(), answered, Op::Edit, true)
        }
        Resource::Note(id) => ("Notes", vec![id.clone()], op, true),
        Resource::Notes { .. } if op == Op::Create => ("Notes", answered(), Op::Create, true),
        Resource::Notes { module, id }
        | Resource::Attachments { module, id }
        | Resource::Attachment { module, id, .. }
        | Resource::Related { module, id, .. }
        | Resource::Timeline { module, id } => (module.as_str(), vec![id.clone()], Op::Edit, false),
        Resource::Search(_)
        | Resource::CurrentUser
        | Resource::Users(_)
        | Resource::Org
        | Resource::Modules
        | Resource::Fields(_)
        | Resource::RelatedLists(_)
        | Resource::Coql
        | Resource::Watch { .. }
        | Resource::CustomViews(_)
        | Resource::CustomView { .. }
        | Resource::Count(_) => return None,
    };
    let ids: Vec<String> = ids
        .into_iter()
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    (!ids.is_empty()).then(|| Changed {
        org: org.clone(),
        module: module.to_owned(),
        ids,
        op,
        notified,
    })
}

/// Whether a write's answer says Zoho will carry it out later (`SCHEDULED`).
fn scheduled(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.pointer("/data/0/code").cloned())
        .is_some_and(|c| c == "SCHEDULED")
}

/// The ids a write's answer says it touched (`data[].details.id` of each success).
fn ids_of_answer(body: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    value
        .get("data")
        .and_then(|d| d.as_array())
        .map(|items| {
            items
                .iter()
                .filter(|i| i.get("status").and_then(|s| s.as_str()) == Some("success"))
                .filter_map(|i| i.pointer("/details/id"))
                .filter_map(|id| match id {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoho::ids::ModuleName;

    fn org() -> OrgKey {
        OrgKey {
            dc: DataCenter::Us,
            org: OrgId::new("1"),
        }
    }

    fn ids(c: Option<Changed>) -> Option<(String, Vec<String>, Op)> {
        c.map(|c| (c.module, c.ids, c.op))
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn module(name: &str) -> ModuleName {
        ModuleName::parse(name).expect("a module name")
    }

    fn changed(op: CallOp, resource: Resource, answer: Option<&[u8]>) -> Option<Changed> {
        let body = serde_json::json!({ "data": [{}] });
        let call = match op {
            CallOp::Delete => Call::delete(&resource),
            op => Call::json(op, &resource, &body),
        };
        changed_by(&org(), &call, answer)
    }

    fn record(m: &str, id: &str) -> Resource {
        Resource::Record {
            module: module(m),
            id: id.into(),
        }
    }

    #[test]
    fn a_write_names_its_module_records_and_operation() {
        let created = br#"{"data":[{"code":"SUCCESS","status":"success","details":{"id":"42"}}]}"#;
        assert_eq!(
            ids(changed(
                CallOp::Create,
                Resource::Records {
                    module: module("Leads"),
                    ids: vec![]
                },
                Some(created)
            )),
            Some(("Leads".into(), s(&["42"]), Op::Create))
        );
        assert_eq!(
            ids(changed(CallOp::Update, record("Leads", "7"), None)),
            Some(("Leads".into(), s(&["7"]), Op::Edit))
        );
        assert_eq!(
            ids(changed(
                CallOp::Delete,
                Resource::Records {
                    module: module("Deals"),
                    ids: s(&["1", "2"])
                },
                None
            )),
            Some(("Deals".into(), s(&["1", "2"]), Op::Delete))
        );
        assert_eq!(
            ids(changed(
                CallOp::Create,
                Resource::Notes {
                    module: module("Leads"),
                    id: "7".into()
                },
                Some(created)
            )),
            Some(("Notes".into(), s(&["42"]), Op::Create))
        );
        assert_eq!(
            ids(changed(CallOp::Delete, Resource::Note("9".into()), None)),
            Some(("Notes".into(), s(&["9"]), Op::Delete))
        );
        assert_eq!(
            ids(changed(
                CallOp::Delete,
                Resource::Attachment {
                    module: module("Leads"),
                    id: "7".into(),
                    attachment: "3".into()
                },
                None
            )),
            Some(("Leads".into(), s(&["7"]), Op::Edit))
        );
    }

    #[test]
    fn calls_that_change_no_record_are_no_event() {
        let failed = br#"{"data":[{"code":"INVALID_DATA","status":"error","details":{}}]}"#;
        assert_eq!(
            changed(
                CallOp::Create,
                Resource::Records {
                    module: module("Leads"),
                    ids: vec![]
                },
                Some(failed)
            ),
            None
        );
        assert_eq!(
            changed(
                CallOp::Create,
                Resource::Watch {
                    channel_ids: vec![]
                },
                None
            ),
            None
        );
        assert_eq!(changed(CallOp::Read, Resource::Coql, None), None);
        assert_eq!(changed(CallOp::Update, record("Leads", "abc"), None), None);
    }

    #[test]
    fn notification_operations_read_as_ours() {
        assert_eq!(Op::of_notification("insert"), Some(Op::Create));
        assert_eq!(Op::of_notification("UPDATE"), Some(Op::Edit));
        assert_eq!(Op::of_notification("delete"), Some(Op::Delete));
        assert_eq!(Op::of_notification("merge"), None);
        for op in [Op::Create, Op::Edit, Op::Delete] {
            assert_eq!(Op::parse(op.as_str()), Some(op));
        }
    }

    async fn hub() -> (Hub, Vault) {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("pool");
        let repo = crate::vault::sqlite::SqliteRepo::new(pool)
            .await
            .expect("repo");
        let cipher = crate::vault::TokenCipher::from_key_list(
            &crate::vault::TokenCipher::generate_key_list(),
        )
        .expect("key");
        let vault = Vault::new(Arc::new(repo), Arc::new(cipher));
        (Hub::new(vault.clone()), vault)
    }

    fn change(org_id: &str, id: &str, op: Op) -> Changed {
        Changed {
            org: OrgKey {
                dc: DataCenter::Us,
                org: OrgId::new(org_id),
            },
            module: "Leads".into(),
            ids: vec![id.into()],
            op,
            notified: true,
        }
    }

    #[test]
    fn subscribers_hear_appends_in_order_and_a_resume_reads_only_its_org() {
        testkit::block_on(async {
            let (hub, _vault) = hub().await;
            let _run = hub.run(Duration::from_secs(60)).await;
            let mut rx = hub.subscribe();
            let a = hub
                .wrote(&change("1", "10", Op::Edit))
                .await
                .expect("a")
                .expect("new");
            let b = hub
                .wrote(&change("2", "20", Op::Create))
                .await
                .expect("b")
                .expect("new");
            let c = hub
                .wrote(&change("1", "11", Op::Delete))
                .await
                .expect("c")
                .expect("new");
            assert!(a < b && b < c);
            for want in [a, b, c] {
                let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                    .await
                    .expect("in time")
                    .expect("open");
                assert_eq!(got.seq, want);
            }
            let org1 = change("1", "", Op::Edit).org;
            let Resume::Events(mine) = hub.resume(&org1, 0).await.expect("resume") else {
                panic!("the log holds it all");
            };
            let seqs: Vec<i64> = mine.iter().map(|e| e.seq).collect();
            assert_eq!(seqs, vec![a, c], "org 2's event is not org 1's to see");
            assert_eq!(mine[1].op, Op::Delete);
            // Each org counts its own: org 2's event left no gap in org 1's numbers.
            let numbers: Vec<i64> = mine.iter().map(|e| e.org_seq).collect();
            assert_eq!(numbers, vec![1, 2]);
            assert_eq!(hub.org_head(&org1).await.expect("head"), 2);
            assert_eq!(
                hub.org_head(&change("2", "", Op::Edit).org)
                    .await
                    .expect("head"),
                1
            );
            let Resume::Events(after_first) = hub.resume(&org1, 1).await.expect("resume") else {
                panic!("after its first");
            };
            assert_eq!(
                after_first.iter().map(|e| e.seq).collect::<Vec<_>>(),
                vec![c]
            );
            assert_eq!(
                hub.resume(&org1, 7).await.expect("ahead"),
                Resume::Reload,
                "a number from some other log"
            );
        });
    }

    #[test]
    fn a_resume_that_missed_more_than_it_replays_reloads() {
        testkit::block_on(async {
            let (hub, _vault) = hub().await;
            for i in 0..=MAX_RESUME {
                hub.wrote(&change("1", &i.to_string(), Op::Edit))
                    .await
                    .expect("write");
            }
            let org = change("1", "", Op::Edit).org;
            assert_eq!(hub.resume(&org, 0).await.expect("resume"), Resume::Reload);
            let Resume::Events(last) = hub.resume(&org, 1).await.expect("resume") else {
                panic!("{MAX_RESUME} events are replayed");
            };
            assert_eq!(last.len() as i64, MAX_RESUME);
        });
    }

    #[test]
    fn pruning_keeps_each_orgs_newest_so_its_numbers_go_on() {
        testkit::block_on(async {
            let (hub, vault) = hub().await;
            for (org, id) in [("1", "10"), ("1", "11"), ("2", "20"), ("1", "12")] {
                hub.wrote(&change(org, id, Op::Edit)).await.expect("write");
            }
            let repo = vault.live_repo();
            let pruned = repo.prune_live(now() + 1).await.expect("prune");
            assert_eq!(pruned, 2, "org 1's first two; org 2's only one stays");
            let org2 = change("2", "", Op::Edit).org;
            assert_eq!(repo.live_org_bounds(&org2).await.expect("bounds"), (1, 1));
            hub.wrote(&change("2", "21", Op::Edit))
                .await
                .expect("write");
            let Resume::Events(next) = hub.resume(&org2, 1).await.expect("resume") else {
                panic!("org 2's next");
            };
            assert_eq!(next.iter().map(|e| e.org_seq).collect::<Vec<_>>(), vec![2]);
        });
    }

    #[test]
    fn a_notification_of_our_own_write_is_its_echo_once_and_past_retention_means_reload() {
        testkit::block_on(async {
            let (hub, vault) = hub().await;
            let edit = change("1", "10", Op::Edit);
            let first = hub.wrote(&edit).await.expect("write").expect("new");
            assert_eq!(hub.notified(&edit).await.expect("echo"), None, "its echo");
            let other = hub.notified(&edit).await.expect("another edit");
            assert!(
                other.is_some_and(|seq| seq > first),
                "a second notification is news"
            );
            // Zoho's notification before zportal's own word: still one change.
            let early = change("1", "13", Op::Create);
            assert!(hub.notified(&early).await.expect("notified").is_some());
            assert_eq!(
                hub.wrote(&early).await.expect("write"),
                None,
                "told already"
            );
            // A write Zoho notifies nothing of (an attachment) waits for no echo: the next
            // notification of that record is news.
            let attached = Changed {
                notified: false,
                ..change("1", "14", Op::Edit)
            };
            assert!(hub.wrote(&attached).await.expect("write").is_some());
            let edited = hub
                .notified(&change("1", "14", Op::Edit))
                .await
                .expect("edit");
            assert!(
                edited.is_some(),
                "someone's edit in Zoho is not an attachment's echo"
            );
            // Age the first entries past retention, and prune.
            let repo = vault.live_repo();
            let last = hub
                .wrote(&change("1", "12", Op::Edit))
                .await
                .expect("last")
                .expect("new");
            let pruned = repo.prune_live(now() + 1).await.expect("prune");
            assert_eq!(pruned, 5, "all but the newest");
            assert_eq!(
                hub.resume(&edit.org, first - 1).await.expect("resume"),
                Resume::Reload
            );
            let Resume::Events(kept) = hub.resume(&edit.org, last - 1).await.expect("resume")
            else {
                panic!("the newest entry is kept");
            };
            assert_eq!(kept.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![last]);
        });
    }
}
