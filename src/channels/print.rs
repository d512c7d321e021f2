//! Paper: the whole letter, printed and posted.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::envelope::ENVELOPE_FORMAT;
    use crate::channels::test_support::work;

    #[test]
    fn print_envelope_carries_address_and_full_cpr_for_the_provider() {
        let msg = Print.render(&work(ChannelKind::Print, None, None, true)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&msg.bytes).unwrap();
        assert_eq!(v["recipient"]["address"]["postcode"], "8000");
        assert_eq!(v["recipient"]["cpr"], "0101901234");
        assert_eq!(v["format"], ENVELOPE_FORMAT);
    }
}
