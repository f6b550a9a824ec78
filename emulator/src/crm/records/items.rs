//! What a write answers per record: Zoho's error item, the status of a write whose records fared
//! differently, the id a lookup names, and the refusal of a field the writer's profile may not
//! edit. Every write of records — plain, an activity's, a conversion, a cancellation, a mass
//! update, a change of owner — answers with these.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::crm::meta::Module;
use crate::model::User;
use crate::model::people::FieldAccess;
use crate::reply::Reply;

/// The first field of `input` (a write's record at `path`, e.g. `$.data[0]`) that `user`'s
/// profile may read but not edit, as the details of Zoho's `NO_PERMISSION` (the permission's
/// name is the emulator's).
pub(super) fn not_editable(
    user: &User,
    m: &Module,
    input: &Map<String, Value>,
    path: &str,
) -> Option<Value> {
    input.keys().find_map(|name| {
        (user.profile.field_access(m.api_name, name) == FieldAccess::ReadOnly).then(|| {
            json!({
                "api_name": name,
                "json_path": format!("{path}.{name}"),
                "permissions": [format!("Crm_Implied_Field_Edit_{}_{name}", m.api_name)],
            })
        })
    })
}

/// What Zoho says when a profile may not edit a field.
pub(super) const NOT_EDITABLE: &str = "permission denied to update the field";

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
