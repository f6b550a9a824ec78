//! Attachments in and out, on routes of their own (a server function's body is capped at 256 KB):
//! `POST /files/{Module}/{id}` takes one `file` part of a `multipart/form-data` body, read as it
//! arrives and refused past 20 MB, and hands it to Zoho; `GET /files/{Module}/{id}/{attachment}`
//! streams Zoho's bytes back as a download that never runs on zportal's origin (`attachment`,
//! `nosniff`, `Content-Security-Policy: sandbox`). Both act for the session's active connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::sync::Semaphore;
use zoho::ConnectionId;
use zoho::call::FilePart;
use zoho::crm::metadata::ModuleName;
use zoho::crm::records::RecordError;

use app::AppError;
use app::session::{ActiveConnection, SessionRejection};

use crate::AppState;

/// The largest file zportal takes (Zoho's own limit is not documented; the emulator's is this).
pub const MAX_FILE: usize = 20 * 1024 * 1024;
/// The body around one file: its multipart headers and boundary.
const MAX_UPLOAD_BODY: usize = MAX_FILE + 64 * 1024;
/// Uploads held in memory at once by one process (each at most [`MAX_FILE`]).
pub const UPLOADS_AT_ONCE: usize = 8;
/// Uploads at once for one Zoho connection: one user cannot take every slot.
pub const UPLOADS_PER_CONNECTION: usize = 2;
/// What a busy upload is told: how soon to try again.
const BUSY_RETRY_SECS: u64 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/files/{module}/{id}",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)),
        )
        .route("/files/{module}/{id}/{attachment}", get(download))
        .layer(axum::middleware::from_fn(own_site_only))
}

/// Whether a request for a file comes from another site's page, by Fetch Metadata: a
/// `cross-site` or `same-site` request is refused unless it is a top-level navigation (how a
/// download link opens). An `<img>` or a `fetch` on a sibling subdomain would otherwise spend
/// the org's Zoho credits and time the answers. Browsers without Fetch Metadata are held by the
/// CSRF guard (writes) and by [`CORP`] (embedding).
pub fn foreign_file_request(headers: &HeaderMap) -> bool {
    let foreign = headers
        .get("sec-fetch-site")
        .is_some_and(|site| matches!(site.as_bytes(), b"cross-site" | b"same-site"));
    let top_level = headers
        .get("sec-fetch-mode")
        .is_some_and(|mode| mode.as_bytes() == b"navigate")
        && headers
            .get("sec-fetch-dest")
            .is_none_or(|dest| dest.as_bytes() == b"document");
    foreign && !top_level
}

/// No other origin may embed what `/files` answers.
const CORP: (&str, &str) = ("cross-origin-resource-policy", "same-origin");

/// axum middleware: refuses [`foreign_file_request`]s with 403, and marks every answer [`CORP`].
async fn own_site_only(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = if foreign_file_request(req.headers()) {
        tracing::warn!(method = %req.method(), "cross-site file request refused");
        Failure::Foreign.into_response()
    } else {
        next.run(req).await
    };
    res.headers_mut()
        .insert(CORP.0, HeaderValue::from_static(CORP.1));
    res
}

/// The uploads a process may hold at once: [`UPLOADS_AT_ONCE`] in all, and
/// [`UPLOADS_PER_CONNECTION`] per Zoho connection.
#[derive(Clone)]
pub struct Uploads {
    process: Arc<Semaphore>,
    /// Uploads held per connection; an entry goes with its last upload.
    per_connection: Arc<Mutex<HashMap<ConnectionId, usize>>>,
}

impl Default for Uploads {
    fn default() -> Self {
        Uploads {
            process: Arc::new(Semaphore::new(UPLOADS_AT_ONCE)),
            per_connection: Arc::default(),
        }
    }
}

/// One upload's slot, given back when dropped.
struct Held {
    _process: tokio::sync::OwnedSemaphorePermit,
    per_connection: Arc<Mutex<HashMap<ConnectionId, usize>>>,
    conn: ConnectionId,
}

impl Uploads {
    /// A slot for an upload of `conn`, if one is free for it.
    fn hold(&self, conn: &ConnectionId) -> Option<Held> {
        let mut held = self.per_connection.lock().ok()?;
        let n = held.get(conn).copied().unwrap_or(0);
        if n >= UPLOADS_PER_CONNECTION {
            return None;
        }
        let process = self.process.clone().try_acquire_owned().ok()?;
        held.insert(conn.clone(), n + 1);
        Some(Held {
            _process: process,
            per_connection: self.per_connection.clone(),
            conn: conn.clone(),
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Ok(mut held) = self.per_connection.lock()
            && let Some(n) = held.get_mut(&self.conn)
        {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.conn);
            }
        }
    }
}

