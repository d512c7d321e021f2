//! Shared rendering helpers: the file-drop JSON envelope and notice arguments.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::{ChannelError, OutboundMessage};
use crate::store::DeliveryWork;

/// Format name inside file-drop envelopes, so a consumer can tell versions apart.
pub const ENVELOPE_FORMAT: &str = "budbringer-letter/1";

pub fn message(work: &DeliveryWork, extension: &'static str, bytes: Vec<u8>) -> OutboundMessage {
    OutboundMessage {
        channel: work.delivery.channel,
        letter_id: work.letter.id,
        delivery_id: work.delivery.id,
        extension,
        bytes,
    }
}

/// The full letter as a JSON envelope, documents included.
pub fn envelope(work: &DeliveryWork) -> Result<Vec<u8>, ChannelError> {
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

pub fn notice_args(work: &DeliveryWork) -> Vec<(&'static str, String)> {
    vec![
        ("sender", work.authority.name.clone()),
        ("subject", work.letter.subject.clone()),
        ("phone", work.letter.contact.phone.clone().unwrap_or_default()),
    ]
}
