//! The server's side of activities: the active connection's calls, what each form's input must
//! be before it goes to Zoho, and Zoho's activities turned into what the lists show. Every write
//! goes through the save ledger, so a press sent twice is one change.

use std::sync::Arc;
use std::time::Duration;

use keeper::Zoho;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zoho::ConnectionId;
use zoho::crm::activities::{Activity, ActivityKind, NewActivity};
use zoho::crm::metadata::ModuleName;
use zoho::crm::records::RecordError;

use super::{
    ActivityDto, ActivityList, ActivityOutcome, Choices, FormsSetup, Kind, MyActivities,
    NewActivityDto, OwnerChoice, ParentDto, ParticipantDto,
};
use crate::AppError;
use crate::context::server_context;
use crate::session::ActiveConnection;

/// The modules whose record pages have the Activities section.
const PARENTS: [&str; 4] = ["Leads", "Contacts", "Accounts", "Deals"];
/// The longest subject Zoho takes (a meeting's title: 255).
const SUBJECT_MAX: usize = 300;
const TITLE_MAX: usize = 255;
/// The longest call zportal logs: a day.
const MINUTES_MAX: u32 = 24 * 60;

/// Activities as the signed-in browser's active connection sees them.
pub struct Activities {
    zoho: Arc<Zoho>,
    conn: ConnectionId,
    save_hold: Duration,
}

/// An input the form must fix: the words, and the label of its field.
fn refused(message: impl Into<String>, field: &str) -> ActivityOutcome {
    ActivityOutcome::Refused {
        message: message.into(),
        field: Some(field.to_owned()),
    }
}

/// The form's label of a Zoho field, so a refusal shows beside the right input.
fn label_of(api_name: &str) -> Option<&'static str> {
    Some(match api_name {
        "Subject" => "Subject",
        "Due_Date" => "Due Date",
        "Priority" => "Priority",
        "Owner" => "Owner",
        "Call_Type" => "Call Type",
        "Call_Start_Time" => "Call Start Time",
        "Call_Duration" => "Duration (minutes)",
        "Call_Result" => "Call Result",
        "Event_Title" => "Title",
        "Start_DateTime" => "From",
        "End_DateTime" => "To",
        "Participants" => "Participants",
        _ => return None,
    })
}

/// Zoho's refusal in words.
fn zoho_refused(e: &RecordError) -> ActivityOutcome {
    ActivityOutcome::Refused {
        message: format!("Zoho did not take it: {}", e.message),
        field: e.field.as_deref().and_then(label_of).map(str::to_owned),
    }
}

/// Zoho's refusal of a cancellation in words: `NOT_ALLOWED` is a meeting nobody was invited to,
/// one cancelled already, or one that is over.
fn cancel_refused(e: &RecordError) -> ActivityOutcome {
    if e.code != "NOT_ALLOWED" {
        return zoho_refused(e);
    }
    ActivityOutcome::Refused {
        message: "Only a meeting whose participants were invited, and that has not ended or \
                  been cancelled, can be cancelled."
            .to_owned(),
        field: None,
    }
}

/// An instant with an offset, as a Unix time.
pub(crate) fn instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

/// An instant as Zoho takes it: whole seconds and a `±HH:mm` offset, never `Z` (reference
/// §9.11: whether Zoho takes `Z` is not known, so it is never sent).
pub(crate) fn zoho_instant(t: OffsetDateTime) -> Option<String> {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    t.replace_nanosecond(0).ok()?.format(&fmt).ok()
}

/// An instant in UTC (`…Z`), so the page's days are the same whatever zone Zoho answered in.
fn in_utc(s: Option<String>) -> Option<String> {
    let s = s?;
    instant(&s)
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok())
        .or(Some(s))
}

/// A date, `yyyy-MM-dd`.
pub(crate) fn is_date(s: &str) -> bool {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).is_ok()
}

/// A press token: what the ledger keys a press by.
pub(crate) fn check_token(token: &str) -> Result<(), AppError> {
    if token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(AppError::BadRequest(
            "The form is out of date; reload it.".into(),
        ))
    }
}

pub(crate) fn is_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit())
}

