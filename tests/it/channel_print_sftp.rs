//! The print channel's `sftp` transport against a real OpenSSH sshd: the PDF lands in the
//! vendor's directory under its final name with no temporary file left, a wrong host key
//! fails the delivery for good without uploading anything, and a server that is down means
//! retries until it is back.

use budbringer::channels::print::{SftpTransport, TransportKind, render_letter};
use budbringer::channels::{OutboundMessage, Transport};
use budbringer::domain::letter::PostalAddress;
use budbringer::domain::{ChannelKind, DeliveryStatus};
use budbringer::store::{CitizenContact, DeliveryRecord, DeliveryWork, ProfileUpdate};
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::harness::{Backend, TestApp, access_codes, on_both_backends};
use crate::peers::sftp::SftpServer;

on_both_backends!(
    uploads_the_pdf_to_the_vendors_sftp_directory,
    a_wrong_host_key_fails_the_sftp_delivery_without_uploading,
    an_sftp_server_that_is_down_means_retries_then_delivery,
);

fn address() -> PostalAddress {
    PostalAddress {
        co: None,
        street: "Vestergade".into(),
        house_number: "12".into(),
        floor: None,
        door: None,
        postcode: "8000".into(),
        town: "Aarhus C".into(),
        country: None,
    }
}

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
async fn rerender(app: &TestApp, authority_id: Uuid, letter_id: Uuid) -> Vec<u8> {
    let letter = app.store.letter(authority_id, letter_id).await.expect("letter").expect("stored letter");
    let authority = app.store.authority(authority_id).await.expect("authority").expect("stored authority");
    let delivery = app.store.deliveries(letter_id).await.expect("deliveries").remove(0);
    let work = DeliveryWork {
        letter,
        citizen: CitizenContact {
            cpr: "0101901234".into(),
            phone: None,
            email: None,
            language: None,
            large_print: false,
            exempt_from_digital_post: false,
        },
        authority,
        delivery,
        documents: vec![],
        for_helper: None,
    };
    render_letter(&work, Some(&access_codes(app))).expect("render")
}

async fn uploads_the_pdf_to_the_vendors_sftp_directory(backend: Backend) {
    let server = SftpServer::start().await;
    let settings = server.settings();
    let app = TestApp::start_with(&backend, |s| {
        s.channels.print.transport = TransportKind::Sftp;
        s.channels.print.sftp = settings;
    })
    .await;
    let (authority_id, _) = app.authority("Aarhus Kommune").await;
    let (letter_id, delivery_id) =
        app.letter_on_channel(authority_id, ChannelKind::Print, ProfileUpdate::default(), Some(address())).await;
    let d = delivery_reaches(&app, letter_id, DeliveryStatus::Delivered).await;

    let name = format!("{letter_id}_{delivery_id}.pdf");
    assert_eq!(server.uploaded(), vec![name.clone()], "one final file and no temporary one");
    let remote = server.remote.join(&name);
    assert_eq!(d.transport.as_deref(), Some("sftp"), "{d:?}");
    assert_eq!(d.provider_ref.as_deref(), Some(remote.to_str().expect("path")), "{d:?}");
    let uploaded = std::fs::read(&remote).expect("uploaded PDF");
    assert!(uploaded.starts_with(b"%PDF"), "{:?}", &uploaded[..uploaded.len().min(16)]);
    assert_eq!(uploaded, rerender(&app, authority_id, letter_id).await);
    app.finish().await;
}

/// Sending the same delivery again replaces the file instead of adding a second one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sftp_resending_a_delivery_leaves_one_file() {
    let server = SftpServer::start().await;
    let transport = SftpTransport::new(&server.settings()).expect("transport");
    let mut message = OutboundMessage {
        channel: ChannelKind::Print,
        letter_id: Uuid::now_v7(),
        delivery_id: Uuid::now_v7(),
        extension: "pdf",
        bytes: b"%PDF-1.7 first".to_vec(),
        recipient: None,
    };
    let first = transport.send(&message).await.expect("first upload");
    message.bytes = b"%PDF-1.7 second".to_vec();
    let second = transport.send(&message).await.expect("second upload");
    assert_eq!(first.provider_ref, second.provider_ref);
    assert!(second.confirmed);
    let name = format!("{}_{}.pdf", message.letter_id, message.delivery_id);
    assert_eq!(server.uploaded(), vec![name.clone()]);
    assert_eq!(std::fs::read(server.remote.join(name)).expect("file"), b"%PDF-1.7 second");
}

