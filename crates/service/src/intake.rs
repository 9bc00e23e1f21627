//! Queue a draft for review: every draft on the approval topic becomes a queue entry,
//! once (the draft id is the key), whoever produced it.

use deskhand_contracts::{DraftEmail, DraftEventError, StoredDraft};
use deskhand_core::{Draft, EmailAddress, SourcePosition};
use deskhand_db::{QueuedDraft, Store};

/// A draft read off the approval topic, with the event kept as received (the draft view
/// shows it whole).
#[derive(Debug)]
pub struct IncomingDraft {
    draft: Draft,
    email: Option<DraftEmail>,
    /// Where an approval will reply: parsed here, once, from the sender.
    reply_to: Option<EmailAddress>,
    event: serde_json::Value,
    email_received_at: time::OffsetDateTime,
    search_text: String,
}

impl IncomingDraft {
    /// Reads a draft event; what is not a valid draft is refused with the reason.
    pub fn parse(event: serde_json::Value) -> Result<Self, DraftEventError> {
        let StoredDraft { draft, email } = StoredDraft::from_json(&event)?;
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
        let reply_to = email
            .as_ref()
            .and_then(|e| EmailAddress::from_mailbox(&e.from));
        Ok(Self {
            reply_to,
            email_received_at: email.as_ref().map_or(draft.created_at, |e| e.received_at),
            search_text: search_text.join("\n"),
            draft,
            email,
            event,
        })
    }

    pub fn draft(&self) -> &Draft {
        &self.draft
    }
}

/// Queues drafts for review.
#[derive(Debug, Clone)]
pub struct Intake {
    store: Store,
}

impl Intake {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Queues `incoming`, read at `source`; `trace_parent` is the span that made it, for
    /// the decision to join. A redelivered draft is already queued and left alone.
    pub async fn queue(
        &self,
        incoming: &IncomingDraft,
        source: &SourcePosition,
        trace_parent: Option<String>,
    ) -> Result<(), deskhand_db::Error> {
        let email = incoming.email.as_ref();
        let queued = self
            .store
            .queue_draft(QueuedDraft {
                draft: &incoming.draft,
                email_received_at: incoming.email_received_at,
                sender: email.map(|e| e.from.as_str()),
                reply_to: incoming.reply_to.as_ref(),
                subject: email.and_then(|e| e.subject.as_deref()),
                email_text: email.map(|e| e.text.as_str()),
                search_text: incoming.search_text.clone(),
                event: &incoming.event,
                source,
                trace_parent,
            })
            .await?;
        let draft = &incoming.draft;
        if queued && incoming.reply_to.is_none() {
            tracing::warn!(draft_id = %draft.draft_id, "the draft's sender names no address to reply to; it can be rejected or escalated, not approved");
        }
        if queued {
            tracing::info!(draft_id = %draft.draft_id, case_id = %draft.case_id, "draft queued for review");
        } else {
            tracing::debug!(draft_id = %draft.draft_id, "draft already queued");
        }
        Ok(())
    }
}
