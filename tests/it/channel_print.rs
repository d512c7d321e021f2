//! The print channel against a real IPP printer (ippeveprinter): the accessible PDF letter,
//! large print, appended attachments, a printer that is down, a printer that jams, and the
//! file drop. The PDFs are checked with poppler's pdfinfo, pdffonts and pdftotext.

use budbringer::channels::print::{IppSettings, TransportKind, render_letter};
use budbringer::domain::letter::PostalAddress;
use budbringer::domain::{ChannelKind, DeliveryStatus};
use budbringer::store::{CitizenContact, DeliveryRecord, DeliveryWork, ProfileUpdate};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::harness::{Backend, TestApp, access_codes, letter, on_both_backends, outbox_files};
use crate::peers::ipp::IppPrinter;

on_both_backends!(
    prints_an_accessible_pdf_letter_on_an_ipp_printer,
    large_print_letters_use_larger_type,
    the_authoritys_pdfs_follow_the_letter,
    a_printer_that_is_down_means_retries_not_failure,
    a_jammed_printer_fails_the_delivery,
    a_job_still_printing_at_the_timeout_leaves_the_delivery_sent,
    the_file_drop_gets_the_pdf,
);

fn address() -> PostalAddress {
    PostalAddress {
        co: Some("Hanne Hansen".into()),
        street: "Vestergade".into(),
        house_number: "12".into(),
        floor: Some("2".into()),
        door: Some("th".into()),
        postcode: "8000".into(),
        town: "Aarhus C".into(),
        country: None,
    }
}

async fn print_app(backend: &Backend, printer_uri: String) -> TestApp {
    TestApp::start_with(backend, |s| {
        s.channels.print.transport = TransportKind::Ipp;
        s.channels.print.ipp =
            IppSettings { printer_uri, poll_interval_ms: 50, job_timeout_secs: 20, ..IppSettings::default() };
    })
    .await
}

