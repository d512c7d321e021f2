//! E-mail: a short notice that a letter has come, never the letter's content.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::test_support::work;

    #[test]
    fn email_notice_is_a_real_rfc5322_message() {
        let msg = EmailNotice.render(&work(ChannelKind::Email, None, Some("jens@example.org"), false)).unwrap();
        let text = String::from_utf8(msg.bytes).unwrap();
        assert!(text.contains("To: jens@example.org"), "{text}");
        assert!(text.contains("Subject: "), "{text}");
        assert_eq!(msg.extension, "eml");
    }
}
