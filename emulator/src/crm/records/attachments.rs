//! Attachments (reference §8.2): a record's files at `{Module}/{id}/Attachments` — listed (with
//! `fields`), uploaded as `multipart/form-data` (a part named `file`, or a link given as
//! `attachmentUrl` and `title`), downloaded with `Content-Disposition: attachment`, deleted.
//! Files over 20 MB are refused with `INVALID_DATA`. The bytes live in [`crate::model::files`],
//! out of the JSON snapshot; each upload and removal shows in the record's timeline.

use axum::body::Bytes;
use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::items::write_reply;
use super::read::{Listing, page_reply, paging};
use super::{CrmRequest, Emu, bad, find_module, parse_id};
use crate::crm::history::{Event, subject};
use crate::crm::meta::Module;
use crate::crm::{Record, iso, user_ref};
use crate::faults::{Endpoint, FaultKind};
use crate::model::{User, World};
use crate::reply::Reply;

/// The largest file Zoho takes here (the reference leaves the real figure unconfirmed).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// What the route reads at most before it gives up on a body (a bit over the file limit, so an
/// oversized file gets Zoho's answer rather than a dropped connection).
pub const MAX_BODY_BYTES: usize = MAX_FILE_BYTES + 4 * 1024 * 1024;

const ATTACHMENT_FIELDS: &[&str] = &[
    "File_Name",
    "Size",
    "$file_id",
    "$type",
    "$se_module",
    "$link_url",
    "$editable",
    "Parent_Id",
    "Owner",
    "Created_By",
    "Modified_By",
    "Created_Time",
    "Modified_Time",
];
const ATTACHMENTS_MODULE_ID: u32 = 51;

impl CrmRequest {
    /// The module and the user, authorized for `op` on both the module and its attachments.
    fn enter_attachments(
        &self,
        world: &mut World,
        fault: Option<FaultKind>,
        op: &str,
    ) -> Result<(Module, User), Reply> {
        let m = find_module(&self.module)?;
        let (token, user) = self.authorize_token(
            world,
            fault,
            &format!("ZohoCRM.modules.attachments.{op}"),
            "Attachments",
        )?;
        let module_op = if op == "CREATE" || op == "DELETE" {
            "UPDATE"
        } else {
            "READ"
        };
        let module_scope = format!(
            "ZohoCRM.modules.{}.{module_op}",
            m.api_name.to_ascii_lowercase()
        );
        if !crate::api::scope_covers(&token.scopes, &module_scope) {
            return Err(crate::api::scope_mismatch());
        }
        Ok((m, user))
    }

    /// The record the path names, which must exist.
    fn parent(&self, world: &World, m: &Module, user: &User) -> Result<(u64, Record), Reply> {
        let id = parse_id(self.id.as_deref().unwrap_or_default())?;
        let r = world
            .crm
            .record(&user.org_zgid, m.api_name, id)
            .ok_or_else(super::no_such_record)?;
        Ok((id, r.clone()))
    }
}

/// `GET {Module}/{id}/Attachments`: the record's attachments (`fields` required), 204 if none.
pub(super) async fn list(emu: Emu, req: CrmRequest) -> Response {
    let path = format!("{}/{{id}}/Attachments", req.module);
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, user) = req.enter_attachments(world, fault, "READ")?;
        let (id, _) = req.parent(world, &m, &user)?;
        let fields = fields_param(&req)?;
        let now = world.now();
        let pg = paging(&req.params, "Attachments", "id:desc", now)?;
        let empty = Default::default();
        let all = world.crm.attachments.get(&user.org_zgid).unwrap_or(&empty);
        let pid = id.to_string();
        let mine: Vec<&Record> = all
            .values()
            .rev()
            .filter(|a| {
                a.get("Parent_Id")
                    .and_then(|p| p.get("id"))
                    .and_then(Value::as_str)
                    == Some(&pid)
            })
            .collect();
        let total = mine.len();
        let page: Vec<Value> = mine
            .iter()
            .skip(pg.offset)
            .take(pg.per_page)
            .map(|a| project(a, &fields))
            .collect();
        Ok(page_reply(
            page,
            total,
            &pg,
            &Listing {
                sort_by: "id",
                desc: true,
                module: "Attachments",
                now,
                tokens: false,
            },
        ))
    })
    .await
}

fn fields_param(req: &CrmRequest) -> Result<Vec<String>, Reply> {
    super::read::fields_param(&req.params, true, None, |n| ATTACHMENT_FIELDS.contains(&n))
        .map(Option::unwrap_or_default)
}

