//! Generic HTTP transport for SMS providers with a JSON API: one POST per notice, with the
//! field names the provider uses. Providers that report delivery get a signed callback URL
//! (`/v1/inbound/sms/http/report`) in the field `report_url_field` names.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Duration;
use uuid::Uuid;

use super::{SmsText, report_token};
use crate::channels::{ChannelError, InboundLinks, OutboundMessage, Receipt, Transport};
use crate::store::ProviderReceipt;

/// Where Budbringer's delivery-report endpoint for this transport lives, below `public_url`.
pub const REPORT_PATH: &str = "/v1/inbound/sms/http/report";

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The provider's send endpoint (POST, JSON body).
    pub url: String,
    /// Header that authenticates us (`Authorization`, `X-Api-Key` …); empty: none.
    pub auth_header: String,
    pub auth_value: String,
    pub to_field: String,
    pub text_field: String,
    /// Empty: the sender is not sent (the provider's account decides it).
    pub from_field: String,
    /// Our delivery id, which providers with idempotency use to drop a repeated send.
    /// Empty: not sent.
    pub reference_field: String,
    /// The callback URL for delivery reports. Empty: the provider does not report, and the
    /// delivery stays `sent`.
    pub report_url_field: String,
    /// The field of the provider's answer that holds its message id. Empty, or missing in the
    /// answer: the delivery id is the reference.
    pub id_field: String,
    /// The field of a delivery report that holds the status (also accepted as a query parameter).
    pub report_status_field: String,
    /// Report statuses (case-insensitive) that mean delivered to the phone, and not delivered;
    /// any other status is intermediate.
    pub delivered_statuses: Vec<String>,
    pub failed_statuses: Vec<String>,
    pub timeout_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        Self {
            url: String::new(),
            auth_header: "Authorization".to_owned(),
            auth_value: String::new(),
            to_field: "to".to_owned(),
            text_field: "text".to_owned(),
            from_field: "from".to_owned(),
            reference_field: "reference".to_owned(),
            report_url_field: String::new(),
            id_field: "id".to_owned(),
            report_status_field: "status".to_owned(),
            delivered_statuses: strings(&["delivered", "DELIVRD"]),
            failed_statuses: strings(&[
                "failed",
                "undelivered",
                "rejected",
                "expired",
                "UNDELIV",
                "REJECTD",
                "EXPIRED",
            ]),
            timeout_secs: 10,
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print the credential
        f.debug_struct("http::Settings")
            .field("url", &self.url)
            .field("auth_header", &self.auth_header)
            .field("report_url_field", &self.report_url_field)
            .field("timeout_secs", &self.timeout_secs)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// What a delivery report's status means; `None` for an intermediate one.
    pub fn receipt_for(&self, status: &str) -> Option<ProviderReceipt> {
        let status = status.trim();
        let is = |list: &[String]| list.iter().any(|s| s.eq_ignore_ascii_case(status));
        // the status is the provider's own word, not personal: it may go into the timeline
        let word: String = status.chars().take(40).collect();
        if is(&self.delivered_statuses) {
            Some(ProviderReceipt::Delivered { detail: Some(format!("provider status {word}")) })
        } else if is(&self.failed_statuses) {
            Some(ProviderReceipt::Failed { error: format!("the SMS was not delivered (provider status {word})") })
        } else {
            None
        }
    }
}

pub struct HttpProvider {
    client: reqwest::Client,
    url: reqwest::Url,
    settings: Settings,
    sender: String,
    report_url: String,
    report_key: Vec<u8>,
}

impl HttpProvider {
    pub fn new(settings: &Settings, sender: &str, links: &InboundLinks) -> Result<Self, ChannelError> {
        let url = reqwest::Url::parse(&settings.url)
            .map_err(|e| ChannelError::Permanent(format!("channels.sms.http.url: {e}")))?;
        if settings.to_field.is_empty() || settings.text_field.is_empty() {
            return Err(ChannelError::Permanent("channels.sms.http.to_field and text_field must be set".into()));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs.max(1)))
            .build()
            .map_err(|e| ChannelError::Permanent(format!("cannot build the SMS provider client: {e}")))?;
        Ok(Self {
            client,
            url,
            settings: settings.clone(),
            sender: sender.to_owned(),
            report_url: format!("{}{REPORT_PATH}", links.public_url.trim_end_matches('/')),
            report_key: links.sms_report_key.clone(),
        })
    }

    fn body(&self, delivery_id: Uuid, sms: SmsText) -> Value {
        let s = &self.settings;
        let mut body = Map::new();
        body.insert(s.to_field.clone(), Value::String(sms.to));
        body.insert(s.text_field.clone(), Value::String(sms.text));
        if !s.from_field.is_empty() {
            body.insert(s.from_field.clone(), Value::String(self.sender.clone()));
        }
        if !s.reference_field.is_empty() {
            body.insert(s.reference_field.clone(), Value::String(delivery_id.to_string()));
        }
        if !s.report_url_field.is_empty() {
            let token = report_token(&self.report_key, delivery_id);
            let url = format!("{}?delivery={delivery_id}&token={token}", self.report_url);
            body.insert(s.report_url_field.clone(), Value::String(url));
        }
        Value::Object(body)
    }
}

