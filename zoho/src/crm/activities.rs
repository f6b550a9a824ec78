//! Activities (reference §9.1): tasks, meetings (`Events`) and calls. A record's open or closed
//! ones come from its chronological related list, in one call; a user's open ones from one search
//! per module (v8 has no `Activities` module). New ones are tied to their record by `What_Id` +
//! `$se_module`, or `Who_Id` for a contact; a meeting is cancelled with `actions/cancel`.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::notes::Person;
use super::records::{Criterion, Operator, RecordError, Search, is_record_id, write_results};
use super::{ApiError, CrmClient, CrmError};
use crate::call::{Call, Op, Resource};
use crate::ids::{ConnectionId, ModuleName};

/// What kind of activity: each is a module of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActivityKind {
    Task,
    Meeting,
    Call,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 3] = [
        ActivityKind::Task,
        ActivityKind::Meeting,
        ActivityKind::Call,
    ];

    /// Its module's API name.
    pub fn module_name(self) -> &'static str {
        match self {
            ActivityKind::Task => "Tasks",
            ActivityKind::Meeting => "Events",
            ActivityKind::Call => "Calls",
        }
    }

    pub fn module(self) -> ModuleName {
        // The three names are valid module names.
        ModuleName::parse(self.module_name()).unwrap_or_else(ModuleName::notes)
    }

    /// The kind of an activity module (`Meetings` is `Events`).
    pub fn of_module(module: &str) -> Option<ActivityKind> {
        match module {
            "Tasks" => Some(ActivityKind::Task),
            "Events" | "Meetings" => Some(ActivityKind::Meeting),
            "Calls" => Some(ActivityKind::Call),
            _ => None,
        }
    }
}

/// A lookup as Zoho shows it: `{"name","id"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Lookup {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// The record an activity is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    pub module: String,
    pub id: String,
    pub name: Option<String>,
}

/// Someone asked to a meeting.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Participant {
    /// `contact`, `lead`, `user` or `email`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Their record or user id, or the address.
    #[serde(default)]
    pub participant: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "Email", default)]
    pub email: Option<String>,
    #[serde(default)]
    pub invited: bool,
}

/// An activity as the three modules' fields describe it; fields of other kinds stay empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    pub kind: ActivityKind,
    pub id: String,
    /// A task's or call's `Subject`, a meeting's `Event_Title`.
    pub title: String,
    /// A task's `Due_Date` (`yyyy-MM-dd`).
    pub due_date: Option<String>,
    /// A meeting's `Start_DateTime` or a call's `Call_Start_Time`.
    pub starts: Option<String>,
    /// A meeting's `End_DateTime`.
    pub ends: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub owner: Option<Person>,
    /// The record in `What_Id` (with `$se_module`).
    pub what: Option<Parent>,
    /// The contact in `Who_Id`.
    pub who: Option<Lookup>,
    pub participants: Vec<Participant>,
    pub cancelled: bool,
    pub call_type: Option<String>,
    pub call_result: Option<String>,
    /// `Call_Duration`, `hh:mm`.
    pub call_duration: Option<String>,
    /// `Call_Duration_in_seconds`.
    pub call_seconds: Option<u64>,
    pub outgoing_call_status: Option<String>,
    pub closed_time: Option<String>,
    /// Zoho's recurrence rule (`RRULE`), shown, never written here.
    pub recurrence: Option<String>,
    /// Zoho's reminder, as text, shown, never written here.
    pub reminder: Option<String>,
}

impl Activity {
    /// The record it is about: `What_Id`'s, or the contact's.
    pub fn parent(&self) -> Option<Parent> {
        self.what.clone().or_else(|| {
            self.who.as_ref().map(|w| Parent {
                module: "Contacts".into(),
                id: w.id.clone(),
                name: w.name.clone(),
            })
        })
    }

    /// Whether anyone was invited (a meeting can be cancelled only then).
    pub fn invited(&self) -> bool {
        self.participants.iter().any(|p| p.invited)
    }

