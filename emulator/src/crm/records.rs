//! CRM v8 records and metadata endpoints: `settings/modules`, `settings/fields`, list (with
//! `fields`, paging, `page_token`, sorting), get, insert, update, upsert, delete and search — with
//! Zoho's status rules (201/200/207/400, 204 when empty) and its per-record error bodies.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::meta::{self, Kind, Module};
use super::{Record, criteria, iso, user_ref};
use crate::accounts::{DcPath, Params};
use crate::api::authorize;
use crate::dc::Dc;
use crate::faults::{Endpoint, FaultKind};
use crate::model::{User, World};
use crate::reply::Reply;
use crate::{Call, Emulator};

pub fn router() -> Router<Emulator> {
    Router::new()
        .route("/{dc}/api/crm/v8/settings/modules", get(settings_modules))
        .route("/{dc}/api/crm/v8/settings/fields", get(settings_fields))
        .route(
            "/{dc}/api/crm/v8/{module}",
            get(list).post(insert).put(update_bulk).delete(delete_bulk),
        )
        .route("/{dc}/api/crm/v8/{module}/search", get(search))
        .route(
            "/{dc}/api/crm/v8/{module}/upsert",
            axum::routing::post(upsert),
        )
        .route(
            "/{dc}/api/crm/v8/{module}/{id}",
            get(get_one).put(update_one).delete(delete_one),
        )
}

const MAX_PER_PAGE: usize = 200;
const MAX_FIELDS: usize = 50;
const MAX_RECORDS: usize = 100;
const DISCRETE_LIMIT: usize = 2000;
const TOKEN_LIMIT: usize = 100_000;
const PAGE_TOKEN_TTL: i64 = 86_400;

fn err(status: StatusCode, code: &str, message: &str, details: Value) -> Reply {
    Reply::api_error(status, code, message, details)
}

fn bad(code: &str, message: &str, details: Value) -> Reply {
    err(StatusCode::BAD_REQUEST, code, message, details)
}

fn invalid_module() -> Reply {
    bad(
        "INVALID_MODULE",
        "the module name given seems to be invalid",
        json!({ "resource_path_index": 0 }),
    )
}

fn call(dc: Dc, endpoint: Endpoint, method: &'static str, path: String) -> Call {
    Call {
        dc,
        endpoint,
        method,
        path: format!("/{dc}/api/crm/v8/{path}"),
        client_id: None,
        secret_present: false,
    }
}

/// The scope an operation on `module` needs.
fn scope(module: &str, op: &str) -> String {
    format!("ZohoCRM.modules.{}.{op}", module.to_ascii_lowercase())
}

/// The module by API name (case-insensitive, as Zoho is), or Zoho's `INVALID_MODULE`.
fn find_module(name: &str) -> Result<Module, Reply> {
    meta::modules()
        .into_iter()
        .find(|m| m.api_name.eq_ignore_ascii_case(name))
        .ok_or_else(invalid_module)
}

/// Authorizes, then counts the call against the module and method.
fn enter(
    world: &mut World,
    dc: Dc,
    headers: &HeaderMap,
    scope: &str,
    fault: Option<FaultKind>,
    module: &str,
    method: &str,
) -> Result<User, Reply> {
    let (_, user) = authorize(world, dc, headers, scope, fault)?;
    *world
        .stats
        .by_module
        .entry(module.to_owned())
        .or_default()
        .entry(method.to_owned())
        .or_default() += 1;
    Ok(user)
}

// ---------------------------------------------------------------------------------------------
// Metadata

async fn settings_modules(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    headers: HeaderMap,
) -> Response {
    emu.run(
        call(dc, Endpoint::Settings, "GET", "settings/modules".into()),
        |world, _, fault| {
            let user = match enter(
                world,
                dc,
                &headers,
                "ZohoCRM.settings.modules.READ",
                fault,
                "settings",
                "GET",
            ) {
                Ok(u) => u,
                Err(r) => return r,
            };
            let org_id = world
                .orgs
                .get(&user.org_zgid)
                .map(|o| o.id.clone())
                .unwrap_or_default();
            let modules: Vec<Value> = meta::modules()
                .iter()
                .map(|m| meta::module_json(m, &org_id))
                .collect();
            Reply::Json(StatusCode::OK, json!({ "modules": modules }))
        },
    )
    .await
}

