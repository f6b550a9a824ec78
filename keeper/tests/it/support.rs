//! An emulator on 127.0.0.1 and "processes" (vault + coordinator + CRM client) sharing one SQLite
//! file (or one PostgreSQL schema, on the PostgreSQL run), with ada's connection imported the way
//! the CLI does it.

use std::sync::Arc;
use std::time::Duration;

use keeper::refresh::Settings;
use keeper::vault::postgres::PgRepo;
use keeper::vault::sqlite::SqliteRepo;
use keeper::vault::{TokenCipher, Vault, VaultRepo};
use keeper::{SignedIn, Zoho};
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use zoho::budget::BudgetSettings;
use zoho::crm::CrmClient;
use zoho::oauth::{ClientConfig, OAuthClient};
use zoho::{ClientId, ConnectionId, DataCenter, DcTable, Secret};

pub struct World {
    pub emulator: emulator::Running,
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    /// With `ZPORTAL_TEST_POSTGRES_URL` set: a fresh schema there, shared by every "process".
    postgres: Option<String>,
    key: String,
}

pub fn settings() -> Settings {
    Settings {
        margin: Duration::from_secs(1),
        lease_ttl: Duration::from_secs(2),
        throttle_backoff: Duration::from_secs(1),
        poll: Duration::from_millis(20),
    }
}

impl World {
    pub async fn start() -> World {
        let emulator = testkit::emulator().await;
        let dir = tempfile::tempdir().expect("dir");
        World {
            emulator,
            db: dir.path().join("zportal.db"),
            _dir: dir,
            postgres: testkit::postgres_url().await,
            key: TokenCipher::generate_key_list(),
        }
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        reqwest::Client::new()
            .post(format!("{}/__emulator/{path}", self.emulator.base_url))
            .json(&body)
            .send()
            .await
            .expect("control")
            .json()
            .await
            .expect("json")
    }

    pub async fn stats(&self) -> Value {
        reqwest::get(format!("{}/__emulator/stats", self.emulator.base_url))
            .await
            .expect("stats")
            .json()
            .await
            .expect("json")
    }

    /// A separate "process": its own pool on the shared database, its own vault and coordinator.
    pub async fn process(&self) -> (Vault, CrmClient, OAuthClient) {
        self.process_with(BudgetSettings::default()).await
    }

    /// The same, its API budget (and how long answers are cached) tuned by `budget`.
    pub async fn process_with(&self, budget: BudgetSettings) -> (Vault, CrmClient, OAuthClient) {
        let repo: Arc<dyn VaultRepo> = match &self.postgres {
            Some(url) => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .connect(url)
                    .await
                    .expect("pool");
                Arc::new(PgRepo::new(pool).await.expect("migrated"))
            }
            None => self.sqlite().await,
        };
        self.process_on(repo, budget)
    }

    async fn sqlite(&self) -> Arc<dyn VaultRepo> {
        let options = SqliteConnectOptions::new()
            .filename(&self.db)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .expect("pool");
        Arc::new(SqliteRepo::new(pool).await.expect("migrated"))
    }

    fn process_on(
        &self,
        repo: Arc<dyn VaultRepo>,
        budget: BudgetSettings,
    ) -> (Vault, CrmClient, OAuthClient) {
        let vault = Vault::new(
            repo,
            Arc::new(TokenCipher::from_key_list(&self.key).expect("key")),
        );
        let dcs =
            Arc::new(DcTable::emulator(&self.emulator.base_url, &DataCenter::ALL).expect("table"));
        let http = zoho::http::client(Duration::from_secs(5)).expect("http client");
        let oauth = OAuthClient::new(
            ClientConfig {
                client_id: ClientId::new("1000.ZPORTALDEV"),
                client_secret: Secret::new("zportal-dev-secret"),
                redirect_uri: "http://127.0.0.1:3000/auth/zoho/callback".into(),
                scopes: vec![],
            },
            dcs,
            http.clone(),
        );
        let zoho = Zoho::new(oauth, vault, http, settings()).with_budget(budget);
        (zoho.vault, zoho.crm, zoho.oauth)
    }

    /// Imports ada's connection the way the CLI does: a self-client code, exchanged, and the
    /// sign-in completed (user and org read, the connection stored).
    pub async fn connect_ada(&self, vault: &Vault, oauth: &OAuthClient) -> ConnectionId {
        let grant = self
            .control(
                "self-client",
                json!({"client_id": "1000.ZPORTALDEV", "email": "ada@us.zportal.test", "scope": "ZohoCRM.modules.ALL,ZohoCRM.settings.modules.READ,ZohoCRM.settings.fields.READ,ZohoCRM.users.READ,ZohoCRM.org.READ"}),
            )
            .await;
        let code = Secret::new(grant["code"].as_str().expect("code"));
        let tokens = oauth
            .exchange_self_client(DataCenter::Us, &code)
            .await
            .expect("exchange");
        let http = zoho::http::client(Duration::from_secs(5)).expect("http client");
        let zoho = Zoho::new(oauth.clone(), vault.clone(), http, settings());
        match zoho.complete_sign_in(DataCenter::Us, tokens).await {
            Ok(SignedIn::Stored(c)) => c.id,
            other => panic!("ada's import: {other:?}"),
        }
    }

    pub async fn refreshes(&self) -> u64 {
        self.stats().await["total"]["refreshes"]
            .as_u64()
            .unwrap_or(0)
    }
}

pub use zoho::clock::now;
