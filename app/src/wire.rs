//! How server functions' answers travel: JSON, decoded from text exactly as Leptos decodes the
//! resources it hydrates. Leptos' stock `Json` decodes bytes (`serde_json::from_slice`) while
//! resources decode strings (`serde_json::from_str`), so every answer type's deserializer was
//! compiled into the WASM twice; one reader halves that code.

use leptos::server_fn::Bytes;
use leptos::server_fn::codec::Post;
use leptos::server_fn::{ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON as text: `application/json` on the wire, `serde_json::from_str` when read.
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_string(value).map(Bytes::from)
    }
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the body is not UTF-8: {0}")]
    NotText(#[from] std::str::Utf8Error),
    #[error("the body is not the expected JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = WireError;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        Ok(serde_json::from_str(std::str::from_utf8(&bytes)?)?)
    }
}

/// A server function's answer (or a `POST` body) as [`JsonText`].
pub type Json = Post<JsonText>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_bad_input() {
        let bytes =
            <JsonText as Encodes<Vec<String>>>::encode(&vec!["a\"b".to_owned()]).expect("encodes");
        let back: Vec<String> = <JsonText as Decodes<Vec<String>>>::decode(bytes).expect("decodes");
        assert_eq!(back, vec!["a\"b".to_owned()]);
        let cut = <JsonText as Decodes<Vec<String>>>::decode(Bytes::from_static(b"[\"a"));
        assert!(matches!(cut, Err(WireError::Json(_))));
        let binary = <JsonText as Decodes<Vec<String>>>::decode(Bytes::from_static(b"[\"\xff\"]"));
        assert!(matches!(binary, Err(WireError::NotText(_))));
    }
}
