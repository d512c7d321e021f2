//! Inbound endpoints for the digital_post channel (filled in with its real transport).

use crate::app::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
}
