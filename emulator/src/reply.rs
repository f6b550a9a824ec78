//! What an emulated endpoint answers, in the shapes Zoho uses: token errors as HTTP 200 JSON, API
//! errors as `{"code","details","message","status":"error"}` with a real status, HTML pages for the
//! sign-in screen, and redirects.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An endpoint's answer before it becomes an HTTP response.
#[derive(Debug, Clone)]
pub enum Reply {
    Json(StatusCode, Value),
    Html(StatusCode, String),
    Redirect(String),
    Empty(StatusCode),
    /// A download: the bytes with their type, as an attachment named `name`.
    File {
        name: String,
        content_type: String,
        bytes: axum::body::Bytes,
    },
}

impl Reply {
    pub fn status(&self) -> StatusCode {
        match self {
            Reply::Json(s, _) | Reply::Html(s, _) | Reply::Empty(s) => *s,
            Reply::File { .. } => StatusCode::OK,
            Reply::Redirect(_) => StatusCode::FOUND,
        }
    }

    /// A token-endpoint error: Zoho answers these with HTTP 200.
    pub fn token_error(error: &str) -> Reply {
        Reply::Json(StatusCode::OK, json!({ "error": error }))
    }

    /// Zoho's throttle body (too many requests), also HTTP 200.
    pub fn access_denied() -> Reply {
        Reply::Json(
            StatusCode::OK,
            json!({
                "error_description": "You have made too many requests continuously. Please try again after some time.",
                "error": "Access Denied",
                "status": "failure"
            }),
        )
    }

    /// Zoho's answer to a path it does not know.
    pub fn unknown_url() -> Reply {
        Reply::api_error(
            StatusCode::NOT_FOUND,
            "INVALID_URL_PATTERN",
            "Please check if the URL trying to access is a correct one",
            serde_json::json!({}),
        )
    }

    /// A CRM API error envelope.
    pub fn api_error(status: StatusCode, code: &str, message: &str, details: Value) -> Reply {
        Reply::Json(
            status,
            json!({ "code": code, "details": details, "message": message, "status": "error" }),
        )
    }

    pub fn invalid_token() -> Reply {
        Reply::api_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            "invalid oauth token",
            json!({}),
        )
    }

    pub fn gateway(status: StatusCode) -> Reply {
        Reply::Html(
            status,
            format!(
                "<html><body><h1>{} {}</h1></body></html>",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            ),
        )
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Reply::Json(status, body) => {
                let mut res = (status, body.to_string()).into_response();
                res.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json;charset=UTF-8"),
                );
                res
            }
            Reply::Html(status, html) => {
                let mut res = (status, html).into_response();
                res.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html;charset=UTF-8"),
                );
                res
            }
            Reply::Redirect(location) => {
                let mut res = StatusCode::FOUND.into_response();
                if let Ok(v) = HeaderValue::from_str(&location) {
                    res.headers_mut().insert(header::LOCATION, v);
                }
                res
            }
            Reply::Empty(status) => status.into_response(),
            Reply::File {
                name,
                content_type,
                bytes,
            } => {
                let mut res = (StatusCode::OK, bytes).into_response();
                let h = res.headers_mut();
                if let Ok(v) = HeaderValue::from_str(&content_type) {
                    h.insert(header::CONTENT_TYPE, v);
                }
                if let Ok(v) = HeaderValue::from_str(&format!(
                    "attachment; filename*=UTF-8''{}",
                    percent_encode_attr(&name)
                )) {
                    h.insert(header::CONTENT_DISPOSITION, v);
                }
                res
            }
        }
    }
}

/// RFC 8187's encoding of a header parameter value: attr-chars as they are, every other byte
/// as `%XX`.
pub fn percent_encode_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes text for HTML content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_percent_encoded_for_content_disposition() {
        assert_eq!(percent_encode_attr("a b/ü.txt"), "a%20b%2F%C3%BC.txt");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
