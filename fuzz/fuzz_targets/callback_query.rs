//! The OAuth callback's query, as a browser (or an attacker) sends it: parsed, and its data
//! center checked against the allowlist.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use zoho::{DataCenter, DcTable};

fn tables() -> &'static [DcTable; 2] {
    static TABLES: OnceLock<[DcTable; 2]> = OnceLock::new();
    TABLES.get_or_init(|| {
        [
            DcTable::zoho(&DataCenter::ALL).expect("zoho"),
            DcTable::emulator("http://127.0.0.1:3100", &DataCenter::ALL).expect("emulator"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    for dcs in tables() {
        zoho::fuzzing::callback_query(&query, dcs);
    }
});
