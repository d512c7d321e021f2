//! The one integration-test binary: the real router on 127.0.0.1:0 (in-process) and the real
//! `budbringer` binary (for crashes, restarts and several processes), on SQLite and, when
//! `TEST_DATABASE_URL` names a server, on PostgreSQL.

mod browser;
mod harness;
mod peers;

mod api_errors;
mod api_letters;
mod audit;
mod authz_matrix;
mod callbacks;
mod channel_digital_post;
mod channel_email;
mod channel_print;
mod channel_print_sftp;
mod channel_sms;
mod citizens;
mod cli;
mod database_tls;
mod disk_full;
mod escalation;
mod escalation_channels;
mod escalation_commits;
mod escalation_properties;
mod events_and_webhooks;
mod hostile_input;
mod intake_precedence;
mod privacy;
mod processes;
mod reading;
mod report_rollups;
mod retention;
mod schemathesis;
mod store_behaviour;
mod telemetry;
mod upgrade;
mod web_citizen;
mod web_citizen_browser;
mod web_oidc;
mod web_staff;
mod web_staff_browser;
mod webhook_rotation;
