//! A delivery to render, for the channels' unit tests and `benches/print_render.rs`.

use uuid::Uuid;

use crate::domain::letter::{ContactPoint, PostalAddress};
use crate::domain::{ChannelKind, DeliveryStatus, Importance, LetterStatus};
use crate::store::*;

/// A letter to Jens in Aarhus on `channel`, with the citizen's phone and e-mail if given and a
/// postal address if `address`.
pub fn work(channel: ChannelKind, phone: Option<&str>, email: Option<&str>, address: bool) -> DeliveryWork {
    let id = Uuid::now_v7();
    DeliveryWork {
        letter: LetterRecord {
            id,
            authority_id: Uuid::nil(),
            citizen_id: Uuid::nil(),
            recipient: Recipient {
                cpr_masked: "010190-****".into(),
                name: Some("Jens".into()),
                address: address.then(|| PostalAddress {
                    co: None,
                    street: "Vestergade".into(),
                    house_number: "1".into(),
                    floor: None,
                    door: None,
                    postcode: "8000".into(),
                    town: "Aarhus C".into(),
                    country: None,
                }),
            },
            subject: "Boligstøtte".into(),
            body: "Tekst".into(),
            importance: Importance::Important,
            category: None,
            respond_by: None,
            deadline: None,
            reference: None,
            contact: ContactPoint { phone: Some("+45 70 10 10 10".into()), ..Default::default() },
            status: LetterStatus::Dispatched,
            created_at: 0,
            updated_at: 0,
            content_deleted_at: None,
            bulk: false,
        },
        citizen: CitizenContact {
            cpr: "0101901234".into(),
            phone: phone.map(Into::into),
            email: email.map(Into::into),
            language: None,
            large_print: false,
            exempt_from_digital_post: false,
        },
        authority: Authority {
            id: Uuid::nil(),
            name: "Aarhus Kommune".into(),
            cvr: "55133018".into(),
            created_at: 0,
            office_hours: None,
            closing_days: sqlx::types::Json(Vec::new()),
            time_zone: None,
        },
        delivery: DeliveryRecord {
            id: Uuid::now_v7(),
            letter_id: id,
            channel,
            purpose: "letter".into(),
            helper: None,
            status: DeliveryStatus::Sending,
            transport: None,
            provider_ref: None,
            attempts: 1,
            last_error: None,
            created_at: 0,
            updated_at: 0,
        },
        documents: vec![],
        for_helper: None,
    }
}
