//! Silent refresh against the real emulator on 127.0.0.1: one refresh per need however many calls
//! arrive, at expiry and after a 401, across two coordinators sharing one SQLite file; "Access
//! Denied" backs off and leaves the connection good; a revoked refresh token means "reconnect".

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use zoho::crm::{CrmClient, CrmError};
use zoho::oauth::{ClientConfig, OAuthClient, http_client};
use zoho::refresh::{Coordinator, RefreshError, Settings};
use zoho::vault::sqlite::SqliteRepo;
use zoho::vault::{ConnectionKey, ConnectionStatus, NewConnection, TokenCipher, Vault};
use zoho::{ClientId, ConnectionId, DataCenter, DcTable, Secret};

struct World {
    emulator: emulator::Running,
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    key: String,
}

fn settings() -> Settings {
    Settings {
        margin: Duration::from_secs(1),
        lease_ttl: Duration::from_secs(2),
        throttle_backoff: Duration::from_secs(1),
        poll: Duration::from_millis(20),
    }
}

impl World {
    async fn start() -> World {
        let emulator = emulator::start(emulator::Options {
            addr: "127.0.0.1:0".parse().expect("addr"),
            state_file: None,
        })
        .await
        .expect("emulator");
        let dir = tempfile::tempdir().expect("dir");
        World {
            emulator,
            db: dir.path().join("zportal.db"),
            _dir: dir,
            key: TokenCipher::generate_key_list(),
        }
    }

