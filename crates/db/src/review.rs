//! The review side's persistence: reviewers and sessions, the queue materialised from the
//! approval topic, decisions in one transaction each, outgoing email, and the audit log.
//!
//! Rules (who may decide, which actions run, what is sent) live in
//! `deskhand_core::review`; this module only stores what the caller decided, atomically.

use crate::{Error, OutboxMessage, Result, Store};
use deskhand_core::memory::{CaseMemory, MemorySettings};
use deskhand_core::review::{Correction, DecisionKind, ReviewStatus, Role};
use deskhand_core::{Draft, SourcePosition, Urgency};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A person who reviews drafts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reviewer {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

/// A draft as it arrived on the approval topic, ready to be queued.
#[derive(Debug, Clone)]
pub struct QueuedDraft<'a> {
    pub draft: &'a Draft,
    pub email_received_at: OffsetDateTime,
    pub search_text: String,
    /// The draft event exactly as received.
    pub event: &'a serde_json::Value,
    pub source: &'a SourcePosition,
    /// The W3C `traceparent` the draft message carried, if any.
    pub trace_parent: Option<String>,
}

/// Filters of the queue listing; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub status: Option<ReviewStatus>,
    pub topic: Option<String>,
    pub urgency: Option<String>,
    pub route: Option<String>,
    /// Case-insensitive words searched in subject, sender, summary and reply.
    pub query: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// One line of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub draft_id: Uuid,
    pub case_id: String,
    pub customer_id: i64,
    pub status: ReviewStatus,
    pub version: i32,
    pub topic: String,
    pub urgency: String,
    pub route: String,
    pub confidence: f64,
    /// ISO 639-1 code of the customer's language, when the engine could tell.
    pub language: Option<String>,
    /// `negative`, `neutral` or `positive`, when the engine could tell.
    pub sentiment: Option<String>,
    /// How frustrated the customer sounds, `0..=1`.
    pub frustration: Option<f64>,
    pub subject: Option<String>,
    pub from: Option<String>,
    pub summary: String,
    pub action_count: i64,
    pub action_cents: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub email_received_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub drafted_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    /// `sending` or `sent` once an approval's reply is with the SMTP relay.
    pub delivery: Option<String>,
}

/// A page of the queue with the counts by status (over the other filters).
#[derive(Debug, Clone, Serialize)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    pub total: i64,
    pub counts: BTreeMap<String, i64>,
}

/// A decision as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionRecord {
    pub decision_id: i64,
    pub draft_id: Uuid,
    pub kind: String,
    pub reviewer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    pub edited: Option<bool>,
    pub reason: Option<String>,
    pub action_ids: Vec<String>,
}

/// An earlier draft of the same case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDraft {
    pub draft_id: Uuid,
    pub status: ReviewStatus,
    pub summary: String,
    pub topic: String,
    #[serde(with = "time::serde::rfc3339")]
    pub email_received_at: OffsetDateTime,
}

/// Everything the draft view shows.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewDetail {
    #[serde(flatten)]
    pub item: QueueItem,
    /// The draft event as received (email, classification, evidence, actions, trace).
    pub draft: serde_json::Value,
    pub memory: CaseMemory,
    pub case_drafts: Vec<CaseDraft>,
    pub decisions: Vec<DecisionRecord>,
    pub outgoing: Option<OutgoingState>,
}

/// Where the approved reply is.
#[derive(Debug, Clone, Serialize)]
pub struct OutgoingState {
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
}

/// A decision being made: the draft's row is locked until it is recorded or dropped.
#[derive(Debug)]
pub struct PendingDecision {
    tx: Transaction<'static, Postgres>,
    pub draft_id: Uuid,
    pub status: ReviewStatus,
    pub version: i32,
    pub case_id: String,
    pub customer_id: i64,
    pub draft: serde_json::Value,
    /// The `traceparent` of the span that made the draft, when it was traced.
    pub trace_parent: Option<String>,
    email_received_at: OffsetDateTime,
    drafted_at: OffsetDateTime,
}

