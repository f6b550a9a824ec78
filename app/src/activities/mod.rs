//! A rep's day: tasks, meetings and calls. On a record page, the [`section`] lists the record's
//! activities and adds new ones; [`mine`] is "My activities", with the count of what is due beside
//! its link. The DTOs and server functions here are the contract both halves compile; `ssr` is the
//! server's half.

mod forms;
pub mod group;
pub mod mine;
pub mod section;
#[cfg(feature = "ssr")]
pub(crate) mod ssr;

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::wire::Json;

/// What kind of activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Task,
    Meeting,
    Call,
}

impl Kind {
    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Task => "Task",
            Kind::Meeting => "Meeting",
            Kind::Call => "Call",
        }
    }

    /// Its Zoho module, where its own page is (`/m/Tasks/{id}`).
    pub fn module(self) -> &'static str {
        match self {
            Kind::Task => "Tasks",
            Kind::Meeting => "Events",
            Kind::Call => "Calls",
        }
    }
}

/// The record an activity is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentDto {
    pub module: String,
    pub id: String,
    pub name: String,
}

/// One activity, as the lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityDto {
    pub kind: Kind,
    pub id: String,
    pub title: String,
    /// A task's due date (`yyyy-MM-dd`, no zone).
    pub due_date: Option<String>,
    /// When a meeting or call starts (RFC 3339).
    pub starts: Option<String>,
    /// When a meeting ends.
    pub ends: Option<String>,
    pub status: Option<String>,
    pub owner: Option<String>,
    pub parent: Option<ParentDto>,
    /// Whether it is done: a completed task, a logged call, a past or cancelled meeting.
    pub closed: bool,
    pub cancelled: bool,
    /// "Complete task" applies.
    pub can_complete: bool,
    /// "Cancel meeting" applies: its participants were invited and it is still ahead.
    pub can_cancel: bool,
    pub call_type: Option<String>,
    pub call_result: Option<String>,
    pub duration_minutes: Option<u32>,
    /// Zoho's recurrence and reminder, shown as they are (never written here).
    pub recurrence: Option<String>,
    pub reminder: Option<String>,
    /// The token a press of "Complete task" or "Cancel meeting" carries: a double click is one
    /// change.
    pub action_token: String,
}

impl ActivityDto {
    /// Its own page.
    pub fn href(&self) -> String {
        format!("/m/{}/{}", self.kind.module(), self.id)
    }
}

/// A record's activities, open or closed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityList {
    pub items: Vec<ActivityDto>,
    /// Zoho holds more than the list shows.
    pub more: bool,
}

/// Someone who can own a task: the org's active, confirmed users, the signed-in user first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerChoice {
    pub id: String,
    pub name: String,
}

/// Who a new meeting on a record starts with: the lead, the contact, or the deal's contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantDto {
    /// `lead` or `contact`.
    pub kind: String,
    pub id: String,
    pub name: String,
}

/// What the forms of a record's section need: who may own a task, who a meeting starts with,
/// and a token for each form (one save per token, however often it is pressed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormsSetup {
    pub owners: Vec<OwnerChoice>,
    pub choices: Choices,
    pub participants: Vec<ParticipantDto>,
    pub tokens: [String; 3],
}

/// A new activity, as its form sends it. Times are RFC 3339 with an offset (the browser turns
/// its local time into one); dates `yyyy-MM-dd`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NewActivityDto {
    Task {
        subject: String,
        due_date: String,
        priority: String,
        owner_id: String,
    },
    Call {
        subject: String,
        call_type: String,
        starts: String,
        minutes: String,
        result: String,
    },
    Meeting {
        title: String,
        starts: String,
        ends: String,
        /// `(kind, id)`: `lead`/`contact` with a record id, `user` with a user id, or `email`.
        participants: Vec<(String, String)>,
        send_invitations: bool,
    },
}

/// What became of a write: done, or Zoho's refusal in words, naming the field's label when it
/// names one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityOutcome {
    /// Done; a new activity's answer carries the token for the next form of its kind.
    Done {
        id: String,
        next_token: Option<String>,
    },
    Refused {
        message: String,
        field: Option<String>,
    },
}

/// The signed-in user's open activities in the active account's org.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyActivities {
    pub items: Vec<ActivityDto>,
    /// A module held more than one read shows.
    pub more: bool,
}

/// A picklist value: what Zoho stores, and what people read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    pub value: String,
    pub label: String,
}

/// The picklists the forms offer, read from the org's field metadata (they are the org's own,
/// reference §9.1): task priorities, call types and call results.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choices {
    pub priorities: Vec<Pick>,
    pub call_types: Vec<Pick>,
    pub call_results: Vec<Pick>,
}

/// A record's open activities (`closed`: its closed ones), soonest first.
#[server(endpoint = "activities/record", input = GetUrl, output = Json)]
pub async fn record_activities(
    module: String,
    id: String,
    closed: bool,
) -> Result<ActivityList, AppError> {
    ssr::Activities::active()
        .await?
        .of_record(&module, &id, closed)
        .await
}

/// What the section's forms need.
#[server(endpoint = "activities/setup", input = GetUrl, output = Json)]
pub async fn activity_forms(module: String, id: String) -> Result<FormsSetup, AppError> {
    ssr::Activities::active().await?.setup(&module, &id).await
}

/// Adds an activity to the record, once per `token`.
#[server(endpoint = "activities/add", input = Json, output = Json)]
pub async fn add_activity(
    module: String,
    id: String,
    token: String,
    activity: NewActivityDto,
) -> Result<ActivityOutcome, AppError> {
    let a = ssr::Activities::active().await?;
    a.add(&module, &id, &token, activity).await
}

/// Marks a task completed, once per `token`.
#[server(endpoint = "activities/complete", input = Json, output = Json)]
pub async fn complete_task(task_id: String, token: String) -> Result<ActivityOutcome, AppError> {
    ssr::Activities::active()
        .await?
        .complete(&task_id, &token)
        .await
}

/// Cancels a meeting, once per `token`; Zoho mails the participants (they were invited).
#[server(endpoint = "activities/cancel", input = Json, output = Json)]
pub async fn cancel_meeting(
    meeting_id: String,
    token: String,
) -> Result<ActivityOutcome, AppError> {
    ssr::Activities::active()
        .await?
        .cancel(&meeting_id, &token)
        .await
}

/// The signed-in user's open activities.
#[server(endpoint = "activities/mine", input = GetUrl, output = Json)]
pub async fn open_activities() -> Result<MyActivities, AppError> {
    ssr::Activities::active().await?.mine().await
}
