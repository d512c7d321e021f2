//! The `Store` contract, the same on both databases: claims, leases, ordering.

use crate::harness::*;
use budbringer::domain::letter::ContactPoint;
use budbringer::domain::{ChannelKind, Importance};
use budbringer::store::{
    Authority, BulkRun, Inserted, NewDelivery, NewDocumentRecord, NewLetter, Recipient, Store, Timer, Webhook, connect,
};
use sqlx::Connection as _;
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

on_both_backends!(
    claimed_jobs_are_leased_to_one_worker,
    concurrent_claimers_never_share_a_job,
    a_claimed_delivery_is_started_once_and_a_cancelled_one_not_at_all,
    webhook_messages_wait_for_earlier_ones_of_the_same_letter,
    instance_keys_are_stable,
    what_escalations_openings_and_delivery_steps_change_is_in_no_index,
    letters_committed_together_are_stored_as_their_answers_say,
    a_bulk_runs_jobs_wait_while_letters_sent_on_their_own_go_first,
    a_bulk_run_moves_while_letters_sent_on_their_own_keep_the_engine_busy,
);

/// PostgreSQL: a claim does not wait for a letter another transaction holds (it holds its jobs'
/// rows meanwhile, and a cancel takes the letter first, then the jobs: a deadlock). It leaves
/// that delivery to be started on its own, which waits for the letter as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_leaves_a_delivery_whose_letter_is_held_to_be_started_on_its_own() {
    use budbringer::store::ClaimedStart;
    let Some(backend) = Backend::postgres() else { return };
    let (db, store, authority) = setup(&backend).await;
    let now = 1_500_000;
    let (held, free) = (new_letter(authority, now), new_letter(authority, now));
    store.insert_letter(&held).await.unwrap();
    store.insert_letter(&free).await.unwrap();
    let mut other = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut other_tx = sqlx::Connection::begin(&mut other).await.unwrap();
    sqlx::query("SELECT id FROM letters WHERE id = $1 FOR UPDATE").bind(held.id).execute(&mut *other_tx).await.unwrap();

    let claim = store.claim_jobs("w1", now, 60_000, 10);
    let jobs = tokio::time::timeout(std::time::Duration::from_secs(10), claim)
        .await
        .expect("the claim waited for the held letter")
        .unwrap();
    let start_of = |id: Uuid| &jobs.iter().find(|j| j.letter_id == id).expect("claimed").start;
    assert!(matches!(start_of(free.id), ClaimedStart::Started(_)), "{:?}", start_of(free.id));
    assert!(matches!(start_of(held.id), ClaimedStart::NotStarted), "{:?}", start_of(held.id));

    other_tx.rollback().await.unwrap();
    let job = jobs.iter().find(|j| j.letter_id == held.id).unwrap();
    let work = store.start_delivery(job, now).await.unwrap().expect("started on its own");
    assert_eq!((work.delivery.id, work.delivery.attempts), (held.delivery_id, 1));
    let dispatched = store.timeline(held.id).await.unwrap().iter().filter(|e| e.kind == "dispatched").count();
    assert_eq!(dispatched, 1);
    store.close().await;
    db.drop_database().await;
}

