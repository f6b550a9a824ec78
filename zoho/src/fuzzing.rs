//! Entry points for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`, never on in a build of
//! zportal): the parsers that read what Zoho or a browser sends, each fed arbitrary bytes.

use crate::crm::ApiError;
use crate::crm::records::{read_page, write_results};

/// Reads a CRM list/search answer as the records client does.
pub fn crm_page(status: u16, body: &[u8]) {
    let answer = (status, bytes::Bytes::copy_from_slice(body));
    let _ = read_page(answer.clone(), &["Last_Name", "Owner"]);
    let _ = write_results(answer);
    let _: ApiError = crate::crm::api_error(status, body);
}

/// Parses a callback query and checks its data center as the callback handler does.
pub fn callback_query(query: &str, dcs: &crate::DcTable) {
    if let Ok(q) = crate::oauth::CallbackQuery::parse(query)
        && let (Some(location), Some(accounts)) = (&q.location, &q.accounts_server)
    {
        let _ = dcs.verify_callback(location, accounts);
    }
}
