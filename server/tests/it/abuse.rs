//! Nobody holds the door: the findings of the review of fairness and stream ownership, one test
//! each, against the real router and emulator on 127.0.0.1. Different loopback source addresses
//! (127.0.0.2, 127.0.0.3, …) stand for different hosts, and each test has its own, so none
//! depends on another. Every test that holds adds its rule to the `hardening` summary.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{Value, json};
use testkit::server::live::EventStream;
use testkit::server::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::live::{WAIT, channel_of_acme, lead_ids, save_phone, signed_in};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an address")
}

/// What came back on `tcp` within `wait`: everything until the server closed it, or what had
/// come by then; `None` if nothing did.
async fn answer(tcp: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(wait, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    (!got.is_empty()).then(|| String::from_utf8_lossy(&got).into_owned())
}

/// How soon a stream hears that its session changed: well before its own 10-second recheck, so
/// these tests fail if the session store's word does not reach it.
const WOKEN: Duration = Duration::from_secs(3);

/// A `POST /zoho/notify` that declares 1,000 bytes and sends ten: a body that stops arriving.
const STALLED: &[u8] =
    b"POST /zoho/notify HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"channel";

#[test]
fn one_client_holding_unfinished_bodies_cannot_take_every_slot() {
    testkit::block_on(async {
        let stack = stack_with(&[], |c| {
            c.http.max_connections = 10;
            c.http.max_connections_per_client = 4;
        })
        .await;
        // The attacker (127.0.0.2) opens twelve connections, each an unfinished body.
        let mut held = Vec::new();
        let mut turned_away = Vec::new();
        for _ in 0..12 {
            let mut tcp = connect_from("127.0.0.2", &stack.base).await;
            tcp.write_all(STALLED).await.expect("write");
            held.push(tcp);
        }
        for tcp in &mut held {
            if let Some(text) = answer(tcp, Duration::from_millis(300)).await {
                turned_away.push(text);
            }
        }
        assert_eq!(turned_away.len(), 8, "past four, each is turned away");
        for text in &turned_away {
            assert!(text.starts_with("HTTP/1.1 503"), "{text}");
            assert!(
                text.to_ascii_lowercase().contains("retry-after: "),
                "{text}"
            );
        }
        // Another host is served meanwhile, pages and health alike.
        let other = Browser::from_address(ip("127.0.0.3"));
        for path in ["/healthz", "/readyz", "/"] {
            let res = tokio::time::timeout(
                Duration::from_secs(5),
                other.http.get(format!("{}{path}", stack.base)).send(),
            )
            .await
            .unwrap_or_else(|_| panic!("{path} answered another host in time"))
            .expect("GET");
            assert_eq!(res.status(), 200, "{path}");
        }
        add_to_summary(
            "hardening",
            "fair slots: one client holds at most its share of connections (503, Retry-After)",
        );
    });
}

#[test]
fn a_body_that_stops_arriving_is_cut_off_and_its_connection_closed() {
    testkit::block_on(async {
        let stack = stack_with(&[], |c| {
            c.http.body_deadline.whole = Duration::from_secs(1);
            c.http.body_deadline.window = Duration::from_secs(1);
        })
        .await;
        let mut tcp = connect_from("127.0.0.4", &stack.base).await;
        tcp.write_all(STALLED).await.expect("write");
        let text = answer(&mut tcp, Duration::from_secs(10))
            .await
            .expect("an answer before the test's patience ends");
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(
            text.to_ascii_lowercase().contains("connection: close"),
            "{text}"
        );
        // A chunked body held back the same way.
        let mut tcp = connect_from("127.0.0.4", &stack.base).await;
        tcp.write_all(
            b"POST /zoho/notify HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\
              content-type: application/json\r\n\r\n4\r\n{\"ch\r\n",
        )
        .await
        .expect("write");
        let text = answer(&mut tcp, Duration::from_secs(10))
            .await
            .expect("an answer");
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        add_to_summary(
            "hardening",
            "fair slots: a request body must keep arriving, or its connection is closed (408)",
        );
    });
}

#[test]
fn a_session_keeps_a_few_streams_and_a_client_a_few_more() {
    testkit::block_on(async {
        let stack = stack_with(&[], |c| {
            c.http.max_streams_per_session = 2;
            c.http.max_streams_per_client = 3;
        })
        .await;
        let source = ip("127.0.0.5");
        let ada = Browser::from_address(source);
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        let mut oldest = EventStream::open(&ada.http, &stack.base, None).await;
        assert_eq!(oldest.next(WAIT).await.expect("hello").event, "hello");
        let mut second = EventStream::open(&ada.http, &stack.base, None).await;
        let mut third = EventStream::open(&ada.http, &stack.base, None).await;
        // The third of the session replaces the oldest, which says so and ends.
        assert_eq!(
            oldest.next_of("replaced", WAIT).await.map(|e| e.event),
            Some("replaced".to_owned())
        );
        assert!(oldest.ends_within(WAIT).await);
        for s in [&mut second, &mut third] {
            assert_eq!(s.next(WAIT).await.expect("hello").event, "hello");
        }
        // Ben on the same host: the host has three open, its cap.
        let ben = Browser::from_address(source);
        ben.sign_in(&stack, "ben@us.zportal.test").await;
        let mut bens = EventStream::open(&ben.http, &stack.base, None).await;
        assert_eq!(bens.next(WAIT).await.expect("hello").event, "hello");
        let refused = EventStream::try_open(&ben.http, &stack.base, None).await;
        assert_eq!(refused.err(), Some(429), "a fourth from the host");
        // Another host is not counted with it.
        let eva = Browser::from_address(ip("127.0.0.6"));
        eva.sign_in(&stack, "eva@eu.zportal.test").await;
        assert!(
            EventStream::try_open(&eva.http, &stack.base, None)
                .await
                .is_ok()
        );
        // One closes: the host may open another.
        drop(second);
        let deadline = tokio::time::Instant::now() + WAIT;
        while EventStream::try_open(&ben.http, &stack.base, None)
            .await
            .is_err()
        {
            assert!(tokio::time::Instant::now() < deadline, "a place came free");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        add_to_summary(
            "hardening",
            "streams: a few per session (the oldest gives way) and a cap per client",
        );
    });
}

#[test]
fn a_stream_ends_with_its_session_signed_out_or_switched() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        // Signed out: the open stream says `end` and ends, at once.
        let ada = signed_in(&stack, "ada@us.zportal.test").await;
        let mut stream = EventStream::open(&ada.http, &stack.base, None).await;
        assert_eq!(stream.next(WAIT).await.expect("hello").event, "hello");
        let res = ada
            .post_form(&format!("{}/auth/signout", stack.base), &[])
            .await;
        assert_eq!(res.status(), 303);
        let end = stream.next_of("end", WOKEN).await;
        assert!(end.is_some(), "the stream says the session is over");
        assert!(stream.ends_within(Duration::from_secs(5)).await);
        // Another account signed in in the same browser: the first account's stream ends.
        let ben = signed_in(&stack, "ben@us.zportal.test").await;
        let mut stream = EventStream::open(&ben.http, &stack.base, None).await;
        assert_eq!(stream.next(WAIT).await.expect("hello").event, "hello");
        ben.sign_in(&stack, "eva@eu.zportal.test").await;
        assert!(
            stream.next_of("end", WOKEN).await.is_some(),
            "switched to another account"
        );
        let me = ben.signed_in(&stack).await;
        let ben_id = me["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|a| a["email"] == "ben@us.zportal.test")
            .and_then(|a| a["id"].as_str())
            .expect("ben is still one of the accounts")
            .to_owned();
        let mut stream = EventStream::open(&ben.http, &stack.base, None).await;
        assert_eq!(stream.next(WAIT).await.expect("hello").event, "hello");
        let res = ben
            .post_form(
                &format!("{}/auth/switch", stack.base),
                &[("connection", &ben_id)],
            )
            .await;
        assert_eq!(res.status(), 303);
        assert!(
            stream.next_of("end", WOKEN).await.is_some(),
            "switching accounts ends the other account's stream"
        );
        add_to_summary(
            "hardening",
            "streams: sign-out and switching accounts end the session's streams",
        );
    });
}

