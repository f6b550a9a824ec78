//! The system under test: a standalone emulator and one release `server` on loopback ports, each
//! a child process this bench started (and stops, by its own handle), plus the HTTP moves a
//! browser makes to sign in.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// zportal's bound on one connection's calls in flight (`ZPORTAL_ZOHO_CONCURRENCY`) in the
/// bench: far above Zoho's caps, so the proxy rows measure the proxy, and the limits row its
/// adapting to Zoho's cap.
pub const ZOHO_CONCURRENCY: usize = 256;

/// A child process, killed when dropped.
pub struct Process {
    child: Child,
    pub base: String,
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory in MiB, from `/proc`.
    pub fn rss_mb(&self) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .context("reading the server's /proc status")?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("VmRSS in /proc status")?;
        Ok(kb / 1024.0)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_until_up(http: &reqwest::Client, url: &str, what: &str) -> Result<()> {
    for _ in 0..300 {
        if let Ok(res) = http.get(url).send().await
            && res.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{what} did not come up at {url}")
}

/// What the bench runs against.
pub struct Stack {
    pub emulator: Process,
    pub server: Process,
    /// The server's ops listener (`ZPORTAL_OPS_ADDR`): `/metrics`.
    pub ops_base: String,
    /// The token key the server encrypts with (so the bench can read the access token it holds).
    pub token_key: String,
    pub data_dir: PathBuf,
    pub http: reqwest::Client,
    /// The server binary, for a second process on the same store (the CLI).
    server_bin: PathBuf,
}

pub struct Binaries<'a> {
    pub server: &'a Path,
    pub emulator: &'a Path,
    pub site_root: &'a Path,
}

impl Stack {
    pub async fn start(bin: &Binaries<'_>, data_dir: &Path) -> Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()?;

        let port = free_port()?;
        let child = Command::new(bin.emulator)
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.emulator.display()))?;
        let emulator = Process {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        wait_until_up(
            &http,
            &format!("{}/__emulator/dcs", emulator.base),
            "the emulator",
        )
        .await?;

        let token_key = keeper::vault::TokenCipher::generate_key_list();
        let port = free_port()?;
        let ops_port = free_port()?;
        let child = Command::new(bin.server)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("ZPORTAL_OPS_ADDR", format!("127.0.0.1:{ops_port}"))
            .env("LEPTOS_SITE_ROOT", bin.site_root)
            .env("ZOHO_EMULATOR_URL", &emulator.base)
            .env("ZPORTAL_DATA_DIR", data_dir)
            .env("ZPORTAL_TOKEN_KEY", &token_key)
            .env("ZPORTAL_SERVER_TIMING", "1")
            // Ten thousand sign-ins and the load runs all come from 127.0.0.1.
            .env("ZPORTAL_RATE_LIMIT", "off")
            // The same for the per-client caps: a thousand concurrent calls from one host, and
            // the live rows' streams all of one session (one user's many pages).
            .env("ZPORTAL_MAX_CONNECTIONS_PER_CLIENT", "100000")
            .env("ZPORTAL_MAX_STREAMS_PER_CLIENT", "100000")
            .env(
                "ZPORTAL_MAX_STREAMS_PER_SESSION",
                crate::live::STREAMS.to_string(),
            )
            // The proxy rows' caps raised: wrk's clients are all one user.
            .env("ZPORTAL_ZOHO_CONCURRENCY", ZOHO_CONCURRENCY.to_string())
            // Every call reaches Zoho: the rows measure the proxy, not answers kept a moment.
            .env("ZPORTAL_ZOHO_CACHE", "off")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.server.display()))?;
        let server = Process {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        wait_until_up(&http, &format!("{}/readyz", server.base), "the server").await?;
        Ok(Stack {
            emulator,
            server,
            ops_base: format!("http://127.0.0.1:{ops_port}"),
            token_key,
            data_dir: data_dir.to_path_buf(),
            http,
            server_bin: bin.server.to_path_buf(),
        })
    }

    /// `server connections revoke <id>` on the server's store, as an operator runs it.
    pub async fn revoke_by_cli(&self, id: &str) -> Result<()> {
        let out = tokio::process::Command::new(&self.server_bin)
            .args(["connections", "revoke", id])
            .env("ZOHO_EMULATOR_URL", &self.emulator.base)
            .env("ZPORTAL_DATA_DIR", &self.data_dir)
            .env("ZPORTAL_TOKEN_KEY", &self.token_key)
            .env("RUST_LOG", "warn")
            .output()
            .await?;
        if !out.status.success() {
            bail!(
                "connections revoke: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Calls the emulator's control API.
    pub async fn control(&self, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}/__emulator/{path}", self.emulator.base);
        let req = match body {
            Some(body) => self.http.post(url).json(&body),
            None => self.http.get(url),
        };
        let res = req.send().await?;
        if !res.status().is_success() {
            bail!("emulator control {path}: HTTP {}", res.status());
        }
        Ok(res.json().await?)
    }

    /// Refreshes the emulator has granted so far (successful or denied).
    pub async fn token_requests(&self) -> Result<u64> {
        let stats = self.control("stats", None).await?;
        let total = &stats["total"];
        Ok(total["refreshes"].as_u64().unwrap_or(0)
            + total["refreshes_denied"].as_u64().unwrap_or(0))
    }

    /// The emulator's API domain for `dc`.
    pub async fn api_domain(&self, dc: &str) -> Result<String> {
        let dcs = self.control("dcs", None).await?;
        dcs["dcs"]
            .as_array()
            .and_then(|all| all.iter().find(|d| d["location"] == dc))
            .and_then(|d| d["api_domain"].as_str())
            .map(str::to_owned)
            .context("the emulator lists no such data center")
    }

    /// Lifts the emulator's grant-code limit (the bench signs in thousands of times) and its
    /// API limits (the proxy rows send one user's calls by the thousand, days of credits): the
    /// limits row puts them back.
    pub async fn lift_limits(&self) -> Result<()> {
        self.control(
            "config",
            Some(json!({"limits": {
                "codes_per_client": 1_000_000,
                "api_concurrency": false,
                "api_credits": false,
            }})),
        )
        .await?;
        Ok(())
    }

    /// The access token the server holds for `email`, read from its store with its key — so the
    /// direct calls use exactly the token zportal uses.
    pub async fn stored_access_token(&self, email: &str) -> Result<String> {
        let url = format!("sqlite://{}", self.data_dir.join("zportal.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await?;
        let repo = keeper::vault::sqlite::SqliteRepo::new(pool.clone()).await?;
        let cipher = keeper::vault::TokenCipher::from_key_list(&self.token_key)?;
        let vault =
            keeper::vault::Vault::new(std::sync::Arc::new(repo), std::sync::Arc::new(cipher));
        let connection = vault
            .all()
            .await?
            .into_iter()
            .find(|c| c.email == email)
            .context("no stored connection for that email")?;
        pool.close().await;
        connection
            .access_token
            .map(|t| t.expose().to_owned())
            .context("the connection holds no access token")
    }
}

/// A browser's cookie jar and the moves of a sign-in.
pub struct Browser {
    pub http: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
}

impl Browser {
    pub fn new() -> Result<Self> {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Ok(Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_provider(jar.clone())
                .timeout(Duration::from_secs(60))
                .build()?,
            jar,
        })
    }

    /// The cookies this browser sends to `server`, as a `Cookie` header value (for wrk).
    pub fn cookie_header(&self, server: &str) -> Result<String> {
        use reqwest::cookie::CookieStore;
        let header = self
            .jar
            .cookies(&server.parse()?)
            .context("no cookie for the server")?;
        Ok(header.to_str()?.to_owned())
    }

    async fn redirect(&self, req: reqwest::RequestBuilder) -> Result<String> {
        let res = req.send().await?;
        if !res.status().is_redirection() {
            bail!("expected a redirect, got HTTP {}", res.status());
        }
        Ok(res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .context("redirect without Location")?
            .to_owned())
    }

    /// Start → accept at the emulator's sign-in page → callback (with the consent round when
    /// zportal asks for one) → the first page. Ends signed in.
    pub async fn sign_in(&self, server: &str, email: &str) -> Result<()> {
        let mut auth = self
            .redirect(self.http.get(format!("{server}/auth/zoho/start")))
            .await?;
        for _ in 0..2 {
            let url = url::Url::parse(&auth)?;
            let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            form.push(("email".into(), email.into()));
            form.push(("decision".into(), "accept".into()));
            let action = auth.split('?').next().unwrap_or_default().to_owned();
            let back = self.redirect(self.http.post(action).form(&form)).await?;
            let next = self.redirect(self.http.get(back)).await?;
            if next.contains("/oauth/v2/auth") {
                auth = next;
                continue;
            }
            if next.contains("/auth/error") {
                bail!("sign-in refused: {next}");
            }
            let first = self.http.get(format!("{server}{next}")).send().await?;
            if !first.status().is_success() {
                bail!("first page after sign-in: HTTP {}", first.status());
            }
            first.bytes().await?;
            return Ok(());
        }
        bail!("sign-in went round more than twice")
    }
}
