//! Escalations applied side by side (both databases commit them in groups, one statement per
//! table): each is applied exactly once and stores what it would alone, a cancelled letter's
//! timer just goes, and one that fails fails alone.

use crate::harness::*;
use budbringer::domain::letter::ContactPoint;
use budbringer::domain::policy::DeadlineChange;
use budbringer::domain::routing::{Helper, HelperScope};
use budbringer::domain::{ChannelKind, EventKind, Importance};
use budbringer::store::{
    Authority, CancelOutcome, DeliveryOutcome, EscalationPlan, ExemptionOffer, ExemptionOfferRule, NewDelivery,
    NewLetter, Recipient, Store, Timer, connect,
};
use std::sync::Arc;
use uuid::Uuid;

on_both_backends!(escalations_side_by_side_are_applied_once_and_fail_alone);
on_both_backends!(escalations_committed_together_store_what_each_would_alone);
on_both_backends!(escalation_contexts_read_together_are_each_their_own);

const LETTERS: usize = 40;

fn important_letter(authority_id: Uuid, i: usize, now: i64) -> NewLetter {
    NewLetter {
        bulk: None,
        id: Uuid::now_v7(),
        authority_id,
        citizen_id: Uuid::now_v7(),
        cpr: "0101901234".into(),
        cpr_hash: format!("hash-{i}"),
        recipient: Recipient { cpr_masked: "010190-****".into(), name: None, address: None },
        subject: "Afgørelse".into(),
        body: "Tekst".into(),
        importance: Importance::Important,
        category: None,
        respond_by: None,
        reference: None,
        contact: ContactPoint::default(),
        documents: vec![],
        idempotency_key: None,
        request_hash: None,
        channel: ChannelKind::DigitalPost,
        delivery_id: Uuid::now_v7(),
        job_id: Uuid::now_v7(),
        notices: vec![],
        escalation_timer: Some(Timer { job_id: Uuid::now_v7(), step: 0, due_at: now }),
        max_attempts: 5,
        now,
    }
}

fn plan(delivery_id: Uuid) -> EscalationPlan {
    EscalationPlan {
        step: 0,
        deliveries: vec![NewDelivery { channel: ChannelKind::Sms, delivery_id, job_id: Uuid::now_v7(), helper: None }],
        deadline: DeadlineChange::Unchanged { reason: "no_deadline" },
        alerts: vec![],
        next: None,
        max_attempts: 5,
    }
}

async fn store_with_authority(db: &TestDb) -> (Arc<dyn Store>, Authority) {
    let store = connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let authority = Authority {
        id: Uuid::now_v7(),
        name: "Test".into(),
        cvr: format!("{:08}", rand_u32() % 100_000_000),
        created_at: 0,
        office_hours: None,
        closing_days: sqlx::types::Json(Vec::new()),
        time_zone: None,
    };
    store.create_authority(&authority).await.unwrap();
    (store, authority)
}

