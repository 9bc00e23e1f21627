//! # deskhand-core
//!
//! The pure heart of Deskhand: what an inbound customer email *is*, what a draft reply
//! *is*, the policies, and the triage graph that turns one into the other.
//!
//! This crate performs no I/O and must not depend on tokio, sqlx, rdkafka or any other
//! adapter. Everything that talks to the outside world is reached through the traits in
//! [`ports`], implemented by the adapter crates (`deskhand-db`, `deskhand-offline`,
//! `deskhand-llm`, ...). That keeps the graph runnable from unit tests and from the
//! evaluation harness without a broker or a database.
//!
//! # Layout
//! - [`error`]: [`Transience`], whether a failure is worth retrying.
//! - [`ids`]: newtypes for the identifiers that cross the system (event, case, customer, draft).
//! - [`email`]: the inbound email after it was parsed at the edge.
//! - [`draft`]: the draft and everything it carries.
//! - [`scope`]: the customer scope every customer-data read must carry.
//! - [`action`]: the actions a draft proposes and an approval runs (refund, coupon,
//!   cancellation, address change).
//! - [`address`]: delivery addresses, and a customer's request to change one.
//! - [`delivery`]: deliveries and the late-delivery policy (refund, coupon).
//! - [`tracking`]: tracking and order numbers found in text.
//! - [`product`]: product questions, catalog candidates and their ranking.
//! - [`knowledge`]: the shop's policy pages as passages, and retrieval over them.
//! - [`memory`]: bounded case memory.
//! - [`precedent`]: past labelled emails, masked, as examples for a model.
//! - [`grounding`]: the guard that checks a composed reply against its evidence.
//! - [`ports`]: the traits the graph needs (cognitive engine, store data).
//! - [`graph`]: the triage graph.
//! - [`review`]: the rules of human review (roles, limits, what an approval sends, SLAs).

pub mod action;
pub mod address;
pub mod delivery;
pub mod draft;
pub mod email;
pub mod error;
pub mod graph;
pub mod grounding;
pub mod ids;
pub mod knowledge;
pub mod memory;
pub mod order;
pub mod ports;
pub mod precedent;
pub mod product;
pub mod review;
pub mod scope;
pub mod sender;
pub mod tracking;

pub use action::{
    Action, ActionId, AddressChange, CouponGrant, CouponKind, DeliveryFeeRefund, OrderCancellation,
    ProposedAction, ReturnStart,
};
pub use draft::{
    Classification, Confidence, Draft, Escalation, EscalationKind, Language, NodeRun, Observation,
    Reply, Route, Sentiment, Tone, Topic, Trace, Urgency,
};
pub use email::{EmailAddress, EmailBody, InboundEmail, OriginalMessage, SourcePosition};
pub use error::Transience;
pub use graph::{GraphError, GraphSettings, RunContext, Triage, TriageGraph};
pub use ids::{CaseId, CustomerId, DraftId, EventId, IdError};
pub use knowledge::KnowledgeSettings;
pub use memory::CaseMemory;
pub use scope::CustomerScope;
