//! The `deskhand.draft.decided` event: one per reviewer decision, published through the
//! review side's outbox once the decision committed (key: the case id). See
//! `docs/events.md` and `docs/schemas/deskhand.draft.decided.schema.json`.

use deskhand_core::review::{ActionResult, DecisionKind, Role};
use deskhand_core::Draft;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A decision on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionEvent {
    pub decision_id: i64,
    pub draft_id: uuid::Uuid,
    pub event_id: String,
    pub case_id: String,
    pub customer_id: i64,
    pub decision: DecisionKind,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    pub reviewer: DecisionReviewer,
    pub draft_version: i32,
    pub trace_id: String,
    /// Whether the reviewer edited the reply; `null` unless approved.
    pub edited: Option<bool>,
    /// The reply that is being sent; `null` unless approved.
    pub reply: Option<SentReply>,
    /// What the approved actions did; empty unless approved.
    pub actions: Vec<ActionResult>,
    /// The reviewer's reason (reject) or note (escalate); `null` for an approval.
    pub reason: Option<String>,
}

/// Who decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionReviewer {
    pub name: String,
    pub role: Role,
}

/// The reply an approval sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentReply {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub message_id: String,
}

/// What the decision was, with what only that kind carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Approved {
        edited: bool,
        reply: SentReply,
        actions: Vec<ActionResult>,
    },
    Rejected {
        reason: String,
    },
    Escalated {
        note: String,
    },
}

/// The recorded facts of a decision the event reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub decision_id: i64,
    pub decided_at: OffsetDateTime,
    pub draft_version: i32,
}

impl DecisionEvent {
    /// The event for a decision on `draft`.
    pub fn new(
        draft: &Draft,
        reviewer: DecisionReviewer,
        recorded: Recorded,
        verdict: Verdict,
    ) -> Self {
        let (decision, edited, reply, actions, reason) = match verdict {
            Verdict::Approved {
                edited,
                reply,
                actions,
            } => (
                DecisionKind::Approve,
                Some(edited),
                Some(reply),
                actions,
                None,
            ),
            Verdict::Rejected { reason } => {
                (DecisionKind::Reject, None, None, Vec::new(), Some(reason))
            }
            Verdict::Escalated { note } => {
                (DecisionKind::Escalate, None, None, Vec::new(), Some(note))
            }
        };
        Self {
            decision_id: recorded.decision_id,
            draft_id: draft.draft_id.as_uuid(),
            event_id: draft.event_id.to_string(),
            case_id: draft.case_id.to_string(),
            customer_id: draft.customer_id.get(),
            decision,
            decided_at: recorded.decided_at,
            reviewer,
            draft_version: recorded.draft_version,
            trace_id: draft.trace_id.clone(),
            edited,
            reply,
            actions,
            reason,
        }
    }

    /// The message value. Objects' keys come out sorted, as every event Deskhand
    /// publishes has them (each is written through `serde_json::Value`), so consumers that
    /// compare bytes see the same event as before this type existed.
    pub fn to_payload(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("a decision event serialises");
        serde_json::to_vec(&value).expect("a JSON value serialises")
    }
}
