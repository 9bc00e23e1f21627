//! The review service's consumer: every draft on the approval topic becomes a queue entry,
//! once (the draft id is the key), whoever produced it.

use deskhand_contracts::{DraftEmail, StoredDraft};
use deskhand_core::{Draft, SourcePosition};
use deskhand_db::{QueuedDraft, Store};
use deskhand_kafka::{EventHandler, HandlerError, Undecodable};

/// Materialises drafts into the review queue.
#[derive(Debug, Clone)]
pub struct ReviewIntake {
    store: Store,
}

impl ReviewIntake {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// A draft, validated, with the raw event kept as received.
#[derive(Debug)]
pub struct IncomingDraft {
    draft: Draft,
    email: Option<DraftEmail>,
    event: serde_json::Value,
    email_received_at: time::OffsetDateTime,
    search_text: String,
}

impl EventHandler for ReviewIntake {
    type Event = IncomingDraft;

    fn decode(&self, payload: &[u8]) -> Result<IncomingDraft, Undecodable> {
        let invalid = |code: &'static str| move |reason: String| Undecodable { code, reason };
        let event: serde_json::Value =
            serde_json::from_slice(payload).map_err(|e| invalid("invalid_json")(e.to_string()))?;
        let StoredDraft { draft, email } =
            StoredDraft::from_json(event.clone()).map_err(|e| Undecodable {
                code: e.code(),
                reason: e.to_string(),
            })?;
        let mut search_text = vec![draft.summary.clone()];
        if let Some(reply) = &draft.reply {
            search_text.push(reply.subject.clone());
            search_text.push(reply.body.clone());
        }
        if let Some(email) = &email {
            search_text.push(email.from.clone());
            search_text.extend(email.subject.clone());
            search_text.extend(email.customer_name.clone());
        }
        search_text.push(draft.case_id.to_string());
        Ok(IncomingDraft {
            email_received_at: email.as_ref().map_or(draft.created_at, |e| e.received_at),
            search_text: search_text.join("\n"),
            draft,
            email,
            event,
        })
    }

    fn describe(incoming: &IncomingDraft) -> String {
        incoming.draft.draft_id.to_string()
    }

    async fn handle(
        &self,
        incoming: &IncomingDraft,
        source: SourcePosition,
    ) -> Result<(), HandlerError> {
        let queued = self
            .store
            .queue_draft(QueuedDraft {
                draft: &incoming.draft,
                email_received_at: incoming.email_received_at,
                sender: incoming.email.as_ref().map(|e| e.from.as_str()),
                subject: incoming.email.as_ref().and_then(|e| e.subject.as_deref()),
                email_text: incoming.email.as_ref().map(|e| e.text.as_str()),
                search_text: incoming.search_text.clone(),
                event: &incoming.event,
                source: &source,
                // The consumer runs this handler in the context the message carried.
                trace_parent: deskhand_contracts::trace_context::current_traceparent(),
            })
            .await
            .map_err(|error| {
                if error.is_transient() {
                    HandlerError::Transient(error.to_string())
                } else {
                    HandlerError::Permanent(error.to_string())
                }
            })?;
        if queued {
            tracing::info!(draft_id = %incoming.draft.draft_id, case_id = %incoming.draft.case_id, "draft queued for review");
        } else {
            tracing::debug!(draft_id = %incoming.draft.draft_id, "draft already queued");
        }
        Ok(())
    }
}
