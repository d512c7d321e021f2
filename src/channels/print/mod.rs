//! Paper: the whole letter as an accessible PDF (tagged, PDF/UA-1), printed and posted.
//!
//! `render` lays the letter out for a window envelope and appends the authority's PDFs;
//! the transport is the file drop (`<letter>_<delivery>.pdf`), an IPP printer, or a
//! print-and-post vendor's SFTP server.

pub mod access_code;
mod bidi;
mod ipp;
mod markdown;
mod pdf;
mod sftp;

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::envelope::message;
use super::{Channel, ChannelError, OutboundMessage, Transport};
use crate::domain::ChannelKind;
use crate::store::DeliveryWork;

pub use ipp::{IppSettings, IppTransport};
pub use pdf::{RenderError, render_letter};
pub use sftp::{SftpSettings, SftpTransport};

/// How this channel's messages leave: `file` (the file drop), `ipp` (a printer) or `sftp`
/// (a vendor's SFTP server).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    #[default]
    File,
    Ipp,
    Sftp,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub transport: TransportKind,
    /// The printer, when `transport = "ipp"`.
    pub ipp: IppSettings,
    /// The vendor's server, when `transport = "sftp"`.
    pub sftp: SftpSettings,
}

/// The transport `settings` choose.
pub fn transport(settings: &Settings, file_drop: &Arc<dyn Transport>) -> Result<Arc<dyn Transport>, ChannelError> {
    match settings.transport {
        TransportKind::File => Ok(Arc::clone(file_drop)),
        TransportKind::Ipp => Ok(Arc::new(IppTransport::new(&settings.ipp)?)),
        TransportKind::Sftp => Ok(Arc::new(SftpTransport::new(&settings.sftp)?)),
    }
}

/// The print channel; with `access`, the citizen's own letters carry a personal access code
/// for the citizens' pages.
pub struct Print {
    pub access: Option<access_code::AccessCodes>,
}

impl Channel for Print {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Print
    }
    fn render(&self, work: &DeliveryWork) -> Result<OutboundMessage, ChannelError> {
        if work.letter.recipient.address.is_none() {
            return Err(ChannelError::Permanent("no postal address for a paper letter".into()));
        }
        // Rendering is deterministic and cannot get better by waiting: every failure is final.
        let pdf = render_letter(work, self.access.as_ref()).map_err(|e| ChannelError::Permanent(e.to_string()))?;
        Ok(message(work, "pdf", pdf))
    }
}

/// A document that is not a letter (the citizen's own data export), laid out by the same
/// accessible renderer: `body` in the letters' Markdown subset, `language` `da` or `en`.
pub fn render_report(title: &str, body: &str, language: &str, now_ms: i64) -> Result<Vec<u8>, RenderError> {
    use crate::domain::letter::ContactPoint;
    use crate::domain::{DeliveryStatus, Importance, LetterStatus};
    use crate::store::{Authority, CitizenContact, DeliveryRecord, LetterRecord, Recipient};
    let id = uuid::Uuid::now_v7();
    let work = DeliveryWork {
        letter: LetterRecord {
            id,
            authority_id: uuid::Uuid::nil(),
            citizen_id: uuid::Uuid::nil(),
            recipient: Recipient { cpr_masked: String::new(), name: None, address: None },
            subject: title.to_owned(),
            body: body.to_owned(),
            importance: Importance::Normal,
            category: None,
            respond_by: None,
            deadline: None,
            reference: None,
            contact: ContactPoint::default(),
            status: LetterStatus::Delivered,
            created_at: now_ms,
            updated_at: now_ms,
            content_deleted_at: None,
            bulk: false,
        },
        citizen: CitizenContact { language: Some(language.to_owned()), ..Default::default() },
        authority: Authority {
            id: uuid::Uuid::nil(),
            name: "Budbringer".into(),
            cvr: String::new(),
            created_at: now_ms,
            office_hours: None,
            time_zone: None,
            closing_days: sqlx::types::Json(Vec::new()),
        },
        delivery: DeliveryRecord {
            id,
            letter_id: id,
            channel: ChannelKind::Print,
            // not "letter": a report carries no access code
            purpose: "report".into(),
            helper: None,
            status: DeliveryStatus::Sending,
            transport: None,
            provider_ref: None,
            attempts: 0,
            last_error: None,
            created_at: now_ms,
            updated_at: now_ms,
        },
        documents: Vec::new(),
        for_helper: None,
    };
    render_letter(&work, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::test_support::work;

    #[test]
    fn print_renders_a_pdf_for_the_file_drop() {
        let msg = Print { access: None }.render(&work(ChannelKind::Print, None, None, true)).unwrap();
        assert_eq!(msg.extension, "pdf");
        assert!(msg.bytes.starts_with(b"%PDF-1.7"), "{:?}", &msg.bytes[..16]);
    }

    #[test]
    fn settings_default_to_the_file_drop_and_refuse_unknown_keys() {
        let s: Settings = serde_json::from_str("{}").unwrap();
        assert_eq!(s.transport, TransportKind::File);
        let s: Settings =
            serde_json::from_str(r#"{"transport":"ipp","ipp":{"printer_uri":"ipp://localhost:631/ipp/print"}}"#)
                .unwrap();
        assert_eq!(s.transport, TransportKind::Ipp);
        assert!(serde_json::from_str::<Settings>(r#"{"printer":"x"}"#).is_err());
        assert!(serde_json::from_str::<Settings>(r#"{"ipp":{"uri":"x"}}"#).is_err());
    }

    #[test]
    fn ipp_without_a_printer_uri_fails_at_start_up() {
        let file_drop: Arc<dyn Transport> = Arc::new(crate::channels::file_drop::FileDrop::new("unused".into()));
        let settings = Settings { transport: TransportKind::Ipp, ..Default::default() };
        assert!(transport(&settings, &file_drop).is_err());
    }
}
