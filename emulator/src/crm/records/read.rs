//! Reading: a page of a module's records (sorted, projected to the fields asked for, paged by
//! number up to 2,000 and by `page_token` beyond), one record, and search by criteria, email,
//! phone or word. A list or record read with `If-Modified-Since` (an HTTP date, or Zoho's ISO
//! form) answers 304 with no body when nothing it would show changed after that second; a list
//! otherwise holds only the records modified since.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::{
    CrmRequest, DISCRETE_LIMIT, Emu, MAX_FIELDS, MAX_PER_PAGE, PAGE_TOKEN_TTL, TOKEN_LIMIT, bad,
    order, parse_id, views,
};
use crate::crm::meta::{Kind, Module};
use crate::crm::{Record, criteria, iso};
use crate::faults::Endpoint;
use crate::reply::Reply;
use crate::request::Params;

pub(super) async fn list(emu: Emu, req: CrmRequest) -> Response {
    let path = req.module.clone();
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, user) = req.enter(world, fault, "READ")?;
        let p = &req.params;
        let fields = requested_fields(p, &m, true)?;
        let view = p.get("cvid").map(|c| views::find_view(&m, c)).transpose()?;
        // A view brings its own order (reference §9.5).
        let (sort_by, desc) = match &view {
            Some(_) if p.get("sort_by").is_some() => {
                return Err(ambiguous(&["cvid", "sort_by"]));
            }
            Some(v) => v
                .sort
                .map_or(("id".to_owned(), true), |(f, desc)| (f.to_owned(), desc)),
            None => sort_params(p)?,
        };
        let now = world.now();
        let order = if desc { "desc" } else { "asc" };
        let sort_key = match &view {
            Some(v) => format!("cv{}/{sort_by}:{order}", v.id),
            None => format!("{sort_by}:{order}"),
        };
        let pg = paging(p, m.api_name, &sort_key, now)?;
        let empty = Default::default();
        let records = world
            .crm
            .module(&user.org_zgid, m.api_name)
            .unwrap_or(&empty);
        let since = req.modified_since();
        // In a view, its criteria say which Leads show, converted or not.
        let converted = match (&view, p.get("converted")) {
            (Some(_), None) => Converted::Both,
            _ => converted_param(p, m.api_name)?,
        };
        let only = ids_param(p)?;
        let mut ordered: Vec<&Record> = records
            .iter()
            .filter(|(id, _)| only.as_ref().is_none_or(|ids| ids.contains(id)))
            .filter(|(_, r)| converted.shows(r))
            .filter(|(_, r)| view.as_ref().is_none_or(|v| v.holds(r, &user, now)))
            .filter(|(_, r)| since.is_none_or(|since| modified_after(r, since)))
            .map(|(_, r)| r)
            .collect();
        order::sort_by_keys(&mut ordered, &[(sort_by.clone(), desc)]);
        if since.is_some() && ordered.is_empty() {
            return Ok(Reply::Empty(StatusCode::NOT_MODIFIED));
        }
        let total = ordered.len();
        let page: Vec<Value> = ordered
            .iter()
            .skip(pg.offset)
            .take(pg.per_page)
            .map(|r| project(r, &fields))
            .collect();
        Ok(page_reply(
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
        ))
    })
    .await
}

/// Zoho's refusal of two parameters that cannot go together.
fn ambiguous(params: &[&str]) -> Reply {
    let due: Vec<Value> = params.iter().map(|p| json!({ "param_name": p })).collect();
    bad(
        "AMBIGUITY_DURING_PROCESSING",
        &format!(
            "Please use either {}. Combination of both the params is not allowed",
            params.join(" or ")
        ),
        json!({ "ambiguity_due_to": due }),
    )
}

