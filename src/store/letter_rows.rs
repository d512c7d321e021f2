//! The rows a group of new letters writes (citizens, letters, documents, deliveries, jobs,
//! `accepted` events), built once, backend-neutral; each backend writes them its own way
//! (SQLite: a statement per table in one call; PostgreSQL: one statement for the lot), and
//! both answer with `created`.

use std::collections::HashMap;
use uuid::Uuid;

use super::common::{NewDeliveryRow, NewJobRow};
use super::model::lane_of;
use super::{
    CreatedLetter, DeliveryRecord, DocumentMeta, EventRecord, LetterRecord, NewDelivery, NewDocumentRecord, NewLetter,
};
use crate::domain::{DeliveryStatus, EventKind, LetterStatus};

/// A new letter and its citizen's sealed CPR number.
pub(crate) type LetterIn<'a> = (&'a NewLetter, &'a str);

pub(crate) struct LetterRows<'a> {
    pub letters: &'a [LetterIn<'a>],
    /// Once each (PostgreSQL refuses to upsert one row twice in a statement), in key order
    /// (concurrent groups then take their rows in the same order).
    pub citizens: Vec<LetterIn<'a>>,
    /// Each with its letter and position.
    pub documents: Vec<(&'a NewLetter, usize, &'a NewDocumentRecord)>,
    /// Each letter's own delivery, then its notices.
    pub deliveries: Vec<NewDeliveryRow<'a>>,
    /// A delivery job for each delivery, then the letters' first escalation timers.
    pub jobs: Vec<NewJobRow>,
    /// The `accepted` events, in the order of `letters`, each with its authority; their `seq`s
    /// are known only once written.
    pub events: Vec<(Uuid, EventRecord)>,
}

impl<'a> LetterRows<'a> {
    pub(crate) fn new(letters: &'a [LetterIn<'a>]) -> Self {
        let mut citizens: Vec<LetterIn<'a>> = letters.to_vec();
        citizens.sort_by(|a, b| a.0.cpr_hash.cmp(&b.0.cpr_hash));
        citizens.dedup_by(|a, b| a.0.cpr_hash == b.0.cpr_hash);

        let documents =
            letters.iter().flat_map(|(l, _)| l.documents.iter().enumerate().map(move |(i, d)| (*l, i, d))).collect();

        let own_delivery = |l: &NewLetter| NewDelivery {
            channel: l.channel,
            delivery_id: l.delivery_id,
            job_id: l.job_id,
            helper: None,
        };
        let mut deliveries = Vec::with_capacity(letters.len());
        let mut jobs = Vec::with_capacity(letters.len() * 2);
        for (l, _) in letters {
            let own = own_delivery(l);
            for (d, purpose) in std::iter::once((&own, "letter")).chain(l.notices.iter().map(|n| (n, "notice"))) {
                deliveries.push(NewDeliveryRow {
                    id: d.delivery_id,
                    letter_id: l.id,
                    channel: d.channel,
                    purpose,
                    helper: None,
                    now: l.now,
                });
                jobs.push(NewJobRow::delivery(l.id, d, l.max_attempts, lane_of(l.bulk), l.now));
            }
        }
        jobs.extend(letters.iter().filter_map(|(l, _)| {
            l.escalation_timer.as_ref().map(|timer| NewJobRow::timer(l.id, timer, lane_of(l.bulk), l.now))
        }));

        let events = letters
            .iter()
            .map(|(l, _)| {
                let mut data = serde_json::json!({
                    "importance": l.importance,
                    "respond_by": l.respond_by,
                    "channel": l.channel,
                    "delivery_id": l.delivery_id,
                    "notices": l.notices.iter().map(|n| serde_json::json!({ "channel": n.channel, "delivery_id": n.delivery_id })).collect::<Vec<_>>(),
                    "documents": l.documents.len(),
                });
                // the timeline says why a letter waited in the bulk lane
                if let Some(bulk) = l.bulk {
                    data["bulk"] = bulk.as_str().into();
                }
                (l.authority_id, event_record(l.id, EventKind::Accepted, data, l.now))
            })
            .collect();

        Self { letters, citizens, documents, deliveries, jobs, events }
    }

    /// The letters as a read right after the commit would show them, in the order of
    /// `letters`: `citizen_ids` by CPR hash, as the citizens' upsert returned them, and the
    /// events' `seq`s by event id.
    pub(crate) fn created(
        self,
        citizen_ids: &HashMap<String, Uuid>,
        seqs: Vec<(Uuid, i64)>,
    ) -> Result<Vec<CreatedLetter>, sqlx::Error> {
        let events = with_seqs(self.events.into_iter().map(|(_, event)| event).collect(), seqs)?;
        self.letters
            .iter()
            .zip(events)
            .map(|((l, _), event)| {
                let citizen_id = *citizen_ids
                    .get(&l.cpr_hash)
                    .ok_or_else(|| sqlx::Error::Protocol("a citizen row was not returned".into()))?;
                Ok(created_letter(l, citizen_id, event))
            })
            .collect()
    }
}

