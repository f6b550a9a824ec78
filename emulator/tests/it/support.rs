//! Shared helpers for the emulator's HTTP tests: a fresh emulator on 127.0.0.1, a client that
//! follows no redirects, and the sign-in POST that yields a grant code.

use std::collections::HashMap;

use reqwest::redirect::Policy;
use serde_json::Value;

pub const DEV_ID: &str = "1000.ZPORTALDEV";
pub const DEV_SECRET: &str = "zportal-dev-secret";
pub const REDIRECT: &str = "http://127.0.0.1:3000/auth/zoho/callback";
pub const SCOPES: &str = "ZohoCRM.modules.ALL,ZohoCRM.settings.modules.READ,ZohoCRM.settings.fields.READ,ZohoCRM.settings.related_lists.READ,ZohoCRM.users.READ,ZohoCRM.org.READ";

pub struct Emu {
    pub running: emulator::Running,
    pub base: String,
    pub http: reqwest::Client,
}

impl Emu {
    pub async fn start() -> Emu {
        Self::start_with(None).await
    }

    pub async fn start_with(state_file: Option<std::path::PathBuf>) -> Emu {
        let running = testkit::emulator_with(state_file).await;
        let base = running.base_url.clone();
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .expect("client");
        Emu {
            running,
            base,
            http,
        }
    }

    pub fn accounts(&self, dc: &str) -> String {
        format!("{}/{dc}/accounts", self.base)
    }

    pub fn api(&self, dc: &str) -> String {
        format!("{}/{dc}/api", self.base)
    }

    /// A control call that may be refused: its status and body.
    pub async fn control_answer(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/__emulator/{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("control call");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let res = self
            .http
            .request(method, format!("{}/__emulator/{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("control call");
        assert!(
            res.status().is_success(),
            "control {path}: {}",
            res.status()
        );
        res.json().await.expect("json")
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.control(reqwest::Method::POST, path, body).await
    }

    pub async fn get(&self, path: &str) -> Value {
        let res = self
            .http
            .get(format!("{}/__emulator/{path}", self.base))
            .send()
            .await
            .expect("control call");
        res.json().await.expect("json")
    }

    /// The sign-in form POST at `dc`'s accounts server; returns the redirect's query parameters.
    pub async fn authorize(&self, dc: &str, fields: &[(&str, &str)]) -> HashMap<String, String> {
        let res = self
            .http
            .post(format!("{}/oauth/v2/auth", self.accounts(dc)))
            .form(fields)
            .send()
            .await
            .expect("auth POST");
        assert_eq!(res.status(), 302, "{:?}", res.text().await);
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("a Location")
            .to_owned();
        let url = url::Url::parse(&location).expect("absolute redirect");
        assert!(location.starts_with(REDIRECT) || location.starts_with("http://"));
        url.query_pairs().into_owned().collect()
    }

    /// Signs `email` in with the dev client (offline, plus `extra` fields); returns the redirect's query.
    pub async fn sign_in(&self, email: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut fields = vec![
            ("client_id", DEV_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", SCOPES),
            ("access_type", "offline"),
            ("email", email),
            ("decision", "accept"),
        ];
        fields.extend_from_slice(extra);
        self.authorize("us", &fields).await
    }

    /// POSTs form `fields` to `dc`'s token endpoint; returns the HTTP status and JSON body.
    pub async fn token(&self, dc: &str, fields: &[(&str, &str)]) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/oauth/v2/token", self.accounts(dc)))
            .form(fields)
            .send()
            .await
            .expect("token POST");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Exchanges a code from the sign-in redirect with the dev client.
    pub async fn exchange(&self, q: &HashMap<String, String>) -> Value {
        let (status, body) = self
            .token(
                &q["location"],
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", DEV_ID),
                    ("client_secret", DEV_SECRET),
                    ("redirect_uri", REDIRECT),
                    ("code", &q["code"]),
                ],
            )
            .await;
        assert_eq!(status, 200);
        body
    }

    pub async fn refresh(&self, dc: &str, refresh_token: &str) -> Value {
        self.token(
            dc,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", DEV_ID),
                ("client_secret", DEV_SECRET),
                ("refresh_token", refresh_token),
            ],
        )
        .await
        .1
    }

    /// Signs in granting only `scope` and exchanges: the token response.
    pub async fn tokens_with_scope(&self, email: &str, scope: &str) -> Value {
        let fields = [
            ("client_id", DEV_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("email", email),
            ("decision", "accept"),
        ];
        let q = self.authorize("us", &fields).await;
        self.exchange(&q).await
    }

    /// Signs in and exchanges: the token response.
    pub async fn tokens_for(&self, email: &str) -> Value {
        let q = self.sign_in(email, &[("prompt", "consent")]).await;
        self.exchange(&q).await
    }

    /// `GET {api}/crm/v8/{path}` with an access token; status and body.
    pub async fn api_get(&self, dc: &str, path: &str, token: &str) -> (u16, Value) {
        let res = self
            .http
            .get(format!("{}/crm/v8/{path}", self.api(dc)))
            .header("Authorization", format!("Zoho-oauthtoken {token}"))
            .send()
            .await
            .expect("api GET");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}
