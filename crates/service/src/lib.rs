//! # deskhand-service
//!
//! The use cases, each in one place:
//! - [`triage`]: triage an email (run the graph, record the draft and its event).
//! - [`intake`]: queue a draft from the approval topic for review.
//! - [`decide`]: decide a draft (approve, reject, escalate).
//! - [`outbox`]: relay the outbox (publish what the store committed, in commit order).
//! - [`mail`]: relay mail (send approved replies, retrying while the server is away).
//! - [`reception`]: receive an email over HTTP (record it, publish it to the inbound
//!   topic, report how far it has come).
//! - [`precedents`]: reload the reviewed emails a model sees as classify examples.
//!
//! **The rule this crate keeps: use cases speak domain types and ports, never a
//! transport.** No HTTP, no Kafka client, no SMTP client: the broker and the mail server
//! are the ports `deskhand_core::ports::{EventPublisher, MailTransport}`, the event
//! contracts are `deskhand-contracts`, and the consumers (in `deskhand`) and the review
//! API's handlers (in `deskhand-review`) only parse, call these and map the answer. The
//! store is Postgres (`deskhand-db`), the one store Deskhand has.

pub mod decide;
pub mod intake;
pub mod mail;
pub mod metrics;
pub mod outbox;
pub mod precedents;
pub mod reception;
pub mod triage;

use std::sync::Arc;
use tokio::sync::Notify;

/// Wakes the relays when a use case committed something for them to send.
#[derive(Debug, Clone, Default)]
pub struct Wakeups {
    /// The outbox relay: drafts, decision events, redraft requests.
    pub outbox: Arc<Notify>,
    /// The mail relay: approved replies.
    pub mail: Arc<Notify>,
}
