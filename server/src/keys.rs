//! The token encryption key: `ZPORTAL_TOKEN_KEY` when set, otherwise a key generated on first start
//! into `$ZPORTAL_DATA_DIR/token.key`, readable by the owner only.

use std::io::Write;
use std::path::{Path, PathBuf};

use keeper::vault::{CipherError, TokenCipher};

use crate::config::Config;

/// Why there is no token key to use.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Invalid(#[from] CipherError),
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is readable by others (mode {mode:o}): run `chmod 600 {}`", path.display(), path.display())]
    Shared { path: PathBuf, mode: u32 },
}

pub fn load_cipher(config: &Config) -> Result<TokenCipher, KeyError> {
    let list = match &config.store.token_key {
        Some(list) => list.expose().to_owned(),
        None => key_file(config)?,
    };
    Ok(TokenCipher::from_key_list(&list)?)
}

fn key_file(config: &Config) -> Result<String, KeyError> {
    let path = config.store.data_dir.join("token.key");
    let err = |source: std::io::Error| KeyError::File {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(list) => {
            refuse_if_shared(&path)?;
            return Ok(list.trim().to_owned());
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(err(e)),
        Err(_) => {}
    }
    let list = TokenCipher::generate_key_list();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(list.as_bytes()).map_err(err)?;
            tracing::info!("generated a token key in {}", path.display());
            Ok(list)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read_to_string(&path)
            .map(|s| s.trim().to_owned())
            .map_err(err),
        Err(e) => Err(err(e)),
    }
}

/// A key file others on the machine can read is a key they have: refused, with the fix named.
fn refuse_if_shared(path: &Path) -> Result<(), KeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|source| KeyError::File {
                path: path.to_owned(),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(KeyError::Shared {
                path: path.to_owned(),
                mode: mode & 0o777,
            });
        }
    }
    let _ = path;
    Ok(())
}
