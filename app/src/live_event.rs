//! The live-event contract: what `GET /api/live` tells an open page, defined once for the server
//! (which writes it) and the WASM (which reads it). A module of `app`, not a crate of its own:
//! the WASM's main chunk measured 28 KB larger (gzip) with the same code as a dependency, as
//! wasm-split then placed code the lazy chunks share in the main one. Each event is one line, sent as the data of
//! the SSE event of the same name and handed to the page as it came (`live.js` reads no field):
//!
//! - `hello|<mode>`: the stream is open; `mode` says how changes made outside zportal arrive;
//! - `change|<module>|<op>|<id>,<id>,…`: records of the org changed;
//! - `reload`: the stream missed changes it can no longer replay; the page reads everything;
//! - `end`: the session ended (signed out, expired) or moved to another account: the page loads
//!   anew, and no tab opens a stream for it again;
//! - `replaced`: a newer stream of the session took this one's place; the page polls instead;
//! - `poll`: (made in the browser) time to check for changes, where Zoho cannot notify.
//!
//! A line read by hand, not JSON: the first page's WASM carries no JSON decoder for it. Module
//! names and record ids hold no `|` or `,` (Zoho's API names and digits).

use std::fmt;

/// What happened to the records a change names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "create" => Some(Op::Create),
            "edit" => Some(Op::Edit),
            "delete" => Some(Op::Delete),
            _ => None,
        }
    }
}

/// How the open pages of an org learn of changes made outside zportal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Zoho notifies zportal (a channel is registered, or about to be).
    Push,
    /// Zoho is not asked to notify this server (it cannot reach it, or that is switched off):
    /// the pages poll.
    PollUnreachable,
    /// The org's connections lack `ZohoCRM.notifications.ALL`: the pages poll until one has it.
    PollNoScope,
    /// Zoho refused the channel (or is out of reach now): the pages poll while zportal retries.
    PollFailed,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Push => "push",
            Mode::PollUnreachable => "poll-unreachable",
            Mode::PollNoScope => "poll-scope",
            Mode::PollFailed => "poll-failed",
        }
    }

    /// A mode's word; one this build does not know that says to poll (a newer server's) is
    /// taken as polling.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Mode::Push,
            Mode::PollUnreachable,
            Mode::PollNoScope,
            Mode::PollFailed,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
        .or_else(|| s.starts_with("poll-").then_some(Mode::PollFailed))
    }

    pub fn is_push(self) -> bool {
        self == Mode::Push
    }
}

/// How often a page checks for changes where Zoho cannot notify zportal, while it is visible.
pub const POLL_SECS: u64 = 30;

/// One event of the live stream, as a page hears it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveEvent {
    Hello(Mode),
    Change {
        /// The module as Zoho spells it (`Leads`, `Notes`).
        module: String,
        op: Op,
        ids: Vec<String>,
    },
    Reload,
    End,
    Replaced,
    Poll,
}

impl LiveEvent {
    /// The SSE event's name: the line's first field.
    pub fn name(&self) -> &'static str {
        match self {
            LiveEvent::Hello(_) => "hello",
            LiveEvent::Change { .. } => "change",
            LiveEvent::Reload => "reload",
            LiveEvent::End => "end",
            LiveEvent::Replaced => "replaced",
            LiveEvent::Poll => "poll",
        }
    }

    /// The event as its line.
    pub fn to_line(&self) -> String {
        self.to_string()
    }

    /// An event's line, as [`LiveEvent::to_line`] writes it; `None` for anything else.
    pub fn parse(line: &str) -> Option<Self> {
        let mut fields = line.splitn(4, '|');
        match fields.next()? {
            "hello" => Mode::parse(fields.next()?).map(LiveEvent::Hello),
            "change" => {
                let module = fields.next().filter(|m| !m.is_empty())?.to_owned();
                let op = Op::parse(fields.next()?)?;
                let ids = fields
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .filter(|i| !i.is_empty())
                    .map(str::to_owned)
                    .collect();
                Some(LiveEvent::Change { module, op, ids })
            }
            "reload" => Some(LiveEvent::Reload),
            "end" => Some(LiveEvent::End),
            "replaced" => Some(LiveEvent::Replaced),
            "poll" => Some(LiveEvent::Poll),
            _ => None,
        }
    }

    /// Everything may have changed: the page re-reads all it shows.
    fn is_everything(&self) -> bool {
        matches!(self, LiveEvent::Poll | LiveEvent::Reload)
    }

    /// Whether a page of `module` (showing record `id`, if given) should re-read.
    pub fn touches(&self, module: &str, id: Option<&str>) -> bool {
        match self {
            LiveEvent::Change {
                module: changed,
                ids,
                ..
            } => {
                changed.eq_ignore_ascii_case(module)
                    && id.is_none_or(|id| ids.iter().any(|i| i == id))
            }
            other => other.is_everything(),
        }
    }

    /// Whether notes changed (Zoho names a note by its own id, not its record's).
    pub fn touches_notes(&self) -> bool {
        match self {
            LiveEvent::Change { module, .. } => module == "Notes",
            other => other.is_everything(),
        }
    }

    /// Whether a task, meeting or call changed (Zoho names them by their own ids, not their
    /// records').
    pub fn touches_activities(&self) -> bool {
        match self {
            LiveEvent::Change { module, .. } => {
                matches!(module.as_str(), "Tasks" | "Events" | "Calls")
            }
            other => other.is_everything(),
        }
    }

    /// Whether the record `id` of `module` was deleted.
    pub fn deletes(&self, module: &str, id: &str) -> bool {
        matches!(self, LiveEvent::Change { op: Op::Delete, .. }) && self.touches(module, Some(id))
    }

    /// Whether record `id` of `module` changed and is still there: what its page's sections
    /// re-read on. A deleted record's page says so and drops them; asking Zoho for a deleted
    /// record's notes or files would only be refused.
    pub fn keeps(&self, module: &str, id: &str) -> bool {
        self.touches(module, Some(id)) && !self.deletes(module, id)
    }
}

