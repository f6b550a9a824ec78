//! Properties, over generated input: the token cipher round-trips and detects any change; the
//! data-center table maps each location to exactly its accounts server and back; the criteria
//! escaper leaves no unescaped separator and can be undone.

use proptest::prelude::*;
use zoho::crm::records::escape_value;
use zoho::vault::TokenCipher;
use zoho::{DataCenter, DcTable, Secret};

fn cipher() -> TokenCipher {
    TokenCipher::from_key_list(&TokenCipher::generate_key_list()).expect("key")
}

/// Undoes [`escape_value`]: a backslash takes the next character literally.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or('\\')
        } else {
            c
        });
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_cipher_round_trips_and_any_flipped_byte_or_other_aad_fails(
        plain in "\\PC{0,200}",
        aad in proptest::collection::vec(any::<u8>(), 0..64),
        other_aad in proptest::collection::vec(any::<u8>(), 0..64),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let c = cipher();
        let stored = c.encrypt(&Secret::new(plain.clone()), &aad);
        let back = c.decrypt(&stored, &aad).expect("round trip");
        prop_assert_eq!(back.expose(), plain.as_str());
        if other_aad != aad {
            prop_assert!(c.decrypt(&stored, &other_aad).is_err());
        }
        // Flip one bit of the sealed bytes (after the key id).
        let (id, b64) = stored.split_once(':').expect("key id");
        use base64::Engine;
        let mut blob = base64::engine::general_purpose::STANDARD.decode(b64).expect("b64");
        let i = flip.index(blob.len());
        blob[i] ^= 1 << bit;
        let tampered = format!("{id}:{}", base64::engine::general_purpose::STANDARD.encode(&blob));
        prop_assert!(c.decrypt(&tampered, &aad).is_err());
        // Another key never opens it.
        prop_assert!(cipher().decrypt(&stored, &aad).is_err());
    }

    #[test]
    fn each_location_accepts_only_its_own_accounts_server(
        dc in prop::sample::select(DataCenter::ALL.to_vec()),
        other in prop::sample::select(DataCenter::ALL.to_vec()),
        junk in "\\PC{0,40}",
    ) {
        for table in [
            DcTable::zoho(&DataCenter::ALL).expect("zoho"),
            DcTable::emulator("http://127.0.0.1:3100", &DataCenter::ALL).expect("emulator"),
        ] {
            let own = table.endpoints(dc).expect("enabled").accounts_server.clone();
            prop_assert_eq!(table.verify_callback(dc.location(), &own).expect("own"), dc);
            let theirs = table.endpoints(other).expect("enabled").accounts_server.clone();
            prop_assert_eq!(table.verify_callback(dc.location(), &theirs).is_ok(), dc == other);
            let longer = format!("{own}{junk}");
            prop_assert_eq!(table.verify_callback(dc.location(), &longer).is_ok(), junk.is_empty());
            let named = junk.parse::<DataCenter>().ok();
            prop_assert_eq!(table.verify_callback(&junk, &own).is_ok(), named == Some(dc));
        }
    }

    #[test]
    fn escaped_criteria_values_have_no_bare_separator_and_unescape_to_the_input(value in "\\PC{0,80}") {
        let escaped = escape_value(&value);
        let mut chars = escaped.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                let next = chars.next();
                prop_assert!(matches!(next, Some('\\' | '(' | ')' | ',')), "{escaped}");
            } else {
                prop_assert!(!matches!(c, '(' | ')' | ','), "bare {c} in {escaped}");
            }
        }
        prop_assert_eq!(unescape(&escaped), value);
    }
}
