//! Shared rendering helpers: an outbound message for a delivery, and notice arguments.

use super::OutboundMessage;
use crate::store::DeliveryWork;

/// The message a channel hands its transport for this delivery.
pub fn message(work: &DeliveryWork, extension: &'static str, bytes: Vec<u8>) -> OutboundMessage {
    OutboundMessage {
        channel: work.delivery.channel,
        letter_id: work.letter.id,
        delivery_id: work.delivery.id,
        extension,
        bytes,
        recipient: None,
    }
}

/// Fluent arguments every notice uses: who wrote, about what, how to call them.
pub fn notice_args(work: &DeliveryWork) -> Vec<(&'static str, String)> {
    vec![
        ("sender", work.authority.name.clone()),
        ("subject", work.letter.subject.clone()),
        ("phone", work.letter.contact.phone.clone().unwrap_or_default()),
    ]
}
