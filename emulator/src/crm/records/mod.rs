//! CRM v8 records and metadata endpoints, as Zoho serves them: `settings/modules` and
//! `settings/fields` ([`settings`]); list (with `fields`, paging, `page_token`, sorting), get and
//! search ([`read`]); insert, update, upsert and delete ([`write`]), each record checked against
//! the field metadata ([`validate`]) — with Zoho's status rules (201/200/207/400, 204 when
//! empty) and its per-record error bodies; the org's views ([`views`]) and counts; change owner ([`owner`]) and mass update ([`mass`]),
//! which change records as an update does ([`changes`]). Every handler reads its request through
//! [`CrmRequest`].

mod activity;
mod attachments;
mod changes;
mod convert;
mod coql;
mod items;
mod mass;
mod notes;
mod order;
mod owner;
mod read;
mod related;
mod settings;
mod validate;
mod views;
mod watch;
mod write;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::meta::{self, Module};
use crate::api::authorize_any;
use crate::dc::Dc;
use crate::faults::{Endpoint, FaultKind};
use crate::model::{AccessToken, User, World};
use crate::reply::Reply;
use crate::request::{DcPath, Params};
use crate::{Call, Emulator};

pub fn router() -> Router<Emulator> {
    Router::new()
        .route("/{dc}/api/crm/v8/settings/modules", get(settings::modules))
        .route("/{dc}/api/crm/v8/settings/fields", get(settings::fields))
        .route(
            "/{dc}/api/crm/v8/settings/related_lists",
            get(related::metadata),
        )
        .route("/{dc}/api/crm/v8/coql", post(coql::query))
        .route(
            "/{dc}/api/crm/v8/settings/custom_views",
            get(views::custom_views),
        )
        .route(
            "/{dc}/api/crm/v8/settings/custom_views/{id}",
            get(views::custom_views),
        )
        .route("/{dc}/api/crm/v8/{module}/actions/count", get(read::count))
        .route(
            "/{dc}/api/crm/v8/actions/watch",
            get(watch::watch)
                .post(watch::watch)
                .put(watch::watch)
                .patch(watch::watch)
                .delete(watch::watch),
        )
        .route(
            "/{dc}/api/crm/v8/Notes",
            get(notes::collection)
                .post(notes::collection)
                .put(notes::collection)
                .delete(notes::collection),
        )
        .route(
            "/{dc}/api/crm/v8/Notes/{id}",
            get(notes::one).put(notes::one).delete(notes::one),
        )
        .route(
            "/{dc}/api/crm/v8/{module}/{id}/Notes",
            get(notes::of_record).post(notes::of_record),
        )
        .route(
            "/{dc}/api/crm/v8/{module}/{id}/Attachments",
            get(attachments::list)
                .post(attachments::upload)
                .layer(DefaultBodyLimit::max(attachments::MAX_BODY_BYTES)),
        )
        .route(
            "/{dc}/api/crm/v8/{module}/{id}/Attachments/{sub}",
            get(attachments::download).delete(attachments::remove),
        )
        .route(
            "/{dc}/api/crm/v8/{module}/{id}/__timeline",
            get(related::timeline),
        )
        .route(
            "/{dc}/api/crm/v8/{module}/{id}/{sub}",
            get(related::records),
        )
        .route(
            "/{dc}/api/crm/v8/{module}/{id}/actions/cancel",
            post(activity::cancel),
        )
        .route(
            "/{dc}/api/crm/v8/{module}/{id}/actions/convert",
            post(convert::convert),
        )
        .route(
            "/{dc}/api/crm/v8/{module}/{id}/actions/change_owner",
            post(owner::change_owner),
        )
        .route(
            "/{dc}/api/crm/v8/{module}/actions/change_owner",
            post(owner::change_owner),
        )
        .route(
            "/{dc}/api/crm/v8/{module}/actions/mass_update",
            post(mass::mass_update),
        )
        .route(
            "/{dc}/api/crm/v8/{module}/{id}/__conversion_options",
            get(convert::options),
        )
        .route(
            "/{dc}/api/crm/v8/{module}",
            get(read::list)
                .post(write::write)
                .put(write::write)
                .delete(write::delete),
        )
        .route("/{dc}/api/crm/v8/{module}/search", get(read::search))
        .route("/{dc}/api/crm/v8/{module}/upsert", post(write::write))
        .route(
            "/{dc}/api/crm/v8/{module}/{id}",
            get(read::get_one).put(write::write).delete(write::delete),
        )
}

const MAX_PER_PAGE: usize = 200;
const MAX_FIELDS: usize = 50;
const MAX_RECORDS: usize = 100;
const DISCRETE_LIMIT: usize = 2000;
const TOKEN_LIMIT: usize = 100_000;
const PAGE_TOKEN_TTL: i64 = 86_400;

fn bad(code: &str, message: &str, details: Value) -> Reply {
    Reply::api_error(StatusCode::BAD_REQUEST, code, message, details)
}

fn invalid_module() -> Reply {
    bad(
        "INVALID_MODULE",
        "the module name given seems to be invalid",
        json!({ "resource_path_index": 0 }),
    )
}

/// The module by API name (case-insensitive, as Zoho is), or Zoho's `INVALID_MODULE`.
/// The path name `Meetings` is `Events` (reference §9.1).
fn find_module(name: &str) -> Result<Module, Reply> {
    let name = if name.eq_ignore_ascii_case("Meetings") {
        "Events"
    } else {
        name
    };
    meta::modules()
        .into_iter()
        .find(|m| m.api_name.eq_ignore_ascii_case(name))
        .ok_or_else(invalid_module)
}

