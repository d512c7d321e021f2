//! What each channel sends in the file-drop form. Digital Post and print carry the whole
//! letter (sender, recipient, text, documents); SMS and e-mail carry a short notice; phone
//! is a callback task for a caseworker.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::{Channel, ChannelError, OutboundMessage};
use crate::domain::ChannelKind;
use crate::i18n::{DEFAULT_LANGUAGE, t};
use crate::store::DeliveryWork;

/// Format name inside file-drop envelopes, so a consumer can tell versions apart.
const ENVELOPE_FORMAT: &str = "budbringer-letter/1";

fn message(work: &DeliveryWork, extension: &'static str, bytes: Vec<u8>) -> OutboundMessage {
    OutboundMessage {
        channel: work.delivery.channel,
        letter_id: work.letter.id,
        delivery_id: work.delivery.id,
        extension,
        bytes,
    }
}

/// The full letter as a JSON envelope, documents included.
fn envelope(work: &DeliveryWork) -> Result<Vec<u8>, ChannelError> {
    let letter = &work.letter;
    let documents: Vec<_> = work
        .documents
        .iter()
        .map(|d| json!({ "filename": d.filename, "media_type": d.media_type, "content_base64": STANDARD.encode(&d.content) }))
        .collect();
    let body = json!({
        "format": ENVELOPE_FORMAT,
        "channel": work.delivery.channel,
        "letter_id": letter.id,
        "delivery_id": work.delivery.id,
        "sender": { "name": work.authority.name, "cvr": work.authority.cvr, "contact": letter.contact },
        "recipient": { "cpr": work.citizen.cpr, "name": letter.recipient.name, "address": letter.recipient.address },
        "subject": letter.subject,
        "body": letter.body,
        "importance": letter.importance,
        "respond_by": letter.deadline,
        "reference": letter.reference,
        "documents": documents,
    });
    serde_json::to_vec_pretty(&body).map_err(|e| ChannelError::Permanent(format!("cannot encode letter: {e}")))
}

pub struct DigitalPost;

impl Channel for DigitalPost {
    fn kind(&self) -> ChannelKind {
        ChannelKind::DigitalPost
    }
    fn render(&self, work: &DeliveryWork) -> Result<OutboundMessage, ChannelError> {
        Ok(message(work, "json", envelope(work)?))
    }
}

pub struct Print;

impl Channel for Print {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Print
    }
    fn render(&self, work: &DeliveryWork) -> Result<OutboundMessage, ChannelError> {
        if work.letter.recipient.address.is_none() {
            return Err(ChannelError::Permanent("no postal address for a paper letter".into()));
        }
        Ok(message(work, "json", envelope(work)?))
    }
}

fn notice_args(work: &DeliveryWork) -> Vec<(&'static str, String)> {
    vec![
        ("sender", work.authority.name.clone()),
        ("subject", work.letter.subject.clone()),
        ("phone", work.letter.contact.phone.clone().unwrap_or_default()),
    ]
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
        let id = if work.letter.contact.phone.is_some() { "notice-sms" } else { "notice-sms-no-phone" };
        let text = t(DEFAULT_LANGUAGE, id, &notice_args(work));
        let file = format!("To: {phone}\n\n{text}\n");
        Ok(message(work, "txt", file.into_bytes()))
    }
}

pub struct EmailNotice;

impl Channel for EmailNotice {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }
    fn render(&self, work: &DeliveryWork) -> Result<OutboundMessage, ChannelError> {
        let Some(to) = &work.citizen.email else {
            return Err(ChannelError::Permanent("the citizen has no e-mail address".into()));
        };
        let args = notice_args(work);
        let to = to.parse().map_err(|e| ChannelError::Permanent(format!("bad e-mail address: {e}")))?;
        let from = "Budbringer <noreply@budbringer.invalid>"
            .parse()
            .map_err(|e| ChannelError::Permanent(format!("bad sender address: {e}")))?;
        let email = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(t(DEFAULT_LANGUAGE, "notice-email-subject", &args))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(t(DEFAULT_LANGUAGE, "notice-email-body", &args))
            .map_err(|e| ChannelError::Permanent(format!("cannot build e-mail: {e}")))?;
        Ok(message(work, "eml", email.formatted()))
    }
}

pub struct PhoneCallback;

