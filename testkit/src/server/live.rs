//! Live pages from a test's side: an SSE reader for `GET /api/live` (what `EventSource` does,
//! by hand), and an API client that writes straight at the emulator's Zoho API, as Zoho's own
//! SDK or another app would — no zportal in between.

use std::time::Duration;

use app::live_event::LiveEvent;
use serde_json::{Value, json};

/// One Server-Sent Event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

impl SseEvent {
    /// The event's fields, read from its line (`live_event`'s contract) as JSON: `mode` of a
    /// `hello`; `module`, `op` and `ids` of a `change`.
    pub fn json(&self) -> Value {
        match LiveEvent::parse(&self.data) {
            Some(LiveEvent::Hello(mode)) => json!({ "mode": mode.as_str() }),
            Some(LiveEvent::Change { module, op, ids }) => {
                json!({ "module": module, "op": op.as_str(), "ids": ids })
            }
            Some(_) => json!({}),
            None => serde_json::from_str(&self.data).unwrap_or(Value::Null),
        }
    }

    pub fn seq(&self) -> Option<i64> {
        self.id.as_deref().and_then(|id| id.parse().ok())
    }
}

/// An open `GET /api/live`.
pub struct EventStream {
    res: reqwest::Response,
    buffer: String,
    /// Comments (heartbeats) seen so far.
    pub comments: usize,
}

impl EventStream {
    /// Opens the stream as `http` (a signed-in browser's client), resuming after `last_event_id`.
    pub async fn open(http: &reqwest::Client, base: &str, last_event_id: Option<i64>) -> Self {
        Self::try_open(http, base, last_event_id)
            .await
            .unwrap_or_else(|status| panic!("GET /api/live answered {status}"))
    }

    /// As [`EventStream::open`]; the status when it is not 200.
    pub async fn try_open(
        http: &reqwest::Client,
        base: &str,
        last_event_id: Option<i64>,
    ) -> Result<Self, u16> {
        let mut req = http
            .get(format!("{base}/api/live"))
            .header("accept", "text/event-stream")
            .header("sec-fetch-site", "same-origin")
            // A stream outlives any request timeout.
            .timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let res = req.send().await.expect("GET /api/live");
        if res.status() != 200 {
            return Err(res.status().as_u16());
        }
        Ok(EventStream {
            res,
            buffer: String::new(),
            comments: 0,
        })
    }

    pub fn content_type(&self) -> String {
        self.res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// The next event within `wait`; `None` if none came (or the stream ended).
    pub async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(e) = self.take_event() {
                return Some(e);
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// The next event named `kind` within `wait`, skipping others.
    pub async fn next_of(&mut self, kind: &str, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let e = self.next(left).await?;
            if e.event == kind {
                return Some(e);
            }
        }
    }

    /// Whether the server ended the stream within `wait`.
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None) | Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }

    fn take_event(&mut self) -> Option<SseEvent> {
        loop {
            let normalized = self.buffer.replace("\r\n", "\n");
            self.buffer = normalized;
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let mut e = SseEvent {
                event: "message".into(),
                ..SseEvent::default()
            };
            let mut any = false;
            for line in block.lines() {
                if line.starts_with(':') {
                    self.comments += 1;
                    continue;
                }
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                any = true;
                match field {
                    "event" => e.event = value.to_owned(),
                    "id" => e.id = Some(value.to_owned()),
                    "data" => {
                        if !e.data.is_empty() {
                            e.data.push('\n');
                        }
                        e.data.push_str(value);
                    }
                    _ => {}
                }
            }
            if any {
                return Some(e);
            }
        }
    }
}

/// Zoho's API as another app of the org sees it: a token of `email` for the dev client, taken
/// through the emulator's self-client grant, and the calls it makes.
pub struct DirectZoho {
    http: reqwest::Client,
    api: String,
    token: String,
}

impl DirectZoho {
    /// Signs `email` (of data center `dc`) in at the emulator `base`.
    pub async fn sign_in(base: &str, dc: &str, email: &str) -> Self {
        let http = reqwest::Client::new();
        let grant: Value = http
            .post(format!("{base}/__emulator/self-client"))
            .json(&json!({
                "client_id": "1000.ZPORTALDEV",
                "email": email,
                "scope": "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.notifications.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ",
            }))
            .send()
            .await
            .expect("self-client")
            .json()
            .await
            .expect("grant");
        let code = grant["code"].as_str().expect("code");
        let tokens: Value = http
            .post(format!("{base}/{dc}/accounts/oauth/v2/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", "1000.ZPORTALDEV"),
                ("client_secret", "zportal-dev-secret"),
                ("code", code),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("tokens");
        let token = tokens["access_token"].as_str().expect("access token");
        DirectZoho {
            http,
            api: format!("{base}/{dc}/api/crm/v8"),
            token: token.to_owned(),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}/{path}", self.api))
            .header("authorization", format!("Zoho-oauthtoken {}", self.token));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("Zoho API");
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap_or(Value::Null)
    }

    /// Sets `fields` of record `id` of `module`.
    pub async fn update(&self, module: &str, id: &str, fields: Value) -> Value {
        let mut record = fields;
        record["id"] = json!(id);
        self.send(
            reqwest::Method::PUT,
            module,
            Some(json!({ "data": [record] })),
        )
        .await
    }

    /// Creates a record of `module`; its id.
    pub async fn create(&self, module: &str, fields: Value) -> String {
        let answer = self
            .send(
                reqwest::Method::POST,
                module,
                Some(json!({ "data": [fields] })),
            )
            .await;
        answer["data"][0]["details"]["id"]
            .as_str()
            .expect("the new id")
            .to_owned()
    }

    pub async fn delete(&self, module: &str, id: &str) -> Value {
        self.send(reqwest::Method::DELETE, &format!("{module}/{id}"), None)
            .await
    }

    /// POSTs `body` to `path` (an action): Zoho's status and answer, whatever they are.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/{path}", self.api))
            .header("authorization", format!("Zoho-oauthtoken {}", self.token))
            .json(&body)
            .send()
            .await
            .expect("Zoho API");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> Value {
        self.send(reqwest::Method::GET, path, None).await
    }
}
