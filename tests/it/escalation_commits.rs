//! Escalations applied side by side (SQLite commits them in groups): each is applied exactly
//! once, a cancelled letter's timer just goes, and one that fails fails alone.

use crate::harness::*;
use budbringer::domain::letter::ContactPoint;
use budbringer::domain::policy::DeadlineChange;
use budbringer::domain::{ChannelKind, Importance};
use budbringer::store::{
    Authority, CancelOutcome, EscalationPlan, NewDelivery, NewLetter, Recipient, Store, Timer, connect,
};
use std::sync::Arc;
use uuid::Uuid;

on_both_backends!(escalations_side_by_side_are_applied_once_and_fail_alone);

const LETTERS: usize = 40;

fn important_letter(authority_id: Uuid, i: usize, now: i64) -> NewLetter {
    NewLetter {
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

async fn escalations_side_by_side_are_applied_once_and_fail_alone(backend: Backend) {
    let db = TestDb::new(&backend).await;
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
