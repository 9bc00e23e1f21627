//! Queue a draft for review: a draft on the approval topic becomes a queue entry, once
//! (the draft id is the key), when the worker's store recorded exactly that draft.
//!
//! The topic is not a source of truth: whoever can produce to it could otherwise queue a
//! draft whose approval moves money, to an address of their choosing. A draft the store
//! does not know, or knows with other content, is refused, counted
//! (`deskhand_review_drafts_refused_total`), audited and dead-lettered with the reason.

use crate::metrics::names;
use deskhand_contracts::{DraftEmail, DraftEventError, StoredDraft};
use deskhand_core::review::ReviewStatus;
use deskhand_core::{
    Draft, DraftId, EmailAddress, EscalationKind, Route, SourcePosition, Transience,
};
use deskhand_db::{Provenance, QueuedDraft, Store};
use serde_json::json;

/// A draft read off the approval topic, with the event kept as received (the draft view
/// shows it whole).
#[derive(Debug)]
pub struct IncomingDraft {
    draft: Draft,
    email: Option<DraftEmail>,
    /// Where an approval will reply: parsed here, once, from the sender.
    reply_to: Option<EmailAddress>,
    event: serde_json::Value,
    /// SHA-256 of the event's bytes as received, checked against the worker's record.
    payload_sha256: Vec<u8>,
    email_received_at: time::OffsetDateTime,
    search_text: String,
}

impl IncomingDraft {
    /// Reads a draft event (`event`, parsed from `payload`); what is not a valid draft is
    /// refused with the reason.
    pub fn parse(event: serde_json::Value, payload: &[u8]) -> Result<Self, DraftEventError> {
        use sha2::{Digest, Sha256};
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
            payload_sha256: Sha256::digest(payload).to_vec(),
            draft,
            email,
            event,
        })
    }

    pub fn draft(&self) -> &Draft {
        &self.draft
    }
}

/// Why a draft from the approval topic was not queued.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The worker never recorded this draft, or recorded other content: permanent.
    #[error("draft {draft_id} refused: {}", provenance_reason(*.provenance))]
    Refused {
        draft_id: DraftId,
        provenance: Provenance,
    },
    #[error(transparent)]
    Store(#[from] deskhand_db::Error),
}

impl IntakeError {
    /// Short and stable, for the dead-letter header.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused { provenance, .. } => provenance.as_str(),
            Self::Store(_) => "store_failed",
        }
    }
}

impl Transience for IntakeError {
    fn is_transient(&self) -> bool {
        match self {
            Self::Refused { .. } => false,
            Self::Store(error) => error.is_transient(),
        }
    }
}

fn provenance_reason(provenance: Provenance) -> &'static str {
    match provenance {
        Provenance::Recorded => "recorded",
        Provenance::Unknown => "the worker never recorded a draft with this id",
        Provenance::Altered => "its content differs from the draft the worker recorded",
        Provenance::Unverifiable => {
            "the worker recorded it before drafts carried a digest, and its own copy is unreadable"
        }
    }
}

/// Queues drafts for review.
#[derive(Debug, Clone)]
pub struct Intake {
    store: Store,
    /// Whether drafts that need no reply are closed on arrival instead of queued.
    close_no_reply: bool,
}

impl Intake {
    /// Queues every draft, those that need no reply included.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            close_no_reply: false,
        }
    }

    /// Closes drafts that need no reply (route `no_reply`) on arrival: audited, out of the
    /// queue and the SLA, reopenable.
    pub fn closing_no_reply(mut self, close: bool) -> Self {
        self.close_no_reply = close;
        self
    }

    /// Queues `incoming`, read at `source`; `trace_parent` is the span that made it, for
    /// the decision to join. A redelivered draft is already queued and left alone.
    pub async fn queue(
        &self,
        incoming: &IncomingDraft,
        source: &SourcePosition,
        trace_parent: Option<String>,
    ) -> Result<(), IntakeError> {
        let draft = &incoming.draft;
        let provenance = self
            .store
            .draft_provenance(draft.draft_id, &incoming.payload_sha256)
            .await?;
        let stored;
        let incoming = match provenance {
            Provenance::Recorded => incoming,
            // Recorded before drafts carried a digest (an upgrade, a rolling deploy): the
            // worker's own copy is queued, whatever the topic carried.
            Provenance::Unverifiable => {
                let refused = || IntakeError::Refused {
                    draft_id: draft.draft_id,
                    provenance,
                };
                let event = self
                    .store
                    .recorded_draft_event(draft.draft_id)
                    .await?
                    .ok_or_else(refused)?;
                stored = IncomingDraft::parse(event, &[]).map_err(|_| refused())?;
                &stored
            }
            Provenance::Unknown | Provenance::Altered => {
                return Err(self.refuse(draft, provenance, source).await);
            }
        };
        self.queue_recorded(incoming, source, trace_parent).await
    }

    /// Refuses a draft the worker did not record: logged, audited, counted.
    async fn refuse(
        &self,
        draft: &Draft,
        provenance: Provenance,
        source: &SourcePosition,
    ) -> IntakeError {
        tracing::error!(
            draft_id = %draft.draft_id, reason = provenance.as_str(),
            topic = %source.topic, partition = source.partition, offset = source.offset,
            "a draft on the approval topic was not recorded by the worker; refused"
        );
        // The customer id is the forger's claim, kept as detail, not as the row's customer.
        let audited = self
            .store
            .audit(
                None,
                "draft_refused",
                Some(draft.draft_id),
                None,
                json!({
                    "reason": provenance.as_str(),
                    "claimed_customer_id": draft.customer_id.get(),
                    "source": {"topic": source.topic, "partition": source.partition, "offset": source.offset},
                }),
            )
            .await;
        if let Err(error) = audited {
            // Retried whole; counted once it is written.
            return IntakeError::Store(error);
        }
        metrics::counter!(names::DRAFTS_REFUSED, "reason" => provenance.as_str()).increment(1);
        IntakeError::Refused {
            draft_id: draft.draft_id,
            provenance,
        }
    }

    /// Where a draft starts: closed if it needs no reply (and closing is on), with the
    /// leads if the sender is not the customer and no reply was drafted for them, else
    /// pending.
    fn starting_status(&self, draft: &Draft) -> ReviewStatus {
        let kind = draft.escalation.as_ref().map(|e| e.kind);
        if self.close_no_reply && draft.route == Route::NoReply {
            ReviewStatus::Closed
        } else if kind == Some(EscalationKind::SenderMismatch) {
            ReviewStatus::Escalated
        } else {
            ReviewStatus::Pending
        }
    }

    /// Queues a draft whose content the worker recorded.
    async fn queue_recorded(
        &self,
        incoming: &IncomingDraft,
        source: &SourcePosition,
        trace_parent: Option<String>,
    ) -> Result<(), IntakeError> {
        let draft = &incoming.draft;
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
                status: self.starting_status(draft),
            })
            .await?;
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
