//! What a write answers per record: Zoho's error item, the status of a write whose records fared
//! differently, and the id a lookup names. Every write of records — plain, an activity's, a
//! conversion, a cancellation — answers with these.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::reply::Reply;

/// The id a lookup or owner names: `{"id": …}` or the id alone, as text or as a number (Zoho's
/// SDKs send numbers).
pub(super) fn lookup_id(v: &Value) -> Option<String> {
    let raw = v.get("id").unwrap_or(v);
    raw.as_str()
        .map(str::to_owned)
        .or_else(|| raw.as_u64().map(|n| n.to_string()))
}

/// One record's error item in a write answer.
pub(super) fn item_error(code: &str, message: &str, details: Value) -> Value {
    json!({ "code": code, "details": details, "message": message, "status": "error" })
}

/// Zoho's status for a write: all good, mixed (207), or all failed (400).
pub(super) fn write_reply(items: Vec<Value>, all_ok: StatusCode) -> Reply {
    let ok = items.iter().filter(|i| i["status"] == "success").count();
    let status = if ok == items.len() {
        all_ok
    } else if ok == 0 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::MULTI_STATUS
    };
    Reply::Json(status, json!({ "data": items }))
}