/// The columns the busiest updates change (an escalation, an opening, a delivery's start and
/// finish) are in no index: on SQLite such an update then touches no index, and on PostgreSQL
/// it can be HOT (rewritten in its page, no index entry at all), for which its tables also
/// leave room in each page.
async fn what_escalations_openings_and_delivery_steps_change_is_in_no_index(backend: Backend) {
    let (db, store, _) = setup(&backend).await;
    let indexed: Vec<(String, String, String)> = match &backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(
                "SELECT t.name, il.name, ii.name FROM (SELECT 'letters' AS name UNION ALL SELECT 'deliveries') t, \
                 pragma_index_list(t.name) il, pragma_index_info(il.name) ii",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap()
        }
        Backend::Postgres(_) => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            let fillfactors: Vec<(String, Option<Vec<String>>)> = sqlx::query_as(
                "SELECT relname::text, reloptions FROM pg_class WHERE relname IN ('letters', 'deliveries') ORDER BY relname",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            assert_eq!(fillfactors.len(), 2, "{fillfactors:?}");
            for (table, options) in fillfactors {
                assert_eq!(options, Some(vec!["fillfactor=85".to_owned()]), "{table} leaves no room for HOT updates");
            }
            sqlx::query_as(
                "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, a.attname::text FROM pg_index i \
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                 WHERE i.indrelid IN ('letters'::regclass, 'deliveries'::regclass)",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap()
        }
    };
    assert!(indexed.iter().any(|(table, _, column)| table == "letters" && column == "citizen_id"), "{indexed:?}");
    let changing = [
        ("letters", ["escalation_step", "evidence_at", "deadline", "status", "updated_at"].as_slice()),
        ("deliveries", ["status", "attempts", "last_error", "updated_at"].as_slice()),
    ];
    for (table, index, column) in &indexed {
        let busy = changing.iter().any(|(t, columns)| t == table && columns.contains(&column.as_str()));
        assert!(!busy, "index {index} on {table} holds {column}, which every escalation or delivery step changes");
    }
    store.close().await;
    db.drop_database().await;
}

fn new_letter(authority_id: Uuid, now: i64) -> NewLetter {
    NewLetter {
        bulk: None,
        id: Uuid::now_v7(),
        authority_id,
        citizen_id: Uuid::now_v7(),
        cpr: "0101901234".into(),
        cpr_hash: "hash-0101901234".into(),
        recipient: Recipient { cpr_masked: "010190-****".into(), name: None, address: None },
        subject: "Emne".into(),
        body: "Tekst".into(),
        importance: Importance::Normal,
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
        escalation_timer: None,
        max_attempts: 5,
        now,
    }
}

/// A webhook of `authority`'s to `url` (nothing listens there); its id.
async fn add_webhook(store: &dyn Store, authority: Uuid, url: &str) -> Uuid {
    let id = Uuid::now_v7();
    store
        .add_webhook(&Webhook {
            id,
            authority_id: authority,
            url: url.into(),
            secret: "whsec_x".into(),
            created_at: 0,
            previous_secret: None,
            previous_secret_expires_at: None,
        })
        .await
        .unwrap();
    id
}

async fn setup(backend: &Backend) -> (TestDb, Arc<dyn Store>, Uuid) {
    let db = TestDb::new(backend).await;
    let store = connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap(); // migrating twice is harmless
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
    (db, store, authority.id)
}

async fn claimed_jobs_are_leased_to_one_worker(backend: Backend) {
    let (db, store, authority) = setup(&backend).await;
    let now = 1_000_000;
    store.insert_letter(&new_letter(authority, now)).await.unwrap();

    assert!(store.claim_jobs("w1", now - 1, 1000, 10).await.unwrap().is_empty(), "not due yet");
    let jobs = store.claim_jobs("w1", now, 1000, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].attempts, 1);
    assert!(store.claim_jobs("w2", now + 999, 1000, 10).await.unwrap().is_empty(), "leased to w1");
    // w1 crashed: when the lease runs out another worker takes the job
    let again = store.claim_jobs("w2", now + 1000, 1000, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    // graceful shutdown gives the job back at once
    assert_eq!(store.release_jobs("w2").await.unwrap(), 1);
    assert_eq!(store.claim_jobs("w3", now + 1001, 1000, 10).await.unwrap().len(), 1);
    store.close().await;
    db.drop_database().await;
}

