//! Pure product rules: types, validation, routing. No I/O, no axum, no sqlx.

pub mod audit_chain;
pub mod calendar;
pub mod clock;
pub mod cpr;
pub mod cpr_seal;
pub mod event;
pub mod letter;
pub mod office_hours;
pub mod phone;
pub mod policy;
pub mod reading;
pub mod routing;
pub mod secret;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cpr::Cpr;
pub use event::EventKind;
pub use letter::{ChannelKind, DeliveryStatus, Importance, LetterStatus};
