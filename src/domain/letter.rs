//! Letters, deliveries and their states, and validation of what an authority submits.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::cpr::{Cpr, CprError};

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s { $($text => Ok($name::$variant),)+ _ => Err(UnknownValue(s.to_owned())) }
            }
        }
    };
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

string_enum!(
    /// `important` letters are the ones whose opening the authority must be able to see.
    Importance { Normal => "normal", Important => "important" }
);

string_enum!(
    /// Where a letter is in its life. Later stages (opened, escalated …) are events, not states.
    LetterStatus {
        Accepted => "accepted",
        Dispatched => "dispatched",
        Delivered => "delivered",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

impl LetterStatus {
    /// Work may still happen for the letter: it can be cancelled.
    pub fn is_open(self) -> bool {
        matches!(self, LetterStatus::Accepted | LetterStatus::Dispatched)
    }
}

string_enum!(
    /// One attempt on one channel: queued → sending → (sent →) delivered | failed, or
    /// cancelled. `sent`: the provider took it and its receipt is still to come.
    DeliveryStatus {
        Queued => "queued",
        Sending => "sending",
        Sent => "sent",
        Delivered => "delivered",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// The ways Budbringer can reach a citizen.
    ChannelKind {
        DigitalPost => "digital_post",
        Print => "print",
        Sms => "sms",
        Email => "email",
        Phone => "phone",
    }
);

/// A problem with one field of a request, as a JSON pointer and a Fluent message id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub pointer: String,
    pub message_id: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, message_id: &'static str) -> Self {
        Self { pointer: pointer.into(), message_id, args: Vec::new() }
    }

    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }
}

/// Limits that protect the gateway; exceeding a size limit is a 413, not a 422.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct LetterLimits {
    pub max_documents: usize,
    pub max_document_bytes: usize,
    pub max_subject_chars: usize,
    pub max_body_chars: usize,
}

impl Default for LetterLimits {
    fn default() -> Self {
        Self {
            max_documents: 10,
            max_document_bytes: 10 * 1024 * 1024,
            max_subject_chars: 200,
            max_body_chars: 100_000,
        }
    }
}

/// A Danish-style postal address, in the parts a window envelope needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    /// "c/o" line, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub co: Option<String>,
    pub street: String,
    pub house_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door: Option<String>,
    pub postcode: String,
    pub town: String,
    /// ISO 3166-1 alpha-2; Denmark when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// How the citizen can reach the responsible unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone hours in plain words, e.g. "Mon–Fri 9–12".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
}

impl ContactPoint {
    /// "Borgerservice, +45 70 10 10 10, Man–fre 9–12": how to reach the unit, in one line.
    pub fn summary(&self) -> String {
        [&self.unit, &self.phone, &self.hours].into_iter().flatten().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// A document as the authority submitted it (content already decoded).
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub filename: String,
    pub media_type: String,
    pub content: Vec<u8>,
}

/// Raw input for one document, before validation.
pub struct DocumentInput<'a> {
    pub filename: &'a str,
    pub content_base64: &'a str,
}

/// Everything about a letter that validation has accepted.
#[derive(Debug, Clone)]
pub struct ValidLetter {
    pub cpr: Cpr,
    pub recipient_name: Option<String>,
    pub address: Option<PostalAddress>,
    pub subject: String,
    pub body: String,
    pub importance: Importance,
    pub respond_by: Option<Date>,
    pub reference: Option<String>,
    pub contact: ContactPoint,
    pub documents: Vec<NewDocument>,
}

/// Raw input of a letter, borrowed from the API request.
pub struct LetterInput<'a> {
    pub cpr: &'a str,
    pub recipient_name: Option<&'a str>,
    pub address: Option<&'a PostalAddress>,
    pub subject: &'a str,
    pub body: &'a str,
    pub importance: Importance,
    pub respond_by: Option<&'a str>,
    pub reference: Option<&'a str>,
    pub contact: Option<&'a ContactPoint>,
    pub documents: Vec<DocumentInput<'a>>,
}

