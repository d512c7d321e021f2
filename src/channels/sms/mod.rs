//! SMS: a short notice that a letter has come, never the letter's content. It leaves by the
//! file drop, Kannel or a provider's HTTP API; delivery reports come back to `/v1/inbound/sms/…`.

pub mod http;
pub mod kannel;
pub mod notice;
pub mod reply;
pub mod segments;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;
use uuid::Uuid;

use super::envelope::message;
use super::{Channel, ChannelError, InboundLinks, OutboundMessage, Transport};
use crate::domain::ChannelKind;
use crate::store::DeliveryWork;

/// Name of the per-installation key that signs delivery-report links (`Store::instance_key`).
pub const REPORT_KEY: &str = "sms-dlr";

/// How this channel's messages leave: `file` (the file drop), `kannel` (smsbox's sendsms) or
/// `http` (a provider's JSON API).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    #[default]
    File,
    Kannel,
    Http,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub transport: TransportKind,
    /// The sender citizens see (`from`): a number or short code they can reply to, or up to
    /// 11 letters and digits (replies are then impossible).
    pub sender: String,
    pub kannel: kannel::Settings,
    pub http: http::Settings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            transport: TransportKind::File,
            sender: "Budbringer".to_owned(),
            kannel: kannel::Settings::default(),
            http: http::Settings::default(),
        }
    }
}

/// The transport `settings` choose.
pub fn transport(
    settings: &Settings,
    file_drop: &Arc<dyn Transport>,
    links: &InboundLinks,
) -> Result<Arc<dyn Transport>, ChannelError> {
    match settings.transport {
        TransportKind::File => Ok(Arc::clone(file_drop)),
        TransportKind::Kannel => Ok(Arc::new(kannel::Kannel::new(&settings.kannel, &settings.sender, links)?)),
        TransportKind::Http => Ok(Arc::new(http::HttpProvider::new(&settings.http, &settings.sender, links)?)),
    }
}

/// One SMS as the channel hands it to a transport. Its bytes are the file-drop format
/// (`To: <number>`, a blank line, the text), which the SMS transports read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsText {
    /// The number in international form (`+4512345678`).
    pub to: String,
    pub text: String,
}

impl SmsText {
    pub fn to_bytes(&self) -> Vec<u8> {
        format!("To: {}\n\n{}\n", self.to, self.text).into_bytes()
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, ChannelError> {
        let malformed = || ChannelError::Permanent("the SMS message is malformed".into());
        let file = std::str::from_utf8(bytes).map_err(|_| malformed())?;
        let (head, text) = file.split_once("\n\n").ok_or_else(malformed)?;
        let to = head.strip_prefix("To: ").ok_or_else(malformed)?;
        Ok(Self { to: to.to_owned(), text: text.strip_suffix('\n').unwrap_or(text).to_owned() })
    }
}

pub use crate::domain::phone::normalise_number;

/// The token in a delivery-report link: an HMAC of the delivery id, so only links Budbringer
/// made are honoured.
pub fn report_token(key: &[u8], delivery_id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(report_mac(key, delivery_id).finalize().into_bytes())
}

/// Does `token` belong to `delivery_id`? Compared in constant time.
pub fn verify_report_token(key: &[u8], delivery_id: Uuid, token: &str) -> bool {
    let Ok(tag) = URL_SAFE_NO_PAD.decode(token) else { return false };
    report_mac(key, delivery_id).verify_slice(&tag).is_ok()
}

fn report_mac(key: &[u8], delivery_id: Uuid) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key"));
    mac.update(b"sms-dlr:");
    mac.update(delivery_id.as_bytes());
    mac
}

pub struct SmsNotice;

