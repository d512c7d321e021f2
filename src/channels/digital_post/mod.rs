//! Digital Post: the whole letter to the citizen's digital mailbox, as a MeMo 1.2 message.
//!
//! Transports: `file` drops the MeMo XML (`<letter>_<delivery>.xml`) in the outbox;
//! `sf1601` posts a KombiPostAfsend request to Serviceplatformen over mutual TLS (see
//! [`sf1601`]). Status receipts come back through `POST /v1/inbound/digital-post/receipts`.

pub mod memo;
pub mod sf1601;
pub mod xml;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

use super::envelope::message;
use super::{Channel, ChannelError, OutboundMessage, Transport};
use crate::domain::{ChannelKind, Importance};
use crate::i18n::{I18N, t};
use crate::store::DeliveryWork;
use memo::{
    Action, AdditionalDocument, Base64, CaseId, ContactInfo, ContactPoint, ContentData, DateTime, EntryPoint, File,
    MainDocument, Message, MessageBody, MessageHeader, Recipient, Sender,
};

/// How this channel's messages leave: `file` (the file drop) or `sf1601` (Serviceplatformen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    #[default]
    File,
    Sf1601,
}

/// `[channels.digital_post]`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub transport: TransportKind,
    /// The KombiPostAfsend URL, e.g.
    /// `https://exttest.serviceplatformen.dk/service/KombiPostAfsend_1/kombi` (sf1601 only).
    pub endpoint: String,
    /// PEM client certificate (chain) and its private key for mutual TLS (sf1601 only).
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
    /// PEM CA certificate(s) to trust besides the built-in roots (a test environment's CA).
    pub ca_file: Option<PathBuf>,
    pub timeout_secs: u64,
    /// Let Serviceplatformen print and post the letter when the citizen has no Digital Post
    /// mailbox (`KombiValgKode` "Automatisk Valg" with a remote-print order). Needs a postal
    /// address, the recipient's name and a PDF; otherwise the letter goes as Digital Post only.
    pub paper_fallback: bool,
    /// Shared secret the provider sends as `Authorization: Bearer …` with status receipts.
    /// Empty: the receipt endpoint refuses every call.
    pub receipt_secret: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            transport: TransportKind::File,
            endpoint: String::new(),
            client_cert_file: None,
            client_key_file: None,
            ca_file: None,
            timeout_secs: 30,
            paper_fallback: true,
            receipt_secret: String::new(),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the receipt secret stays out of logs
        f.debug_struct("Settings")
            .field("transport", &self.transport)
            .field("endpoint", &self.endpoint)
            .field("client_cert_file", &self.client_cert_file)
            .field("client_key_file", &self.client_key_file)
            .field("ca_file", &self.ca_file)
            .field("timeout_secs", &self.timeout_secs)
            .field("paper_fallback", &self.paper_fallback)
            .field("receipt_secret", &if self.receipt_secret.is_empty() { "" } else { "***" })
            .finish()
    }
}

/// The transport `settings` choose.
pub fn transport(settings: &Settings, file_drop: &Arc<dyn Transport>) -> Result<Arc<dyn Transport>, ChannelError> {
    match settings.transport {
        TransportKind::File => Ok(Arc::clone(file_drop)),
        TransportKind::Sf1601 => Ok(Arc::new(sf1601::Sf1601Transport::new(settings)?)),
    }
}

