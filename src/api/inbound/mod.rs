//! What providers send back to Budbringer: delivery reports, status receipts, inbound
//! messages. Each channel's endpoints live in their own module under `/v1/inbound/…`;
//! they authenticate the provider, then record receipts through the store.

pub mod digital_post;
pub mod sms;

use crate::app::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().merge(sms::router()).merge(digital_post::router())
}