/// `GET {module}/actions/count` (reference §9.6): how many records a search (`criteria`,
/// `email`, `phone` or `word`) or a view (`cvid`) holds, or all of them; `{"count": n}`. With
/// `count_lag_secs` set (`POST config`), records created that recently are not counted yet, as
/// Zoho's count lags.
pub(super) async fn count(emu: Emu, req: CrmRequest) -> Response {
    let path = format!("{}/actions/count", req.module);
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, user) = req.enter(world, fault, "READ")?;
        let p = &req.params;
        let searched = ["criteria", "email", "phone", "word"]
            .into_iter()
            .find(|k| p.get(k).is_some());
        let view = p.get("cvid").map(|c| views::find_view(&m, c)).transpose()?;
        if let (Some(_), Some(search)) = (&view, searched) {
            return Err(ambiguous(&["cvid", search]));
        }
        let matcher = match searched {
            Some(_) => Some(matcher(p, &m)?),
            None => None,
        };
        let converted = match (&view, p.get("converted")) {
            (Some(_), None) => Converted::Both,
            _ => converted_param(p, m.api_name)?,
        };
        let now = world.now();
        let lag = i64::try_from(world.config.count_lag_secs).unwrap_or(i64::MAX);
        let counted = |r: &Record| {
            lag == 0
                || r.get("Created_Time")
                    .and_then(Value::as_str)
                    .and_then(|t| {
                        time::OffsetDateTime::parse(
                            t,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok()
                    })
                    .is_none_or(|t| t.unix_timestamp() <= now.saturating_sub(lag))
        };
        let empty = Default::default();
        let records = world
            .crm
            .module(&user.org_zgid, m.api_name)
            .unwrap_or(&empty);
        let count = records
            .values()
            .filter(|r| converted.shows(r))
            .filter(|r| view.as_ref().is_none_or(|v| v.holds(r, &user, now)))
            .filter(|r| matcher.as_ref().is_none_or(|m| m(r)))
            .filter(|r| counted(r))
            .count();
        Ok(Reply::Json(StatusCode::OK, json!({ "count": count })))
    })
    .await
}

pub(super) async fn get_one(emu: Emu, req: CrmRequest) -> Response {
    let path = format!("{}/{{id}}", req.module);
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, user) = req.enter(world, fault, "READ")?;
        let fields = requested_fields(&req.params, &m, false)?;
        let id = parse_id(req.id.as_deref().unwrap_or_default())?;
        let record = world
            .crm
            .module(&user.org_zgid, m.api_name)
            .and_then(|records| records.get(&id))
            .ok_or_else(|| {
                bad(
                    "INVALID_DATA",
                    "the related id given seems to be invalid",
                    json!({ "resource_path_index": 1 }),
                )
            })?;
        if let Some(since) = req.modified_since()
            && !modified_after(record, since)
        {
            return Ok(Reply::Empty(StatusCode::NOT_MODIFIED));
        }
        Ok(Reply::Json(
            StatusCode::OK,
            json!({ "data": [project(record, &fields)] }),
        ))
    })
    .await
}

pub(super) async fn search(emu: Emu, req: CrmRequest) -> Response {
    let path = format!("{}/search", req.module);
    req.run(&emu, Endpoint::Search, &path, |world, fault| {
        // v8 has no `Activities` module: its tasks, meetings and calls are searched one by one.
        if req.module.eq_ignore_ascii_case("Activities") {
            return Err(bad(
                "NOT_SUPPORTED",
                "module not suppoted for search",
                json!({ "module": "Activities" }),
            ));
        }
        let (m, user) = req.enter(world, fault, "READ")?;
        let p = &req.params;
        let matcher = matcher(p, &m)?;
        let fields = requested_fields(p, &m, false)?;
        let (sort_by, desc) = search_sort(p, &m)?;
        let now = world.now();
        let order = if desc { "desc" } else { "asc" };
        let pg = paging(p, m.api_name, &format!("{sort_by}:{order}"), now)?;
        let empty = Default::default();
        let records = world
            .crm
            .module(&user.org_zgid, m.api_name)
            .unwrap_or(&empty);
        // Within a view (`cvid`), its criteria say which Leads show, converted or not.
        let view = p.get("cvid").map(|c| views::find_view(&m, c)).transpose()?;
        let converted = match (&view, p.get("converted")) {
            (Some(_), None) => Converted::Both,
            _ => converted_param(p, m.api_name)?,
        };
        let mut hits: Vec<&Record> = records
            .values()
            .filter(|r| converted.shows(r))
            .filter(|r| view.as_ref().is_none_or(|v| v.holds(r, &user, now)))
            .filter(|r| matcher(r))
            .collect();
        // Ordered first: the 2,000 a search reaches are the first in its order.
        order::sort_by_keys(&mut hits, &[(sort_by.clone(), desc)]);
        hits.truncate(DISCRETE_LIMIT);
        let total = hits.len();
        let page: Vec<Value> = hits
            .iter()
            .skip(pg.offset)
            .take(pg.per_page)
            .map(|r| project(r, &fields))
            .collect();
        Ok(page_reply(
            page,
            total,
            &pg,
            &Listing {
                sort_by: &sort_by,
                desc,
                module: m.api_name,
                now,
                tokens: false,
            },
        ))
    })
    .await
}

