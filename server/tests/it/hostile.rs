//! Hostile and malformed input against a real zportal and emulator: forged and mangled callbacks,
//! cross-site posts to every mutating route and server function, server functions without a
//! session, forged and replayed cookies, unknown modules, ids and fields, oversized bodies, and
//! script in record values. Each must be refused with a 3xx/4xx (never a 5xx), nothing echoed as
//! markup, and the server still answering afterwards. Each case is a test of its own; their
//! counts are written for `cargo xtask test` to print.

use serde_json::{Value, json};
use testkit::server::*;

/// The injected markup every echo check looks for.
const SCRIPT: &str = "<script>alert(1)</script>";

/// Tallies the cases and says which one failed.
#[derive(Default)]
struct Tally {
    tried: usize,
}

impl Tally {
    /// The case is over: the server still answers, and the tally goes into the summary
    /// `cargo xtask test` prints.
    async fn done(self, case: &str, browser: &Browser, base: &str) {
        assert_eq!(browser.get(&format!("{base}/healthz")).await.status(), 200);
        assert!(self.tried > 0, "{case} tried nothing");
        add_to_summary("hostile", &format!("{} {case}", self.tried));
    }

    /// A refusal: 3xx or 4xx (`expect` narrows it when given), and no raw markup in the answer.
    async fn refused(&mut self, what: &str, res: reqwest::Response, expect: Option<u16>) -> String {
        self.tried += 1;
        let status = res.status().as_u16();
        let location = location(&res);
        let body = res.text().await.unwrap_or_default();
        match expect {
            Some(want) => assert_eq!(status, want, "{what}: {body}"),
            None => assert!(
                (300..500).contains(&status),
                "{what}: HTTP {status}: {body}"
            ),
        }
        assert!(!body.contains(SCRIPT), "{what} echoed markup: {body}");
        assert!(
            !location.contains("evil.example"),
            "{what} redirected off-site: {location}"
        );
        body
    }
}

/// A request with headers a browser on another site would send.
fn cross_site(req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    req.header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
}

const SERVER_FN_GETS: [&str; 7] = [
    "session/me",
    "records/modules",
    "records/meta?module=Leads",
    "records/list?args[module]=Leads",
    "records/get?module=Leads&id=1",
    "records/form?module=Leads",
    "connection/health",
];

/// A fresh zportal, its base URL, a tally and a browser with no session.
async fn setup() -> (Stack, String, Tally, Browser) {
    let stack = stack(&[]).await;
    let base = stack.base.clone();
    (stack, base, Tally::default(), Browser::new())
}

/// Callbacks nobody started, mangled in every way.
#[test]
fn mangled_callbacks_nobody_started_are_refused() {
    testkit::block_on(async {
        let (stack, base, mut t, anon) = setup().await;
        // Callbacks nobody started, mangled in every way.
        let huge = "A".repeat(16 * 1024);
        let script = urlencode(SCRIPT);
        for query in [
            String::new(),
            "state=a&state=b&code=c&code=d".to_owned(),
            "state=%FF%FE&code=%C3%28&location=%80".to_owned(),
            format!("state={huge}&code={huge}"),
            format!("state={script}&code={script}&location={script}"),
            format!("error={script}"),
            "code=x&state=y&location=us&accounts-server=https%3A%2F%2Fevil.example".to_owned(),
            "code=x&state=y&location=zz&accounts-server=https%3A%2F%2Faccounts.zoho.com".to_owned(),
        ] {
            let res = anon
                .get(&format!("{base}/auth/zoho/callback?{query}"))
                .await;
            t.refused(&format!("callback ?{:.60}", query), res, None)
                .await;
        }
        t.done("mangled callbacks nobody started are refused", &anon, &base)
            .await;
        drop(stack);
    });
}

/// The error page shows whatever reason it is given as text.
#[test]
fn the_error_page_shows_its_reason_as_text() {
    testkit::block_on(async {
        let (stack, base, mut t, anon) = setup().await;
        let script = urlencode(SCRIPT);
        // The error page shows a reason as text, whatever it is given.
        let res = anon
            .get(&format!("{base}/auth/error?reason={script}"))
            .await;
        assert_eq!(res.status(), 200);
        t.tried += 1;
        assert!(!res.text().await.unwrap_or_default().contains(SCRIPT));
        t.done("the error page shows its reason as text", &anon, &base)
            .await;
        drop(stack);
    });
}

/// Unknown data centers are refused; a `return_to` off the site ends at `/`.
#[test]
fn sign_in_starts_refuse_unknown_dcs_and_off_site_returns() {
    testkit::block_on(async {
        let (stack, base, mut t, anon) = setup().await;
        // Sign-in starts for unknown data centers; return_to off-site is replaced by `/`.
        let res = anon.get(&format!("{base}/auth/zoho/start?dc=zz")).await;
        t.refused("start with an unknown DC", res, None).await;
        for target in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
        ] {
            let browser = Browser::new();
            let auth = browser
                .start(&stack, &format!("return_to={}", urlencode(target)))
                .await;
            t.tried += 1;
            let next = browser
                .accept_and_return(&auth, "ada@us.zportal.test")
                .await;
            assert_eq!(next, "/", "return_to {target} ends at home");
        }
        t.done(
            "sign in starts refuse unknown dcs and off site returns",
            &anon,
            &base,
        )
        .await;
        drop(stack);
    });
}

