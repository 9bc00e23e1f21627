//! The draft event Deskhand publishes on the approval topic (key: case id).
//! See `docs/events.md` and `docs/schemas/deskhand.draft.proposed.schema.json`.

use base64::Engine as _;
use deskhand_core::{
    CaseId, Classification, CustomerId, Draft, DraftId, Escalation, EventId, InboundEmail,
    Observation, OriginalMessage, ProposedAction, Reply, Route, Trace,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The draft on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftEvent {
    pub draft_id: uuid::Uuid,
    pub event_id: String,
    pub case_id: String,
    pub customer_id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub classification: Classification,
    pub route: Route,
    pub reply: Option<Reply>,
    pub summary: String,
    pub observations: Vec<Observation>,
    pub proposed_actions: Vec<ProposedAction>,
    pub escalation: Option<Escalation>,
    pub engine: String,
    pub trace_id: String,
    /// The nodes the graph ran, their timings, and the model usage.
    #[serde(default)]
    pub trace: Trace,
    /// The customer's email, so a reviewer sees what was answered without a second
    /// source. Optional: a producer that has no email to attach may leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<DraftEmail>,
}

/// The email a draft answers, as the review side needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftEmail {
    pub from: String,
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    /// The customer's `Message-ID`, to thread the reply under.
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// What the agent read (quotes and signature removed).
    pub text: String,
    /// All the text of the message.
    pub full_text: String,
    /// The original as the CRM sent it: plain text ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_text: Option<String>,
    /// ... or base64 of the RFC 822 message (left out above [`MAX_ORIGINAL_RAW_BYTES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_raw: Option<String>,
}

/// Raw originals above this size are not copied into the draft event; the store keeps them.
pub const MAX_ORIGINAL_RAW_BYTES: usize = 256 * 1024;

/// Draft events stay under this size: below the 1 MB a Kafka broker accepts by default
/// (`message.max.bytes`), so a long email cannot make a draft the relay can never publish.
pub const MAX_DRAFT_EVENT_BYTES: usize = 900 * 1024;

/// What replaces the end of a text cut to fit.
pub const CUT_MARK: &str = "\n[… cut to fit the draft event; the whole email is in the store]";

impl From<&InboundEmail> for DraftEmail {
    fn from(email: &InboundEmail) -> Self {
        let (original_text, original_raw) = match &email.body.original {
            OriginalMessage::Text(text) => (Some(text.clone()), None),
            OriginalMessage::Raw(bytes) if bytes.len() <= MAX_ORIGINAL_RAW_BYTES => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            ),
            OriginalMessage::Raw(_) => (None, None),
        };
        Self {
            from: email.from.clone(),
            customer_name: email.customer_name.clone(),
            subject: email.subject.clone(),
            message_id: email.message_id.clone(),
            received_at: email.received_at,
            text: email.body.readable.clone(),
            full_text: email.body.full_text.clone(),
            original_text,
            original_raw,
        }
    }
}

impl DraftEvent {
    /// The event for `draft`, carrying the email it answers.
    pub fn with_email(mut self, email: &InboundEmail) -> Self {
        self.email = Some(DraftEmail::from(email));
        self
    }

    /// The event as JSON, made to fit `max_bytes` when written out: the email's copies of
    /// the original go first, then its subject, then the full text down to the length of
    /// the text the agent read, then both (each cut is marked). The draft itself (reply,
    /// evidence, actions) is never cut; `fits` says whether the event now fits.
    pub fn into_json_within(mut self, max_bytes: usize) -> Fitted {
        let size =
            |event: &DraftEvent| serde_json::to_vec(event).map_or(usize::MAX, |bytes| bytes.len());
        if size(&self) > max_bytes {
            if let Some(email) = self.email.as_mut() {
                email.original_raw = None;
                email.original_text = None;
                if let Some(subject) = email.subject.as_mut() {
                    if subject.len() > MAX_CUT_SUBJECT_BYTES {
                        let over = subject.len() - MAX_CUT_SUBJECT_BYTES;
                        cut(subject, over, SUBJECT_CUT_MARK);
                    }
                }
            }
        }
        // JSON escapes make a text longer written than held: cut, measure, cut again.
        for _ in 0..8 {
            let over = size(&self).saturating_sub(max_bytes);
            let Some(email) = self.email.as_mut().filter(|_| over > 0) else {
                break;
            };
            // The full text gives first, down to the length of the text read (what the
            // reviewer reads first stays whole while the quoted thread can give); then
            // both give half each.
            let spare = email.full_text.len().saturating_sub(email.text.len());
            let first = over.min(spare);
            let rest = over - first;
            let from_full = first + rest / 2;
            let from_text = rest - rest / 2;
            if from_full > 0 {
                cut(&mut email.full_text, from_full, CUT_MARK);
            }
            if from_text > 0 {
                cut(&mut email.text, from_text, CUT_MARK);
            }
        }
        let fits = size(&self) <= max_bytes;
        Fitted {
            json: serde_json::to_value(&self).expect("a draft event serialises"),
            fits,
        }
    }
}

