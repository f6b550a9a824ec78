//! Stored token text, decrypted: whatever is in the database (corrupted, truncated, another
//! key's) must come back as an error, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use keeper::vault::TokenCipher;

fn cipher() -> &'static TokenCipher {
    static CIPHER: OnceLock<TokenCipher> = OnceLock::new();
    CIPHER.get_or_init(|| {
        TokenCipher::from_key_list("k2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
            .expect("keys")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (aad, stored) = text.split_once('|').unwrap_or(("access", &text));
    let _ = cipher().decrypt(stored, aad.as_bytes());
    let _ = TokenCipher::from_key_list(&text);
});