/// Why a file route failed, answered as JSON `{"error": …}` with its status.
enum Failure {
    /// One of the app's errors (signed out, Zoho down, a store failure …).
    App(AppError),
    /// A request this route does not take, and what to send instead.
    Bad(&'static str),
    /// Zoho refused the file, and said why.
    NotTaken(RecordError),
    /// The process holds as many uploads as it takes at once.
    Busy,
    TooBig,
    /// The attachment is gone.
    Gone,
    /// The record to attach to is not there.
    NoRecord,
    /// Another site's page asked.
    Foreign,
}

impl Failure {
    fn status(&self) -> StatusCode {
        match self {
            Failure::App(e) => {
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Failure::Bad(_) | Failure::NotTaken(_) => StatusCode::BAD_REQUEST,
            Failure::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Failure::TooBig => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::Gone | Failure::NoRecord => StatusCode::NOT_FOUND,
            Failure::Foreign => StatusCode::FORBIDDEN,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::App(e) => e.to_string(),
            Failure::Bad(message) => (*message).to_owned(),
            Failure::NotTaken(e) => format!("Zoho did not take the file: {}", e.message),
            Failure::Busy => {
                "zportal is taking as many files as it can right now. Please try again in a moment."
                    .into()
            }
            Failure::TooBig => "This file is larger than 20 MB, the most Zoho takes here.".into(),
            Failure::Gone => "This attachment is not there any more.".into(),
            Failure::NoRecord => "This record is not there any more.".into(),
            Failure::Foreign => "Cross-site request refused.".into(),
        }
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::App(e)
    }
}

impl From<zoho::crm::CrmError> for Failure {
    fn from(e: zoho::crm::CrmError) -> Self {
        AppError::from(e).into()
    }
}

impl From<tower_sessions::session::Error> for Failure {
    fn from(e: tower_sessions::session::Error) -> Self {
        AppError::from(e).into()
    }
}

impl From<keeper::vault::VaultError> for Failure {
    fn from(e: keeper::vault::VaultError) -> Self {
        AppError::from(e).into()
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let busy = matches!(self, Failure::Busy);
        let mut res = (self.status(), Json(json!({ "error": self.message() }))).into_response();
        if busy {
            crate::limits::retry_after(res.headers_mut(), BUSY_RETRY_SECS);
        }
        res
    }
}

fn bad(message: &'static str) -> Failure {
    Failure::Bad(message)
}

/// The session's active connection, or 401.
fn active(found: Result<ActiveConnection, SessionRejection>) -> Result<ConnectionId, Failure> {
    Ok(found.map_err(AppError::from)?.0.id)
}

fn module_of(raw: &str) -> Result<ModuleName, Failure> {
    ModuleName::parse(raw).ok_or_else(|| bad("There is no such module."))
}

async fn upload(
    State(state): State<AppState>,
    found: Result<ActiveConnection, SessionRejection>,
    Path((module, record)): Path<(String, String)>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, Failure> {
    let conn = active(found)?;
    let module = module_of(&module)?;
    let form =
        form.map_err(|_| bad("Send the file as multipart/form-data, in a part named “file”."))?;
    // The record first: no slot is held and no byte of the file read for a record that is not
    // there (a read moments ago will do: the upload itself is Zoho's final word).
    if state
        .zoho()
        .crm
        .record(&conn, &module, &record)
        .await?
        .is_none()
    {
        return Err(Failure::NoRecord);
    }
    let Some(_held) = state.uploads.hold(&conn) else {
        return Err(Failure::Busy);
    };
    let file = read_file(form).await?;
    match state
        .zoho()
        .crm
        .upload(&conn, &module, &record, &file)
        .await?
    {
        Ok(id) => Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response()),
        Err(e) => Err(Failure::NotTaken(e)),
    }
}

/// Reads the `file` part as it arrives, refusing it as soon as it passes [`MAX_FILE`].
async fn read_file(mut form: Multipart) -> Result<FilePart, Failure> {
    let broken = || bad("The upload was cut off. Please try again.");
    while let Some(mut field) = form.next_field().await.map_err(|_| broken())? {
        if field.name() != Some("file") {
            continue;
        }
        let file_name = field
            .file_name()
            .map(clean_file_name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "file".to_owned());
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let mut bytes = Vec::new();
        let failed = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_big()
            } else {
                broken()
            }
        };
        while let Some(chunk) = field.chunk().await.map_err(failed)? {
            if bytes.len() + chunk.len() > MAX_FILE {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() {
            return Err(bad("The file is empty."));
        }
        return Ok(FilePart {
            file_name,
            content_type,
            bytes: bytes.into(),
        });
    }
    Err(bad("Choose a file to attach."))
}

fn too_big() -> Failure {
    Failure::TooBig
}

/// A file name as a person gave it, without any path and without control characters.
fn clean_file_name(raw: &str) -> String {
    raw.rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect::<String>()
        .trim()
        .to_owned()
}

async fn download(
    State(state): State<AppState>,
    found: Result<ActiveConnection, SessionRejection>,
    Path((module, record, attachment)): Path<(String, String, String)>,
) -> Result<Response, Failure> {
    let conn = active(found)?;
    let module = module_of(&module)?;
    let Some(file) = state
        .zoho()
        .crm
        .download(&conn, &module, &record, &attachment)
        .await?
    else {
        return Err(Failure::Gone);
    };
    let name = file
        .file_name
        .as_deref()
        .map(clean_file_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "attachment".to_owned());
    let mut res = Response::new(Body::from_stream(file.response.bytes_stream()));
    let h = res.headers_mut();
    // Whatever the file claims to be, the browser saves it: it never renders on this origin.
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(n) = file.length {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
    }
    Ok(res)
}

/// `attachment; filename="<ascii>"; filename*=UTF-8''<utf-8, percent-encoded>` (RFC 6266).
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetch(site: &'static str, mode: &'static str, dest: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", HeaderValue::from_static(site));
        h.insert("sec-fetch-mode", HeaderValue::from_static(mode));
        h.insert("sec-fetch-dest", HeaderValue::from_static(dest));
        h
    }

