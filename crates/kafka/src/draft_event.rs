//! The draft event Deskhand publishes on the approval topic (key: case id).
//! See `docs/events.md` and `docs/schemas/deskhand.draft.proposed.schema.json`.

use deskhand_core::{
    CaseId, Classification, CustomerId, Draft, DraftId, Escalation, EventId, Observation,
    ProposedAction, Reply, Route, Trace,
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
