//! Live pages over HTTP, against the real router and the real emulator on 127.0.0.1: a save by
//! one person reaches another's event stream at once, a change made straight at Zoho's API
//! reaches it through Zoho's notification (and zportal's own write is not told twice), and a
//! page told of it reads it anew though reads are kept for a while; a stream
//! cut mid-way resumes after its `Last-Event-ID` and misses nothing, past the log says
//! "reload"; a stream carries only its org's events and needs a session; a notification is
//! believed only with its channel's token, within its size; streams end at shutdown, and a
//! disconnected connection takes its watch channel with it, even one it was registering at that
//! moment. The same across two server
//! processes on one PostgreSQL, when the run has it.

use std::time::Duration;

use serde_json::{Value, json};
use testkit::server::live::{DirectZoho, EventStream, SseEvent};
use testkit::server::*;

/// A generous bound for a live update (the bench reports how fast they really are).
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// The ids of the first `n` Leads the list shows.
pub(crate) async fn lead_ids(browser: &Browser, base: &str, n: usize) -> Vec<String> {
    let url = format!("{base}/api/records/list?args[module]=Leads&args[per_page]=10");
    let page: Value = browser.get(&url).await.json().await.expect("list");
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .take(n)
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Sets the Phone of Lead `id` through zportal, as its form does (with its base).
pub(crate) async fn save_phone(browser: &Browser, base: &str, id: &str, phone: &str) {
    let url = format!("{base}/api/records/form?module=Leads&id={id}");
    let form: Value = browser.get(&url).await.json().await.expect("form");
    let mut values = form["values"].clone();
    values["Phone"] = json!({ "kind": "Text", "value": phone });
    let body = json!({"module": "Leads", "id": id, "values": values,
        "save_token": form["save_token"], "base": form["values"]});
    save_record(&browser.http, base, &body).await;
}

pub(crate) async fn signed_in(stack: &Stack, email: &str) -> Browser {
    let browser = Browser::new();
    let next = browser.sign_in(stack, email).await;
    assert!(!next.starts_with("/auth/error"), "{next}");
    browser
}

/// The next `change` event, which must name `ids` of `module` with `op`.
async fn expect_change(stream: &mut EventStream, module: &str, ids: &[&str], op: &str) -> SseEvent {
    let e = stream
        .next_of("change", WAIT)
        .await
        .unwrap_or_else(|| panic!("a change of {module} {ids:?} within {WAIT:?}"));
    let data = e.json();
    assert_eq!(data["module"], module, "{data}");
    assert_eq!(data["ids"], json!(ids), "{data}");
    assert_eq!(data["op"], op, "{data}");
    assert!(e.seq().is_some(), "a change carries its seq as its id");
    e
}

/// Waits until the emulator holds a watch channel of Acme's; its id.
pub(crate) async fn channel_of_acme(stack: &Stack) -> i64 {
    let zoho = direct(stack).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let listed = zoho.get("actions/watch").await;
        if let Some(id) = listed["watch"][0]["channel_id"].as_i64() {
            return id;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "zportal registered no watch channel for the org with an open page"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// ben, through Zoho's API straight (another app of the org, Zoho's SDK).
pub(crate) async fn direct(stack: &Stack) -> DirectZoho {
    DirectZoho::sign_in(stack.emulator_base(), "us", "ben@us.zportal.test").await
}

#[test]
fn a_save_reaches_the_other_persons_stream_at_once_and_a_change_in_zoho_by_its_notification() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let (ada, ben) = (
            signed_in(&stack, "ada@us.zportal.test").await,
            signed_in(&stack, "ben@us.zportal.test").await,
        );
        let mut stream = EventStream::open(&ada.http, &stack.base, None).await;
        assert!(stream.content_type().starts_with("text/event-stream"));
        let hello = stream.next(WAIT).await.expect("hello");
        assert_eq!(hello.event, "hello");
        assert_eq!(hello.json()["mode"], "push", "the emulator reaches zportal");
        assert!(
            hello.seq().is_some(),
            "a fresh stream starts at the log's head"
        );
        channel_of_acme(&stack).await;

        let ids = lead_ids(&ben, &stack.base, 2).await;
        save_phone(&ben, &stack.base, &ids[0], "+1 555 0101").await;
        let first = expect_change(&mut stream, "Leads", &[&ids[0]], "edit").await;

        // Straight at Zoho's API: no zportal saw it; Zoho's notification tells.
        direct(&stack)
            .await
            .update("Leads", &ids[1], json!({ "Company": "Changed in Zoho" }))
            .await;
        let second = expect_change(&mut stream, "Leads", &[&ids[1]], "edit").await;
        assert!(
            second.seq() > first.seq(),
            "Zoho's notification of ben's save was its echo, not a second change"
        );
        // Zoho logs each delivery's answer once it has it.
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let log = stack.control_get("notifications").await;
            let delivered: Vec<Value> = log["notifications"]
                .as_array()
                .expect("log")
                .iter()
                .filter(|n| {
                    n["url"]
                        .as_str()
                        .is_some_and(|u| u.starts_with(&stack.base))
                })
                .cloned()
                .collect();
            if delivered.len() >= 2 && delivered.iter().all(|n| n["status"] == 200) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "both writes were notified to zportal, and taken: {delivered:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // A new record and a deleted one, made in Zoho.
        let zoho = direct(&stack).await;
        let new = zoho
            .create("Leads", json!({ "Last_Name": "Live", "Company": "New Co" }))
            .await;
        expect_change(&mut stream, "Leads", &[&new], "create").await;
        zoho.delete("Leads", &new).await;
        expect_change(&mut stream, "Leads", &[&new], "delete").await;
    });
}

