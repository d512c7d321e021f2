//! E-mail: a short notice that a letter has come — who wrote, whether it is important, the
//! deadline, how to read it — never the letter's content. Text and HTML, in the citizen's
//! language. Sent over SMTP (lettre) or dropped as an `.eml` file.

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart, SinglePart, header};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

use super::envelope::message;
use super::{Channel, ChannelError, OutboundMessage, Receipt, Transport};
use crate::domain::{ChannelKind, Importance};
use crate::i18n::{DEFAULT_LANGUAGE, I18N};
use crate::store::DeliveryWork;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// One `.eml` file per notice under `<data_dir>/outbox/email/`.
    #[default]
    File,
    Smtp,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain SMTP: only for a relay on the same host or a test server.
    None,
    /// STARTTLS on the submission port (587), required.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub transport: TransportKind,
    /// The sender of notices, e.g. `Aarhus Kommune <noreply@aarhus.dk>`.
    pub from: String,
    /// Where citizens read Digital Post: a public page, never a personal link (an e-mail can
    /// be forwarded).
    pub read_url: String,
    /// Put the citizen's personal reading link in the notice; it asks for a one-time code sent
    /// to the registered phone before it shows anything (e-mails can be forwarded).
    pub include_reading_link: bool,
    pub smtp: SmtpSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub timeout_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            transport: TransportKind::File,
            from: "Budbringer <noreply@budbringer.invalid>".into(),
            read_url: "https://www.borger.dk/digitalpost".into(),
            include_reading_link: true,
            smtp: SmtpSettings::default(),
        }
    }
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            timeout_secs: 30,
        }
    }
}

/// The transport `settings` choose.
pub fn transport(settings: &Settings, file_drop: &Arc<dyn Transport>) -> Result<Arc<dyn Transport>, ChannelError> {
    match settings.transport {
        TransportKind::File => Ok(Arc::clone(file_drop)),
        TransportKind::Smtp => Ok(Arc::new(Smtp::new(&settings.smtp)?)),
    }
}

pub struct EmailNotice {
    from: String,
    read_url: String,
    reading: Option<crate::domain::reading::ReadingLinks>,
}

impl EmailNotice {
    pub fn new(settings: &Settings, links: &super::InboundLinks) -> Self {
        let reading = settings.include_reading_link.then(|| crate::domain::reading::ReadingLinks {
            public_url: links.public_url.clone(),
            key: links.reading_key.clone(),
        });
        Self { from: settings.from.clone(), read_url: settings.read_url.clone(), reading }
    }
}

/// The notice in words, in one language, and the public page where letters are read.
struct NoticeText {
    subject: String,
    paragraphs: Vec<String>,
    read_url: Option<String>,
}

/// `personal`: `read_url` is the citizen's own reading link (it asks for a one-time code).
fn notice_text(work: &DeliveryWork, language: &str, read_url: &str, personal: bool) -> NoticeText {
    if let Some(citizen) = &work.for_helper {
        // to a helper: only that the citizen has an unread important letter, never its content
        let args = [("sender", work.authority.name.clone()), ("citizen", citizen.clone())];
        return NoticeText {
            subject: I18N.message(language, "email-helper-subject", &args),
            paragraphs: vec![I18N.message(language, "email-helper-body", &args)],
            read_url: None,
        };
    }
    let letter = &work.letter;
    let sender = work.authority.name.clone();
    let m = |id: &str, args: &[(&str, String)]| I18N.message(language, id, args);
    let mut paragraphs = vec![m("email-intro", &[("sender", sender.clone())])];
    if letter.importance == Importance::Important {
        paragraphs.push(m("email-important", &[]));
    }
    if let Some(deadline) = &letter.deadline {
        let id = if letter.deadline_extended() { "email-deadline-extended" } else { "email-deadline" };
        paragraphs.push(m(id, &[("date", crate::i18n::long_date_str(language, deadline))]));
    }
    // an exempt citizen's letter comes on paper: never send them to Digital Post
    let read_url = if work.citizen.exempt_from_digital_post {
        paragraphs.push(m("email-how-to-read-paper", &[]));
        None
    } else {
        let id = if personal { "email-how-to-read-link" } else { "email-how-to-read" };
        paragraphs.push(m(id, &[("url", read_url.to_owned())]));
        Some(read_url.to_owned())
    };
    let contact = letter.contact.summary();
    if !contact.is_empty() {
        paragraphs.push(m("email-contact", &[("sender", sender.clone()), ("contact", contact)]));
    }
    paragraphs.push(m("email-footer", &[]));
    NoticeText { subject: m("email-subject", &[("sender", sender)]), paragraphs, read_url }
}