/// What the caller found when it asked to decide.
#[derive(Debug)]
pub enum DecisionStart {
    /// No draft with this id.
    NotFound,
    /// This idempotency key already decided (this draft): its stored response.
    Replay {
        draft_id: Uuid,
        response: serde_json::Value,
    },
    /// The row is locked; decide.
    Open(Box<PendingDecision>),
}

/// An action the approval runs, already checked against the policy.
#[derive(Debug, Clone)]
pub enum ActionToRun {
    Refund {
        action_id: String,
        delivery_id: i64,
        amount_cents: i64,
        reason: String,
    },
    Coupon {
        action_id: String,
        delivery_id: i64,
        code: String,
        kind: String,
        issued_on: Date,
        expires_on: Date,
    },
}

/// What an action did, for the decision event and the response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActionResult {
    RefundDeliveryFee {
        action_id: String,
        refund_id: i64,
        delivery_id: i64,
        amount_cents: i64,
    },
    IssueCoupon {
        action_id: String,
        coupon_id: i64,
        delivery_id: i64,
        code: String,
        /// `YYYY-MM-DD`.
        expires_on: String,
    },
}

/// Why an action could not run; the whole approval is rolled back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionRefused {
    #[error("delivery {0} is not this customer's")]
    NotCustomersDelivery(i64),
    #[error("refunding {amount} cents would exceed the fee of delivery {delivery_id}; it was already refunded")]
    OverRefund { delivery_id: i64, amount: i64 },
    #[error("delivery {0} already has a coupon")]
    CouponExists(i64),
}

/// An approval to record.
#[derive(Debug)]
pub struct Approval<'a> {
    pub reviewer: &'a Reviewer,
    pub idempotency_key: Option<&'a str>,
    pub request: serde_json::Value,
    pub reply_body: &'a str,
    pub edited: bool,
    pub actions: Vec<ActionToRun>,
    /// The line the case memory keeps about the reply.
    pub memory_line: String,
    pub memory_settings: &'a MemorySettings,
    /// The email for the SMTP relay (JSON of `OutgoingEmail`).
    pub outgoing: serde_json::Value,
    /// The reviewer's correction of the topic or urgency, if any.
    pub correction: Correction,
}

/// A rejection or escalation to record.
#[derive(Debug)]
pub struct Verdict<'a> {
    pub reviewer: &'a Reviewer,
    pub kind: DecisionKind,
    pub idempotency_key: Option<&'a str>,
    pub request: serde_json::Value,
    pub reason: &'a str,
    /// The reviewer's correction of the topic or urgency, if any.
    pub correction: Correction,
}

/// What the caller makes of a recorded decision, stored in the same transaction: the
/// response (replayed for a repeated idempotency key) and the decision event.
#[derive(Debug)]
pub struct Outcome {
    pub response: serde_json::Value,
    pub event: OutboxMessage,
}

/// What a recorded decision returns.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub decision_id: i64,
    pub decided_at: OffsetDateTime,
    pub version: i32,
    pub actions: Vec<ActionResult>,
}

fn urgency_rank(urgency: &str) -> i16 {
    match urgency.parse::<Urgency>() {
        Ok(Urgency::Urgent) => 3,
        Ok(Urgency::High) => 2,
        Ok(Urgency::Medium) => 1,
        _ => 0,
    }
}

fn parse_status(raw: &str) -> Result<ReviewStatus> {
    raw.parse()
        .map_err(|e: String| Error::Corrupt(format!("review status: {e}")))
}

const ITEM_COLUMNS: &str = "r.draft_id, r.case_id, r.customer_id, r.status, r.version, r.topic,
    r.urgency, r.route, r.confidence, r.draft->'classification'->>'language' AS language,
    r.draft->'classification'->'tone'->>'sentiment' AS sentiment,
    (r.draft->'classification'->'tone'->>'frustration')::float8 AS frustration,
    r.draft->'email'->>'subject' AS subject,
    r.draft->'email'->>'from' AS sender, r.draft->>'summary' AS summary,
    jsonb_array_length(r.draft->'proposed_actions')::bigint AS action_count,
    coalesce((SELECT sum((a->'params'->>'amount_cents')::bigint)
              FROM jsonb_array_elements(r.draft->'proposed_actions') a
              WHERE a->'params' ? 'amount_cents'), 0)::bigint AS action_cents,
    r.email_received_at, r.drafted_at, r.decided_at, o.status AS delivery";

