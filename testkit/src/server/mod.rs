//! A real zportal on 127.0.0.1 in front of a real emulator on 127.0.0.1, and a cookie-keeping
//! client that walks the sign-in the way a browser does (following redirects by hand); the
//! `server` binary as a child process ([`process`]); and the summaries the suites leave for
//! `cargo xtask test` to print.

pub mod live;
pub mod process;

use std::collections::HashMap;
use std::time::Duration;

use leptos::prelude::get_configuration;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use server::config::Config;

pub struct Stack {
    pub emulator: emulator::Running,
    /// The PostgreSQL schema URL on the PostgreSQL run; `None` on SQLite (the data directory).
    pub postgres: Option<String>,
    /// The token key given in the environment (PostgreSQL run); else it is in the data directory.
    pub token_key: Option<String>,
    pub base: String,
    /// The ops listener (`/metrics`, the detailed `/readyz`), as `ZPORTAL_OPS_ADDR` would serve it.
    pub ops_base: String,
    pub state: server::AppState,
    pub dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
    ops: tokio::task::JoinHandle<()>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.server.abort();
        self.ops.abort();
    }
}

/// Starts an emulator and a zportal using it, with extra environment `vars`.
pub async fn stack(vars: &[(&str, &str)]) -> Stack {
    stack_with(vars, |_| {}).await
}

pub async fn stack_with(vars: &[(&str, &str)], tweak: impl FnOnce(&mut Config)) -> Stack {
    let emulator = crate::emulator().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut all: Vec<(String, String)> = vec![
        (
            "ZPORTAL_DATA_DIR".into(),
            dir.path().to_string_lossy().into_owned(),
        ),
        ("LEPTOS_SITE_ADDR".into(), addr.to_string()),
        ("ZOHO_EMULATOR_URL".into(), emulator.base_url.clone()),
        // The suites sign in far more often than a person; the limit's own tests turn it on.
        ("ZPORTAL_RATE_LIMIT".into(), "off".into()),
    ];
    let postgres = postgres_url().await;
    let mut token_key = None;
    if let Some(url) = &postgres {
        let key = keeper::vault::TokenCipher::generate_key_list();
        all.push(("DATABASE_URL".into(), url.clone()));
        all.push(("ZPORTAL_TOKEN_KEY".into(), key.clone()));
        token_key = Some(key);
    }
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut config = Config::from_lookup(|k| {
        all.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    })
    .expect("config");
    tweak(&mut config);
    let options = get_configuration(None)
        .expect("leptos options")
        .leptos_options;
    let state = server::AppState::new(config, options).await.expect("state");
    let router = server::build_router(state.clone());
    let limits = state.config.connection_limits();
    let server = tokio::spawn(server::listen::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    let ops_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind ops");
    let ops_base = format!("http://{}", ops_listener.local_addr().expect("ops addr"));
    let ops_router = server::build_ops_router(state.clone());
    let ops = tokio::spawn(async move {
        let _ = axum::serve(ops_listener, ops_router).await;
    });
    Stack {
        ops_base,
        ops,
        postgres,
        token_key,
        base: format!("http://{addr}"),
        emulator,
        state,
        dir,
        server,
    }
}

pub use crate::postgres_url;

/// A TCP connection to the stack at `base` from the loopback address `source` (127.0.0.2, …):
/// a client on a host of its own, to per-client limits.
pub async fn connect_from(source: &str, base: &str) -> tokio::net::TcpStream {
    let to: std::net::SocketAddr = base
        .trim_start_matches("http://")
        .parse()
        .expect("a stack's address");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{source}:0").parse().expect("a source address"))
        .expect("bind the source address");
    socket.connect(to).await.expect("connect")
}

/// A browser: keeps cookies, follows no redirect by itself.
pub struct Browser {
    pub http: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self::building(|b| b)
    }

    /// A browser on another host: its connections come from `source` (a loopback address such
    /// as 127.0.0.2, which stands for a host of its own to per-client limits).
    pub fn from_address(source: std::net::IpAddr) -> Self {
        Self::building(|b| b.local_address(source))
    }

    fn building(tweak: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let builder = reqwest::Client::builder()
            .redirect(Policy::none())
            .cookie_provider(jar.clone())
            .timeout(Duration::from_secs(30));
        let http = tweak(builder).build().expect("client");
        Browser { http, jar }
    }

    /// The session cookie's value as the browser holds it for `base`.
    pub fn session_cookie(&self, base: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = base.parse().ok()?;
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|c| c.strip_prefix("zportal_session="))
            .map(str::to_owned)
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.expect("GET")
    }

    /// `GET /auth/zoho/start`: the authorization URL zportal sends the browser to.
    pub async fn start(&self, stack: &Stack, query: &str) -> String {
        let res = self
            .get(&format!("{}/auth/zoho/start?{query}", stack.base))
            .await;
        assert_eq!(res.status(), 303, "start redirects");
        location(&res)
    }

    /// The person at Zoho's page: posts the form; returns the callback URL Zoho redirects to.
    pub async fn at_zoho(&self, auth_url: &str, email: &str, decision: &str) -> String {
        let url = url::Url::parse(auth_url).expect("auth url");
        let mut fields: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        fields.push(("email".into(), email.into()));
        fields.push(("decision".into(), decision.into()));
        let action = auth_url.split('?').next().unwrap_or_default();
        let res = self
            .http
            .post(action)
            .form(&fields)
            .send()
            .await
            .expect("POST auth");
        assert_eq!(res.status(), 302, "Zoho redirects back");
        location(&res)
    }

    /// Follows the callback; returns where zportal sends the browser next.
    pub async fn callback(&self, url: &str) -> String {
        let res = self.get(url).await;
        assert_eq!(res.status(), 303, "the callback answers 303");
        assert_eq!(res.headers()["referrer-policy"], "no-referrer");
        assert_eq!(res.headers()["cache-control"], "no-store");
        location(&res)
    }

    /// A whole sign-in: start, accept at Zoho, callback (and a consent round if zportal asks).
    pub async fn sign_in(&self, stack: &Stack, email: &str) -> String {
        self.sign_in_at(&stack.base, email).await
    }

    /// [`Browser::sign_in`] against the zportal at `base` (a separate process, say).
    pub async fn sign_in_at(&self, base: &str, email: &str) -> String {
        let res = self.get(&format!("{base}/auth/zoho/start")).await;
        assert_eq!(res.status(), 303, "start redirects");
        self.accept_and_return(&location(&res), email).await
    }

    /// From Zoho's sign-in page at `auth_url`: accept as `email`, follow the callback, and go
    /// round once more if zportal asks for consent. Where zportal sends the browser in the end.
    pub async fn accept_and_return(&self, auth_url: &str, email: &str) -> String {
        let back = self.at_zoho(auth_url, email, "accept").await;
        let mut next = self.callback(&back).await;
        if next.contains("/oauth/v2/auth") {
            let back = self.at_zoho(&next, email, "accept").await;
            next = self.callback(&back).await;
        }
        next
    }

    /// Who zportal says is signed in (the `who_is_signed_in` server function).
    pub async fn signed_in(&self, stack: &Stack) -> Value {
        let res = self.get(&format!("{}/api/session/me", stack.base)).await;
        assert_eq!(res.status(), 200);
        res.json().await.expect("json")
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(url)
            .header("sec-fetch-site", "same-origin")
            .form(form)
            .send()
            .await
            .expect("POST")
    }
}

