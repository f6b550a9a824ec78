//! The activities server functions over HTTP on 127.0.0.1, through zportal's real router to the
//! real emulator, on both stores: a record's activities, the forms' setup, adding a task, a call
//! and a meeting once per press however often it arrives, completing and cancelling, and each
//! refusal in words beside its field; "My activities" for the task's owner.

use serde_json::{Value, json};
use testkit::server::*;

use crate::budget::new_lead;

async fn post(browser: &Browser, base: &str, path: &str, body: Value) -> (u16, Value) {
    let res = browser
        .http
        .post(format!("{base}/api/activities/{path}"))
        .header("sec-fetch-site", "same-origin")
        .json(&body)
        .send()
        .await
        .expect("POST");
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn get(browser: &Browser, url: &str) -> Value {
    let res = browser.get(url).await;
    assert_eq!(res.status(), 200, "{url}");
    res.json().await.expect("json")
}

/// A Lead made through zportal's form; its id.
async fn lead(browser: &Browser, base: &str, name: &str) -> String {
    let body = new_lead(&browser.http, base, name).await;
    let saved = save_record(&browser.http, base, &body).await;
    saved["Saved"]["id"].as_str().expect("id").to_owned()
}

async fn setup(browser: &Browser, base: &str, module: &str, id: &str) -> Value {
    get(
        browser,
        &format!("{base}/api/activities/setup?module={module}&id={id}"),
    )
    .await
}

async fn activities(browser: &Browser, base: &str, id: &str, closed: bool) -> Vec<Value> {
    let list = get(
        browser,
        &format!("{base}/api/activities/record?module=Leads&id={id}&closed={closed}"),
    )
    .await;
    list["items"].as_array().cloned().unwrap_or_default()
}

/// The emulator's count of `method` calls on `module`'s paths.
async fn calls(stack: &Stack, module: &str, method: &str) -> u64 {
    stack.control_get("stats").await["by_module"][module][method]
        .as_u64()
        .unwrap_or(0)
}

/// The emulator's count of inserts into `module`.
async fn inserts(stack: &Stack, module: &str) -> u64 {
    calls(stack, module, "POST").await
}

/// Today (UTC), as a task's due date.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // Civil date from days since 1970 (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[test]
fn a_task_is_added_once_per_press_completed_and_refused_in_words() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        let id = lead(&browser, &stack.base, "Task Lead").await;
        let set = setup(&browser, &stack.base, "Leads", &id).await;
        let owners = set["owners"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            owners[0]["name"], "Ada Lovelace",
            "the signed-in user first: {set}"
        );
        assert!(owners.iter().any(|o| o["name"] == "Ben Okafor"), "{set}");
        assert_eq!(set["participants"][0]["kind"], "lead");
        let token = set["tokens"][0].as_str().expect("token").to_owned();

        // No subject: refused beside "Subject", nothing sent to Zoho.
        let before = inserts(&stack, "Tasks").await;
        let task = |subject: &str| {
            json!({ "module": "Leads", "id": id, "token": token, "activity": { "Task": {
                "subject": subject, "due_date": today(), "priority": "High", "owner_id": "" } } })
        };
        let (status, out) = post(&browser, &stack.base, "add", task("  ")).await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["Refused"]["field"], "Subject", "{out}");
        assert_eq!(inserts(&stack, "Tasks").await, before);

        // Pressed three times at once: one task.
        let presses = (0..3).map(|_| post(&browser, &stack.base, "add", task("Call back")));
        let answers = futures::future::join_all(presses).await;
        let made: Vec<&str> = answers
            .iter()
            .map(|(status, out)| {
                assert_eq!(*status, 200, "{out}");
                out["Done"]["id"].as_str().expect("done")
            })
            .collect();
        assert!(made.windows(2).all(|w| w[0] == w[1]), "{made:?}");
        assert_eq!(inserts(&stack, "Tasks").await, before + 1);

        let open = activities(&browser, &stack.base, &id, false).await;
        assert_eq!(open.len(), 1, "{open:?}");
        assert_eq!(
            (open[0]["kind"].clone(), open[0]["title"].clone()),
            (json!("Task"), json!("Call back"))
        );
        assert_eq!(open[0]["due_date"], json!(today()));
        assert_eq!(open[0]["can_complete"], true);

        let done = json!({ "task_id": made[0], "token": open[0]["action_token"] });
        let (status, out) = post(&browser, &stack.base, "complete", done.clone()).await;
        assert_eq!(
            (status, out["Done"]["id"].clone()),
            (200, json!(made[0])),
            "{out}"
        );
        let puts = calls(&stack, "Tasks", "PUT").await;
        let (status, out) = post(&browser, &stack.base, "complete", done).await;
        assert_eq!(status, 200, "a second press is the same change: {out}");
        assert_eq!(
            calls(&stack, "Tasks", "PUT").await,
            puts,
            "and asks Zoho nothing"
        );
        assert!(
            activities(&browser, &stack.base, &id, false)
                .await
                .is_empty()
        );
        let closed = activities(&browser, &stack.base, &id, true).await;
        assert_eq!(closed[0]["closed"], true, "{closed:?}");
        assert_eq!(closed[0]["can_complete"], false);

        // A stale or forged token is refused before anything is sent.
        let (status, _) = post(
            &browser,
            &stack.base,
            "add",
            json!({ "module": "Leads", "id": id, "token": "nope", "activity": { "Task": {
                "subject": "x", "due_date": "", "priority": "", "owner_id": "" } } }),
        )
        .await;
        assert_eq!(status, 400);
        // Activities hang off the four modules that have them, and nothing else.
        let (status, _) = post(
            &browser,
            &stack.base,
            "add",
            json!({ "module": "Products", "id": id, "token": set["tokens"][1], "activity": { "Task": {
                "subject": "x", "due_date": "", "priority": "", "owner_id": "" } } }),
        )
        .await;
        assert_eq!(status, 400);
    });
}

