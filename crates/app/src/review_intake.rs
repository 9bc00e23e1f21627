//! The approval topic's handler: reads each draft event at the edge and hands it to the
//! intake use case (`deskhand_service::intake`), which queues it for review.

use deskhand_core::SourcePosition;
use deskhand_kafka::{EventHandler, HandlerError, Undecodable};
use deskhand_service::intake::{IncomingDraft, Intake};

/// Materialises drafts into the review queue.
#[derive(Debug, Clone)]
pub struct ReviewIntake {
    intake: Intake,
}

impl ReviewIntake {
    pub fn new(intake: Intake) -> Self {
        Self { intake }
    }
}

impl EventHandler for ReviewIntake {
    type Event = IncomingDraft;

    fn decode(&self, payload: &[u8]) -> Result<IncomingDraft, Undecodable> {
        let event: serde_json::Value =
            serde_json::from_slice(payload).map_err(|e| Undecodable {
                code: "invalid_json",
                reason: e.to_string(),
            })?;
        IncomingDraft::parse(event, payload).map_err(|e| Undecodable {
            code: e.code(),
            reason: e.to_string(),
        })
    }

    fn describe(incoming: &IncomingDraft) -> String {
        incoming.draft().draft_id.to_string()
    }

    async fn handle(
        &self,
        incoming: &IncomingDraft,
        source: SourcePosition,
    ) -> Result<(), HandlerError> {
        // The consumer runs this handler in the context the message carried.
        let trace_parent = deskhand_contracts::trace_context::current_traceparent();
        self.intake
            .queue(incoming, &source, trace_parent)
            .await
            .map_err(|error| {
                let code = error.code();
                HandlerError::from(error).with_code(code)
            })
    }
}
