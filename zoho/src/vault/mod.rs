//! The token vault: each user+org's Zoho connection, stored with its tokens encrypted. Storage is
//! a [`ConnectionRepo`] (SQL that runs on SQLite and, later, PostgreSQL); the vault encrypts on the
//! way in and decrypts on the way out, so plaintext tokens exist only in memory.

pub mod cipher;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

pub use cipher::{CipherError, TokenCipher};

use crate::dc::DataCenter;
use crate::ids::{ClientId, ConnectionId, OrgId, UserId};
use crate::secret::Secret;

/// What identifies a connection: one per client, data center, org and user.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionKey {
    pub client_id: ClientId,
    pub dc: DataCenter,
    pub org: OrgId,
    pub user: UserId,
}

impl ConnectionKey {
    /// Associated data for one of this connection's ciphertexts: a token decrypts only for the
    /// connection and the purpose (`refresh` or `access`) it was written for.
    fn aad(&self, purpose: &str) -> Vec<u8> {
        format!(
            "zportal/v1|{}|{}|{}|{}|{purpose}",
            self.client_id, self.dc, self.org, self.user
        )
        .into_bytes()
    }
}

/// Whether a connection can be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionStatus {
    Active,
    /// Zoho refused the refresh token (revoked or deleted): the user must sign in again.
    NeedsReconnect,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Active => "active",
            ConnectionStatus::NeedsReconnect => "needs_reconnect",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "needs_reconnect" => ConnectionStatus::NeedsReconnect,
            _ => ConnectionStatus::Active,
        }
    }
}

/// A stored connection with its tokens decrypted.
#[derive(Clone, Debug)]
pub struct Connection {
    pub id: ConnectionId,
    pub key: ConnectionKey,
    pub email: String,
    pub org_name: String,
    pub scopes: Vec<String>,
    pub status: ConnectionStatus,
    pub refresh_token: Option<Secret>,
    pub access_token: Option<Secret>,
    /// Unix seconds.
    pub access_expires_at: Option<i64>,
    /// Bumped each time the access token changes.
    pub generation: i64,
    pub last_refresh_at: Option<i64>,
    pub created_at: i64,
}

/// What a sign-in learned, to store.
#[derive(Clone, Debug)]
pub struct NewConnection {
    pub key: ConnectionKey,
    pub email: String,
    pub org_name: String,
    pub scopes: Vec<String>,
    /// `None` keeps the stored refresh token (Zoho gives none to a returning user).
    pub refresh_token: Option<Secret>,
    pub access_token: Secret,
    pub access_expires_at: i64,
}

