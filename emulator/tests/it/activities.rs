//! Activities in the emulated CRM (reference §9.1), over real HTTP on 127.0.0.1: tasks, meetings
//! and calls tied to a record with `What_Id` + `$se_module` or `Who_Id`; the rules Zoho applies
//! when they are written; the activity related lists of a record; `Events/{id}/actions/cancel`;
//! the seeded ones; and the timeline and watch notification each write leaves.

use serde_json::{Value, json};

use crate::crm::{Crm, code};
use crate::support::*;
use crate::watch::{Receiver, watcher};

/// A new lead of the signed-in user's; its id.
async fn new_lead(crm: &Crm<'_>, name: &str) -> String {
    let (status, body) = crm
        .post(
            "Leads",
            json!({ "data": [{ "Last_Name": name, "Company": "Acme" }] }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    s(&body["data"][0]["details"]["id"]).to_owned()
}

/// Inserts one activity into `module`: the status and the item.
async fn insert(crm: &Crm<'_>, module: &str, record: Value) -> (u16, Value) {
    let (status, body) = crm.post(module, json!({ "data": [record] })).await;
    (status, body["data"][0].clone())
}

fn iso(secs: i64) -> String {
    emulator::crm::iso(secs)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Titles (or subjects) and `$module`s of a related list's items.
fn items(body: &Value) -> Vec<(String, String)> {
    body["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| {
            let title = a["Subject"]
                .as_str()
                .or(a["Event_Title"].as_str())
                .unwrap_or_default();
            (title.to_owned(), s(&a["$module"]).to_owned())
        })
        .collect()
}

const CHRONO: &str = "Activities_Chronological_View";
const FIELDS: &str = "Subject,Event_Title,Due_Date,Start_DateTime,Call_Start_Time,Status";

#[tokio::test]
async fn a_task_needs_its_parents_module_and_completing_it_sets_its_closed_time() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let lead = new_lead(&crm, "Activities Lead").await;

    let (status, item) = insert(
        &crm,
        "Tasks",
        json!({ "Subject": "No module", "What_Id": { "id": lead } }),
    )
    .await;
    assert_eq!(
        (status, code(&item)),
        (400, "MANDATORY_NOT_FOUND"),
        "{item}"
    );
    assert_eq!(s(&item["details"]["api_name"]), "$se_module");
    let (status, item) = insert(
        &crm,
        "Tasks",
        json!({ "Subject": "Wrong id", "What_Id": { "id": "1" }, "$se_module": "Leads" }),
    )
    .await;
    assert_eq!((status, code(&item)), (400, "INVALID_DATA"), "{item}");
    let (status, item) = insert(&crm, "Tasks", json!({ "Due_Date": "2026-12-06" })).await;
    assert_eq!(
        (status, s(&item["details"]["api_name"])),
        (400, "Subject"),
        "a subject is mandatory"
    );

    let (status, item) = insert(
        &crm,
        "Tasks",
        json!({ "Subject": "Follow up", "Due_Date": "2026-12-06", "What_Id": { "id": lead }, "$se_module": "Leads" }),
    )
    .await;
    assert_eq!(status, 201, "{item}");
    let task = s(&item["details"]["id"]).to_owned();
    let (_, got) = crm.get(&format!("Tasks/{task}")).await;
    let t = &got["data"][0];
    assert_eq!(s(&t["What_Id"]["name"]), "Activities Lead");
    assert_eq!(s(&t["$se_module"]), "Leads");
    assert!(t["Closed_Time"].is_null());

    let (status, _) = crm
        .put(
            &format!("Tasks/{task}"),
            json!({ "data": [{ "Status": "Completed" }] }),
        )
        .await;
    assert_eq!(status, 200);
    let (_, got) = crm.get(&format!("Tasks/{task}")).await;
    assert!(got["data"][0]["Closed_Time"].as_str().is_some(), "{got}");
    let (status, _) = crm
        .put(
            &format!("Tasks/{task}"),
            json!({ "data": [{ "Status": "In Progress" }] }),
        )
        .await;
    assert_eq!(status, 200);
    let (_, got) = crm.get(&format!("Tasks/{task}")).await;
    assert!(got["data"][0]["Closed_Time"].is_null(), "reopened: {got}");
}

#[tokio::test]
async fn a_completed_call_needs_its_duration_and_keeps_its_type() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let lead = new_lead(&crm, "Caller").await;
    let call = |start: i64, duration: Option<&str>, kind: &str| {
        let mut v = json!({
            "Subject": "Intro", "Call_Type": kind, "Call_Start_Time": iso(start),
            "What_Id": { "id": lead }, "$se_module": "Leads",
        });
        if let Some(d) = duration {
            v["Call_Duration"] = json!(d);
        }
        v
    };
    // Over, with no duration: refused.
    let (status, item) = insert(&crm, "Calls", call(now() - 3600, None, "Outbound")).await;
    assert_eq!(
        (status, code(&item)),
        (400, "MANDATORY_NOT_FOUND"),
        "{item}"
    );
    assert_eq!(s(&item["details"]["api_name"]), "Call_Duration");
    // Ahead: a scheduled call, open, no duration needed.
    let (status, item) = insert(&crm, "Calls", call(now() + 86_400, None, "Outbound")).await;
    assert_eq!(status, 201, "{item}");
    let scheduled = s(&item["details"]["id"]).to_owned();
    let (_, got) = crm.get(&format!("Calls/{scheduled}")).await;
    assert_eq!(s(&got["data"][0]["Outgoing_Call_Status"]), "Scheduled");
    // Logged, with a duration in hh:mm.
    let (status, item) = insert(&crm, "Calls", call(now() - 3600, Some("00:45"), "Inbound")).await;
    assert_eq!(status, 201, "{item}");
    let logged = s(&item["details"]["id"]).to_owned();
    let (_, got) = crm.get(&format!("Calls/{logged}")).await;
    assert_eq!(got["data"][0]["Call_Duration_in_seconds"], json!(2700));
    let (status, item) = insert(&crm, "Calls", call(now() - 3600, Some("45"), "Inbound")).await;
    assert_eq!((status, code(&item)), (400, "INVALID_DATA"), "{item}");
    // A scheduled call past its time is still open until it is logged, whatever else changes.
    emu.post("clock/advance", json!({ "seconds": 2 * 86_400 }))
        .await;
    // Two days on, the token has expired: a new one.
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let (status, body) = crm
        .put(
            &format!("Calls/{scheduled}"),
            json!({ "data": [{ "Subject": "Intro, moved" }] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, got) = crm.get(&format!("Calls/{scheduled}")).await;
    assert_eq!(
        s(&got["data"][0]["Outgoing_Call_Status"]),
        "Scheduled",
        "{got}"
    );
    // A call's type stays what it was made as.
    let (status, body) = crm
        .put(
            &format!("Calls/{logged}"),
            json!({ "data": [{ "Call_Type": "Outbound" }] }),
        )
        .await;
    assert_eq!(
        (status, code(&body["data"][0])),
        (400, "INVALID_DATA"),
        "{body}"
    );

    // The open call is in the record's open activities, the logged one in its closed ones.
    let (status, open) = crm
        .get(&format!("Leads/{lead}/{CHRONO}?fields={FIELDS}"))
        .await;
    assert_eq!(status, 200, "{open}");
    assert_eq!(
        items(&open),
        vec![("Intro, moved".to_owned(), "Calls".to_owned())]
    );
    assert_eq!(s(&open["data"][0]["id"]), scheduled);
    let (_, closed) = crm
        .get(&format!("Leads/{lead}/{CHRONO}_History?fields={FIELDS}"))
        .await;
    assert_eq!(s(&closed["data"][0]["id"]), logged);
    let (_, calls) = crm
        .get(&format!("Leads/{lead}/Calls_History?fields=Subject"))
        .await;
    assert_eq!(s(&calls["data"][0]["id"]), logged);
}

#[tokio::test]
async fn the_activity_lists_mix_the_three_modules_soonest_first() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let (status, meta) = crm.get("settings/related_lists?module=Leads").await;
    assert_eq!(status, 200);
    let lists = meta["related_lists"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let chrono = lists
        .iter()
        .find(|l| l["api_name"] == CHRONO)
        .expect("the chronological view is listed");
    assert_eq!(
        (
            chrono["type"].clone(),
            chrono["href"].clone(),
            chrono["module"].clone()
        ),
        (json!("grouped"), Value::Null, Value::Null)
    );
    for name in [
        "Tasks",
        "Events",
        "Calls",
        "Tasks_History",
        "Events_History",
        "Calls_History",
    ] {
        assert!(lists.iter().any(|l| l["api_name"] == name), "{name}");
    }
    let (_, products) = crm.get("settings/related_lists?module=Products").await;
    assert!(
        !products.to_string().contains(CHRONO),
        "only the four parents have them"
    );

    let lead = new_lead(&crm, "Busy Lead").await;
    let t = now();
    let link = json!({ "What_Id": { "id": lead }, "$se_module": "Leads" });
    let with = |mut v: Value| {
        if let (Some(o), Some(l)) = (v.as_object_mut(), link.as_object()) {
            o.extend(l.clone());
        }
        v
    };
    insert(
        &crm,
        "Tasks",
        with(json!({ "Subject": "Later task", "Due_Date": &iso(t + 5 * 86_400)[..10] })),
    )
    .await;
    insert(&crm, "Events", with(json!({ "Event_Title": "Soon meeting", "Start_DateTime": iso(t + 3600), "End_DateTime": iso(t + 7200) }))).await;
    insert(&crm, "Tasks", with(json!({ "Subject": "Undated task" }))).await;
    insert(&crm, "Events", with(json!({ "Event_Title": "Past meeting", "Start_DateTime": iso(t - 7200), "End_DateTime": iso(t - 3600) }))).await;

    let (status, open) = crm
        .get(&format!("Leads/{lead}/{CHRONO}?fields={FIELDS}"))
        .await;
    assert_eq!(status, 200, "{open}");
    assert_eq!(
        items(&open),
        vec![
            ("Soon meeting".into(), "Events".into()),
            ("Later task".into(), "Tasks".into()),
            ("Undated task".into(), "Tasks".into()),
        ]
    );
    let (_, closed) = crm
        .get(&format!("Leads/{lead}/{CHRONO}_History?fields={FIELDS}"))
        .await;
    assert_eq!(
        items(&closed),
        vec![("Past meeting".into(), "Events".into())]
    );
    let (_, tasks) = crm
        .get(&format!("Leads/{lead}/Tasks?fields=Subject,Due_Date"))
        .await;
    assert_eq!(tasks["data"].as_array().map(Vec::len), Some(2));

    let (status, body) = crm.get(&format!("Leads/{lead}/{CHRONO}")).await;
    assert_eq!(
        (status, code(&body)),
        (400, "REQUIRED_PARAM_MISSING"),
        "the view needs fields"
    );
    let (status, body) = crm
        .get(&format!("Leads/{lead}/{CHRONO}?fields=Bogus"))
        .await;
    assert_eq!((status, code(&body)), (400, "INVALID_DATA"));
    let (_, product) = crm
        .post(
            "Products",
            json!({ "data": [{ "Product_Name": "Widget" }] }),
        )
        .await;
    let product = s(&product["data"][0]["details"]["id"]).to_owned();
    let (status, body) = crm
        .get(&format!("Products/{product}/{CHRONO}?fields=Subject"))
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "INVALID_DATA"),
        "no activity lists on Products: {body}"
    );
    assert_eq!(body["details"]["resource_path_index"], json!(2));
    let (status, body) = crm.get("Activities/search?word=x").await;
    assert_eq!((status, code(&body)), (400, "NOT_SUPPORTED"), "{body}");
    let empty = new_lead(&crm, "Idle Lead").await;
    let (status, _) = crm
        .get(&format!("Leads/{empty}/{CHRONO}?fields={FIELDS}"))
        .await;
    assert_eq!(status, 204, "nothing to list");
}

