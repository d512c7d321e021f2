//! Phone: a callback task — a caseworker calls the citizen about the letter. By default the
//! task goes into Budbringer's own callback queue (`GET /v1/callbacks`), due within office
//! hours; with `transport = "file"` it is handed to another system as a JSON file instead.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

use super::envelope::{message, notice_args};
use super::{Channel, ChannelError, OutboundMessage, Receipt, Transport};
use crate::domain::ChannelKind;
use crate::domain::office_hours::OfficeHours;
use crate::i18n::{DEFAULT_LANGUAGE, I18N};
use crate::store::{DeliveryWork, NewCallback};

/// The transport name of the callback queue; the engine opens a task for such deliveries.
pub const CALLBACK_QUEUE: &str = "callback_queue";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// Budbringer's own callback queue for the authority's caseworkers.
    #[default]
    Queue,
    /// One JSON task file per call under `<data_dir>/outbox/phone/`.
    File,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub transport: TransportKind,
    /// When calls are made, e.g. `"mon-fri 09:00-15:00"`.
    pub office_hours: String,
    pub time_zone: String,
    /// Unanswered calls before the delivery fails.
    pub max_no_answers: i64,
    /// How long to wait before calling again after no answer.
    pub retry_after_minutes: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            transport: TransportKind::Queue,
            office_hours: "mon-fri 09:00-15:00".into(),
            time_zone: "Europe/Copenhagen".into(),
            max_no_answers: 3,
            retry_after_minutes: 120,
        }
    }
}

impl Settings {
    pub fn office_hours(&self) -> Result<OfficeHours, ChannelError> {
        OfficeHours::parse(&self.office_hours, &self.time_zone)
            .map_err(|e| ChannelError::Permanent(format!("channels.phone.office_hours: {e}")))
    }

    /// The authority's own office hours when it set them, else the installation's.
    pub fn office_hours_of(&self, authority: &crate::store::Authority) -> Result<OfficeHours, ChannelError> {
        match &authority.office_hours {
            Some(spec) => OfficeHours::parse(spec, authority.time_zone.as_deref().unwrap_or(&self.time_zone))
                .map_err(|e| ChannelError::Permanent(format!("the authority's office hours: {e}"))),
            None => self.office_hours(),
        }
    }
}

/// The transport `settings` choose.
pub fn transport(settings: &Settings, file_drop: &Arc<dyn Transport>) -> Result<Arc<dyn Transport>, ChannelError> {
    settings.office_hours()?;
    match settings.transport {
        TransportKind::Queue => Ok(Arc::new(CallbackQueue)),
        TransportKind::File => Ok(Arc::clone(file_drop)),
    }
}

/// Taking a call into the queue needs no peer: the engine stores the task with the delivery.
pub struct CallbackQueue;

#[async_trait]
impl Transport for CallbackQueue {
    async fn send(&self, _message: &OutboundMessage) -> Result<Receipt, ChannelError> {
        Ok(Receipt { transport: CALLBACK_QUEUE, provider_ref: None, confirmed: false })
    }
}

/// Plans callback tasks: who to call, about what, and when (within office hours).
pub struct CallbackPlanner {
    settings: Settings,
    hours: OfficeHours,
}

impl CallbackPlanner {
    pub fn new(settings: &Settings) -> Result<Self, ChannelError> {
        Ok(Self { settings: settings.clone(), hours: settings.office_hours()? })
    }

    pub fn task(&self, work: &DeliveryWork, now: jiff::Timestamp) -> Option<NewCallback> {
        // an authority's own hours win; bad ones (validated when set) fall back to the installation's
        let own =
            work.authority.office_hours.as_ref().and_then(|_| self.settings.office_hours_of(&work.authority).ok());
        let hours = own.as_ref().unwrap_or(&self.hours);
        Some(NewCallback {
            id: uuid::Uuid::now_v7(),
            phone: work.citizen.phone.clone()?,
            summary: summary(work),
            due_at: hours.next_open(now).as_millisecond(),
        })
    }
}

/// A short plain-language summary for the caseworker who calls (in Danish, the staff language).
fn summary(work: &DeliveryWork) -> String {
    let mut text = I18N.message(DEFAULT_LANGUAGE, "callback-summary", &notice_args(work));
    if let Some(deadline) = &work.letter.deadline {
        text.push(' ');
        let date = crate::i18n::long_date_str(DEFAULT_LANGUAGE, deadline);
        text.push_str(&I18N.message(DEFAULT_LANGUAGE, "callback-deadline", &[("date", date)]));
    }
    let mut needs = Vec::new();
    if let Some(language) = work.citizen.language.as_deref().filter(|l| *l != DEFAULT_LANGUAGE) {
        needs.push(I18N.message(DEFAULT_LANGUAGE, "callback-language", &[("language", language.to_owned())]));
    }
    if work.citizen.large_print {
        needs.push(I18N.message(DEFAULT_LANGUAGE, "callback-large-print", &[]));
    }
    if !needs.is_empty() {
        text.push(' ');
        text.push_str(&needs.join(" "));
    }
    text
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
            "summary": summary(work),
            "respond_by": work.letter.deadline,
            "contact": work.letter.contact,
        });
        let bytes = serde_json::to_vec_pretty(&task).map_err(|e| ChannelError::Permanent(e.to_string()))?;
        Ok(message(work, "json", bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::test_support::work;

    #[test]
    fn a_task_is_due_in_office_hours_and_names_the_citizens_needs() {
        let mut w = work(ChannelKind::Phone, Some("+4512345678"), None, false);
        w.letter.deadline = Some("2099-12-31".into());
        w.citizen.language = Some("uk".into());
        w.citizen.large_print = true;
        let planner = CallbackPlanner::new(&Settings::default()).unwrap();
        // Saturday 2026-11-28 12:00 UTC → Monday 09:00 Copenhagen (08:00 UTC)
        let task = planner.task(&w, "2026-11-28T12:00:00Z".parse().unwrap()).unwrap();
        assert_eq!(task.due_at, "2026-11-30T08:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond());
        assert_eq!(task.phone, "+4512345678");
        assert!(
            task.summary.contains("Aarhus Kommune") && task.summary.contains("31. december 2099"),
            "{}",
            task.summary
        );
        assert!(task.summary.contains("uk") && task.summary.contains("stor skrift"), "{}", task.summary);
    }

    #[test]
    fn no_phone_number_no_task() {
        let w = work(ChannelKind::Phone, None, None, false);
        assert!(CallbackPlanner::new(&Settings::default()).unwrap().task(&w, jiff::Timestamp::now()).is_none());
        assert!(PhoneCallback.render(&w).unwrap_err().is_permanent());
    }
}