#[async_trait]
impl Transport for HttpProvider {
    async fn send(&self, message: &OutboundMessage) -> Result<Receipt, ChannelError> {
        let sms = SmsText::parse(&message.bytes)?;
        let mut request = self.client.post(self.url.clone()).json(&self.body(message.delivery_id, sms));
        if !self.settings.auth_header.is_empty() && !self.settings.auth_value.is_empty() {
            request = request.header(self.settings.auth_header.as_str(), self.settings.auth_value.as_str());
        }
        let response = request
            .send()
            .await
            .map_err(|e| ChannelError::Transient(format!("SMS provider unreachable: {}", e.without_url())))?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        interpret_answer(status)?;
        let provider_id =
            serde_json::from_str::<Value>(&body).ok().and_then(|answer| match answer.get(&self.settings.id_field)? {
                Value::String(id) if !id.is_empty() => Some(id.clone()),
                Value::Number(id) => Some(id.to_string()),
                _ => None,
            });
        let provider_ref = provider_id.unwrap_or_else(|| message.delivery_id.to_string());
        Ok(Receipt { transport: "sms_http", provider_ref: Some(provider_ref), confirmed: false })
    }
}

/// What the provider's answer means. Refused credentials (401, 403) are our configuration and
/// rate limits (408, 429) pass: both are worth retrying. Other 4xx will not change.
/// Only the status goes into the error: the answer may echo the number or the text.
pub fn interpret_answer(status: u16) -> Result<(), ChannelError> {
    match status {
        200..=299 => Ok(()),
        401 | 403 => Err(ChannelError::Transient(format!("the SMS provider refused our credentials (HTTP {status})"))),
        408 | 429 => Err(ChannelError::Transient(format!("the SMS provider is busy (HTTP {status})"))),
        400..=499 => Err(ChannelError::Permanent(format!("the SMS provider refused the SMS (HTTP {status})"))),
        _ => Err(ChannelError::Transient(format!("the SMS provider could not take the SMS (HTTP {status})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_transient_or_permanent() {
        assert!(interpret_answer(201).is_ok());
        assert!(interpret_answer(400).unwrap_err().is_permanent());
        assert!(interpret_answer(422).unwrap_err().is_permanent());
        for status in [401, 403, 408, 429, 500, 503] {
            assert!(!interpret_answer(status).unwrap_err().is_permanent(), "{status}");
        }
    }

    #[test]
    fn report_statuses_are_matched_without_regard_to_case() {
        let settings = Settings::default();
        assert!(matches!(settings.receipt_for("Delivered"), Some(ProviderReceipt::Delivered { .. })));
        assert!(matches!(settings.receipt_for("UNDELIV"), Some(ProviderReceipt::Failed { .. })));
        assert!(settings.receipt_for("queued").is_none());
    }

    #[test]
    fn the_body_uses_the_providers_field_names() {
        let settings = Settings {
            url: "http://127.0.0.1:9/sms".into(),
            to_field: "recipient".into(),
            text_field: "message".into(),
            from_field: String::new(),
            report_url_field: "callback".into(),
            ..Settings::default()
        };
        let links = InboundLinks {
            public_url: "https://bb.example/".into(),
            sms_report_key: b"k".to_vec(),
            reading_key: Vec::new(),
        };
        let provider = HttpProvider::new(&settings, "1919", &links).unwrap();
        let delivery_id = Uuid::now_v7();
        let body = provider.body(delivery_id, SmsText { to: "+4512345678".into(), text: "Hej".into() });
        assert_eq!(body["recipient"], "+4512345678");
        assert_eq!(body["message"], "Hej");
        assert_eq!(body["reference"], delivery_id.to_string());
        assert!(body.get("from").is_none());
        let callback = body["callback"].as_str().unwrap();
        let token = report_token(b"k", delivery_id);
        assert_eq!(
            callback,
            format!("https://bb.example/v1/inbound/sms/http/report?delivery={delivery_id}&token={token}")
        );
    }
}
