//! Load with isolation. 54 users — added through the emulator's `POST users`, three to an org,
//! two orgs in each of the nine data centers, each signed in through the emulator's sign-in POST —
//! drive two `server` processes sharing one PostgreSQL for `ZPORTAL_LOAD_SECONDS` (20 unless
//! told; `cargo xtask load --seconds N` runs it longer). Each user has two workers, one starting
//! on each process and alternating, doing what people do: who am I, list, open, create, edit,
//! delete. Every few seconds Zoho forgets every access token. Every answer is checked to belong to
//! the session's own user and org (each record carries its org's zgid in its name); the run
//! prints requests, errors by kind, refreshes per connection per expiry and cross-user answers,
//! and fails unless there were no errors, no cross-user answers and exactly one refresh per
//! connection per expiry. Needs `ZPORTAL_TEST_POSTGRES_URL`; the SQLite run skips it.
//!
//! The second half of the run is under attack, from loopback addresses of the attackers' own
//! (the honest users come from 127.0.0.1): unfinished request bodies (127.0.0.10), a flood of
//! live streams from one signed-in session (127.0.0.11) and forged Zoho notifications
//! (127.0.0.12), all at process a. The honest users must see no errors; their p99 with and
//! without the attack is reported (a figure, not an assert), with what the attackers got.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use testkit::server::process::{ServerProcess, client_with};
use testkit::server::*;

const DCS: [&str; 9] = ["us", "eu", "in", "au", "jp", "ca", "sa", "cn", "uk"];
const ORGS_PER_DC: usize = 2;
const USERS_PER_ORG: usize = 3;

/// One person taking part, signed in.
#[derive(Clone)]
struct Person {
    email: String,
    org_zgid: String,
    org_name: String,
    cookie: String,
}

/// What the workers saw.
#[derive(Default)]
struct Tally {
    requests: u64,
    by_process: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    cross_user: u64,
    cross_user_examples: Vec<String>,
    /// When each call started, and how long it took (ms).
    samples: Vec<(Instant, f64)>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        for (k, v) in other.by_process {
            *self.by_process.entry(k).or_default() += v;
        }
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.cross_user += other.cross_user;
        self.samples.extend(other.samples);
        self.cross_user_examples
            .extend(other.cross_user_examples.into_iter().take(3));
    }

    fn error(&mut self, kind: String) {
        *self.errors.entry(kind).or_default() += 1;
    }

    /// An answer that was not this person's: counted, and kept as an example.
    fn foreign(&mut self, person: &Person, what: &str, answer: &Value) {
        self.cross_user += 1;
        if self.cross_user_examples.len() < 3 {
            let answer = answer.to_string();
            let answer = answer.get(..300).unwrap_or(&answer);
            self.cross_user_examples
                .push(format!("{} asked {what}, got {answer}", person.email));
        }
    }
}

