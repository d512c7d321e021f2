//! Inbound endpoints for the sms channel (filled in with its real transport).

use crate::app::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
}
