//! What the graph needs from the outside world.
//!
//! The cognitive steps (classify, compose) are behind [`Cognition`] so the same graph
//! runs on the deterministic offline engine or on a language model.

use crate::draft::{Observation, Reply, Topic, Urgency};
use crate::email::InboundEmail;
use std::future::Future;

/// Why a cognitive step failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CognitionError {
    /// The engine may succeed later (rate limits, timeouts, a 5xx).
    #[error("engine temporarily unavailable: {0}")]
    Transient(String),
    /// Trying again will not help (a refusal, an answer outside the allowed labels twice).
    #[error("engine failed: {0}")]
    Permanent(String),
}

impl CognitionError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// The classifier's full answer; the graph validates and routes on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    pub topic: Topic,
    pub urgency: Urgency,
    /// `0.0..=1.0`; below the configured threshold the email is escalated.
    pub confidence: f64,
    pub needs_reply: bool,
    pub multiple_requests: bool,
    /// One line on what the customer wants.
    pub summary: String,
    /// Why the urgency is `urgent`, when it is (threat, injury, chargeback, ...).
    pub urgent_reason: Option<String>,
}

/// What the compose step may ground a reply in.
#[derive(Debug, Clone, Copy)]
pub struct ComposeInput<'a> {
    pub email: &'a InboundEmail,
    pub classified: &'a Classified,
    pub observations: &'a [Observation],
}

/// Token use of the calls a step made; zero for the offline engine.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub calls: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
}

/// A step's answer together with what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Metered<T> {
    pub value: T,
    pub usage: Usage,
}

impl<T> Metered<T> {
    /// An answer that cost nothing (deterministic code).
    pub fn free(value: T) -> Self {
        Self {
            value,
            usage: Usage::default(),
        }
    }
}

/// The cognitive steps of the graph.
pub trait Cognition: Send + Sync {
    /// Shown in the draft's `engine` field.
    fn engine_name(&self) -> String;

    /// Reads the email and labels it.
    fn classify(
        &self,
        email: &InboundEmail,
    ) -> impl Future<Output = Result<Metered<Classified>, CognitionError>> + Send;

    /// Writes the reply, grounded only in the observations.
    fn compose(
        &self,
        input: ComposeInput<'_>,
    ) -> impl Future<Output = Result<Metered<Reply>, CognitionError>> + Send;
}
