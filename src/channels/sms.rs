//! SMS: a short notice that a letter has come, never the letter's content.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::envelope::{message, notice_args};
use super::{Channel, ChannelError, OutboundMessage, Transport};
use crate::domain::ChannelKind;
use crate::i18n::{DEFAULT_LANGUAGE, t};
use crate::store::DeliveryWork;

/// How this channel's messages leave: `file` (the file drop) for now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    #[default]
    File,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub transport: TransportKind,
}

/// The transport `settings` choose.
pub fn transport(settings: &Settings, file_drop: &Arc<dyn Transport>) -> Result<Arc<dyn Transport>, ChannelError> {
    match settings.transport {
        TransportKind::File => Ok(Arc::clone(file_drop)),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::test_support::work;

    #[test]
    fn sms_notice_names_sender_and_subject_in_danish() {
        let msg = SmsNotice.render(&work(ChannelKind::Sms, Some("+4512345678"), None, false)).unwrap();
        let text = String::from_utf8(msg.bytes).unwrap();
        assert!(text.starts_with("To: +4512345678\n"), "{text}");
        assert!(text.contains("Aarhus Kommune") && text.contains("Boligstøtte") && text.contains("Ring"), "{text}");
    }

    #[test]
    fn notices_without_contact_details_fail_permanently() {
        use crate::channels::email::EmailNotice;
        use crate::channels::print::Print;
        assert!(SmsNotice.render(&work(ChannelKind::Sms, None, None, false)).unwrap_err().is_permanent());
        assert!(EmailNotice.render(&work(ChannelKind::Email, None, None, false)).unwrap_err().is_permanent());
        assert!(Print.render(&work(ChannelKind::Print, None, None, false)).unwrap_err().is_permanent());
    }
}