async fn a_claimed_delivery_is_started_once_and_a_cancelled_one_not_at_all(backend: Backend) {
    use budbringer::domain::DeliveryStatus;
    use budbringer::store::ClaimedStart;
    let (db, store, authority) = setup(&backend).await;
    let now = 1_500_000;
    let sent = new_letter(authority, now);
    let cancelled = new_letter(authority, now);
    store.insert_letter(&sent).await.unwrap();
    store.insert_letter(&cancelled).await.unwrap();
    store.cancel_letter(authority, cancelled.id, now).await.unwrap();
    let jobs = store.claim_jobs("w1", now, 1000, 10).await.unwrap();
    let job = jobs.iter().find(|j| j.letter_id == sent.id).expect("the letter's job is claimed");
    // the claim starts its deliveries (one turn at the writer instead of two)
    let ClaimedStart::Started(d) = &job.start else {
        panic!("{:?}: not started by the claim: {:?}", store.backend(), job.start)
    };
    assert_eq!((d.id, d.status, d.attempts), (sent.delivery_id, DeliveryStatus::Sending, 1));
    let stored = store.delivery(sent.delivery_id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.attempts), (DeliveryStatus::Sending, 1), "started by the claim");
    let work = store.start_delivery(job, now).await.unwrap().expect("the delivery goes out");
    assert_eq!((work.delivery.id, work.delivery.attempts, work.letter.id), (sent.delivery_id, 1, sent.id));
    assert_eq!(work.authority.id, authority);
    let stored = store.delivery(sent.delivery_id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.attempts), (DeliveryStatus::Sending, 1), "started once, not twice");
    let dispatched = store.timeline(sent.id).await.unwrap().iter().filter(|e| e.kind == "dispatched").count();
    assert_eq!(dispatched, 1);

    // a cancelled letter's job (if one is left to claim) sends nothing and is gone
    if let Some(job) = jobs.iter().find(|j| j.letter_id == cancelled.id) {
        assert!(store.start_delivery(job, now).await.unwrap().is_none());
    }
    assert!(store.claim_jobs("w2", now + 10_000, 1000, 10).await.unwrap().iter().all(|j| j.letter_id != cancelled.id));
    let dispatched = store.timeline(cancelled.id).await.unwrap().iter().filter(|e| e.kind == "dispatched").count();
    assert_eq!(dispatched, 0);
    store.close().await;
    db.drop_database().await;
}

/// A bulk run's jobs (deliveries and escalation timers) wait in their lane: a claim takes a
/// single letter's job first even when it came later, then the bulk jobs oldest first.
async fn a_bulk_runs_jobs_wait_while_letters_sent_on_their_own_go_first(backend: Backend) {
    use budbringer::store::{LANE_BULK, LANE_FIRST};
    let (db, store, authority) = setup(&backend).await;
    let now = 3_000_000;
    let mut bulk = Vec::new();
    for i in 0..3 {
        let mut letter = new_letter(authority, now + i);
        letter.bulk = Some(BulkRun::Requested);
        letter.escalation_timer = Some(Timer { job_id: Uuid::now_v7(), step: 0, due_at: now + 100 });
        store.insert_letter(&letter).await.unwrap();
        bulk.push(letter);
    }
    let single = new_letter(authority, now + 10);
    store.insert_letter(&single).await.unwrap();

    // which jobs a claim took, and their lanes (a claim's jobs come in no particular order)
    let claimed = |jobs: Vec<budbringer::store::Job>| {
        let mut taken: Vec<_> = jobs.iter().map(|j| (j.id, j.lane)).collect();
        taken.sort();
        taken
    };
    let first = claimed(store.claim_jobs("w1", now + 20, 60_000, 2).await.unwrap());
    let mut expected = vec![(single.job_id, LANE_FIRST), (bulk[0].job_id, LANE_BULK)];
    expected.sort();
    assert_eq!(first, expected, "the single letter first, then the oldest of the bulk run");
    let rest = claimed(store.claim_jobs("w1", now + 20, 60_000, 10).await.unwrap());
    let mut expected = vec![(bulk[1].job_id, LANE_BULK), (bulk[2].job_id, LANE_BULK)];
    expected.sort();
    assert_eq!(rest, expected, "then the rest of the bulk run");
    // the bulk letters' escalation timers wait in the bulk lane too
    let timers = store.claim_jobs("w1", now + 100, 60_000, 10).await.unwrap();
    assert_eq!(timers.len(), 3, "{timers:?}");
    assert!(timers.iter().all(|j| j.kind == "escalate" && j.lane == LANE_BULK), "{timers:?}");
    // and what an escalation of a bulk letter queues (the next channel, the next timer) too
    let (sms_job, next_job) = (Uuid::now_v7(), Uuid::now_v7());
    let plan = budbringer::store::EscalationPlan {
        step: 0,
        deliveries: vec![NewDelivery {
            channel: ChannelKind::Sms,
            delivery_id: Uuid::now_v7(),
            job_id: sms_job,
            helper: None,
        }],
        deadline: budbringer::domain::policy::DeadlineChange::Unchanged { reason: "no_deadline" },
        alerts: vec![],
        next: Some(Timer { job_id: next_job, step: 1, due_at: now + 500 }),
        max_attempts: 5,
    };
    assert!(store.apply_escalation(&timers[0], &plan, now + 100).await.unwrap());
    let mut expected = vec![(sms_job, LANE_BULK), (next_job, LANE_BULK)];
    expected.sort();
    assert_eq!(claimed(store.claim_jobs("w1", now + 500, 60_000, 10).await.unwrap()), expected);
    store.close().await;
    db.drop_database().await;
}