/// Why a letter was refused: field errors (422) or a size limit (413).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LetterRejection {
    Invalid(Vec<FieldError>),
    TooLarge(Vec<FieldError>),
}

impl LetterInput<'_> {
    /// Validate every field and collect every problem, so one answer names them all.
    pub fn validate(&self, today: Date, limits: &LetterLimits) -> Result<ValidLetter, LetterRejection> {
        let mut errors = Vec::new();
        let mut too_large = Vec::new();

        let cpr = match Cpr::parse(self.cpr) {
            Ok(cpr) => Some(cpr),
            Err(CprError::Format) => {
                errors.push(FieldError::new("/recipient/cpr", "error-cpr-format"));
                None
            }
            Err(CprError::Date) => {
                errors.push(FieldError::new("/recipient/cpr", "error-cpr-date"));
                None
            }
        };
        if let Some(name) = self.recipient_name {
            check_text(&mut errors, "/recipient/name", name, 200);
        }
        if let Some(address) = self.address {
            check_address(&mut errors, "/recipient/address", address);
        }
        check_text(&mut errors, "/subject", self.subject, limits.max_subject_chars);
        if self.body.trim().is_empty() && self.documents.is_empty() {
            errors.push(FieldError::new("/body", "error-body-or-document"));
        }
        if self.body.chars().count() > limits.max_body_chars {
            errors.push(FieldError::new("/body", "error-too-long").arg("max", limits.max_body_chars));
        } else {
            // line breaks and tabs are text; NUL and the like are not (and PostgreSQL refuses NUL)
            check_free_text(&mut errors, "/body", self.body, limits.max_body_chars);
        }
        let respond_by = self.respond_by.and_then(|raw| match raw.parse::<Date>() {
            Ok(date) if date < today => {
                errors.push(FieldError::new("/respond_by", "error-date-past"));
                None
            }
            Ok(date) => Some(date),
            Err(_) => {
                errors.push(FieldError::new("/respond_by", "error-date-format"));
                None
            }
        });
        if let Some(reference) = self.reference {
            check_text(&mut errors, "/reference", reference, 100);
        }
        if let Some(contact) = self.contact {
            check_contact(&mut errors, contact);
        }
        if self.documents.len() > limits.max_documents {
            too_large.push(FieldError::new("/documents", "error-too-many-documents").arg("max", limits.max_documents));
        }
        let mut documents = Vec::with_capacity(self.documents.len());
        for (i, doc) in self.documents.iter().enumerate() {
            let at = |field: &str| format!("/documents/{i}/{field}");
            check_filename(&mut errors, &at("filename"), doc.filename);
            // base64 inflates by 4/3: refuse oversized input before decoding it
            if doc.content_base64.len() / 4 * 3 > limits.max_document_bytes + 3 {
                too_large.push(
                    FieldError::new(at("content"), "error-document-too-large").arg("max", limits.max_document_bytes),
                );
                continue;
            }
            match decode_base64(doc.content_base64) {
                Some(bytes) if bytes.len() > limits.max_document_bytes => too_large.push(
                    FieldError::new(at("content"), "error-document-too-large").arg("max", limits.max_document_bytes),
                ),
                Some(bytes) if !bytes.starts_with(b"%PDF-") => {
                    errors.push(FieldError::new(at("content"), "error-not-pdf"))
                }
                // an encrypted PDF can be neither printed nor appended to the letter
                Some(bytes) if is_encrypted_pdf(&bytes) => {
                    errors.push(FieldError::new(at("content"), "error-pdf-encrypted"))
                }
                Some(bytes) => documents.push(NewDocument {
                    filename: doc.filename.trim().to_owned(),
                    media_type: "application/pdf".to_owned(),
                    content: bytes,
                }),
                None => errors.push(FieldError::new(at("content"), "error-base64")),
            }
        }

        if !too_large.is_empty() {
            return Err(LetterRejection::TooLarge(too_large));
        }
        match cpr {
            Some(cpr) if errors.is_empty() => Ok(ValidLetter {
                cpr,
                recipient_name: self.recipient_name.map(|n| n.trim().to_owned()),
                address: self.address.cloned(),
                subject: self.subject.trim().to_owned(),
                body: self.body.to_owned(),
                importance: self.importance,
                respond_by,
                reference: self.reference.map(|r| r.trim().to_owned()),
                contact: self.contact.cloned().unwrap_or_default(),
                documents,
            }),
            _ => Err(LetterRejection::Invalid(errors)),
        }
    }
}