async fn settings_fields(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = Params::from_parts(query.as_deref(), &HeaderMap::new(), &[]);
    emu.run(
        call(dc, Endpoint::Settings, "GET", "settings/fields".into()),
        |world, _, fault| {
            let user = match enter(
                world,
                dc,
                &headers,
                "ZohoCRM.settings.fields.READ",
                fault,
                "settings",
                "GET",
            ) {
                Ok(u) => u,
                Err(r) => return r,
            };
            let Some(name) = p.get("module") else {
                return bad(
                    "REQUIRED_PARAM_MISSING",
                    "required param is missing",
                    json!({ "param_name": "module" }),
                );
            };
            let m = match find_module(name) {
                Ok(m) => m,
                Err(r) => return r,
            };
            let org_id = world
                .orgs
                .get(&user.org_zgid)
                .map(|o| o.id.clone())
                .unwrap_or_default();
            Reply::Json(StatusCode::OK, meta::fields_json(&m, &org_id))
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Reading

/// A list request's paging, after validation.
struct Paging {
    page: usize,
    per_page: usize,
    offset: usize,
    from_token: bool,
}

/// What a page token carries (opaque to clients): module, order, offset and expiry.
fn encode_token(module: &str, sort: &str, offset: usize, expires: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{module}|{sort}|{offset}|{expires}"))
}

fn decode_token(token: &str) -> Option<(String, String, usize, i64)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = raw.split('|');
    let module = parts.next()?.to_owned();
    let sort = parts.next()?.to_owned();
    let offset = parts.next()?.parse().ok()?;
    let expires = parts.next()?.parse().ok()?;
    Some((module, sort, offset, expires))
}

fn paging(p: &Params, module: &str, sort: &str, now: i64) -> Result<Paging, Reply> {
    let per_page = match p.get("per_page") {
        None => MAX_PER_PAGE,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
            _ => {
                return Err(bad(
                    "INVALID_DATA",
                    "invalid data",
                    json!({ "param_name": "per_page", "maximum_length": MAX_PER_PAGE }),
                ));
            }
        },
    };
    if let Some(token) = p.get("page_token") {
        if p.get("page").is_some() {
            return Err(bad(
                "INVALID_REQUEST",
                "page and page_token cannot be used together",
                json!({ "param_names": ["page", "page_token"] }),
            ));
        }
        let Some((t_module, t_sort, offset, expires)) = decode_token(token) else {
            return Err(bad(
                "INVALID_DATA",
                "invalid page token",
                json!({ "param_name": "page_token" }),
            ));
        };
        if expires < now {
            return Err(bad(
                "TOKEN_EXPIRED",
                "the page token has expired",
                json!({ "param_name": "page_token" }),
            ));
        }
        if t_module != module || t_sort != sort {
            return Err(bad(
                "INVALID_DATA",
                "the page token belongs to another listing",
                json!({ "param_name": "page_token" }),
            ));
        }
        if offset + per_page > TOKEN_LIMIT {
            return Err(bad(
                "PAGINATION_LIMIT_EXCEEDED",
                "You can only get 100000 records using page_token",
                json!({ "limit": TOKEN_LIMIT }),
            ));
        }
        return Ok(Paging {
            page: offset / per_page + 1,
            per_page,
            offset,
            from_token: true,
        });
    }
    let page = match p.get("page") {
        None => 1,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(bad(
                    "INVALID_DATA",
                    "invalid data",
                    json!({ "param_name": "page" }),
                ));
            }
        },
    };
    if page * per_page > DISCRETE_LIMIT {
        return Err(bad(
            "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
            "You can only get the first 2000 records without using page_token param",
            json!({ "limit": DISCRETE_LIMIT }),
        ));
    }
    Ok(Paging {
        page,
        per_page,
        offset: (page - 1) * per_page,
        from_token: false,
    })
}

/// The `fields` parameter: required, at most 50, each a field of the module.
fn requested_fields(p: &Params, m: &Module, required: bool) -> Result<Option<Vec<String>>, Reply> {
    let Some(raw) = p.get("fields") else {
        return if required {
            Err(bad(
                "REQUIRED_PARAM_MISSING",
                "required param is missing",
                json!({ "param_name": "fields" }),
            ))
        } else {
            Ok(None)
        };
    };
    let names: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if names.len() > MAX_FIELDS {
        return Err(bad(
            "LIMIT_EXCEEDED",
            "the limit has been exceeded",
            json!({ "limit": MAX_FIELDS, "param_name": "fields" }),
        ));
    }
    for name in &names {
        if name != "id" && m.field(name).is_none() {
            return Err(bad(
                "INVALID_DATA",
                "the field api name given seems to be invalid",
                json!({ "api_name": name, "param_name": "fields" }),
            ));
        }
    }
    Ok(Some(names))
}

fn project(r: &Record, fields: &Option<Vec<String>>) -> Value {
    match fields {
        None => Value::Object(r.clone()),
        Some(names) => {
            let mut out = Map::new();
            if let Some(id) = r.get("id") {
                out.insert("id".into(), id.clone());
            }
            for n in names {
                out.insert(n.clone(), r.get(n).cloned().unwrap_or(Value::Null));
            }
            Value::Object(out)
        }
    }
}