/// A draft event as JSON, cut to a size if it had to be.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub json: serde_json::Value,
    /// False when the draft itself (reply, evidence) is larger than the limit: the relay
    /// will not get it through a broker with default limits.
    pub fits: bool,
}

/// A subject longer than this is cut when the event is over its size.
const MAX_CUT_SUBJECT_BYTES: usize = 1024;

/// What ends a subject cut to fit: a header stays on one line.
pub const SUBJECT_CUT_MARK: &str = " [… cut]";

/// Shortens `text` by at least `by` bytes (at a character boundary) and marks the cut
/// with `mark`. A text cut before keeps one mark.
fn cut(text: &mut String, by: usize, mark: &str) {
    if let Some(stripped) = text.strip_suffix(mark) {
        let kept = stripped.len();
        text.truncate(kept);
    }
    let mut keep = text.len().saturating_sub(by + mark.len());
    while !text.is_char_boundary(keep) {
        keep -= 1;
    }
    text.truncate(keep);
    text.push_str(mark);
}

impl From<&Draft> for DraftEvent {
    fn from(draft: &Draft) -> Self {
        Self {
            draft_id: draft.draft_id.as_uuid(),
            event_id: draft.event_id.to_string(),
            case_id: draft.case_id.to_string(),
            customer_id: draft.customer_id.get(),
            created_at: draft.created_at,
            classification: draft.classification.clone(),
            route: draft.route,
            reply: draft.reply.clone(),
            summary: draft.summary.clone(),
            observations: draft.observations.clone(),
            proposed_actions: draft.proposed_actions.clone(),
            escalation: draft.escalation.clone(),
            engine: draft.engine.clone(),
            trace_id: draft.trace_id.clone(),
            trace: draft.trace.clone(),
            email: None,
        }
    }
}

impl TryFrom<DraftEvent> for Draft {
    type Error = deskhand_core::IdError;
    fn try_from(event: DraftEvent) -> Result<Self, Self::Error> {
        Ok(Draft {
            draft_id: DraftId::from_uuid(event.draft_id),
            event_id: EventId::parse(&event.event_id)?,
            case_id: CaseId::parse(&event.case_id)?,
            customer_id: CustomerId::parse(event.customer_id)?,
            created_at: event.created_at,
            classification: event.classification,
            route: event.route,
            reply: event.reply,
            summary: event.summary,
            observations: event.observations,
            proposed_actions: event.proposed_actions,
            escalation: event.escalation,
            engine: event.engine,
            trace_id: event.trace_id,
            trace: event.trace,
        })
    }
}

/// Why a draft event could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DraftEventError {
    #[error("not a draft event: {0}")]
    Shape(#[source] serde_json::Error),
    #[error("invalid field: {0}")]
    Field(#[source] deskhand_core::IdError),
}

impl DraftEventError {
    /// A short, stable code for the dead-letter header.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Shape(_) => "invalid_draft",
            Self::Field(_) => "invalid_field",
        }
    }
}

/// A draft event read back into the domain once: the draft, and the email it answers when
/// the producer attached it. What the review side decides on.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDraft {
    pub draft: Draft,
    pub email: Option<DraftEmail>,
}

impl StoredDraft {
    /// Parses a draft event (as published, or as the review queue stored it), reading the
    /// JSON in place.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, DraftEventError> {
        let event = DraftEvent::deserialize(value).map_err(DraftEventError::Shape)?;
        Self::try_from(event)
    }
}

impl TryFrom<DraftEvent> for StoredDraft {
    type Error = DraftEventError;
    fn try_from(mut event: DraftEvent) -> Result<Self, DraftEventError> {
        let email = event.email.take();
        let draft = Draft::try_from(event).map_err(DraftEventError::Field)?;
        Ok(Self { draft, email })
    }
}
