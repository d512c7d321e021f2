//! IPP transport: Print-Job with the PDF, then Get-Job-Attributes until the job is done.
//!
//! A small encoder/decoder for the parts of RFC 8010 this needs (IPP/2.0 over HTTP POST,
//! `application/ipp`), on the reqwest client the rest of the service uses.
//!
//! Outcomes: `completed` → delivered; `aborted`/`canceled` → permanent failure (transient when
//! the printer reports itself stopped); no final state within `job_timeout_secs` → `sent`
//! (the job is at the printer; printing it again would post the letter twice). Connection
//! errors, HTTP 5xx and IPP `server-error-*` are transient, IPP `client-error-*` permanent.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

use crate::channels::{ChannelError, OutboundMessage, Receipt, Transport};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IppSettings {
    /// `ipp://host:port/path` (or `ipps://`, `http://`, `https://`).
    pub printer_uri: String,
    pub requesting_user_name: String,
    /// Per IPP request.
    pub request_timeout_secs: u64,
    /// How long to follow a job before leaving it as `sent`; keep it below `engine.lease_secs`.
    pub job_timeout_secs: u64,
    pub poll_interval_ms: u64,
}

impl Default for IppSettings {
    fn default() -> Self {
        Self {
            printer_uri: String::new(),
            requesting_user_name: "budbringer".into(),
            request_timeout_secs: 10,
            job_timeout_secs: 30,
            poll_interval_ms: 250,
        }
    }
}

// Operations (RFC 8011 §5.4.15).
const PRINT_JOB: u16 = 0x0002;
const GET_JOB_ATTRIBUTES: u16 = 0x0009;

// Delimiter and value tags (RFC 8010 §3.5).
const OPERATION_ATTRIBUTES: u8 = 0x01;
const END_OF_ATTRIBUTES: u8 = 0x03;
const INTEGER: u8 = 0x21;
const BOOLEAN: u8 = 0x22;
const ENUM: u8 = 0x23;
const NAME_WITHOUT_LANGUAGE: u8 = 0x42;
const KEYWORD: u8 = 0x44;
const URI: u8 = 0x45;
const CHARSET: u8 = 0x47;
const NATURAL_LANGUAGE: u8 = 0x48;
const MIME_MEDIA_TYPE: u8 = 0x49;

// job-state values.
const JOB_CANCELED: i32 = 7;
const JOB_ABORTED: i32 = 8;
const JOB_COMPLETED: i32 = 9;

/// One attribute value as sent or received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Integer(i32),
    Boolean(bool),
    Text(String),
    Other(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The group tag it came in (1 operation, 2 job, 4 printer, 5 unsupported).
    pub group: u8,
    pub name: String,
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub version: (u8, u8),
    pub status: u16,
    pub request_id: u32,
    pub attributes: Vec<Attribute>,
}

impl Response {
    fn first(&self, name: &str) -> Option<&Value> {
        self.attributes.iter().filter(|a| a.name == name).find_map(|a| a.values.first())
    }