    async fn control(&self, path: &str, body: Value) -> Value {
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

    async fn stats(&self) -> Value {
        reqwest::get(format!("{}/__emulator/stats", self.emulator.base_url))
            .await
            .expect("stats")
            .json()
            .await
            .expect("json")
    }

    /// A separate "process": its own pool on the shared file, its own vault and coordinator.
    async fn process(&self) -> (Vault, CrmClient, OAuthClient) {
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
        let repo = SqliteRepo::new(pool).await.expect("migrated");
        let vault = Vault::new(
            Arc::new(repo),
            Arc::new(TokenCipher::from_key_list(&self.key).expect("key")),
        );
        let dcs =
            Arc::new(DcTable::emulator(&self.emulator.base_url, &DataCenter::ALL).expect("table"));
        let http = http_client(Duration::from_secs(5));
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
        let coordinator = Arc::new(Coordinator::new(vault.clone(), oauth.clone(), settings()));
        (vault, CrmClient::new(http, coordinator), oauth)
    }

    /// Imports ada's connection the way the CLI will: a self-client code, exchanged and stored.
    async fn connect_ada(&self, vault: &Vault, oauth: &OAuthClient) -> ConnectionId {
        let grant = self
            .control(
                "self-client",
                json!({"client_id": "1000.ZPORTALDEV", "email": "ada@us.zportal.test", "scope": "ZohoCRM.org.READ,ZohoCRM.users.READ"}),
            )
            .await;
        let code = Secret::new(grant["code"].as_str().expect("code"));
        let tokens = oauth
            .exchange_self_client(DataCenter::Us, &code)
            .await
            .expect("exchange");
        let http = http_client(Duration::from_secs(5));
        let user = zoho::crm::current_user(&http, &tokens.api_domain, &tokens.access_token)
            .await
            .expect("user");
        let org = zoho::crm::org(&http, &tokens.api_domain, &tokens.access_token)
            .await
            .expect("org");
        let c = vault
            .save_sign_in(NewConnection {
                key: ConnectionKey {
                    client_id: ClientId::new("1000.ZPORTALDEV"),
                    dc: DataCenter::Us,
                    org: org.zgid,
                    user: user.zuid,
                },
                email: user.email,
                org_name: org.name,
                scopes: tokens.scopes,
                refresh_token: tokens.refresh_token,
                access_token: tokens.access_token,
                access_expires_at: now() + tokens.expires_in,
            })
            .await
            .expect("saved");
        c.id
    }

    async fn refreshes(&self) -> u64 {
        self.stats().await["total"]["refreshes"]
            .as_u64()
            .unwrap_or(0)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn fifty_calls(crm: &CrmClient, id: &ConnectionId) -> Vec<Result<zoho::crm::Org, CrmError>> {
    futures::future::join_all((0..50).map(|_| crm.org(id))).await
}

#[tokio::test]
async fn fifty_calls_at_expiry_cause_exactly_one_refresh() {
    let w = World::start().await;
    w.control("config", json!({"access_token_ttl": 3})).await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    assert_eq!(
        crm.org(&id).await.expect("works before expiry").name,
        "Acme Corp"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let results = fifty_calls(&crm, &id).await;
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(w.refreshes().await, 1);
    let stats = w.stats().await;
    let per_token: Vec<u64> = stats["by_refresh_token"]
        .as_object()
        .expect("map")
        .values()
        .map(|c| c["refreshes"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(per_token, vec![1]);
    let c = vault.get(&id).await.expect("read").expect("exists");
    assert_eq!(c.generation, 2);
    assert!(c.last_refresh_at.is_some());
}

#[tokio::test]
async fn fifty_calls_that_meet_a_401_cause_exactly_one_refresh() {
    let w = World::start().await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    crm.org(&id).await.expect("works");
    // Zoho's clock moves on; ours does not: the stored token still looks valid here.
    w.control("clock/advance", json!({"seconds": 3700})).await;
    let before = w.stats().await["total"]["unauthorized"]
        .as_u64()
        .unwrap_or(0);
    let results = fifty_calls(&crm, &id).await;
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(w.refreshes().await, 1);
    assert!(
        w.stats().await["total"]["unauthorized"]
            .as_u64()
            .unwrap_or(0)
            > before,
        "the 401s happened"
    );
}

#[tokio::test]
async fn two_coordinators_sharing_one_database_refresh_once() {
    let w = World::start().await;
    let (vault_a, crm_a, oauth) = w.process().await;
    let (_vault_b, crm_b, _) = w.process().await;
    let id = w.connect_ada(&vault_a, &oauth).await;
    w.control("clock/advance", json!({"seconds": 3700})).await;
    w.control("tokens/expire", json!({"email": "ada@us.zportal.test"}))
        .await;
    let (a, b) = tokio::join!(fifty_calls(&crm_a, &id), fifty_calls(&crm_b, &id));
    assert!(a.iter().chain(b.iter()).all(Result::is_ok));
    assert_eq!(w.refreshes().await, 1);
}

#[tokio::test]
async fn access_denied_backs_off_keeps_the_connection_and_is_retried_later() {
    let w = World::start().await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    w.control("tokens/expire", json!({"email": "ada@us.zportal.test"}))
        .await;
    w.control(
        "faults",
        json!({"kind": "access_denied", "endpoint": "refresh", "count": 1}),
    )
    .await;
    match crm.org(&id).await {
        Err(CrmError::Token(RefreshError::Throttled { retry_at })) => assert!(retry_at > now() - 1),
        other => panic!("expected Throttled, got {other:?}"),
    }
    // Backing off: no second refresh goes to Zoho at once.
    assert!(matches!(
        crm.org(&id).await,
        Err(CrmError::Token(RefreshError::Throttled { .. }))
    ));
    assert_eq!(
        w.stats().await["total"]["refreshes_denied"],
        json!(0),
        "the fault, not the limit, said no"
    );
    let c = vault.get(&id).await.expect("read").expect("exists");
    assert_eq!(
        c.status,
        ConnectionStatus::Active,
        "throttling is not revocation"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(crm.org(&id).await.expect("retried later").name, "Acme Corp");
    assert_eq!(w.refreshes().await, 1);
}

#[tokio::test]
async fn a_revoked_refresh_token_means_reconnect() {
    let w = World::start().await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    w.control("tokens/revoke", json!({"email": "ada@us.zportal.test"}))
        .await;
    assert!(matches!(
        crm.org(&id).await,
        Err(CrmError::Token(RefreshError::NeedsReconnect))
    ));
    let c = vault.get(&id).await.expect("read").expect("exists");
    assert_eq!(c.status, ConnectionStatus::NeedsReconnect);
    // And it stays so without asking Zoho again.
    let before = w.stats().await["total"].clone();
    assert!(matches!(
        crm.org(&id).await,
        Err(CrmError::Token(RefreshError::NeedsReconnect))
    ));
    assert_eq!(w.stats().await["total"], before);
}

#[tokio::test]
async fn zportal_never_spends_more_than_zohos_refresh_budget() {
    let w = World::start().await;
    w.control("config", json!({"limits": {"refresh_window": false}}))
        .await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    let mut throttled = 0;
    for _ in 0..12 {
        w.control("tokens/expire", json!({"email": "ada@us.zportal.test"}))
            .await;
        w.control("clock/advance", json!({"seconds": 1})).await;
        match crm.org(&id).await {
            Ok(_) => {}
            Err(CrmError::Token(RefreshError::Throttled { .. })) => throttled += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(
        w.refreshes().await,
        10,
        "the emulator's limit was off: zportal kept its own"
    );
    assert_eq!(throttled, 2);
}