    #[test]
    fn another_sites_page_gets_a_file_only_by_a_top_level_navigation() {
        for site in ["cross-site", "same-site"] {
            assert!(
                foreign_file_request(&fetch(site, "no-cors", "image")),
                "{site} <img>"
            );
            assert!(
                foreign_file_request(&fetch(site, "cors", "empty")),
                "{site} fetch"
            );
            assert!(
                foreign_file_request(&fetch(site, "navigate", "iframe")),
                "{site} frame"
            );
            assert!(
                !foreign_file_request(&fetch(site, "navigate", "document")),
                "{site} link"
            );
        }
        assert!(!foreign_file_request(&fetch(
            "same-origin",
            "no-cors",
            "image"
        )));
        assert!(
            !foreign_file_request(&HeaderMap::new()),
            "no Fetch Metadata"
        );
    }

    #[test]
    fn a_connection_holds_two_uploads_and_the_process_eight() {
        let uploads = Uploads::default();
        let (a, b) = (ConnectionId::new("a"), ConnectionId::new("b"));
        let first = uploads.hold(&a).expect("first");
        let _second = uploads.hold(&a).expect("second");
        assert!(uploads.hold(&a).is_none(), "a third of one connection");
        drop(first);
        let _third = uploads.hold(&a).expect("once one is done");
        let others: Vec<_> = (0..6)
            .map(|i| uploads.hold(&ConnectionId::new(i.to_string())))
            .collect();
        assert!(others.iter().all(Option::is_some));
        assert!(uploads.hold(&b).is_none(), "eight in the process");
        drop(others);
        assert!(uploads.hold(&b).is_some());
        drop(_third);
        drop(_second);
        assert!(
            uploads
                .per_connection
                .lock()
                .expect("lock")
                .get(&a)
                .is_none(),
            "no entry left"
        );
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\a\\report.pdf"), "report.pdf");
        assert_eq!(clean_file_name("a\r\nb.txt"), "ab.txt");
    }

    #[test]
    fn a_download_is_named_in_both_forms_and_quotes_cannot_break_out() {
        assert_eq!(
            content_disposition("ré\"sumé.pdf"),
            "attachment; filename=\"r__sum_.pdf\"; filename*=UTF-8''r%C3%A9%22sum%C3%A9.pdf"
        );
    }
}
