//! Escalation end to end over real channels: an important letter in Digital Post (file drop)
//! that nobody opens is followed up by an SMS notice through a real Kannel and a paper letter
//! on a real IPP printer (ippeveprinter), both stating the extended deadline; the authority
//! hears of it through signed webhooks. A letter opened from its reading link is never
//! escalated. Time is a manual clock. And the fast demo ladder (config/demo-fast.toml).

use axum::http::{HeaderMap, StatusCode};
use budbringer::channels::print::{self, IppSettings};
use budbringer::channels::sms;
use budbringer::config::Settings;
use budbringer::domain::calendar::{Calendar, Wait};
use budbringer::domain::policy::{DeadlineChange, extend_deadline};
use budbringer::domain::{ChannelKind, ManualClock};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::harness::{
    Backend, TestApp, eventually, fast_ladder, letter, on_both_backends, outbox_files, signature_is_valid,
};
use crate::peers::ipp::IppPrinter;
use crate::peers::kannel::{self, Kannel};

on_both_backends!(an_unopened_letter_escalates_to_a_real_sms_and_a_real_printer);

const MO_TOKEN: &str = "mo-token-for-escalation-tests";
const CPR: &str = "0101901234";
/// The citizen's phone as it reaches the phone network.
const PHONE: &str = "+4512345678";

/// As channel_sms.rs: the sms channel on Kannel's sendsms, replies on the app's mo URL.
fn use_kannel(s: &mut Settings, sendsms_port: u16) {
    s.channels.sms.transport = sms::TransportKind::Kannel;
    s.channels.sms.sender = "1919".into();
    s.channels.sms.kannel = sms::kannel::Settings {
        sendsms_url: format!("http://127.0.0.1:{sendsms_port}/cgi-bin/sendsms"),
        username: kannel::USERNAME.into(),
        password: kannel::PASSWORD.into(),
        mo_token: MO_TOKEN.into(),
        timeout_secs: 5,
        ..Default::default()
    };
}

/// As channel_print.rs: the print channel on an IPP printer.
fn use_printer(s: &mut Settings, printer_uri: String) {
    s.channels.print.transport = print::TransportKind::Ipp;
    s.channels.print.ipp =
        IppSettings { printer_uri, poll_interval_ms: 50, job_timeout_secs: 20, ..IppSettings::default() };
}

fn mo_url(app: &TestApp) -> String {
    format!("{}/v1/inbound/sms/kannel/mo?token={MO_TOKEN}", app.base)
}