#[test]
fn a_stream_ends_when_its_session_expires() {
    testkit::block_on(async {
        let stack = stack_with(&[], |c| c.store.session_idle = Duration::from_secs(2)).await;
        let ada = signed_in(&stack, "ada@us.zportal.test").await;
        let mut stream = EventStream::open(&ada.http, &stack.base, None).await;
        assert_eq!(stream.next(WAIT).await.expect("hello").event, "hello");
        // Nothing but the stream for longer than the idle timeout: the session expires, and
        // the stream's next check (every ten seconds) ends it.
        assert!(
            stream
                .next_of("end", Duration::from_secs(15))
                .await
                .is_some(),
            "an expired session's stream ends"
        );
        assert_eq!(ada.signed_in(&stack).await, Value::Null);
        add_to_summary("hardening", "streams: an expired session's streams end");
    });
}

#[test]
fn an_ipv6_host_is_one_client_however_many_addresses_it_uses() {
    testkit::block_on(async {
        let stack = stack(&[
            ("ZPORTAL_RATE_LIMIT", "3"),
            ("ZPORTAL_TRUSTED_PROXIES", "127.0.0.0/8"),
        ])
        .await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let start = |client: &'static str| {
            http.get(format!("{}/auth/zoho/start?dc=us", stack.base))
                .header("x-forwarded-for", client)
                .send()
        };
        for hop in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"] {
            assert_eq!(start(hop).await.expect("start").status(), 303, "{hop}");
        }
        let refused = start("2001:db8:1:2::4").await.expect("start");
        assert_eq!(refused.status(), 429, "a fourth address of the same /64");
        assert!(refused.headers().get("retry-after").is_some());
        assert_eq!(
            start("2001:db8:1:3::1").await.expect("start").status(),
            303,
            "the next /64 is another host"
        );
        assert_eq!(
            start("::ffff:192.0.2.9").await.expect("start").status(),
            303
        );
        add_to_summary(
            "hardening",
            "abuse limits: an IPv6 client is its /64 everywhere clients are counted",
        );
    });
}

