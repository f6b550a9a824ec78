//! Randomness for state, PKCE verifiers, ids and nonces, from the operating system's CSPRNG.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `bytes` random bytes as unpadded base64url.
pub fn token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// `bytes` random bytes as lowercase hex (never starts with `-`, so it is safe as a CLI argument).
pub fn hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_long_and_distinct() {
        let a = super::token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, super::token(32));
        let h = super::hex(16);
        assert_eq!(h.len(), 32);
        assert!(h.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