    pub fn integer(&self, name: &str) -> Option<i32> {
        match self.first(name) {
            Some(Value::Integer(i)) => Some(*i),
            _ => None,
        }
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        match self.first(name) {
            Some(Value::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// Every text value of `name` (multi-valued keywords such as `job-state-reasons`).
    pub fn texts(&self, name: &str) -> Vec<&str> {
        self.attributes
            .iter()
            .filter(|a| a.name == name)
            .flat_map(|a| a.values.iter())
            .filter_map(|v| if let Value::Text(s) = v { Some(s.as_str()) } else { None })
            .collect()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("IPP response ends early")]
    Truncated,
}

/// An IPP request: the operation attributes group, then `data` (the document).
pub fn encode(operation: u16, request_id: u32, attributes: &[(u8, &str, Value)], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + data.len());
    out.extend_from_slice(&[2, 0]);
    out.extend_from_slice(&operation.to_be_bytes());
    out.extend_from_slice(&request_id.to_be_bytes());
    out.push(OPERATION_ATTRIBUTES);
    for (tag, name, value) in attributes {
        out.push(*tag);
        put_bytes(&mut out, name.as_bytes());
        match value {
            Value::Integer(i) => put_bytes(&mut out, &i.to_be_bytes()),
            Value::Boolean(b) => put_bytes(&mut out, &[u8::from(*b)]),
            Value::Text(s) => put_bytes(&mut out, s.as_bytes()),
            Value::Other(b) => put_bytes(&mut out, b),
        }
    }
    out.push(END_OF_ATTRIBUTES);
    out.extend_from_slice(data);
    out
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // names and values are far below 64 KiB here; cut rather than corrupt the framing
    let len = bytes.len().min(u16::MAX as usize);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(&bytes[..len]);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.at.checked_add(n).ok_or(DecodeError::Truncated)?;
        let slice = self.bytes.get(self.at..end).ok_or(DecodeError::Truncated)?;
        self.at = end;
        Ok(slice)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Parse an IPP response (its attribute groups; any data after them is ignored).
pub fn decode(bytes: &[u8]) -> Result<Response, DecodeError> {
    let mut r = Reader { bytes, at: 0 };
    let version = (r.u8()?, r.u8()?);
    let status = r.u16()?;
    let request_id = r.u32()?;
    let mut attributes: Vec<Attribute> = Vec::new();
    let mut group = 0;
    loop {
        let tag = r.u8()?;
        if tag == END_OF_ATTRIBUTES {
            break;
        }
        if tag <= 0x0F {
            group = tag;
            continue;
        }
        let name_len = r.u16()? as usize;
        let name = String::from_utf8_lossy(r.take(name_len)?).into_owned();
        let value_len = r.u16()? as usize;
        let raw = r.take(value_len)?;
        let value = match tag {
            INTEGER | ENUM if raw.len() == 4 => Value::Integer(i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]])),
            BOOLEAN if raw.len() == 1 => Value::Boolean(raw[0] != 0),
            // textWithoutLanguage … mimeMediaType: all character strings
            0x41..=0x49 => Value::Text(String::from_utf8_lossy(raw).into_owned()),
            _ => Value::Other(raw.to_vec()),
        };
        match attributes.last_mut() {
            // an empty name adds a value to the attribute before it (RFC 8010 §3.1.5)
            Some(last) if name.is_empty() => last.values.push(value),
            _ => attributes.push(Attribute { group, name, values: vec![value] }),
        }
    }
    Ok(Response { version, status, request_id, attributes })
}

/// What one status code means for the delivery.
fn status_error(status: u16, message: Option<&str>) -> Option<ChannelError> {
    let detail = message.map(|m| format!(" ({m})")).unwrap_or_default();
    match status {
        0x0000..=0x00FF => None,
        0x0400..=0x04FF => Some(ChannelError::Permanent(format!("printer refused the job: 0x{status:04x}{detail}"))),
        _ => Some(ChannelError::Transient(format!("printer error 0x{status:04x}{detail}"))),
    }
}

pub struct IppTransport {
    client: reqwest::Client,
    printer_uri: String,
    http_url: reqwest::Url,
    settings: IppSettings,
}

impl IppTransport {
    pub fn new(settings: &IppSettings) -> Result<Self, ChannelError> {
        let http_url = http_url(&settings.printer_uri)?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.request_timeout_secs.max(1)))
            .build()
            .map_err(|e| ChannelError::Permanent(format!("cannot set up the IPP client: {e}")))?;
        Ok(Self { client, printer_uri: settings.printer_uri.clone(), http_url, settings: settings.clone() })
    }

    fn operation_attributes<'a>(&'a self, extra: Vec<(u8, &'a str, Value)>) -> Vec<(u8, &'a str, Value)> {
        let mut attrs = vec![
            (CHARSET, "attributes-charset", Value::Text("utf-8".into())),
            (NATURAL_LANGUAGE, "attributes-natural-language", Value::Text("en".into())),
            (URI, "printer-uri", Value::Text(self.printer_uri.clone())),
        ];
        attrs.extend(extra);
        attrs
    }

    async fn call(&self, body: Vec<u8>) -> Result<Response, ChannelError> {
        let response = self
            .client
            .post(self.http_url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/ipp")
            .body(body)
            .send()
            .await
            .map_err(|e| ChannelError::Transient(format!("printer unreachable: {e}")))?;
        let http = response.status();
        if http.is_server_error() || http == 408 || http == 429 {
            return Err(ChannelError::Transient(format!("printer answered HTTP {http}")));
        }
        if !http.is_success() {
            return Err(ChannelError::Permanent(format!("printer answered HTTP {http}")));
        }
        let bytes =
            response.bytes().await.map_err(|e| ChannelError::Transient(format!("printer answer cut off: {e}")))?;
        decode(&bytes).map_err(|e| ChannelError::Transient(e.to_string()))
    }

    async fn job_state(&self, job_id: i32, request_id: u32) -> Result<Response, ChannelError> {
        let attrs = self.operation_attributes(vec![
            (INTEGER, "job-id", Value::Integer(job_id)),
            (NAME_WITHOUT_LANGUAGE, "requesting-user-name", Value::Text(self.settings.requesting_user_name.clone())),
            (KEYWORD, "requested-attributes", Value::Text("job-state".into())),
            (KEYWORD, "", Value::Text("job-state-reasons".into())),
            (KEYWORD, "", Value::Text("job-state-message".into())),
        ]);
        let response = self.call(encode(GET_JOB_ATTRIBUTES, request_id, &attrs, &[])).await?;
        match status_error(response.status, response.text("status-message")) {
            Some(e) => Err(e),
            None => Ok(response),
        }
    }
}