#[test]
fn event_ids_say_nothing_of_other_orgs() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let eva = signed_in(&stack, "eva@eu.zportal.test").await;
        let ada = signed_in(&stack, "ada@us.zportal.test").await;
        let mut stream = EventStream::open(&eva.http, &stack.base, None).await;
        let hello = stream.next(WAIT).await.expect("hello");
        let start = hello.seq().expect("a starting id");
        // Acme (ada's org, in the US) changes three times; eva's once.
        let acme = lead_ids(&ada, &stack.base, 3).await;
        for (i, id) in acme.iter().enumerate() {
            save_phone(&ada, &stack.base, id, &format!("+1 555 01{i:02}")).await;
        }
        let mine = lead_ids(&eva, &stack.base, 1).await;
        save_phone(&eva, &stack.base, &mine[0], "+49 30 1234").await;
        let change = stream.next_of("change", WAIT).await.expect("eva's change");
        assert_eq!(change.json()["ids"], json!(mine));
        assert_eq!(
            change.seq(),
            Some(start + 1),
            "the next of her org's events, whatever other orgs did"
        );
        // A resume from before that change replays it, and only it.
        let mut resumed = EventStream::open(&eva.http, &stack.base, Some(start)).await;
        assert_eq!(resumed.next(WAIT).await.expect("hello").event, "hello");
        let again = resumed.next(WAIT).await.expect("the missed change");
        assert_eq!(
            (again.event.as_str(), again.seq()),
            ("change", Some(start + 1))
        );
        add_to_summary(
            "hardening",
            "nothing about other tenants: event ids count each org's own events",
        );
    });
}

#[test]
fn a_flood_of_forged_notifications_never_gets_zohos_own_refused() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let ada = signed_in(&stack, "ada@us.zportal.test").await;
        let mut stream = EventStream::open(&ada.http, &stack.base, None).await;
        assert_eq!(stream.next(WAIT).await.expect("hello").event, "hello");
        let channel = channel_of_acme(&stack).await;
        let ids = lead_ids(&ada, &stack.base, 1).await;
        // 300 forgeries for the real channel, from another host: past its allowance of
        // refusals it is answered 429 unread.
        let forger = Browser::from_address(ip("127.0.0.7"));
        let mut statuses = std::collections::BTreeMap::new();
        for _ in 0..300 {
            let res = forger
                .http
                .post(format!("{}/zoho/notify", stack.base))
                .json(
                    &json!({ "channel_id": channel, "token": "forged", "module": "Leads",
                    "ids": [ids[0]], "operation": "update" }),
                )
                .send()
                .await
                .expect("POST");
            *statuses.entry(res.status().as_u16()).or_insert(0) += 1;
        }
        assert!(statuses.get(&403).is_some_and(|n| *n <= 61), "{statuses:?}");
        assert!(
            statuses.get(&429).is_some_and(|n| *n >= 239),
            "{statuses:?}"
        );
        // Zoho's own notification (from the emulator's address) still comes through.
        crate::live::direct(&stack)
            .await
            .update("Leads", &ids[0], json!({ "Company": "Changed in Zoho" }))
            .await;
        let change = stream.next_of("change", WAIT).await;
        assert_eq!(
            change.map(|e| e.json()["ids"].clone()),
            Some(json!(ids)),
            "Zoho's delivery was taken"
        );
        add_to_summary(
            "hardening",
            "notifications: the token is checked first; forgeries are limited per client, never per channel",
        );
    });
}