/// Every server function, read or write, without a session.
#[test]
fn server_functions_without_a_session_answer_401() {
    testkit::block_on(async {
        let (stack, base, mut t, anon) = setup().await;
        // Server functions without a session.
        for path in SERVER_FN_GETS.iter().skip(1) {
            let res = anon.get(&format!("{base}/api/{path}")).await;
            t.refused(&format!("{path} without a session"), res, Some(401))
                .await;
        }
        let res = anon
            .http
            .post(format!("{base}/api/records/save"))
            .json(&json!({"module": "Leads", "id": null, "values": {}, "save_token": "ab".repeat(16)}))
            .send()
            .await
            .expect("POST");
        t.refused("records/save without a session", res, Some(401))
            .await;
        let res = anon
            .post_form(
                &format!("{base}/api/records/delete"),
                &[("module", "Leads"), ("ids[0]", "1")],
            )
            .await;
        t.refused("records/delete without a session", res, Some(401))
            .await;
        t.done(
            "server functions without a session answer 401",
            &anon,
            &base,
        )
        .await;
        drop(stack);
    });
}

/// A forged cookie and one replayed after sign-out are nobody.
#[test]
fn forged_and_replayed_cookies_are_nobody() {
    testkit::block_on(async {
        let (stack, base, mut t, anon) = setup().await;
        // Forged and replayed session cookies are nobody.
        let forged = Browser::new();
        let url: reqwest::Url = base.parse().expect("base");
        forged
            .jar
            .add_cookie_str("zportal_session=AAAAAAAAAAAAAAAAAAAAAA", &url);
        assert_eq!(forged.signed_in(&stack).await, Value::Null);
        t.tried += 1;
        let ada = Browser::new();
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        let stolen = ada.session_cookie(&base).expect("session");
        let res = ada.post_form(&format!("{base}/auth/signout"), &[]).await;
        assert_eq!(res.status(), 303);
        let replay = Browser::new();
        replay
            .jar
            .add_cookie_str(&format!("zportal_session={stolen}"), &url);
        assert_eq!(
            replay.signed_in(&stack).await,
            Value::Null,
            "a signed-out session stays out"
        );
        t.tried += 1;
        t.done("forged and replayed cookies are nobody", &anon, &base)
            .await;
        drop(stack);
    });
}

/// Signed in: a cross-site POST to every mutating route and server function.
#[test]
fn cross_site_posts_are_refused_everywhere() {
    testkit::block_on(async {
        let (stack, base, mut t, anon) = setup().await;
        // Signed in: cross-site posts to every mutating route and server function.
        let ada = Browser::new();
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        for route in [
            "auth/signout",
            "auth/disconnect",
            "auth/switch",
            "api/records/delete",
            "api/auth/data-center",
        ] {
            let res = cross_site(
                ada.http
                    .post(format!("{base}/{route}"))
                    .form(&[("connection", "x")]),
            )
            .send()
            .await
            .expect("POST");
            t.refused(&format!("cross-site POST {route}"), res, Some(403))
                .await;
        }
        let res = cross_site(ada.http.post(format!("{base}/api/records/save")))
            .json(&json!({"module": "Leads", "id": null, "values": {}, "save_token": "ab".repeat(16)}))
            .send()
            .await
            .expect("POST");
        t.refused("cross-site records/save", res, Some(403)).await;
        assert!(
            ada.signed_in(&stack).await.is_object(),
            "still signed in after all that"
        );
        t.done("cross site posts are refused everywhere", &anon, &base)
            .await;
        drop(stack);
    });
}

