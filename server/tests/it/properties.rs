//! Properties of `return_to` validation over generated input: whatever comes in, what comes out is
//! a path that a browser resolves on zportal's own origin.

use proptest::prelude::*;
use server::auth::safe_return_to;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn return_to_always_resolves_on_this_origin(candidate in prop_oneof![
        "\\PC{0,60}",
        "/[a-zA-Z0-9/._~%?#&=:@\\\\-]{0,40}",
        "(https?:)?//[a-z.]{1,20}(/.*)?",
        "/[\\\\/\t\r\n ]{0,4}[a-z.]{1,20}",
    ]) {
        let safe = safe_return_to(Some(&candidate));
        let base = url::Url::parse("https://zportal.example/").expect("base");
        let resolved = base.join(&safe).expect("a valid reference");
        prop_assert_eq!(resolved.origin(), base.origin(), "{:?} -> {:?}", candidate, safe);
        prop_assert!(safe == "/" || safe == candidate);
    }
}
