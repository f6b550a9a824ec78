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
    ActivityDto, ActivityList, ActivityOutcome, CALL_RESULTS, CALL_TYPES, FormsSetup, Kind,
    MyActivities, NewActivityDto, OwnerChoice, PRIORITIES, ParentDto, ParticipantDto,
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
    let message = match e.code.as_str() {
        "NOT_ALLOWED" => "Only a meeting whose participants were invited, and that has not \
                          ended, can be cancelled."
            .to_owned(),
        _ => format!("Zoho did not take it: {}", e.message),
    };
    ActivityOutcome::Refused {
        message,
        field: e.field.as_deref().and_then(label_of).map(str::to_owned),
    }
}

/// An instant with an offset, as a Unix time.
fn instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

/// An instant in UTC (`…Z`), so the page's days are the same whatever zone Zoho answered in.
fn in_utc(s: Option<String>) -> Option<String> {
    let s = s?;
    instant(&s)
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok())
        .or(Some(s))
}

/// A date, `yyyy-MM-dd`.
fn is_date(s: &str) -> bool {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).is_ok()
}

/// A press token: what the ledger keys a press by.
fn check_token(token: &str) -> Result<(), AppError> {
    if token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(AppError::BadRequest(
            "The form is out of date; reload it.".into(),
        ))
    }
}

fn is_id(id: &str) -> bool {
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
        duration_minutes: a.call_duration.as_deref().and_then(minutes),
        recurrence: a.recurrence,
        reminder: a.reminder,
        action_token: zoho::random_hex(16),
        id: a.id,
    }
}

/// The form's input, checked: what goes to Zoho, or what the person must fix.
fn new_activity(input: NewActivityDto) -> Result<NewActivity, ActivityOutcome> {
    let text = |s: String| s.trim().to_owned();
    let when = |s: &str, label: &str| {
        instant(s)
            .and_then(|t| t.format(&Rfc3339).ok())
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
                .is_some_and(|p| !PRIORITIES.contains(&p))
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
            if !CALL_TYPES.contains(&call_type.as_str()) {
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
                .is_some_and(|r| !CALL_RESULTS.contains(&r))
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
            let known = ["lead", "contact", "user", "email"];
            let ok = participants.len() <= 50
                && participants.iter().all(|(kind, who)| {
                    known.contains(&kind.as_str())
                        && if kind == "email" {
                            who.contains('@') && who.len() <= 255
                        } else {
                            is_id(who)
                        }
                });
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
        Ok(ActivityList {
            items: list.items.into_iter().map(|a| dto(a, closed)).collect(),
            more: list.more,
        })
    }

    /// The task owners (the signed-in user first), the meeting's first participants, and a
    /// token for each form.
    pub async fn setup(&self, module: &str, id: &str) -> Result<FormsSetup, AppError> {
        let m = Self::parent_module(module)?;
        let crm = &self.zoho.crm;
        let (users, me, record) = futures::join!(
            crm.owners(&self.conn),
            crm.me(&self.conn),
            crm.record(&self.conn, &m, id)
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
        let activity = match new_activity(input) {
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
            Ok(id) => ActivityOutcome::Done { id },
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
            Ok(id) => ActivityOutcome::Done { id },
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
            Ok(id) => ActivityOutcome::Done { id },
            Err(e) => zoho_refused(&e),
        })
    }

    /// The signed-in user's open activities: one read per module, at once.
    pub async fn mine(&self) -> Result<MyActivities, AppError> {
        let crm = &self.zoho.crm;
        let Some(me) = crm.me(&self.conn).await? else {
            return Ok(MyActivities::default());
        };
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
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

    fn field(outcome: Result<NewActivity, ActivityOutcome>) -> Option<String> {
        match outcome {
            Err(ActivityOutcome::Refused { field, .. }) => field,
            _ => None,
        }
    }

    #[test]
    fn each_form_refuses_what_zoho_would_and_names_the_field() {
        assert_eq!(
            field(new_activity(task("  ", ""))).as_deref(),
            Some("Subject")
        );
        assert_eq!(
            field(new_activity(task("Call", "tomorrow"))).as_deref(),
            Some("Due Date")
        );
        assert!(new_activity(task("Call", "2026-12-07")).is_ok());
        let meeting = |from: &str, to: &str| NewActivityDto::Meeting {
            title: "Review".into(),
            starts: from.into(),
            ends: to.into(),
            participants: vec![("lead".into(), "42".into())],
            send_invitations: true,
        };
        assert_eq!(
            field(new_activity(meeting(
                "2026-12-07T10:00:00+00:00",
                "2026-12-07T09:00:00+00:00"
            )))
            .as_deref(),
            Some("To")
        );
        // Offsets are compared as instants: 10:00+02:00 is 08:00 UTC, before 09:00 UTC.
        assert!(
            new_activity(meeting(
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
            field(new_activity(call("ten"))).as_deref(),
            Some("Duration (minutes)")
        );
        match new_activity(call("75")) {
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