fn decode_base64(input: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let compact: String = input.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).ok()
}

/// A PDF is encrypted when its trailer (or cross-reference stream) has an `/Encrypt` entry.
/// The name is looked for as a whole PDF name anywhere in the file: outside a trailer it only
/// ever occurs as `/EncryptMetadata` (inside an encryption dictionary) — which a whole-name
/// match does not take for `/Encrypt`.
pub fn is_encrypted_pdf(pdf: &[u8]) -> bool {
    const NAME: &[u8] = b"/Encrypt";
    // PDF delimiters and white space end a name
    let ends_name = |b: u8| b"()<>[]{}/% \t\r\n\x0c\0".contains(&b);
    pdf.windows(NAME.len() + 1).any(|w| w.starts_with(NAME) && ends_name(w[NAME.len()]))
}

/// Outside text Budbringer keeps but cannot refuse (a provider's receipt, a citizen's SMS):
/// at most `max` characters, control characters other than line breaks and tabs dropped
/// (PostgreSQL stores no NUL, and a timeline entry has no use for the others).
pub fn keepable_text(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t')).take(max).collect()
}

/// Free text from the caller (notes and the like): line breaks and tabs allowed, at most `max`.
pub(crate) fn check_free_text(errors: &mut Vec<FieldError>, pointer: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        errors.push(FieldError::new(pointer, "error-too-long").arg("max", max));
    } else if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        errors.push(FieldError::new(pointer, "error-control-chars"));
    }
}

fn has_control_chars(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

pub(crate) fn check_text(errors: &mut Vec<FieldError>, pointer: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        errors.push(FieldError::new(pointer, "error-required"));
    } else if value.chars().count() > max {
        errors.push(FieldError::new(pointer, "error-too-long").arg("max", max));
    } else if has_control_chars(value) {
        errors.push(FieldError::new(pointer, "error-control-chars"));
    }
}

pub(crate) fn check_optional(errors: &mut Vec<FieldError>, pointer: &str, value: Option<&String>, max: usize) {
    if let Some(v) = value {
        check_text(errors, pointer, v, max);
    }
}

/// Validate a postal address whose fields sit under `prefix` (a JSON pointer).
pub(crate) fn check_address(errors: &mut Vec<FieldError>, prefix: &str, a: &PostalAddress) {
    let at = |field: &str| format!("{prefix}/{field}");
    check_optional(errors, &at("co"), a.co.as_ref(), 100);
    check_text(errors, &at("street"), &a.street, 100);
    check_text(errors, &at("house_number"), &a.house_number, 10);
    check_optional(errors, &at("floor"), a.floor.as_ref(), 10);
    check_optional(errors, &at("door"), a.door.as_ref(), 10);
    check_text(errors, &at("town"), &a.town, 100);
    let country = a.country.as_deref().unwrap_or("DK");
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(FieldError::new(at("country"), "error-country"));
    }
    let postcode_ok = if country == "DK" {
        a.postcode.len() == 4 && a.postcode.bytes().all(|b| b.is_ascii_digit())
    } else {
        !a.postcode.trim().is_empty() && a.postcode.len() <= 12 && !has_control_chars(&a.postcode)
    };
    if !postcode_ok {
        errors.push(FieldError::new(at("postcode"), "error-postcode"));
    }
}

/// 8–15 digits, with the usual separators.
pub(crate) fn check_phone(errors: &mut Vec<FieldError>, pointer: &str, phone: &str) {
    let digits = phone.chars().filter(|c| c.is_ascii_digit()).count();
    let allowed = phone.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
    if !allowed || !(8..=15).contains(&digits) {
        errors.push(FieldError::new(pointer, "error-phone"));
    }
}

