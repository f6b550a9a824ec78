//! What one CRM request is, as a value: what it does ([`Op`]) to what ([`Resource`]), with which
//! parameters and body. Everything that needs to know what a call was (the response cache, the
//! metrics, the live log, the credits it costs) reads this value; nothing parses a path back.

use std::fmt::Write as _;
use std::time::SystemTime;

use crate::ids::ModuleName;
use crate::meter::Endpoint;

/// The meetings' module, which [`Resource::CancelMeeting`] changes.
static EVENTS: std::sync::LazyLock<ModuleName> =
    std::sync::LazyLock::new(|| ModuleName::parse("Events").unwrap_or_else(ModuleName::notes));

/// The Leads module, which a conversion changes.
static LEADS: std::sync::LazyLock<ModuleName> =
    std::sync::LazyLock::new(|| ModuleName::parse("Leads").unwrap_or_else(ModuleName::notes));

/// Which users `users?type=` lists (reference §9.7); an owner picker wants the active,
/// confirmed ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserType {
    ActiveConfirmed,
    /// Everyone, deactivated and invited users too (to name any owner).
    All,
    /// The token's own user.
    Current,
}

impl UserType {
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::ActiveConfirmed => "ActiveConfirmedUsers",
            UserType::All => "AllUsers",
            UserType::Current => "CurrentUser",
        }
    }
}

/// What a call does to its resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Reads and changes nothing (a COQL query too, though Zoho takes it by POST).
    Read,
    Create,
    Update,
    Delete,
}

/// What a CRM call reads or writes, by the names of Zoho's API. Record ids are digits (the
/// callers check them), module names are [`ModuleName`]s: neither can smuggle in a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resource {
    /// `users?type=CurrentUser`: who the token belongs to.
    CurrentUser,
    /// `org`: the org the token belongs to.
    Org,
    /// `settings/modules`.
    Modules,
    /// `settings/fields?module=M`.
    Fields(ModuleName),
    /// `settings/related_lists?module=M`.
    RelatedLists(ModuleName),
    /// `M`: a page of a module's records (read), new ones (create), or the records of `ids`
    /// (`M?ids=…`, update or delete).
    Records {
        module: ModuleName,
        ids: Vec<String>,
    },
    /// `M/search`.
    Search(ModuleName),
    /// `M/{id}`: one record.
    Record { module: ModuleName, id: String },
    /// `M/{id}/Notes`: a record's notes.
    Notes { module: ModuleName, id: String },
    /// `Notes/{id}`: one note.
    Note(String),
    /// `M/{id}/Attachments`: a record's files.
    Attachments { module: ModuleName, id: String },
    /// `M/{id}/Attachments/{attachment}`: one of them.
    Attachment {
        module: ModuleName,
        id: String,
        attachment: String,
    },
    /// `M/{id}/{list}`: a related list, `list` as Zoho's related-list metadata names its `href`.
    Related {
        module: ModuleName,
        id: String,
        list: String,
    },
    /// `M/{id}/__timeline`: the record's history.
    Timeline { module: ModuleName, id: String },
    /// `coql`: a query, sent by POST.
    Coql,
    /// `users?type=T`: the org's users of one kind (for owner pickers).
    Users(UserType),
    /// `Events/{id}/actions/cancel`: cancels a meeting.
    CancelMeeting(String),
    /// `Leads/{id}/actions/convert`: converts a Lead.
    ConvertLead(String),
    /// `Leads/{id}/__conversion_options`: what a Lead could join when converted.
    ConversionOptions(String),
    /// `M/actions/change_owner`: hands the records of `ids` (in the body) to another user.
    ChangeOwner {
        module: ModuleName,
        ids: Vec<String>,
    },
    /// `M/actions/mass_update`: sets one field on the records of `ids` (in the body).
    MassUpdate {
        module: ModuleName,
        ids: Vec<String>,
    },
    /// `actions/watch`: the org's notification channels (`?channel_ids=…` to remove some).
    Watch { channel_ids: Vec<i64> },
    /// `settings/custom_views?module=M`: the org's views of a module.
    CustomViews(ModuleName),
    /// `settings/custom_views/{id}?module=M`: one view, with its criteria.
    CustomView { module: ModuleName, id: String },
    /// `M/actions/count`: how many records a search or a view holds.
    Count(ModuleName),
}

