//! Budbringer: a contact gateway that lets public authorities reach citizens — and see that
//! important letters were opened, escalating to another channel when they were not.

pub mod api;
pub mod app;
pub mod channels;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod i18n;
pub mod metrics;
pub mod store;
pub mod telemetry;
pub mod web;
