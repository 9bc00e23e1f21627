//! The one transaction per email: email + case + draft + outbox message, or nothing.

use crate::{Error, OutboxMessage, Result, Store};
use deskhand_core::{
    CaseMemory, CustomerScope, Draft, EmailBody, EventId, InboundEmail, OriginalMessage,
    SourcePosition,
};
use sqlx::Row as _;

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

    /// The subject and body of `email`'s earlier email `event_id`, as recorded: a redraft
    /// request carries the copy from the draft event, which may have been cut to fit the
    /// topic. `None` unless that email belongs to the same customer and case.
    #[tracing::instrument(name = "db", skip_all, fields(otel.name = "db recorded_body", otel.kind = "client", db.system.name = "postgresql", db.operation.name = "recorded_body"))]
    pub async fn recorded_body(
        &self,
        email: &InboundEmail,
        event_id: &EventId,
    ) -> Result<Option<(Option<String>, EmailBody)>> {
        let mut tx = self
            .begin_scoped(CustomerScope::of(email), crate::shop::Access::Write)
            .await?;
        let row = sqlx::query(
            "SELECT subject, original_text, original_raw, full_text, readable_text FROM emails
             WHERE event_id = $1 AND customer_id = $2 AND case_id = $3",
        )
        .bind(event_id.as_str())
        .bind(email.customer_id.get())
        .bind(email.case_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let original_text: Option<String> = row.try_get("original_text")?;
        let original_raw: Option<Vec<u8>> = row.try_get("original_raw")?;
        let original = match (original_text, original_raw) {
            (Some(text), _) => OriginalMessage::Text(text),
            (None, Some(raw)) => OriginalMessage::Raw(raw),
            (None, None) => {
                return Err(Error::Corrupt(format!(
                    "email {event_id} has neither its text nor its raw original"
                )))
            }
        };
        Ok(Some((
            row.try_get("subject")?,
            EmailBody {
                original,
                full_text: row.try_get("full_text")?,
                readable: row.try_get("readable_text")?,
            },
        )))
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
        // Four round trips (begin, the email with everything it causes, the memory,
        // commit): this runs once per email, and at a thousand emails a second each
        // statement saved is a measurable share of the database's CPU.
        let mut tx = self
            .begin_scoped(CustomerScope::of(email), crate::shop::Access::Write)
            .await?;

        let (original_text, original_raw) = match &email.body.original {
            OriginalMessage::Text(text) => (Some(text.as_str()), None),
            OriginalMessage::Raw(bytes) => (None, Some(bytes.as_slice())),
        };
        // The email, and only when it is new (the count tells a redelivery apart): its
        // case, created on first sight and counted (the row lock serialises concurrent
        // emails of one case), its draft and the message the relay will publish. Every
        // part sees the email: foreign keys are checked at the end of the statement.
        let headers = serde_json::to_value(&outbox.headers).expect("a string map serialises");
        let inserted: i64 = sqlx::query_scalar(
            "WITH email AS (
                 INSERT INTO emails (event_id, case_id, customer_id, customer_name, sender,
                     subject, message_id, received_at, original_text, original_raw, full_text,
                     readable_text, source_topic, source_partition, source_offset)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                 ON CONFLICT (event_id) DO NOTHING
                 RETURNING event_id, case_id, customer_id, received_at),
             counted AS (
                 INSERT INTO cases (case_id, customer_id, first_email_at, last_email_at,
                     email_count)
                 SELECT case_id, customer_id, received_at, received_at, 1 FROM email
                 ON CONFLICT (case_id) DO UPDATE SET
                     email_count = cases.email_count + 1,
                     last_email_at = GREATEST(cases.last_email_at, EXCLUDED.last_email_at)),
             message AS (
                 INSERT INTO outbox (topic, message_key, payload, headers)
                 SELECT $29, $30, $31, $32 FROM email),
             draft AS (
                 INSERT INTO drafts (draft_id, event_id, case_id, customer_id, created_at, topic,
                     urgency, confidence, route, reply_subject, reply_body, summary,
                     escalation_reason, engine, trace_id, event, event_sha256)
                 SELECT $16, event_id, case_id, customer_id, $17, $18, $19, $20, $21, $22, $23,
                     $24, $25, $26, $27, $28, sha256($31)
                 FROM email)
             SELECT count(*) FROM email",
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
        .bind(draft.draft_id.as_uuid())
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
        .bind(&outbox.topic)
        .bind(&outbox.key)
        .bind(&outbox.payload)
        .bind(headers)
        .fetch_one(&mut *tx)
        .await?;
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(Recorded::Duplicate);
        }

        crate::memory::store_memory(
            &mut tx,
            email.case_id.as_str(),
            email.customer_id.get(),
            memory,
        )
        .await?;
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