/// A missing key or known_hosts file stops start-up, naming the setting.
#[test]
fn sftp_without_key_files_fails_at_start_up() {
    let server = SftpServer::prepare(crate::peers::free_port());
    let missing = server.dir.join("missing");
    let e = SftpTransport::new(&budbringer::channels::print::SftpSettings {
        known_hosts_file: missing.clone(),
        ..server.settings()
    })
    .err()
    .expect("refused");
    assert!(e.to_string().contains("known_hosts_file"), "{e}");
    let e = SftpTransport::new(&budbringer::channels::print::SftpSettings {
        private_key_file: missing,
        ..server.settings()
    })
    .err()
    .expect("refused");
    assert!(e.to_string().contains("private_key_file"), "{e}");
}

async fn a_wrong_host_key_fails_the_sftp_delivery_without_uploading(backend: Backend) {
    let server = SftpServer::start().await;
    let mut settings = server.settings();
    settings.known_hosts_file = server.wrong_known_hosts();
    let app = TestApp::start_with(&backend, |s| {
        s.channels.print.transport = TransportKind::Sftp;
        s.channels.print.sftp = settings;
    })
    .await;
    let (authority_id, _) = app.authority("Aarhus Kommune").await;
    let (letter_id, _) =
        app.letter_on_channel(authority_id, ChannelKind::Print, ProfileUpdate::default(), Some(address())).await;
    let d = delivery_reaches(&app, letter_id, DeliveryStatus::Failed).await;
    assert_eq!(d.attempts, 1, "a host key that does not match is not retried: {d:?}");
    let error = d.last_error.as_deref().unwrap_or_default();
    assert!(error.contains("host key"), "{d:?}");
    // no personal data in what is kept about the failure
    assert!(!error.contains("0101901234") && !error.contains("Jens") && !error.contains("Vestergade"), "{error}");
    assert_eq!(server.uploaded(), Vec::<String>::new(), "nothing uploaded");
    app.finish().await;
}

async fn an_sftp_server_that_is_down_means_retries_then_delivery(backend: Backend) {
    // hold the port (never accepting) so that no other test's server can take it meanwhile
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = blocker.local_addr().expect("addr").port();
    let mut server = SftpServer::prepare(port);
    let mut settings = server.settings();
    settings.timeout_secs = 2;
    let app = TestApp::start_with(&backend, |s| {
        s.channels.print.transport = TransportKind::Sftp;
        s.channels.print.sftp = settings;
        // slow enough retries that the server can come up before the attempts run out
        s.engine.retry_base_ms = 400;
    })
    .await;
    let (authority_id, _) = app.authority("Aarhus Kommune").await;
    let (letter_id, delivery_id) =
        app.letter_on_channel(authority_id, ChannelKind::Print, ProfileUpdate::default(), Some(address())).await;

    let retried = crate::harness::eventually(Duration::from_secs(20), || async {
        let d = app.store.deliveries(letter_id).await.unwrap().remove(0);
        d.attempts >= 2 && d.last_error.is_some()
    })
    .await;
    let d = app.store.deliveries(letter_id).await.unwrap().remove(0);
    assert!(retried, "no retry recorded: {d:?}");
    assert_ne!(d.status, DeliveryStatus::Failed, "a server that is down is no reason to give up: {d:?}");
    assert!(d.last_error.as_deref().is_some_and(|e| e.starts_with("sftp 127.0.0.1:")), "{d:?}");

    drop(blocker);
    server.run().await;
    let d = delivery_reaches(&app, letter_id, DeliveryStatus::Delivered).await;
    assert!(d.attempts >= 2, "{d:?}");
    assert_eq!(server.uploaded(), vec![format!("{letter_id}_{delivery_id}.pdf")]);
    app.finish().await;
}
