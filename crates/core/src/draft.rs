//! The draft reply and everything a reviewer needs to approve it in seconds.

use crate::action::ProposedAction;
use crate::ids::{CaseId, CustomerId, DraftId, EventId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::OffsetDateTime;

/// Raised when a label is not one of the closed sets below.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {kind} (expected one of: {expected})")]
pub struct UnknownLabel {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static str,
}

macro_rules! label_enum {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl FromStr for $name {
            type Err = UnknownLabel;
            fn from_str(s: &str) -> Result<Self, UnknownLabel> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownLabel {
                        kind: $kind,
                        value: other.to_owned(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

label_enum!(
    /// What the email is about.
    Topic, "topic", {
        ProductAvailabilityOrRecommendation => "product_availability_or_recommendation",
        DeliveryDelay => "delivery_delay",
        TransactionInquiry => "transaction_inquiry",
        BillingDispute => "billing_dispute",
        Other => "other",
    }
);

label_enum!(
    /// How quickly a person should look at it.
    Urgency, "urgency", { Low => "low", Medium => "medium", High => "high", Urgent => "urgent" }
);

label_enum!(
    /// The customer's tone (not the topic's): "this is ridiculous" is negative, a polite
    /// question about a late parcel neutral.
    Sentiment, "sentiment", { Negative => "negative", Neutral => "neutral", Positive => "positive" }
);

label_enum!(
    /// Where the graph sent the email.
    Route, "route", {
        /// Product availability or recommendation: catalog and stock tools.
        Product => "product",
        /// A delivery question: tracking lookup and the late-delivery policy.
        Delivery => "delivery",
        /// A policy question: answered from the knowledge base's passages, cited.
        Answer => "answer",
        /// An order change (a cancellation): the order looked up, the action proposed for
        /// approval.
        Order => "order",
        /// A person must handle it; the draft carries the context gathered.
        Escalate => "escalate",
        /// Nothing to answer (thanks, spam, auto-replies).
        NoReply => "no_reply",
    }
);

/// An ISO 639-1 language code, lower case ("en", "de").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl Language {
    pub fn parse(raw: &str) -> Result<Self, UnknownLabel> {
        let code = raw.trim().to_ascii_lowercase();
        if code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(Self(code))
        } else {
            Err(UnknownLabel {
                kind: "language",
                value: raw.to_owned(),
                expected: "an ISO 639-1 code such as en, de, fr, es",
            })
        }
    }
    pub fn english() -> Self {
        Self("en".to_owned())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The language's English name, for reviewers; the code when it is not a common one.
    pub fn name(&self) -> &str {
        match self.0.as_str() {
            "en" => "English",
            "de" => "German",
            "fr" => "French",
            "es" => "Spanish",
            "it" => "Italian",
            "nl" => "Dutch",
            "pt" => "Portuguese",
            "pl" => "Polish",
            "sv" => "Swedish",
            "da" => "Danish",
            other => other,
        }
    }
}
impl TryFrom<String> for Language {
    type Error = UnknownLabel;
    fn try_from(raw: String) -> Result<Self, UnknownLabel> {
        Self::parse(&raw)
    }
}
impl From<Language> for String {
    fn from(language: Language) -> String {
        language.0
    }
}
impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the customer sounds: a sentiment and how frustrated they are (`0.0..=1.0`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tone {
    pub sentiment: Sentiment,
    pub frustration: Confidence,
}

/// A probability-like score in `0.0..=1.0`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Confidence(f64);

impl Confidence {
    pub fn parse(raw: f64) -> Result<Self, UnknownLabel> {
        if raw.is_finite() && (0.0..=1.0).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err(UnknownLabel {
                kind: "confidence",
                value: raw.to_string(),
                expected: "a number from 0 to 1",
            })
        }
    }
    pub fn get(self) -> f64 {
        self.0
    }
}
impl TryFrom<f64> for Confidence {
    type Error = UnknownLabel;
    fn try_from(raw: f64) -> Result<Self, UnknownLabel> {
        Self::parse(raw)
    }
}
impl From<Confidence> for f64 {
    fn from(c: Confidence) -> f64 {
        c.0
    }
}

/// The classifier's verdict on an email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub topic: Topic,
    pub urgency: Urgency,
    pub confidence: Confidence,
    /// How the customer sounds, when the engine can tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone: Option<Tone>,
    /// The language the customer wrote in, when it could be detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
}

/// The reply proposed to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub subject: String,
    pub body: String,
}

/// A piece of evidence a tool gathered: where it came from, a sentence a person can read,
/// and the structured data behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub source: String,
    pub text: String,
    #[serde(default)]
    pub data: serde_json::Value,
}

/// Why a person must take over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// The sentence a reviewer reads.
    pub reason: String,
    /// The same reason as a small fixed set, for dashboards and metrics labels.
    #[serde(default)]
    pub kind: EscalationKind,
}

