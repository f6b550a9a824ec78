//! Zoho's notifications over real HTTP on 127.0.0.1: a channel registered through
//! `actions/watch` is sent a notification for every create, edit and delete of the records it
//! watches, by any client of the org; renewal, listing, removal, expiry and bad channels as Zoho
//! answers them; every delivery in the control API's log.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::crm::Crm;
use crate::support::*;

/// A `notify_url` on this machine that keeps what it is sent.
pub(crate) struct Receiver {
    pub(crate) url: String,
    got: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    pub(crate) async fn start() -> Receiver {
        let got: Arc<Mutex<Vec<Value>>> = Arc::default();
        let keep = got.clone();
        let app = axum::Router::new().route(
            "/zoho/notify",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let keep = keep.clone();
                async move {
                    keep.lock().expect("lock").push(body);
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "http://{}/zoho/notify?org=70001",
            listener.local_addr().expect("addr")
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, got }
    }

    /// The first `n` notifications, waiting up to five seconds for them.
    pub(crate) async fn first(&self, n: usize) -> Vec<Value> {
        for _ in 0..250 {
            let got = self.got.lock().expect("lock").clone();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "expected {n} notifications, got {:?}",
            self.got.lock().expect("lock")
        );
    }

    fn count(&self) -> usize {
        self.got.lock().expect("lock").len()
    }
}

pub(crate) async fn watcher<'a>(emu: &'a Emu, email: &str) -> Crm<'a> {
    let t = emu
        .tokens_with_scope(email, "ZohoCRM.modules.ALL,ZohoCRM.notifications.ALL")
        .await;
    Crm {
        emu,
        dc: "us",
        token: s(&t["access_token"]).to_owned(),
    }
}

fn channel(id: u64, url: &str, extra: Value) -> Value {
    let mut c = json!({"channel_id": id, "events": ["Leads.all"], "notify_url": url, "token": "a-secret-of-ours"});
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(extra.clone());
    }
    json!({ "watch": [c] })
}