#[tokio::test]
async fn a_meeting_is_cancelled_only_when_its_participants_were_invited() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let lead = new_lead(&crm, "Meeting Lead").await;
    let t = now();
    let meeting = |invite: bool| {
        json!({
            "Event_Title": "Demo", "Start_DateTime": iso(t + 3600), "End_DateTime": iso(t + 7200),
            "What_Id": { "id": lead }, "$se_module": "Leads",
            "Participants": [{ "type": "lead", "participant": lead }],
            "$send_notification": invite,
        })
    };
    let (status, item) = insert(&crm, "Events", json!({ "Event_Title": "Backwards", "Start_DateTime": iso(t + 7200), "End_DateTime": iso(t + 3600) })).await;
    assert_eq!((status, code(&item)), (400, "INVALID_DATA"), "{item}");
    assert_eq!(s(&item["details"]["api_name"]), "End_DateTime");
    let (status, item) = insert(&crm, "Events", json!({ "Event_Title": "Nobody", "Start_DateTime": iso(t), "End_DateTime": iso(t + 60), "Participants": [{ "type": "lead", "participant": "1" }] })).await;
    assert_eq!(
        (status, code(&item)),
        (400, "INVALID_DATA"),
        "an unknown participant: {item}"
    );

    let (_, item) = insert(&crm, "Events", meeting(false)).await;
    let quiet = s(&item["details"]["id"]).to_owned();
    let (_, got) = crm.get(&format!("Events/{quiet}")).await;
    let p = &got["data"][0]["Participants"][0];
    assert_eq!(
        (s(&p["name"]), p["invited"].clone()),
        ("Meeting Lead", json!(false)),
        "{got}"
    );
    let cancel = json!({ "data": [{ "send_cancelling_mail": true }] });
    let (status, body) = crm
        .post(&format!("Events/{quiet}/actions/cancel"), cancel.clone())
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body["data"][0]), "NOT_ALLOWED");
    assert_eq!(
        s(&body["data"][0]["details"]["reason"]),
        "no_participants_invited"
    );

    let (_, item) = insert(&crm, "Events", meeting(true)).await;
    let invited = s(&item["details"]["id"]).to_owned();
    let (status, body) = crm
        .post(
            &format!("Events/{invited}/actions/cancel"),
            json!({ "data": [{}] }),
        )
        .await;
    assert_eq!(
        (status, code(&body["data"][0])),
        (400, "MANDATORY_NOT_FOUND"),
        "{body}"
    );
    // `Meetings` is `Events`.
    let (status, body) = crm
        .post(
            &format!("Meetings/{invited}/actions/cancel"),
            cancel.clone(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        s(&body["data"][0]["message"]),
        "The event is successfully cancelled"
    );
    let (_, got) = crm.get(&format!("Events/{invited}")).await;
    assert_eq!(got["data"][0]["$event_cancelled"], json!(true));
    let (_, closed) = crm
        .get(&format!("Leads/{lead}/Events_History?fields=Event_Title"))
        .await;
    assert!(
        closed.to_string().contains(&invited),
        "a cancelled meeting is closed: {closed}"
    );
    let (status, body) = crm
        .post(&format!("Events/{invited}/actions/cancel"), cancel.clone())
        .await;
    assert_eq!(
        (status, code(&body["data"][0])),
        (400, "NOT_ALLOWED"),
        "twice: {body}"
    );
    assert_eq!(
        s(&body["data"][0]["details"]["reason"]),
        "already_cancelled"
    );
    let (status, _) = crm
        .post(&format!("Tasks/{invited}/actions/cancel"), cancel)
        .await;
    assert_eq!(status, 404, "only meetings are cancelled");
}