fn kinds(letter: &Value) -> Vec<String> {
    letter["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

fn count(letter: &Value, kind: &str) -> usize {
    kinds(letter).iter().filter(|k| *k == kind).count()
}

async fn wait_for_kind(app: &TestApp, key: &str, id: &str, kind: &str, times: usize) -> Value {
    let path = format!("/v1/letters/{id}");
    for _ in 0..400 {
        let letter = app.get_json(key, &path).await;
        if count(&letter, kind) >= times {
            return letter;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("letter {id} never got {times} × {kind}: {:?}", kinds(&app.get_json(key, &path).await));
}

/// Wait until the letter's delivery on `channel` reaches `status`; returns that delivery.
async fn wait_for_delivery(app: &TestApp, key: &str, id: &str, channel: &str, status: &str) -> Value {
    let path = format!("/v1/letters/{id}");
    for _ in 0..600 {
        let letter = app.get_json(key, &path).await;
        let found = letter["deliveries"].as_array().unwrap().iter().find(|d| d["channel"] == channel).cloned();
        if let Some(delivery) = found.filter(|d| d["status"] == status) {
            return delivery;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the {channel} delivery of {id} never reached {status}: {:#}", app.get_json(key, &path).await["deliveries"]);
}

/// One webhook call: its headers and body.
type Call = (HeaderMap, Vec<u8>);

/// A real HTTP endpoint on loopback that records every webhook call and answers 204.
async fn start_receiver() -> (String, Arc<Mutex<Vec<Call>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let recorded = calls.clone();
    let endpoint = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let recorded = recorded.clone();
            async move {
                recorded.lock().unwrap().push((headers, body.to_vec()));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, endpoint).await });
    (url, calls)
}

/// The webhook payloads received for one letter, in arrival order.
fn payloads_for(calls: &Mutex<Vec<Call>>, letter_id: &str) -> Vec<Value> {
    calls
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| serde_json::from_slice::<Value>(body).unwrap())
        .filter(|p| p["data"]["letter_id"] == letter_id)
        .collect()
}

fn types(payloads: &[Value]) -> Vec<String> {
    payloads.iter().map(|p| p["type"].as_str().unwrap().to_owned()).collect()
}

/// `pdftotext` of a PDF, with all whitespace as single spaces (lines wrap anywhere).
fn pdf_text(pdf: &Path) -> String {
    let output = std::process::Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("cannot run pdftotext: {e} (poppler-utils installed?)"));
    assert!(output.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The reading link in a Digital Post (MeMo) message in the file drop.
fn reading_link(memo: &str) -> String {
    let start = memo.find("<memo:url>").unwrap_or_else(|| panic!("no reading link in the message:\n{memo}"));
    let rest = &memo[start + "<memo:url>".len()..];
    rest[..rest.find("</memo:url>").expect("closing memo:url")].replace("&amp;", "&")
}

async fn an_unopened_letter_escalates_to_a_real_sms_and_a_real_printer(backend: Backend) {
    // Wednesday 2026-11-25 10:00 in Copenhagen
    let clock = Arc::new(ManualClock::new("2026-11-25T09:00:00Z".parse().unwrap()));
    let printer = IppPrinter::start().await;
    // Kannel calls the app back (delivery reports, replies): the app first, then Kannel
    let sendsms_port = Kannel::pick_sendsms_port();
    let app = TestApp::start_with_clock(&backend, clock.clone(), |s| {
        use_kannel(s, sendsms_port);
        use_printer(s, printer.uri());
        s.policies.important = fast_ladder();
    })
    .await;
    let kannel = Kannel::start(sendsms_port, &mo_url(&app)).await;
    let (_, key) = app.authority("Vejle Kommune").await;

    let (url, calls) = start_receiver().await;
    let created = app
        .client
        .post(format!("{}/v1/webhooks", app.base))
        .bearer_auth(&key)
        .json(&json!({ "url": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let secret = created.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();

    let profile = json!({
        "cpr": CPR, "name": "Jens Jensen", "phone": "+45 12 34 56 78",
        "address": { "street": "Vestergade", "house_number": "1", "postcode": "7100", "town": "Vejle" }
    });
    let put = app
        .client
        .put(format!("{}/v1/citizens/profile", app.base))
        .bearer_auth(&key)
        .json(&profile)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);

    // two important letters to Digital Post (the file drop); nobody opens the first
    let mut body = letter(CPR);
    body["respond_by"] = json!("2026-11-30");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = app.post_letter(&key, &body).await;
        assert_eq!(response.status(), 201);
        let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        app.wait_for_status(&key, &id, "delivered").await;
        ids.push(id);
    }
    let (unopened, opened) = (ids[0].clone(), ids[1].clone());

    // the citizen opens the second letter from the link in its Digital Post message
    let delivery =
        app.get_json(&key, &format!("/v1/letters/{opened}")).await["deliveries"][0]["id"].as_str().unwrap().to_owned();
    let memo_file = app.outbox().join("digital_post").join(format!("{opened}_{delivery}.xml"));
    let memo = std::fs::read_to_string(&memo_file).unwrap_or_else(|e| panic!("{}: {e}", memo_file.display()));
    let link = reading_link(&memo);
    assert!(link.starts_with(&format!("{}/l/", app.base)), "{link}");
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200, "the reading link opens");
    let view = app.get_json(&key, &format!("/v1/letters/{opened}")).await;
    let evidence = view["timeline"].as_array().unwrap().iter().find(|e| e["type"] == "opened").cloned();
    assert_eq!(evidence.expect("opened on the timeline")["data"]["via"], "reading_link", "{:?}", kinds(&view));

    for id in &ids {
        let view = app.get_json(&key, &format!("/v1/letters/{id}")).await;
        assert_eq!(count(&view, "escalated"), 0, "nothing escalates before the first rung");
    }

    // an hour without evidence: an SMS notice and a paper letter, deadline + 10 business days
    clock.advance(Duration::from_secs(3601));
    wait_for_kind(&app, &key, &unopened, "escalated", 1).await;
    // read again: a view is not one snapshot, and the first may see the timeline ahead of the letter
    let escalated = app.get_json(&key, &format!("/v1/letters/{unopened}")).await;
    let timeline = escalated["timeline"].as_array().unwrap();
    let extended = timeline.iter().find(|e| e["type"] == "deadline_extended").expect("deadline_extended");
    let (old, new) = (extended["data"]["old"].as_str().unwrap(), extended["data"]["new"].as_str().unwrap());
    assert!(old < new, "the deadline grows: {old} → {new}");
    assert_eq!((old, new), ("2026-11-30", "2026-12-09"), "10 business days after Wednesday 25 November");
    assert_eq!(escalated["deadline"], "2026-12-09");
    assert_eq!(escalated["respond_by"], "2026-11-30", "the original deadline is kept");
    let step = timeline.iter().find(|e| e["type"] == "escalated").unwrap();
    assert_eq!(step["data"]["channels"], json!(["sms", "print"]), "{step:#}");

    // the notice as it reached the phone network, through Kannel
    let sms_text = kannel.wait_for_sms(PHONE).await;
    assert!(sms_text.contains("Din frist er forlænget til 9. december 2026."), "{sms_text}");
    assert!(sms_text.contains("Vejle Kommune"), "{sms_text}");
    assert!(!sms_text.contains("boligstøtte"), "no subject in an SMS: {sms_text}");
    let sms_delivery = wait_for_delivery(&app, &key, &unopened, "sms", "delivered").await;
    assert_eq!(
        (sms_delivery["transport"].as_str(), sms_delivery["purpose"].as_str()),
        (Some("kannel"), Some("notice"))
    );

    // the paper letter as the printer stored it
    let paper = wait_for_delivery(&app, &key, &unopened, "print", "delivered").await;
    assert_eq!(paper["transport"], "ipp");
    let spooled = printer.spooled_job(paper["id"].as_str().unwrap()).expect("the printed PDF, named by delivery");
    let text = pdf_text(&spooled);
    assert!(text.contains("Din frist er forlænget") && text.contains("9. december 2026"), "{text}");
    assert!(text.contains("Afgørelse om boligstøtte") && text.contains("Vestergade 1"), "{text}");

    // the authority hears of it: signed webhooks, in order
    let heard = eventually(Duration::from_secs(30), || async {
        let got = types(&payloads_for(&calls, &unopened));
        got.contains(&"letter.escalated".to_owned()) && got.contains(&"letter.deadline_extended".to_owned())
    })
    .await;
    assert!(heard, "webhooks for the escalation: {:?}", types(&payloads_for(&calls, &unopened)));
    for (headers, body) in calls.lock().unwrap().iter() {
        assert!(signature_is_valid(&secret, headers, body), "every webhook signature verifies");
    }
    let payloads = payloads_for(&calls, &unopened);
    let seqs: Vec<i64> = payloads.iter().map(|p| p["data"]["seq"].as_i64().unwrap()).collect();
    assert!(seqs.is_sorted(), "in order per letter: {seqs:?}");
    let hooked = payloads.iter().find(|p| p["type"] == "letter.deadline_extended").unwrap();
    assert_eq!(
        (hooked["data"]["data"]["old"].as_str(), hooked["data"]["data"]["new"].as_str()),
        (Some(old), Some(new))
    );
    let hooked = payloads.iter().find(|p| p["type"] == "letter.escalated").unwrap();
    assert_eq!(hooked["data"]["data"]["channels"], json!(["sms", "print"]));

    // well past every rung: the unopened letter climbs on (a positive control that the clock
    // moved and the engine ran its timers); the opened one never escalates
    for rung in 2..=3 {
        clock.advance(Duration::from_secs(3601));
        wait_for_kind(&app, &key, &unopened, "escalated", rung).await;
    }
    clock.advance(Duration::from_secs(24 * 3600));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let climbed = app.get_json(&key, &format!("/v1/letters/{unopened}")).await;
    assert_eq!(count(&climbed, "escalated"), 3, "{:?}", kinds(&climbed));
    let view = app.get_json(&key, &format!("/v1/letters/{opened}")).await;
    assert_eq!(count(&view, "escalated"), 0, "an opened letter is never escalated: {:?}", kinds(&view));
    assert_eq!(count(&view, "deadline_extended"), 0);
    assert_eq!(view["deadline"], "2026-11-30");
    let channels: Vec<&str> =
        view["deliveries"].as_array().unwrap().iter().map(|d| d["channel"].as_str().unwrap()).collect();
    assert_eq!(channels, ["digital_post"]);
    assert!(!types(&payloads_for(&calls, &opened)).contains(&"letter.escalated".to_owned()));
    // one SMS and one paper letter in all: the unopened letter's
    assert_eq!(kannel.received().iter().filter(|(to, _)| to == PHONE).count(), 1, "{:?}", kannel.received());
    assert_eq!(printer.spooled().len(), 1);
    assert_eq!(outbox_files(&app.outbox(), "digital_post").len(), 2);

    drop(kannel);
    app.finish().await;
}

/// config/demo-fast.toml: the whole ladder in under a minute, and a first rung that really
/// extends the demo's 30-day deadlines.
#[test]
fn the_demo_fast_config_climbs_the_ladder_in_under_a_minute() {
    let settings = Settings::load(Some(Path::new("config/demo-fast.toml"))).expect("config/demo-fast.toml loads");
    assert_eq!(settings.engine.poll_interval_ms, 200);
    let ladder = &settings.policies.important;
    let rungs: Vec<Vec<ChannelKind>> = ladder.escalations.iter().map(|e| e.channels.clone()).collect();
    assert_eq!(rungs, [vec![ChannelKind::Sms, ChannelKind::Print], vec![ChannelKind::Phone]]);
    let seconds = |wait: Wait| match wait {
        Wait::Duration(d) => d.as_secs(),
        other => panic!("a demo waits seconds, not {other}"),
    };
    let waits: Vec<i64> =
        ladder.escalations.iter().map(|e| e.after).chain(ladder.unreachable_after).map(seconds).collect();
    assert_eq!(waits, [15, 15, 15]);
    assert!(waits.iter().sum::<i64>() < 60, "the ladder takes {waits:?} s");
    assert!(!settings.policies.normal.escalates(), "normal letters are not chased");

    // `demo` gives its letters 30 days; the first rung must beat that whatever day it runs
    let calendar = Calendar::try_from(settings.calendar.clone()).unwrap();
    let first = &ladder.escalations[0];
    let mut day: jiff::civil::Date = "2026-01-01".parse().unwrap();
    for _ in 0..366 {
        let deadline = day.checked_add(jiff::Span::new().days(30)).unwrap();
        let change = extend_deadline(Some(deadline), day, first.extend_by_business_days, &calendar);
        assert!(matches!(change, DeadlineChange::Extended { .. }), "on {day}: {change:?}");
        day = day.tomorrow().unwrap();
    }
}