/// Unknown modules, ids and fields; malformed and oversized bodies.
#[test]
fn unknown_modules_ids_fields_and_bad_bodies_are_400() {
    testkit::block_on(async {
        let (stack, base, mut t, anon) = setup().await;
        let script = urlencode(SCRIPT);
        let ada = Browser::new();
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        let save = format!("{base}/api/records/save");
        // Unknown modules, ids and fields; malformed and oversized bodies.
        for path in [
            "records/list?args[module]=No_Such_Module".to_owned(),
            "records/list?args[module]=..%2F..%2Fsettings".to_owned(),
            format!("records/list?args[module]={script}"),
            "records/list?args[module]=Leads&args[per_page]=-5".to_owned(),
            "records/list?args[module]=Leads&args[conditions][0][field]=Secret&args[conditions][0][operator]=equals&args[conditions][0][value]=x".to_owned(),
            "records/get?module=Leads&id=1%27%20OR%201%3D1".to_owned(),
            format!("records/get?module=Leads&id={script}"),
            "records/meta?module=".to_owned(),
            "records/form?module=Leads&id=does-not-exist".to_owned(),
        ] {
            let res = ada.get(&format!("{base}/api/{path}")).await;
            t.refused(&format!("GET {path:.70}"), res, Some(400)).await;
        }
        for (what, body) in [
            ("not JSON", "{\"module\": ".to_owned()),
            ("wrong shape", "[1,2,3]".to_owned()),
            ("unknown field", json!({"module": "Leads", "id": null, "values": {"No_Such_Field": {"kind": "Text", "value": "x"}}, "save_token": "ef".repeat(16)}).to_string()),
            ("unknown module", json!({"module": "No_Such", "id": null, "values": {}, "save_token": "ef".repeat(16)}).to_string()),
        ] {
            let res = ada
                .http
                .post(&save)
                .header("content-type", "application/json")
                .header("sec-fetch-site", "same-origin")
                .body(body)
                .send()
                .await
                .expect("POST");
            // Bad input is a 400; a well-formed form Zoho cannot take is "Refused" by field.
            t.tried += 1;
            let status = res.status().as_u16();
            let out = res.text().await.unwrap_or_default();
            assert!(
                status == 400 || (status == 200 && out.contains("Refused")),
                "{what}: {status} {out}"
            );
        }
        let res = ada
            .http
            .post(&save)
            .header("content-type", "application/json")
            .header("sec-fetch-site", "same-origin")
            .body(vec![b' '; server::MAX_BODY + 1])
            .send()
            .await
            .expect("POST");
        t.refused("a body over the limit", res, Some(413)).await;
        t.done(
            "unknown modules ids fields and bad bodies are 400",
            &anon,
            &base,
        )
        .await;
        drop(stack);
    });
}

/// Script in record values is stored as text and rendered as text.
#[test]
fn script_in_record_values_is_shown_as_text() {
    testkit::block_on(async {
        let (stack, base, mut t, anon) = setup().await;
        let ada = Browser::new();
        ada.sign_in(&stack, "ada@us.zportal.test").await;
        let save = format!("{base}/api/records/save");
        // Script in record values is stored as text and rendered as text.
        let form: Value = ada
            .get(&format!("{base}/api/records/form?module=Leads"))
            .await
            .json()
            .await
            .expect("form");
        let token = form["save_token"].as_str().expect("token").to_owned();
        let res = ada
            .http
            .post(&save)
            .header("sec-fetch-site", "same-origin")
            .json(
                &json!({"module": "Leads", "id": null, "save_token": token, "values": {
                    "Last_Name": {"kind": "Text", "value": SCRIPT},
                    "Company": {"kind": "Text", "value": "<img src=x onerror=alert(1)>"},
                }}),
            )
            .send()
            .await
            .expect("POST");
        let saved: Value = res.json().await.expect("json");
        let id = saved["Saved"]["id"].as_str().expect("saved").to_owned();
        let page = ada
            .get(&format!("{base}/m/Leads/{id}"))
            .await
            .text()
            .await
            .expect("page");
        t.tried += 1;
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "shown as text"
        );
        for bad in [SCRIPT, "<img src=x"] {
            if let Some(at) = page.find(bad) {
                panic!(
                    "never as markup: {}",
                    &page[at.saturating_sub(300)..(at + 100).min(page.len())]
                );
            }
        }
        t.done("script in record values is shown as text", &anon, &base)
            .await;
        drop(stack);
    });
}

#[test]
fn every_answer_carries_the_browser_defences() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let anon = Browser::new();
        for path in [
            "/",
            "/no/such/page",
            "/api/session/me",
            "/healthz",
            "/auth/zoho/start",
        ] {
            let res = anon.get(&format!("{}{path}", stack.base)).await;
            let h = res.headers();
            let csp = h["content-security-policy"].to_str().expect("ascii");
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(csp.contains("'wasm-unsafe-eval'"), "{path}");
            assert!(
                csp.contains(&format!("form-action 'self' {}", stack.emulator.base_url)),
                "{path}: the emulator's accounts origin: {csp}"
            );
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert!(h.contains_key("referrer-policy"), "{path}");
            assert!(
                !h.contains_key("strict-transport-security"),
                "{path}: plain http"
            );
        }
        // The page's inline scripts carry this response's nonce, and only it.
        let res = anon.get(&format!("{}/", stack.base)).await;
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .expect("a nonce")
            .to_owned();
        let html = res.text().await.expect("html");
        let scripts = html.matches("<script").count();
        assert!(scripts > 0);
        assert_eq!(
            html.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts,
            "every inline script has the nonce"
        );
        let again = anon.get(&format!("{}/", stack.base)).await;
        assert!(
            !again.headers()["content-security-policy"]
                .to_str()
                .expect("ascii")
                .contains(&nonce),
            "a fresh nonce per response"
        );

        let https = stack_with(&[("ZPORTAL_PUBLIC_URL", "https://zportal.example")], |_| {}).await;
        let res = anon.get(&format!("{}/healthz", https.base)).await;
        assert_eq!(
            res.headers()["strict-transport-security"],
            "max-age=31536000"
        );
    });
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