/// `Content-Language` (RFC 3282), so mail clients and screen readers know the language.
#[derive(Debug, Clone)]
struct ContentLanguage(String);

impl header::Header for ContentLanguage {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim().to_owned()))
    }

    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn html(text: &NoticeText, language: &str) -> String {
    let body: String = text
        .paragraphs
        .iter()
        .map(|p| {
            let mut p = escape_html(p);
            // the public reading page becomes a real link in the HTML part
            if let Some(url) = &text.read_url {
                let url = escape_html(url);
                p = p.replace(&url, &format!("<a href=\"{url}\">{url}</a>"));
            }
            format!("<p>{p}</p>\n")
        })
        .collect();
    let dir = if crate::i18n::is_rtl(language) { "rtl" } else { "ltr" };
    format!(
        "<!doctype html>\n<html lang=\"{language}\" dir=\"{dir}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{body}</body></html>\n",
        escape_html(&text.subject)
    )
}

impl Channel for EmailNotice {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    fn render(&self, work: &DeliveryWork) -> Result<OutboundMessage, ChannelError> {
        let Some(to) = &work.citizen.email else {
            return Err(ChannelError::Permanent("the citizen has no e-mail address".into()));
        };
        let to: Mailbox = to.parse().map_err(|e| ChannelError::Permanent(format!("bad e-mail address: {e}")))?;
        let from: Mailbox =
            self.from.parse().map_err(|e| ChannelError::Permanent(format!("bad sender address in settings: {e}")))?;
        let language = I18N.negotiate(work.citizen.language.as_deref().or(Some(DEFAULT_LANGUAGE)));
        // the personal link (behind a one-time code), or the public Digital Post page
        let read_url = match &self.reading {
            Some(links) => links.url(work.delivery.id),
            None => self.read_url.clone(),
        };
        let text = notice_text(work, language, &read_url, self.reading.is_some());
        let plain = text.paragraphs.join("\n\n") + "\n";
        let email = lettre::Message::builder()
            .from(from)
            .to(to.clone())
            .subject(text.subject.clone())
            // one Message-ID per delivery: a repeat after a crash can be recognised downstream
            .message_id(Some(format!("<{}@budbringer.invalid>", work.delivery.id)))
            .header(ContentLanguage(language.to_owned()))
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(header::ContentType::TEXT_PLAIN).body(plain))
                    .singlepart(
                        SinglePart::builder().header(header::ContentType::TEXT_HTML).body(html(&text, language)),
                    ),
            )
            .map_err(|e| ChannelError::Permanent(format!("cannot build e-mail: {e}")))?;
        let mut out = message(work, "eml", email.formatted());
        out.recipient = Some(to.email.to_string());
        Ok(out)
    }
}

/// SMTP submission with lettre. 4xx answers are transient, 5xx permanent.
pub struct Smtp {
    mailer: AsyncSmtpTransport<Tokio1Executor>,
}

impl Smtp {
    pub fn new(s: &SmtpSettings) -> Result<Self, ChannelError> {
        let setup = |e: lettre::transport::smtp::Error| ChannelError::Permanent(format!("SMTP settings: {e}"));
        let builder = match s.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host).map_err(setup)?,
            SmtpTls::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host).map_err(setup)?,
        };
        let mut builder = builder.port(s.port).timeout(Some(Duration::from_secs(s.timeout_secs)));
        if let (Some(user), Some(password)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self { mailer: builder.build() })
    }
}

#[async_trait]
impl Transport for Smtp {
    async fn send(&self, message: &OutboundMessage) -> Result<Receipt, ChannelError> {
        let to = message
            .recipient
            .as_deref()
            .ok_or_else(|| ChannelError::Permanent("an e-mail needs a recipient".into()))?
            .parse()
            .map_err(|e| ChannelError::Permanent(format!("bad recipient: {e}")))?;
        let from = sender_of(&message.bytes)
            .ok_or_else(|| ChannelError::Permanent("the message has no From address".into()))?
            .parse()
            .map_err(|e| ChannelError::Permanent(format!("bad sender: {e}")))?;
        let envelope = lettre::address::Envelope::new(Some(from), vec![to])
            .map_err(|e| ChannelError::Permanent(format!("bad envelope: {e}")))?;
        match self.mailer.send_raw(&envelope, &message.bytes).await {
            Ok(response) => Ok(Receipt {
                transport: "smtp",
                provider_ref: Some(response.message().collect::<Vec<_>>().join(" ")),
                // the receiving server took responsibility for it: for a notice, that is delivery
                confirmed: true,
            }),
            Err(e) if e.is_permanent() => Err(ChannelError::Permanent(format!("SMTP refused: {e}"))),
            Err(e) => Err(ChannelError::Transient(format!("SMTP: {e}"))),
        }
    }
}

