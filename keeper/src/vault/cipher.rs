//! Encryption of tokens at rest: AES-256-GCM with a fresh 96-bit nonce per value, associated data
//! binding each ciphertext to its connection key, and a key-id prefix so keys can be rotated
//! (`k2:<base64>,k1:<base64>`: the first key encrypts, every key decrypts).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use zoho::secret::Secret;

/// Why a key list or a ciphertext was refused. Never carries key or plaintext material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    #[error("the token key list is empty")]
    NoKeys,
    #[error("token key entry {0} is not `id:<base64 of 32 bytes>`")]
    BadKey(usize),
    #[error("token key id {0:?} appears twice")]
    DuplicateKeyId(String),
    #[error("ciphertext is malformed")]
    Malformed,
    #[error("ciphertext names key {0:?}, which is not configured")]
    UnknownKey(String),
    #[error("ciphertext does not decrypt (wrong key, tampered, or bound to another connection)")]
    Invalid,
}

const NONCE_LEN: usize = 12;

/// The configured keys.
pub struct TokenCipher {
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("TokenCipher")
            .field("key_ids", &ids)
            .finish()
    }
}

impl TokenCipher {
    /// Parses `k2:<base64>,k1:<base64>` (the `ZPORTAL_TOKEN_KEY` format).
    pub fn from_key_list(list: &str) -> Result<Self, CipherError> {
        let mut keys: Vec<(String, Aes256Gcm)> = Vec::new();
        for (i, entry) in list
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let (id, b64) = entry.split_once(':').ok_or(CipherError::BadKey(i + 1))?;
            let valid_id = !id.is_empty()
                && id.len() <= 16
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            let bytes = STANDARD
                .decode(b64)
                .map_err(|_| CipherError::BadKey(i + 1))?;
            if !valid_id || bytes.len() != 32 {
                return Err(CipherError::BadKey(i + 1));
            }
            if keys.iter().any(|(k, _)| k == id) {
                return Err(CipherError::DuplicateKeyId(id.to_owned()));
            }
            let cipher =
                Aes256Gcm::new_from_slice(&bytes).map_err(|_| CipherError::BadKey(i + 1))?;
            keys.push((id.to_owned(), cipher));
        }
        if keys.is_empty() {
            return Err(CipherError::NoKeys);
        }
        Ok(TokenCipher { keys })
    }

    /// A new random key list with one key, `k1`.
    pub fn generate_key_list() -> String {
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        format!("k1:{}", STANDARD.encode(key))
    }

    /// Encrypts `plaintext` with the first key, bound to `aad`: `"<key id>:<base64(nonce‖ct)>"`.
    pub fn encrypt(&self, plaintext: &Secret, aad: &[u8]) -> String {
        let (id, cipher) = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.expose().as_bytes(),
                    aad,
                },
            )
            // AES-GCM encryption fails only past 64 GiB of plaintext.
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        format!("{id}:{}", STANDARD.encode(blob))
    }

    /// The id of the key new ciphertexts are made with (the first in the list).
    pub fn current_key(&self) -> &str {
        &self.keys[0].0
    }

    /// Whether `stored` was made with the current key (otherwise it is due for re-encryption).
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .split_once(':')
            .is_some_and(|(id, _)| id == self.current_key())
    }

    /// Decrypts what [`TokenCipher::encrypt`] produced, with the same `aad`.
    pub fn decrypt(&self, stored: &str, aad: &[u8]) -> Result<Secret, CipherError> {
        let (id, b64) = stored.split_once(':').ok_or(CipherError::Malformed)?;
        let cipher = self
            .keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, c)| c)
            .ok_or_else(|| CipherError::UnknownKey(id.to_owned()))?;
        let blob = STANDARD.decode(b64).map_err(|_| CipherError::Malformed)?;
        if blob.len() < NONCE_LEN + 16 {
            return Err(CipherError::Malformed);
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| CipherError::Invalid)?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| CipherError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> TokenCipher {
        TokenCipher::from_key_list(&TokenCipher::generate_key_list()).expect("valid")
    }

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let c = cipher();
        let secret = Secret::new("1000.refresh.token");
        let stored = c.encrypt(&secret, b"conn-1");
        assert!(stored.starts_with("k1:"));
        assert!(!stored.contains("refresh"));
        assert_eq!(c.decrypt(&stored, b"conn-1"), Ok(secret.clone()));
        assert_ne!(
            stored,
            c.encrypt(&secret, b"conn-1"),
            "a fresh nonce each time"
        );
    }

    #[test]
    fn wrong_aad_flipped_bytes_and_other_keys_fail() {
        let c = cipher();
        let stored = c.encrypt(&Secret::new("token"), b"conn-1");
        assert_eq!(c.decrypt(&stored, b"conn-2"), Err(CipherError::Invalid));
        let (id, b64) = stored.split_once(':').expect("prefix");
        let mut blob = STANDARD.decode(b64).expect("base64");
        for i in 0..blob.len() {
            blob[i] ^= 0x01;
            let tampered = format!("{id}:{}", STANDARD.encode(&blob));
            assert_eq!(
                c.decrypt(&tampered, b"conn-1"),
                Err(CipherError::Invalid),
                "byte {i}"
            );
            blob[i] ^= 0x01;
        }
        assert_eq!(
            cipher().decrypt(&stored, b"conn-1"),
            Err(CipherError::Invalid)
        );
        assert_eq!(c.decrypt("nope", b""), Err(CipherError::Malformed));
        assert!(matches!(
            c.decrypt("k9:AAAA", b""),
            Err(CipherError::UnknownKey(_))
        ));
    }

    #[test]
    fn rotation_encrypts_with_the_first_key_and_decrypts_with_any() {
        let old = TokenCipher::generate_key_list();
        let new = TokenCipher::generate_key_list().replace("k1:", "k2:");
        let before = TokenCipher::from_key_list(&old).expect("old");
        let stored = before.encrypt(&Secret::new("t"), b"a");
        let after = TokenCipher::from_key_list(&format!("{new},{old}")).expect("rotated");
        assert_eq!(
            after.decrypt(&stored, b"a").map(|s| s.expose().to_owned()),
            Ok("t".into())
        );
        assert!(after.encrypt(&Secret::new("t"), b"a").starts_with("k2:"));
    }

    #[test]
    fn bad_key_lists_are_refused_without_echoing_them() {
        assert_eq!(
            TokenCipher::from_key_list("").err(),
            Some(CipherError::NoKeys)
        );
        assert_eq!(
            TokenCipher::from_key_list("k1:short").err(),
            Some(CipherError::BadKey(1))
        );
        assert_eq!(
            TokenCipher::from_key_list("nokeyid").err(),
            Some(CipherError::BadKey(1))
        );
        let k = TokenCipher::generate_key_list();
        assert_eq!(
            TokenCipher::from_key_list(&format!("{k},{k}")).err(),
            Some(CipherError::DuplicateKeyId("k1".into()))
        );
        assert!(!format!("{:?}", TokenCipher::from_key_list(&k)).contains(&k[3..]));
    }
}
