//! The authority REST API (v1), its OpenAPI document and reference page, and health checks.

pub mod alerts;
pub mod bulk;
pub mod callbacks;
pub mod citizens;
pub mod error;
pub mod events;
pub mod extract;
pub mod health;
pub mod inbound;
pub mod letters;
pub mod model;
pub mod openapi;
pub mod policies;
pub mod query;
pub mod ratelimit;
pub mod reading;
pub mod settings;
pub mod webhooks;