fn item_from_row(row: &PgRow) -> Result<QueueItem> {
    let status: String = row.try_get("status")?;
    Ok(QueueItem {
        draft_id: row.try_get("draft_id")?,
        case_id: row.try_get("case_id")?,
        customer_id: row.try_get("customer_id")?,
        status: parse_status(&status)?,
        version: row.try_get("version")?,
        topic: row.try_get("topic")?,
        urgency: row.try_get("urgency")?,
        route: row.try_get("route")?,
        confidence: row.try_get("confidence")?,
        language: row.try_get("language")?,
        sentiment: row.try_get("sentiment")?,
        frustration: row.try_get("frustration")?,
        subject: row.try_get("subject")?,
        from: row.try_get("sender")?,
        summary: row
            .try_get::<Option<String>, _>("summary")?
            .unwrap_or_default(),
        action_count: row.try_get("action_count")?,
        action_cents: row.try_get("action_cents")?,
        email_received_at: row.try_get("email_received_at")?,
        drafted_at: row.try_get("drafted_at")?,
        decided_at: row.try_get("decided_at")?,
        delivery: row.try_get("delivery")?,
    })
}

impl Store {
    /// Adds a reviewer whose API token hashes to `token_hash`.
    pub async fn add_reviewer(&self, name: &str, role: Role, token_hash: &[u8]) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO reviewers (name, role, token_hash) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING RETURNING reviewer_id",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        id.ok_or(Error::Conflict("reviewer name (already taken)"))
    }

    /// The active reviewer holding the token that hashes to `token_hash`.
    pub async fn reviewer_by_token(&self, token_hash: &[u8]) -> Result<Option<Reviewer>> {
        let row = sqlx::query(
            "SELECT reviewer_id, name, role FROM reviewers
             WHERE token_hash = $1 AND disabled_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| reviewer_from_row(&r)).transpose()
    }

    /// Opens a browser session for `reviewer`.
    pub async fn create_session(
        &self,
        session_hash: &[u8],
        reviewer_id: i64,
        csrf_token: &str,
        expires_at: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO review_sessions (session_hash, reviewer_id, csrf_token, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(session_hash)
        .bind(reviewer_id)
        .bind(csrf_token)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The reviewer and CSRF token of a live session.
    pub async fn session(&self, session_hash: &[u8]) -> Result<Option<(Reviewer, String)>> {
        let row = sqlx::query(
            "SELECT r.reviewer_id, r.name, r.role, s.csrf_token
             FROM review_sessions s JOIN reviewers r USING (reviewer_id)
             WHERE s.session_hash = $1 AND s.expires_at > now() AND r.disabled_at IS NULL",
        )
        .bind(session_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((reviewer_from_row(&r)?, r.try_get("csrf_token")?)))
            .transpose()
    }

    pub async fn end_session(&self, session_hash: &[u8]) -> Result<()> {
        sqlx::query("DELETE FROM review_sessions WHERE session_hash = $1 OR expires_at < now()")
            .bind(session_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Queues a draft for review; `false` when it was already queued (a redelivery).
    pub async fn queue_draft(&self, queued: QueuedDraft<'_>) -> Result<bool> {
        let draft = queued.draft;
        let urgency = draft.classification.urgency.as_str();
        let inserted = sqlx::query(
            "INSERT INTO reviews (draft_id, event_id, case_id, customer_id, topic, urgency,
                 urgency_rank, route, confidence, email_received_at, drafted_at, search_text,
                 draft, source_topic, source_partition, source_offset, trace_parent)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             ON CONFLICT (draft_id) DO NOTHING",
        )
        .bind(draft.draft_id.as_uuid())
        .bind(draft.event_id.as_str())
        .bind(draft.case_id.as_str())
        .bind(draft.customer_id.get())
        .bind(draft.classification.topic.as_str())
        .bind(urgency)
        .bind(urgency_rank(urgency))
        .bind(draft.route.as_str())
        .bind(draft.classification.confidence.get())
        .bind(queued.email_received_at)
        .bind(draft.created_at)
        .bind(&queued.search_text)
        .bind(queued.event)
        .bind(&queued.source.topic)
        .bind(queued.source.partition)
        .bind(queued.source.offset)
        .bind(queued.trace_parent.as_deref())
        .execute(self.pool())
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// The queue: most urgent first, oldest first within an urgency.
    pub async fn list_queue(&self, filter: &QueueFilter) -> Result<QueuePage> {
        // The filters other than status, shared by the page and the counts.
        const WHERE_OTHERS: &str = "($1::text IS NULL OR r.topic = $1)
             AND ($2::text IS NULL OR r.urgency = $2)
             AND ($3::text IS NULL OR r.route = $3)
             AND ($4::text IS NULL OR r.search_text ILIKE '%' || $4 || '%')";
        let query = filter.query.as_deref().map(|q| {
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        });
        let status = filter.status.map(ReviewStatus::as_str);
        let sql = format!(
            "SELECT {ITEM_COLUMNS}, count(*) OVER () AS total
             FROM reviews r LEFT JOIN outgoing_emails o USING (draft_id)
             WHERE {WHERE_OTHERS} AND ($5::text IS NULL OR r.status = $5)
             ORDER BY r.urgency_rank DESC, r.email_received_at, r.draft_id
             LIMIT $6 OFFSET $7"
        );
        let rows = sqlx::query(&sql)
            .bind(&filter.topic)
            .bind(&filter.urgency)
            .bind(&filter.route)
            .bind(&query)
            .bind(status)
            .bind(filter.limit)
            .bind(filter.offset)
            .fetch_all(self.pool())
            .await?;
        let total = match rows.first() {
            Some(row) => row.try_get("total")?,
            None => {
                self.count_matching(WHERE_OTHERS, filter, &query, status)
                    .await?
            }
        };
        let items = rows.iter().map(item_from_row).collect::<Result<_>>()?;
        let count_rows = sqlx::query(&format!(
            "SELECT r.status, count(*) AS n FROM reviews r WHERE {WHERE_OTHERS} GROUP BY r.status"
        ))
        .bind(&filter.topic)
        .bind(&filter.urgency)
        .bind(&filter.route)
        .bind(&query)
        .fetch_all(self.pool())
        .await?;
        let mut counts: BTreeMap<String, i64> = ReviewStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect();
        for row in count_rows {
            counts.insert(row.try_get("status")?, row.try_get("n")?);
        }
        Ok(QueuePage {
            items,
            total,
            counts,
        })
    }

    async fn count_matching(
        &self,
        where_others: &str,
        filter: &QueueFilter,
        query: &Option<String>,
        status: Option<&str>,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT count(*) FROM reviews r WHERE {where_others}
             AND ($5::text IS NULL OR r.status = $5)"
        ))
        .bind(&filter.topic)
        .bind(&filter.urgency)
        .bind(&filter.route)
        .bind(query)
        .bind(status)
        .fetch_one(self.pool())
        .await?)
    }

    /// The draft view's data: the draft, its case's memory, drafts and decisions.
    pub async fn review_detail(&self, draft_id: Uuid) -> Result<Option<ReviewDetail>> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS}, r.draft FROM reviews r
             LEFT JOIN outgoing_emails o USING (draft_id) WHERE r.draft_id = $1"
        ))
        .bind(draft_id)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let item = item_from_row(&row)?;
        let draft: serde_json::Value = row.try_get("draft")?;

        // Memory is customer data under row-level security: read it in the customer's scope.
        let mut conn = self.pool().begin().await?;
        sqlx::query("SELECT set_config('deskhand.customer_id', $1, true)")
            .bind(item.customer_id.to_string())
            .execute(&mut *conn)
            .await?;
        let memory = crate::memory::load_memory(&mut conn, &item.case_id, item.customer_id).await?;
        let case_rows = sqlx::query(
            "SELECT draft_id, status, draft->>'summary' AS summary, topic, email_received_at
             FROM reviews WHERE case_id = $1 AND customer_id = $2 AND draft_id <> $3
             ORDER BY email_received_at, queued_at",
        )
        .bind(&item.case_id)
        .bind(item.customer_id)
        .bind(draft_id)
        .fetch_all(&mut *conn)
        .await?;
        let case_drafts = case_rows
            .iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                Ok(CaseDraft {
                    draft_id: r.try_get("draft_id")?,
                    status: parse_status(&status)?,
                    summary: r
                        .try_get::<Option<String>, _>("summary")?
                        .unwrap_or_default(),
                    topic: r.try_get("topic")?,
                    email_received_at: r.try_get("email_received_at")?,
                })
            })
            .collect::<Result<_>>()?;
        let decision_rows = sqlx::query(
            "SELECT d.decision_id, d.draft_id, d.kind, v.name, d.decided_at, d.edited, d.reason,
                    d.action_ids
             FROM decisions d JOIN reviewers v USING (reviewer_id)
             JOIN reviews r USING (draft_id)
             WHERE r.case_id = $1 AND r.customer_id = $2 ORDER BY d.decision_id",
        )
        .bind(&item.case_id)
        .bind(item.customer_id)
        .fetch_all(&mut *conn)
        .await?;
        let decisions = decision_rows
            .iter()
            .map(|r| {
                Ok(DecisionRecord {
                    decision_id: r.try_get("decision_id")?,
                    draft_id: r.try_get("draft_id")?,
                    kind: r.try_get("kind")?,
                    reviewer: r.try_get("name")?,
                    decided_at: r.try_get("decided_at")?,
                    edited: r.try_get("edited")?,
                    reason: r.try_get("reason")?,
                    action_ids: r.try_get("action_ids")?,
                })
            })
            .collect::<Result<_>>()?;
        let outgoing = sqlx::query(
            "SELECT status, attempts, last_error, sent_at FROM outgoing_emails WHERE draft_id = $1",
        )
        .bind(draft_id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| {
            Ok::<_, Error>(OutgoingState {
                status: r.try_get("status")?,
                attempts: r.try_get("attempts")?,
                last_error: r.try_get("last_error")?,
                sent_at: r.try_get("sent_at")?,
            })
        })
        .transpose()?;
        Ok(Some(ReviewDetail {
            item,
            draft,
            memory,
            case_drafts,
            decisions,
            outgoing,
        }))
    }

    /// Starts a decision on `draft_id`: replays an idempotency key already used, or locks
    /// the draft's row for the caller to decide.
    pub async fn begin_decision(
        &self,
        draft_id: Uuid,
        idempotency_key: Option<&str>,
    ) -> Result<DecisionStart> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query(
            "SELECT status, version, case_id, customer_id, draft, trace_parent,
                 email_received_at, drafted_at
             FROM reviews WHERE draft_id = $1 FOR UPDATE",
        )
        .bind(draft_id)
        .fetch_optional(&mut *tx)
        .await?;
        // Checked after the lock: a concurrent request with the same key has committed by
        // now, so its answer is found instead of a conflict.
        if let Some(key) = idempotency_key {
            let replay =
                sqlx::query("SELECT draft_id, response FROM decisions WHERE idempotency_key = $1")
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(replay) = replay {
                return Ok(DecisionStart::Replay {
                    draft_id: replay.try_get("draft_id")?,
                    response: replay.try_get("response")?,
                });
            }
        }
        let Some(row) = row else {
            return Ok(DecisionStart::NotFound);
        };
        let status: String = row.try_get("status")?;
        Ok(DecisionStart::Open(Box::new(PendingDecision {
            tx,
            draft_id,
            status: parse_status(&status)?,
            version: row.try_get("version")?,
            case_id: row.try_get("case_id")?,
            customer_id: row.try_get("customer_id")?,
            draft: row.try_get("draft")?,
            trace_parent: row.try_get("trace_parent")?,
            email_received_at: row.try_get("email_received_at")?,
            drafted_at: row.try_get("drafted_at")?,
        })))
    }

    /// Records a view of customer data or a decision in the audit log.
    pub async fn audit(
        &self,
        reviewer_id: Option<i64>,
        action: &str,
        draft_id: Option<Uuid>,
        customer_id: Option<i64>,
        detail: serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (reviewer_id, action, draft_id, customer_id, detail)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(reviewer_id)
        .bind(action)
        .bind(draft_id)
        .bind(customer_id)
        .bind(detail)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The audit log, newest first; `before` pages backwards by id.
    pub async fn audit_log(&self, limit: i64, before: Option<i64>) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT a.audit_id, a.at, v.name, a.action, a.draft_id, a.customer_id, a.detail
             FROM audit_log a LEFT JOIN reviewers v USING (reviewer_id)
             WHERE ($2::bigint IS NULL OR a.audit_id < $2)
             ORDER BY a.audit_id DESC LIMIT $1",
        )
        .bind(limit)
        .bind(before)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("audit_id")?,
                    at: r.try_get("at")?,
                    reviewer: r.try_get("name")?,
                    action: r.try_get("action")?,
                    draft_id: r.try_get("draft_id")?,
                    customer_id: r.try_get("customer_id")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub reviewer: Option<String>,
    pub action: String,
    pub draft_id: Option<Uuid>,
    pub customer_id: Option<i64>,
    pub detail: serde_json::Value,
}