async fn escalations_side_by_side_are_applied_once_and_fail_alone(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let (store, authority) = store_with_authority(&db).await;
    let now = 5_000_000;
    let letters: Vec<NewLetter> = (0..LETTERS).map(|i| important_letter(authority.id, i, now)).collect();
    for letter in &letters {
        store.insert_letter(letter).await.unwrap();
    }
    let jobs: Vec<_> =
        store.claim_jobs("w1", now, 60_000, 1000).await.unwrap().into_iter().filter(|j| j.kind == "escalate").collect();
    assert_eq!(jobs.len(), LETTERS);

    let cancelled = jobs[3].letter_id;
    assert!(matches!(store.cancel_letter(authority.id, cancelled, now).await.unwrap(), CancelOutcome::Cancelled(_)));
    // this plan reuses the letter's own delivery id: its insert fails, and so must only it
    let failing = jobs[7].letter_id;
    let taken = letters.iter().find(|l| l.id == failing).unwrap().delivery_id;

    let mut tasks = tokio::task::JoinSet::new();
    for job in jobs.clone() {
        let store: Arc<dyn Store> = Arc::clone(&store);
        let plan = plan(if job.letter_id == failing { taken } else { Uuid::now_v7() });
        tasks.spawn(async move {
            (job.letter_id, store.apply_escalation(&job, &plan, now).await.map_err(|e| e.to_string()))
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (letter_id, applied) = done.unwrap();
        let escalated = store.timeline(letter_id).await.unwrap().iter().filter(|e| e.kind == "escalated").count();
        if letter_id == failing {
            assert!(applied.is_err(), "the failing escalation reports its error: {applied:?}");
            assert_eq!(escalated, 0, "nothing of the failing escalation is stored");
        } else if letter_id == cancelled {
            assert_eq!(applied, Ok(false), "a cancelled letter is not escalated");
            assert_eq!(escalated, 0);
        } else {
            assert_eq!(applied, Ok(true), "an escalation beside a failing one is applied");
            assert_eq!(escalated, 1, "applied exactly once");
            let sms =
                store.deliveries(letter_id).await.unwrap().iter().filter(|d| d.channel == ChannelKind::Sms).count();
            assert_eq!(sms, 1);
        }
    }
    // the timers of applied and dropped escalations are gone; the failed one's comes back
    let again: Vec<Uuid> = store
        .claim_jobs("w2", now + 60_000, 60_000, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "escalate")
        .map(|j| j.letter_id)
        .collect();
    assert_eq!(again, vec![failing]);
    store.close().await;
    db.drop_database().await;
}

/// A full first rung: an SMS notice, a paper letter and the helper's notice, the deadline
/// extended, two alerts and the next timer.
fn full_plan(deadline: &str) -> EscalationPlan {
    let helper = Helper {
        name: "Hjælper".into(),
        phone: Some("+4512345678".into()),
        email: None,
        address: None,
        receives: HelperScope::Notice,
    };
    let delivery =
        |channel, helper| NewDelivery { channel, delivery_id: Uuid::now_v7(), job_id: Uuid::now_v7(), helper };
    EscalationPlan {
        step: 0,
        deliveries: vec![
            delivery(ChannelKind::Sms, None),
            delivery(ChannelKind::Print, None),
            delivery(ChannelKind::Sms, Some(helper)),
        ],
        deadline: DeadlineChange::Extended { old: deadline.parse().unwrap(), new: "2031-02-14".parse().unwrap() },
        alerts: vec![
            budbringer::store::NewAlert {
                id: Uuid::now_v7(),
                kind: "unopened",
                details: serde_json::json!({ "subject": "Afgørelse" }),
            },
            budbringer::store::NewAlert {
                id: Uuid::now_v7(),
                kind: "offer_exemption",
                details: serde_json::json!({ "escalated_letters": 2 }),
            },
        ],
        next: Some(Timer { job_id: Uuid::now_v7(), step: 1, due_at: 9_000_000 }),
        max_attempts: 5,
    }
}

async fn escalations_committed_together_store_what_each_would_alone(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let (store, authority) = store_with_authority(&db).await;
    let now = 5_000_000;
    let letters: Vec<NewLetter> = (0..LETTERS)
        .map(|i| NewLetter { respond_by: Some("2031-01-31".into()), ..important_letter(authority.id, i, now) })
        .collect();
    for letter in &letters {
        store.insert_letter(letter).await.unwrap();
    }
    let mut jobs: Vec<_> =
        store.claim_jobs("w1", now, 60_000, 1000).await.unwrap().into_iter().filter(|j| j.kind == "escalate").collect();
    assert_eq!(jobs.len(), LETTERS);
    // one letter escalated twice side by side: each goes as it would alone, one after the other
    let twice = jobs[5].letter_id;
    jobs.push(budbringer::store::Job { id: Uuid::now_v7(), ..jobs[5].clone() });
    let evidenced = jobs[9].letter_id;
    store.record_evidence(authority.id, evidenced, EventKind::Opened, serde_json::json!({}), now).await.unwrap();

    let mut plans = std::collections::HashMap::new();
    let mut tasks = tokio::task::JoinSet::new();
    for job in jobs.clone() {
        let store: Arc<dyn Store> = Arc::clone(&store);
        let plan = full_plan("2031-01-31");
        plans.entry(job.letter_id).or_insert_with(Vec::new).push(plan.clone());
        tasks.spawn(async move { (job.letter_id, store.apply_escalation(&job, &plan, now).await.unwrap()) });
    }
    let mut applied = std::collections::HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (letter_id, was_applied) = done.unwrap();
        applied.entry(letter_id).or_insert_with(Vec::new).push(was_applied);
    }

    let alerts = store.alerts(authority.id, true).await.unwrap();
    for letter in &letters {
        let details = store.letter_details(authority.id, letter.id).await.unwrap().unwrap();
        // (on SQLite the claim above also started the letters' own deliveries: `dispatched`)
        let kinds: Vec<&str> =
            details.timeline.iter().map(|e| e.kind.as_str()).filter(|kind| *kind != "dispatched").collect();
        let letter_alerts: Vec<&str> =
            alerts.iter().filter(|a| a.letter_id == Some(letter.id)).map(|a| a.kind.as_str()).collect();
        if letter.id == evidenced {
            assert_eq!(applied[&letter.id], vec![false], "a letter with evidence is not escalated");
            assert!(!kinds.contains(&"escalated"), "{kinds:?}");
            assert!(letter_alerts.is_empty());
            assert_eq!(details.deliveries.len(), 1);
            continue;
        }
        let times = if letter.id == twice { 2 } else { 1 };
        assert_eq!(applied[&letter.id], vec![true; times]);
        let one = ["deadline_extended", "escalated", "alert_raised", "alert_raised"];
        let expected: Vec<&str> =
            std::iter::once("accepted").chain(one.iter().copied().cycle().take(4 * times)).collect();
        assert_eq!(kinds, expected, "each escalation's events in order");
        assert_eq!(details.letter.deadline.as_deref(), Some("2031-02-14"), "the deadline is extended");
        let escalated = details.timeline.iter().find(|e| e.kind == "escalated").unwrap();
        assert_eq!(escalated.data["channels"], serde_json::json!(["sms", "print", "sms"]));
        assert_eq!(escalated.data["deadline"], serde_json::json!({ "extended_to": "2031-02-14" }));
        let extended = details.timeline.iter().find(|e| e.kind == "deadline_extended").unwrap();
        assert_eq!(extended.data["old"], "2031-01-31");
        let raised = details.timeline.iter().find(|e| e.kind == "alert_raised").unwrap();
        assert_eq!(raised.data["kind"], "unopened");
        assert_eq!(raised.data["details"]["subject"], "Afgørelse");

        let mut stored: Vec<(ChannelKind, String, Option<String>)> = details
            .deliveries
            .iter()
            .map(|d| (d.channel, d.purpose.clone(), d.helper.as_ref().map(|h| h.name.clone())))
            .collect();
        stored.sort_by_key(|d| format!("{d:?}"));
        let mut wanted = vec![(ChannelKind::DigitalPost, "letter".to_owned(), None)];
        for plan in &plans[&letter.id] {
            assert!(plan.deliveries.iter().all(|d| details.deliveries.iter().any(|s| s.id == d.delivery_id)));
            wanted.push((ChannelKind::Sms, "notice".into(), None));
            wanted.push((ChannelKind::Print, "letter".into(), None));
            wanted.push((ChannelKind::Sms, "helper".into(), Some("Hjælper".into())));
        }
        wanted.sort_by_key(|d| format!("{d:?}"));
        assert_eq!(stored, wanted, "the letter's own delivery and the escalation's");

        let mut letter_alerts = letter_alerts;
        letter_alerts.sort();
        let mut wanted_alerts = ["offer_exemption", "unopened"].repeat(times);
        wanted_alerts.sort();
        assert_eq!(letter_alerts, wanted_alerts);
        let unopened = alerts.iter().find(|a| a.letter_id == Some(letter.id) && a.kind == "unopened").unwrap();
        assert_eq!(unopened.citizen_id, Some(details.letter.citizen_id));
        assert_eq!(unopened.status, "open");
    }
    // the claimed timers are gone; each escalation queued its deliveries and its next timer
    let later: Vec<_> = store.claim_jobs("w2", 10_000_000, 60_000, 10_000).await.unwrap();
    let timers: Vec<_> = later.iter().filter(|j| j.kind == "escalate").collect();
    assert_eq!(timers.len(), LETTERS, "one next timer per escalation applied");
    assert!(timers.iter().all(|j| j.step == Some(1)));
    let deliver = later.iter().filter(|j| j.kind == "deliver").count();
    assert_eq!(deliver, LETTERS + 3 * LETTERS, "the letters' own and three per escalation applied");
    store.close().await;
    db.drop_database().await;
}

/// What escalation timers read is read in batches when they fire together: each gets its own
/// letter's context, as it would alone, with the citizen's history counted from its own
/// window's start, and whether paper failed read for the citizens to be offered exemption.
async fn escalation_contexts_read_together_are_each_their_own(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let (store, authority) = store_with_authority(&db).await;
    let now = 5_000_000;
    // letters i and i + 20 go to the same citizen
    let citizens: Vec<Uuid> = (0..LETTERS / 2).map(|_| Uuid::now_v7()).collect();
    let letters: Vec<NewLetter> = (0..LETTERS)
        .map(|i| NewLetter {
            bulk: None,
            citizen_id: citizens[i % (LETTERS / 2)],
            cpr_hash: format!("hash-{}", i % (LETTERS / 2)),
            ..important_letter(authority.id, i, now)
        })
        .collect();
    for letter in &letters {
        store.insert_letter(letter).await.unwrap();
    }
    // the first ten are escalated once, by SMS; the first two also by paper, which fails
    let jobs = store.claim_jobs("w1", now, 60_000, 1000).await.unwrap();
    for (i, letter) in letters[..10].iter().enumerate() {
        let job = jobs.iter().find(|j| j.kind == "escalate" && j.letter_id == letter.id).unwrap();
        let mut plan = plan(Uuid::now_v7());
        if i < 2 {
            plan.deliveries.push(NewDelivery {
                channel: ChannelKind::Print,
                delivery_id: Uuid::now_v7(),
                job_id: Uuid::now_v7(),
                helper: None,
            });
        }
        assert!(store.apply_escalation(job, &plan, now).await.unwrap());
    }
    let mut failed = 0;
    for job in store.claim_jobs("w1", now, 60_000, 1000).await.unwrap() {
        let Some(work) = store.start_delivery(&job, now).await.unwrap() else { continue };
        if work.delivery.channel == ChannelKind::Print {
            store.finish_delivery(&job, &DeliveryOutcome::Failed { error: "returned".into() }, now).await.unwrap();
            failed += 1;
        }
    }
    assert_eq!(failed, 2, "paper failed for the first two citizens");
    // even letters count the citizen's escalations since the beginning and offer exemption
    // from the first escalated letter on; odd ones since after them, from the second on
    let rule = move |i: usize| {
        if i.is_multiple_of(2) {
            ExemptionOfferRule { window_start: 0, after_escalations: 1 }
        } else {
            ExemptionOfferRule { window_start: now + 60_000, after_escalations: 2 }
        }
    };
    let mut reads = tokio::task::JoinSet::new();
    for (i, letter) in letters.iter().enumerate() {
        let (store, id) = (Arc::clone(&store), letter.id);
        reads.spawn(async move { (i, store.escalation_context(id, rule(i)).await.unwrap()) });
    }
    let unknown = store.escalation_context(Uuid::now_v7(), rule(0)).await.unwrap();
    assert!(unknown.is_none(), "no context for a letter that is not stored");
    let never = ExemptionOfferRule { window_start: 0, after_escalations: 0 };
    let not_offered = store.escalation_context(letters[20].id, never).await.unwrap().unwrap();
    assert_eq!(not_offered.offer_exemption, None, "after_escalations 0 never offers exemption");
    let summary = |ctx: &budbringer::store::EscalationContext| {
        let mut used: Vec<&str> = ctx.used_channels.iter().map(|c| c.as_str()).collect();
        used.sort();
        (ctx.letter.id, ctx.letter.citizen_id, used, ctx.offer_exemption, ctx.evidence_at)
    };
    let mut answered = 0;
    while let Some(done) = reads.join_next().await {
        let (i, together) = done.unwrap();
        let together = together.unwrap_or_else(|| panic!("letter {i} has a context"));
        let expected_used = match i {
            0 | 1 => vec!["digital_post", "print", "sms"],
            2..10 => vec!["digital_post", "sms"],
            _ => vec!["digital_post"],
        };
        // letters 20–29 go to citizens escalated before, letters 20 and 21 to those paper failed for
        let expected_offer = i.is_multiple_of(2).then(|| ExemptionOffer {
            escalated_letters: 1 + i64::from((20..30).contains(&i)),
            paper_failed: i % 20 < 2,
        });
        let (id, citizen, used, offer, evidence) = summary(&together);
        assert_eq!((id, citizen), (letters[i].id, letters[i].citizen_id), "letter {i}: its own letter and citizen");
        assert_eq!(used, expected_used, "letter {i}: its own used channels");
        assert_eq!(offer, expected_offer, "letter {i}: the citizen's escalations since its window's start");
        assert!(evidence.is_none());
        let alone = store.escalation_context(letters[i].id, rule(i)).await.unwrap().unwrap();
        assert_eq!(summary(&alone), summary(&together), "letter {i}: read together as alone");
        answered += 1;
    }
    assert_eq!(answered, LETTERS);
    store.close().await;
    db.drop_database().await;
}