#[test]
fn a_change_made_at_zoho_is_read_anew_once_notified_though_its_list_was_kept() {
    testkit::block_on(async {
        // Reads are kept longer than this test runs: only the notification can end them.
        let stack = stack(&[("ZPORTAL_ZOHO_CACHE", "1m")]).await;
        let ada = signed_in(&stack, "ada@us.zportal.test").await;
        let mut stream = EventStream::open(&ada.http, &stack.base, None).await;
        assert_eq!(stream.next(WAIT).await.expect("hello").event, "hello");
        channel_of_acme(&stack).await;
        let name = format!("Notified{}", zoho::random_hex(4));
        let search = format!(
            "{}/api/records/list?args[module]=Leads&args[text]={name}&args[per_page]=10",
            stack.base
        );
        let rows = |page: Value| page["rows"].as_array().map_or(0, Vec::len);
        assert_eq!(rows(ada.get(&search).await.json().await.expect("list")), 0);

        let new = direct(&stack)
            .await
            .create("Leads", json!({ "Last_Name": name, "Company": "Kept Co" }))
            .await;
        expect_change(&mut stream, "Leads", &[&new], "create").await;
        assert_eq!(
            rows(ada.get(&search).await.json().await.expect("list")),
            1,
            "the page that heard of it reads it, not the answer kept from before"
        );
    });
}

#[test]
fn a_stream_cut_midway_resumes_after_its_last_event_id_and_past_the_log_says_reload() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let (ada, ben) = (
            signed_in(&stack, "ada@us.zportal.test").await,
            signed_in(&stack, "ben@us.zportal.test").await,
        );
        let mut stream = EventStream::open(&ada.http, &stack.base, None).await;
        let hello = stream.next(WAIT).await.expect("hello");
        let ids = lead_ids(&ben, &stack.base, 4).await;
        save_phone(&ben, &stack.base, &ids[0], "+1 555 0200").await;
        let seen = expect_change(&mut stream, "Leads", &[&ids[0]], "edit").await;
        drop(stream);

        // Cut: three changes while ada's page is away.
        for (i, id) in ids[1..].iter().enumerate() {
            save_phone(&ben, &stack.base, id, &format!("+1 555 020{}", i + 1)).await;
        }
        let mut resumed = EventStream::open(&ada.http, &stack.base, seen.seq()).await;
        let hello_again = resumed.next(WAIT).await.expect("hello");
        assert_eq!(hello_again.event, "hello");
        assert_eq!(hello_again.id, None, "a resumed stream keeps its place");
        let mut got = Vec::new();
        for id in &ids[1..] {
            let e = expect_change(&mut resumed, "Leads", &[id.as_str()], "edit").await;
            got.push(e.seq().expect("seq"));
        }
        assert!(got.windows(2).all(|w| w[0] < w[1]), "in order: {got:?}");
        assert!(got[0] > seen.seq().expect("seq"));
        drop(resumed);

        // From a seq this log never had: start over.
        let ahead = got[2] + 1000;
        let mut lost = EventStream::open(&ada.http, &stack.base, Some(ahead)).await;
        assert_eq!(lost.next(WAIT).await.expect("hello").event, "hello");
        assert_eq!(lost.next(WAIT).await.expect("reload").event, "reload");
        drop(lost);

        // Past the log's retention: what came after the page's seq is gone.
        let pruned = stack
            .state
            .zoho()
            .vault
            .live_repo()
            .prune_live(zoho::clock::now() + 1)
            .await
            .expect("prune");
        assert!(pruned >= 3, "{pruned}");
        let mut late = EventStream::open(&ada.http, &stack.base, hello.seq()).await;
        assert_eq!(late.next(WAIT).await.expect("hello").event, "hello");
        let reload = late.next(WAIT).await.expect("reload");
        assert_eq!(reload.event, "reload");
        assert!(
            reload.seq() >= Some(got[2]),
            "it resumes from the head: {reload:?}"
        );
    });
}