#[test]
fn a_logged_call_is_closed_and_a_meeting_ends_after_it_starts() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        let id = lead(&browser, &stack.base, "Call Lead").await;
        let set = setup(&browser, &stack.base, "Leads", &id).await;
        let call = json!({ "module": "Leads", "id": id, "token": set["tokens"][1], "activity": { "Call": {
            "subject": "Intro call", "call_type": "Inbound", "starts": "2026-01-05T10:00:00+01:00",
            "minutes": "25", "result": "Interested" } } });
        let (status, out) = post(&browser, &stack.base, "add", call).await;
        assert_eq!(status, 200, "{out}");
        let call_id = out["Done"]["id"].as_str().expect("done").to_owned();
        let closed = activities(&browser, &stack.base, &id, true).await;
        let logged = closed
            .iter()
            .find(|a| a["id"] == json!(call_id))
            .expect("logged call is closed");
        assert_eq!(logged["duration_minutes"], 25);
        assert_eq!(logged["starts"], "2026-01-05T09:00:00Z", "shown in UTC");

        let meeting = |from: &str, to: &str, invite: bool, token: &Value| {
            json!({ "module": "Leads", "id": id, "token": token, "activity": { "Meeting": {
                "title": "Demo", "starts": from, "ends": to,
                "participants": [["lead", id]], "send_invitations": invite } } })
        };
        let (status, out) = post(
            &browser,
            &stack.base,
            "add",
            meeting(
                "2030-01-05T10:00:00+00:00",
                "2030-01-05T09:00:00+00:00",
                true,
                &set["tokens"][2],
            ),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(out["Refused"]["field"], "To", "{out}");

        // A meeting nobody was invited to cannot be cancelled; Zoho's refusal is in words.
        let (_, out) = post(
            &browser,
            &stack.base,
            "add",
            meeting(
                "2030-01-05T10:00:00+00:00",
                "2030-01-05T11:00:00+00:00",
                false,
                &set["tokens"][2],
            ),
        )
        .await;
        let quiet = out["Done"]["id"].as_str().expect("booked").to_owned();
        let open = activities(&browser, &stack.base, &id, false).await;
        let item = open
            .iter()
            .find(|a| a["id"] == json!(quiet))
            .expect("open meeting");
        assert_eq!(item["can_cancel"], false);
        let (status, out) = post(
            &browser,
            &stack.base,
            "cancel",
            json!({ "meeting_id": quiet, "token": item["action_token"] }),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        let words = out["Refused"]["message"].as_str().expect("refused");
        assert!(words.contains("invited"), "{words}");

        // With invitations: cancelled, and closed.
        let fresh = setup(&browser, &stack.base, "Leads", &id).await;
        let (_, out) = post(
            &browser,
            &stack.base,
            "add",
            meeting(
                "2030-02-05T10:00:00+00:00",
                "2030-02-05T11:00:00+00:00",
                true,
                &fresh["tokens"][2],
            ),
        )
        .await;
        let invited = out["Done"]["id"].as_str().expect("booked").to_owned();
        let open = activities(&browser, &stack.base, &id, false).await;
        let item = open
            .iter()
            .find(|a| a["id"] == json!(invited))
            .expect("open meeting");
        assert_eq!(item["can_cancel"], true);
        // Pressed twice at once: one cancellation, and both presses hear it was done.
        let posts = calls(&stack, "Events", "POST").await;
        let press = json!({ "meeting_id": invited, "token": item["action_token"] });
        let answers = futures::future::join_all(
            (0..2).map(|_| post(&browser, &stack.base, "cancel", press.clone())),
        )
        .await;
        for (status, out) in &answers {
            assert_eq!(
                (*status, out["Done"]["id"].clone()),
                (200, json!(invited)),
                "{out}"
            );
        }
        assert_eq!(calls(&stack, "Events", "POST").await, posts + 1);
        let closed = activities(&browser, &stack.base, &id, true).await;
        let gone = closed
            .iter()
            .find(|a| a["id"] == json!(invited))
            .expect("closed");
        assert_eq!(gone["cancelled"], true);
    });
}