/// The HTTP URL an `ipp://` printer URI is reached at (port 631 unless given).
fn http_url(printer_uri: &str) -> Result<reqwest::Url, ChannelError> {
    let bad = |why: &str| ChannelError::Permanent(format!("channels.print.ipp.printer_uri {printer_uri:?}: {why}"));
    let (scheme, rest) = printer_uri.split_once("://").ok_or_else(|| bad("not a URI"))?;
    let http = match scheme.to_ascii_lowercase().as_str() {
        "ipp" | "http" => "http",
        "ipps" | "https" => "https",
        _ => return Err(bad("scheme must be ipp, ipps, http or https")),
    };
    let mut url = reqwest::Url::parse(&format!("{http}://{rest}")).map_err(|e| bad(&e.to_string()))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if url.port().is_none() && matches!(scheme, "ipp" | "ipps") {
        url.set_port(Some(631)).map_err(|_| bad("cannot set the port"))?;
    }
    Ok(url)
}

#[async_trait]
impl Transport for IppTransport {
    async fn send(&self, message: &OutboundMessage) -> Result<Receipt, ChannelError> {
        let job_name = message.delivery_id.to_string();
        let attrs = self.operation_attributes(vec![
            (NAME_WITHOUT_LANGUAGE, "requesting-user-name", Value::Text(self.settings.requesting_user_name.clone())),
            (NAME_WITHOUT_LANGUAGE, "job-name", Value::Text(job_name)),
            (MIME_MEDIA_TYPE, "document-format", Value::Text("application/pdf".into())),
        ]);
        let response = self.call(encode(PRINT_JOB, 1, &attrs, &message.bytes)).await?;
        if let Some(e) = status_error(response.status, response.text("status-message")) {
            return Err(e);
        }
        let Some(job_id) = response.integer("job-id") else {
            // accepted but cannot be followed: sending it again would print it twice
            tracing::warn!("printer accepted a job without a job-id; left as sent");
            return Ok(Receipt { transport: "ipp", provider_ref: None, confirmed: false });
        };
        let provider_ref = Some(response.text("job-uri").map_or_else(|| format!("ipp-job:{job_id}"), str::to_owned));
        let unconfirmed = Receipt { transport: "ipp", provider_ref: provider_ref.clone(), confirmed: false };

        // From here on the job is at the printer: problems while following it leave the
        // delivery `sent` instead of printing the letter a second time.
        let deadline = Instant::now() + Duration::from_secs(self.settings.job_timeout_secs);
        let mut current = response;
        let mut request_id = 1;
        loop {
            match current.integer("job-state") {
                Some(JOB_COMPLETED) => return Ok(Receipt { transport: "ipp", provider_ref, confirmed: true }),
                Some(JOB_CANCELED) => {
                    return Err(ChannelError::Permanent(format!("print job {job_id} was canceled at the printer")));
                }
                Some(JOB_ABORTED) => return Err(aborted(job_id, &current)),
                _ => {}
            }
            if Instant::now() >= deadline {
                tracing::info!(job_id, "print job not finished within the timeout; left as sent");
                return Ok(unconfirmed);
            }
            tokio::time::sleep(Duration::from_millis(self.settings.poll_interval_ms)).await;
            request_id += 1;
            match self.job_state(job_id, request_id).await {
                Ok(r) => current = r,
                Err(e) => {
                    tracing::warn!(job_id, error = %e, "cannot follow the print job; left as sent");
                    return Ok(unconfirmed);
                }
            }
        }
    }
}

