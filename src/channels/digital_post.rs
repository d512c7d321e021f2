//! Digital Post: the whole letter to the citizen's digital mailbox.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::envelope::{envelope, message};
use super::{Channel, ChannelError, OutboundMessage, Transport};
use crate::domain::ChannelKind;
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

pub struct DigitalPost;

impl Channel for DigitalPost {
    fn kind(&self) -> ChannelKind {
        ChannelKind::DigitalPost
    }
    fn render(&self, work: &DeliveryWork) -> Result<OutboundMessage, ChannelError> {
        Ok(message(work, "json", envelope(work)?))
    }
}
