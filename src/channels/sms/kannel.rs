//! Kannel transport: one HTTP GET to smsbox's `sendsms` per notice. Kannel's answer carries
//! no message id, so the delivery id travels in the `dlr-url` Kannel calls back with delivery
//! reports, signed so that no one else can report on our deliveries.
//!
//! kannel.conf needs a `sendsms-user` with this transport's username and password and, for
//! citizens' replies, an `sms-service` with
//! `get-url = "<public_url>/v1/inbound/sms/kannel/mo?token=<mo_token>&from=%p&text=%a"` and
//! `max-messages = 0` (Kannel would otherwise answer every reply with an SMS of its own).
//! tests/peers/kannel.conf.template is a working example.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::segments::{Encoding, measure};
use super::{SmsText, report_token};
use crate::channels::{ChannelError, InboundLinks, OutboundMessage, Receipt, Transport};
use crate::store::ProviderReceipt;

/// Where Budbringer's delivery-report endpoint lives, below `public_url`.
pub const REPORT_PATH: &str = "/v1/inbound/sms/kannel/dlr";

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// smsbox's sendsms URL (`sendsms-port` in kannel.conf).
    pub sendsms_url: String,
    /// A `sendsms-user` of kannel.conf.
    pub username: String,
    pub password: String,
    /// Send through this `smsc-id` only; empty lets Kannel route.
    pub smsc: String,
    /// Which delivery reports Kannel sends back: 1 delivered, 2 failed, 4 buffered,
    /// 8 accepted by the SMSC, 16 rejected by the SMSC.
    pub dlr_mask: u8,
    pub timeout_secs: u64,
    /// The `token` Kannel's sms-service `get-url` carries for inbound SMS (replies). Empty:
    /// inbound SMS are refused.
    pub mo_token: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            sendsms_url: "http://127.0.0.1:13013/cgi-bin/sendsms".to_owned(),
            username: String::new(),
            password: String::new(),
            smsc: String::new(),
            dlr_mask: 31,
            timeout_secs: 10,
            mo_token: String::new(),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print the password or the inbound token
        f.debug_struct("kannel::Settings")
            .field("sendsms_url", &self.sendsms_url)
            .field("username", &self.username)
            .field("smsc", &self.smsc)
            .field("dlr_mask", &self.dlr_mask)
            .field("timeout_secs", &self.timeout_secs)
            .finish_non_exhaustive()
    }
}

pub struct Kannel {
    client: reqwest::Client,
    sendsms_url: reqwest::Url,
    settings: Settings,
    sender: String,
    report_url: String,
    report_key: Vec<u8>,
}

impl Kannel {
    pub fn new(settings: &Settings, sender: &str, links: &InboundLinks) -> Result<Self, ChannelError> {
        let sendsms_url = reqwest::Url::parse(&settings.sendsms_url)
            .map_err(|e| ChannelError::Permanent(format!("channels.sms.kannel.sendsms_url: {e}")))?;
        if settings.username.is_empty() {
            return Err(ChannelError::Permanent("channels.sms.kannel.username is empty".into()));
        }
        if sender.trim().is_empty() {
            return Err(ChannelError::Permanent("channels.sms.sender is empty".into()));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs.max(1)))
            .build()
            .map_err(|e| ChannelError::Permanent(format!("cannot build the Kannel client: {e}")))?;
        Ok(Self {
            client,
            sendsms_url,
            settings: settings.clone(),
            sender: sender.to_owned(),
            report_url: format!("{}{REPORT_PATH}", links.public_url.trim_end_matches('/')),
            report_key: links.sms_report_key.clone(),
        })
    }
}

#[async_trait]
impl Transport for Kannel {
    async fn send(&self, message: &OutboundMessage) -> Result<Receipt, ChannelError> {
        let sms = SmsText::parse(&message.bytes)?;
        let delivery = message.delivery_id.to_string();
        let coding = match measure(&sms.text).encoding {
            Encoding::Gsm7 => "0",
            Encoding::Ucs2 => "2",
        };
        // Kannel fills in %d (report type) and %A (the SMSC's answer) when it calls back
        let dlr_url = format!(
            "{}?delivery={delivery}&status=%d&answer=%A&token={}",
            self.report_url,
            report_token(&self.report_key, message.delivery_id)
        );
        let dlr_mask = self.settings.dlr_mask.to_string();
        let mut query = vec![
            ("username", self.settings.username.as_str()),
            ("password", self.settings.password.as_str()),
            ("from", self.sender.as_str()),
            ("to", sms.to.as_str()),
            ("text", sms.text.as_str()),
            ("charset", "UTF-8"),
            ("coding", coding),
            ("dlr-mask", dlr_mask.as_str()),
            ("dlr-url", dlr_url.as_str()),
        ];
        if !self.settings.smsc.is_empty() {
            query.push(("smsc", self.settings.smsc.as_str()));
        }
        let response = self
            .client
            .get(self.sendsms_url.clone())
            .query(&query)
            .send()
            .await
            // the URL holds the password, the number and the text: never let it into an error
            .map_err(|e| ChannelError::Transient(format!("Kannel unreachable: {}", e.without_url())))?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        interpret_answer(status, &body)?;
        Ok(Receipt { transport: "kannel", provider_ref: Some(delivery), confirmed: false })
    }
}