fn project(a: &Record, fields: &[String]) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), a.get("id").cloned().unwrap_or(Value::Null));
    for n in fields {
        out.insert(n.clone(), a.get(n).cloned().unwrap_or(Value::Null));
    }
    Value::Object(out)
}

/// What an upload's body held.
enum Upload {
    File {
        name: String,
        content_type: String,
        bytes: Bytes,
    },
    Link {
        url: String,
        title: Option<String>,
    },
}

/// Reads the multipart body: one `file` part, or `attachmentUrl` (and `title`).
async fn read_upload(mut form: Multipart) -> Result<Upload, Reply> {
    let malformed = || {
        bad(
            "INVALID_DATA",
            "invalid data",
            json!({ "param_name": "file" }),
        )
    };
    let mut file = None;
    let mut url = None;
    let mut title = None;
    while let Some(mut field) = form.next_field().await.map_err(|_| malformed())? {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("file").to_owned();
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let mut bytes = Vec::new();
                let mut too_big = false;
                while let Some(chunk) = field.chunk().await.map_err(|_| malformed())? {
                    if bytes.len() + chunk.len() > MAX_FILE_BYTES {
                        too_big = true;
                    } else {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                if too_big {
                    return Err(bad(
                        "INVALID_DATA",
                        "the file size exceeds the allowed limit",
                        json!({ "param_name": "file", "maximum_size": MAX_FILE_BYTES }),
                    ));
                }
                file = Some((name, content_type, Bytes::from(bytes)));
            }
            Some("attachmentUrl") => url = Some(field.text().await.map_err(|_| malformed())?),
            Some("title") => title = Some(field.text().await.map_err(|_| malformed())?),
            _ => {}
        }
    }
    match (file, url) {
        (Some((name, content_type, bytes)), None) => Ok(Upload::File {
            name,
            content_type,
            bytes,
        }),
        (None, Some(url)) if url.starts_with("https://") || url.starts_with("http://") => {
            Ok(Upload::Link { url, title })
        }
        (None, None) => Err(bad(
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({ "param_name": "file" }),
        )),
        _ => Err(bad(
            "INVALID_REQUEST",
            "give a file or an attachmentUrl, not both",
            json!({ "param_names": ["file", "attachmentUrl"] }),
        )),
    }
}

/// `POST {Module}/{id}/Attachments`.
pub(super) async fn upload(
    emu: Emu,
    req: CrmRequest,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let upload = match form {
        Ok(form) => read_upload(form).await,
        Err(_) => Err(bad(
            "INVALID_DATA",
            "the body must be multipart/form-data",
            json!({ "expected_data_type": "multipart/form-data" }),
        )),
    };
    let path = format!("{}/{{id}}/Attachments", req.module);
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, user) = req.enter_attachments(world, fault, "CREATE")?;
        let (pid, parent) = req.parent(world, &m, &user)?;
        Ok(store(world, &user, &m, pid, &parent, upload?))
    })
    .await
}

fn store(
    world: &mut World,
    user: &User,
    m: &Module,
    pid: u64,
    parent: &Record,
    upload: Upload,
) -> Reply {
    let org = user.org_zgid.clone();
    let now = world.now();
    let me = user_ref(user);
    let id = world.crm.new_id();
    let (name, size, link, content_type) = match &upload {
        Upload::File {
            name,
            bytes,
            content_type,
        } => (
            name.clone(),
            bytes.len().to_string(),
            Value::Null,
            content_type.clone(),
        ),
        Upload::Link { url, title } => (
            title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| url.clone()),
            "0".to_owned(),
            Value::String(url.clone()),
            String::new(),
        ),
    };
    let pname = parent.get(m.name_field()).cloned().unwrap_or(Value::Null);
    let record = json!({
        "id": id.to_string(),
        "File_Name": name,
        "Size": size,
        "$file_id": format!("file{id}"),
        "$type": if link.is_null() { "Attachment" } else { "Link URL" },
        "$se_module": m.api_name,
        "$link_url": link,
        "$editable": true,
        "Parent_Id": { "id": pid.to_string(), "name": pname },
        "Owner": me, "Created_By": me, "Modified_By": me,
        "Created_Time": iso(now), "Modified_Time": iso(now),
        "_content_type": content_type,
    });
    let Value::Object(record) = record else {
        return Reply::gateway(StatusCode::INTERNAL_SERVER_ERROR);
    };
    if let Upload::File { bytes, .. } = upload {
        world.crm.files.put(id, bytes);
    }
    world.crm.audit(
        &org,
        pid,
        Event {
            action: "added",
            by: user,
            at: now,
            subject: subject("Attachments", ATTACHMENTS_MODULE_ID, &id.to_string(), &name),
            fields: Vec::new(),
        },
    );
    let item = json!({
        "code": "SUCCESS",
        "details": {
            "id": id.to_string(),
            "Created_Time": iso(now), "Modified_Time": iso(now),
            "Created_By": record.get("Created_By"), "Modified_By": record.get("Modified_By"),
        },
        "message": "attachment uploaded successfully",
        "status": "success",
    });
    world
        .crm
        .attachments
        .entry(org)
        .or_default()
        .insert(id, record);
    write_reply(vec![item], StatusCode::OK)
}

