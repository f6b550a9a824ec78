//! A record's attachments: the list, an upload (the file as a multipart part), a download
//! handed back as a stream with Zoho's type and file name, and removal.

use serde::Deserialize;

use super::notes::Person;
use super::records::{RecordError, is_record_id, write_results};
use super::{ApiError, CrmClient, CrmError, api_error};
use crate::call::{Body, Call, FilePart, Op, Resource};
use crate::http::HttpError;
use crate::ids::ConnectionId;
use crate::ids::ModuleName;

/// One attachment: a file, or a link (`link_url`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Attachment {
    pub id: String,
    #[serde(rename = "File_Name", default)]
    pub file_name: String,
    /// Bytes, as Zoho gives it: a string.
    #[serde(rename = "Size", default)]
    pub size: Option<String>,
    #[serde(rename = "$link_url", default)]
    pub link_url: Option<String>,
    #[serde(rename = "Created_By", default)]
    pub created_by: Option<Person>,
    #[serde(rename = "Created_Time", default)]
    pub created_time: Option<String>,
}

impl Attachment {
    pub fn size_bytes(&self) -> Option<u64> {
        self.size.as_deref().and_then(|s| s.parse().ok())
    }
}

#[derive(Deserialize)]
struct AttachmentsBody {
    data: Vec<Attachment>,
}

/// A download as Zoho answered it: the body still to be read, its type and its file name.
#[derive(Debug)]
pub struct Download {
    pub content_type: Option<String>,
    pub file_name: Option<String>,
    pub length: Option<u64>,
    pub response: reqwest::Response,
}

const ATTACHMENT_FIELDS: &str = "id,File_Name,Size,$link_url,Created_By,Created_Time";

impl CrmClient {
    /// The record's attachments, newest first.
    pub async fn attachments(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
    ) -> Result<Vec<Attachment>, CrmError> {
        if !is_record_id(record_id) {
            return Ok(Vec::new());
        }
        let files = Resource::Attachments {
            module: module.clone(),
            id: record_id.to_owned(),
        };
        let query = format!("fields={ATTACHMENT_FIELDS}&per_page=200");
        match self.read::<AttachmentsBody>(id, &files, &query).await {
            Ok(body) => Ok(body.data),
            Err(CrmError::Api(ApiError::NoContent)) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Uploads a file to the record; the attachment's id, or what Zoho found wrong.
    pub async fn upload(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
        file: &FilePart,
    ) -> Result<Result<String, RecordError>, CrmError> {
        if !is_record_id(record_id) {
            return Ok(Err(RecordError::invalid_id()));
        }
        let files = Resource::Attachments {
            module: module.clone(),
            id: record_id.to_owned(),
        };
        let call = Call {
            body: Body::File(file),
            op: Op::Create,
            ..Call::read(&files, "")
        };
        let mut results = write_results(self.call(id, call).await?)?;
        match results.swap_remove(0) {
            Ok(Some(new_id)) => Ok(Ok(new_id)),
            Ok(None) => Err(HttpError::Malformed("attachment without id").into()),
            Err(e) => Ok(Err(e)),
        }
    }

    /// Starts a download of an attachment; `None` when Zoho has no such file.
    pub async fn download(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
        attachment_id: &str,
    ) -> Result<Option<Download>, CrmError> {
        if !is_record_id(record_id) || !is_record_id(attachment_id) {
            return Ok(None);
        }
        let file = Resource::Attachment {
            module: module.clone(),
            id: record_id.to_owned(),
            attachment: attachment_id.to_owned(),
        };
        let response = self.stream(id, Call::read(&file, "")).await?;
        let status = response.status().as_u16();
        if status == 400 || status == 204 {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            let body = response.bytes().await.unwrap_or_default();
            return Err(api_error(status, &body).into());
        }
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Ok(Some(Download {
            content_type: header(reqwest::header::CONTENT_TYPE),
            file_name: header(reqwest::header::CONTENT_DISPOSITION)
                .as_deref()
                .and_then(disposition_file_name),
            length: response.content_length(),
            response,
        }))
    }

    /// Removes an attachment from the record.
    pub async fn remove_attachment(
        &self,
        id: &ConnectionId,
        module: &ModuleName,
        record_id: &str,
        attachment_id: &str,
    ) -> Result<Result<(), RecordError>, CrmError> {
        if !is_record_id(record_id) || !is_record_id(attachment_id) {
            return Ok(Err(RecordError::invalid_id()));
        }
        let file = Resource::Attachment {
            module: module.clone(),
            id: record_id.to_owned(),
            attachment: attachment_id.to_owned(),
        };
        let mut results = write_results(self.call(id, Call::delete(&file)).await?)?;
        Ok(results.swap_remove(0).map(|_| ()))
    }
}

/// The file name of a `Content-Disposition` header: `filename*=UTF-8''…` (percent-decoded), else
/// `filename="…"` — as Zoho's SDK reads it.
pub fn disposition_file_name(header: &str) -> Option<String> {
    for part in header.split(';').map(str::trim) {
        if let Some(v) = part.strip_prefix("filename*=") {
            let encoded = v.rsplit('\'').next()?;
            return percent_decode(encoded);
        }
    }
    header.split(';').map(str::trim).find_map(|part| {
        part.strip_prefix("filename=")
            .map(|v| v.trim_matches('"').to_owned())
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_come_out_of_either_form_of_content_disposition() {
        assert_eq!(
            disposition_file_name("attachment; filename*=UTF-8''a%20b%C3%BC.txt").as_deref(),
            Some("a bü.txt")
        );
        assert_eq!(
            disposition_file_name("attachment; filename=\"plain.pdf\"").as_deref(),
            Some("plain.pdf")
        );
        assert_eq!(disposition_file_name("attachment"), None);
        assert_eq!(
            disposition_file_name("attachment; filename*=UTF-8''bad%zz"),
            None
        );
    }
}
