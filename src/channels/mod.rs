//! Channels render a letter for one way of reaching the citizen and hand it to a transport.
//! They never write to the store: the engine records what they report.

pub mod breaker;
pub mod digital_post;
pub mod email;
mod envelope;
pub mod file_drop;
pub mod phone;
pub mod print;
pub mod sms;
/// A delivery to render, for the channels' unit tests and the print renderer's bench.
#[doc(hidden)]
pub mod test_support;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

use crate::domain::ChannelKind;
use crate::store::DeliveryWork;

/// One rendered message, ready for a transport.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    pub channel: ChannelKind,
    pub letter_id: Uuid,
    pub delivery_id: Uuid,
    /// File extension that says what the bytes are (`json`, `txt`, `eml`).
    pub extension: &'static str,
    pub bytes: Vec<u8>,
    /// Where to send it when the transport needs an address beside the bytes (the e-mail
    /// envelope recipient, say).
    pub recipient: Option<String>,
}

/// What a transport reports back when it took a message.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub transport: &'static str,
    pub provider_ref: Option<String>,
    /// The provider confirmed delivery already; otherwise a receipt comes later.
    pub confirmed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// Worth retrying: the peer is down, slow or busy.
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help: the letter cannot go this way.
    #[error("{0}")]
    Permanent(String),
}

impl ChannelError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, ChannelError::Permanent(_))
    }
}

/// Moves a rendered message to the outside world (a protocol peer, or a file drop).
#[async_trait]
pub trait Transport: Send + Sync {
    async fn send(&self, message: &OutboundMessage) -> Result<Receipt, ChannelError>;
}

/// Turns a letter into the message one channel sends.
pub trait Channel: Send + Sync {
    fn kind(&self) -> ChannelKind;
    fn render(&self, work: &DeliveryWork) -> Result<OutboundMessage, ChannelError>;
}

/// Every channel with the transport configured for it.
pub struct Channels {
    routes: HashMap<ChannelKind, Route>,
    callbacks: phone::CallbackPlanner,
}

/// A channel and the transport its messages leave by.
type Route = (Box<dyn Channel>, Arc<dyn Transport>);

/// How providers reach Budbringer back (delivery reports, receipts), and the keys that sign
/// the links transports hand them.
#[derive(Clone, Default)]
pub struct InboundLinks {
    /// `public_url` of the installation, without a trailing slash.
    pub public_url: String,
    /// Signs SMS delivery-report links (`Store::instance_key(sms::REPORT_KEY)`).
    pub sms_report_key: Vec<u8>,
    /// Signs the citizens' reading links (`Store::instance_key(reading::READING_KEY)`).
    pub reading_key: Vec<u8>,
}

/// Per-channel settings: which transport each channel uses, and how to reach it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelsSettings {
    pub digital_post: digital_post::Settings,
    pub print: print::Settings,
    pub sms: sms::Settings,
    pub email: email::Settings,
    pub phone: phone::Settings,
    pub breaker: breaker::Settings,
}

impl Channels {
    /// Every channel with the transport its settings choose, each behind a circuit breaker.
    /// Fails at start-up when a transport cannot be set up (a missing certificate, say).
    pub fn from_settings(
        settings: &ChannelsSettings,
        data_dir: &Path,
        links: &InboundLinks,
    ) -> Result<Self, ChannelError> {
        let file_drop: Arc<dyn Transport> = Arc::new(file_drop::FileDrop::new(data_dir.join("outbox")));
        let routes: Vec<(Box<dyn Channel>, Arc<dyn Transport>)> = vec![
            (
                Box::new(digital_post::DigitalPost::new(&settings.digital_post, links)),
                digital_post::transport(&settings.digital_post, &file_drop)?,
            ),
            (
                Box::new(print::Print {
                    access: Some(print::access_code::AccessCodes {
                        public_url: links.public_url.clone(),
                        key: links.reading_key.clone(),
                    }),
                }),
                print::transport(&settings.print, &file_drop)?,
            ),
            (Box::new(sms::SmsNotice), sms::transport(&settings.sms, &file_drop, links)?),
            (Box::new(email::EmailNotice::new(&settings.email, links)), email::transport(&settings.email, &file_drop)?),
            (Box::new(phone::PhoneCallback), phone::transport(&settings.phone, &file_drop)?),
        ];
        let routes = routes
            .into_iter()
            .map(|(channel, transport)| {
                let guarded: Arc<dyn Transport> = Arc::new(breaker::Breaker::new(transport, settings.breaker.clone()));
                (channel.kind(), (channel, guarded))
            })
            .collect();
        Ok(Self { routes, callbacks: phone::CallbackPlanner::new(&settings.phone)? })
    }

    /// The callback task a phone delivery opens when it went into the callback queue.
    pub fn callback_task(
        &self,
        work: &DeliveryWork,
        receipt: &Receipt,
        now: jiff::Timestamp,
    ) -> Option<crate::store::NewCallback> {
        (work.delivery.channel == ChannelKind::Phone && receipt.transport == phone::CALLBACK_QUEUE)
            .then(|| self.callbacks.task(work, now))
            .flatten()
    }

    /// Send a short text by SMS that is not a letter's notice (a one-time code). It goes over
    /// the SMS channel's transport, with its own message id.
    pub async fn send_sms_text(&self, letter_id: Uuid, to: &str, text: &str) -> Result<Receipt, ChannelError> {
        let (_, transport) = self
            .routes
            .get(&ChannelKind::Sms)
            .ok_or_else(|| ChannelError::Permanent("no transport configured for sms".into()))?;
        let message = OutboundMessage {
            channel: ChannelKind::Sms,
            letter_id,
            delivery_id: Uuid::now_v7(),
            extension: "txt",
            bytes: format!("To: {to}\n\n{text}\n").into_bytes(),
            recipient: Some(to.to_owned()),
        };
        transport.send(&message).await
    }

    /// Render the letter for the delivery's channel and send it.
    pub async fn deliver(&self, work: &DeliveryWork) -> Result<Receipt, ChannelError> {
        let kind = work.delivery.channel;
        let (channel, transport) = self
            .routes
            .get(&kind)
            .ok_or_else(|| ChannelError::Permanent(format!("no transport configured for {kind}")))?;
        let message = channel.render(work)?;
        transport.send(&message).await
    }
}
