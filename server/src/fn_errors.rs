//! Server functions fail with a typed [`AppError`] in the body, but Leptos answers every failure
//! with 500. This layer gives each failure its own status (400 for bad input, 401 without a
//! session, 429 while Zoho throttles, …), so a hostile or mistaken request is not logged,
//! counted or alerted on as a server fault. The page still reads the error from the body.

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use app::AppError;

/// Error bodies are a few hundred bytes; anything larger is left as it is.
const MAX_ERROR_BODY: usize = 16 * 1024;

pub async fn status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if !res
        .headers()
        .contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(error.http_status())
    {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}