/// A row as stored: tokens are ciphertexts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionRow {
    pub id: String,
    pub client_id: String,
    pub dc: String,
    pub org_zgid: String,
    pub user_zuid: String,
    pub email: String,
    pub org_name: String,
    pub scopes: String,
    pub status: String,
    pub refresh_token: Option<String>,
    pub access_token: Option<String>,
    pub access_expires_at: Option<i64>,
    pub generation: i64,
    pub last_refresh_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Storage failures; carry no token material.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("connection store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("connection store migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Cipher(#[from] CipherError),
    #[error("stored connection is corrupt: {0}")]
    Corrupt(&'static str),
}

/// Row-level storage of connections, in SQL every supported database speaks.
#[async_trait]
pub trait ConnectionRepo: Send + Sync {
    async fn by_id(&self, id: &str) -> Result<Option<ConnectionRow>, VaultError>;
    async fn by_key(
        &self,
        client_id: &str,
        dc: &str,
        org: &str,
        user: &str,
    ) -> Result<Option<ConnectionRow>, VaultError>;
    async fn insert(&self, row: &ConnectionRow) -> Result<(), VaultError>;
    /// Replaces the sign-in fields and tokens of an existing row (by id), bumping its generation.
    async fn update_sign_in(&self, row: &ConnectionRow) -> Result<(), VaultError>;
    async fn delete(&self, id: &str) -> Result<bool, VaultError>;
    async fn all(&self) -> Result<Vec<ConnectionRow>, VaultError>;
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Connections, encrypted at rest.
#[derive(Clone)]
pub struct Vault {
    repo: Arc<dyn ConnectionRepo>,
    cipher: Arc<TokenCipher>,
}

impl Vault {
    pub fn new(repo: Arc<dyn ConnectionRepo>, cipher: Arc<TokenCipher>) -> Self {
        Vault { repo, cipher }
    }

    /// Stores what a sign-in learned: a new connection, or the existing one for the same key
    /// updated (its refresh token kept when none came).
    pub async fn save_sign_in(&self, new: NewConnection) -> Result<Connection, VaultError> {
        let k = &new.key;
        let existing = self
            .repo
            .by_key(
                k.client_id.as_str(),
                k.dc.location(),
                k.org.as_str(),
                k.user.as_str(),
            )
            .await?;
        let now = now();
        let refresh = new
            .refresh_token
            .as_ref()
            .map(|t| self.cipher.encrypt(t, &k.aad("refresh")));
        let access = self.cipher.encrypt(&new.access_token, &k.aad("access"));
        let row = match existing {
            Some(old) => {
                let row = ConnectionRow {
                    email: new.email.clone(),
                    org_name: new.org_name.clone(),
                    scopes: new.scopes.join(","),
                    status: ConnectionStatus::Active.as_str().to_owned(),
                    refresh_token: refresh.or(old.refresh_token.clone()),
                    access_token: Some(access),
                    access_expires_at: Some(new.access_expires_at),
                    generation: old.generation + 1,
                    updated_at: now,
                    ..old
                };
                self.repo.update_sign_in(&row).await?;
                row
            }
            None => {
                let row = ConnectionRow {
                    id: ConnectionId::random().as_str().to_owned(),
                    client_id: k.client_id.to_string(),
                    dc: k.dc.location().to_owned(),
                    org_zgid: k.org.to_string(),
                    user_zuid: k.user.to_string(),
                    email: new.email.clone(),
                    org_name: new.org_name.clone(),
                    scopes: new.scopes.join(","),
                    status: ConnectionStatus::Active.as_str().to_owned(),
                    refresh_token: refresh,
                    access_token: Some(access),
                    access_expires_at: Some(new.access_expires_at),
                    generation: 1,
                    last_refresh_at: None,
                    created_at: now,
                    updated_at: now,
                };
                self.repo.insert(&row).await?;
                row
            }
        };
        self.decrypt(row)
    }

    pub async fn get(&self, id: &ConnectionId) -> Result<Option<Connection>, VaultError> {
        match self.repo.by_id(id.as_str()).await? {
            Some(row) => self.decrypt(row).map(Some),
            None => Ok(None),
        }
    }

    /// The stored connection for `key`, if any.
    pub async fn find(&self, key: &ConnectionKey) -> Result<Option<Connection>, VaultError> {
        let row = self
            .repo
            .by_key(
                key.client_id.as_str(),
                key.dc.location(),
                key.org.as_str(),
                key.user.as_str(),
            )
            .await?;
        row.map(|r| self.decrypt(r)).transpose()
    }

    pub async fn delete(&self, id: &ConnectionId) -> Result<bool, VaultError> {
        self.repo.delete(id.as_str()).await
    }

    pub async fn all(&self) -> Result<Vec<Connection>, VaultError> {
        self.repo
            .all()
            .await?
            .into_iter()
            .map(|r| self.decrypt(r))
            .collect()
    }

    fn decrypt(&self, row: ConnectionRow) -> Result<Connection, VaultError> {
        let key = ConnectionKey {
            client_id: ClientId::new(row.client_id),
            dc: row
                .dc
                .parse()
                .map_err(|_| VaultError::Corrupt("unknown data center"))?,
            org: OrgId::new(row.org_zgid),
            user: UserId::new(row.user_zuid),
        };
        let refresh_token = row
            .refresh_token
            .as_deref()
            .map(|c| self.cipher.decrypt(c, &key.aad("refresh")))
            .transpose()?;
        let access_token = row
            .access_token
            .as_deref()
            .map(|c| self.cipher.decrypt(c, &key.aad("access")))
            .transpose()?;
        Ok(Connection {
            id: ConnectionId::new(row.id),
            key,
            email: row.email,
            org_name: row.org_name,
            scopes: row
                .scopes
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            status: ConnectionStatus::parse(&row.status),
            refresh_token,
            access_token,
            access_expires_at: row.access_expires_at,
            generation: row.generation,
            last_refresh_at: row.last_refresh_at,
            created_at: row.created_at,
        })
    }
}