    /// Reads one activity of `kind` (or of its `$module`, in a chronological list).
    pub fn from_record(kind: Option<ActivityKind>, r: &Map<String, Value>) -> Option<Activity> {
        let text = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_owned);
        let kind = kind.or_else(|| ActivityKind::of_module(r.get("$module")?.as_str()?))?;
        let id = text("id").filter(|i| is_record_id(i))?;
        let lookup = |k: &str| {
            r.get(k)
                .and_then(|v| serde_json::from_value::<Lookup>(v.clone()).ok())
                .filter(|l| is_record_id(&l.id))
        };
        let what = lookup("What_Id").and_then(|l| {
            Some(Parent {
                module: text("$se_module").filter(|m| ModuleName::parse(m).is_some())?,
                id: l.id,
                name: l.name,
            })
        });
        let shown = |k: &str| match r.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Object(o)) => o
                .get("RRULE")
                .or_else(|| o.get("ALARM"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        };
        Some(Activity {
            kind,
            title: text(if kind == ActivityKind::Meeting {
                "Event_Title"
            } else {
                "Subject"
            })
            .unwrap_or_default(),
            due_date: text("Due_Date"),
            starts: text(if kind == ActivityKind::Call {
                "Call_Start_Time"
            } else {
                "Start_DateTime"
            }),
            ends: text("End_DateTime"),
            status: text("Status"),
            priority: text("Priority"),
            owner: r
                .get("Owner")
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
            what,
            who: lookup("Who_Id"),
            // One odd item (a numeric `participant`, say) must not empty the list.
            participants: r
                .get("Participants")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let mut p = p.clone();
                    if let Some(n) = p.get("participant").and_then(Value::as_u64) {
                        p["participant"] = json!(n.to_string());
                    }
                    serde_json::from_value(p).ok()
                })
                .collect(),
            cancelled: r.get("$event_cancelled").and_then(Value::as_bool) == Some(true),
            call_type: text("Call_Type"),
            call_result: text("Call_Result").filter(|v| v != "-None-"),
            call_duration: text("Call_Duration"),
            call_seconds: r.get("Call_Duration_in_seconds").and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            }),
            outgoing_call_status: text("Outgoing_Call_Status"),
            closed_time: text("Closed_Time"),
            recurrence: shown("Recurring_Activity"),
            reminder: shown(if kind == ActivityKind::Call {
                "Reminder"
            } else {
                "Remind_At"
            }),
            id,
        })
    }
}

/// The fields an activity list asks for: the three modules' names, mixed (the chronological
/// view takes them so).
const FIELDS: &str = "Subject,Event_Title,Due_Date,Start_DateTime,End_DateTime,Call_Start_Time,\
Status,Priority,Owner,What_Id,Who_Id,Participants,Call_Type,Call_Result,Call_Duration,\
Call_Duration_in_seconds,Outgoing_Call_Status,Closed_Time,Recurring_Activity,Remind_At";

/// The most activities one list reads (Zoho's page).
pub const PER_PAGE: u32 = 200;

#[derive(Deserialize)]
struct DataBody {
    data: Vec<Map<String, Value>>,
    #[serde(default)]
    info: Option<Info>,
}

#[derive(Deserialize)]
struct Info {
    #[serde(default)]
    more_records: bool,
}

/// A list of activities, and whether Zoho holds more than it gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activities {
    pub items: Vec<Activity>,
    pub more: bool,
}

/// A new activity, tied to `parent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewActivity {
    Task {
        subject: String,
        due_date: Option<String>,
        priority: Option<String>,
        owner_id: Option<String>,
    },
    Call {
        subject: String,
        call_type: String,
        /// RFC 3339 with an offset.
        starts: String,
        /// `hh:mm`; Zoho wants it for a completed call.
        duration: Option<String>,
        result: Option<String>,
    },
    Meeting {
        title: String,
        starts: String,
        ends: String,
        participants: Vec<(String, String)>,
        send_invitations: bool,
    },
}

impl NewActivity {
    pub fn kind(&self) -> ActivityKind {
        match self {
            NewActivity::Task { .. } => ActivityKind::Task,
            NewActivity::Call { .. } => ActivityKind::Call,
            NewActivity::Meeting { .. } => ActivityKind::Meeting,
        }
    }

