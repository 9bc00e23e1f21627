//! The one transaction per email: email + case + draft + outbox message, or nothing.

use crate::{Error, OutboxMessage, Result, Store};
use deskhand_core::{
    CaseMemory, CustomerScope, Draft, EventId, InboundEmail, OriginalMessage, SourcePosition,
};

/// What [`Store::record_triage`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The email, its draft and the outbox message were committed.
    New,
    /// The event had been recorded before (a redelivery); nothing was written.
    Duplicate,
}

impl Store {
    /// True when this event already has its draft, so a redelivery can skip the graph.
    #[tracing::instrument(name = "db", skip_all, fields(otel.name = "db is_recorded", otel.kind = "client", db.system.name = "postgresql", db.operation.name = "is_recorded"))]
    pub async fn is_recorded(&self, event_id: &EventId) -> Result<bool> {
        let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM drafts WHERE event_id = $1")
            .bind(event_id.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(found.is_some())
    }

    /// Records a triaged email in one transaction: the email, its case, its draft, the
    /// case memory after it (checked against the version it was read at) and the message
    /// the relay will publish. A second call for the same event writes nothing,
    /// even when two workers race (the email's primary key decides who wins).
    #[tracing::instrument(name = "db", skip_all, fields(otel.name = "db record_triage", otel.kind = "client", db.system.name = "postgresql", db.operation.name = "record_triage"))]
    pub async fn record_triage(
        &self,
        email: &InboundEmail,
        source: &SourcePosition,
        draft: &Draft,
        draft_event: &serde_json::Value,
        memory: &CaseMemory,
        outbox: &OutboxMessage,
    ) -> Result<Recorded> {
        let mut tx = self.pool().begin().await?;
        crate::shop::set_scope(&mut tx, CustomerScope::of(email)).await?;

        // Serialises concurrent emails of one case and creates the case on first sight.
        sqlx::query(
            "INSERT INTO cases (case_id, customer_id, first_email_at, last_email_at, email_count)
             VALUES ($1, $2, $3, $3, 0)
             ON CONFLICT (case_id) DO NOTHING",
        )
        .bind(email.case_id.as_str())
        .bind(email.customer_id.get())
        .bind(email.received_at)
        .execute(&mut *tx)
        .await?;

        let (original_text, original_raw) = match &email.body.original {
            OriginalMessage::Text(text) => (Some(text.as_str()), None),
            OriginalMessage::Raw(bytes) => (None, Some(bytes.as_slice())),
        };
        let inserted = sqlx::query(
            "INSERT INTO emails (event_id, case_id, customer_id, customer_name, sender, subject,
                 message_id, received_at, original_text, original_raw, full_text, readable_text,
                 source_topic, source_partition, source_offset)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(email.event_id.as_str())
        .bind(email.case_id.as_str())
        .bind(email.customer_id.get())
        .bind(email.customer_name.as_deref())
        .bind(&email.from)
        .bind(email.subject.as_deref())
        .bind(email.message_id.as_deref())
        .bind(email.received_at)
        .bind(original_text)
        .bind(original_raw)
        .bind(&email.body.full_text)
        .bind(&email.body.readable)
        .bind(&source.topic)
        .bind(source.partition)
        .bind(source.offset)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(Recorded::Duplicate);
        }

        sqlx::query(
            "UPDATE cases SET email_count = email_count + 1,
                 last_email_at = GREATEST(last_email_at, $2)
             WHERE case_id = $1",
        )
        .bind(email.case_id.as_str())
        .bind(email.received_at)
        .execute(&mut *tx)
        .await?;

        sqlx::query(
            "INSERT INTO drafts (draft_id, event_id, case_id, customer_id, created_at, topic,
                 urgency, confidence, route, reply_subject, reply_body, summary,
                 escalation_reason, engine, trace_id, event)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(draft.draft_id.as_uuid())
        .bind(draft.event_id.as_str())
        .bind(draft.case_id.as_str())
        .bind(draft.customer_id.get())
        .bind(draft.created_at)
        .bind(draft.classification.topic.as_str())
        .bind(draft.classification.urgency.as_str())
        .bind(draft.classification.confidence.get())
        .bind(draft.route.as_str())
        .bind(draft.reply.as_ref().map(|r| r.subject.as_str()))
        .bind(draft.reply.as_ref().map(|r| r.body.as_str()))
        .bind(&draft.summary)
        .bind(draft.escalation.as_ref().map(|e| e.reason.as_str()))
        .bind(&draft.engine)
        .bind(&draft.trace_id)
        .bind(draft_event)
        .execute(&mut *tx)
        .await?;

        crate::memory::store_memory(
            &mut tx,
            email.case_id.as_str(),
            email.customer_id.get(),
            memory,
        )
        .await?;
        outbox.insert(&mut tx).await?;
        tx.commit().await?;
        Ok(Recorded::New)
    }

    /// How many drafts the store holds; used by tests and the eval harness.
    pub async fn count_drafts(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT count(*) FROM drafts")
            .fetch_one(self.pool())
            .await
            .map_err(Error::from)
    }
}