#[test]
fn a_stream_needs_a_session_and_carries_only_its_orgs_events() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let anonymous = Browser::new();
        assert_eq!(
            EventStream::try_open(&anonymous.http, &stack.base, None)
                .await
                .err(),
            Some(401)
        );
        let (ada, ben, eva) = (
            signed_in(&stack, "ada@us.zportal.test").await,
            signed_in(&stack, "ben@us.zportal.test").await,
            signed_in(&stack, "eva@eu.zportal.test").await,
        );
        // Another site cannot read it, even with the person's cookie.
        let foreign = ada
            .http
            .get(format!("{}/api/live", stack.base))
            .header("sec-fetch-site", "cross-site")
            .send()
            .await
            .expect("GET");
        assert_eq!(foreign.status(), 403);

        let mut acme = EventStream::open(&ada.http, &stack.base, None).await;
        let mut euro = EventStream::open(&eva.http, &stack.base, None).await;
        assert_eq!(acme.next(WAIT).await.expect("hello").event, "hello");
        assert_eq!(euro.next(WAIT).await.expect("hello").event, "hello");
        let ids = lead_ids(&ben, &stack.base, 1).await;
        save_phone(&ben, &stack.base, &ids[0], "+1 555 0300").await;
        expect_change(&mut acme, "Leads", &[&ids[0]], "edit").await;
        assert_eq!(
            euro.next_of("change", Duration::from_secs(2)).await,
            None,
            "Euro GmbH hears nothing of Acme's records"
        );
    });
}

#[test]
fn a_notification_is_believed_only_with_its_channels_token_and_within_its_size() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let ada = signed_in(&stack, "ada@us.zportal.test").await;
        let mut stream = EventStream::open(&ada.http, &stack.base, None).await;
        assert_eq!(stream.next(WAIT).await.expect("hello").event, "hello");
        let channel = channel_of_acme(&stack).await;
        let ids = lead_ids(&ada, &stack.base, 1).await;
        let http = reqwest::Client::new();
        let notify = |body: Value| {
            let http = http.clone();
            let url = format!("{}/zoho/notify", stack.base);
            async move {
                http.post(url)
                    .json(&body)
                    .send()
                    .await
                    .expect("POST")
                    .status()
                    .as_u16()
            }
        };
        let forged = |channel_id: i64, token: &str| {
            json!({ "channel_id": channel_id, "token": token, "module": "Leads",
                "ids": [ids[0]], "operation": "update", "server_time": 1 })
        };
        assert_eq!(notify(forged(channel, "not-the-token")).await, 403);
        assert_eq!(notify(forged(channel + 1, "not-the-token")).await, 403);
        assert_eq!(notify(json!({ "hello": "there" })).await, 400);
        let huge = json!({ "channel_id": channel, "token": "x".repeat(70 * 1024) });
        assert_eq!(notify(huge).await, 413);
        // A browser on another site cannot post one either.
        let cross = http
            .post(format!("{}/zoho/notify", stack.base))
            .header("sec-fetch-site", "cross-site")
            .json(&forged(channel, "not-the-token"))
            .send()
            .await
            .expect("POST");
        assert_eq!(cross.status(), 403);
        assert_eq!(
            stream.next_of("change", Duration::from_secs(2)).await,
            None,
            "nothing forged reached the page"
        );
    });
}