/// The address in the `From:` header of a formatted message (the envelope sender).
fn sender_of(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let headers = text.split("\r\n\r\n").next()?;
    let line = headers.lines().find(|l| l.to_ascii_lowercase().starts_with("from:"))?;
    let value = line[5..].trim();
    let address = match (value.rfind('<'), value.rfind('>')) {
        (Some(start), Some(end)) if start < end => &value[start + 1..end],
        _ => value,
    };
    Some(address.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::test_support::work;

    fn rendered(language: Option<&str>) -> String {
        let mut w = work(ChannelKind::Email, None, Some("jens@example.org"), false);
        w.citizen.language = language.map(Into::into);
        w.letter.deadline = Some("2099-12-31".into());
        let msg = EmailNotice::new(&Settings::default(), &crate::channels::InboundLinks::default()).render(&w).unwrap();
        assert_eq!(msg.recipient.as_deref(), Some("jens@example.org"));
        String::from_utf8(msg.bytes).unwrap()
    }

    #[test]
    fn the_notice_is_multipart_localised_and_without_the_letter() {
        let danish = rendered(None);
        assert!(danish.contains("To: jens@example.org"), "{danish}");
        assert!(danish.contains("multipart/alternative"));
        assert!(danish.contains("text/plain") && danish.contains("text/html"));
        assert!(danish.contains("Content-Language: da"));
        assert!(!danish.contains("Tekst"), "the letter's body never goes in an e-mail");
        let english = rendered(Some("en"));
        assert!(english.contains("Content-Language: en"));
        assert_ne!(danish, english);
    }

    #[test]
    fn every_language_has_its_own_notice_and_arabic_reads_right_to_left() {
        let mut subjects = Vec::new();
        for language in I18N.languages() {
            let message = rendered(Some(language));
            assert!(message.contains(&format!("Content-Language: {language}")), "{message}");
            let mut w = work(ChannelKind::Email, None, Some("jens@example.org"), false);
            w.letter.deadline = Some("2099-12-31".into());
            let text = notice_text(&w, language, "https://www.borger.dk/digitalpost", false);
            assert!(text.subject.contains("Aarhus Kommune"), "{}", text.subject);
            assert!(text.paragraphs.iter().any(|p| p.contains("2099")), "{:?}", text.paragraphs);
            let dir = if language == "ar" { "rtl" } else { "ltr" };
            assert!(html(&text, language).contains(&format!("<html lang=\"{language}\" dir=\"{dir}\">")));
            subjects.push(text.subject);
        }
        subjects.dedup();
        assert_eq!(subjects.len(), I18N.languages().count(), "{subjects:?}");
    }

    #[test]
    fn the_danish_notice_reads_like_this() {
        let mut w = work(ChannelKind::Email, None, Some("jens@example.org"), false);
        w.letter.deadline = Some("2099-12-31".into());
        let text = notice_text(&w, "da", "https://www.borger.dk/digitalpost", false);
        assert_eq!(text.subject, "Du har fået et brev fra Aarhus Kommune");
        assert_eq!(
            text.paragraphs.join("\n\n"),
            "Du har fået et nyt brev fra Aarhus Kommune.\n\n\
             Brevet er vigtigt. Læs det så hurtigt som muligt.\n\n\
             Du skal svare senest 31. december 2099.\n\n\
             Du kan læse brevet i Digital Post: https://www.borger.dk/digitalpost. Brevet står ikke i denne e-mail.\n\n\
             Har du spørgsmål, eller har du brug for hjælp til at læse brevet, så kontakt Aarhus Kommune: +45 70 10 10 10.\n\n\
             Denne e-mail er sendt automatisk. Du kan ikke svare på den."
        );
    }

    #[test]
    fn sender_comes_from_the_from_header() {
        let raw = b"From: Aarhus Kommune <noreply@aarhus.dk>\r\nTo: x@y.dk\r\n\r\nbody";
        assert_eq!(sender_of(raw).as_deref(), Some("noreply@aarhus.dk"));
        assert_eq!(sender_of(b"To: x@y.dk\r\n\r\nFrom: a@b.dk").as_deref(), None);
    }
}
