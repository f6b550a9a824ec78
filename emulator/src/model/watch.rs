//! Zoho's notifications (reference §8.5): the watch channels each org registered — which events
//! (`Leads.edit`, `Deals.all`, …), where to (`notify_url`), with which `token`, until when — and
//! what a write of records owes them: one notification per channel, write and operation, with
//! every id it touched. The handlers are in `records::watch`; the deliveries are sent by the
//! emulator after the write's answer is decided (never under the world's lock), and logged.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::dc::Dc;

/// A channel lives an hour unless it asks for longer, and a week at most.
pub const DEFAULT_EXPIRY_SECS: i64 = 3600;
pub const MAX_EXPIRY_SECS: i64 = 7 * 86_400;
/// The longest `token` Zoho takes.
pub const TOKEN_MAX: usize = 50;
/// Deliveries the log keeps.
const LOG_MAX: usize = 10_000;

/// What a write did to records, as a channel's events name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Insert,
    Update,
    Delete,
}

impl Operation {
    /// The event suffix a channel subscribes with (`create`, `edit`, `delete`).
    fn event(self) -> &'static str {
        match self {
            Operation::Insert => "create",
            Operation::Update => "edit",
            Operation::Delete => "delete",
        }
    }

    /// The `operation` a notification carries.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// One registered channel.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Channel {
    pub channel_id: u64,
    /// `{Module}.{create|edit|delete|all}`, module names as Zoho spells them.
    pub events: Vec<String>,
    pub notify_url: String,
    pub token: Option<String>,
    pub expires_at: i64,
    pub dc: Dc,
}

impl Channel {
    fn wants(&self, module: &str, op: Operation) -> bool {
        self.events.iter().any(|e| {
            e.split_once('.').is_some_and(|(m, what)| {
                m.eq_ignore_ascii_case(module) && (what == "all" || what == op.event())
            })
        })
    }
}

/// A notification waiting to be sent.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub seq: u64,
    pub dc: Dc,
    pub url: String,
    /// The body, less `resource_uri` (the emulator knows its base URL; the world does not).
    pub body: Value,
}

/// A delivery as `GET /__emulator/notifications` shows it; `status` is the receiver's answer,
/// 0 when it could not be delivered, `null` while it is on its way.
#[derive(Clone, Debug, Serialize)]
pub struct Logged {
    pub seq: u64,
    pub channel_id: u64,
    pub url: String,
    pub module: String,
    pub operation: &'static str,
    pub ids: Vec<String>,
    pub status: Option<u16>,
}

/// Every org's channels, the notifications owed and the log of those sent.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Watch {
    /// org → channel id → channel.
    pub channels: BTreeMap<String, BTreeMap<u64, Channel>>,
    #[serde(skip)]
    outbox: Vec<Delivery>,
    #[serde(skip)]
    log: VecDeque<Logged>,
    #[serde(skip)]
    next_seq: u64,
}

impl Watch {
    /// The live channels of `org` at `now` (lapsed ones are dropped).
    pub fn live(&mut self, org: &str, now: i64) -> Vec<Channel> {
        let Some(channels) = self.channels.get_mut(org) else {
            return Vec::new();
        };
        channels.retain(|_, c| c.expires_at > now);
        channels.values().cloned().collect()
    }

    /// `ids` of `module` in `org` went through `op` at `now` (`affected`: the fields an update
    /// set): each live channel that asked for it is owed one notification.
    pub fn changed(
        &mut self,
        org: &str,
        module: &str,
        op: Operation,
        ids: &[String],
        affected: &[String],
        now_ms: i64,
    ) {
        if ids.is_empty() {
            return;
        }
        for channel in self.live(org, now_ms / 1000) {
            if !channel.wants(module, op) {
                continue;
            }
            self.next_seq += 1;
            let seq = self.next_seq;
            let query_params: BTreeMap<String, String> = url::Url::parse(&channel.notify_url)
                .map(|u| u.query_pairs().into_owned().collect())
                .unwrap_or_default();
            let affected_fields: Vec<Value> = match op {
                Operation::Update => ids
                    .iter()
                    .map(|id| Value::Object([(id.clone(), json!(affected))].into_iter().collect()))
                    .collect(),
                _ => Vec::new(),
            };
            let body = json!({
                "server_time": now_ms,
                "query_params": query_params,
                "module": module,
                "ids": ids,
                "affected_fields": affected_fields,
                "operation": op.name(),
                "channel_id": channel.channel_id,
                "token": channel.token,
            });
            self.log.push_back(Logged {
                seq,
                channel_id: channel.channel_id,
                url: channel.notify_url.clone(),
                module: module.to_owned(),
                operation: op.name(),
                ids: ids.to_vec(),
                status: None,
            });
            if self.log.len() > LOG_MAX {
                self.log.pop_front();
            }
            self.outbox.push(Delivery {
                seq,
                dc: channel.dc,
                url: channel.notify_url,
                body,
            });
        }
    }