#[test]
fn a_disconnect_while_its_connection_registers_the_channel_still_takes_the_channel_along() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let ada = signed_in(&stack, "ada@us.zportal.test").await;
        let zoho = direct(&stack).await;
        let emulator = stack.emulator_base();
        let since = last_request(emulator).await;
        // Zoho takes its time over the next API call: the registration of the org's channel,
        // which the first open page starts, with ada's connection.
        let slow = json!({ "kind": "delay", "endpoint": "records", "count": 1, "delay_ms": 1500 });
        emulator_post(emulator, "faults", slow).await;
        let mut stream = EventStream::open(&ada.http, &stack.base, None).await;
        assert_eq!(stream.next(WAIT).await.expect("hello").event, "hello");
        tokio::time::sleep(Duration::from_millis(300)).await;

        let res = ada
            .post_form(&format!("{}/auth/disconnect", stack.base), &[])
            .await;
        assert_eq!(res.status(), 303);
        // The disconnect waited for the registration under way, then removed its channel.
        let calls: Vec<String> =
            emulator_get(emulator, &format!("requests?since={since}")).await["requests"]
                .as_array()
                .expect("requests")
                .iter()
                .filter(|r| {
                    r["path"]
                        .as_str()
                        .is_some_and(|p| p.ends_with("/actions/watch"))
                })
                .map(|r| r["method"].as_str().unwrap_or_default().to_owned())
                .collect();
        assert_eq!(calls, ["POST", "DELETE"], "registered, then removed");
        let listed = zoho.get("actions/watch").await;
        assert!(listed["watch"][0].is_null(), "no channel is left: {listed}");
    });
}

/// The seq of the emulator's last logged request.
async fn last_request(emulator: &str) -> u64 {
    emulator_get(emulator, "requests").await["requests"]
        .as_array()
        .and_then(|r| r.last())
        .and_then(|r| r["seq"].as_u64())
        .unwrap_or(0)
}

#[test]
fn streams_end_at_shutdown_and_a_disconnect_takes_its_watch_channel_along() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let ada = signed_in(&stack, "ada@us.zportal.test").await;
        let mut stream = EventStream::open(&ada.http, &stack.base, None).await;
        assert_eq!(stream.next(WAIT).await.expect("hello").event, "hello");
        channel_of_acme(&stack).await;

        let res = ada
            .post_form(&format!("{}/auth/disconnect", stack.base), &[])
            .await;
        assert_eq!(res.status(), 303);
        let listed = direct(&stack).await.get("actions/watch").await;
        assert!(
            listed["watch"][0].is_null(),
            "the channel went with the connection that registered it: {listed}"
        );
        assert!(
            stream.ends_within(Duration::from_secs(45)).await,
            "a stream whose connection went ends"
        );

        let ben = signed_in(&stack, "ben@us.zportal.test").await;
        let mut open = EventStream::open(&ben.http, &stack.base, None).await;
        assert_eq!(open.next(WAIT).await.expect("hello").event, "hello");
        stack.state.zoho().live.close();
        assert!(
            open.ends_within(Duration::from_secs(5)).await,
            "a shutting-down server ends its streams"
        );
    });
}

#[test]
fn two_processes_on_one_postgres_share_the_live_log() {
    testkit::block_on(async {
        let Some(cluster) = crate::many_servers::cluster().await else {
            return;
        };
        let (ada, ben) = (Browser::new(), Browser::new());
        ada.sign_in_at(&cluster.a.base, "ada@us.zportal.test").await;
        ben.sign_in_at(&cluster.b.base, "ben@us.zportal.test").await;
        let mut stream = EventStream::open(&ada.http, &cluster.a.base, None).await;
        assert_eq!(stream.next(WAIT).await.expect("hello").event, "hello");
        let ids = lead_ids(&ben, &cluster.b.base, 3).await;
        save_phone(&ben, &cluster.b.base, &ids[0], "+1 555 0400").await;
        let seen = expect_change(&mut stream, "Leads", &[&ids[0]], "edit").await;
        drop(stream);
        save_phone(&ben, &cluster.b.base, &ids[1], "+1 555 0401").await;
        save_phone(&ben, &cluster.a.base, &ids[2], "+1 555 0402").await;
        // Resumed on the other process: the log is the database's.
        let mut resumed = EventStream::open(&ada.http, &cluster.b.base, seen.seq()).await;
        assert_eq!(resumed.next(WAIT).await.expect("hello").event, "hello");
        expect_change(&mut resumed, "Leads", &[&ids[1]], "edit").await;
        expect_change(&mut resumed, "Leads", &[&ids[2]], "edit").await;
    });
}