/// A bulk run still moves while letters sent one by one would fill every claim: each claim
/// gives the bulk lane one job in eight, its oldest, and the rest to the first lane; what the
/// first lane leaves goes to the bulk lane.
async fn a_bulk_run_moves_while_letters_sent_on_their_own_keep_the_engine_busy(backend: Backend) {
    use budbringer::store::bulk_share;
    let (db, store, authority) = setup(&backend).await;
    let now = 4_000_000;
    let mut bulk = Vec::new();
    for i in 0..16 {
        let mut letter = new_letter(authority, now + i);
        letter.bulk = Some(BulkRun::Detected);
        store.insert_letter(&letter).await.unwrap();
        bulk.push(letter.job_id);
    }
    let mut single = Vec::new();
    for i in 0..16 {
        let letter = new_letter(authority, now + 100 + i);
        store.insert_letter(&letter).await.unwrap();
        single.push(letter.job_id);
    }
    let claim = || async {
        let mut ids: Vec<Uuid> =
            store.claim_jobs("w1", now + 200, 60_000, 16).await.unwrap().iter().map(|j| j.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(bulk_share(16), 2);
    let mut expected: Vec<Uuid> = bulk[..2].iter().chain(&single[..14]).copied().collect();
    expected.sort();
    assert_eq!(claim().await, expected, "the bulk run's two oldest, then the fourteen oldest single letters");
    let mut expected: Vec<Uuid> = bulk[2..4].iter().chain(&single[14..]).chain(&bulk[4..]).copied().collect();
    expected.sort();
    assert_eq!(claim().await, expected, "the share, the last single letters, and the bulk run's rest after its share");
    assert!(claim().await.is_empty());
    store.close().await;
    db.drop_database().await;
}

/// Also across the lanes: every other letter is a bulk run's, and each claim of nine takes the
/// bulk lane's share, the first lane's jobs and the bulk lane's again.
async fn concurrent_claimers_never_share_a_job(backend: Backend) {
    let (db, store, authority) = setup(&backend).await;
    let now = 2_000_000;
    for i in 0..200 {
        let mut letter = new_letter(authority, now);
        letter.bulk = (i % 2 == 1).then_some(BulkRun::Requested);
        store.insert_letter(&letter).await.unwrap();
    }
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..4 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let jobs = store.claim_jobs(&format!("w{w}"), now, 60_000, 9).await.unwrap();
                if jobs.is_empty() {
                    return mine;
                }
                mine.extend(jobs.into_iter().map(|j| j.id));
            }
        });
    }
    let mut all = Vec::new();
    while let Some(mine) = tasks.join_next().await {
        all.extend(mine.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 200, "every job claimed");
    assert_eq!(unique.len(), 200, "no job claimed twice");
    store.close().await;
    db.drop_database().await;
}