impl Resource {
    /// The module whose records this resource is, or holds a part of.
    pub fn module(&self) -> Option<&ModuleName> {
        match self {
            Resource::Records { module, .. }
            | Resource::Search(module)
            | Resource::Record { module, .. }
            | Resource::Notes { module, .. }
            | Resource::Attachments { module, .. }
            | Resource::Attachment { module, .. }
            | Resource::Related { module, .. }
            | Resource::Timeline { module, .. }
            | Resource::ChangeOwner { module, .. }
            | Resource::MassUpdate { module, .. }
            | Resource::Count(module) => Some(module),
            Resource::CancelMeeting(_) => Some(&*EVENTS),
            Resource::ConvertLead(_) | Resource::ConversionOptions(_) => Some(&*LEADS),
            Resource::CurrentUser
            | Resource::Users(_)
            | Resource::Org
            | Resource::Modules
            | Resource::Fields(_)
            | Resource::RelatedLists(_)
            | Resource::Note(_)
            | Resource::Coql
            | Resource::Watch { .. }
            | Resource::CustomViews(_)
            | Resource::CustomView { .. } => None,
        }
    }

    /// Whether this is records' data (records, their notes, files, related lists and history),
    /// what a write can change: metadata, the user, the org and channels are not. Zoho's
    /// modules are capitalized (`Leads`, `Sales_Orders`); a module name that is not names no
    /// records of Zoho's, and is neither cached nor told to open pages.
    pub fn is_record_data(&self) -> bool {
        self.module().is_some_and(ModuleName::is_capitalized) || matches!(self, Resource::Note(_))
    }

    /// The endpoint it is metered as.
    pub fn endpoint(&self) -> Endpoint {
        match self {
            Resource::CurrentUser | Resource::Users(_) => Endpoint::Users,
            Resource::Org => Endpoint::Org,
            Resource::Modules
            | Resource::Fields(_)
            | Resource::RelatedLists(_)
            | Resource::CustomViews(_)
            | Resource::CustomView { .. } => Endpoint::Settings,
            Resource::Search(_) => Endpoint::Search,
            _ => Endpoint::Records,
        }
    }

    /// Its path under `/crm/v8/`, with the query that names it (`?module=`, `?ids=`).
    fn write_path(&self, out: &mut String) {
        // Writing to a String cannot fail.
        let _ = match self {
            Resource::CurrentUser => write!(out, "users?type=CurrentUser"),
            Resource::Users(t) => write!(out, "users?type={}", t.as_str()),
            Resource::CancelMeeting(id) => write!(out, "Events/{id}/actions/cancel"),
            Resource::ConvertLead(id) => write!(out, "Leads/{id}/actions/convert"),
            Resource::ConversionOptions(id) => write!(out, "Leads/{id}/__conversion_options"),
            Resource::ChangeOwner { module, .. } => {
                write!(out, "{}/actions/change_owner", module.as_str())
            }
            Resource::MassUpdate { module, .. } => {
                write!(out, "{}/actions/mass_update", module.as_str())
            }
            Resource::Org => write!(out, "org"),
            Resource::Modules => write!(out, "settings/modules"),
            Resource::Fields(m) => write!(out, "settings/fields?module={}", m.as_str()),
            Resource::RelatedLists(m) => {
                write!(out, "settings/related_lists?module={}", m.as_str())
            }
            Resource::Records { module, ids } if ids.is_empty() => {
                write!(out, "{}", module.as_str())
            }
            Resource::Records { module, ids } => {
                write!(out, "{}?ids={}", module.as_str(), ids.join(","))
            }
            Resource::Search(m) => write!(out, "{}/search", m.as_str()),
            Resource::Record { module, id } => write!(out, "{}/{id}", module.as_str()),
            Resource::Notes { module, id } => write!(out, "{}/{id}/Notes", module.as_str()),
            Resource::Note(id) => write!(out, "Notes/{id}"),
            Resource::Attachments { module, id } => {
                write!(out, "{}/{id}/Attachments", module.as_str())
            }
            Resource::Attachment {
                module,
                id,
                attachment,
            } => write!(out, "{}/{id}/Attachments/{attachment}", module.as_str()),
            Resource::Related { module, id, list } => {
                write!(out, "{}/{id}/{list}", module.as_str())
            }
            Resource::Timeline { module, id } => write!(out, "{}/{id}/__timeline", module.as_str()),
            Resource::Coql => write!(out, "coql"),
            Resource::CustomViews(m) => write!(out, "settings/custom_views?module={}", m.as_str()),
            Resource::CustomView { module, id } => {
                write!(out, "settings/custom_views/{id}?module={}", module.as_str())
            }
            Resource::Count(m) => write!(out, "{}/actions/count", m.as_str()),
            Resource::Watch { channel_ids } if channel_ids.is_empty() => {
                write!(out, "actions/watch")
            }
            Resource::Watch { channel_ids } => {
                let ids: Vec<String> = channel_ids.iter().map(i64::to_string).collect();
                write!(out, "actions/watch?channel_ids={}", ids.join(","))
            }
        };
    }
}