/// The MeMo `messageUUID` of a delivery: version-4 form, its bits taken from a hash of the
/// delivery id. A retry of the same delivery sends the same UUID, so Digital Post can refuse
/// the duplicate instead of delivering the letter twice, and a receipt finds its delivery.
pub fn message_uuid(delivery_id: Uuid) -> Uuid {
    let digest =
        Sha256::new().chain_update(b"budbringer/memo-message-uuid/").chain_update(delivery_id.as_bytes()).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

pub struct DigitalPost {
    transport: TransportKind,
    paper_fallback: bool,
    reading: crate::domain::reading::ReadingLinks,
}

impl DigitalPost {
    pub fn new(settings: &Settings, links: &super::InboundLinks) -> Self {
        Self {
            transport: settings.transport,
            paper_fallback: settings.paper_fallback,
            reading: crate::domain::reading::ReadingLinks {
                public_url: links.public_url.clone(),
                key: links.reading_key.clone(),
            },
        }
    }
}

impl Channel for DigitalPost {
    fn kind(&self) -> ChannelKind {
        ChannelKind::DigitalPost
    }
    fn render(&self, work: &DeliveryWork) -> Result<OutboundMessage, ChannelError> {
        // whole seconds: nothing downstream needs more, and it reads better
        let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
            .map_err(|e| ChannelError::Transient(format!("clock: {e}")))?;
        let memo = letter_to_memo(work, &self.reading.url(work.delivery.id), now)?;
        let bytes = match self.transport {
            TransportKind::File => memo.to_xml(),
            TransportKind::Sf1601 => sf1601::kombi_request(work, &memo, self.paper_fallback, now)?,
        };
        Ok(message(work, "xml", bytes.into_bytes()))
    }
}

/// Digital Post shows at most this many characters of a notification.
pub const MAX_NOTIFICATION_CHARS: usize = 150;

/// The language the citizen reads, among those Budbringer speaks (Danish by default).
fn language(work: &DeliveryWork) -> &'static str {
    I18N.negotiate(work.citizen.language.as_deref())
}

/// Cut `text` to `max` characters, ending with an ellipsis when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The end (23:59:59) of a `YYYY-MM-DD` deadline in Danish time, as a UTC instant.
fn end_of_day(date: &str) -> Result<jiff::Timestamp, ChannelError> {
    let date: jiff::civil::Date =
        date.parse().map_err(|e| ChannelError::Permanent(format!("stored deadline {date:?} is not a date: {e}")))?;
    let local = date.at(23, 59, 59, 0);
    let zoned = local
        .in_tz("Europe/Copenhagen")
        // without a time zone database, Danish summer time (UTC+2) is the cautious guess: its day ends first
        .or_else(|_| local.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(2))))
        .map_err(|e| ChannelError::Permanent(format!("deadline {date}: {e}")))?;
    Ok(zoned.timestamp())
}