/// Sorts ids by `sort_by` (`id`, `Created_Time`, `Modified_Time`) and `sort_order`.
fn sorted<'a>(
    records: impl Iterator<Item = (&'a u64, &'a Record)>,
    sort_by: &str,
    desc: bool,
) -> Vec<(&'a u64, &'a Record)> {
    let mut v: Vec<_> = records.collect();
    let key = |r: &Record| {
        r.get(sort_by)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if sort_by == "id" {
        v.sort_by_key(|(id, _)| **id);
    } else {
        v.sort_by(|a, b| key(a.1).cmp(&key(b.1)).then(a.0.cmp(b.0)));
    }
    if desc {
        v.reverse();
    }
    v
}

fn sort_params(p: &Params) -> Result<(String, bool), Reply> {
    let sort_by = p.get("sort_by").unwrap_or("id");
    if !matches!(sort_by, "id" | "Created_Time" | "Modified_Time") {
        return Err(bad(
            "INVALID_DATA",
            "invalid data",
            json!({ "param_name": "sort_by", "supported_values": ["id", "Created_Time", "Modified_Time"] }),
        ));
    }
    let desc = match p.get("sort_order") {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(_) => {
            return Err(bad(
                "INVALID_DATA",
                "invalid data",
                json!({ "param_name": "sort_order", "supported_values": ["asc", "desc"] }),
            ));
        }
    };
    Ok((sort_by.to_owned(), desc))
}

/// One page of `matching` as Zoho answers it (204 when empty).
/// How a page was ordered, and whether it may hand out page tokens.
#[derive(Clone, Copy)]
struct Listing<'a> {
    sort_by: &'a str,
    desc: bool,
    module: &'a str,
    now: i64,
    tokens: bool,
}

fn page_reply(matching: Vec<Value>, total: usize, pg: &Paging, l: &Listing) -> Reply {
    if matching.is_empty() {
        return Reply::Empty(StatusCode::NO_CONTENT);
    }
    let Listing {
        sort_by,
        desc,
        module,
        now,
        tokens,
    } = *l;
    let more = pg.offset + matching.len() < total;
    let order = if desc { "desc" } else { "asc" };
    let sort_key = format!("{sort_by}:{order}");
    let next = (more && tokens).then(|| {
        encode_token(
            module,
            &sort_key,
            pg.offset + pg.per_page,
            now + PAGE_TOKEN_TTL,
        )
    });
    let previous = (tokens && pg.offset > 0).then(|| {
        encode_token(
            module,
            &sort_key,
            pg.offset.saturating_sub(pg.per_page),
            now + PAGE_TOKEN_TTL,
        )
    });
    let count = matching.len();
    Reply::Json(
        StatusCode::OK,
        json!({
            "data": matching,
            "info": {
                "per_page": pg.per_page,
                "count": count,
                "page": pg.page,
                "sort_by": sort_by,
                "sort_order": order,
                "more_records": more,
                "next_page_token": next,
                "previous_page_token": previous,
                "page_token_expiry": next.as_ref().map(|_| iso(now + PAGE_TOKEN_TTL)),
                "call": false,
                "email": false,
            }
        }),
    )
}