    /// The notifications owed, to be sent now.
    pub fn take_outbox(&mut self) -> Vec<Delivery> {
        std::mem::take(&mut self.outbox)
    }

    /// How delivery `seq` ended.
    pub fn delivered(&mut self, seq: u64, status: u16) {
        if let Some(entry) = self.log.iter_mut().find(|l| l.seq == seq) {
            entry.status = Some(status);
        }
    }

    /// Numbers deliveries on from where `before` (a world replaced by a reset) left off.
    pub fn continue_after(&mut self, before: &Watch) {
        self.next_seq = self.next_seq.max(before.next_seq);
    }

    /// The deliveries after `since`.
    pub fn log_since(&self, since: u64) -> Vec<Logged> {
        self.log.iter().filter(|l| l.seq > since).cloned().collect()
    }
}

/// Whether a notification may be sent to `url`: the emulator reaches only this machine.
pub fn deliverable(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(id: u64, events: &[&str], expires_at: i64) -> Channel {
        Channel {
            channel_id: id,
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            notify_url: "http://127.0.0.1:9/zoho/notify?org=1".into(),
            token: Some("t".into()),
            expires_at,
            dc: Dc::Us,
        }
    }

    #[test]
    fn each_live_channel_that_asked_is_owed_one_notification_per_write() {
        let mut w = Watch::default();
        let org = w.channels.entry("70001".into()).or_default();
        org.insert(1, channel(1, &["Leads.all"], 2_000));
        org.insert(2, channel(2, &["Leads.create", "Deals.edit"], 2_000));
        org.insert(3, channel(3, &["Leads.edit"], 500));
        let ids = ["11".to_owned(), "12".to_owned()];
        w.changed(
            "70001",
            "Leads",
            Operation::Update,
            &ids,
            &["Company".into()],
            1_000_000,
        );
        let sent = w.take_outbox();
        assert_eq!(sent.len(), 1, "only the all-events channel; 3 lapsed");
        assert_eq!(sent[0].body["ids"], json!(["11", "12"]));
        assert_eq!(sent[0].body["operation"], "update");
        assert_eq!(sent[0].body["query_params"]["org"], "1");
        assert_eq!(sent[0].body["affected_fields"][0]["11"], json!(["Company"]));
        assert!(
            !w.channels["70001"].contains_key(&3),
            "the lapsed channel is gone"
        );
        w.changed(
            "70001",
            "leads",
            Operation::Insert,
            &ids[..1],
            &[],
            1_000_000,
        );
        assert_eq!(w.take_outbox().len(), 2);
        w.changed("70002", "Leads", Operation::Insert, &ids, &[], 1_000_000);
        assert!(w.take_outbox().is_empty(), "another org's writes");
        let log = w.log_since(0);
        assert_eq!(log.len(), 3);
        w.delivered(log[0].seq, 200);
        assert_eq!(w.log_since(0)[0].status, Some(200));
        assert_eq!(w.log_since(log[0].seq).len(), 2);
    }

    #[test]
    fn notifications_go_only_to_this_machine() {
        assert!(deliverable("http://127.0.0.1:3000/zoho/notify"));
        assert!(deliverable("http://localhost:3000/zoho/notify"));
        assert!(deliverable("http://[::1]:3000/zoho/notify"));
        assert!(!deliverable("https://zportal.example.com/zoho/notify"));
        assert!(!deliverable("http://10.0.0.1/zoho/notify"));
        assert!(!deliverable("not a url"));
    }
}