/// Zoho's answer for a record id that names no record.
fn no_such_record() -> Reply {
    bad(
        "INVALID_DATA",
        "the related id given seems to be invalid",
        json!({ "resource_path_index": 1 }),
    )
}

/// Parses a record id from the path: digits only, or Zoho's `INVALID_DATA`.
fn parse_id(raw: &str) -> Result<u64, Reply> {
    raw.parse::<u64>()
        .ok()
        .filter(|_| raw.len() <= 20)
        .ok_or_else(|| {
            bad(
                "INVALID_DATA",
                "the related id given seems to be invalid",
                json!({ "resource_path_index": 1 }),
            )
        })
}

/// What every CRM handler reads of its request: the data center, the module and record id the
/// path names, the query's parameters, the method and the headers (the token is among them).
pub(crate) struct CrmRequest {
    dc: Dc,
    module: String,
    id: Option<String>,
    /// The path's last part under a record: a related list's name, or an attachment's id.
    sub: Option<String>,
    params: Params,
    method: Method,
    /// Whether the path is `{module}/upsert`.
    upsert: bool,
    headers: HeaderMap,
}

impl FromRequestParts<Emulator> for CrmRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Emulator) -> Result<Self, Response> {
        let DcPath(dc) = DcPath::from_request_parts(parts, state).await?;
        let Path(mut path) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(CrmRequest {
            dc,
            module: path.remove("module").unwrap_or_default(),
            id: path.remove("id"),
            sub: path.remove("sub"),
            params: Params::from_parts(parts.uri.query(), &HeaderMap::new(), &[]),
            method: parts.method.clone(),
            upsert: parts.uri.path().ends_with("/upsert"),
            headers: parts.headers.clone(),
        })
    }
}

impl CrmRequest {
    /// The `If-Modified-Since` header as Unix seconds: an HTTP date
    /// (`Wed, 02 Dec 2026 08:00:00 GMT`) or Zoho's ISO form (`2026-12-02T09:00:00+01:00`). One
    /// that is neither is ignored, as HTTP says.
    fn modified_since(&self) -> Option<i64> {
        let value = self.headers.get("if-modified-since")?.to_str().ok()?.trim();
        let http_date = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        time::PrimitiveDateTime::parse(value, &http_date)
            .map(|t| t.assume_utc())
            .or_else(|_| {
                time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
            })
            .ok()
            .map(time::OffsetDateTime::unix_timestamp)
    }

    /// Runs the request as the emulator runs every call (faults, the log), answering with what
    /// `handler` returns, refusals included: `path` is how the log names the route.
    async fn run(
        &self,
        emu: &Emulator,
        endpoint: Endpoint,
        path: &str,
        handler: impl FnOnce(&mut World, Option<FaultKind>) -> Result<Reply, Reply>,
    ) -> Response {
        let call = Call {
            dc: self.dc,
            endpoint,
            method: method_name(&self.method),
            path: format!("/{}/api/crm/v8/{path}", self.dc),
            client_id: None,
            secret_present: false,
            token: crate::api::bearer(&self.headers).map(str::to_owned),
        };
        emu.run(call, |world, _, fault| {
            handler(world, fault).unwrap_or_else(|refusal| refusal)
        })
        .await
    }

    /// Authorizes the token for `scope` and counts the call against `counted` and the method.
    fn authorize(
        &self,
        world: &mut World,
        fault: Option<FaultKind>,
        scope: &str,
        counted: &str,
    ) -> Result<User, Reply> {
        self.authorize_token(world, fault, scope, counted)
            .map(|(_, user)| user)
    }

    /// As [`Self::authorize`], with the token (for a call that needs a second scope).
    fn authorize_token(
        &self,
        world: &mut World,
        fault: Option<FaultKind>,
        scope: &str,
        counted: &str,
    ) -> Result<(AccessToken, User), Reply> {
        self.authorize_any_token(world, fault, &[scope], counted)
    }

    /// As [`Self::authorize`], for an action that any one of `scopes` opens (Zoho gives some a
    /// general scope and a per-module one).
    fn authorize_any(
        &self,
        world: &mut World,
        fault: Option<FaultKind>,
        scopes: &[&str],
        counted: &str,
    ) -> Result<User, Reply> {
        self.authorize_any_token(world, fault, scopes, counted)
            .map(|(_, user)| user)
    }

    fn authorize_any_token(
        &self,
        world: &mut World,
        fault: Option<FaultKind>,
        scopes: &[&str],
        counted: &str,
    ) -> Result<(AccessToken, User), Reply> {
        let (token, user) = authorize_any(world, self.dc, &self.headers, scopes, fault)?;
        *world
            .stats
            .by_module
            .entry(counted.to_owned())
            .or_default()
            .entry(method_name(&self.method).to_owned())
            .or_default() += 1;
        Ok((token, user))
    }

    /// The path's module, with the user the token belongs to, authorized for `op` on it
    /// (`READ`, `CREATE`, `UPDATE`, `DELETE`).
    fn enter(
        &self,
        world: &mut World,
        fault: Option<FaultKind>,
        op: &str,
    ) -> Result<(Module, User), Reply> {
        self.enter_token(world, fault, op)
            .map(|(m, _, user)| (m, user))
    }

    /// As [`Self::enter`], with the token.
    fn enter_token(
        &self,
        world: &mut World,
        fault: Option<FaultKind>,
        op: &str,
    ) -> Result<(Module, AccessToken, User), Reply> {
        let m = find_module(&self.module)?;
        let scope = format!("ZohoCRM.modules.{}.{op}", m.api_name.to_ascii_lowercase());
        let (token, user) = self.authorize_token(world, fault, &scope, m.api_name)?;
        Ok((m, token, user))
    }
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        _ => "GET",
    }
}

/// The emulator, as every handler here takes it.
type Emu = State<Emulator>;