/// Wait until the letter's first delivery reaches `status`.
async fn delivery_reaches(app: &TestApp, letter_id: Uuid, status: DeliveryStatus) -> DeliveryRecord {
    let start = Instant::now();
    loop {
        let deliveries = app.store.deliveries(letter_id).await.expect("deliveries");
        if let Some(d) = deliveries.first()
            && d.status == status
        {
            return d.clone();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "delivery never reached {status}: {deliveries:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The letter rendered again from what the store holds, as the engine rendered it.
async fn rerender(app: &TestApp, authority_id: Uuid, letter_id: Uuid, profile: &ProfileUpdate) -> Vec<u8> {
    let letter = app.store.letter(authority_id, letter_id).await.expect("letter").expect("stored letter");
    let authority = app.store.authority(authority_id).await.expect("authority").expect("stored authority");
    let delivery = app.store.deliveries(letter_id).await.expect("deliveries").remove(0);
    let work = DeliveryWork {
        letter,
        citizen: CitizenContact {
            cpr: "0101901234".into(),
            phone: None,
            email: None,
            language: profile.language.clone(),
            large_print: profile.large_print,
            exempt_from_digital_post: false,
        },
        authority,
        delivery,
        documents: vec![],
        for_helper: None,
    };
    render_letter(&work, Some(&access_codes(app))).expect("render")
}

fn tool(program: &str, args: &[&str], pdf: &Path) -> String {
    let output = Command::new(program)
        .args(args)
        .arg(pdf)
        .args(if program == "pdftotext" { &["-"][..] } else { &[][..] })
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e} (poppler-utils installed?)"));
    assert!(output.status.success(), "{program} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8")
}

fn pages(pdf: &Path) -> usize {
    let info = tool("pdfinfo", &[], pdf);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in {info}"))
}

/// Every font in the file whose name contains `family` is embedded (pdffonts' `emb` column).
fn assert_fonts_embedded(pdf: &Path, family: &str) {
    let fonts = tool("pdffonts", &[], pdf);
    let rows: Vec<&str> = fonts.lines().skip(2).filter(|row| row.contains(family)).collect();
    assert!(!rows.is_empty(), "no fonts: {fonts}");
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // name type [encoding words] emb sub uni object ID: emb is the 5th column from the end
        assert_eq!(cols[cols.len() - 5], "yes", "font not embedded: {row}");
    }
}

/// The height of the first word box reading `word` (pdftotext -bbox), in points.
fn word_height(pdf: &Path, word: &str) -> f32 {
    let html = tool("pdftotext", &["-bbox"], pdf);
    let line = html.lines().find(|l| l.ends_with(&format!(">{word}</word>"))).unwrap_or_else(|| panic!("{word}?"));
    let attr = |name: &str| -> f32 {
        let start = line.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
        line[start..].split('"').next().expect("value").parse().expect("number")
    };
    attr("yMax") - attr("yMin")
}

fn save(app: &TestApp, name: &str, bytes: &[u8]) -> PathBuf {
    let path = app.db.dir.join(name);
    std::fs::write(&path, bytes).expect("write PDF");
    path
}

/// What `pdftotext -layout` reads from the standard letter, with the date normalised.
/// Reviewed by eye against the rendered page: sender block top right, the address in the
/// window, subject, body, the deadline in words, how to call, the personal access code for
/// the citizens' pages, the page footer.
const EXPECTED_TEXT: &str = r#"
                                                    Aarhus Kommune
                                                    Borgerservice
                                                    Telefon: +45 70 10 10 10
                                                    Telefontid: Man–fre 9–12
                                                    Dato: <dato>
                                                    Sagsnr.: SAG-1
Jens Jensen                                         CPR-nr.: 010190-****

c/o Hanne Hansen
Vestergade 12, 2. th
8000 Aarhus C




Afgørelse om boligstøtte
Du får boligstøtte fra 1. januar.
Svar inden fristen.
Svar senest torsdag den 31. december 2099.
Har du spørgsmål, kan du ringe til Borgerservice på telefon +45 70 10 10 10
(Man–fre 9–12).
Du kan læse dine breve på nettet. Log ind på <adresse>/citizen med dit
CPR-nummer og koden <kode>.




                                      Side 1 af 1
"#;

/// A personal access code (`ABCD-EFGH-JKMN-PQRS`) differs per installation key.
fn is_access_code(word: &str) -> bool {
    let word = word.trim_end_matches('.');
    word.len() == 19 && word.split('-').all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn normalise(text: &str) -> String {
    text.trim_start_matches('\n')
        .lines()
        .map(|l| match l.find("Dato: ") {
            Some(i) => format!("{}Dato: <dato>", &l[..i]),
            None => l
                .split(' ')
                .map(|w| if is_access_code(w) { "<kode>." } else { w })
                .collect::<Vec<_>>()
                .join(" ")
                .trim_end()
                .to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_owned()
}

async fn prints_an_accessible_pdf_letter_on_an_ipp_printer(backend: Backend) {
    let printer = IppPrinter::start().await;
    let app = print_app(&backend, printer.uri()).await;
    let (authority_id, key) = app.authority("Aarhus Kommune").await;
    let profile = ProfileUpdate::default();
    let (letter_id, delivery_id) =
        app.letter_on_channel(authority_id, ChannelKind::Print, profile.clone(), Some(address())).await;

    let delivery = delivery_reaches(&app, letter_id, DeliveryStatus::Delivered).await;
    assert_eq!(delivery.transport.as_deref(), Some("ipp"));
    let job_uri = delivery.provider_ref.clone().expect("job uri");
    assert!(job_uri.starts_with(&format!("ipp://localhost:{}/ipp/print/", printer.port)), "{job_uri}");
    // an independent IPP client (CUPS's ipptool) agrees that the job completed
    let job_id = job_uri.rsplit('/').next().expect("job id");
    let ipptool = Command::new("ipptool")
        .args(["-t", "-d", &format!("job_id={job_id}"), &printer.uri()])
        .arg(crate::peers::peer_file("ipp-get-job.test"))
        .output()
        .expect("run ipptool");
    let report = String::from_utf8_lossy(&ipptool.stdout);
    assert!(report.contains("job-state (enum) = completed"), "{report}");
    let view = app.get_json(&key, &format!("/v1/letters/{letter_id}")).await;
    assert_eq!(view["status"], "delivered", "{view:#}");

    // the printer got exactly the PDF the renderer makes for this letter, named by delivery
    let spooled = printer.spooled_job(&delivery_id.to_string()).expect("spooled PDF named by the delivery id");
    let printed = std::fs::read(&spooled).expect("spooled file");
    assert_eq!(printed, rerender(&app, authority_id, letter_id, &profile).await, "spooled PDF differs");

    assert_fonts_embedded(&spooled, "");
    let info = tool("pdfinfo", &[], &spooled);
    assert!(info.contains("Tagged:          yes"), "{info}");
    assert!(info.contains("Title:           Afgørelse om boligstøtte"), "{info}");
    assert!(info.contains("Page size:       595.276 x 841.89 pts (A4)"), "{info}");
    let meta = tool("pdfinfo", &["-meta"], &spooled);
    assert!(meta.contains("<pdfuaid:part>1</pdfuaid:part>"), "no PDF/UA-1 identification: {meta}");

    // paper letters tell the citizen how to log in without MitID
    let login_line = format!("Log ind på {}/citizen med dit CPR-nummer og koden", app.state.settings.public_url());
    // lines may wrap anywhere: compare with all whitespace as single spaces
    let text = tool("pdftotext", &[], &spooled).split_whitespace().collect::<Vec<_>>().join(" ");
    let order: [&str; 10] = [
        "Jens Jensen",
        "c/o Hanne Hansen",
        "Vestergade 12, 2. th",
        "8000 Aarhus C",
        "Afgørelse om boligstøtte",
        "Du får boligstøtte fra 1. januar.",
        "Svar senest torsdag den 31. december 2099.",
        "Har du spørgsmål, kan du ringe til Borgerservice på telefon +45 70 10 10 10 (Man–fre 9–12).",
        login_line.as_str(),
        "Side 1 af 1",
    ];
    let mut at = 0;
    for needle in order {
        let found = text[at..].find(needle).unwrap_or_else(|| panic!("{needle:?} missing or out of order in:\n{text}"));
        at += found + needle.len();
    }
    // the printed code is one that logs this citizen in
    let printed_code = text.split(' ').find(|w| is_access_code(w)).expect("an access code").trim_end_matches('.');
    let now = app.state.clock.now_ms();
    let key = &app.state.reading_key;
    assert!(budbringer::channels::print::access_code::matches(key, "0101901234", printed_code, now));
    assert!(!budbringer::channels::print::access_code::matches(key, "0202901234", printed_code, now));
    assert!(!text.contains("0101901234") && !text.contains("010190-1234"), "full CPR number printed:\n{text}");
    assert!(text.contains("010190-****"), "{text}");

    // the address of this test's app varies with its port
    let layout =
        normalise(&tool("pdftotext", &["-layout"], &spooled).replace(app.state.settings.public_url(), "<adresse>"));
    assert_eq!(layout, normalise(EXPECTED_TEXT), "pdftotext -layout changed; review and update the snapshot");
    app.finish().await;
}

async fn large_print_letters_use_larger_type(backend: Backend) {
    let printer = IppPrinter::start().await;
    let app = print_app(&backend, printer.uri()).await;
    let (authority_id, _) = app.authority("Aarhus Kommune").await;
    let normal = ProfileUpdate { language: Some("en".into()), ..Default::default() };
    let large = ProfileUpdate { large_print: true, language: Some("en".into()), ..Default::default() };
    let (first, first_delivery) =
        app.letter_on_channel(authority_id, ChannelKind::Print, normal.clone(), Some(address())).await;
    delivery_reaches(&app, first, DeliveryStatus::Delivered).await;
    // the profile is per citizen: render the normal letter before the large-print profile lands
    let normal_pdf = printer.spooled_job(&first_delivery.to_string()).expect("first PDF");
    let (second, second_delivery) =
        app.letter_on_channel(authority_id, ChannelKind::Print, large.clone(), Some(address())).await;
    delivery_reaches(&app, second, DeliveryStatus::Delivered).await;
    let large_pdf = printer.spooled_job(&second_delivery.to_string()).expect("second PDF");
    assert_eq!(std::fs::read(&large_pdf).unwrap(), rerender(&app, authority_id, second, &large).await);

    let (small, big) = (word_height(&normal_pdf, "januar."), word_height(&large_pdf, "januar."));
    assert!(big >= small * 16.0 / 11.0 * 0.95, "large print body is not larger: {small} vs {big}");
    let text = tool("pdftotext", &[], &large_pdf);
    assert!(text.contains("Please reply by Thursday 31 December 2099."), "{text}");
    assert!(text.contains("Page 1 of"), "{text}");
    assert!(pages(&large_pdf) >= pages(&normal_pdf));
    app.finish().await;
}

/// A valid one-page PDF with one line of Helvetica text (as tests/peers make_test_pdf.py).
fn one_page_pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 24 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        pdf.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    pdf
}

async fn the_authoritys_pdfs_follow_the_letter(backend: Backend) {
    use base64::Engine as _;
    let printer = IppPrinter::start().await;
    let app = print_app(&backend, printer.uri()).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let cpr = "1502454321";
    let profile = ProfileUpdate {
        cpr: cpr.into(),
        cpr_hash: budbringer::domain::secret::keyed_hash(&app.state.cpr_key, cpr),
        exempt_from_digital_post: true,
        ..Default::default()
    };
    app.store.set_contact_profile(&profile, 0).await.unwrap();
    let mut body = letter(cpr);
    body["recipient"]["address"] =
        json!({ "street": "Vestergade", "house_number": "12", "postcode": "7100", "town": "Vejle" });
    let attachment = base64::engine::general_purpose::STANDARD.encode(one_page_pdf("Bilag om husleje"));
    body["documents"] = json!([{ "filename": "husleje.pdf", "content": attachment }]);
    let response = app.post_letter(&key, &body).await;
    assert_eq!(response.status(), 201);
    let created: serde_json::Value = response.json().await.unwrap();
    let letter_id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let delivery = delivery_reaches(&app, letter_id, DeliveryStatus::Delivered).await;

    let spooled = printer.spooled_job(&delivery.id.to_string()).expect("spooled PDF");
    let text = tool("pdftotext", &[], &spooled);
    let (letter_part, attachment_part) = text.split_once("Side 1 af 1").expect("letter footer");
    assert!(letter_part.contains("Afgørelse om boligstøtte"), "{text}");
    assert!(attachment_part.contains("Bilag om husleje"), "attachment page missing:\n{text}");
    assert_eq!(pages(&spooled), 2, "one letter page and one attachment page");
    // the letter's own fonts; the authority's PDF brings its own (here unembedded Helvetica)
    assert_fonts_embedded(&spooled, "DejaVuSans");
    app.finish().await;
}

async fn a_printer_that_is_down_means_retries_not_failure(backend: Backend) {
    // hold the port (never accepting) so that no other test's printer can take it meanwhile
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = blocker.local_addr().expect("addr").port();
    let app = TestApp::start_with(&backend, |s| {
        s.channels.print.transport = TransportKind::Ipp;
        s.channels.print.ipp = IppSettings {
            printer_uri: format!("ipp://localhost:{port}/ipp/print"),
            poll_interval_ms: 50,
            request_timeout_secs: 2,
            ..IppSettings::default()
        };
        // slow enough retries that the printer can come up before the attempts run out
        s.engine.retry_base_ms = 400;
    })
    .await;
    let (authority_id, _) = app.authority("Aarhus Kommune").await;
    let (letter_id, _) =
        app.letter_on_channel(authority_id, ChannelKind::Print, ProfileUpdate::default(), Some(address())).await;

    let retried = crate::harness::eventually(Duration::from_secs(15), || async {
        let d = app.store.deliveries(letter_id).await.unwrap().remove(0);
        d.attempts >= 2 && d.last_error.is_some()
    })
    .await;
    let d = app.store.deliveries(letter_id).await.unwrap().remove(0);
    assert!(retried, "no retry recorded: {d:?}");
    let d = app.store.deliveries(letter_id).await.unwrap().remove(0);
    assert_ne!(d.status, DeliveryStatus::Failed, "a printer that is down is no reason to give up: {d:?}");
    assert!(d.last_error.as_deref().is_some_and(|e| e.contains("unreachable")), "{d:?}");

    drop(blocker);
    let printer = IppPrinter::start_on(port, "/bin/true").await;
    let d = delivery_reaches(&app, letter_id, DeliveryStatus::Delivered).await;
    assert!(d.attempts >= 2, "{d:?}");
    assert_eq!(printer.spooled().len(), 1);
    app.finish().await;
}

async fn a_jammed_printer_fails_the_delivery(backend: Backend) {
    let printer = IppPrinter::start_jammed().await;
    let app = print_app(&backend, printer.uri()).await;
    let (authority_id, _) = app.authority("Aarhus Kommune").await;
    let (letter_id, _) =
        app.letter_on_channel(authority_id, ChannelKind::Print, ProfileUpdate::default(), Some(address())).await;
    let d = delivery_reaches(&app, letter_id, DeliveryStatus::Failed).await;
    assert_eq!(d.attempts, 1, "an aborted job is not retried: {d:?}");
    assert!(d.last_error.as_deref().is_some_and(|e| e.contains("aborted")), "{d:?}");
    app.finish().await;
}

async fn a_job_still_printing_at_the_timeout_leaves_the_delivery_sent(backend: Backend) {
    let printer = IppPrinter::start_slow().await;
    let app = TestApp::start_with(&backend, |s| {
        s.channels.print.transport = TransportKind::Ipp;
        s.channels.print.ipp = IppSettings {
            printer_uri: printer.uri(),
            poll_interval_ms: 50,
            job_timeout_secs: 1,
            ..IppSettings::default()
        };
    })
    .await;
    let (authority_id, _) = app.authority("Aarhus Kommune").await;
    let (letter_id, _) =
        app.letter_on_channel(authority_id, ChannelKind::Print, ProfileUpdate::default(), Some(address())).await;
    let d = delivery_reaches(&app, letter_id, DeliveryStatus::Sent).await;
    assert_eq!(d.attempts, 1, "a job at the printer is not sent twice: {d:?}");
    assert!(d.provider_ref.as_deref().is_some_and(|r| r.contains("/ipp/print/")), "{d:?}");
    assert_eq!(printer.spooled().len(), 1);
    // the printer finishes the job later (and its print command is gone before it stops)
    let job_id = d.provider_ref.as_deref().and_then(|r| r.rsplit('/').next()).expect("job id").to_owned();
    let completed = crate::harness::eventually(Duration::from_secs(10), || {
        let report = Command::new("ipptool")
            .args(["-t", "-d", &format!("job_id={job_id}"), &printer.uri()])
            .arg(crate::peers::peer_file("ipp-get-job.test"))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        async move { report.contains("job-state (enum) = completed") }
    })
    .await;
    assert!(completed, "the slow job never completed");
    app.finish().await;
}

async fn the_file_drop_gets_the_pdf(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (authority_id, _) = app.authority("Aarhus Kommune").await;
    let profile = ProfileUpdate::default();
    let (letter_id, delivery_id) =
        app.letter_on_channel(authority_id, ChannelKind::Print, profile.clone(), Some(address())).await;
    delivery_reaches(&app, letter_id, DeliveryStatus::Delivered).await;
    assert_eq!(outbox_files(&app.outbox(), "print"), vec![format!("{letter_id}_{delivery_id}.pdf")]);
    let dropped = std::fs::read(app.outbox().join("print").join(format!("{letter_id}_{delivery_id}.pdf"))).unwrap();
    assert_eq!(dropped, rerender(&app, authority_id, letter_id, &profile).await);
    let path = save(&app, "dropped.pdf", &dropped);
    assert!(tool("pdfinfo", &[], &path).contains("Tagged:          yes"));
    app.finish().await;
}
