//! Properties, over generated input: the data-center table maps each location to exactly its
//! accounts server and back; the criteria escaper leaves no unescaped separator and can be
//! undone.

use proptest::prelude::*;
use zoho::crm::records::escape_value;
use zoho::{DataCenter, DcTable};

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