#[tokio::test]
async fn every_create_edit_and_delete_by_any_client_reaches_the_channel() {
    let emu = Emu::start().await;
    let receiver = Receiver::start().await;
    let ada = watcher(&emu, "ada@us.zportal.test").await;
    let (status, body) = ada
        .post("actions/watch", channel(1001, &receiver.url, json!({})))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["watch"][0]["status"], "success");
    assert_eq!(body["watch"][0]["details"]["events"][0]["channel_id"], 1001);

    // Ben, another user of the org with another token, writes: the channel hears of it.
    let ben = Crm::signed_in(&emu, "ben@us.zportal.test", "us").await;
    let (status, created) = ben
        .post(
            "Leads",
            json!({"data": [{"Last_Name": "Watched", "Company": "Acme"}]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = s(&created["data"][0]["details"]["id"]).to_owned();
    let (status, _) = ben
        .put(
            &format!("Leads/{id}"),
            json!({"data": [{"Company": "Acme 2"}]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = ben.delete(&format!("Leads?ids={id}")).await;
    assert_eq!(status, 200);

    let got = receiver.first(3).await;
    let ops: Vec<&str> = got.iter().map(|n| s(&n["operation"])).collect();
    assert_eq!(ops, ["insert", "update", "delete"]);
    for n in &got {
        assert_eq!(n["ids"], json!([id]));
        assert_eq!(n["module"], "Leads");
        assert_eq!(n["channel_id"], 1001);
        assert_eq!(n["token"], "a-secret-of-ours");
        assert_eq!(n["query_params"]["org"], "70001");
        assert!(n["server_time"].as_i64().is_some_and(|t| t > 0));
        assert!(
            s(&n["resource_uri"]).ends_with("/us/api/crm/v8/Leads"),
            "{n}"
        );
    }
    assert_eq!(
        got[1]["affected_fields"],
        json!([{ id.as_str(): ["Company"] }])
    );

    // Another org's writes are not this channel's; nor are Contacts.
    let eva = Crm::signed_in(&emu, "eva@eu.zportal.test", "eu").await;
    eva.post("Leads", json!({"data": [{"Last_Name": "Elsewhere"}]}))
        .await;
    ben.post("Contacts", json!({"data": [{"Last_Name": "Not watched"}]}))
        .await;

    // The log says what was sent, and that the receiver took it.
    let log = emu.get("notifications").await;
    let log = log["notifications"].as_array().cloned().unwrap_or_default();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(
        log.iter()
            .all(|l| l["status"] == 204 && l["channel_id"] == 1001)
    );
    assert_eq!(log[0]["url"], receiver.url.as_str());
    assert_eq!(log[0]["operation"], "insert");
    assert_eq!(log[0]["ids"], json!([id]));
    let since = log[0]["seq"].as_u64().expect("seq");
    let later = emu.get(&format!("notifications?since={since}")).await;
    assert_eq!(later["notifications"].as_array().map(Vec::len), Some(2));
    assert_eq!(receiver.count(), 3);
}

#[tokio::test]
async fn channels_are_listed_renewed_removed_and_lapse() {
    let emu = Emu::start().await;
    let receiver = Receiver::start().await;
    let ada = watcher(&emu, "ada@us.zportal.test").await;
    let (status, _) = ada.get("actions/watch").await;
    assert_eq!(status, 204, "no channel yet");

    let in_a_day = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let expiry = in_a_day
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let (status, _) = ada
        .post(
            "actions/watch",
            channel(7, &receiver.url, json!({"channel_expiry": expiry})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, listed) = ada.get("actions/watch").await;
    assert_eq!(status, 200);
    assert_eq!(listed["watch"][0]["channel_id"], 7);
    assert_eq!(listed["watch"][0]["events"], json!(["Leads.all"]));

    // Renewed for a week and a day: more than Zoho allows, so an hour.
    let too_long = (time::OffsetDateTime::now_utc() + time::Duration::days(8))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let (status, body) = ada
        .send(
            reqwest::Method::PATCH,
            "actions/watch",
            Some(json!({"watch": [{"channel_id": 7, "channel_expiry": too_long}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, unknown) = ada
        .put("actions/watch", json!({"watch": [{"channel_id": 8}]}))
        .await;
    assert_eq!(
        unknown["watch"][0]["code"], "INVALID_DATA",
        "renewing no channel"
    );

    // An hour and a bit later the channel has lapsed: a write is sent nowhere.
    emu.post("clock/advance", json!({"seconds": 3700})).await;
    let ada = watcher(&emu, "ada@us.zportal.test").await;
    ada.post("Leads", json!({"data": [{"Last_Name": "Too late"}]}))
        .await;
    let (status, _) = ada.get("actions/watch").await;
    assert_eq!(status, 204, "lapsed");

    // Registered again, then removed: nothing more arrives.
    ada.post("actions/watch", channel(9, &receiver.url, json!({})))
        .await;
    let (status, removed) = ada.delete("actions/watch?channel_ids=9,10").await;
    assert_eq!(status, 207, "{removed}");
    assert_eq!(removed["watch"][0]["status"], "success");
    assert_eq!(removed["watch"][1]["code"], "INVALID_DATA");
    ada.post("Leads", json!({"data": [{"Last_Name": "After removal"}]}))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.count(), 0);
}

#[tokio::test]
async fn a_bad_channel_is_refused_as_zoho_refuses_it() {
    let emu = Emu::start().await;
    let ada = watcher(&emu, "ada@us.zportal.test").await;
    let url = "http://127.0.0.1:9/zoho/notify";
    let cases = [
        (json!({"token": "x".repeat(51)}), "INVALID_DATA", "token"),
        (json!({"events": ["Nowhere.all"]}), "INVALID_DATA", "events"),
        (
            json!({"events": ["Leads.explode"]}),
            "INVALID_DATA",
            "events",
        ),
        (
            json!({"notify_url": "ftp://x"}),
            "INVALID_DATA",
            "notify_url",
        ),
        (
            json!({"channel_expiry": "2020-01-01T00:00:00+00:00"}),
            "INVALID_DATA",
            "channel_expiry",
        ),
    ];
    for (extra, code, field) in cases {
        let (status, body) = ada.post("actions/watch", channel(1, url, extra)).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["watch"][0]["code"], code, "{body}");
        assert_eq!(body["watch"][0]["details"]["api_name"], field, "{body}");
    }
    let (status, body) = ada
        .post(
            "actions/watch",
            json!({"watch": [{"channel_id": 1, "events": ["Leads.all"]}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["watch"][0]["code"], "MANDATORY_NOT_FOUND");

    // A token without the notifications scope may not watch.
    let plain = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let (status, body) = plain
        .post("actions/watch", channel(2, url, json!({})))
        .await;
    assert_eq!((status, s(&body["code"])), (401, "OAUTH_SCOPE_MISMATCH"));

    // A notify_url off this machine is taken, but nothing is sent there: logged with status 0.
    ada.post(
        "actions/watch",
        channel(3, "https://zportal.example.com/zoho/notify", json!({})),
    )
    .await;
    ada.post("Leads", json!({"data": [{"Last_Name": "Undeliverable"}]}))
        .await;
    let mut status = Value::Null;
    for _ in 0..100 {
        status = emu.get("notifications").await["notifications"][0]["status"].clone();
        if !status.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, 0);
}

#[tokio::test]
async fn a_channel_watching_notes_hears_of_each_note_by_its_own_id() {
    let emu = Emu::start().await;
    let receiver = Receiver::start().await;
    let ada = watcher(&emu, "ada@us.zportal.test").await;
    let watch = json!({ "watch": [{"channel_id": 1003, "events": ["Notes.all"],
        "notify_url": receiver.url, "token": "notes-token"}] });
    let (status, body) = ada.post("actions/watch", watch).await;
    assert_eq!(status, 201, "{body}");
    let (status, leads) = ada.get("Leads?fields=Last_Name&per_page=1").await;
    assert_eq!(status, 200, "{leads}");
    let lead = s(&leads["data"][0]["id"]).to_owned();
    let (status, created) = ada
        .post(
            &format!("Leads/{lead}/Notes"),
            json!({"data": [{"Note_Content": "Watched note"}]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let note = s(&created["data"][0]["details"]["id"]).to_owned();
    let got = receiver.first(1).await;
    assert_eq!(got[0]["module"], "Notes");
    assert_eq!(got[0]["operation"], "insert");
    assert_eq!(got[0]["ids"], json!([note]));
}