#[test]
fn a_task_given_to_ben_is_in_his_activities_and_not_in_adas() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let ada = Browser::new();
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        let ben = Browser::new();
        ben.sign_in(&stack, "ben@us.zportal.test").await;
        let mine = format!("{}/api/activities/mine", stack.base);
        let bens_before = get(&ben, &mine).await["items"]
            .as_array()
            .map_or(0, Vec::len);
        assert!(bens_before > 0, "ben starts with the seeded ones");

        let id = lead(&ada, &stack.base, "Handover Lead").await;
        let set = setup(&ada, &stack.base, "Leads", &id).await;
        let ben_id = set["owners"]
            .as_array()
            .and_then(|o| o.iter().find(|o| o["name"] == "Ben Okafor"))
            .and_then(|o| o["id"].as_str())
            .expect("ben is an owner")
            .to_owned();
        let (_, out) = post(
            &ada,
            &stack.base,
            "add",
            json!({ "module": "Leads", "id": id, "token": set["tokens"][0], "activity": { "Task": {
                "subject": "Ben's follow-up", "due_date": today(), "priority": "", "owner_id": ben_id } } }),
        )
        .await;
        assert!(out["Done"]["id"].is_string(), "{out}");
        let bens = get(&ben, &mine).await;
        let titles: Vec<&str> = bens["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|a| a["title"].as_str())
            .collect();
        assert!(titles.contains(&"Ben's follow-up"), "{titles:?}");
        let task = bens["items"]
            .as_array()
            .and_then(|i| i.iter().find(|a| a["title"] == "Ben's follow-up"))
            .expect("task");
        assert_eq!(task["parent"]["name"], "Handover Lead");
        assert_eq!(task["parent"]["module"], "Leads");
        let adas = get(&ada, &mine).await;
        assert!(!adas.to_string().contains("Ben's follow-up"));
        // Every kind of ada's seeded open activities is there.
        let kinds: Vec<&str> = adas["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|a| a["kind"].as_str())
            .collect();
        for kind in ["Task", "Meeting", "Call"] {
            assert!(kinds.contains(&kind), "{kind}: {kinds:?}");
        }
        // Nobody signed in: no activities.
        let res = Browser::new().get(&mine).await;
        assert_eq!(res.status(), 401);
    });
}