impl fmt::Display for LiveEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveEvent::Hello(mode) => write!(f, "hello|{}", mode.as_str()),
            LiveEvent::Change { module, op, ids } => {
                write!(f, "change|{module}|{}|{}", op.as_str(), ids.join(","))
            }
            LiveEvent::Reload | LiveEvent::End | LiveEvent::Replaced | LiveEvent::Poll => {
                f.write_str(self.name())
            }
        }
    }
}

/// keeper's words for what the live log and the watch channels hold, as the contract says them.
#[cfg(feature = "ssr")]
mod from_keeper {
    use super::{Mode, Op};

    impl From<keeper::live::Op> for Op {
        fn from(op: keeper::live::Op) -> Self {
            match op {
                keeper::live::Op::Create => Op::Create,
                keeper::live::Op::Edit => Op::Edit,
                keeper::live::Op::Delete => Op::Delete,
            }
        }
    }

    impl From<keeper::watch::Mode> for Mode {
        fn from(mode: keeper::watch::Mode) -> Self {
            match mode {
                keeper::watch::Mode::Push => Mode::Push,
                keeper::watch::Mode::PollUnreachable => Mode::PollUnreachable,
                keeper::watch::Mode::PollNoScope => Mode::PollNoScope,
                keeper::watch::Mode::PollFailed => Mode::PollFailed,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_reads_back_from_its_line() {
        let events = [
            LiveEvent::Hello(Mode::Push),
            LiveEvent::Hello(Mode::PollNoScope),
            LiveEvent::Change {
                module: "Leads".into(),
                op: Op::Edit,
                ids: vec!["1".into(), "2".into()],
            },
            LiveEvent::Change {
                module: "Deals".into(),
                op: Op::Delete,
                ids: vec![],
            },
            LiveEvent::Reload,
            LiveEvent::End,
            LiveEvent::Replaced,
            LiveEvent::Poll,
        ];
        for e in events {
            assert_eq!(LiveEvent::parse(&e.to_line()), Some(e.clone()), "{e}");
        }
        assert_eq!(
            LiveEvent::Change {
                module: "Leads".into(),
                op: Op::Create,
                ids: vec!["7".into()],
            }
            .to_line(),
            "change|Leads|create|7"
        );
    }

    #[test]
    fn what_is_not_a_line_is_no_event() {
        assert_eq!(
            LiveEvent::parse("hello|poll-someday"),
            Some(LiveEvent::Hello(Mode::PollFailed)),
            "a newer server's polling mode still polls"
        );
        for bad in [
            "",
            "ping",
            "change",
            "change||edit|1",
            "change|Leads|move|1",
            "hello|maybe",
        ] {
            assert_eq!(LiveEvent::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_page_rereads_what_an_event_touches() {
        let edit = LiveEvent::parse("change|Leads|edit|7,8").expect("a line");
        assert!(edit.touches("Leads", None) && edit.touches("leads", Some("8")));
        assert!(!edit.touches("Leads", Some("9")) && !edit.touches("Deals", None));
        assert!(edit.keeps("Leads", "7") && !edit.deletes("Leads", "7"));
        let gone = LiveEvent::parse("change|Leads|delete|7").expect("a line");
        assert!(gone.deletes("Leads", "7") && !gone.keeps("Leads", "7"));
        assert!(LiveEvent::Poll.touches("Deals", Some("1")) && LiveEvent::Reload.touches_notes());
        assert!(!LiveEvent::Hello(Mode::Push).touches("Leads", None));
        let note = LiveEvent::parse("change|Notes|create|5").expect("a line");
        assert!(note.touches_notes() && !edit.touches_notes());
    }
}