/// What smsbox's answer to `sendsms` means. It took the message on 2xx (`0: Accepted for
/// delivery`, or `3: Queued for later delivery` while no SMSC is connected). A refused login
/// is our configuration, not the letter: retrying after it is fixed helps, so it is transient.
/// Other 4xx (no route, bad number) will not change; 5xx and anything else may.
pub fn interpret_answer(status: u16, body: &str) -> Result<(), ChannelError> {
    let said: String = body.trim().chars().take(120).collect();
    match status {
        200..=299 => Ok(()),
        403 if said.starts_with("Authorization failed") => {
            Err(ChannelError::Transient(format!("Kannel refused the sendsms login (HTTP 403: {said})")))
        }
        400..=499 => Err(ChannelError::Permanent(format!("Kannel refused the SMS (HTTP {status}: {said})"))),
        _ => Err(ChannelError::Transient(format!("Kannel could not take the SMS (HTTP {status}: {said})"))),
    }
}

/// A delivery report from Kannel, by its type (`%d`).
#[derive(Debug, Clone)]
pub enum Report {
    /// The delivery is settled: delivered to the phone, or not.
    Final(ProviderReceipt),
    /// Buffered (4) or accepted by the SMSC (8): the final report is still to come.
    Intermediate,
}

/// Map a Kannel report type and the SMSC's answer (`%A`) to what it means for the delivery;
/// `None` for a type Kannel does not define.
pub fn report(status: u32, answer: Option<&str>) -> Option<Report> {
    let detail = answer.map(smsc_detail).filter(|d| !d.is_empty());
    let failed = |what: &str| {
        let error = match &detail {
            Some(d) => format!("{what} ({d})"),
            None => what.to_owned(),
        };
        Some(Report::Final(ProviderReceipt::Failed { error }))
    };
    match status {
        1 => Some(Report::Final(ProviderReceipt::Delivered { detail: Some("delivered to the phone".into()) })),
        2 => failed("the SMS was not delivered to the phone"),
        16 => failed("the SMSC rejected the SMS"),
        4 | 8 => Some(Report::Intermediate),
        _ => None,
    }
}

/// The useful, non-personal part of an SMSC answer: `NACK/<reason>`, or the `stat:` and
/// `err:` fields of an SMPP receipt — whose `text:` field (the SMS itself) is left out.
fn smsc_detail(answer: &str) -> String {
    let answer = answer.trim();
    if answer.starts_with("NACK") {
        // the SMSC's words go into the timeline: no NUL or other control characters
        return crate::domain::letter::keepable_text(answer, 80);
    }
    answer
        .split_whitespace()
        .filter(|field| field.starts_with("stat:") || field.starts_with("err:"))
        .map(|field| crate::domain::letter::keepable_text(field, 20))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_and_queued_answers_are_taken() {
        assert!(interpret_answer(202, "0: Accepted for delivery").is_ok());
        assert!(interpret_answer(202, "3: Queued for later delivery").is_ok());
    }

    #[test]
    fn refusals_are_permanent_except_the_login() {
        assert!(interpret_answer(403, "Not routable. Do not try again.").unwrap_err().is_permanent());
        assert!(interpret_answer(400, "Missing receiver number, rejected").unwrap_err().is_permanent());
        assert!(!interpret_answer(403, "Authorization failed for sendsms").unwrap_err().is_permanent());
    }

    #[test]
    fn server_errors_are_transient() {
        for status in [500, 502, 503] {
            assert!(!interpret_answer(status, "").unwrap_err().is_permanent(), "{status}");
        }
    }

    #[test]
    fn report_types_map_to_receipts() {
        assert!(matches!(report(1, None), Some(Report::Final(ProviderReceipt::Delivered { .. }))));
        assert!(matches!(report(8, Some("ACK/")), Some(Report::Intermediate)));
        assert!(matches!(report(4, None), Some(Report::Intermediate)));
        assert!(report(3, None).is_none());
        let Some(Report::Final(ProviderReceipt::Failed { error })) = report(16, Some("NACK/no SMSC")) else {
            panic!("16 is a failure")
        };
        assert_eq!(error, "the SMSC rejected the SMS (NACK/no SMSC)");
    }

    #[test]
    fn failure_details_leave_the_message_text_out() {
        let answer = "id:42 sub:001 dlvrd:000 submit date:2611221200 done date:2611221201 stat:UNDELIV err:001 text:Vigtigt brev fra";
        let Some(Report::Final(ProviderReceipt::Failed { error })) = report(2, Some(answer)) else {
            panic!("2 is a failure")
        };
        assert_eq!(error, "the SMS was not delivered to the phone (stat:UNDELIV err:001)");
    }
}