/// `hh:mm` of a number of minutes, Zoho's `Call_Duration`.
fn duration(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Minutes of a `hh:mm` duration.
fn minutes(d: &str) -> Option<u32> {
    let (h, m) = d.split_once(':')?;
    Some(h.trim().parse::<u32>().ok()? * 60 + m.trim().parse::<u32>().ok()?)
}

/// What a list shows of an activity.
fn dto(a: Activity, closed: bool) -> ActivityDto {
    let kind = match a.kind {
        ActivityKind::Task => Kind::Task,
        ActivityKind::Meeting => Kind::Meeting,
        ActivityKind::Call => Kind::Call,
    };
    let parent = a.parent().map(|p| ParentDto {
        name: p.name.unwrap_or_else(|| p.id.clone()),
        module: p.module,
        id: p.id,
    });
    let invited = a.invited();
    ActivityDto {
        kind,
        title: if a.title.trim().is_empty() {
            format!("({})", kind.label().to_lowercase())
        } else {
            a.title
        },
        due_date: a.due_date.filter(|d| is_date(d)),
        starts: in_utc(a.starts),
        ends: in_utc(a.ends),
        status: a.status,
        owner: a.owner.map(|p| p.name),
        parent,
        closed,
        cancelled: a.cancelled,
        can_complete: kind == Kind::Task && !closed,
        can_cancel: kind == Kind::Meeting && invited && !a.cancelled && !closed,
        call_type: a.call_type,
        call_result: a.call_result,
        // From the seconds when Zoho gives them: `Call_Duration`'s own format is not certain.
        duration_minutes: a
            .call_seconds
            .map(|s| u32::try_from(s.div_ceil(60)).unwrap_or(u32::MAX))
            .or_else(|| a.call_duration.as_deref().and_then(minutes)),
        recurrence: a.recurrence,
        reminder: a.reminder,
        action_token: zoho::random_hex(16),
        id: a.id,
    }
}

/// Whether `value` is one of the org's `choices`.
fn offered(choices: &[super::Pick], value: &str) -> bool {
    choices.iter().any(|c| c.value == value)
}

/// A picklist's values as the forms offer them: the org's, but Zoho's "-None-".
pub(crate) fn picklist(
    fields: &[zoho::crm::metadata::FieldInfo],
    api_name: &str,
) -> Vec<super::Pick> {
    fields
        .iter()
        .find(|f| f.api_name == api_name)
        .map(|f| {
            f.pick_list_values
                .iter()
                .filter(|p| p.actual_value != "-None-")
                .map(|p| super::Pick {
                    value: p.actual_value.clone(),
                    label: p.display_value.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The form's input, checked against the org's picklists: what goes to Zoho, or what the person
/// must fix.
fn new_activity(input: NewActivityDto, choices: &Choices) -> Result<NewActivity, ActivityOutcome> {
    let text = |s: String| s.trim().to_owned();
    let when = |s: &str, label: &str| {
        instant(s)
            .and_then(zoho_instant)
            .ok_or_else(|| refused(format!("Give “{label}” a date and time."), label))
    };
    match input {
        NewActivityDto::Task {
            subject,
            due_date,
            priority,
            owner_id,
        } => {
            let subject = text(subject);
            if subject.is_empty() {
                return Err(refused("Give the task a subject.", "Subject"));
            }
            if subject.chars().count() > SUBJECT_MAX {
                return Err(refused(
                    format!("A subject holds at most {SUBJECT_MAX} characters."),
                    "Subject",
                ));
            }
            let due_date = Some(text(due_date)).filter(|d| !d.is_empty());
            if due_date.as_deref().is_some_and(|d| !is_date(d)) {
                return Err(refused("Give the due date as a date.", "Due Date"));
            }
            let priority = Some(text(priority)).filter(|p| !p.is_empty());
            if priority
                .as_deref()
                .is_some_and(|p| !offered(&choices.priorities, p))
            {
                return Err(refused("Choose one of the priorities.", "Priority"));
            }
            let owner_id = Some(text(owner_id)).filter(|o| !o.is_empty());
            if owner_id.as_deref().is_some_and(|o| !is_id(o)) {
                return Err(refused("Choose an owner from the list.", "Owner"));
            }
            Ok(NewActivity::Task {
                subject,
                due_date,
                priority,
                owner_id,
            })
        }
        NewActivityDto::Call {
            subject,
            call_type,
            starts,
            minutes,
            result,
        } => {
            let subject = text(subject);
            if subject.is_empty() {
                return Err(refused("Give the call a subject.", "Subject"));
            }
            if subject.chars().count() > SUBJECT_MAX {
                return Err(refused(
                    format!("A subject holds at most {SUBJECT_MAX} characters."),
                    "Subject",
                ));
            }
            if !offered(&choices.call_types, &call_type) {
                return Err(refused("Choose a call type.", "Call Type"));
            }
            let starts = when(&starts, "Call Start Time")?;
            let minutes = text(minutes);
            let duration = if minutes.is_empty() {
                None
            } else {
                match minutes.parse::<u32>() {
                    Ok(m) if m <= MINUTES_MAX => Some(self::duration(m)),
                    _ => {
                        return Err(refused(
                            format!("Give the duration in whole minutes, at most {MINUTES_MAX}."),
                            "Duration (minutes)",
                        ));
                    }
                }
            };
            let result = Some(text(result)).filter(|r| !r.is_empty());
            if result
                .as_deref()
                .is_some_and(|r| !offered(&choices.call_results, r))
            {
                return Err(refused("Choose one of the call results.", "Call Result"));
            }
            Ok(NewActivity::Call {
                subject,
                call_type,
                starts,
                duration,
                result,
            })
        }
        NewActivityDto::Meeting {
            title,
            starts,
            ends,
            participants,
            send_invitations,
        } => {
            let title = text(title);
            if title.is_empty() {
                return Err(refused("Give the meeting a title.", "Title"));
            }
            if title.chars().count() > TITLE_MAX {
                return Err(refused(
                    format!("A title holds at most {TITLE_MAX} characters."),
                    "Title",
                ));
            }
            let (from, to) = (when(&starts, "From")?, when(&ends, "To")?);
            if instant(&to) < instant(&from) {
                return Err(refused("A meeting cannot end before it starts.", "To"));
            }
            // People of the org only (leads, contacts, users): no address typed in, to which
            // Zoho would mail an invitation in the org's name.
            let known = ["lead", "contact", "user"];
            let ok = participants.len() <= 50
                && participants
                    .iter()
                    .all(|(kind, who)| known.contains(&kind.as_str()) && is_id(who));
            if !ok {
                return Err(refused(
                    "Choose the participants from the list.",
                    "Participants",
                ));
            }
            Ok(NewActivity::Meeting {
                title,
                starts: from,
                ends: to,
                participants,
                send_invitations,
            })
        }
    }
}

impl Activities {
    /// The active connection's activities, or `Unauthenticated`.
    pub async fn active() -> Result<Self, AppError> {
        let ctx = server_context()?;
        let ActiveConnection(c) = ActiveConnection::current().await?;
        Ok(Activities {
            zoho: ctx.zoho,
            conn: c.id,
            save_hold: ctx.save_hold,
        })
    }

    /// The org's picklists for the forms (metadata, kept a minute).
    async fn choices(&self) -> Result<Choices, AppError> {
        let crm = &self.zoho.crm;
        let (task, call) = (ActivityKind::Task.module(), ActivityKind::Call.module());
        let (tasks, calls) =
            futures::join!(crm.fields(&self.conn, &task), crm.fields(&self.conn, &call));
        let (tasks, calls) = (tasks?, calls?);
        Ok(Choices {
            priorities: picklist(&tasks, "Priority"),
            call_types: picklist(&calls, "Call_Type"),
            call_results: picklist(&calls, "Call_Result"),
        })
    }

    fn parent_module(module: &str) -> Result<ModuleName, AppError> {
        PARENTS
            .contains(&module)
            .then(|| ModuleName::parse(module))
            .flatten()
            .ok_or_else(|| AppError::BadRequest("This page has no activities.".into()))
    }

    pub async fn of_record(
        &self,
        module: &str,
        id: &str,
        closed: bool,
    ) -> Result<ActivityList, AppError> {
        let m = Self::parent_module(module)?;
        let list = self
            .zoho
            .crm
            .record_activities(&self.conn, &m, id, closed)
            .await?;
        // Soonest first (the latest first once closed), whatever order Zoho gave.
        let mut items: Vec<ActivityDto> = list.items.into_iter().map(|a| dto(a, closed)).collect();
        super::group::sort(&mut items);
        if closed {
            items.reverse();
        }
        Ok(ActivityList {
            items,
            more: list.more,
        })
    }

    /// The task owners (the signed-in user first), the meeting's first participants, and a
    /// token for each form.
    pub async fn setup(&self, module: &str, id: &str) -> Result<FormsSetup, AppError> {
        let m = Self::parent_module(module)?;
        let crm = &self.zoho.crm;
        let (users, me, record, choices) = futures::join!(
            crm.owners(&self.conn),
            crm.me(&self.conn),
            crm.record(&self.conn, &m, id),
            self.choices()
        );
        let me = me?;
        let mut owners: Vec<OwnerChoice> = users?
            .iter()
            .map(|u| OwnerChoice {
                id: u.id.clone(),
                name: u.label(),
            })
            .collect();
        if let Some(me) = &me
            && let Some(at) = owners.iter().position(|o| o.id == me.id)
        {
            let mine = owners.remove(at);
            owners.insert(0, mine);
        }
        let record = record?
            .ok_or_else(|| AppError::BadRequest("This record is not there any more.".into()))?;
        let name = |k: &str| record.get(k).and_then(Value::as_str).map(str::to_owned);
        let participants = match m.as_str() {
            "Leads" | "Contacts" => vec![ParticipantDto {
                kind: if m.as_str() == "Leads" {
                    "lead"
                } else {
                    "contact"
                }
                .into(),
                id: id.to_owned(),
                name: name("Full_Name").unwrap_or_else(|| id.to_owned()),
            }],
            "Deals" => record
                .get("Contact_Name")
                .and_then(|c| {
                    let cid = c.get("id").and_then(Value::as_str).filter(|i| is_id(i))?;
                    Some(ParticipantDto {
                        kind: "contact".into(),
                        id: cid.to_owned(),
                        name: c
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or(cid)
                            .to_owned(),
                    })
                })
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };
        Ok(FormsSetup {
            owners,
            choices: choices?,
            participants,
            tokens: [
                zoho::random_hex(16),
                zoho::random_hex(16),
                zoho::random_hex(16),
            ],
        })
    }

    pub async fn add(
        &self,
        module: &str,
        id: &str,
        token: &str,
        input: NewActivityDto,
    ) -> Result<ActivityOutcome, AppError> {
        let m = Self::parent_module(module)?;
        check_token(token)?;
        if !is_id(id) {
            return Err(AppError::BadRequest("There is no such record.".into()));
        }
        let choices = self.choices().await?;
        let activity = match new_activity(input, &choices) {
            Ok(a) => a,
            Err(refusal) => return Ok(refusal),
        };
        let crm = &self.zoho.crm;
        let outcome = self
            .zoho
            .once(
                &self.conn,
                token,
                self.save_hold,
                crm.add_activity(&self.conn, &m, id, &activity),
            )
            .await?;
        Ok(match outcome {
            Ok(id) => ActivityOutcome::Done {
                id,
                next_token: Some(zoho::random_hex(16)),
            },
            Err(e) => zoho_refused(&e),
        })
    }

    pub async fn complete(&self, task_id: &str, token: &str) -> Result<ActivityOutcome, AppError> {
        check_token(token)?;
        let crm = &self.zoho.crm;
        let work = async {
            let done = crm.complete_task(&self.conn, task_id).await?;
            Ok::<_, zoho::crm::CrmError>(done.map(|()| task_id.to_owned()))
        };
        let outcome = self
            .zoho
            .once(&self.conn, token, self.save_hold, work)
            .await?;
        Ok(match outcome {
            Ok(id) => ActivityOutcome::Done {
                id,
                next_token: None,
            },
            Err(e) => zoho_refused(&e),
        })
    }

    pub async fn cancel(&self, meeting_id: &str, token: &str) -> Result<ActivityOutcome, AppError> {
        check_token(token)?;
        let crm = &self.zoho.crm;
        // Cancelling is allowed only for a meeting whose participants were invited: they are
        // told, as they were told of it.
        let work = async {
            let done = crm.cancel_meeting(&self.conn, meeting_id, true).await?;
            Ok::<_, zoho::crm::CrmError>(done.map(|()| meeting_id.to_owned()))
        };
        let outcome = self
            .zoho
            .once(&self.conn, token, self.save_hold, work)
            .await?;
        Ok(match outcome {
            Ok(id) => ActivityOutcome::Done {
                id,
                next_token: None,
            },
            Err(e) => cancel_refused(&e),
        })
    }

    /// The signed-in user's open activities: one read per module, at once.
    pub async fn mine(&self) -> Result<MyActivities, AppError> {
        let crm = &self.zoho.crm;
        let Some(me) = crm.me(&self.conn).await? else {
            return Ok(MyActivities::default());
        };
        // To the minute: the same search again within it is answered from the response cache.
        let now = OffsetDateTime::now_utc();
        let now = now
            .replace_second(0)
            .ok()
            .and_then(zoho_instant)
            .unwrap_or_default();
        let reads =
            ActivityKind::ALL.map(|kind| crm.open_activities_of(&self.conn, kind, &me.id, &now));
        let mut out = MyActivities::default();
        for read in futures::future::join_all(reads).await {
            let list = read?;
            out.more |= list.more;
            out.items
                .extend(list.items.into_iter().map(|a| dto(a, false)));
        }
        super::group::sort(&mut out.items);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(subject: &str, due: &str) -> NewActivityDto {
        NewActivityDto::Task {
            subject: subject.into(),
            due_date: due.into(),
            priority: String::new(),
            owner_id: String::new(),
        }
    }

    fn choice(v: &str) -> crate::activities::Pick {
        crate::activities::Pick {
            value: v.into(),
            label: v.into(),
        }
    }

    /// The form's check with the emulator's picklists.
    fn checked(input: NewActivityDto) -> Result<NewActivity, ActivityOutcome> {
        let choices = Choices {
            priorities: ["High", "Normal"].map(choice).to_vec(),
            call_types: ["Outbound", "Inbound"].map(choice).to_vec(),
            call_results: ["Interested"].map(choice).to_vec(),
        };
        new_activity(input, &choices)
    }

    fn field(outcome: Result<NewActivity, ActivityOutcome>) -> Option<String> {
        match outcome {
            Err(ActivityOutcome::Refused { field, .. }) => field,
            _ => None,
        }
    }

    #[test]
    fn each_form_refuses_what_zoho_would_and_names_the_field() {
        assert_eq!(field(checked(task("  ", ""))).as_deref(), Some("Subject"));
        assert_eq!(
            field(checked(task("Call", "tomorrow"))).as_deref(),
            Some("Due Date")
        );
        assert!(checked(task("Call", "2026-12-07")).is_ok());
        let meeting = |from: &str, to: &str| NewActivityDto::Meeting {
            title: "Review".into(),
            starts: from.into(),
            ends: to.into(),
            participants: vec![("lead".into(), "42".into())],
            send_invitations: true,
        };
        assert_eq!(
            field(checked(meeting(
                "2026-12-07T10:00:00+00:00",
                "2026-12-07T09:00:00+00:00"
            )))
            .as_deref(),
            Some("To")
        );
        // Offsets are compared as instants: 10:00+02:00 is 08:00 UTC, before 09:00 UTC.
        assert!(
            checked(meeting(
                "2026-12-07T10:00:00+02:00",
                "2026-12-07T09:00:00+00:00"
            ))
            .is_ok()
        );
        let call = |minutes: &str| NewActivityDto::Call {
            subject: "Intro".into(),
            call_type: "Outbound".into(),
            starts: "2026-12-06T09:00:00+00:00".into(),
            minutes: minutes.into(),
            result: String::new(),
        };
        assert_eq!(
            field(checked(call("ten"))).as_deref(),
            Some("Duration (minutes)")
        );
        // Zoho's instants: whole seconds and `±HH:mm`, never `Z`.
        match checked(NewActivityDto::Call {
            subject: "Intro".into(),
            call_type: "Outbound".into(),
            starts: "2026-12-06T09:00:00.250Z".into(),
            minutes: "5".into(),
            result: "Interested".into(),
        }) {
            Ok(NewActivity::Call { starts, .. }) => assert_eq!(starts, "2026-12-06T09:00:00+00:00"),
            other => panic!("{other:?}"),
        }
        // A value the org's picklist does not have is refused beside its field.
        let odd = NewActivityDto::Task {
            subject: "x".into(),
            due_date: String::new(),
            priority: "Urgent".into(),
            owner_id: String::new(),
        };
        assert_eq!(field(checked(odd)).as_deref(), Some("Priority"));
        match checked(call("75")) {
            Ok(NewActivity::Call { duration, .. }) => {
                assert_eq!(duration.as_deref(), Some("01:15"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn instants_are_shown_in_utc() {
        assert_eq!(
            in_utc(Some("2026-12-06T10:00:00+05:30".into())).as_deref(),
            Some("2026-12-06T04:30:00Z")
        );
        assert_eq!(minutes("01:15"), Some(75));
    }
}