#[tokio::test]
async fn every_activity_write_lands_in_its_records_timeline_and_is_notified() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let lead = new_lead(&crm, "Watched Lead").await;
    let (_, item) = insert(
        &crm,
        "Tasks",
        json!({ "Subject": "Send quote", "What_Id": { "id": lead }, "$se_module": "Leads" }),
    )
    .await;
    let task = s(&item["details"]["id"]).to_owned();
    crm.put(
        &format!("Tasks/{task}"),
        json!({ "data": [{ "Status": "Completed" }] }),
    )
    .await;
    let (status, timeline) = crm.get(&format!("Leads/{lead}/__timeline")).await;
    assert_eq!(status, 200);
    let about_task: Vec<String> = timeline["__timeline"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|e| e["record"]["module"]["api_name"] == "Tasks")
        .map(|e| s(&e["action"]).to_owned())
        .collect();
    assert_eq!(
        about_task,
        vec!["updated".to_owned(), "added".to_owned()],
        "{timeline}"
    );

    // With a channel on Tasks, the write is delivered.
    let receiver = Receiver::start().await;
    let ada = watcher(&emu, "ada@us.zportal.test").await;
    let channel = json!({ "watch": [{ "channel_id": 7, "events": ["Tasks.all"], "notify_url": receiver.url, "token": "t" }] });
    let (status, body) = ada.post("actions/watch", channel).await;
    assert_eq!(status, 201, "{body}");
    let (_, item) = insert(
        &crm,
        "Tasks",
        json!({ "Subject": "Another", "What_Id": { "id": lead }, "$se_module": "Leads" }),
    )
    .await;
    let got = receiver.first(1).await;
    assert_eq!(
        (s(&got[0]["module"]), s(&got[0]["operation"])),
        ("Tasks", "insert")
    );
    assert_eq!(got[0]["ids"], json!([s(&item["details"]["id"])]));
}

