//! Channels render a letter for one way of reaching the citizen and hand it to a transport.
//! They never write to the store: the engine records what they report.

pub mod file_drop;
mod render;

use async_trait::async_trait;
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
}

/// What a transport reports back when it took a message.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub transport: &'static str,
    pub provider_ref: Option<String>,
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
}

/// A channel and the transport its messages leave by.
type Route = (Box<dyn Channel>, Arc<dyn Transport>);

impl Channels {
    /// The embedded default: every channel renders to a file drop under `<data_dir>/outbox`.
    pub fn file_drop(data_dir: &Path) -> Self {
        let transport: Arc<dyn Transport> = Arc::new(file_drop::FileDrop::new(data_dir.join("outbox")));
        let channels: Vec<Box<dyn Channel>> = vec![
            Box::new(render::DigitalPost),
            Box::new(render::Print),
            Box::new(render::SmsNotice),
            Box::new(render::EmailNotice),
            Box::new(render::PhoneCallback),
        ];
        let routes = channels.into_iter().map(|c| (c.kind(), (c, Arc::clone(&transport)))).collect();
        Self { routes }
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
