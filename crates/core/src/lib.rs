//! # deskhand-core
//!
//! The pure heart of Deskhand: what an inbound customer email *is*, what a draft reply
//! *is*, and the triage graph that turns one into the other.
//!
//! This crate performs no I/O and must not depend on tokio, sqlx, rdkafka or any other
//! adapter. Everything that talks to the outside world is reached through the traits in
//! [`ports`], implemented by the adapter crates (`deskhand-db`, `deskhand-kafka`,
//! `deskhand-offline`, ...). That keeps the graph runnable from unit tests and from the
//! evaluation harness without a broker or a database.
//!
//! # Layout
//! - [`ids`]: newtypes for the identifiers that cross the system (event, case, customer, draft).
//! - [`email`]: the inbound email after it was parsed at the edge.
//! - [`draft`]: the draft and everything it carries (classification, route, reply,
//!   observations, proposed actions, escalation, trace).
//! - [`ports`]: the traits the graph needs from the outside (the cognitive engine).
//! - [`graph`]: the triage graph, a sequence of named nodes over one email.

pub mod draft;
pub mod email;
pub mod graph;
pub mod ids;
pub mod ports;

pub use draft::{
    Classification, Confidence, Draft, Escalation, NodeRun, Observation, ProposedAction, Reply,
    Route, Topic, Trace, Urgency,
};
pub use email::{EmailBody, InboundEmail, OriginalMessage, SourcePosition};
pub use graph::{GraphSettings, RunContext, TriageGraph};
pub use ids::{CaseId, CustomerId, DraftId, EventId, IdError};
