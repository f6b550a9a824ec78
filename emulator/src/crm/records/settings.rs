//! `settings/modules` and `settings/fields`: the module and field metadata, with the org's ids;
//! the fields as the caller's profile sees them.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::{CrmRequest, Emu, bad, find_module};
use crate::crm::meta;
use crate::faults::Endpoint;

pub(super) async fn modules(emu: Emu, req: CrmRequest) -> Response {
    req.run(
        &emu,
        Endpoint::Settings,
        "settings/modules",
        |world, fault| {
            let user = req.authorize(world, fault, "ZohoCRM.settings.modules.READ", "settings")?;
            let org_id = world
                .orgs
                .get(&user.org_zgid)
                .map(|o| o.id.clone())
                .unwrap_or_default();
            let modules: Vec<_> = meta::modules()
                .iter()
                .map(|m| meta::module_json(m, &org_id))
                .collect();
            Ok(crate::reply::Reply::Json(
                StatusCode::OK,
                json!({ "modules": modules }),
            ))
        },
    )
    .await
}

pub(super) async fn fields(emu: Emu, req: CrmRequest) -> Response {
    req.run(
        &emu,
        Endpoint::Settings,
        "settings/fields",
        |world, fault| {
            let user = req.authorize(world, fault, "ZohoCRM.settings.fields.READ", "settings")?;
            let Some(name) = req.params.get("module") else {
                return Err(bad(
                    "REQUIRED_PARAM_MISSING",
                    "required param is missing",
                    json!({ "param_name": "module" }),
                ));
            };
            let m = find_module(name)?;
            let org_id = world
                .orgs
                .get(&user.org_zgid)
                .map(|o| o.id.clone())
                .unwrap_or_default();
            Ok(crate::reply::Reply::Json(
                StatusCode::OK,
                // Per caller: what their profile may edit (reference §9.4, field permissions).
                meta::fields_json(&m, &org_id, user.profile),
            ))
        },
    )
    .await
}