#[test]
fn files_are_for_this_sites_pages_and_links_only() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let ada = signed_in(&stack, "ada@us.zportal.test").await;
        let lead = lead_ids(&ada, &stack.base, 1).await.remove(0);
        let part = reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("a.txt");
        let res = ada
            .http
            .post(format!("{}/files/Leads/{lead}", stack.base))
            .header("sec-fetch-site", "same-origin")
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .expect("upload");
        assert_eq!(res.headers()["cross-origin-resource-policy"], "same-origin");
        let id = res.json::<Value>().await.expect("json")["id"]
            .as_str()
            .expect("an attachment")
            .to_owned();
        let url = format!("{}/files/Leads/{lead}/{id}", stack.base);
        let fetch = |site: &'static str, mode: &'static str, dest: &'static str| {
            ada.http
                .get(&url)
                .header("sec-fetch-site", site)
                .header("sec-fetch-mode", mode)
                .header("sec-fetch-dest", dest)
                .send()
        };
        let before = stack.last_seq().await;
        for site in ["same-site", "cross-site"] {
            for (mode, dest) in [
                ("no-cors", "image"),
                ("cors", "empty"),
                ("navigate", "iframe"),
            ] {
                let res = fetch(site, mode, dest).await.expect("GET");
                assert_eq!(res.status(), 403, "{site} {mode} {dest}");
                assert_eq!(res.headers()["cross-origin-resource-policy"], "same-origin");
            }
        }
        assert!(
            stack.endpoints_since(before).await.is_empty(),
            "Zoho was not asked: no credits spent"
        );
        for (site, mode, dest) in [
            ("cross-site", "navigate", "document"),
            ("same-origin", "no-cors", "image"),
        ] {
            let res = fetch(site, mode, dest).await.expect("GET");
            assert_eq!(res.status(), 200, "{site} {mode} {dest}");
            assert_eq!(res.headers()["cross-origin-resource-policy"], "same-origin");
        }
        add_to_summary(
            "hardening",
            "files: other sites' pages get none but by a link (Fetch Metadata, CORP same-origin)",
        );
    });
}

#[test]
fn uploads_check_the_record_first_and_share_their_slots() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let ada = signed_in(&stack, "ada@us.zportal.test").await;
        let lead = lead_ids(&ada, &stack.base, 1).await.remove(0);
        let cookie = ada.session_cookie(&stack.base).expect("a session");
        // An upload whose body never finishes, for `record`, as raw HTTP.
        let stalled_upload = |record: String| {
            let (base, cookie) = (stack.base.clone(), cookie.clone());
            async move {
                let mut tcp = connect_from("127.0.0.8", &base).await;
                let head = format!(
                    "POST /files/Leads/{record} HTTP/1.1\r\nhost: x\r\ncookie: zportal_session={cookie}\r\n\
                     sec-fetch-site: same-origin\r\n\
                     content-type: multipart/form-data; boundary=b\r\ncontent-length: 5000000\r\n\r\n\
                     --b\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\nxx"
                );
                tcp.write_all(head.as_bytes()).await.expect("write");
                tcp
            }
        };
        // A record that is not there: refused before a byte of the file is read.
        let mut missing = stalled_upload("1234567890123456789".into()).await;
        let text = answer(&mut missing, Duration::from_secs(5))
            .await
            .expect("answered without the body");
        assert!(text.starts_with("HTTP/1.1 404"), "{text}");
        // Two at once per Zoho connection: a third is 503, with Retry-After.
        let _first = stalled_upload(lead.clone()).await;
        let _second = stalled_upload(lead.clone()).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let part = reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("a.txt");
        let third = ada
            .http
            .post(format!("{}/files/Leads/{lead}", stack.base))
            .header("sec-fetch-site", "same-origin")
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .expect("upload");
        assert_eq!(third.status(), 503);
        assert!(third.headers().get("retry-after").is_some());
        add_to_summary(
            "hardening",
            "uploads: the record is checked before the body; two at once per connection",
        );
    });
}

#[test]
fn a_sign_out_on_one_process_ends_the_stream_open_on_another() {
    testkit::block_on(async {
        let Some(cluster) = crate::many_servers::cluster().await else {
            return;
        };
        let ada = Browser::new();
        ada.sign_in_at(&cluster.a.base, "ada@us.zportal.test").await;
        let mut stream = EventStream::open(&ada.http, &cluster.a.base, None).await;
        assert_eq!(stream.next(WAIT).await.expect("hello").event, "hello");
        // The session is the database's: process b signs it out; a hears it over the bus.
        let res = ada
            .post_form(&format!("{}/auth/signout", cluster.b.base), &[])
            .await;
        assert_eq!(res.status(), 303);
        assert!(
            stream.next_of("end", WOKEN).await.is_some(),
            "the other process's stream ends at once"
        );
        add_to_summary(
            "hardening",
            "streams: a sign-out on one process ends the session's streams on every process",
        );
    });
}