impl Channel for PhoneCallback {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Phone
    }
    fn render(&self, work: &DeliveryWork) -> Result<OutboundMessage, ChannelError> {
        let Some(phone) = &work.citizen.phone else {
            return Err(ChannelError::Permanent("the citizen has no phone number".into()));
        };
        let task = json!({
            "format": "budbringer-callback/1",
            "letter_id": work.letter.id,
            "delivery_id": work.delivery.id,
            "phone": phone,
            "summary": t(DEFAULT_LANGUAGE, "callback-summary", &notice_args(work)),
            "respond_by": work.letter.deadline,
            "contact": work.letter.contact,
        });
        let bytes = serde_json::to_vec_pretty(&task).map_err(|e| ChannelError::Permanent(e.to_string()))?;
        Ok(message(work, "json", bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::letter::{ContactPoint, PostalAddress};
    use crate::domain::{DeliveryStatus, Importance, LetterStatus};
    use crate::store::*;
    use uuid::Uuid;

    fn work(channel: ChannelKind, phone: Option<&str>, email: Option<&str>, address: bool) -> DeliveryWork {
        let id = Uuid::now_v7();
        DeliveryWork {
            letter: LetterRecord {
                id,
                authority_id: Uuid::nil(),
                citizen_id: Uuid::nil(),
                recipient: Recipient {
                    cpr_masked: "010190-****".into(),
                    name: Some("Jens".into()),
                    address: address.then(|| PostalAddress {
                        co: None,
                        street: "Vestergade".into(),
                        house_number: "1".into(),
                        floor: None,
                        door: None,
                        postcode: "8000".into(),
                        town: "Aarhus C".into(),
                        country: None,
                    }),
                },
                subject: "Boligstøtte".into(),
                body: "Tekst".into(),
                importance: Importance::Important,
                respond_by: None,
                deadline: None,
                reference: None,
                contact: ContactPoint { phone: Some("+45 70 10 10 10".into()), ..Default::default() },
                status: LetterStatus::Dispatched,
                created_at: 0,
                updated_at: 0,
            },
            citizen: CitizenContact {
                cpr: "0101901234".into(),
                phone: phone.map(Into::into),
                email: email.map(Into::into),
            },
            authority: Authority {
                id: Uuid::nil(),
                name: "Aarhus Kommune".into(),
                cvr: "55133018".into(),
                created_at: 0,
            },
            delivery: DeliveryRecord {
                id: Uuid::now_v7(),
                letter_id: id,
                channel,
                status: DeliveryStatus::Sending,
                transport: None,
                provider_ref: None,
                attempts: 1,
                last_error: None,
                created_at: 0,
                updated_at: 0,
            },
            documents: vec![],
        }
    }

    #[test]
    fn sms_notice_names_sender_and_subject_in_danish() {
        let msg = SmsNotice.render(&work(ChannelKind::Sms, Some("+4512345678"), None, false)).unwrap();
        let text = String::from_utf8(msg.bytes).unwrap();
        assert!(text.starts_with("To: +4512345678\n"), "{text}");
        assert!(text.contains("Aarhus Kommune") && text.contains("Boligstøtte") && text.contains("Ring"), "{text}");
    }

    #[test]
    fn notices_without_contact_details_fail_permanently() {
        assert!(SmsNotice.render(&work(ChannelKind::Sms, None, None, false)).unwrap_err().is_permanent());
        assert!(EmailNotice.render(&work(ChannelKind::Email, None, None, false)).unwrap_err().is_permanent());
        assert!(Print.render(&work(ChannelKind::Print, None, None, false)).unwrap_err().is_permanent());
    }

    #[test]
    fn email_notice_is_a_real_rfc5322_message() {
        let msg = EmailNotice.render(&work(ChannelKind::Email, None, Some("jens@example.org"), false)).unwrap();
        let text = String::from_utf8(msg.bytes).unwrap();
        assert!(text.contains("To: jens@example.org"), "{text}");
        assert!(text.contains("Subject: "), "{text}");
        assert_eq!(msg.extension, "eml");
    }

    #[test]
    fn print_envelope_carries_address_and_full_cpr_for_the_provider() {
        let msg = Print.render(&work(ChannelKind::Print, None, None, true)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&msg.bytes).unwrap();
        assert_eq!(v["recipient"]["address"]["postcode"], "8000");
        assert_eq!(v["recipient"]["cpr"], "0101901234");
        assert_eq!(v["format"], ENVELOPE_FORMAT);
    }
}