/// Search's `sort_by` (any field of the module, or `id`, the default) and `sort_order` (`asc`,
/// the default, or `desc`): reference §9.6, unconfirmed at Zoho.
fn search_sort(p: &Params, m: &Module) -> Result<(String, bool), Reply> {
    let sort_by = p.get("sort_by").unwrap_or("id");
    if sort_by != "id" && m.field(sort_by).is_none_or(|f| !views::sortable(f.kind)) {
        return Err(bad(
            "INVALID_DATA",
            "invalid data",
            json!({ "param_name": "sort_by", "api_name": sort_by }),
        ));
    }
    let desc = match p.get("sort_order") {
        None | Some("asc") => false,
        Some("desc") => true,
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

/// The most ids a list by `ids` takes (reference §3.6).
const MAX_LIST_IDS: usize = 100;

/// `ids=1,2,3`: the records a list is limited to, if it names any.
fn ids_param(p: &Params) -> Result<Option<std::collections::BTreeSet<u64>>, Reply> {
    let Some(list) = p.get("ids") else {
        return Ok(None);
    };
    let invalid = || {
        bad(
            "INVALID_DATA",
            "the ids given seem to be invalid",
            json!({ "param_name": "ids", "maximum_length": MAX_LIST_IDS }),
        )
    };
    let ids: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() || ids.len() > MAX_LIST_IDS {
        return Err(invalid());
    }
    ids.iter()
        .map(|s| s.parse::<u64>().map_err(|_| invalid()))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// Whether a Lead has been converted (`crate::crm::records::convert`).
pub(super) fn is_converted(r: &Record) -> bool {
    r.get("$converted").and_then(Value::as_bool) == Some(true)
}

/// Which Leads a list or search shows (`converted`, reference §3.6): by default the ones not
/// converted, as Zoho hides converted Leads; `true` only those, `both` all. Other modules have
/// no converted records.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Converted {
    Hidden,
    Only,
    Both,
}

impl Converted {
    fn shows(self, r: &Record) -> bool {
        let converted = is_converted(r);
        match self {
            Converted::Hidden => !converted,
            Converted::Only => converted,
            Converted::Both => true,
        }
    }
}

fn converted_param(p: &Params, module: &str) -> Result<Converted, Reply> {
    if module != "Leads" {
        return Ok(Converted::Both);
    }
    match p.get("converted") {
        None | Some("false") => Ok(Converted::Hidden),
        Some("true") => Ok(Converted::Only),
        Some("both") => Ok(Converted::Both),
        Some(_) => Err(bad(
            "INVALID_DATA",
            "invalid data",
            json!({ "param_name": "converted", "supported_values": ["true", "false", "both"] }),
        )),
    }
}

/// Whether `record` was modified after the second `since` (Unix seconds); one whose time cannot
/// be read counts as modified, so it is never hidden.
fn modified_after(record: &Record, since: i64) -> bool {
    record
        .get("Modified_Time")
        .and_then(Value::as_str)
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
        .is_none_or(|t| t.unix_timestamp() > since)
}

/// A record test.
type Matcher<'a> = Box<dyn Fn(&Record) -> bool + 'a>;

/// Which records a search asks for: exactly one of `criteria`, `email`, `phone` and `word`.
fn matcher<'a>(p: &'a Params, m: &'a Module) -> Result<Matcher<'a>, Reply> {
    // Only the first given counts: criteria, then email, phone, word (reference §9.9).
    let given = ["criteria", "email", "phone", "word"]
        .into_iter()
        .find(|k| p.get(k).is_some());
    let matcher: Matcher<'a> = match given {
        None => {
            return Err(bad(
                "EXPECTED_PARAM_MISSING",
                "One of the expected parameter is missing",
                json!({ "param_names": ["criteria", "email", "phone", "word"] }),
            ));
        }
        Some("criteria") => {
            let c = criteria::parse(p.get("criteria").unwrap_or_default()).map_err(|e| {
                bad(
                    "INVALID_QUERY",
                    &format!("invalid criteria: {e}"),
                    json!({ "param_name": "criteria" }),
                )
            })?;
            if let Some(unknown) = c
                .fields()
                .into_iter()
                .find(|f| *f != "id" && m.field(f).is_none())
            {
                return Err(bad(
                    "INVALID_QUERY",
                    "invalid field in criteria",
                    json!({ "api_name": unknown, "param_name": "criteria" }),
                ));
            }
            // `equals` on a text field holds where the text is contained (Zoho's search).
            let text = |f: &str| {
                m.field(f).is_some_and(|f| {
                    matches!(
                        f.kind,
                        Kind::Text(_)
                            | Kind::TextArea(_)
                            | Kind::Email
                            | Kind::Phone
                            | Kind::Website
                    )
                })
            };
            Box::new(move |r| c.matches_in(r, &text))
        }
        Some("email") => {
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
        Some("phone") => {
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
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
        Some(_) => {
            let wanted = word_param(p)?;
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
    };
    Ok(matcher)
}

/// The shortest and longest search word Zoho takes (reference §9.9).
const WORD_CHARS: std::ops::RangeInclusive<usize> = 2..=100;

/// `word`: 2 to 100 characters, at most one `*` (which matches anything, so it is left out of the
/// comparison), lower-cased.
fn word_param(p: &Params) -> Result<String, Reply> {
    let word = p.get("word").unwrap_or_default().trim();
    let length = word.chars().count();
    if length < *WORD_CHARS.start() {
        return Err(bad(
            "INVALID_DATA",
            "provide atleast 2 letters for search",
            json!({ "param_name": "word" }),
        ));
    }
    if length > *WORD_CHARS.end() {
        return Err(bad(
            "INVALID_DATA",
            "the search word can have at most 100 letters",
            json!({ "param_name": "word" }),
        ));
    }
    if word.matches('*').count() > 1 {
        return Err(bad(
            "INVALID_DATA",
            "More than one wildcard(*) not allowed in a searchword",
            json!({ "param_name": "word" }),
        ));
    }
    Ok(word.replace('*', "").to_lowercase())
}

/// A list request's paging, after validation.
pub(super) struct Paging {
    pub page: usize,
    pub per_page: usize,
    pub offset: usize,
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

/// The `per_page` parameter: 1 to [`MAX_PER_PAGE`], `default` when missing.
pub(super) fn per_page_param(p: &Params, default: usize) -> Result<usize, Reply> {
    match p.get("per_page").map(str::parse::<usize>) {
        None => Ok(default),
        Some(Ok(n)) if (1..=MAX_PER_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(bad(
            "INVALID_DATA",
            "invalid data",
            json!({ "param_name": "per_page", "maximum_length": MAX_PER_PAGE }),
        )),
    }
}

pub(super) fn paging(p: &Params, module: &str, sort: &str, now: i64) -> Result<Paging, Reply> {
    let per_page = per_page_param(p, MAX_PER_PAGE)?;
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
    })
}

/// The `fields` parameter: required, at most 50, each a field of the module.
pub(super) fn requested_fields(
    p: &Params,
    m: &Module,
    required: bool,
) -> Result<Option<Vec<String>>, Reply> {
    fields_param(p, required, Some(MAX_FIELDS), |name| {
        m.field(name).is_some()
    })
}

/// The `fields` parameter of any read: the names it lists, each `id` or one `known`, at most
/// `limit` of them; missing, an error when `required`.
pub(super) fn fields_param(
    p: &Params,
    required: bool,
    limit: Option<usize>,
    known: impl Fn(&str) -> bool,
) -> Result<Option<Vec<String>>, Reply> {
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
    if let Some(limit) = limit
        && names.len() > limit
    {
        return Err(bad(
            "LIMIT_EXCEEDED",
            "the limit has been exceeded",
            json!({ "limit": limit, "param_name": "fields" }),
        ));
    }
    for name in &names {
        if name != "id" && !known(name) {
            return Err(bad(
                "INVALID_DATA",
                "the field api name given seems to be invalid",
                json!({ "api_name": name, "param_name": "fields" }),
            ));
        }
    }
    Ok(Some(names))
}

pub(super) fn project(r: &Record, fields: &Option<Vec<String>>) -> Value {
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
            // An activity's parent module comes with its `What_Id`; a cancelled meeting says so.
            if names.iter().any(|n| n == "What_Id") {
                out.insert(
                    "$se_module".into(),
                    r.get("$se_module").cloned().unwrap_or(Value::Null),
                );
            }
            if let Some(cancelled) = r.get("$event_cancelled") {
                out.insert("$event_cancelled".into(), cancelled.clone());
            }
            Value::Object(out)
        }
    }
}

/// Sorts ids by `sort_by` (`id`, `Created_Time`, `Modified_Time`) and `sort_order`.
pub(super) fn sorted<'a>(
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

pub(super) fn sort_params(p: &Params) -> Result<(String, bool), Reply> {
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
pub(super) struct Listing<'a> {
    pub sort_by: &'a str,
    pub desc: bool,
    pub module: &'a str,
    pub now: i64,
    pub tokens: bool,
}

pub(super) fn page_reply(matching: Vec<Value>, total: usize, pg: &Paging, l: &Listing) -> Reply {
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