    /// The record to insert, tied to `parent`: a contact through `Who_Id`, any other record
    /// through `What_Id` and `$se_module`.
    pub fn fields(&self, parent_module: &ModuleName, parent_id: &str) -> Map<String, Value> {
        let mut v = match self {
            NewActivity::Task {
                subject,
                due_date,
                priority,
                owner_id,
            } => {
                let mut v = json!({ "Subject": subject });
                if let Some(d) = due_date {
                    v["Due_Date"] = json!(d);
                }
                if let Some(p) = priority {
                    v["Priority"] = json!(p);
                }
                if let Some(o) = owner_id {
                    v["Owner"] = json!({ "id": o });
                }
                v
            }
            NewActivity::Call {
                subject,
                call_type,
                starts,
                duration,
                result,
            } => {
                let mut v = json!({ "Subject": subject, "Call_Type": call_type, "Call_Start_Time": starts });
                if let Some(d) = duration {
                    v["Call_Duration"] = json!(d);
                }
                if let Some(r) = result {
                    v["Call_Result"] = json!(r);
                }
                v
            }
            NewActivity::Meeting {
                title,
                starts,
                ends,
                participants,
                send_invitations,
            } => json!({
                "Event_Title": title,
                "Start_DateTime": starts,
                "End_DateTime": ends,
                "Participants": participants
                    .iter()
                    .map(|(kind, who)| json!({ "type": kind, "participant": who }))
                    .collect::<Vec<_>>(),
                "$send_notification": send_invitations,
            }),
        };
        if parent_module.as_str() == "Contacts" {
            v["Who_Id"] = json!({ "id": parent_id });
        } else {
            v["What_Id"] = json!({ "id": parent_id });
            v["$se_module"] = json!(parent_module.as_str());
        }
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
}

impl CrmClient {
    /// A record's open activities, or its closed ones, from its chronological related list
    /// (at most [`PER_PAGE`]).
    pub async fn record_activities(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
        closed: bool,
    ) -> Result<Activities, CrmError> {
        if !is_record_id(record_id) {
            return Ok(Activities::default());
        }
        let list = if closed {
            "Activities_Chronological_View_History"
        } else {
            "Activities_Chronological_View"
        };
        let related = Resource::Related {
            module: module.clone(),
            id: record_id.to_owned(),
            list: list.to_owned(),
        };
        let query = format!("fields={FIELDS}&page=1&per_page={PER_PAGE}");
        self.activities(id, &related, &query, None).await
    }

    /// The open activities of one kind owned by user `owner_id` (a CRM user id), from one
    /// search. An open meeting is one that ends at `now` (RFC 3339) or later and is not
    /// cancelled.
    pub async fn open_activities_of(
        &self,
        id: &ConnectionId,
        kind: ActivityKind,
        owner_id: &str,
        now: &str,
    ) -> Result<Activities, CrmError> {
        if !is_record_id(owner_id) {
            return Ok(Activities::default());
        }
        let owner = Criterion {
            field: "Owner".into(),
            operator: Operator::Equals,
            value: owner_id.into(),
        };
        let is = |field: &str, operator, value: &str| Criterion {
            field: field.into(),
            operator,
            value: value.into(),
        };
        let open = match kind {
            ActivityKind::Task => vec![is("Status", Operator::NotEqual, "Completed")],
            // A scheduled call is open, and so is one past its time (Zoho shows it "Overdue").
            ActivityKind::Call => vec![
                is("Call_Type", Operator::Equals, "Outbound"),
                is("Outgoing_Call_Status", Operator::NotEqual, "Completed"),
                is("Outgoing_Call_Status", Operator::NotEqual, "Cancelled"),
            ],
            ActivityKind::Meeting => vec![is("End_DateTime", Operator::GreaterEqual, now)],
        };
        let search = Search::Criteria {
            conditions: std::iter::once(owner).chain(open).collect(),
            any: false,
        };
        let Some(param) = search.param() else {
            return Ok(Activities::default());
        };
        let fields = fields_of(kind);
        let query = format!("{param}&fields={fields}&page=1&per_page={PER_PAGE}");
        let mut found = self
            .activities(id, &Resource::Search(kind.module()), &query, Some(kind))
            .await?;
        found.items.retain(|a| !a.cancelled);
        Ok(found)
    }

    async fn activities(
        &self,
        id: &ConnectionId,
        resource: &Resource,
        query: &str,
        kind: Option<ActivityKind>,
    ) -> Result<Activities, CrmError> {
        match self.read::<DataBody>(id, resource, query).await {
            Ok(body) => Ok(Activities {
                items: body
                    .data
                    .iter()
                    .filter_map(|r| Activity::from_record(kind, r))
                    .collect(),
                more: body.info.is_some_and(|i| i.more_records),
            }),
            Err(CrmError::Api(ApiError::NoContent)) => Ok(Activities::default()),
            Err(e) => Err(e),
        }
    }

    /// Creates an activity tied to the record; its id, or what Zoho found wrong.
    pub async fn add_activity(
        &self,
        id: &ConnectionId,
        parent_module: &ModuleName,
        parent_id: &str,
        activity: &NewActivity,
    ) -> Result<Result<String, RecordError>, CrmError> {
        if !is_record_id(parent_id) {
            return Ok(Err(RecordError::invalid_id()));
        }
        let fields = activity.fields(parent_module, parent_id);
        self.insert(id, &activity.kind().module(), fields).await
    }

    /// Marks a task completed.
    pub async fn complete_task(
        &self,
        id: &ConnectionId,
        task_id: &str,
    ) -> Result<Result<(), RecordError>, CrmError> {
        let mut fields = Map::new();
        fields.insert("Status".into(), json!("Completed"));
        self.update(id, &ActivityKind::Task.module(), task_id, fields)
            .await
    }

