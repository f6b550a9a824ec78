//! Properties, over generated input: the token cipher round-trips and detects any change.

use keeper::vault::TokenCipher;
use proptest::prelude::*;
use zoho::Secret;

fn cipher() -> TokenCipher {
    TokenCipher::from_key_list(&TokenCipher::generate_key_list()).expect("key")
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
}