/// One CRM request: what it does to what, its parameters, its body.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    pub op: Op,
    pub resource: &'a Resource,
    /// The parameters of a read (`fields=…&page=2`), already encoded; empty when none.
    pub query: &'a str,
    pub body: Body<'a>,
    /// `If-Modified-Since`: Zoho answers 304 with no body if nothing changed after it.
    pub since: Option<SystemTime>,
}

/// What a CRM request carries.
#[derive(Clone, Copy, Debug)]
pub enum Body<'a> {
    None,
    Json(&'a serde_json::Value),
    /// A file, sent as the `file` part of a `multipart/form-data` body. The bytes are held so
    /// the call can be sent again after a refused token.
    File(&'a FilePart),
}

/// A file to upload.
#[derive(Clone, Debug)]
pub struct FilePart {
    pub file_name: String,
    pub content_type: String,
    pub bytes: bytes::Bytes,
}

impl<'a> Call<'a> {
    /// A read of `resource` with `query`'s parameters.
    pub fn read(resource: &'a Resource, query: &'a str) -> Self {
        Call {
            op: Op::Read,
            resource,
            query,
            body: Body::None,
            since: None,
        }
    }

    /// `op` on `resource` with a JSON body.
    pub fn json(op: Op, resource: &'a Resource, body: &'a serde_json::Value) -> Self {
        Call {
            op,
            resource,
            query: "",
            body: Body::Json(body),
            since: None,
        }
    }

    /// A delete of `resource`.
    pub fn delete(resource: &'a Resource) -> Self {
        Call {
            op: Op::Delete,
            resource,
            query: "",
            body: Body::None,
            since: None,
        }
    }

    /// The HTTP method: a read is a GET, but for a COQL query, which Zoho takes by POST; an
    /// action (cancelling a meeting) is a POST too.
    pub fn method(&self) -> reqwest::Method {
        match (self.op, self.resource) {
            (Op::Read, Resource::Coql) => reqwest::Method::POST,
            (
                _,
                Resource::CancelMeeting(_)
                | Resource::ChangeOwner { .. }
                | Resource::MassUpdate { .. },
            ) => reqwest::Method::POST,
            (Op::Read, _) => reqwest::Method::GET,
            (Op::Create, _) => reqwest::Method::POST,
            (Op::Update, _) => reqwest::Method::PUT,
            (Op::Delete, _) => reqwest::Method::DELETE,
        }
    }

    /// The path under `{api_domain}/crm/v8/`, with the query.
    pub fn path(&self) -> String {
        let mut out = String::with_capacity(64 + self.query.len());
        self.resource.write_path(&mut out);
        if !self.query.is_empty() {
            out.push(if out.contains('?') { '&' } else { '?' });
            out.push_str(self.query);
        }
        out
    }

    /// Whether this call may change records: any but a read (and a channel's registration).
    pub fn changes_records(&self) -> bool {
        self.op != Op::Read && !matches!(self.resource, Resource::Watch { .. })
    }

    /// Whether it reads records' data, which may be answered again for a few seconds. Metadata
    /// is kept elsewhere, for longer; who the user is and the org are always read anew (the
    /// token's health rides on them); a COQL query is not kept.
    pub fn reads_record_data(&self) -> bool {
        self.op == Op::Read && self.resource.is_record_data()
    }

    /// The credits it costs: one, for a write of records one per ten of them (a change owner
    /// or mass update: of its ids), and five for a lead conversion (reference §8.7).
    pub fn credits(&self) -> u64 {
        match self.resource {
            Resource::ConvertLead(_) => return 5,
            Resource::ChangeOwner { ids, .. } | Resource::MassUpdate { ids, .. } => {
                return (ids.len() as u64).div_ceil(10).max(1);
            }
            _ => {}
        }
        match self.body {
            Body::Json(body) if matches!(self.op, Op::Create | Op::Update) => body
                .get("data")
                .and_then(|d| d.as_array())
                .map_or(1, |d| (d.len() as u64).div_ceil(10).max(1)),
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leads() -> ModuleName {
        ModuleName::parse("Leads").expect("a module name")
    }

    #[test]
    fn paths_are_zohos() {
        let records = Resource::Records {
            module: leads(),
            ids: vec![],
        };
        assert_eq!(
            Call::read(&records, "fields=Last_Name&page=1").path(),
            "Leads?fields=Last_Name&page=1"
        );
        let some = Resource::Records {
            module: leads(),
            ids: vec!["1".into(), "2".into()],
        };
        assert_eq!(Call::delete(&some).path(), "Leads?ids=1,2");
        assert_eq!(
            Call::read(&Resource::CurrentUser, "").path(),
            "users?type=CurrentUser"
        );
        assert_eq!(
            Call::read(&Resource::Fields(leads()), "").path(),
            "settings/fields?module=Leads"
        );
        let notes = Resource::Notes {
            module: leads(),
            id: "7".into(),
        };
        assert_eq!(
            Call::read(&notes, "per_page=5").path(),
            "Leads/7/Notes?per_page=5"
        );
        let timeline = Resource::Timeline {
            module: leads(),
            id: "7".into(),
        };
        assert_eq!(
            Call::read(&timeline, "x=1").path(),
            "Leads/7/__timeline?x=1"
        );
        let watch = Resource::Watch {
            channel_ids: vec![5],
        };
        assert_eq!(Call::delete(&watch).path(), "actions/watch?channel_ids=5");
    }

    #[test]
    fn calls_map_to_zohos_endpoints() {
        let endpoint = |r: Resource| r.endpoint();
        assert_eq!(endpoint(Resource::CurrentUser), Endpoint::Users);
        assert_eq!(endpoint(Resource::Org), Endpoint::Org);
        assert_eq!(endpoint(Resource::Fields(leads())), Endpoint::Settings);
        assert_eq!(endpoint(Resource::Search(leads())), Endpoint::Search);
        assert_eq!(
            endpoint(Resource::Records {
                module: leads(),
                ids: vec![]
            }),
            Endpoint::Records
        );
        assert_eq!(
            endpoint(Resource::Record {
                module: leads(),
                id: "123".into()
            }),
            Endpoint::Records
        );
    }

    #[test]
    fn reads_of_records_are_cacheable_and_writes_change_records() {
        let record = Resource::Record {
            module: leads(),
            id: "123".into(),
        };
        let records = Resource::Records {
            module: leads(),
            ids: vec![],
        };
        let notes = Resource::Notes {
            module: leads(),
            id: "123".into(),
        };
        assert!(Call::read(&records, "fields=Last_Name&page=1").reads_record_data());
        assert!(Call::read(&record, "").reads_record_data());
        assert!(Call::read(&notes, "").reads_record_data());
        assert!(!Call::read(&Resource::Org, "").reads_record_data());
        assert!(!Call::read(&Resource::CurrentUser, "").reads_record_data());
        assert!(!Call::read(&Resource::Fields(leads()), "").reads_record_data());
        let body = serde_json::json!({ "data": [{}] });
        let put = Call::json(Op::Update, &record, &body);
        assert!(!put.reads_record_data());
        assert!(put.changes_records());
        assert!(Call::delete(&records).changes_records());
        let coql = Call::json(Op::Read, &Resource::Coql, &body);
        assert!(!coql.changes_records());
        assert!(!coql.reads_record_data());
        assert_eq!(coql.method(), reqwest::Method::POST);
    }

    #[test]
    fn a_write_costs_a_credit_per_ten_records() {
        let records = Resource::Records {
            module: leads(),
            ids: vec![],
        };
        let body = serde_json::json!({ "data": vec![serde_json::json!({}); 21] });
        assert_eq!(Call::json(Op::Create, &records, &body).credits(), 3);
        assert_eq!(Call::read(&records, "").credits(), 1);
    }
}