impl Escalation {
    pub fn new(kind: EscalationKind, reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            kind,
        }
    }
}

/// The kinds of escalation (a contract: `docs/schemas/deskhand.draft.proposed.schema.json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationKind {
    /// Legal threats, chargebacks, safety: urgent by policy.
    Urgent,
    SeveralRequests,
    LowConfidence,
    /// The customer asked the same thing too many times in the case.
    Repeated,
    /// Too long to read automatically.
    TooLong,
    /// The classification step failed (model errors, budget exhausted, invalid labels).
    ClassificationFailed,
    /// The product flow found nothing it could stand behind.
    ProductLookupFailed,
    /// The reply could not be composed.
    ComposeFailed,
    /// Topics with no automatic flow (transactions, billing disputes, other requests).
    NeedsPerson,
    /// The draft could not be stored as made; a person gets the email without it.
    StorageFailed,
    /// Written in a language the engine does not reply in.
    Language,
    /// The sender is not the customer's address on file and `agent.sender_mismatch` is
    /// `refuse`: no reply was drafted, and only a lead may decide it.
    SenderMismatch,
    /// Set by a producer that predates kinds.
    #[default]
    Unspecified,
}

impl EscalationKind {
    pub const ALL: [EscalationKind; 13] = [
        Self::Urgent,
        Self::SeveralRequests,
        Self::LowConfidence,
        Self::Repeated,
        Self::TooLong,
        Self::ClassificationFailed,
        Self::ProductLookupFailed,
        Self::ComposeFailed,
        Self::NeedsPerson,
        Self::StorageFailed,
        Self::Language,
        Self::SenderMismatch,
        Self::Unspecified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::SeveralRequests => "several_requests",
            Self::LowConfidence => "low_confidence",
            Self::Repeated => "repeated",
            Self::TooLong => "too_long",
            Self::ClassificationFailed => "classification_failed",
            Self::ProductLookupFailed => "product_lookup_failed",
            Self::ComposeFailed => "compose_failed",
            Self::NeedsPerson => "needs_person",
            Self::StorageFailed => "storage_failed",
            Self::Language => "language",
            Self::SenderMismatch => "sender_mismatch",
            Self::Unspecified => "unspecified",
        }
    }
}

/// One node the graph ran, and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRun {
    pub node: String,
    pub duration_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How the draft was made: the nodes taken and what the model calls cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub nodes: Vec<NodeRun>,
    #[serde(default)]
    pub llm_calls: u32,
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub cost_usd: f64,
}

/// The graph's output for one email: everything the approval topic carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub draft_id: DraftId,
    pub event_id: EventId,
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    pub created_at: OffsetDateTime,
    pub classification: Classification,
    pub route: Route,
    /// `None` when nothing should be sent (no reply needed, or a person takes over).
    pub reply: Option<Reply>,
    /// One line on what the customer wrote; it is what the case memory keeps.
    pub summary: String,
    pub observations: Vec<Observation>,
    pub proposed_actions: Vec<ProposedAction>,
    pub escalation: Option<Escalation>,
    /// Which engine made the cognitive steps (`offline`, or the model's name).
    pub engine: String,
    pub trace: Trace,
    /// The distributed-trace id of the email's processing.
    pub trace_id: String,
}

impl Draft {
    /// The same email handed to a person: no reply, no actions, no evidence, and why.
    /// For when the draft as made cannot go on (it could not be stored).
    pub fn handed_over(mut self, escalation: Escalation) -> Self {
        self.route = Route::Escalate;
        self.reply = None;
        self.proposed_actions.clear();
        // The evidence goes, except the warning that the sender is not the customer.
        self.observations.retain(|o| o.source == "sender_check");
        self.escalation = Some(escalation);
        self
    }
}