/// The attachment the path names, on the record the path names.
fn find<'w>(
    world: &'w World,
    user: &User,
    pid: u64,
    raw: &str,
) -> Result<(u64, &'w Record), Reply> {
    let missing = || {
        bad(
            "INVALID_DATA",
            "the related id given seems to be invalid",
            json!({ "resource_path_index": 3 }),
        )
    };
    let id = raw.parse::<u64>().map_err(|_| missing())?;
    let a = world
        .crm
        .attachments
        .get(&user.org_zgid)
        .and_then(|all| all.get(&id))
        .filter(|a| {
            a.get("Parent_Id")
                .and_then(|p| p.get("id"))
                .and_then(Value::as_str)
                == Some(&pid.to_string())
        })
        .ok_or_else(missing)?;
    Ok((id, a))
}

/// `GET {Module}/{id}/Attachments/{attachment}`: the bytes, as a download.
pub(super) async fn download(emu: Emu, req: CrmRequest) -> Response {
    let path = format!("{}/{{id}}/Attachments/{{id}}", req.module);
    let mut file = None;
    let reply = req
        .run(&emu, Endpoint::Records, &path, |world, fault| {
            let (m, user) = req.enter_attachments(world, fault, "READ")?;
            let (pid, _) = req.parent(world, &m, &user)?;
            let (id, a) = find(world, &user, pid, req.sub.as_deref().unwrap_or_default())?;
            let bytes = world.crm.files.get(id).ok_or_else(|| {
                bad(
                    "INVALID_DATA",
                    "this attachment is a link, not a file",
                    json!({ "id": id.to_string() }),
                )
            })?;
            let name = a
                .get("File_Name")
                .and_then(Value::as_str)
                .unwrap_or("file")
                .to_owned();
            let content_type = a
                .get("_content_type")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .unwrap_or("application/octet-stream")
                .to_owned();
            file = Some((name, content_type, bytes));
            Ok(Reply::Empty(StatusCode::OK))
        })
        .await;
    match file {
        Some((name, content_type, bytes)) if reply.status() == StatusCode::OK => Reply::File {
            name,
            content_type,
            bytes,
        }
        .into_response(),
        _ => reply,
    }
}

/// `DELETE {Module}/{id}/Attachments/{attachment}`.
pub(super) async fn remove(emu: Emu, req: CrmRequest) -> Response {
    let path = format!("{}/{{id}}/Attachments/{{id}}", req.module);
    req.run(&emu, Endpoint::Records, &path, |world, fault| {
        let (m, user) = req.enter_attachments(world, fault, "DELETE")?;
        let (pid, _) = req.parent(world, &m, &user)?;
        let raw = req.sub.clone().unwrap_or_default();
        let (id, a) = find(world, &user, pid, &raw)?;
        let name = a.get("File_Name").and_then(Value::as_str).unwrap_or_default().to_owned();
        if let Some(all) = world.crm.attachments.get_mut(&user.org_zgid) {
            all.remove(&id);
        }
        world.crm.files.remove(id);
        let now = world.now();
        world.crm.audit(
            &user.org_zgid,
            pid,
            Event { action: "deleted", by: &user, at: now, subject: subject("Attachments", ATTACHMENTS_MODULE_ID, &raw, &name), fields: Vec::new() },
        );
        Ok(write_reply(
            vec![json!({ "code": "SUCCESS", "details": { "id": raw }, "message": "record deleted", "status": "success" })],
            StatusCode::OK,
        ))
    })
    .await
}