    /// Cancels a meeting (`Events/{id}/actions/cancel`), with Zoho's cancellation mail when
    /// `send_mail`.
    pub async fn cancel_meeting(
        &self,
        id: &ConnectionId,
        meeting_id: &str,
        send_mail: bool,
    ) -> Result<Result<(), RecordError>, CrmError> {
        if !is_record_id(meeting_id) {
            return Ok(Err(RecordError::invalid_id()));
        }
        let body = json!({ "data": [{ "send_cancelling_mail": send_mail }] });
        let cancel = Resource::CancelMeeting(meeting_id.to_owned());
        let call = Call::json(Op::Update, &cancel, &body);
        let mut results = write_results(self.call(id, call).await?)?;
        Ok(results.swap_remove(0).map(|_| ()))
    }
}

/// One module's fields, for a search of that module alone (Zoho refuses a name the module does
/// not have).
fn fields_of(kind: ActivityKind) -> &'static str {
    match kind {
        ActivityKind::Task => {
            "Subject,Due_Date,Status,Priority,Owner,What_Id,Who_Id,Closed_Time,Recurring_Activity,Remind_At"
        }
        ActivityKind::Meeting => {
            "Event_Title,Start_DateTime,End_DateTime,Owner,What_Id,Who_Id,Participants,Recurring_Activity,Remind_At"
        }
        ActivityKind::Call => {
            "Subject,Call_Type,Call_Start_Time,Call_Duration,Call_Duration_in_seconds,Call_Result,Outgoing_Call_Status,Owner,What_Id,Who_Id"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn an_activity_is_read_from_any_of_the_three_modules() {
        let task = record(json!({
            "$module": "Tasks", "id": "11", "Subject": "Call back", "Due_Date": "2026-12-06",
            "Status": "Not Started", "What_Id": { "id": "22", "name": "Lead 0002" }, "$se_module": "Leads",
            "Recurring_Activity": { "RRULE": "FREQ=WEEKLY" },
        }));
        let a = Activity::from_record(None, &task).expect("a task");
        assert_eq!(a.kind, ActivityKind::Task);
        assert_eq!(a.title, "Call back");
        assert_eq!(
            a.parent().map(|p| (p.module, p.id)),
            Some(("Leads".into(), "22".into()))
        );
        assert_eq!(a.recurrence.as_deref(), Some("FREQ=WEEKLY"));
        let meeting = record(json!({
            "$module": "Events", "id": "12", "Event_Title": "Review",
            "Who_Id": { "id": "33", "name": "Ann" },
            "Participants": [{ "type": "contact", "participant": "33", "invited": true }],
        }));
        let m = Activity::from_record(None, &meeting).expect("a meeting");
        assert_eq!(m.title, "Review");
        assert!(m.invited());
        assert_eq!(m.parent().map(|p| p.module), Some("Contacts".into()));
        // Not an activity, or an id that is not Zoho's: skipped.
        assert!(
            Activity::from_record(None, &record(json!({ "$module": "Leads", "id": "1" })))
                .is_none()
        );
        assert!(
            Activity::from_record(Some(ActivityKind::Task), &record(json!({ "id": "../x" })))
                .is_none()
        );
        // A module name that could carry a path is not a parent.
        let odd = record(json!({ "id": "1", "What_Id": { "id": "2" }, "$se_module": "../org" }));
        assert_eq!(
            Activity::from_record(Some(ActivityKind::Task), &odd).and_then(|a| a.parent()),
            None
        );
    }

    #[test]
    fn a_new_activity_is_tied_to_its_record() {
        let leads = ModuleName::parse("Leads").expect("module");
        let contacts = ModuleName::parse("Contacts").expect("module");
        let task = NewActivity::Task {
            subject: "Follow up".into(),
            due_date: Some("2026-12-07".into()),
            priority: None,
            owner_id: Some("5".into()),
        };
        let f = task.fields(&leads, "9");
        assert_eq!(f["What_Id"], json!({ "id": "9" }));
        assert_eq!(f["$se_module"], json!("Leads"));
        assert_eq!(f["Owner"], json!({ "id": "5" }));
        let f = task.fields(&contacts, "9");
        assert_eq!(f["Who_Id"], json!({ "id": "9" }));
        assert!(!f.contains_key("What_Id"));
        let meeting = NewActivity::Meeting {
            title: "Demo".into(),
            starts: "2026-12-07T10:00:00+00:00".into(),
            ends: "2026-12-07T11:00:00+00:00".into(),
            participants: vec![("lead".into(), "9".into())],
            send_invitations: true,
        };
        let f = meeting.fields(&leads, "9");
        assert_eq!(f["$send_notification"], json!(true));
        assert_eq!(
            f["Participants"][0],
            json!({ "type": "lead", "participant": "9" })
        );
    }
}
