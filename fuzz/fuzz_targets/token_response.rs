//! What Zoho's token endpoint answers (grants, errors, legacy shapes), as bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = zoho::oauth::parse_token_response(data);
});