fn reviewer_from_row(row: &PgRow) -> Result<Reviewer> {
    let role: String = row.try_get("role")?;
    Ok(Reviewer {
        id: row.try_get("reviewer_id")?,
        name: row.try_get("name")?,
        role: role
            .parse()
            .map_err(|e: String| Error::Corrupt(format!("reviewer role: {e}")))?,
    })
}

impl PendingDecision {
    /// True when a newer customer email reached the case after this draft was made:
    /// the draft answers a conversation that has moved on.
    pub async fn is_stale(&mut self) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (
                 SELECT 1 FROM emails e
                 WHERE e.case_id = $1 AND e.customer_id = $2
                   AND e.received_at > $3 AND e.ingested_at > $4)
             OR EXISTS (
                 SELECT 1 FROM reviews o
                 WHERE o.case_id = $1 AND o.customer_id = $2 AND o.draft_id <> $5
                   AND o.email_received_at > $3 AND o.queued_at > $4)",
        )
        .bind(&self.case_id)
        .bind(self.customer_id)
        .bind(self.email_received_at)
        .bind(self.drafted_at)
        .bind(self.draft_id)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// Takes the stale draft out of the queue and asks the worker for a fresh one.
    pub async fn mark_stale(mut self, redraft: Option<&OutboxMessage>) -> Result<i32> {
        let version: i32 = sqlx::query_scalar(
            "UPDATE reviews SET status = 'stale', version = version + 1, decided_at = now()
             WHERE draft_id = $1 RETURNING version",
        )
        .bind(self.draft_id)
        .fetch_one(&mut *self.tx)
        .await?;
        if let Some(message) = redraft {
            message.insert(&mut self.tx).await?;
        }
        self.tx.commit().await?;
        Ok(version)
    }

    /// Runs the approval: actions, case memory, outgoing email, decision event, decision.
    /// All or nothing; an action the data refuses rolls everything back.
    pub async fn approve(
        mut self,
        approval: Approval<'_>,
        outcome: impl FnOnce(&Recorded) -> Outcome,
    ) -> Result<std::result::Result<serde_json::Value, ActionRefused>> {
        // The customer's rows only: the same scope the worker reads with.
        sqlx::query("SELECT set_config('deskhand.customer_id', $1, true)")
            .bind(self.customer_id.to_string())
            .execute(&mut *self.tx)
            .await?;
        let mut results = Vec::with_capacity(approval.actions.len());
        for action in &approval.actions {
            match self.run_action(action).await? {
                Ok(result) => results.push(result),
                Err(refused) => {
                    self.tx.rollback().await?;
                    return Ok(Err(refused));
                }
            }
        }
        // Lock the memory row so the worker's optimistic write and ours serialise.
        sqlx::query("SELECT 1 FROM case_memory WHERE case_id = $1 AND customer_id = $2 FOR UPDATE")
            .bind(&self.case_id)
            .bind(self.customer_id)
            .execute(&mut *self.tx)
            .await?;
        let memory =
            crate::memory::load_memory(&mut self.tx, &self.case_id, self.customer_id).await?;
        let memory = memory.with_agent_reply(&approval.memory_line, approval.memory_settings);
        crate::memory::store_memory(&mut self.tx, &self.case_id, self.customer_id, &memory).await?;

        sqlx::query("INSERT INTO outgoing_emails (draft_id, message) VALUES ($1, $2)")
            .bind(self.draft_id)
            .bind(&approval.outgoing)
            .execute(&mut *self.tx)
            .await?;
        let action_ids: Vec<String> = approval
            .actions
            .iter()
            .map(|a| match a {
                ActionToRun::Refund { action_id, .. } | ActionToRun::Coupon { action_id, .. } => {
                    action_id.clone()
                }
            })
            .collect();
        let recorded = self
            .record(
                approval.reviewer,
                DecisionKind::Approve,
                ReviewStatus::Approved,
                approval.idempotency_key,
                &approval.request,
                Some(approval.edited),
                Some(approval.reply_body),
                &action_ids,
                None,
                approval.correction,
                results,
            )
            .await?;
        let response = self.finish(&recorded, outcome).await?;
        Ok(Ok(response))
    }

    /// Records a rejection or an escalation.
    pub async fn conclude(
        mut self,
        verdict: Verdict<'_>,
        outcome: impl FnOnce(&Recorded) -> Outcome,
    ) -> Result<serde_json::Value> {
        let status = match verdict.kind {
            DecisionKind::Escalate => ReviewStatus::Escalated,
            _ => ReviewStatus::Rejected,
        };
        let recorded = self
            .record(
                verdict.reviewer,
                verdict.kind,
                status,
                verdict.idempotency_key,
                &verdict.request,
                None,
                None,
                &[],
                Some(verdict.reason),
                verdict.correction,
                Vec::new(),
            )
            .await?;
        self.finish(&recorded, outcome).await
    }

    /// Stores the response a replay of the idempotency key gets, queues the decision
    /// event, and commits.
    async fn finish(
        mut self,
        recorded: &Recorded,
        outcome: impl FnOnce(&Recorded) -> Outcome,
    ) -> Result<serde_json::Value> {
        let Outcome { response, event } = outcome(recorded);
        sqlx::query("UPDATE decisions SET response = $2 WHERE decision_id = $1")
            .bind(recorded.decision_id)
            .bind(&response)
            .execute(&mut *self.tx)
            .await?;
        event.insert(&mut self.tx).await?;
        self.tx.commit().await?;
        Ok(response)
    }

    #[allow(clippy::too_many_arguments)]
    async fn record(
        &mut self,
        reviewer: &Reviewer,
        kind: DecisionKind,
        status: ReviewStatus,
        idempotency_key: Option<&str>,
        request: &serde_json::Value,
        edited: Option<bool>,
        reply_body: Option<&str>,
        action_ids: &[String],
        reason: Option<&str>,
        correction: Correction,
        actions: Vec<ActionResult>,
    ) -> Result<Recorded> {
        let row = sqlx::query(
            "UPDATE reviews SET status = $2, version = version + 1,
                 decided_at = CASE WHEN $2 = 'escalated' THEN decided_at ELSE now() END,
                 decided_by = $3
             WHERE draft_id = $1 RETURNING version, now() AS at",
        )
        .bind(self.draft_id)
        .bind(status.as_str())
        .bind(reviewer.id)
        .fetch_one(&mut *self.tx)
        .await?;
        let version: i32 = row.try_get("version")?;
        let decided_at: OffsetDateTime = row.try_get("at")?;
        let decision_id: i64 = sqlx::query_scalar(
            "INSERT INTO decisions (draft_id, reviewer_id, kind, idempotency_key, request,
                 response, edited, reply_body, action_ids, reason, corrected_topic,
                 corrected_urgency)
             VALUES ($1, $2, $3, $4, $5, '{}'::jsonb, $6, $7, $8, $9, $10, $11)
             RETURNING decision_id",
        )
        .bind(self.draft_id)
        .bind(reviewer.id)
        .bind(kind.as_str())
        .bind(idempotency_key)
        .bind(request)
        .bind(edited)
        .bind(reply_body)
        .bind(action_ids)
        .bind(reason)
        .bind(correction.topic.map(|t| t.as_str()))
        .bind(correction.urgency.map(|u| u.as_str()))
        .fetch_one(&mut *self.tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit_log (reviewer_id, action, draft_id, customer_id, detail)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(reviewer.id)
        .bind(kind.as_str())
        .bind(self.draft_id)
        .bind(self.customer_id)
        .bind(serde_json::json!({
            "decision_id": decision_id,
            "request": request,
            "correction": (!correction.is_empty()).then_some(correction),
        }))
        .execute(&mut *self.tx)
        .await?;
        Ok(Recorded {
            decision_id,
            decided_at,
            version,
            actions,
        })
    }

    async fn run_action(
        &mut self,
        action: &ActionToRun,
    ) -> Result<std::result::Result<ActionResult, ActionRefused>> {
        match action {
            ActionToRun::Refund {
                action_id,
                delivery_id,
                amount_cents,
                reason,
            } => {
                // Never more than the delivery's fee in total, whoever approved before.
                let row = sqlx::query(
                    "INSERT INTO refunds (customer_id, delivery_id, amount_cents, reason, draft_id)
                     SELECT d.customer_id, d.delivery_id, $3, $4, $5 FROM deliveries d
                     WHERE d.delivery_id = $2 AND d.customer_id = $1
                       AND d.fee_cents >= $3 + coalesce(
                           (SELECT sum(amount_cents) FROM refunds f
                            WHERE f.delivery_id = d.delivery_id), 0)
                     RETURNING refund_id",
                )
                .bind(self.customer_id)
                .bind(delivery_id)
                .bind(amount_cents)
                .bind(reason)
                .bind(self.draft_id)
                .fetch_optional(&mut *self.tx)
                .await?;
                match row {
                    Some(row) => Ok(Ok(ActionResult::RefundDeliveryFee {
                        action_id: action_id.clone(),
                        refund_id: row.try_get("refund_id")?,
                        delivery_id: *delivery_id,
                        amount_cents: *amount_cents,
                    })),
                    None => Ok(Err(self
                        .why_not(*delivery_id, || ActionRefused::OverRefund {
                            delivery_id: *delivery_id,
                            amount: *amount_cents,
                        })
                        .await?)),
                }
            }
            ActionToRun::Coupon {
                action_id,
                delivery_id,
                code,
                kind,
                issued_on,
                expires_on,
            } => {
                let row = sqlx::query(
                    "INSERT INTO coupons (customer_id, delivery_id, code, kind, issued_on,
                         expires_on, draft_id)
                     SELECT d.customer_id, d.delivery_id, $3, $4, $5, $6, $7 FROM deliveries d
                     WHERE d.delivery_id = $2 AND d.customer_id = $1
                       AND NOT EXISTS (SELECT 1 FROM coupons c WHERE c.delivery_id = d.delivery_id)
                     RETURNING coupon_id",
                )
                .bind(self.customer_id)
                .bind(delivery_id)
                .bind(code)
                .bind(kind)
                .bind(issued_on)
                .bind(expires_on)
                .bind(self.draft_id)
                .fetch_optional(&mut *self.tx)
                .await?;
                match row {
                    Some(row) => Ok(Ok(ActionResult::IssueCoupon {
                        action_id: action_id.clone(),
                        coupon_id: row.try_get("coupon_id")?,
                        delivery_id: *delivery_id,
                        code: code.clone(),
                        expires_on: expires_on.to_string(),
                    })),
                    None => Ok(Err(self
                        .why_not(*delivery_id, || ActionRefused::CouponExists(*delivery_id))
                        .await?)),
                }
            }
        }
    }

    /// Tells a delivery of another customer apart from the other refusals.
    async fn why_not(
        &mut self,
        delivery_id: i64,
        otherwise: impl FnOnce() -> ActionRefused,
    ) -> Result<ActionRefused> {
        let owned: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM deliveries WHERE delivery_id = $1 AND customer_id = $2)",
        )
        .bind(delivery_id)
        .bind(self.customer_id)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(if owned {
            otherwise()
        } else {
            ActionRefused::NotCustomersDelivery(delivery_id)
        })
    }
}