impl Channel for SmsNotice {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }
    fn render(&self, work: &DeliveryWork) -> Result<OutboundMessage, ChannelError> {
        let Some(phone) = &work.citizen.phone else {
            return Err(ChannelError::Permanent("the citizen has no phone number".into()));
        };
        let to = normalise_number(phone)
            .ok_or_else(|| ChannelError::Permanent("the citizen's phone number is not a valid number".into()))?;
        let sms = SmsText { to, text: notice::notice_text(work) };
        let length = segments::measure(&sms.text);
        tracing::debug!(delivery_id = %work.delivery.id, segments = length.segments, encoding = ?length.encoding, "SMS notice rendered");
        Ok(message(work, "txt", sms.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::test_support::work;

    #[test]
    fn sms_notice_names_sender_not_subject_in_danish() {
        let msg = SmsNotice.render(&work(ChannelKind::Sms, Some("12 34 56 78"), None, false)).unwrap();
        let sms = SmsText::parse(&msg.bytes).unwrap();
        assert_eq!(sms.to, "+4512345678");
        assert!(sms.text.contains("Aarhus Kommune") && sms.text.contains("RING"), "{}", sms.text);
        assert!(!sms.text.contains("Boligstøtte"), "{}", sms.text);
        assert!(String::from_utf8(msg.bytes).unwrap().starts_with("To: +4512345678\n\n"));
    }

    #[test]
    fn sms_text_survives_the_file_format() {
        let sms = SmsText { to: "+4512345678".into(), text: "To linjer\n\nog en til".into() };
        assert_eq!(SmsText::parse(&sms.to_bytes()).unwrap(), sms);
        assert!(SmsText::parse(b"no header").unwrap_err().is_permanent());
    }

    #[test]
    fn numbers_are_normalised_to_international_form() {
        assert_eq!(normalise_number("12345678").as_deref(), Some("+4512345678"));
        assert_eq!(normalise_number("+45 12 34 56 78").as_deref(), Some("+4512345678"));
        assert_eq!(normalise_number("0045 1234-5678").as_deref(), Some("+4512345678"));
        assert_eq!(normalise_number("+46 70 123 45 67").as_deref(), Some("+46701234567"));
        assert_eq!(normalise_number("+45 1234 567"), None, "Danish numbers have 8 digits");
        assert_eq!(normalise_number("1234567"), None);
        assert_eq!(normalise_number("+45 1234 567x"), None);
        assert_eq!(normalise_number(""), None);
    }

    #[test]
    fn settings_default_to_the_file_drop_and_read_kannel_settings() {
        use figment::Figment;
        use figment::providers::{Format, Toml};
        let settings: Settings = Figment::from(Toml::string("")).extract().unwrap();
        assert_eq!(settings.transport, TransportKind::File);
        assert_eq!(settings.kannel.dlr_mask, 31);
        let toml = r#"
            transport = "kannel"
            sender = "1919"
            [kannel]
            sendsms_url = "http://127.0.0.1:13013/cgi-bin/sendsms"
            username = "budbringer"
            password = "secret-pw"
        "#;
        let settings: Settings = Figment::from(Toml::string(toml)).extract().unwrap();
        assert_eq!((settings.transport, settings.kannel.username.as_str()), (TransportKind::Kannel, "budbringer"));
        assert!(!format!("{settings:?}").contains("secret-pw"), "no password in logs");
        let unknown = Figment::from(Toml::string("[kannel]\nusernme = \"x\"")).extract::<Settings>();
        assert!(unknown.is_err(), "unknown keys are refused");
    }

    #[test]
    fn report_tokens_are_bound_to_the_delivery_and_key() {
        let delivery = Uuid::now_v7();
        let token = report_token(b"key", delivery);
        assert!(verify_report_token(b"key", delivery, &token));
        assert!(!verify_report_token(b"other key", delivery, &token));
        assert!(!verify_report_token(b"key", Uuid::now_v7(), &token));
        assert!(!verify_report_token(b"key", delivery, "not base64!"));
        assert!(!verify_report_token(b"key", delivery, ""));
    }

    #[test]
    fn notices_without_a_usable_number_fail_permanently() {
        assert!(SmsNotice.render(&work(ChannelKind::Sms, None, None, false)).unwrap_err().is_permanent());
        let error = SmsNotice.render(&work(ChannelKind::Sms, Some("123"), None, false)).unwrap_err();
        assert!(error.is_permanent() && !error.to_string().contains("123"), "{error}");
    }
}
