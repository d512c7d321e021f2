//! SF1601 KombiPostAfsend: Serviceplatformen's service that takes a MeMo message (and, for
//! the paper route, a remote-print order) and delivers it by Digital Post or by post.
//!
//! The request is `POST <endpoint>` with `Content-Type: application/xml`, the headers
//! `x-TransaktionsId` (a fresh UUID) and `x-TransaktionsTid` (UTC), over mutual TLS, and the
//! body
//!
//! ```xml
//! <kombi_request>
//!   <KombiValgKode>Digital Post | Automatisk Valg</KombiValgKode>
//!   <memo:Message …>…</memo:Message>
//!   <fjernprint:ForsendelseISamling>            (only with "Automatisk Valg")
//!     <fjernprint:ForsendelseI>…</fjernprint:ForsendelseI>
//!   </fjernprint:ForsendelseISamling>
//! </kombi_request>
//! ```
//!
//! The provider answers 2xx when it took the message; whether it reached the citizen comes
//! later as a status receipt (`api::inbound::digital_post`).

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::time::Duration;

use super::memo::Message;
use super::xml::XmlElement;
use super::{Settings, message_uuid};
use crate::channels::{ChannelError, OutboundMessage, Receipt, Transport};
use crate::domain::Importance;
use crate::store::DeliveryWork;

pub const KOMBI_DIGITAL_POST: &str = "Digital Post";
pub const KOMBI_AUTOMATIC: &str = "Automatisk Valg";

const FJERNPRINT: &str = "urn:oio:fjernprint:1.0.0";
const DKAL: &str = "urn:oio:dkal:1.0.0";
const SAGDOK: &str = "urn:oio:sagdok:3.0.0";
const ADIR: &str = "urn:oio:adir:dagpenge:2009.07.01";
const ITST: &str = "http://rep.oio.dk/itst.dk/xml/schemas/2006/01/17/";
const DKCC: &str = "http://rep.oio.dk/ebxml/xml/schemas/dkcc/2003/02/13/";
const DKCC2005: &str = "http://rep.oio.dk/ebxml/xml/schemas/dkcc/2005/03/15/";
const DKCC2005_3: &str = "http://rep.oio.dk/ebxml/xml/schemas/dkcc/2005/05/19/";

/// The KombiPostAfsend request body for one letter.
pub fn kombi_request(
    work: &DeliveryWork,
    memo: &Message,
    paper_fallback: bool,
    now: jiff::Timestamp,
) -> Result<String, ChannelError> {
    let order = if paper_fallback { remote_print_order(work, &memo.header.message_uuid, now) } else { None };
    let choice = if order.is_some() { KOMBI_AUTOMATIC } else { KOMBI_DIGITAL_POST };
    let mut root = XmlElement::new("", "kombi_request").with_child(XmlElement::leaf("", "KombiValgKode", choice));
    root.children.push(memo.to_element());
    if let Some(order) = order {
        // the order's namespaces are declared once, on the collection, not on every element
        let declare = order.namespaces();
        root.children
            .push(XmlElement { declare, ..XmlElement::new(FJERNPRINT, "ForsendelseISamling") }.with_child(order));
    }
    Ok(root.to_document())
}

fn fp(name: &str, text: impl Into<String>) -> XmlElement {
    XmlElement::leaf(FJERNPRINT, name, text)
}

