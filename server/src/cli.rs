//! `server connections import|list|revoke`: manage stored connections without a browser — the
//! headless path of the SDK's "user signature". Secrets (a refresh token or a self-client grant
//! code) are read from standard input or a file, never from the command line, and nothing printed
//! holds one.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use keeper::{SignedIn, Zoho};
use zoho::{ConnectionId, DataCenter, Secret};

#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// Import a connection from a refresh token or a self-client grant code (read from stdin or
    /// --secret-file), bound to the user and org Zoho reports for it.
    Import {
        /// The data center the token or code belongs to (us, eu, in, au, jp, ca, sa, cn, uk).
        #[arg(long)]
        dc: String,
        /// What the secret is.
        #[arg(long, value_enum, default_value = "refresh-token")]
        kind: SecretKind,
        /// Read the secret from this file instead of standard input.
        #[arg(long)]
        secret_file: Option<PathBuf>,
    },
    /// List stored connections (no secrets).
    List,
    /// Revoke a connection's refresh token at Zoho and delete the connection.
    Revoke {
        /// The connection id, as `list` shows it.
        id: String,
    },
    /// Re-encrypt every stored token with the first key of ZPORTAL_TOKEN_KEY (after rotating
    /// keys), so the older keys can be dropped.
    Rewrap,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SecretKind {
    RefreshToken,
    GrantCode,
}

fn read_secret(file: Option<&PathBuf>) -> Result<Secret> {
    let mut raw = String::new();
    match file {
        Some(path) => {
            raw = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
        }
        None => {
            std::io::stdin()
                .read_to_string(&mut raw)
                .context("reading the secret from standard input")?;
        }
    }
    let value = raw.trim();
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        bail!("expected exactly one token or code, without spaces");
    }
    Ok(Secret::new(value))
}

pub async fn run(zoho: &Zoho, command: ConnectionsCommand) -> Result<()> {
    match command {
        ConnectionsCommand::Import {
            dc,
            kind,
            secret_file,
        } => {
            let dc: DataCenter = dc.parse()?;
            zoho.dcs().endpoints(dc)?;
            let secret = read_secret(secret_file.as_ref())?;
            let grant = match kind {
                SecretKind::RefreshToken => {
                    let mut g = zoho.oauth.refresh(dc, &secret).await?;
                    g.refresh_token = Some(secret);
                    g
                }
                SecretKind::GrantCode => zoho.oauth.exchange_self_client(dc, &secret).await?,
            };
            if grant.refresh_token.is_none() {
                bail!("Zoho gave no refresh token for that code: create it with offline access");
            }
            let SignedIn::Stored(c) = zoho.complete_sign_in(dc, grant).await? else {
                bail!("Zoho gave no refresh token for that code: create it with offline access");
            };
            println!(
                "imported {} ({} at {}, {})",
                c.id, c.email, c.org_name, c.key.dc
            );
        }
        ConnectionsCommand::List => {
            let all = zoho.vault.all().await?;
            if all.is_empty() {
                println!("no connections");
            }
            for c in all {
                println!(
                    "{}\t{}\t{}\t{} ({})\t{}\texpires {}",
                    c.id,
                    c.key.dc,
                    c.email,
                    c.org_name,
                    c.key.org,
                    c.status.as_str(),
                    c.access_expires_at.unwrap_or_default()
                );
            }
        }
        ConnectionsCommand::Rewrap => {
            let r = zoho.vault.rewrap_all().await?;
            println!(
                "re-encrypted {} of {} connections with key {}",
                r.rewrapped, r.connections, r.key
            );
            if r.unreadable > 0 {
                println!(
                    "{} connections decrypt with no configured key: marked \"needs reconnect\" (their users sign in again)",
                    r.unreadable
                );
            }
        }
        ConnectionsCommand::Revoke { id } => {
            let id = ConnectionId::new(id);
            let Some(c) = zoho.vault.get(&id).await? else {
                bail!("no connection {id}");
            };
            // The watch channel it registered goes with it (a server moves it to another).
            zoho.watches.release_connection(&id).await?;
            if let Some(rt) = &c.refresh_token {
                zoho.oauth.revoke(c.key.dc, rt).await?;
            }
            zoho.vault.delete(&id).await?;
            println!("revoked and deleted {id}");
        }
    }
    Ok(())
}