async fn webhook_messages_wait_for_earlier_ones_of_the_same_letter(backend: Backend) {
    let (db, store, authority) = setup(&backend).await;
    add_webhook(&*store, authority, "http://127.0.0.1:9/").await;
    let now = 3_000_000;
    let letter = new_letter(authority, now);
    store.insert_letter(&letter).await.unwrap(); // event 1: accepted
    let job = store.claim_jobs("w", now, 1000, 1).await.unwrap().remove(0);
    store.start_delivery(&job, now).await.unwrap().unwrap(); // event 2: dispatched
    let other = new_letter(authority, now);
    store.insert_letter(&other).await.unwrap(); // event 3: another letter

    let first = store.claim_webhook_messages("d", now, 1000, 10).await.unwrap();
    let kinds: Vec<(Uuid, String)> = first.iter().map(|m| (m.letter_id, m.kind.clone())).collect();
    assert_eq!(
        kinds,
        [(letter.id, "accepted".to_owned()), (other.id, "accepted".to_owned())],
        "dispatched waits for accepted"
    );
    // the first failed and waits for a retry: the later one still waits behind it
    store.webhook_message_retry(first[0].id, now + 500, "boom").await.unwrap();
    store.webhook_message_sent(first[1].id).await.unwrap();
    assert!(store.claim_webhook_messages("d", now + 100, 1000, 10).await.unwrap().is_empty());
    let retried = store.claim_webhook_messages("d", now + 500, 1000, 10).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].kind, "accepted");
    assert_eq!(retried[0].attempts, 2);
    store.webhook_message_sent(retried[0].id).await.unwrap();
    let next = store.claim_webhook_messages("d", now + 501, 1000, 10).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].kind, "dispatched");
    store.close().await;
    db.drop_database().await;
}

async fn instance_keys_are_stable(backend: Backend) {
    let (db, store, _) = setup(&backend).await;
    let a = store.instance_key("cpr-hash").await.unwrap();
    let b = store.instance_key("cpr-hash").await.unwrap();
    assert_eq!(a.len(), 32);
    assert_eq!(a, b);
    assert_ne!(a, store.instance_key("other").await.unwrap());
    store.close().await;
    db.drop_database().await;
}

