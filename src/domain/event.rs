//! The timeline vocabulary: every state change of a letter is one of these, in past tense.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Accepted,
    Dispatched,
    Sent,
    Delivered,
    Failed,
    /// Evidence: the citizen reacted (was reached by phone, replied, answered the SMS).
    Reacted,
    /// A caseworker logged a call: outcome and minutes spent.
    CallLogged,
    /// The citizen asked to be called (e.g. answered RING to the SMS notice).
    CallbackRequested,
    /// The citizen wrote something a person should read.
    ReplyReceived,
    /// Evidence: the citizen opened the letter (reading page, provider read receipt).
    Opened,
    /// Evidence: the citizen opened one of the letter's documents.
    DocumentOpened,
    /// No evidence in time: the next rung of the ladder was tried.
    Escalated,
    /// The deadline moved later (never earlier), with the old and new date and why.
    DeadlineExtended,
    AlertRaised,
    /// Evidence arrived: the alert is no longer needed.
    AlertResolved,
    /// A caseworker closed the alert with a note.
    AlertClosed,
    Cancelled,
    /// The retention rule deleted the letter's body and documents' content; the rest stays.
    ContentDeleted,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Accepted => "accepted",
            EventKind::Dispatched => "dispatched",
            EventKind::Sent => "sent",
            EventKind::Delivered => "delivered",
            EventKind::Failed => "failed",
            EventKind::Reacted => "reacted",
            EventKind::CallLogged => "call_logged",
            EventKind::CallbackRequested => "callback_requested",
            EventKind::ReplyReceived => "reply_received",
            EventKind::Opened => "opened",
            EventKind::DocumentOpened => "document_opened",
            EventKind::Escalated => "escalated",
            EventKind::DeadlineExtended => "deadline_extended",
            EventKind::AlertRaised => "alert_raised",
            EventKind::AlertResolved => "alert_resolved",
            EventKind::AlertClosed => "alert_closed",
            EventKind::Cancelled => "cancelled",
            EventKind::ContentDeleted => "content_deleted",
        }
    }

    /// The `type` of the webhook message (Standard Webhooks recommends dotted names).
    pub fn webhook_type(kind: &str) -> String {
        format!("letter.{kind}")
    }
}

impl EventKind {
    /// Evidence that the citizen got the message: it stops escalation.
    pub fn is_evidence(self) -> bool {
        matches!(self, EventKind::Opened | EventKind::DocumentOpened | EventKind::Reacted)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON form of one timeline event, the same in `/v1/events`, letter timelines and webhooks.
pub fn event_json(
    seq: i64,
    id: uuid::Uuid,
    letter_id: uuid::Uuid,
    kind: &str,
    data: &serde_json::Value,
    at_ms: i64,
) -> serde_json::Value {
    serde_json::json!({
        "seq": seq,
        "id": id,
        "letter_id": letter_id,
        "type": kind,
        "at": format_ms(at_ms),
        "data": data,
    })
}

/// RFC 3339 in UTC with a trailing `Z`.
pub fn format_ms(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default()
}