/// An aborted job: transient when the printer says it is stopped, otherwise permanent.
fn aborted(job_id: i32, r: &Response) -> ChannelError {
    let reasons = r.texts("job-state-reasons");
    let message = r.text("job-state-message").unwrap_or("").trim().to_owned();
    let detail = format!("print job {job_id} aborted ({}) {message}", reasons.join(","));
    let detail = detail.trim_end().to_owned();
    let stopped = reasons.iter().any(|r| r.starts_with("printer-stopped") || *r == "service-off-line");
    if stopped { ChannelError::Transient(detail) } else { ChannelError::Permanent(detail) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(tag: u8, name: &str, value: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        out.extend_from_slice(&(name.len() as u16).to_be_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
        out.extend_from_slice(value);
        out
    }

    #[test]
    fn encodes_a_print_job_request() {
        let bytes = encode(
            PRINT_JOB,
            7,
            &[(CHARSET, "attributes-charset", Value::Text("utf-8".into())), (INTEGER, "job-id", Value::Integer(3))],
            b"%PDF",
        );
        let mut expected = vec![2, 0, 0, 2, 0, 0, 0, 7, OPERATION_ATTRIBUTES];
        expected.extend(attr(CHARSET, "attributes-charset", b"utf-8"));
        expected.extend(attr(INTEGER, "job-id", &[0, 0, 0, 3]));
        expected.push(END_OF_ATTRIBUTES);
        expected.extend_from_slice(b"%PDF");
        assert_eq!(bytes, expected);
    }

    #[test]
    fn decodes_groups_multiple_values_and_states() {
        let mut bytes = vec![2, 0, 0, 0, 0, 0, 0, 9, OPERATION_ATTRIBUTES];
        bytes.extend(attr(CHARSET, "attributes-charset", b"utf-8"));
        bytes.push(0x02);
        bytes.extend(attr(INTEGER, "job-id", &[0, 0, 0, 42]));
        bytes.extend(attr(URI, "job-uri", b"ipp://localhost:631/ipp/print/42"));
        bytes.extend(attr(ENUM, "job-state", &[0, 0, 0, 8]));
        bytes.extend(attr(KEYWORD, "job-state-reasons", b"aborted-by-system"));
        bytes.extend(attr(KEYWORD, "", b"printer-stopped"));
        bytes.push(END_OF_ATTRIBUTES);
        let r = decode(&bytes).unwrap();
        assert_eq!((r.version, r.status, r.request_id), ((2, 0), 0, 9));
        assert_eq!(r.integer("job-id"), Some(42));
        assert_eq!(r.integer("job-state"), Some(JOB_ABORTED));
        assert_eq!(r.text("job-uri"), Some("ipp://localhost:631/ipp/print/42"));
        assert_eq!(r.texts("job-state-reasons"), vec!["aborted-by-system", "printer-stopped"]);
        assert_eq!(r.attributes[1].group, 2);
        assert!(!aborted(42, &r).is_permanent(), "a stopped printer is worth another try");
    }

    #[test]
    fn truncated_answers_are_errors_not_panics() {
        let mut bytes = vec![2, 0, 0, 0, 0, 0, 0, 1, OPERATION_ATTRIBUTES];
        bytes.extend(attr(INTEGER, "job-id", &[0, 0, 0, 42]));
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), Err(DecodeError::Truncated), "cut at {cut}");
        }
    }

    #[test]
    fn status_codes_map_to_transient_and_permanent() {
        assert!(status_error(0x0000, None).is_none());
        assert!(status_error(0x0001, None).is_none());
        assert!(status_error(0x040A, Some("Unsupported document-format")).unwrap().is_permanent());
        assert!(!status_error(0x0507, None).unwrap().is_permanent());
        let aborted_plain = Response {
            version: (2, 0),
            status: 0,
            request_id: 1,
            attributes: vec![Attribute {
                group: 2,
                name: "job-state-reasons".into(),
                values: vec![Value::Text("aborted-by-system".into())],
            }],
        };
        assert!(aborted(1, &aborted_plain).is_permanent());
    }

    #[test]
    fn printer_uris_become_http_urls() {
        assert_eq!(http_url("ipp://localhost/ipp/print").unwrap().as_str(), "http://localhost:631/ipp/print");
        assert_eq!(http_url("ipp://127.0.0.1:8631/ipp/print").unwrap().as_str(), "http://127.0.0.1:8631/ipp/print");
        assert_eq!(http_url("ipps://printer.example/p").unwrap().as_str(), "https://printer.example:631/p");
        assert!(http_url("").is_err());
        assert!(http_url("lpd://x/q").is_err());
    }
}