/// `records` with the `seq`s their statements returned (by event id).
pub(crate) fn with_seqs(records: Vec<EventRecord>, seqs: Vec<(Uuid, i64)>) -> Result<Vec<EventRecord>, sqlx::Error> {
    let seqs: HashMap<Uuid, i64> = seqs.into_iter().collect();
    records
        .into_iter()
        .map(|mut record| {
            record.seq =
                *seqs.get(&record.id).ok_or_else(|| sqlx::Error::Protocol("an event's seq was not returned".into()))?;
            Ok(record)
        })
        .collect()
}

/// A new event's record, with a new id; its `seq` comes when it is written.
pub(crate) fn event_record(letter_id: Uuid, kind: EventKind, data: serde_json::Value, now: i64) -> EventRecord {
    EventRecord {
        seq: 0,
        id: Uuid::now_v7(),
        letter_id,
        kind: kind.as_str().to_owned(),
        data: sqlx::types::Json(data),
        created_at: now,
    }
}

fn created_letter(l: &NewLetter, citizen_id: Uuid, event: EventRecord) -> CreatedLetter {
    let mut deliveries: Vec<DeliveryRecord> = std::iter::once((l.channel, l.delivery_id, "letter"))
        .chain(l.notices.iter().map(|n| (n.channel, n.delivery_id, "notice")))
        .map(|(channel, id, purpose)| DeliveryRecord {
            id,
            letter_id: l.id,
            channel,
            purpose: purpose.to_owned(),
            helper: None,
            status: DeliveryStatus::Queued,
            transport: None,
            provider_ref: None,
            attempts: 0,
            last_error: None,
            created_at: l.now,
            updated_at: l.now,
        })
        .collect();
    // as `deliveries()` reads them
    deliveries.sort_by_key(|d| d.id);
    CreatedLetter {
        letter: LetterRecord {
            id: l.id,
            authority_id: l.authority_id,
            citizen_id,
            recipient: l.recipient.clone(),
            subject: l.subject.clone(),
            body: l.body.clone(),
            importance: l.importance,
            category: l.category.clone(),
            respond_by: l.respond_by.clone(),
            deadline: l.respond_by.clone(),
            reference: l.reference.clone(),
            contact: l.contact.clone(),
            status: LetterStatus::Accepted,
            created_at: l.now,
            updated_at: l.now,
            content_deleted_at: None,
            bulk: l.bulk.is_some(),
        },
        documents: l
            .documents
            .iter()
            .enumerate()
            .map(|(position, d)| DocumentMeta {
                id: d.id,
                position: position as i64,
                filename: d.filename.clone(),
                media_type: d.media_type.clone(),
                size: d.content.len() as i64,
                sha256: d.sha256.clone(),
            })
            .collect(),
        deliveries,
        timeline: vec![event],
    }
}