pub(crate) fn check_email(errors: &mut Vec<FieldError>, pointer: &str, email: &str) {
    let valid = email.len() <= 254
        && !has_control_chars(email)
        && !email.contains(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.'));
    if !valid {
        errors.push(FieldError::new(pointer, "error-email"));
    }
}

fn check_contact(errors: &mut Vec<FieldError>, c: &ContactPoint) {
    check_optional(errors, "/contact/unit", c.unit.as_ref(), 200);
    check_optional(errors, "/contact/hours", c.hours.as_ref(), 200);
    if let Some(phone) = &c.phone {
        check_phone(errors, "/contact/phone", phone);
    }
    if let Some(email) = &c.email {
        check_email(errors, "/contact/email", email);
    }
}

/// Bidirectional embeddings, overrides and isolates: in a file name they can make
/// `bilag\u{202E}fdp.exe` look like `bilagexe.pdf`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn check_filename(errors: &mut Vec<FieldError>, pointer: &str, name: &str) {
    let name = name.trim();
    if name.is_empty() {
        errors.push(FieldError::new(pointer, "error-required"));
    } else if name.chars().count() > 200
        || name.contains(['/', '\\'])
        || has_control_chars(name)
        || name.chars().any(is_bidi_control)
        || name.starts_with('.')
    {
        errors.push(FieldError::new(pointer, "error-filename"));
    } else if !name.to_ascii_lowercase().ends_with(".pdf") {
        errors.push(FieldError::new(pointer, "error-filename-pdf"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>() -> LetterInput<'a> {
        LetterInput {
            cpr: "0101901234",
            recipient_name: Some("Jens Hansen"),
            address: None,
            subject: "Afgørelse om boligstøtte",
            body: "Du får boligstøtte fra 1. januar.",
            importance: Importance::Important,
            respond_by: Some("2026-12-31"),
            reference: Some("SAG-1"),
            contact: None,
            documents: vec![],
        }
    }

    fn today() -> Date {
        jiff::civil::date(2026, 11, 22)
    }

    #[test]
    fn a_good_letter_validates() {
        let letter = input().validate(today(), &LetterLimits::default()).unwrap();
        assert_eq!(letter.respond_by, Some(jiff::civil::date(2026, 12, 31)));
        assert_eq!(letter.importance, Importance::Important);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = input();
        bad.cpr = "3213901234";
        bad.subject = "  ";
        bad.respond_by = Some("2026-01-01");
        let contact = ContactPoint { email: Some("nope".into()), ..Default::default() };
        bad.contact = Some(&contact);
        let Err(LetterRejection::Invalid(errors)) = bad.validate(today(), &LetterLimits::default()) else {
            panic!("expected field errors");
        };
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/recipient/cpr", "/subject", "/respond_by", "/contact/email"]);
    }

    #[test]
    fn documents_must_be_pdf_and_within_limits() {
        use base64::Engine as _;
        let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.7 hello");
        let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG....");
        let mut letter = input();
        letter.documents = vec![
            DocumentInput { filename: "a.pdf", content_base64: &pdf },
            DocumentInput { filename: "b.pdf", content_base64: &png },
        ];
        let Err(LetterRejection::Invalid(errors)) = letter.validate(today(), &LetterLimits::default()) else {
            panic!("expected field errors");
        };
        assert_eq!(errors, vec![FieldError::new("/documents/1/content", "error-not-pdf")]);

        let limits = LetterLimits { max_document_bytes: 5, ..Default::default() };
        letter.documents.truncate(1);
        assert!(matches!(letter.validate(today(), &limits), Err(LetterRejection::TooLarge(_))));
    }

    #[test]
    fn status_strings_round_trip() {
        for s in LetterStatus::ALL {
            assert_eq!(s.as_str().parse::<LetterStatus>().unwrap(), *s);
        }
        for c in ChannelKind::ALL {
            assert_eq!(c.as_str().parse::<ChannelKind>().unwrap(), *c);
        }
    }
}