/// New letters arriving together are committed in groups (on PostgreSQL, a group in one
/// statement): letters of every shape — documents, notices, a timer, an idempotency key, a
/// citizen shared with other letters of the group, a large document — are stored as each
/// answer says, with one
/// message per webhook for each `accepted` event.
async fn letters_committed_together_are_stored_as_their_answers_say(backend: Backend) {
    let (db, store, authority) = setup(&backend).await;
    let mut webhooks = Vec::new();
    for i in 0..2 {
        webhooks.push(add_webhook(&*store, authority, &format!("http://127.0.0.1:9/{i}")).await);
    }
    let now = 5_000_000;
    let letters: Vec<NewLetter> = (0..48_u32)
        .map(|i| {
            let mut l = new_letter(authority, now + i64::from(i));
            // five citizens, so that a group holds several letters for one of them
            let cpr = format!("01019{:05}", i % 5);
            l.cpr_hash = format!("hash-{cpr}");
            l.cpr = cpr;
            l.subject = format!("Brev {i}");
            l.reference = (i % 2 == 0).then(|| format!("ref-{i}"));
            l.category = (i % 3 == 0).then(|| "ydelse".to_owned());
            l.respond_by = (i % 4 == 0).then(|| "2026-12-01".to_owned());
            l.idempotency_key = (i % 3 == 1).then(|| format!("key-{i}"));
            l.request_hash = l.idempotency_key.as_ref().map(|k| format!("hash-of-{k}"));
            l.documents = (0..i % 3)
                .map(|d| NewDocumentRecord {
                    id: Uuid::now_v7(),
                    filename: format!("bilag-{d}.pdf"),
                    media_type: "application/pdf".into(),
                    sha256: format!("{:064x}", i * 10 + d),
                    content: vec![u8::try_from(d).unwrap(); 100 + i as usize],
                })
                .collect();
            if i == 7 {
                // more than a statement carries beside its letters (on PostgreSQL, 8 MiB)
                l.documents.push(NewDocumentRecord {
                    id: Uuid::now_v7(),
                    filename: "stort-bilag.pdf".into(),
                    media_type: "application/pdf".into(),
                    sha256: format!("{:064x}", 7),
                    content: (0..9 << 20).map(|b: u32| (b % 251) as u8).collect(),
                });
            }
            l.notices = (0..i % 3)
                .map(|n| NewDelivery {
                    channel: if n == 0 { ChannelKind::Sms } else { ChannelKind::Email },
                    delivery_id: Uuid::now_v7(),
                    job_id: Uuid::now_v7(),
                    helper: None,
                })
                .collect();
            if i % 2 == 1 {
                l.importance = Importance::Important;
                l.escalation_timer = Some(Timer { job_id: Uuid::now_v7(), step: 0, due_at: now + 86_400_000 });
            }
            l
        })
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for l in letters.clone() {
        let store = store.clone();
        tasks.spawn(async move { (l.id, store.insert_letter(&l).await.unwrap()) });
    }
    let mut answers = std::collections::HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (id, inserted) = joined.unwrap();
        let Inserted::Created(created) = inserted else { panic!("letter {id} was not created") };
        answers.insert(id, created);
    }

    for l in &letters {
        let created = &answers[&l.id];
        let stored = store.letter(authority, l.id).await.unwrap().expect("the letter is stored");
        assert_eq!(format!("{stored:?}"), format!("{:?}", created.letter), "letter {}", l.subject);
        assert_eq!(Some(stored.citizen_id), store.citizen_id(&l.cpr_hash).await.unwrap(), "{}: its citizen", l.subject);
        assert_eq!(stored.reference, l.reference);
        assert_eq!(stored.deadline, l.respond_by);
        let documents = store.documents(l.id).await.unwrap();
        assert_eq!(format!("{documents:?}"), format!("{:?}", created.documents), "{}: documents", l.subject);
        assert_eq!(documents.len(), l.documents.len());
        for (meta, sent) in documents.iter().zip(&l.documents) {
            let read = store.document(l.id, meta.id).await.unwrap().expect("the document is stored");
            assert_eq!(read.content, sent.content, "{}: a document's content", l.subject);
        }
        let deliveries = store.deliveries(l.id).await.unwrap();
        assert_eq!(format!("{deliveries:?}"), format!("{:?}", created.deliveries), "{}: deliveries", l.subject);
        assert_eq!(deliveries.len(), 1 + l.notices.len());
        let timeline = store.timeline(l.id).await.unwrap();
        assert_eq!(format!("{timeline:?}"), format!("{:?}", created.timeline), "{}: timeline", l.subject);
    }
    let citizens: HashSet<Uuid> = answers.values().map(|c| c.letter.citizen_id).collect();
    assert_eq!(citizens.len(), 5, "one citizen for each CPR number");

    // every delivery has its job, every important letter its timer
    let jobs = store.claim_jobs("w", now + 100_000_000, 1000, 1000).await.unwrap();
    let mut expected: Vec<(Uuid, String, Option<Uuid>, Option<i64>)> = letters
        .iter()
        .flat_map(|l| {
            std::iter::once((l.id, "deliver".to_owned(), Some(l.delivery_id), None))
                .chain(l.notices.iter().map(|n| (l.id, "deliver".to_owned(), Some(n.delivery_id), None)))
                .chain(l.escalation_timer.iter().map(|t| (l.id, "escalate".to_owned(), None, Some(t.step))))
        })
        .collect();
    let mut claimed: Vec<_> = jobs.iter().map(|j| (j.letter_id, j.kind.clone(), j.delivery_id, j.step)).collect();
    expected.sort();
    claimed.sort();
    assert_eq!(claimed, expected);

    // one message per webhook and `accepted` event, in the events' order
    let messages = store.claim_webhook_messages("d", now + 100_000_000, 1000, 1000).await.unwrap();
    let mut per_webhook: Vec<(Uuid, Vec<i64>)> = webhooks
        .iter()
        .map(|w| (*w, messages.iter().filter(|m| m.webhook_id == *w).map(|m| m.event_seq).collect()))
        .collect();
    let mut seqs: Vec<i64> = answers.values().map(|c| c.timeline[0].seq).collect();
    seqs.sort();
    for (webhook, got) in &mut per_webhook {
        got.sort();
        assert_eq!(*got, seqs, "webhook {webhook}: one message per accepted event");
    }
    assert!(messages.iter().all(|m| m.kind == "accepted"));
    store.close().await;
    db.drop_database().await;
}