/// The remote-print order (`fjernprint:ForsendelseI`, SF1600) for the paper route, or `None`
/// when the letter cannot go on paper: no postal address, no recipient name, or no PDF.
pub fn remote_print_order(work: &DeliveryWork, message_uuid: &str, now: jiff::Timestamp) -> Option<XmlElement> {
    let letter = &work.letter;
    let address = letter.recipient.address.as_ref()?;
    let name = letter.recipient.name.as_deref().map(str::trim).filter(|n| !n.is_empty())?;
    let mut pdfs = work.documents.iter().filter(|d| d.media_type == "application/pdf");
    let main = pdfs.next()?;

    let mut recipient_address = XmlElement::new(FJERNPRINT, "ModtagerAdresse").with_child(XmlElement::leaf(
        ITST,
        "PersonName",
        truncate(name, 130),
    ));
    recipient_address.children.extend(address_lines(address));
    let country = address.country.as_deref().unwrap_or("DK").to_ascii_uppercase();
    recipient_address
        .children
        .push(XmlElement::leaf(DKCC, "CountryIdentificationCode", country).with_attribute("scheme", "iso3166-alpha2"));
    let recipient = XmlElement::new(FJERNPRINT, "ForsendelseModtager")
        .with_child(XmlElement::new(DKAL, "AfsendelseModtager").with_child(XmlElement::leaf(
            ADIR,
            "CPRnummerIdentifikator",
            work.citizen.cpr.clone(),
        )))
        .with_child(recipient_address);

    let letter_date = now.in_tz("Europe/Copenhagen").unwrap_or_else(|_| now.to_zoned(jiff::tz::TimeZone::UTC)).date();
    let mut channel_independent = XmlElement::new(FJERNPRINT, "KanalUafhaengigeParametreI");
    if let Some(unit) = &letter.contact.unit {
        channel_independent.children.push(fp("EnhedTekst", truncate(unit, 2000)));
    }
    channel_independent.children.push(fp("BrugerNavn", truncate(&work.authority.name, 2000)));

    let category = if letter.importance == Importance::Important { "Prioritaire" } else { "Economique" };
    let mut order = XmlElement::new(FJERNPRINT, "ForsendelseI")
        .with_child(fp("AfsendelseIdentifikator", message_uuid))
        .with_child(recipient)
        .with_child(XmlElement::leaf(DKAL, "FilformatNavn", "PDF"))
        .with_child(XmlElement::leaf(DKAL, "MeddelelseIndholdData", STANDARD.encode(&main.content)))
        .with_child(
            XmlElement::new(FJERNPRINT, "DokumentParametre")
                .with_child(XmlElement::leaf(SAGDOK, "TitelTekst", letter.subject.clone()))
                .with_child(XmlElement::leaf(SAGDOK, "BrevDato", letter_date.to_string())),
        )
        .with_child(channel_independent)
        .with_child(
            XmlElement::new(FJERNPRINT, "PrintParametre")
                .with_child(fp("SimplexDuplexKode", "Duplex"))
                .with_child(fp("FarveSHKode", "SH"))
                .with_child(fp("KuvertTypeKode", "C5")),
        )
        .with_child(XmlElement::new(FJERNPRINT, "PostParametre").with_child(fp("PostKategoriKode", category)));
    let attachments: Vec<XmlElement> = pdfs
        .take(100)
        .enumerate()
        .map(|(index, pdf)| {
            XmlElement::new(FJERNPRINT, "Bilag")
                .with_child(fp("BilagNavn", truncate(&pdf.filename, 300)))
                .with_child(XmlElement::leaf(DKAL, "FilformatNavn", "PDF"))
                .with_child(fp("BilagSorteringsIndeksIdentifikator", (index + 1).to_string()))
                .with_child(XmlElement::leaf(DKAL, "VedhaeftningIndholdData", STANDARD.encode(&pdf.content)))
        })
        .collect();
    if !attachments.is_empty() {
        order.children.push(XmlElement { children: attachments, ..XmlElement::new(FJERNPRINT, "BilagSamling") });
    }
    Some(order)
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn matches_house_number(s: &str) -> bool {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    let rest = &s[digits.len()..];
    (1..=3).contains(&digits.len())
        && !digits.starts_with('0')
        && (rest.is_empty() || (rest.len() == 1 && rest.chars().all(|c| c.is_ascii_uppercase())))
}

fn matches_floor(s: &str) -> bool {
    let b = s.as_bytes();
    match b {
        [d] => (b'1'..=b'9').contains(d),
        [d, e] if d.is_ascii_digit() => *d != b'0' && e.is_ascii_digit(),
        _ => {
            matches!(s, "KL" | "ST" | "kl" | "st")
                || (b.len() == 2 && (b[0] == b'k' || b[0] == b'K') && (b'2'..=b'9').contains(&b[1]))
        }
    }
}

/// The address as DKCC elements: structured when it fits the schema's patterns (a Danish
/// address), otherwise as up to six text lines.
fn address_lines(a: &crate::domain::letter::PostalAddress) -> Vec<XmlElement> {
    let danish = a.country.as_deref().is_none_or(|c| c.eq_ignore_ascii_case("DK"));
    let fits = |s: &str, max: usize| !s.is_empty() && s.chars().count() <= max;
    let structured = danish
        && fits(&a.street, 40)
        && matches_house_number(&a.house_number)
        && a.floor.as_deref().is_none_or(matches_floor)
        && a.door.as_deref().is_none_or(|d| fits(d, 4))
        && a.postcode.len() == 4
        && a.postcode.chars().all(|c| c.is_ascii_digit())
        && a.co.as_deref().is_none_or(|c| fits(c, 130));
    let mut out = Vec::new();
    if structured {
        if let Some(co) = &a.co {
            out.push(fp("CoNavn", co.clone()));
        }
        out.push(XmlElement::leaf(DKCC2005, "StreetName", a.street.clone()));
        out.push(XmlElement::leaf(DKCC, "StreetBuildingIdentifier", a.house_number.clone()));
        if let Some(floor) = &a.floor {
            out.push(XmlElement::leaf(DKCC, "FloorIdentifier", floor.clone()));
        }
        if let Some(door) = &a.door {
            out.push(XmlElement::leaf(DKCC, "SuiteIdentifier", door.clone()));
        }
        // the post town follows from the postcode; DistrictSubdivisionIdentifier is a
        // supplementary place name, not the town, so it stays out
        out.push(XmlElement::leaf(DKCC2005, "PostCodeIdentifier", a.postcode.clone()));
        return out;
    }
    let mut street = format!("{} {}", a.street, a.house_number);
    if let Some(floor) = &a.floor {
        street.push_str(&format!(", {floor}."));
    }
    if let Some(door) = &a.door {
        street.push_str(&format!(" {door}"));
    }
    let mut lines: Vec<String> = Vec::new();
    if let Some(co) = &a.co {
        lines.push(format!("c/o {co}"));
    }
    lines.push(street);
    lines.push(format!("{} {}", a.postcode, a.town));
    let names = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth"];
    for (line, name) in lines.iter().filter(|l| !l.trim().is_empty()).zip(names) {
        out.push(XmlElement::leaf(DKCC2005_3, &format!("PostalAddress{name}LineText"), truncate(line.trim(), 34)));
    }
    out
}

/// Posts KombiPostAfsend requests over mutual TLS.
pub struct Sf1601Transport {
    client: reqwest::Client,
    endpoint: String,
}

fn read_pem(path: &std::path::Path, what: &str) -> Result<Vec<u8>, ChannelError> {
    std::fs::read(path).map_err(|e| ChannelError::Permanent(format!("cannot read the {what} {}: {e}", path.display())))
}

impl Sf1601Transport {
    /// Reads the certificates now, so a missing or bad file stops start-up.
    pub fn new(settings: &Settings) -> Result<Self, ChannelError> {
        let endpoint = settings.endpoint.trim().to_owned();
        if !endpoint.starts_with("https://") {
            return Err(ChannelError::Permanent(
                "channels.digital_post.endpoint must be an https:// URL for the sf1601 transport".into(),
            ));
        }
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(settings.timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(settings.timeout_secs.clamp(1, 10)));
        match (&settings.client_cert_file, &settings.client_key_file) {
            (Some(cert), Some(key)) => {
                let mut pem = read_pem(cert, "client certificate")?;
                pem.push(b'\n');
                pem.extend(read_pem(key, "client key")?);
                let identity = reqwest::Identity::from_pem(&pem)
                    .map_err(|e| ChannelError::Permanent(format!("bad client certificate or key: {e}")))?;
                builder = builder.identity(identity);
            }
            (None, None) => {
                tracing::warn!("sf1601 transport without a client certificate: Serviceplatformen will refuse it");
            }
            _ => {
                return Err(ChannelError::Permanent(
                    "channels.digital_post needs both client_cert_file and client_key_file".into(),
                ));
            }
        }
        if let Some(ca) = &settings.ca_file {
            let certificates = reqwest::Certificate::from_pem_bundle(&read_pem(ca, "CA file")?)
                .map_err(|e| ChannelError::Permanent(format!("bad CA file {}: {e}", ca.display())))?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client =
            builder.build().map_err(|e| ChannelError::Permanent(format!("cannot set up the sf1601 client: {e}")))?;
        Ok(Self { client, endpoint })
    }
}

/// `x-TransaktionsTid`: now in UTC, whole seconds, `Z`.
fn transaction_time() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[async_trait]
impl Transport for Sf1601Transport {
    async fn send(&self, message: &OutboundMessage) -> Result<Receipt, ChannelError> {
        let message_uuid = message_uuid(message.delivery_id);
        let transaction_id = uuid::Uuid::new_v4();
        let response = self
            .client
            .post(&self.endpoint)
            .header("x-TransaktionsId", transaction_id.to_string())
            .header("x-TransaktionsTid", transaction_time())
            .header(reqwest::header::CONTENT_TYPE, "application/xml; charset=utf-8")
            .header(reqwest::header::ACCEPT, "application/xml")
            .body(message.bytes.clone())
            .send()
            .await
            // no answer (refused, TLS handshake, timeout): the provider may be back later
            .map_err(|e| ChannelError::Transient(format!("sf1601 request failed: {}", error_chain(&e))))?;
        let status = response.status();
        if status.is_success() {
            tracing::info!(delivery_id = %message.delivery_id, %message_uuid, %transaction_id, "sf1601 took the message");
            return Ok(Receipt { transport: "sf1601", provider_ref: Some(message_uuid.to_string()), confirmed: false });
        }
        // the provider's own words help an operator; digit runs that could be a CPR number
        // are masked, since the error is logged and stored
        let body = response.text().await.unwrap_or_default();
        let detail = mask_long_numbers(&body.chars().take(300).collect::<String>());
        let error = format!("sf1601 answered {status} (transaction {transaction_id}): {detail}");
        if status.is_client_error()
            && status != reqwest::StatusCode::REQUEST_TIMEOUT
            && status != reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            Err(ChannelError::Permanent(error))
        } else {
            Err(ChannelError::Transient(error))
        }
    }
}

/// Replace every run of 10 or more digits (a CPR number, say) with asterisks.
fn mask_long_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 10 {
            out.push_str(&"*".repeat(digits.len()));
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// An error with its causes, which is where TLS problems are named.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::digital_post::letter_to_memo;
    use crate::channels::test_support::work;
    use crate::domain::ChannelKind;
    use crate::store::Document;

    fn letter_with_pdf() -> DeliveryWork {
        let mut w = work(ChannelKind::DigitalPost, None, None, true);
        w.documents = vec![
            Document {
                id: uuid::Uuid::now_v7(),
                filename: "brev.pdf".into(),
                media_type: "application/pdf".into(),
                content: b"%PDF-1.4 main".to_vec(),
            },
            Document {
                id: uuid::Uuid::now_v7(),
                filename: "bilag.pdf".into(),
                media_type: "application/pdf".into(),
                content: b"%PDF-1.4 annex".to_vec(),
            },
        ];
        w
    }

    fn validate(order: &XmlElement) -> (bool, String) {
        let dir = std::env::temp_dir().join(format!("bb-fjernprint-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("order.xml");
        std::fs::write(&file, order.to_document()).unwrap();
        let schema =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fjernprint-sf1600/ForsendelseI.xsd");
        let out = std::process::Command::new("xmllint")
            .args(["--noout", "--nonet", "--schema"])
            .arg(&schema)
            .arg(&file)
            .output()
            .expect("xmllint (libxml2-utils) is installed");
        std::fs::remove_dir_all(&dir).unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    #[test]
    fn the_remote_print_order_validates_against_the_fjernprint_schemas() {
        let w = letter_with_pdf();
        let order = remote_print_order(&w, "4f7d2b8e-0000-4000-8000-000000000000", jiff::Timestamp::now()).unwrap();
        let (valid, errors) = validate(&order);
        assert!(valid, "{errors}\n{}", order.to_document());

        // an address the structured form cannot hold goes as text lines, still valid
        let mut odd = letter_with_pdf();
        if let Some(a) = odd.letter.recipient.address.as_mut() {
            a.house_number = "12-14".into();
            a.floor = Some("mezzanine".into());
        }
        let order = remote_print_order(&odd, "x", jiff::Timestamp::now()).unwrap();
        assert!(order.find(DKCC2005_3, "PostalAddressFirstLineText").is_some());
        let (valid, errors) = validate(&order);
        assert!(valid, "{errors}");
    }

    #[test]
    fn the_kombi_request_chooses_the_route_by_what_paper_needs() {
        let now = jiff::Timestamp::now();
        let w = letter_with_pdf();
        let memo = letter_to_memo(&w, "https://b.example/l/token", now).unwrap();
        let request = XmlElement::parse(&kombi_request(&w, &memo, true, now).unwrap()).unwrap();
        assert!(request.is("", "kombi_request"));
        assert_eq!(request.children[0].text, KOMBI_AUTOMATIC);
        assert!(request.children[1].is(super::super::memo::MEMO_NS, "Message"));
        assert!(request.find(FJERNPRINT, "ForsendelseI").is_some());

        let request = XmlElement::parse(&kombi_request(&w, &memo, false, now).unwrap()).unwrap();
        assert_eq!(request.children[0].text, KOMBI_DIGITAL_POST);
        assert!(request.find(FJERNPRINT, "ForsendelseI").is_none());

        let mut no_pdf = letter_with_pdf();
        no_pdf.documents.clear();
        let request = XmlElement::parse(&kombi_request(&no_pdf, &memo, true, now).unwrap()).unwrap();
        assert_eq!(request.children[0].text, KOMBI_DIGITAL_POST);
    }

    #[test]
    fn provider_errors_lose_anything_like_a_cpr_number() {
        assert_eq!(mask_long_numbers("modtager 0101901234 ukendt, kode 4711"), "modtager ********** ukendt, kode 4711");
    }

    #[test]
    fn settings_must_name_an_https_endpoint_and_both_halves_of_the_identity() {
        let mut s = Settings { endpoint: "http://plain.example".into(), ..Settings::default() };
        assert!(Sf1601Transport::new(&s).is_err_and(|e| e.is_permanent()));
        s.endpoint = "https://provider.example/kombi".into();
        s.client_cert_file = Some("/nonexistent/cert.pem".into());
        assert!(Sf1601Transport::new(&s).is_err());
        s.client_key_file = Some("/nonexistent/key.pem".into());
        assert!(Sf1601Transport::new(&s).is_err());
    }
}