fn seconds() -> u64 {
    std::env::var("ZPORTAL_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
        .max(1)
}

/// The users, added through the emulator's control API: the first of each org creates it.
async fn add_people(emulator: &str) -> Vec<(String, String, String)> {
    let mut people = Vec::new();
    for dc in DCS {
        for o in 0..ORGS_PER_DC {
            let org_name = format!("Load {dc} {o}");
            let mut zgid: Option<String> = None;
            for u in 0..USERS_PER_ORG {
                let email = format!("u{u}.o{o}@{dc}.load.zportal.test");
                let mut body = json!({"email": email, "dc": dc, "org_name": org_name});
                if let Some(zgid) = &zgid {
                    body["org_zgid"] = json!(zgid);
                }
                let user = emulator_post(emulator, "users", body).await;
                let org = user["org"]["zgid"].as_str().expect("zgid").to_owned();
                zgid.get_or_insert(org.clone());
                people.push((email, org, org_name.clone()));
            }
        }
    }
    people
}

/// Makes one call to the server at `base`, counted in `tally`: its answer, or an error kind.
async fn call(
    tally: &mut Tally,
    base: &str,
    req: reqwest::RequestBuilder,
    op: &str,
) -> Result<Value, String> {
    tally.requests += 1;
    *tally.by_process.entry(base.to_owned()).or_default() += 1;
    let started = Instant::now();
    let sent = req.send().await;
    tally
        .samples
        .push((started, started.elapsed().as_secs_f64() * 1000.0));
    let res = sent.map_err(|e| {
        let why = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "transport error"
        };
        format!("{op}: {why}")
    })?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let what = match &body {
            Value::Object(o) => o.keys().next().cloned().unwrap_or_default(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        return Err(format!("{op}: HTTP {} {what}", status.as_u16()));
    }
    Ok(body)
}

/// One worker of one person until `deadline`, alternating between the processes.
async fn work(person: Person, bases: [String; 2], seed: u64, deadline: Instant) -> Tally {
    let client = client_with(&person.cookie);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let mut mine: Vec<String> = Vec::new();
    let mut made = 0u64;
    let mut turn = (seed % 2) as usize;
    let tag = format!("{}:", person.org_zgid);
    while Instant::now() < deadline {
        let base = &bases[turn];
        turn = 1 - turn;
        let roll = rng.random_range(0..100);
        let name = |made: u64| format!("{tag}{}:{made}", person.email);
        let result = match roll {
            0..15 => call(
                &mut tally,
                base,
                client.get(format!("{base}/api/session/me")),
                "who am I",
            )
            .await
            .map(|me| {
                let ok = me["active"]["email"] == json!(person.email)
                    && me["active"]["org_name"] == json!(person.org_name)
                    && me["accounts"].as_array().map(Vec::len) == Some(1);
                if !ok {
                    tally.foreign(&person, "who am I", &me);
                }
            }),
            15..50 => call(
                &mut tally,
                base,
                client.get(format!(
                    "{base}/api/records/list?args[module]=Leads&args[per_page]=20\
                     &args[columns][0]=Last_Name"
                )),
                "list",
            )
            .await
            .map(|page| {
                let rows = page["rows"].as_array().cloned().unwrap_or_default();
                let ours = rows.iter().all(|r| {
                    r["cells"][0]
                        .as_str()
                        .is_some_and(|name| name.starts_with(&tag))
                });
                if !ours || page["columns"][0]["api_name"] != "Last_Name" {
                    tally.foreign(&person, "the list", &page);
                }
            }),
            50..65 if !mine.is_empty() => {
                let id = mine[rng.random_range(0..mine.len())].clone();
                call(
                    &mut tally,
                    base,
                    client.get(format!("{base}/api/records/get?module=Leads&id={id}")),
                    "open",
                )
                .await
                .map(|record| {
                    let name = record["fields"].as_array().and_then(|f| {
                        f.iter()
                            .find(|f| f["label"] == "Last Name")
                            .and_then(|f| f["value"].as_str())
                    });
                    if !name.is_some_and(|n| n.starts_with(&tag)) {
                        tally.foreign(&person, "a record", &record);
                    }
                })
            }
            65..95 => {
                // Edit one of mine, or make a new one (always, until there is one to edit).
                let edit = roll >= 80 && !mine.is_empty();
                let (id, token) = if edit {
                    let id = mine[rng.random_range(0..mine.len())].clone();
                    (Some(id), "0".repeat(32))
                } else {
                    match call(
                        &mut tally,
                        base,
                        client.get(format!("{base}/api/records/form?module=Leads")),
                        "new form",
                    )
                    .await
                    {
                        Ok(form) => (None, form["save_token"].as_str().unwrap_or("").to_owned()),
                        Err(kind) => {
                            tally.error(kind);
                            continue;
                        }
                    }
                };
                made += 1;
                let body = json!({"module": "Leads", "id": id, "save_token": token,
                    "values": {"Last_Name": {"kind": "Text", "value": name(made)},
                               "Company": {"kind": "Text", "value": person.org_name}}});
                let op = if edit { "edit" } else { "create" };
                call(
                    &mut tally,
                    base,
                    client
                        .post(format!("{base}/api/records/save"))
                        .header("sec-fetch-site", "same-origin")
                        .json(&body),
                    op,
                )
                .await
                .and_then(|out| match out["Saved"]["id"].as_str() {
                    Some(saved) => {
                        if !edit {
                            mine.push(saved.to_owned());
                        }
                        Ok(())
                    }
                    None => Err(format!("{op}: refused")),
                })
            }
            _ if !mine.is_empty() => {
                let id = mine.swap_remove(rng.random_range(0..mine.len()));
                call(
                    &mut tally,
                    base,
                    client
                        .post(format!("{base}/api/records/delete"))
                        .header("sec-fetch-site", "same-origin")
                        .form(&[("module", "Leads"), ("ids[0]", id.as_str())]),
                    "delete",
                )
                .await
                .and_then(|out| {
                    if out["deleted"] == json!([id]) {
                        Ok(())
                    } else {
                        Err("delete: not deleted".to_owned())
                    }
                })
            }
            // Nothing of mine to open or delete yet: the next turn does something else.
            _ => continue,
        };
        if let Err(kind) = result {
            tally.error(kind);
        }
    }
    tally
}

/// Refreshes the emulator granted to each person so far.
async fn refreshes(emulator: &str, people: &[Person]) -> Vec<u64> {
    let stats = emulator_get(emulator, "stats").await;
    people
        .iter()
        .map(|p| {
            stats["by_user"][&p.email]["refreshes"]
                .as_u64()
                .unwrap_or(0)
        })
        .collect()
}

/// What the attackers got, counted as it happens.
#[derive(Default)]
struct Attacked {
    /// Unfinished bodies sent (each held until its deadline, 408, unless turned away).
    bodies_sent: AtomicU64,
    /// Connections turned away at once (503: over the client's share).
    connections_turned_away: AtomicU64,
    /// Streams opened, and those refused (429).
    streams_opened: AtomicU64,
    streams_refused: AtomicU64,
    /// Forged notifications refused after reading (403/400), and unread (429).
    forgeries_read: AtomicU64,
    forgeries_unread: AtomicU64,
}

impl Attacked {
    /// What the attackers got, in a line.
    fn report(&self) -> String {
        format!(
            "{} unfinished bodies sent, {} of them turned away (503); {} streams opened, \
             {} refused (429); forged notifications {} refused after reading, {} unread (429)",
            self.bodies_sent.load(Ordering::Relaxed),
            self.connections_turned_away.load(Ordering::Relaxed),
            self.streams_opened.load(Ordering::Relaxed),
            self.streams_refused.load(Ordering::Relaxed),
            self.forgeries_read.load(Ordering::Relaxed),
            self.forgeries_unread.load(Ordering::Relaxed),
        )
    }
}

/// The attack on process `base` until `until`: see the module's note.
async fn attack(base: String, flooder: Browser, until: Instant, got: Arc<Attacked>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const STALLED: &[u8] = b"POST /zoho/notify HTTP/1.1\r\nhost: x\r\n\
        content-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"channel";
    let mut tasks = Vec::new();
    // Six hundred unfinished bodies at once, each reopened when the server lets it go.
    for _ in 0..600 {
        let (base, got) = (base.clone(), got.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let mut tcp = connect_from("127.0.0.10", &base).await;
                if tcp.write_all(STALLED).await.is_err() {
                    continue;
                }
                got.bodies_sent.fetch_add(1, Ordering::Relaxed);
                let mut answer = [0u8; 64];
                let n = tcp.read(&mut answer).await.unwrap_or(0);
                if answer[..n].starts_with(b"HTTP/1.1 503") {
                    got.connections_turned_away.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }));
    }
    // Forty streams of one session, each reopened when it ends.
    for _ in 0..40 {
        let (base, got, http) = (base.clone(), got.clone(), flooder.http.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let res = http
                    .get(format!("{base}/api/live"))
                    .header("sec-fetch-site", "same-origin")
                    .timeout(Duration::from_secs(120))
                    .send()
                    .await;
                match res {
                    Ok(res) if res.status() == 200 => {
                        got.streams_opened.fetch_add(1, Ordering::Relaxed);
                        let mut res = res;
                        while let Ok(Some(_)) = res.chunk().await {}
                    }
                    _ => {
                        got.streams_refused.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }));
    }
    // Forged notifications, as fast as one client sends them.
    {
        let forger = Browser::from_address("127.0.0.12".parse().expect("ip"));
        let (base, got) = (base.clone(), got.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let res = forger
                    .http
                    .post(format!("{base}/zoho/notify"))
                    .json(
                        &json!({ "channel_id": 1, "token": "forged", "module": "Leads",
                        "ids": ["1"], "operation": "update" }),
                    )
                    .send()
                    .await;
                match res.map(|r| r.status().as_u16()) {
                    Ok(429) => got.forgeries_unread.fetch_add(1, Ordering::Relaxed),
                    _ => got.forgeries_read.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    tokio::time::sleep_until(until.into()).await;
    for task in tasks {
        task.abort();
    }
}

/// The 99th percentile of `ms`, in ms.
fn p99(mut ms: Vec<f64>) -> f64 {
    if ms.is_empty() {
        return 0.0;
    }
    ms.sort_by(f64::total_cmp);
    ms[((ms.len() as f64 * 0.99).ceil() as usize).clamp(1, ms.len()) - 1]
}

#[test]
fn many_users_on_two_processes_see_only_their_own_data_and_refresh_once_per_expiry() {
    testkit::block_on(async {
        let Some(database_url) = postgres_url().await else {
            eprintln!("ZPORTAL_TEST_POSTGRES_URL is not set: the load test needs PostgreSQL");
            return;
        };
        // Over a hundred workers, two servers and an emulator: more sockets than the default.
        rlimit::increase_nofile_limit(65_536).expect("raising RLIMIT_NOFILE");
        let seconds = seconds();
        let emulator = emulator::start(emulator::Options {
            addr: "127.0.0.1:0".parse().expect("addr"),
            state_file: None,
        })
        .await
        .expect("emulator");
        let emu = emulator.base_url.clone();
        // Fifty-four sign-ins in a minute is past Zoho's grant-code limit for one client.
        emulator_post(
            &emu,
            "config",
            // Days of credits in seconds: the run measures isolation, not the daily budget.
            json!({"limits": {"codes_per_client": 1_000_000, "api_credits": false}}),
        )
        .await;
        let key = keeper::vault::TokenCipher::generate_key_list();
        let dir = tempfile::tempdir().expect("dir");
        let mut processes = Vec::new();
        for name in ["a", "b"] {
            let data = dir.path().join(name).to_string_lossy().into_owned();
            processes.push(
                ServerProcess::start(&[
                    ("DATABASE_URL", &database_url),
                    ("ZPORTAL_TOKEN_KEY", &key),
                    ("ZOHO_EMULATOR_URL", &emu),
                    ("ZPORTAL_DATA_DIR", &data),
                ])
                .await,
            );
        }
        let bases = [processes[0].base.clone(), processes[1].base.clone()];

        let added = add_people(&emu).await;
        let people: Vec<Person> = futures::stream::iter(added.into_iter().enumerate())
            .map(|(i, (email, org_zgid, org_name))| {
                let base = bases[i % 2].clone();
                async move {
                    let browser = Browser::new();
                    let next = browser.sign_in_at(&base, &email).await;
                    assert!(!next.starts_with("/auth/error"), "{email}: {next}");
                    let cookie = browser.session_cookie(&base).expect("session cookie");
                    Person {
                        email,
                        org_zgid,
                        org_name,
                        cookie,
                    }
                }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        let before = refreshes(&emu, &people).await;
        // The flooder: a signed-in user of an org of its own, on a host of its own.
        emulator_post(
            &emu,
            "users",
            json!({"email": "flood@us.load.zportal.test", "dc": "us", "org_name": "Flood Ltd"}),
        )
        .await;
        let flooder = Browser::from_address("127.0.0.11".parse().expect("ip"));
        let next = flooder
            .sign_in_at(&bases[0], "flood@us.load.zportal.test")
            .await;
        assert!(!next.starts_with("/auth/error"), "the flooder: {next}");

        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let midpoint = started + Duration::from_secs(seconds) / 2;
        let attacked = Arc::new(Attacked::default());
        let attack = {
            let (base, got) = (bases[0].clone(), attacked.clone());
            tokio::spawn(async move {
                tokio::time::sleep_until(midpoint.into()).await;
                attack(base, flooder, deadline, got).await;
            })
        };
        let workers: Vec<_> = people
            .iter()
            .enumerate()
            .flat_map(|(i, p)| {
                let bases = bases.clone();
                (0..2u64).map(move |w| {
                    tokio::spawn(work(p.clone(), bases.clone(), i as u64 * 2 + w, deadline))
                })
            })
            .collect();

        // Zoho forgets every access token at even intervals — few enough to stay inside its
        // budget of ten refreshes per ten minutes.
        let expiries = (seconds / 8).clamp(2, 8);
        let period = Duration::from_secs_f64(seconds as f64 / (expiries + 1) as f64);
        for round in 1..=expiries {
            tokio::time::sleep_until((started + period * round as u32).into()).await;
            futures::future::join_all(
                people
                    .iter()
                    .map(|p| emulator_post(&emu, "tokens/expire", json!({"email": p.email}))),
            )
            .await;
        }
        let mut tally = Tally::default();
        for worker in workers {
            tally.merge(worker.await.expect("worker"));
        }
        attack.await.expect("the attack");
        let (quiet, under_attack): (Vec<_>, Vec<_>) =
            tally.samples.iter().partition(|(at, _)| *at < midpoint);
        let (p99_quiet, p99_attacked) = (
            p99(quiet.iter().map(|(_, ms)| *ms).collect()),
            p99(under_attack.iter().map(|(_, ms)| *ms).collect()),
        );
        // Everyone once more through Zoho, so each expiry surely met a request.
        for (i, p) in people.iter().enumerate() {
            let base = &bases[i % 2];
            let list =
                client_with(&p.cookie).get(format!("{base}/api/records/list?args[module]=Leads"));
            if let Err(kind) = call(&mut tally, base, list, "list").await {
                tally.error(kind);
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        let after = refreshes(&emu, &people).await;
        let per_expiry: Vec<f64> = before
            .iter()
            .zip(&after)
            .map(|(b, a)| (a - b) as f64 / expiries as f64)
            .collect();
        let min = per_expiry.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = per_expiry.iter().cloned().fold(0.0, f64::max);

        let errors = tally.errors.values().sum::<u64>();
        let error_kinds = if tally.errors.is_empty() {
            "none".to_owned()
        } else {
            tally
                .errors
                .iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let summary = format!(
            "load: {} users in {} orgs over {} data centers, 2 processes on PostgreSQL, {seconds} s, \
             {expiries} forced expiries\n\
             requests served: {} ({:.0}/s; {})\n\
             errors: {errors} ({error_kinds})\n\
             cross-user answers: {}\n\
             refreshes per connection per expiry: {} (min {min}, max {max})\n\
             honest p99, first half (quiet): {p99_quiet:.1} ms\n\
             honest p99, second half (under attack): {p99_attacked:.1} ms\n\
             attack: {}",
            people.len(),
            DCS.len() * ORGS_PER_DC,
            DCS.len(),
            tally.requests,
            tally.requests as f64 / elapsed,
            tally
                .by_process
                .values()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" + "),
            tally.cross_user,
            if min == max {
                min.to_string()
            } else {
                "uneven".into()
            },
            attacked.report(),
        );
        println!("{summary}");
        add_to_summary("load", &summary);
        assert_eq!(
            tally.cross_user, 0,
            "answers that were not the asker's: {:?}",
            tally.cross_user_examples
        );
        assert_eq!(errors, 0, "errors: {error_kinds}");
        assert_eq!(
            (min, max),
            (1.0, 1.0),
            "refreshes per connection per expiry"
        );
        drop(processes);
    });
}