#[tokio::test]
async fn ada_and_ben_start_with_activities_overdue_today_and_ahead() {
    let emu = Emu::start().await;
    for email in ["ada@us.zportal.test", "ben@us.zportal.test"] {
        let crm = Crm::signed_in(&emu, email, "us").await;
        let (_, me) = crm.get("users?type=CurrentUser").await;
        let me = s(&me["users"][0]["id"]).to_owned();
        let (status, tasks) = crm
            .get(&format!(
                "Tasks/search?criteria=((Owner:equals:{me})and(Status:not_equal:Completed))&fields=Subject,Due_Date"
            ))
            .await;
        assert_eq!(status, 200, "{email}: {tasks}");
        let today = emulator::crm::iso(now())[..10].to_owned();
        let due: Vec<String> = tasks["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|t| s(&t["Due_Date"]).to_owned())
            .collect();
        assert!(
            due.iter().any(|d| !d.is_empty() && *d < today),
            "{email} has an overdue task: {due:?}"
        );
        assert!(due.contains(&today), "{email} has one due today: {due:?}");
        assert!(
            due.iter().any(|d| *d > today),
            "{email} has one ahead: {due:?}"
        );
        assert!(
            due.iter().any(String::is_empty),
            "{email} has one without a date: {due:?}"
        );
        let (status, meetings) = crm
            .get(&format!(
                "Events/search?criteria=(Owner:equals:{me})&fields=Event_Title"
            ))
            .await;
        assert_eq!(status, 200, "{meetings}");
    }
}
