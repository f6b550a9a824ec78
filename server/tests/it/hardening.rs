//! The security rules of the hardening issue, each tried against the real `server` binary (or
//! router) the way an operator or an attacker would meet it. Every test that holds adds its rule
//! to the `hardening` summary, which `cargo xtask test` counts into one line.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use testkit::server::add_to_summary;

/// Runs `server` (serve) with exactly `env` (plus a data directory and a free loopback port) and
/// waits for it to exit: each case here is a configuration it must refuse. A server that starts
/// anyway is stopped after a generous 20 s and fails the test.
fn refused_start(env: &[(&str, &str)]) -> (Output, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    refused_start_in(dir.path(), env)
}

/// [`refused_start`] with the data directory `dir`.
fn refused_start_in(dir: &std::path::Path, env: &[(&str, &str)]) -> (Output, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut cmd = Command::new(testkit::server::process::server_binary());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("ZPORTAL_DATA_DIR", dir)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the server binary runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started with {env:?}: it must refuse");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

#[test]
fn a_server_without_a_zoho_client_refuses_to_start_outside_development() {
    // This is a debug build on loopback, which is development unless it says it is production
    // or is reached through another name (a proxy's).
    for outside in [
        &[("LEPTOS_ENV", "PROD")][..],
        &[("ZPORTAL_PUBLIC_URL", "http://crm.example.com")],
    ] {
        let (out, text) = refused_start(outside);
        assert_eq!(out.status.code(), Some(2), "{outside:?}: {text}");
        assert!(text.contains("ZOHO_CLIENT_ID"), "{text}");
        assert!(text.contains("ZOHO_EMULATOR=1"), "it says how: {text}");
    }
    add_to_summary(
        "hardening",
        "fail closed: no Zoho client and no explicit emulator, no start",
    );
}

#[test]
fn the_client_secret_is_never_configured_towards_an_emulator_off_loopback() {
    let secret = "a-real-client-secret-4711";
    let (out, text) = refused_start(&[
        ("ZOHO_CLIENT_ID", "1000.REAL"),
        ("ZOHO_CLIENT_SECRET", secret),
        ("ZOHO_EMULATOR_URL", "http://192.0.2.10:3100"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("ZOHO_EMULATOR_URL"), "{text}");
    assert!(
        !text.contains(secret),
        "the refusal does not print the secret"
    );
    add_to_summary(
        "hardening",
        "fail closed: the client secret never goes to a non-loopback emulator URL",
    );
}

#[test]
fn the_embedded_emulator_never_serves_an_https_origin_or_a_public_address() {
    let (out, text) = refused_start(&[
        ("ZOHO_EMULATOR", "1"),
        ("ZPORTAL_PUBLIC_URL", "https://crm.example.com"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("ZPORTAL_PUBLIC_URL"), "{text}");
    let (out, text) = refused_start(&[("ZOHO_EMULATOR", "1"), ("LEPTOS_SITE_ADDR", "0.0.0.0:0")]);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("LEPTOS_SITE_ADDR"), "{text}");
    add_to_summary(
        "hardening",
        "fail closed: the embedded emulator runs only on loopback and plain http",
    );
}

/// A top-level navigation from another site, as a browser sends it.
fn navigation(browser: &testkit::server::Browser, url: &str) -> reqwest::RequestBuilder {
    browser
        .http
        .get(url)
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", "https://attacker.example/probe")
}

#[test]
fn server_functions_answer_no_other_site_and_never_redirect_to_the_referer() {
    testkit::block_on(async {
        let stack = testkit::server::stack(&[]).await;
        let ada = testkit::server::Browser::new();
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        let meta = format!("{}/api/records/meta?module=Leads", stack.base);
        let missing = format!(
            "{}/api/records/get?module=Leads&id=1234567890123456789",
            stack.base
        );

        // With Fetch Metadata: refused alike whether the user is signed in and the record exists.
        for site in ["cross-site", "same-site"] {
            for url in [&meta, &missing] {
                let res = navigation(&ada, url)
                    .header("sec-fetch-site", site)
                    .send()
                    .await
                    .expect("GET");
                assert_eq!(res.status().as_u16(), 403, "{site} {url}");
                assert!(res.headers().get("location").is_none());
            }
        }
        add_to_summary(
            "hardening",
            "no cross-site reads: /api refuses cross-site and same-site calls, reads included",
        );

        // Without it (an older browser): an answer, never a redirect to the attacker's page.
        let found = navigation(&ada, &meta).send().await.expect("GET");
        assert_eq!(found.status().as_u16(), 200, "{:?}", found.headers());
        assert!(found.headers().get("location").is_none());
        let absent = navigation(&ada, &missing).send().await.expect("GET");
        assert!(!absent.status().is_redirection(), "{}", absent.status());
        assert!(absent.headers().get("location").is_none());
        add_to_summary(
            "hardening",
            "no cross-site reads: no server function redirects to the Referer",
        );
    });
}

#[test]
fn personal_answers_are_never_stored_by_a_cache() {
    testkit::block_on(async {
        let stack = testkit::server::stack(&[]).await;
        let ada = testkit::server::Browser::new();
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        for path in ["/m/Leads", "/api/session/me", "/"] {
            let res = ada.get(&format!("{}{path}", stack.base)).await;
            let header = |name: &str| {
                res.headers()
                    .get_all(name)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            assert_eq!(header("cache-control"), "no-store", "{path}");
            assert!(
                header("vary").contains("Cookie"),
                "{path}: {}",
                header("vary")
            );
        }
        // A server function's answer is personal even without a cookie (it says who is not
        // signed in, and is never meant for a cache).
        let anonymous = reqwest::get(format!("{}/api/session/me", stack.base))
            .await
            .expect("GET");
        assert_eq!(
            anonymous
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        add_to_summary(
            "hardening",
            "no cross-site reads: personal answers are no-store with Vary: Cookie",
        );
    });
}

#[test]
fn the_emulators_control_api_answers_programs_on_this_machine_only() {
    testkit::block_on(async {
        let emu = testkit::emulator().await;
        let http = reqwest::Client::new();
        let config = format!("{}/__emulator/config", emu.base_url);
        let limits = r#"{"limits": {"codes_per_client": 1}}"#;
        let attempts = [
            // A page's simple cross-origin POST: a text body, no preflight.
            http.post(&config)
                .header("content-type", "text/plain")
                .body(limits),
            http.post(&config)
                .header("content-type", "application/json")
                .header("origin", "https://attacker.example")
                .body(limits),
            http.post(&config)
                .header("content-type", "application/json")
                .header("sec-fetch-site", "cross-site")
                .body(limits),
            // DNS rebinding: the attacker's name resolved to 127.0.0.1.
            http.get(format!("{}/__emulator/requests", emu.base_url))
                .header("host", "attacker.example"),
        ];
        for attempt in attempts {
            let res = attempt.send().await.expect("answer");
            assert_eq!(res.status().as_u16(), 403);
        }
        let before = http.get(&config).send().await.expect("GET");
        let unchanged: serde_json::Value = before.json().await.expect("json");
        assert_ne!(
            unchanged["limits"]["codes_per_client"], 1,
            "no refused call changed it"
        );
        let ours = http
            .post(&config)
            .header("content-type", "application/json")
            .body(limits)
            .send()
            .await
            .expect("POST");
        assert!(ours.status().is_success());
        add_to_summary(
            "hardening",
            "leftovers: the emulator's control API refuses web pages, rebound names and non-JSON writes",
        );
        emu.stop().await;
    });
}

#[test]
fn metrics_live_off_the_public_port_and_readiness_spares_zoho() {
    testkit::block_on(async {
        let stack = testkit::server::stack(&[]).await;
        let browser = testkit::server::Browser::new();
        let public = browser.get(&format!("{}/metrics", stack.base)).await;
        assert_eq!(public.status().as_u16(), 404);
        let ops = browser.get(&format!("{}/metrics", stack.ops_base)).await;
        assert_eq!(ops.status().as_u16(), 200);
        assert!(ops.text().await.expect("text").contains("zportal_"));
        add_to_summary(
            "hardening",
            "abuse limits: /metrics only on the ops listener, 404 on the public port",
        );

        // A "Zoho" that only counts who connects to it.
        let zoho = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let zoho_addr = zoho.local_addr().expect("addr");
        let reached = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        {
            let reached = reached.clone();
            std::thread::spawn(move || {
                for conn in zoho.incoming() {
                    reached.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    drop(conn);
                }
            });
        }
        let watched =
            testkit::server::stack(&[("ZOHO_EMULATOR_URL", &format!("http://{zoho_addr}"))]).await;
        for _ in 0..5 {
            let res = browser.get(&format!("{}/readyz", watched.base)).await;
            assert_eq!(res.status().as_u16(), 200, "the database answers");
        }
        assert_eq!(
            reached.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "the public readiness asks the database only"
        );
        for _ in 0..5 {
            let res = browser.get(&format!("{}/readyz", watched.ops_base)).await;
            assert_eq!(res.status().as_u16(), 503, "this Zoho does not answer HTTP");
        }
        assert_eq!(
            reached.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "Zoho probed once per 30 s, however often the ops readiness is asked"
        );
        add_to_summary(
            "hardening",
            "abuse limits: the public /readyz never calls Zoho; the ops one at most every 30 s",
        );
    });
}

#[test]
fn a_session_before_sign_in_lives_minutes_not_hours() {
    use tower_sessions::session_store::SessionStore;

    testkit::block_on(async {
        let stack = testkit::server::stack(&[]).await;
        let expiry = |cookie: String| {
            let sessions = stack.state.sessions.clone();
            async move {
                let id = cookie.parse().expect("a session id");
                let record = sessions.load(&id).await.expect("load").expect("stored");
                record.expiry_date - time::OffsetDateTime::now_utc()
            }
        };
        let browser = testkit::server::Browser::new();
        let auth_url = browser.start(&stack, "dc=us").await;
        let pending = browser
            .session_cookie(&stack.base)
            .expect("a pending sign-in's cookie");
        let left = expiry(pending).await;
        assert!(
            left <= server::store::ANONYMOUS_TTL && left > time::Duration::minutes(9),
            "a pending sign-in's row expires in {left}"
        );
        add_to_summary(
            "hardening",
            "abuse limits: a session with nobody signed in expires within 10 minutes",
        );

        // Signed in: the configured idle timeout again.
        browser
            .accept_and_return(&auth_url, "ada@us.zportal.test")
            .await;
        let signed_in = browser
            .session_cookie(&stack.base)
            .expect("the session cookie");
        let left = expiry(signed_in).await;
        assert!(left > time::Duration::minutes(100), "{left}");
    });
}

#[test]
fn one_address_flooding_sign_in_starts_is_slowed_alone() {
    testkit::block_on(async {
        let stack = testkit::server::stack(&[
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
        for _ in 0..3 {
            let res = start("203.0.113.1").await.expect("start");
            assert_eq!(res.status().as_u16(), 303);
        }
        let refused = start("203.0.113.1").await.expect("start");
        assert_eq!(refused.status().as_u16(), 429);
        let retry: u64 = refused.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=60).contains(&retry), "{retry}");
        assert!(
            refused.headers().get("set-cookie").is_none(),
            "a refused start creates no session"
        );
        // Another client behind the same (trusted) proxy has its own allowance.
        let other = start("203.0.113.2").await.expect("start");
        assert_eq!(other.status().as_u16(), 303);
        add_to_summary(
            "hardening",
            "abuse limits: sign-in starts are rate-limited per client address (429, Retry-After)",
        );
    });
}

#[test]
fn slow_and_idle_connections_are_closed_and_open_ones_are_capped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    testkit::block_on(async {
        let stack = testkit::server::stack_with(&[], |c| {
            c.http.header_read_timeout = Duration::from_secs(1);
        })
        .await;
        let addr = stack.base.trim_start_matches("http://").to_owned();

        // Slowloris: a request head that never ends; and a kept-alive connection left idle.
        let mut slow = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        let mut idle = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut answer = [0u8; 4096];
        let n = idle.read(&mut answer).await.expect("an answer");
        assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
        for (what, conn) in [("slowloris", &mut slow), ("idle keep-alive", &mut idle)] {
            let closed = tokio::time::timeout(Duration::from_secs(10), async {
                let mut buf = [0u8; 4096];
                loop {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            })
            .await;
            assert!(closed.is_ok(), "the {what} connection was closed");
        }
        add_to_summary(
            "hardening",
            "abuse limits: a connection without a complete request head, or idle, is closed",
        );

        // Five open connections are the cap: a sixth client waits until one goes.
        let stack = testkit::server::stack_with(&[], |c| {
            c.http.header_read_timeout = Duration::from_secs(30);
            c.http.max_connections = 5;
        })
        .await;
        let addr = stack.base.trim_start_matches("http://").to_owned();
        let mut held = Vec::new();
        for _ in 0..5 {
            let mut c = tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect");
            c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write");
            let n = c.read(&mut answer).await.expect("answer");
            assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
            held.push(c);
        }
        let sixth = reqwest::Client::new().get(format!("{}/healthz", stack.base));
        let waiting = tokio::spawn(async move { sixth.send().await.map(|r| r.status().as_u16()) });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !waiting.is_finished(),
            "a sixth connection is not served while five are open"
        );
        drop(held);
        let status = tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("served once the others went")
            .expect("task")
            .expect("answer");
        assert_eq!(status, 200);
        add_to_summary("hardening", "abuse limits: open connections are capped");
    });
}

/// Runs `sql` on the stack's store, as someone with database access would.
async fn raw_sql(stack: &testkit::server::Stack, sql: &str) {
    match &stack.postgres {
        Some(url) => {
            let pool = sqlx::PgPool::connect(url).await.expect("pool");
            sqlx::query(sql).execute(&pool).await.expect("statement");
        }
        None => {
            let url = format!("sqlite://{}", stack.dir.path().join("zportal.db").display());
            let pool = sqlx::SqlitePool::connect(&url).await.expect("pool");
            sqlx::query(sql).execute(&pool).await.expect("statement");
        }
    }
}

#[test]
fn a_connection_no_key_decrypts_asks_for_a_new_sign_in_instead_of_failing() {
    testkit::block_on(async {
        let stack = testkit::server::stack(&[]).await;
        let ada = testkit::server::Browser::new();
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        // A list always asks Zoho (the module's metadata may come from this process's memory).
        let meta = format!(
            "{}/api/records/list?args[module]=Leads&args[sort]=id&args[ascending]=false\
             &args[per_page]=20&args[page]=1&args[match_any]=false",
            stack.base
        );
        assert_eq!(ada.get(&meta).await.status().as_u16(), 200);

        // The key these tokens were made with is gone (dropped before a rewrap, say).
        raw_sql(
            &stack,
            "UPDATE connections SET refresh_token = 'k9:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==', \
             access_token = 'k9:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=='",
        )
        .await;
        stack.state.zoho().vault.invalidate_all();
        stack.state.zoho().tokens.invalidate_all();
        let res = ada.get(&meta).await;
        assert_eq!(res.status().as_u16(), 409, "not a 500");
        let body = res.text().await.expect("body");
        assert!(body.contains("NeedsReconnect"), "{body}");

        // Signing in again (Zoho asks for consent once more) makes it work.
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        assert_eq!(ada.get(&meta).await.status().as_u16(), 200);
        add_to_summary(
            "hardening",
            "rotation: a connection no configured key decrypts needs a new sign-in (409), never a 500",
        );
    });
}

#[test]
fn rewrap_moves_every_token_to_the_first_key_so_the_old_one_can_go() {
    testkit::block_on(async {
        let old = keeper::vault::TokenCipher::generate_key_list();
        let stack = testkit::server::stack(&[("ZPORTAL_TOKEN_KEY", &old)]).await;
        let ada = testkit::server::Browser::new();
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        let new = keeper::vault::TokenCipher::generate_key_list().replace("k1:", "k2:");
        let both = format!("{new},{old}");
        let store_env: Vec<(&str, String)> = match &stack.postgres {
            Some(url) => vec![("DATABASE_URL", url.clone())],
            None => vec![],
        };
        let cli = |keys: String, args: &'static [&'static str]| {
            let mut cmd = Command::new(testkit::server::process::server_binary());
            cmd.args(args)
                .env("ZPORTAL_DATA_DIR", stack.dir.path())
                .env("ZOHO_EMULATOR_URL", stack.emulator_base())
                .env("ZPORTAL_TOKEN_KEY", keys)
                .env("RUST_LOG", "warn")
                .envs(store_env.iter().map(|(k, v)| (*k, v.as_str())));
            let out = cmd.output().expect("the CLI runs");
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            (out.status.success(), text)
        };
        let (ok, text) = cli(both, &["connections", "rewrap"]);
        assert!(ok, "{text}");
        assert!(
            text.contains("re-encrypted 1 of 1 connections with key k2"),
            "{text}"
        );
        let (ok, text) = cli(new, &["connections", "list"]);
        assert!(ok && text.contains("ada@us.zportal.test"), "{text}");
        assert!(
            text.contains("active"),
            "readable with the new key alone: {text}"
        );
        add_to_summary(
            "hardening",
            "rotation: `connections rewrap` re-encrypts every token with the first key",
        );
    });
}

#[test]
fn the_data_directory_is_the_owners_alone_and_a_shared_key_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;

    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    // A first start (here the CLI's) makes the data directory, the database and the key.
    let parent = tempfile::tempdir().expect("temp dir");
    let fresh = parent.path().join("data");
    let out = Command::new(testkit::server::process::server_binary())
        .args(["connections", "list"])
        .env("ZPORTAL_DATA_DIR", &fresh)
        .env("ZOHO_EMULATOR", "1")
        .env_remove("DATABASE_URL")
        .env_remove("ZPORTAL_TOKEN_KEY")
        .output()
        .expect("the CLI runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&fresh), 0o700, "the data directory");
    assert_eq!(mode(&fresh.join("zportal.db")), 0o600, "the database");
    assert_eq!(mode(&fresh.join("token.key")), 0o600, "the key");
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("token.key");
    std::fs::write(&key, keeper::vault::TokenCipher::generate_key_list()).expect("write");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (out, text) = refused_start_in(dir.path(), &[("ZOHO_EMULATOR", "1")]);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("chmod 600"), "it says how to fix it: {text}");
    add_to_summary(
        "hardening",
        "nothing usable at rest: the data directory is 0700, its files 0600, a shared token.key refused",
    );
}

#[test]
fn a_pending_sign_in_is_stored_sealed() {
    testkit::block_on(async {
        let stack = testkit::server::stack(&[]).await;
        let browser = testkit::server::Browser::new();
        let auth_url = browser.start(&stack, "dc=us").await;
        let state = testkit::server::query_of(&auth_url)
            .remove("state")
            .expect("the state Zoho gets");
        assert!(state.len() >= 20, "{state}");
        for (place, text) in stack.stored_text().await {
            assert!(!text.contains(&state), "the state is readable in {place}");
        }
        // Sealed, not lost: the sign-in completes (state compared, verifier sent).
        browser
            .accept_and_return(&auth_url, "ada@us.zportal.test")
            .await;
        assert_eq!(
            browser.signed_in(&stack).await["active"]["email"],
            "ada@us.zportal.test"
        );
        add_to_summary(
            "hardening",
            "nothing usable at rest: a pending sign-in's state and verifier are sealed with the token key",
        );
    });
}

#[test]
fn debug_output_names_no_secret() {
    let key = keeper::vault::TokenCipher::generate_key_list();
    let vars = [
        ("ZOHO_CLIENT_ID", "1000.REAL"),
        ("ZOHO_CLIENT_SECRET", "client-secret-value-77"),
        (
            "DATABASE_URL",
            "postgres://zportal:db-password-77@db.internal/zportal",
        ),
        ("ZPORTAL_TOKEN_KEY", key.as_str()),
    ];
    let config = server::config::Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("valid");
    let shown = format!("{config:?} {:?}", zoho::Secret::new("a-token-or-code-77"));
    for secret in [
        "client-secret-value-77",
        "db-password-77",
        &key[3..],
        "a-token-or-code-77",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    add_to_summary(
        "hardening",
        "nothing usable at rest: Debug of the configuration and of secrets names none",
    );
}

#[test]
fn the_session_table_holds_no_cookie() {
    testkit::block_on(async {
        let stack = testkit::server::stack(&[]).await;
        let ada = testkit::server::Browser::new();
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        let cookie = ada.session_cookie(&stack.base).expect("the session cookie");
        for (place, text) in stack.stored_text().await {
            assert!(
                !text.contains(&cookie),
                "the session cookie is readable in {place}"
            );
        }
        // And it still is the session: the cookie finds it.
        assert_eq!(
            ada.signed_in(&stack).await["active"]["email"],
            "ada@us.zportal.test"
        );
        add_to_summary(
            "hardening",
            "nothing usable at rest: session ids are stored hashed (the table holds no cookie)",
        );
    });
}
