//! # deskhand (the application)
//!
//! Wires the adapters around the use cases and runs them: configuration ([`settings`]),
//! logs, traces and metrics ([`telemetry`]), the engine choice ([`engine`]), the
//! consumers' handlers ([`triage`] for inbound emails, [`review_intake`] for drafts), and
//! the process itself ([`application`]: worker, review service, relays and the HTTP
//! server under one cancellation token).
//!
//! **The rule this crate keeps: settings, telemetry and wiring only.** The use cases are
//! `deskhand-service`'s; the handlers here decode at the edge, call them and map their
//! errors for the consumer. The `deskhand` binary (`src/main.rs`) only parses the command
//! line and calls in here, so tests start the real application in-process.

pub mod application;
pub mod dry_run;
pub mod engine;
pub mod http_guard;
pub mod knowledge;
pub mod review_intake;
pub mod settings;
pub mod telemetry;
pub mod triage;

pub use application::{Application, Roles};
pub use settings::Settings;
