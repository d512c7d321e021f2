//! Phone: a callback task — a caseworker calls the citizen about the letter.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::{Channel, ChannelError, OutboundMessage, Transport};
use crate::domain::ChannelKind;
use crate::store::DeliveryWork;
use serde_json::json;

use super::envelope::{message, notice_args};
use crate::i18n::{DEFAULT_LANGUAGE, t};

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
