//! # deskhand (the application)
//!
//! Wires the adapters around the core and runs them: configuration ([`settings`]),
//! logging ([`telemetry`]), the use-case behind the consumer ([`triage`]), the outbox
//! relay ([`relay`]), the review queue's intake ([`review_intake`]) and the SMTP relay
//! ([`mail_relay`]), the process itself ([`application`]) and the demo ([`demo`]).
//!
//! The `deskhand` binary (`src/main.rs`) only parses the command line and calls in here,
//! so tests start the real application in-process.

pub mod application;
pub mod engine;
pub mod mail_relay;
pub mod relay;
pub mod review_intake;
pub mod settings;
pub mod telemetry;
pub mod triage;

pub use application::{Application, Roles};
pub use settings::Settings;
