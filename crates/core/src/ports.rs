//! What the graph needs from the outside world.
//!
//! - [`Cognition`]: the cognitive steps (classify, extract, compose), so the same graph
//!   runs on the deterministic offline engine or on a language model.
//! - [`ShopData`]: the store's data. Customer data is read only through a
//!   [`CustomerScope`]; the catalog is shared.
//! - [`EventPublisher`]: the way out for events the store committed (the outbox relay's).
//! - [`MailTransport`]: the way out for approved replies (the mail relay's).

use crate::delivery::{Cents, DeliveryFacts};
use crate::draft::{Language, Observation, Reply, Route, Tone, Topic, Urgency};
use crate::email::InboundEmail;
use crate::ids::CaseId;
use crate::memory::CaseMemory;
use crate::order::{OrderFacts, OrderStatus};
use crate::product::{ProductCandidate, ProductQuery};
use crate::scope::CustomerScope;
use crate::tracking::TrackingNumber;
use std::future::Future;
use time::Date;

/// Why a cognitive step failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CognitionError {
    /// The engine may succeed later (rate limits, timeouts, a 5xx), but the email's budget
    /// for retries is spent.
    #[error("engine temporarily unavailable: {0}")]
    Transient(String),
    /// Trying again will not help (a refusal, an answer outside the allowed labels twice).
    #[error("engine failed: {0}")]
    Permanent(String),
}

impl crate::Transience for CognitionError {
    fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// Why a data read failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// The store is unreachable; the whole email is retried later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The read failed for good; the email is escalated with the reason.
    #[error("store read failed: {0}")]
    Failed(String),
}

impl crate::Transience for DataError {
    fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
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
    /// How the customer sounds, when the engine can tell.
    pub tone: Option<Tone>,
    /// The language the customer wrote in.
    pub language: Option<Language>,
}

/// What the compose step may ground a reply in.
#[derive(Debug, Clone, Copy)]
pub struct ComposeInput<'a> {
    pub email: &'a InboundEmail,
    pub classified: &'a Classified,
    pub route: Route,
    /// The evidence, for the model and the reviewer.
    pub observations: &'a [Observation],
    /// Customer-facing sentences derived from the evidence, in the order to tell them.
    pub facts: &'a [String],
    /// What the reply must ask the customer for, if anything.
    pub ask_for: Option<&'a str>,
}

/// Token use of the calls a step made; zero for the offline engine.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub calls: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Self) {
        self.calls += other.calls;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.cost_usd += other.cost_usd;
    }
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

/// When the email's time for cognitive steps runs out. Engines that call out (a model)
/// stop retrying at the deadline; the graph then escalates instead of waiting longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(std::time::Instant);

impl Deadline {
    pub fn at(instant: std::time::Instant) -> Self {
        Self(instant)
    }
    pub fn after(budget: std::time::Duration) -> Self {
        Self(std::time::Instant::now() + budget)
    }
    /// Time left; zero once passed.
    pub fn remaining(&self) -> std::time::Duration {
        self.0.saturating_duration_since(std::time::Instant::now())
    }
}

/// A step's answer, or why it failed; both with what the calls cost (failed calls are
/// paid for too).
pub type CognitionResult<T> = Result<Metered<T>, Metered<CognitionError>>;

/// The cognitive steps of the graph.
pub trait Cognition: Send + Sync {
    /// Shown in the draft's `engine` field.
    fn engine_name(&self) -> String;

    /// Reads the email (with the case memory for context) and labels it.
    fn classify(
        &self,
        email: &InboundEmail,
        memory: &CaseMemory,
        deadline: Deadline,
    ) -> impl Future<Output = CognitionResult<Classified>> + Send;

    /// Pulls the product attributes out of a product question.
    fn extract_product_query(
        &self,
        email: &InboundEmail,
        deadline: Deadline,
    ) -> impl Future<Output = CognitionResult<ProductQuery>> + Send;

    /// Writes the reply, grounded only in the input.
    fn compose(
        &self,
        input: ComposeInput<'_>,
        deadline: Deadline,
    ) -> impl Future<Output = CognitionResult<Reply>> + Send;

    /// The deterministic template reply, used when a composed reply fails the guard.
    fn template_reply(&self, input: ComposeInput<'_>) -> Reply;
}

/// Which of the customer's deliveries to look up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryLookup {
    pub tracking: Vec<TrackingNumber>,
    pub orders: Vec<String>,
}

/// The customer's deliveries that match a lookup, plus their recent ones (for the
/// repeat-lateness rule).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryMatches {
    pub matched: Vec<DeliveryFacts>,
    pub recent: Vec<DeliveryFacts>,
}

/// An order, for a person reviewing an escalation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    pub order_number: String,
    pub placed_on: Date,
    pub total_cents: Cents,
    /// Cancelled orders are said so to the person taking over ("where is my refund for
    /// the order you cancelled?").
    pub status: OrderStatus,
}

/// A refund already credited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundSummary {
    pub tracking_number: String,
    pub amount_cents: Cents,
    pub credited_on: Date,
    pub reason: String,
}

/// The customer's recent business with the shop.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerActivity {
    pub orders: Vec<OrderSummary>,
    pub deliveries: Vec<DeliveryFacts>,
    pub refunds: Vec<RefundSummary>,
}

/// What the graph recalls before it reads an email: the case's memory and where the
/// customer is known to write from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recalled {
    pub memory: CaseMemory,
    /// The customer's address on file, if the shop has one.
    pub address_on_file: Option<String>,
}

/// The store's data, as the graph may read it.
pub trait ShopData: Send + Sync {
    /// The memory of one case of this customer's, and the customer's address on file.
    fn recall(
        &self,
        scope: CustomerScope,
        case_id: &CaseId,
    ) -> impl Future<Output = Result<Recalled, DataError>> + Send;

    /// This customer's deliveries matching the numbers, and those whose window ended on or
    /// after `recent_since`.
    fn deliveries(
        &self,
        scope: CustomerScope,
        lookup: &DeliveryLookup,
        recent_since: Date,
    ) -> impl Future<Output = Result<DeliveryMatches, DataError>> + Send;

    /// This customer's orders with these numbers, each with its deliveries; a number that
    /// is not this customer's order is simply absent.
    fn orders(
        &self,
        scope: CustomerScope,
        order_numbers: &[String],
    ) -> impl Future<Output = Result<Vec<OrderFacts>, DataError>> + Send;

    /// This customer's recent orders, deliveries and refunds (those named in the lookup
    /// first).
    fn activity(
        &self,
        scope: CustomerScope,
        lookup: &DeliveryLookup,
    ) -> impl Future<Output = Result<CustomerActivity, DataError>> + Send;

    /// Catalog rows matching the query's filters, at most `limit`.
    fn search_products(
        &self,
        query: &ProductQuery,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ProductCandidate>, DataError>> + Send;
}

/// Publishes one event: the broker, for the outbox relay. Resolves once the broker
/// acknowledged it.
pub trait EventPublisher: Send + Sync {
    type Error: crate::Transience + Send + Sync + 'static;

    fn publish(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        headers: &[(&str, &str)],
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Sends one approved reply: the SMTP server, for the mail relay. Resolves once the
/// server accepted it.
pub trait MailTransport: Send + Sync {
    type Error: crate::Transience + Send + Sync + 'static;

    fn send(
        &self,
        email: &crate::review::OutgoingEmail,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}