/// `POST {base}/api/records/save` as the form sends it (same-origin); the answer, which must be
/// a 200 saying `Saved`.
pub async fn save_record(client: &reqwest::Client, base: &str, body: &Value) -> Value {
    let res = client
        .post(format!("{base}/api/records/save"))
        .header("sec-fetch-site", "same-origin")
        .json(body)
        .send()
        .await
        .expect("save");
    assert_eq!(res.status(), 200);
    let out: Value = res.json().await.expect("json");
    assert!(out["Saved"]["id"].is_string(), "{out}");
    out
}

/// `POST {emulator}/__emulator/{path}` with `body`; the answer, which must be a success.
pub async fn emulator_post(emulator: &str, path: &str, body: Value) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{emulator}/__emulator/{path}"))
        .json(&body)
        .send()
        .await
        .expect("control");
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.expect("json")
}

/// The server function that lists `per_page` Leads, at the server at `base`.
pub fn leads_list_url(base: &str, per_page: usize) -> String {
    format!("{base}/api/records/list?args[module]=Leads&args[per_page]={per_page}")
}

/// `GET {emulator}/__emulator/{path}`.
pub async fn emulator_get(emulator: &str, path: &str) -> Value {
    reqwest::get(format!("{emulator}/__emulator/{path}"))
        .await
        .expect("control")
        .json()
        .await
        .expect("json")
}

pub use crate::add_to_summary;

pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Replaces (or adds) one query parameter of `url`.
pub fn with_param(url: &str, key: &str, value: &str) -> String {
    let mut u = url::Url::parse(url).expect("url");
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != key)
        .collect();
    u.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(key, value);
    u.to_string()
}

/// Removes one query parameter of `url`.
pub fn without_param(url: &str, key: &str) -> String {
    let mut u = url::Url::parse(url).expect("url");
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != key)
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

pub fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect()
}

impl Stack {
    /// Everything the store holds, as text: the SQLite files of the data directory, or every
    /// row of the PostgreSQL schema and session table.
    pub async fn stored_text(&self) -> Vec<(String, String)> {
        match &self.postgres {
            None => std::fs::read_dir(self.dir.path())
                .expect("data dir")
                .map(|e| {
                    let path = e.expect("entry").path();
                    let bytes = std::fs::read(&path).expect("read");
                    (
                        path.display().to_string(),
                        String::from_utf8_lossy(&bytes).into_owned(),
                    )
                })
                .collect(),
            Some(url) => {
                let pool = sqlx::PgPool::connect(url).await.expect("pool");
                let mut out = Vec::new();
                for (what, sql) in [
                    (
                        "connections",
                        "SELECT row_to_json(c)::text FROM connections c",
                    ),
                    (
                        "sessions",
                        "SELECT encode(data, 'escape') FROM tower_sessions.session",
                    ),
                ] {
                    let rows: Vec<(String,)> =
                        sqlx::query_as(sql).fetch_all(&pool).await.expect(what);
                    let text = rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n");
                    out.push((what.to_owned(), text));
                }
                out
            }
        }
    }

    pub fn emulator_base(&self) -> &str {
        &self.emulator.base_url
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        emulator_post(self.emulator_base(), path, body).await
    }

    pub async fn control_get(&self, path: &str) -> Value {
        emulator_get(self.emulator_base(), path).await
    }

    /// The emulator's newest request number.
    pub async fn last_seq(&self) -> u64 {
        crate::emulator_last_seq(self.emulator_base()).await
    }

    /// Requests the emulator saw since `seq` that carried the client secret.
    pub async fn secret_requests_since(&self, seq: u64) -> Vec<Value> {
        self.control_get(&format!("requests?since={seq}")).await["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r["secret_present"] == json!(true))
            .collect()
    }

    /// Endpoints the emulator saw since `seq`, in order.
    pub async fn endpoints_since(&self, seq: u64) -> Vec<String> {
        self.control_get(&format!("requests?since={seq}")).await["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| r["endpoint"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}
