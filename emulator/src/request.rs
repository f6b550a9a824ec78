//! What a request to the emulator says, read the way Zoho reads it: its parameters (query, form
//! body and HTTP Basic credentials, merged) and the data center in its path.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::Call;
use crate::dc::Dc;
use crate::faults::Endpoint;
use crate::reply::Reply;

/// Request parameters from the query, a urlencoded body and an HTTP Basic header, merged in that
/// order (later ones win), as Zoho accepts all three.
#[derive(Debug, Default)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    pub(crate) fn from_parts(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Self {
        let mut map = HashMap::new();
        if let Some(q) = query {
            map.extend(url::form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if is_form {
            map.extend(url::form_urlencoded::parse(body).into_owned());
        }
        if let Some((id, secret)) = basic_credentials(headers) {
            map.insert("client_id".into(), id);
            map.insert("client_secret".into(), secret);
        }
        Params(map)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn call(
        &self,
        dc: Dc,
        endpoint: Endpoint,
        method: &'static str,
        path: String,
    ) -> Call {
        Call {
            dc,
            endpoint,
            method,
            path,
            client_id: self.get("client_id").map(str::to_owned),
            secret_present: self.get("client_secret").is_some(),
            token: None,
        }
    }
}

pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// The `{dc}` path segment as a data center; any other value is Zoho's unknown-URL answer.
pub(crate) struct DcPath(pub Dc);

impl<S: Send + Sync> FromRequestParts<S> for DcPath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Path(params) =
            Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
        params
            .get("dc")
            .map(String::as_str)
            .unwrap_or_default()
            .parse()
            .map(DcPath)
            .map_err(|_| Reply::unknown_url().into_response())
    }
}

/// Splits Zoho's comma- (or space-) separated scope list.
pub(crate) fn split_scopes(scope: &str) -> Vec<String> {
    scope
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_merge_query_form_and_basic() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().expect("header"),
        );
        headers.insert(
            header::AUTHORIZATION,
            format!("Basic {}", STANDARD.encode("1000.ID:s3cret"))
                .parse()
                .expect("header"),
        );
        let p = Params::from_parts(
            Some("grant_type=refresh_token&a=1"),
            &headers,
            b"a=2&b=x%20y",
        );
        assert_eq!(p.get("grant_type"), Some("refresh_token"));
        assert_eq!(p.get("a"), Some("2"));
        assert_eq!(p.get("b"), Some("x y"));
        assert_eq!(p.get("client_id"), Some("1000.ID"));
        assert_eq!(p.get("client_secret"), Some("s3cret"));
    }

    #[test]
    fn scopes_split_on_commas_and_spaces() {
        assert_eq!(
            split_scopes("ZohoCRM.modules.ALL, ZohoCRM.users.READ ZohoCRM.org.READ"),
            vec![
                "ZohoCRM.modules.ALL",
                "ZohoCRM.users.READ",
                "ZohoCRM.org.READ"
            ]
        );
    }
}
