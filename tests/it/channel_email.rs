//! E-mail notices over SMTP, against a real SMTP server that also refuses (550) and defers
//! (451) some recipients.

use crate::harness::*;
use crate::peers::smtp::SmtpSink;
use budbringer::channels::email::{SmtpTls, TransportKind};
use budbringer::domain::ChannelKind;
use budbringer::store::{DeliveryRecord, ProfileUpdate};
use std::time::Duration;

on_both_backends!(an_email_notice_reaches_the_smtp_server, refused_and_deferred_recipients);

async fn app_with_smtp(backend: &Backend, sink: &SmtpSink) -> TestApp {
    let port = sink.port;
    TestApp::start_with(backend, move |s| {
        s.channels.email.transport = TransportKind::Smtp;
        s.channels.email.from = "Aarhus Kommune <noreply@aarhus.example>".into();
        s.channels.email.smtp.host = "127.0.0.1".into();
        s.channels.email.smtp.port = port;
        s.channels.email.smtp.tls = SmtpTls::None;
        s.channels.email.smtp.timeout_secs = 5;
    })
    .await
}

async fn delivery_when(app: &TestApp, letter_id: uuid::Uuid, done: impl Fn(&DeliveryRecord) -> bool) -> DeliveryRecord {
    let mut last = None;
    for _ in 0..400 {
        let d = app.store.deliveries(letter_id).await.unwrap().remove(0);
        if done(&d) {
            return d;
        }
        last = Some(d);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("delivery never reached the expected state: {last:?}");
}

async fn an_email_notice_reaches_the_smtp_server(backend: Backend) {
    let sink = SmtpSink::start(temp_dir("smtp")).await;
    let app = app_with_smtp(&backend, &sink).await;
    let (authority, _) = app.authority("Aarhus Kommune").await;
    let profile =
        ProfileUpdate { email: Some("citizen@example.test".into()), language: Some("en".into()), ..Default::default() };
    let (letter_id, _) = app.letter_on_channel(authority, ChannelKind::Email, profile, None).await;

    let delivery = delivery_when(&app, letter_id, |d| d.status.as_str() == "delivered").await;
    assert_eq!(delivery.transport.as_deref(), Some("smtp"));
    assert_eq!(delivery.attempts, 1);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let (entry, raw) = &messages[0];
    assert_eq!(entry["rcpt_tos"][0], "citizen@example.test");
    assert_eq!(entry["mail_from"], "noreply@aarhus.example");
    assert_eq!(entry["subject"], "You have a letter from Aarhus Kommune");
    assert!(raw.contains("multipart/alternative") && raw.contains("text/html"), "{raw}");
    assert!(raw.contains(&format!("Message-ID: <{}@budbringer.invalid>", delivery.id)), "{raw}");
    assert!(raw.contains("Content-Language: en"));
    assert!(!raw.contains("boligst"), "neither the subject nor the body of the letter goes in the notice");
    app.finish().await;
}

async fn refused_and_deferred_recipients(backend: Backend) {
    let sink = SmtpSink::start(temp_dir("smtp")).await;
    let app = app_with_smtp(&backend, &sink).await;
    let (authority, _) = app.authority("Odense Kommune").await;

    // 550: permanent — failed at once, no retry
    let refused = ProfileUpdate { email: Some("reject-me@example.test".into()), ..Default::default() };
    let (letter_id, _) = app.letter_on_channel(authority, ChannelKind::Email, refused, None).await;
    let d = delivery_when(&app, letter_id, |d| d.status.as_str() == "failed").await;
    assert_eq!(d.attempts, 1, "a 5xx answer is not retried");
    assert!(d.last_error.as_deref().unwrap_or_default().contains("550"), "{d:?}");

    // 451: temporary — retried with backoff until the attempts run out (5 in this test)
    let deferred = ProfileUpdate { email: Some("tempfail-me@example.test".into()), ..Default::default() };
    let (letter_id, _) = app.letter_on_channel(authority, ChannelKind::Email, deferred, None).await;
    let retrying = delivery_when(&app, letter_id, |d| d.attempts >= 2).await;
    assert!(retrying.last_error.as_deref().unwrap_or_default().contains("451"), "{retrying:?}");
    let d = delivery_when(&app, letter_id, |d| d.status.as_str() == "failed").await;
    assert_eq!(d.attempts, 5);
    assert!(sink.messages().is_empty(), "nothing was accepted");
    app.finish().await;
}