async fn list(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    Path((_, module)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = Params::from_parts(query.as_deref(), &HeaderMap::new(), &[]);
    emu.run(
        call(dc, Endpoint::Records, "GET", module.clone()),
        |world, _, fault| {
            let m = match find_module(&module) {
                Ok(m) => m,
                Err(r) => return r,
            };
            let user = match enter(
                world,
                dc,
                &headers,
                &scope(m.api_name, "READ"),
                fault,
                m.api_name,
                "GET",
            ) {
                Ok(u) => u,
                Err(r) => return r,
            };
            let fields = match requested_fields(&p, &m, true) {
                Ok(f) => f,
                Err(r) => return r,
            };
            let (sort_by, desc) = match sort_params(&p) {
                Ok(s) => s,
                Err(r) => return r,
            };
            let now = world.now();
            let sort_key = format!("{sort_by}:{}", if desc { "desc" } else { "asc" });
            let pg = match paging(&p, m.api_name, &sort_key, now) {
                Ok(pg) => pg,
                Err(r) => return r,
            };
            let empty = Default::default();
            let records = world
                .crm
                .module(&user.org_zgid, m.api_name)
                .unwrap_or(&empty);
            let ordered = sorted(records.iter(), &sort_by, desc);
            let total = ordered.len();
            let page: Vec<Value> = ordered
                .iter()
                .skip(pg.offset)
                .take(pg.per_page)
                .map(|(_, r)| project(r, &fields))
                .collect();
            let _ = pg.from_token;
            page_reply(
                page,
                total,
                &pg,
                &Listing {
                    sort_by: &sort_by,
                    desc,
                    module: m.api_name,
                    now,
                    tokens: true,
                },
            )
        },
    )
    .await
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

async fn get_one(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    Path((_, module, id)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = Params::from_parts(query.as_deref(), &HeaderMap::new(), &[]);
    emu.run(
        call(dc, Endpoint::Records, "GET", format!("{module}/{{id}}")),
        |world, _, fault| {
            let m = match find_module(&module) {
                Ok(m) => m,
                Err(r) => return r,
            };
            let user = match enter(
                world,
                dc,
                &headers,
                &scope(m.api_name, "READ"),
                fault,
                m.api_name,
                "GET",
            ) {
                Ok(u) => u,
                Err(r) => return r,
            };
            let fields = match requested_fields(&p, &m, false) {
                Ok(f) => f,
                Err(r) => return r,
            };
            let record = parse_id(&id).and_then(|id| {
                world
                    .crm
                    .module(&user.org_zgid, m.api_name)
                    .and_then(|records| records.get(&id))
                    .ok_or_else(|| {
                        bad(
                            "INVALID_DATA",
                            "the related id given seems to be invalid",
                            json!({ "resource_path_index": 1 }),
                        )
                    })
            });
            match record {
                Ok(r) => Reply::Json(StatusCode::OK, json!({ "data": [project(r, &fields)] })),
                Err(reply) => reply,
            }
        },
    )
    .await
}

async fn search(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    Path((_, module)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = Params::from_parts(query.as_deref(), &HeaderMap::new(), &[]);
    emu.run(
        call(dc, Endpoint::Search, "GET", format!("{module}/search")),
        |world, _, fault| {
            let m = match find_module(&module) {
                Ok(m) => m,
                Err(r) => return r,
            };
            let user = match enter(
                world,
                dc,
                &headers,
                &scope(m.api_name, "READ"),
                fault,
                m.api_name,
                "GET",
            ) {
                Ok(u) => u,
                Err(r) => return r,
            };
            let given: Vec<&str> = ["criteria", "email", "phone", "word"]
                .into_iter()
                .filter(|k| p.get(k).is_some())
                .collect();
            let matcher: Box<dyn Fn(&Record) -> bool> = match given.as_slice() {
                [] => {
                    return bad(
                        "REQUIRED_PARAM_MISSING",
                        "One of the expected parameter is missing",
                        json!({ "param_name": "criteria/email/phone/word" }),
                    );
                }
                ["criteria"] => {
                    let c = match criteria::parse(p.get("criteria").unwrap_or_default()) {
                        Ok(c) => c,
                        Err(e) => {
                            return bad(
                                "INVALID_QUERY",
                                &format!("invalid criteria: {e}"),
                                json!({ "param_name": "criteria" }),
                            );
                        }
                    };
                    if let Some(unknown) = c
                        .fields()
                        .into_iter()
                        .find(|f| *f != "id" && m.field(f).is_none())
                    {
                        return bad(
                            "INVALID_QUERY",
                            "invalid field in criteria",
                            json!({ "api_name": unknown, "param_name": "criteria" }),
                        );
                    }
                    Box::new(move |r| c.matches(r))
                }
                ["email"] => {
                    let wanted = p.get("email").unwrap_or_default().to_lowercase();
                    let fields: Vec<&str> = m
                        .fields
                        .iter()
                        .filter(|f| f.kind == Kind::Email)
                        .map(|f| f.api_name)
                        .collect();
                    Box::new(move |r| {
                        fields.iter().any(|f| {
                            r.get(*f)
                                .and_then(Value::as_str)
                                .is_some_and(|v| v.to_lowercase() == wanted)
                        })
                    })
                }
                ["phone"] => {
                    let digits =
                        |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
                    let wanted = digits(p.get("phone").unwrap_or_default());
                    let fields: Vec<&str> = m
                        .fields
                        .iter()
                        .filter(|f| f.kind == Kind::Phone)
                        .map(|f| f.api_name)
                        .collect();
                    Box::new(move |r| {
                        !wanted.is_empty()
                            && fields.iter().any(|f| {
                                r.get(*f)
                                    .and_then(Value::as_str)
                                    .is_some_and(|v| digits(v).contains(&wanted))
                            })
                    })
                }
                ["word"] => {
                    let wanted = p.get("word").unwrap_or_default().to_lowercase();
                    let fields: Vec<&str> = m
                        .fields
                        .iter()
                        .filter(|f| {
                            matches!(
                                f.kind,
                                Kind::Text(_)
                                    | Kind::TextArea(_)
                                    | Kind::Email
                                    | Kind::Phone
                                    | Kind::Website
                            )
                        })
                        .map(|f| f.api_name)
                        .collect();
                    Box::new(move |r| {
                        fields.iter().any(|f| {
                            r.get(*f)
                                .and_then(Value::as_str)
                                .is_some_and(|v| v.to_lowercase().contains(&wanted))
                        })
                    })
                }
                _ => {
                    return bad(
                        "INVALID_QUERY",
                        "give only one of criteria, email, phone and word",
                        json!({ "param_names": given }),
                    );
                }
            };
            let fields = match requested_fields(&p, &m, false) {
                Ok(f) => f,
                Err(r) => return r,
            };
            let now = world.now();
            let pg = match paging(&p, m.api_name, "id:asc", now) {
                Ok(pg) => pg,
                Err(r) => return r,
            };
            let empty = Default::default();
            let records = world
                .crm
                .module(&user.org_zgid, m.api_name)
                .unwrap_or(&empty);
            let hits: Vec<&Record> = records
                .values()
                .filter(|r| matcher(r))
                .take(DISCRETE_LIMIT)
                .collect();
            let total = hits.len();
            let page: Vec<Value> = hits
                .iter()
                .skip(pg.offset)
                .take(pg.per_page)
                .map(|r| project(r, &fields))
                .collect();
            page_reply(
                page,
                total,
                &pg,
                &Listing {
                    sort_by: "id",
                    desc: false,
                    module: m.api_name,
                    now,
                    tokens: false,
                },
            )
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Writing

/// One record's outcome in a write answer.
fn item_ok(message: &str, r: &Record) -> Value {
    json!({
        "code": "SUCCESS",
        "details": {
            "Modified_Time": r.get("Modified_Time"),
            "Modified_By": r.get("Modified_By"),
            "Created_Time": r.get("Created_Time"),
            "id": r.get("id"),
            "Created_By": r.get("Created_By"),
            "$approval_state": "approved",
        },
        "message": message,
        "status": "success",
    })
}

fn item_error(code: &str, message: &str, details: Value) -> Value {
    json!({ "code": code, "details": details, "message": message, "status": "error" })
}

/// Checks one field value against its metadata; returns the stored value, or the error item.
fn check_value(
    world: &World,
    org: &str,
    f: &meta::Field,
    v: &Value,
    path: &str,
) -> Result<Value, Value> {
    let invalid = |expected: &str| {
        item_error(
            "INVALID_DATA",
            "invalid data",
            json!({ "expected_data_type": expected, "api_name": f.api_name, "json_path": path }),
        )
    };
    let text = |max: usize| -> Result<Value, Value> {
        match v.as_str() {
            Some(s) if s.chars().count() <= max => Ok(Value::String(s.to_owned())),
            Some(_) => Err(item_error(
                "INVALID_DATA",
                "invalid data",
                json!({ "maximum_length": max, "api_name": f.api_name, "json_path": path }),
            )),
            None => Err(invalid("string")),
        }
    };
    match f.kind {
        Kind::Text(n) | Kind::TextArea(n) => text(n),
        Kind::Phone => text(30),
        Kind::Website => text(255),
        Kind::Email => {
            let s = text(255)?;
            let ok = s.as_str().is_some_and(|s| {
                let mut parts = s.split('@');
                matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
            });
            if ok { Ok(s) } else { Err(invalid("email")) }
        }
        Kind::Integer => v
            .as_i64()
            .filter(|n| n.unsigned_abs() < 1_000_000_000)
            .map(Value::from)
            .ok_or_else(|| invalid("integer")),
        Kind::Double | Kind::Currency | Kind::Percent => {
            v.as_f64().map(Value::from).ok_or_else(|| invalid("double"))
        }
        Kind::Boolean => v
            .as_bool()
            .map(Value::from)
            .ok_or_else(|| invalid("boolean")),
        Kind::Date => {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            v.as_str()
                .filter(|s| time::Date::parse(s, &fmt).is_ok())
                .map(|s| Value::String(s.to_owned()))
                .ok_or_else(|| invalid("date"))
        }
        Kind::DateTime => v
            .as_str()
            .filter(|s| {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .is_ok()
            })
            .map(|s| Value::String(s.to_owned()))
            .ok_or_else(|| invalid("datetime")),
        Kind::Picklist(values) => v
            .as_str()
            .filter(|s| values.contains(s))
            .map(|s| Value::String(s.to_owned()))
            .ok_or_else(|| invalid("picklist")),
        Kind::MultiSelect(values) => v
            .as_array()
            .filter(|a| {
                a.iter()
                    .all(|x| x.as_str().is_some_and(|s| values.contains(&s)))
            })
            .map(|a| Value::Array(a.clone()))
            .ok_or_else(|| invalid("multiselectpicklist")),
        Kind::Lookup(target) => {
            let id = v
                .get("id")
                .and_then(Value::as_str)
                .or_else(|| v.as_str())
                .and_then(|s| s.parse::<u64>().ok());
            let found = id.and_then(|id| {
                world
                    .crm
                    .module(org, target)
                    .and_then(|r| r.get(&id))
                    .map(|r| (id, r))
            });
            match found {
                Some((id, r)) => {
                    let name_field = meta::modules()
                        .into_iter()
                        .find(|m| m.api_name == target)
                        .map(|m| m.name_field())
                        .unwrap_or("id");
                    Ok(
                        json!({ "name": r.get(name_field).cloned().unwrap_or(Value::Null), "id": id.to_string() }),
                    )
                }
                None => Err(item_error(
                    "INVALID_DATA",
                    "the related id given seems to be invalid",
                    json!({ "api_name": f.api_name, "json_path": path }),
                )),
            }
        }
        Kind::Owner => {
            let id = v
                .get("id")
                .and_then(Value::as_str)
                .or_else(|| v.as_str())
                .unwrap_or_default();
            world
                .users
                .iter()
                .find(|u| u.user_id == id && u.org_zgid == org)
                .map(user_ref)
                .ok_or_else(|| {
                    item_error(
                        "INVALID_DATA",
                        "invalid owner",
                        json!({ "api_name": f.api_name, "json_path": path }),
                    )
                })
        }
        Kind::Subform => v
            .as_array()
            .filter(|a| !a.is_empty() && a.iter().all(Value::is_object))
            .map(|a| Value::Array(a.clone()))
            .ok_or_else(|| invalid("jsonarray")),
    }
}

/// Whether a value counts as absent for a mandatory field.
fn blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

/// Validates `input` (the `index`th record of the body) for `m`; on success the fields to store.
fn validate(
    world: &World,
    org: &str,
    m: &Module,
    input: &Map<String, Value>,
    index: usize,
    existing: Option<&Record>,
) -> Result<Map<String, Value>, Value> {
    let mut out = Map::new();
    for (name, v) in input {
        if name == "id" || name.starts_with('$') {
            continue;
        }
        let path = format!("$.data[{index}].{name}");
        let Some(f) = m.field(name) else {
            return Err(item_error(
                "INVALID_DATA",
                "the field api name given seems to be invalid",
                json!({ "api_name": name, "json_path": path }),
            ));
        };
        if f.read_only {
            continue;
        }
        if v.is_null() || (v.as_str().is_some_and(|s| s.is_empty())) {
            if f.mandatory {
                return Err(item_error(
                    "MANDATORY_NOT_FOUND",
                    "required field not found",
                    json!({ "api_name": name, "json_path": path }),
                ));
            }
            out.insert(name.clone(), Value::Null);
            continue;
        }
        out.insert(name.clone(), check_value(world, org, f, v, &path)?);
    }
    for f in m.fields.iter().filter(|f| f.mandatory) {
        let present = !blank(out.get(f.api_name))
            || (existing.is_some_and(|r| !blank(r.get(f.api_name)))
                && !out.contains_key(f.api_name));
        if !present {
            return Err(item_error(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({ "api_name": f.api_name, "json_path": format!("$.data[{index}].{}", f.api_name) }),
            ));
        }
    }
    Ok(out)
}

/// Keeps derived fields (a person's full name) in step with what was written.
fn derive(m: &Module, r: &mut Record) {
    if m.field("Full_Name").is_some() {
        let first = r
            .get("First_Name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let last = r
            .get("Last_Name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let full = format!("{first} {last}").trim().to_owned();
        r.insert("Full_Name".into(), Value::String(full));
    }
}

/// The body's `data` array: present, an array of objects, at most 100.
fn body_records(body: &[u8]) -> Result<Vec<Map<String, Value>>, Reply> {
    let malformed = || {
        bad(
            "INVALID_DATA",
            "body",
            json!({ "expected_data_type": "jsonobject" }),
        )
    };
    let v: Value = serde_json::from_slice(body).map_err(|_| malformed())?;
    let data = v.get("data").and_then(Value::as_array).ok_or_else(|| {
        bad(
            "MANDATORY_NOT_FOUND",
            "required field not found",
            json!({ "api_name": "data", "json_path": "$.data" }),
        )
    })?;
    if data.is_empty() {
        return Err(bad(
            "INVALID_DATA",
            "no records given",
            json!({ "api_name": "data", "json_path": "$.data" }),
        ));
    }
    if data.len() > MAX_RECORDS {
        return Err(bad(
            "LIMIT_EXCEEDED",
            "the limit has been exceeded",
            json!({ "limit": MAX_RECORDS, "api_name": "data" }),
        ));
    }
    data.iter()
        .map(|r| r.as_object().cloned().ok_or_else(malformed))
        .collect()
}

/// Zoho's status for a write: all good, mixed (207), or all failed (400).
fn write_reply(items: Vec<Value>, all_ok: StatusCode) -> Reply {
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

/// What a write does with each record of the body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WriteKind {
    Insert,
    Update,
    Upsert,
}

fn write(
    world: &mut World,
    user: &User,
    m: &Module,
    records: Vec<Map<String, Value>>,
    kind: WriteKind,
    path_id: Option<u64>,
    duplicate_check: &[String],
) -> Reply {
    let org = user.org_zgid.clone();
    let now = iso(world.now());
    let me = user_ref(user);
    let mut items = Vec::new();
    for (i, input) in records.into_iter().enumerate() {
        // Which record, if any, this one updates.
        let target: Result<Option<u64>, Value> = match kind {
            WriteKind::Insert => Ok(None),
            WriteKind::Update => {
                let id = path_id.or_else(|| {
                    input
                        .get("id")
                        .and_then(|v| {
                            v.as_str()
                                .map(str::to_owned)
                                .or_else(|| v.as_u64().map(|n| n.to_string()))
                        })
                        .and_then(|s| s.parse().ok())
                });
                match id {
                    None if input.get("id").is_none() && path_id.is_none() => Err(item_error(
                        "MANDATORY_NOT_FOUND",
                        "required field not found",
                        json!({ "api_name": "id", "json_path": format!("$.data[{i}].id") }),
                    )),
                    Some(id)
                        if world
                            .crm
                            .module(&org, m.api_name)
                            .is_some_and(|r| r.contains_key(&id)) =>
                    {
                        Ok(Some(id))
                    }
                    _ => Err(item_error(
                        "INVALID_DATA",
                        "the id given seems to be invalid",
                        json!({ "api_name": "id", "json_path": format!("$.data[{i}].id") }),
                    )),
                }
            }
            WriteKind::Upsert => {
                let fields: Vec<&str> = if duplicate_check.is_empty() {
                    m.fields
                        .iter()
                        .filter(|f| f.kind == Kind::Email || f.api_name == m.name_field())
                        .map(|f| f.api_name)
                        .collect()
                } else {
                    duplicate_check.iter().map(String::as_str).collect()
                };
                let found = world.crm.module(&org, m.api_name).and_then(|recs| {
                    recs.iter()
                        .find(|(_, r)| {
                            fields.iter().any(|f| {
                                input
                                    .get(*f)
                                    .is_some_and(|v| !v.is_null() && r.get(*f) == Some(v))
                            })
                        })
                        .map(|(id, _)| *id)
                });
                Ok(found)
            }
        };
        let target = match target {
            Ok(t) => t,
            Err(item) => {
                items.push(item);
                continue;
            }
        };
        let existing = target.and_then(|id| {
            world
                .crm
                .module(&org, m.api_name)
                .and_then(|r| r.get(&id))
                .cloned()
        });
        let fields = match validate(world, &org, m, &input, i, existing.as_ref()) {
            Ok(f) => f,
            Err(item) => {
                items.push(item);
                continue;
            }
        };
        let (id, mut record, message, action) = match (target, existing) {
            (Some(id), Some(r)) => (id, r, "record updated", "update"),
            _ => {
                let id = world.crm.new_id();
                let mut r = Map::new();
                r.insert("id".into(), Value::String(id.to_string()));
                r.insert("Owner".into(), me.clone());
                r.insert("Created_By".into(), me.clone());
                r.insert("Created_Time".into(), Value::String(now.clone()));
                r.insert("$approval_state".into(), json!("approved"));
                r.insert("$editable".into(), json!(true));
                (id, r, "record added", "insert")
            }
        };
        record.extend(fields);
        record.insert("Modified_By".into(), me.clone());
        record.insert("Modified_Time".into(), Value::String(now.clone()));
        derive(m, &mut record);
        let mut item = item_ok(message, &record);
        if kind == WriteKind::Upsert {
            item["action"] = json!(action);
            item["duplicate_field"] = if action == "update" {
                json!(duplicate_check.first())
            } else {
                Value::Null
            };
        }
        world.crm.module_mut(&org, m.api_name).insert(id, record);
        items.push(item);
    }
    let all_ok = if kind == WriteKind::Update {
        StatusCode::OK
    } else if kind == WriteKind::Insert {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    write_reply(items, all_ok)
}

/// A write as it arrived.
struct WriteRequest {
    module: String,
    headers: HeaderMap,
    body: Bytes,
    query: Option<String>,
    kind: WriteKind,
    path_id: Option<String>,
}

async fn write_handler(emu: Emulator, dc: Dc, req: WriteRequest) -> Response {
    let WriteRequest {
        module,
        headers,
        body,
        query,
        kind,
        path_id,
    } = req;
    let (method, op): (&'static str, &str) = match kind {
        WriteKind::Insert => ("POST", "CREATE"),
        WriteKind::Update => ("PUT", "UPDATE"),
        WriteKind::Upsert => ("POST", "CREATE"),
    };
    let path = match (&path_id, kind) {
        (Some(_), _) => format!("{module}/{{id}}"),
        (None, WriteKind::Upsert) => format!("{module}/upsert"),
        _ => module.clone(),
    };
    let p = Params::from_parts(query.as_deref(), &HeaderMap::new(), &[]);
    emu.run(
        call(dc, Endpoint::Records, method, path),
        |world, _, fault| {
            let m = match find_module(&module) {
                Ok(m) => m,
                Err(r) => return r,
            };
            let user = match enter(
                world,
                dc,
                &headers,
                &scope(m.api_name, op),
                fault,
                m.api_name,
                method,
            ) {
                Ok(u) => u,
                Err(r) => return r,
            };
            let id = match path_id.as_deref().map(parse_id).transpose() {
                Ok(id) => id,
                Err(r) => return r,
            };
            let records = match body_records(&body) {
                Ok(r) => r,
                Err(r) => return r,
            };
            let dupes: Vec<String> = p
                .get("duplicate_check_fields")
                .map(|s| s.split(',').map(str::to_owned).collect())
                .unwrap_or_default();
            write(world, &user, &m, records, kind, id, &dupes)
        },
    )
    .await
}

async fn insert(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    Path((_, module)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write_handler(
        emu,
        dc,
        WriteRequest {
            module,
            headers,
            body,
            query: None,
            kind: WriteKind::Insert,
            path_id: None,
        },
    )
    .await
}

async fn upsert(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    Path((_, module)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write_handler(
        emu,
        dc,
        WriteRequest {
            module,
            headers,
            body,
            query: q,
            kind: WriteKind::Upsert,
            path_id: None,
        },
    )
    .await
}

async fn update_bulk(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    Path((_, module)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write_handler(
        emu,
        dc,
        WriteRequest {
            module,
            headers,
            body,
            query: None,
            kind: WriteKind::Update,
            path_id: None,
        },
    )
    .await
}

async fn update_one(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    Path((_, module, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write_handler(
        emu,
        dc,
        WriteRequest {
            module,
            headers,
            body,
            query: None,
            kind: WriteKind::Update,
            path_id: Some(id),
        },
    )
    .await
}

fn delete(world: &mut World, user: &User, m: &Module, ids: &[String]) -> Reply {
    let items: Vec<Value> = ids
        .iter()
        .map(|raw| {
            let removed = raw
                .parse::<u64>()
                .ok()
                .and_then(|id| world.crm.module_mut(&user.org_zgid, m.api_name).remove(&id));
            match removed {
                Some(_) => json!({ "code": "SUCCESS", "details": { "id": raw }, "message": "record deleted", "status": "success" }),
                None => item_error("INVALID_DATA", "record not deleted", json!({ "id": raw })),
            }
        })
        .collect();
    write_reply(items, StatusCode::OK)
}

async fn delete_handler(
    emu: Emulator,
    dc: Dc,
    module: String,
    headers: HeaderMap,
    ids: Result<Vec<String>, Reply>,
    single: bool,
) -> Response {
    let path = if single {
        format!("{module}/{{id}}")
    } else {
        module.clone()
    };
    emu.run(
        call(dc, Endpoint::Records, "DELETE", path),
        |world, _, fault| {
            let m = match find_module(&module) {
                Ok(m) => m,
                Err(r) => return r,
            };
            let user = match enter(
                world,
                dc,
                &headers,
                &scope(m.api_name, "DELETE"),
                fault,
                m.api_name,
                "DELETE",
            ) {
                Ok(u) => u,
                Err(r) => return r,
            };
            match ids {
                Ok(ids) => delete(world, &user, &m, &ids),
                Err(r) => r,
            }
        },
    )
    .await
}

async fn delete_bulk(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    Path((_, module)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = Params::from_parts(q.as_deref(), &HeaderMap::new(), &[]);
    let ids = match p.get("ids") {
        None => Err(bad(
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({ "param_name": "ids" }),
        )),
        Some(list) => {
            let ids: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if ids.len() > MAX_RECORDS {
                Err(bad(
                    "LIMIT_EXCEEDED",
                    "the limit has been exceeded",
                    json!({ "limit": MAX_RECORDS, "param_name": "ids" }),
                ))
            } else {
                Ok(ids)
            }
        }
    };
    delete_handler(emu, dc, module, headers, ids, false).await
}

async fn delete_one(
    State(emu): State<Emulator>,
    DcPath(dc): DcPath,
    Path((_, module, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let ids = parse_id(&id).map(|_| vec![id]);
    delete_handler(emu, dc, module, headers, ids, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_garbage() {
        let t = encode_token("Leads", "id:asc", 2000, 99);
        assert_eq!(
            decode_token(&t),
            Some(("Leads".into(), "id:asc".into(), 2000, 99))
        );
        assert_eq!(decode_token("not-a-token!"), None);
    }
}