/// The letter as a MeMo message.
///
/// - `label` is the subject; `notification` a short notice in the citizen's language.
/// - Important letters are `mandatory` and `legalNotification`; a deadline sets `reply` and
///   `replyByDateTime` (the end of that day, Danish time).
/// - The main document is the authority's first PDF; without one it is the letter text as a
///   `text/plain` UTF-8 file (until letters are rendered to PDF). With a PDF, the letter text
///   goes along as the first additional document, then the other documents.
/// - Important letters carry an action whose entry point is the citizen's personal reading
///   link (`reading_url`): opening it is evidence that the letter was opened.
pub fn letter_to_memo(work: &DeliveryWork, reading_url: &str, now: jiff::Timestamp) -> Result<Message, ChannelError> {
    let letter = &work.letter;
    let lang = language(work);
    let important = letter.importance == Importance::Important;
    let sender_args = [("sender", work.authority.name.clone()), ("subject", letter.subject.clone())];
    let notification_id = if important { "digital-post-notification-important" } else { "digital-post-notification" };
    let reply_by = letter.deadline.as_deref().map(end_of_day).transpose()?;

    let contact = &letter.contact;
    let mut contact_info = Vec::new();
    for (label_id, value) in [
        ("digital-post-contact-phone", &contact.phone),
        ("digital-post-contact-email", &contact.email),
        ("digital-post-contact-hours", &contact.hours),
    ] {
        if let Some(value) = value {
            contact_info.push(ContactInfo { label: Some(t(lang, label_id, &[])), value: Some(value.clone()) });
        }
    }
    let contact_point = (contact.unit.is_some() || !contact_info.is_empty()).then(|| ContactPoint {
        label: contact.unit.clone(),
        contact_info,
        ..Default::default()
    });

    let header = MessageHeader {
        message_type: "DIGITALPOST".into(),
        message_uuid: message_uuid(work.delivery.id).to_string(),
        message_id: Some(letter.id.to_string()),
        label: letter.subject.clone(),
        notification: Some(truncate(&t(lang, notification_id, &sender_args), MAX_NOTIFICATION_CHARS)),
        reply: reply_by.map(|_| true),
        reply_by_date_time: reply_by.map(DateTime),
        mandatory: Some(important),
        legal_notification: Some(important),
        post_type: Some("MYNDIGHEDSPOST".into()),
        sender: Sender {
            sender_id: work.authority.cvr.clone(),
            id_type: "CVR".into(),
            label: Some(work.authority.name.clone()),
            contact_point,
            ..Default::default()
        },
        recipient: Recipient {
            recipient_id: work.citizen.cpr.clone(),
            id_type: "CPR".into(),
            label: letter.recipient.name.clone(),
            ..Default::default()
        },
        content_data: letter.reference.as_ref().map(|reference| ContentData {
            case_id: Some(CaseId { case_id: Some(reference.clone()), case_system: Some("Budbringer".into()) }),
            ..Default::default()
        }),
        ..Default::default()
    };

    let text_file = || File {
        encoding_format: "text/plain".into(),
        filename: t(lang, "digital-post-letter-filename", &[]),
        language: lang.to_owned(),
        content: Base64(letter.body.clone().into_bytes()),
    };
    let document_file = |d: &crate::store::Document| File {
        encoding_format: d.media_type.clone(),
        filename: d.filename.clone(),
        language: lang.to_owned(),
        content: Base64(d.content.clone()),
    };
    let main_pdf = work.documents.iter().position(|d| d.media_type == "application/pdf");
    let mut main = MainDocument { label: Some(letter.subject.clone()), ..Default::default() };
    let mut additional = Vec::new();
    match main_pdf {
        Some(index) => {
            let pdf = &work.documents[index];
            main.main_document_id = Some(pdf.id.to_string());
            main.files.push(document_file(pdf));
            if !letter.body.trim().is_empty() {
                additional.push(AdditionalDocument {
                    label: Some(t(lang, "digital-post-letter-text-label", &[])),
                    files: vec![text_file()],
                    ..Default::default()
                });
            }
        }
        None => main.files.push(text_file()),
    }
    for (index, document) in work.documents.iter().enumerate() {
        if Some(index) != main_pdf {
            additional.push(AdditionalDocument {
                additional_document_id: Some(document.id.to_string()),
                label: Some(document.filename.clone()),
                files: vec![document_file(document)],
                ..Default::default()
            });
        }
    }
    if important {
        main.actions.push(Action {
            label: t(lang, "digital-post-action-read", &[]),
            action_code: "INFORMATION".into(),
            end_date_time: reply_by.map(DateTime),
            entry_point: Some(EntryPoint { url: reading_url.to_owned() }),
            ..Default::default()
        });
    }
    Ok(Message {
        memo_version: memo::MEMO_VERSION.into(),
        memo_sch_version: None,
        header,
        body: Some(MessageBody {
            created_date_time: DateTime(now),
            main_document: main,
            additional_documents: additional,
            technical_documents: Vec::new(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::test_support::work;
    use crate::store::Document;

    fn fixed_work() -> DeliveryWork {
        let mut w = work(ChannelKind::DigitalPost, None, None, true);
        w.letter.id = Uuid::parse_str("0190a000-0000-7000-8000-000000000001").unwrap();
        w.delivery.id = Uuid::parse_str("0190a000-0000-7000-8000-000000000002").unwrap();
        w.letter.deadline = Some("2026-12-31".into());
        w.letter.reference = Some("SAG-2026-17".into());
        w.letter.body = "Du får boligstøtte fra 1. januar.".into();
        w
    }

    fn at(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    /// Reviewed by hand against the MeMo 1.2 element order: change it only on purpose.
    const EXPECTED_MEMO: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<memo:Message xmlns:memo="https://DigitalPost.dk/MeMo-1" memoVersion="1.2">
  <memo:MessageHeader>
    <memo:messageType>DIGITALPOST</memo:messageType>
    <memo:messageUUID>MESSAGE-UUID</memo:messageUUID>
    <memo:messageID>0190a000-0000-7000-8000-000000000001</memo:messageID>
    <memo:label>Boligstøtte</memo:label>
    <memo:notification>Vigtigt brev fra Aarhus Kommune: Boligstøtte</memo:notification>
    <memo:reply>true</memo:reply>
    <memo:replyByDateTime>2026-12-31T22:59:59Z</memo:replyByDateTime>
    <memo:mandatory>true</memo:mandatory>
    <memo:legalNotification>true</memo:legalNotification>
    <memo:postType>MYNDIGHEDSPOST</memo:postType>
    <memo:Sender>
      <memo:senderID>55133018</memo:senderID>
      <memo:idType>CVR</memo:idType>
      <memo:label>Aarhus Kommune</memo:label>
      <memo:ContactPoint>
        <memo:ContactInfo>
          <memo:label>Telefon</memo:label>
          <memo:value>+45 70 10 10 10</memo:value>
        </memo:ContactInfo>
      </memo:ContactPoint>
    </memo:Sender>
    <memo:Recipient>
      <memo:recipientID>0101901234</memo:recipientID>
      <memo:idType>CPR</memo:idType>
      <memo:label>Jens</memo:label>
    </memo:Recipient>
    <memo:ContentData>
      <memo:CaseID>
        <memo:caseID>SAG-2026-17</memo:caseID>
        <memo:caseSystem>Budbringer</memo:caseSystem>
      </memo:CaseID>
    </memo:ContentData>
  </memo:MessageHeader>
  <memo:MessageBody>
    <memo:createdDateTime>CREATED</memo:createdDateTime>
    <memo:MainDocument>
      <memo:label>Boligstøtte</memo:label>
      <memo:File>
        <memo:encodingFormat>text/plain</memo:encodingFormat>
        <memo:filename>brev.txt</memo:filename>
        <memo:language>da</memo:language>
        <memo:content>RHUgZsOlciBib2xpZ3N0w7h0dGUgZnJhIDEuIGphbnVhci4=</memo:content>
      </memo:File>
      <memo:Action>
        <memo:label>Læs brevet</memo:label>
        <memo:actionCode>INFORMATION</memo:actionCode>
        <memo:endDateTime>2026-12-31T22:59:59Z</memo:endDateTime>
        <memo:EntryPoint>
          <memo:url>https://budbringer.example/l/0190a000-0000-7000-8000-000000000002</memo:url>
        </memo:EntryPoint>
      </memo:Action>
    </memo:MainDocument>
  </memo:MessageBody>
</memo:Message>
"#;

    /// UUIDs and times vary from run to run in real use; the snapshot names them.
    fn normalise(xml: &str, message: &Message) -> String {
        let created = message.body.as_ref().map(|b| b.created_date_time.0.to_string()).unwrap_or_default();
        xml.replace(&message.header.message_uuid, "MESSAGE-UUID").replace(&created, "CREATED")
    }

    #[test]
    fn an_important_letter_renders_to_the_reviewed_memo_snapshot() {
        let message = letter_to_memo(
            &fixed_work(),
            "https://budbringer.example/l/0190a000-0000-7000-8000-000000000002",
            at("2026-11-22T10:00:00Z"),
        )
        .unwrap();
        let xml = message.to_xml();
        assert_eq!(normalise(&xml, &message), EXPECTED_MEMO, "actual:\n{xml}");
        assert_eq!(Message::parse(&xml).unwrap(), message);
    }

    #[test]
    fn the_message_uuid_is_version_4_and_stable_per_delivery() {
        let w = fixed_work();
        let uuid = message_uuid(w.delivery.id);
        assert_eq!(uuid.get_version_num(), 4);
        assert_eq!(uuid, message_uuid(w.delivery.id));
        assert_ne!(uuid, message_uuid(w.letter.id));
    }

    #[test]
    fn notifications_follow_the_citizens_language_and_stay_short() {
        let mut w = fixed_work();
        w.citizen.language = Some("en-GB".into());
        w.letter.subject = "x".repeat(400);
        let message = letter_to_memo(&w, "https://b.example/l/token", at("2026-11-22T10:00:00Z")).unwrap();
        let notification = message.header.notification.unwrap();
        assert!(notification.starts_with("Important letter from Aarhus Kommune"), "{notification}");
        assert_eq!(notification.chars().count(), MAX_NOTIFICATION_CHARS);
        assert!(notification.ends_with('…'));
        assert_eq!(message.body.unwrap().main_document.files[0].language, "en");
    }

    #[test]
    fn a_pdf_becomes_the_main_document_and_normal_letters_have_no_action() {
        let mut w = fixed_work();
        w.letter.importance = Importance::Normal;
        w.letter.deadline = None;
        let pdf = |name: &str| Document {
            id: Uuid::now_v7(),
            filename: name.into(),
            media_type: "application/pdf".into(),
            content: b"%PDF-1.4".to_vec(),
        };
        w.documents = vec![pdf("afgoerelse.pdf"), pdf("bilag.pdf")];
        let message = letter_to_memo(&w, "https://b.example/l/token", at("2026-11-22T10:00:00Z")).unwrap();
        let header = &message.header;
        assert_eq!((header.mandatory, header.legal_notification, header.reply), (Some(false), Some(false), None));
        let body = message.body.unwrap();
        assert_eq!(body.main_document.files[0].filename, "afgoerelse.pdf");
        assert!(body.main_document.actions.is_empty());
        let additional: Vec<_> = body.additional_documents.iter().map(|d| d.files[0].filename.as_str()).collect();
        assert_eq!(additional, ["brev.txt", "bilag.pdf"]);
    }

    #[test]
    fn settings_read_from_toml_and_refuse_unknown_keys() {
        use figment::Figment;
        use figment::providers::{Format, Toml};
        let toml = r#"
            transport = "sf1601"
            endpoint = "https://exttest.serviceplatformen.dk/service/KombiPostAfsend_1/kombi"
            client_cert_file = "/etc/budbringer/oces.pem"
            client_key_file = "/etc/budbringer/oces-key.pem"
            receipt_secret = "s"
        "#;
        let s: Settings = Figment::from(Toml::string(toml)).extract().unwrap();
        assert_eq!(s.transport, TransportKind::Sf1601);
        assert!(s.paper_fallback && s.ca_file.is_none() && s.timeout_secs == 30);
        assert!(!format!("{s:?}").contains("receipt_secret: \"s\""));
        let bad: Result<Settings, _> = Figment::from(Toml::string("transport = \"file\"\nendpont = \"x\"")).extract();
        assert!(bad.is_err());
        let default: Settings = Figment::from(Toml::string("")).extract().unwrap();
        assert_eq!(default.transport, TransportKind::File);
    }

    #[test]
    fn the_file_transport_drops_memo_xml() {
        let links = crate::channels::InboundLinks {
            public_url: "https://b.example/".into(),
            reading_key: b"reading".to_vec(),
            ..Default::default()
        };
        let channel = DigitalPost::new(&Settings::default(), &links);
        let msg = channel.render(&fixed_work()).unwrap();
        assert_eq!(msg.extension, "xml");
        let text = String::from_utf8(msg.bytes).unwrap();
        assert!(Message::parse(&text).is_ok(), "{text}");
        assert!(text.contains("https://b.example/l/"), "{text}");
    }
}
