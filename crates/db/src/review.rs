//! The review side's persistence: reviewers and sessions, the queue materialised from the
//! approval topic, decisions in one transaction each, outgoing email, and the audit log.
//!
//! Rules (who may decide, which actions run, what is sent) live in
//! `deskhand_core::review`; this module only stores what the caller decided, atomically.

use crate::{Error, OutboxMessage, Result, Store};
use deskhand_core::delivery::Cents;
use deskhand_core::memory::{CaseMemory, MemorySettings};
use deskhand_core::review::money_moved;
use deskhand_core::review::{Correction, DecisionKind, ReviewStatus, Role};
use deskhand_core::{
    ActionId, CaseId, CustomerId, Draft, DraftId, EmailAddress, Language, Route, Sentiment,
    SourcePosition, Topic, Urgency,
};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

mod decision;
mod reopen;

pub use decision::{
    ActionRefused, ActionToRun, Approval, ApprovalOutcome, DecisionStart, IdempotencyKey, Outcome,
    PendingDecision, Recorded, Verdict,
};
pub use deskhand_core::review::ActionResult;
pub use reopen::Reopening;

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
    /// The email's sender, subject and the text the agent read, when the event carried it.
    pub sender: Option<&'a str>,
    /// The address an approval replies to, parsed from the sender.
    pub reply_to: Option<&'a EmailAddress>,
    pub subject: Option<&'a str>,
    pub email_text: Option<&'a str>,
    pub search_text: String,
    /// The draft event exactly as received.
    pub event: &'a serde_json::Value,
    pub source: &'a SourcePosition,
    /// The W3C `traceparent` the draft message carried, if any.
    pub trace_parent: Option<String>,
    /// Where it starts: `Pending`; `Closed` when it needs no reply (audited as closed on
    /// arrival); `Escalated` when only a lead may decide it.
    pub status: ReviewStatus,
}

/// Where a draft event on the approval topic came from, as the worker's store tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// The worker recorded this draft with exactly this content.
    Recorded,
    /// No draft with this id was ever recorded.
    Unknown,
    /// A draft with this id was recorded, with other content.
    Altered,
    /// A draft with this id was recorded before digests were kept (an upgrade): the bytes
    /// cannot be checked, so the store's own copy is what may be queued.
    Unverifiable,
}

impl Provenance {
    /// Short and stable, for metrics, the audit and the dead-letter reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Unknown => "unknown_draft",
            Self::Altered => "altered_draft",
            Self::Unverifiable => "unverifiable_draft",
        }
    }
}

/// A reviewer as an admin lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewerAccount {
    pub reviewer: Reviewer,
    pub created_at: OffsetDateTime,
    pub disabled_at: Option<OffsetDateTime>,
    /// Their newest line in the audit log (a sign-in, a view, a decision).
    pub last_seen: Option<OffsetDateTime>,
}

/// Ends `reviewer_id`'s browser sessions and audits why (an admin's command).
async fn end_sessions_of(
    tx: &mut Transaction<'_, Postgres>,
    reviewer_id: i64,
    action: &str,
    name: &str,
) -> Result<()> {
    let ended = sqlx::query("DELETE FROM review_sessions WHERE reviewer_id = $1")
        .bind(reviewer_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    sqlx::query(
        "INSERT INTO audit_log (reviewer_id, action, detail) VALUES (NULL, $1, $2)",
    )
    .bind(action)
    .bind(serde_json::json!({"reviewer": name, "reviewer_id": reviewer_id, "sessions_ended": ended, "by": "deskhand users"}))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Filters of the queue listing; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub status: Option<ReviewStatus>,
    pub topic: Option<Topic>,
    pub urgency: Option<Urgency>,
    pub route: Option<Route>,
    /// Case-insensitive words searched in subject, sender, summary and reply.
    pub query: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// One line of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub draft_id: DraftId,
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    pub status: ReviewStatus,
    pub version: i32,
    pub topic: Topic,
    pub urgency: Urgency,
    pub route: Route,
    pub confidence: f64,
    /// ISO 639-1 code of the customer's language, when the engine could tell.
    pub language: Option<Language>,
    /// `negative`, `neutral` or `positive`, when the engine could tell.
    pub sentiment: Option<Sentiment>,
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
    pub draft_id: DraftId,
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
    pub draft_id: DraftId,
    pub status: ReviewStatus,
    pub summary: String,
    pub topic: Topic,
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

fn urgency_rank(urgency: Urgency) -> i16 {
    match urgency {
        Urgency::Urgent => 3,
        Urgency::High => 2,
        Urgency::Medium => 1,
        Urgency::Low => 0,
    }
}

/// A label column read back into its domain type; a value the code never writes is
/// corruption, not a default.
fn label<T>(row: &PgRow, column: &'static str) -> Result<T>
where
    T: std::str::FromStr<Err = deskhand_core::draft::UnknownLabel>,
{
    let raw: String = row.try_get(column)?;
    raw.parse()
        .map_err(|e| Error::Corrupt(format!("review {column}: {e}")))
}

/// [`label`] for a column that may be empty.
fn optional_label<T>(row: &PgRow, column: &'static str) -> Result<Option<T>>
where
    T: TryFrom<String, Error = deskhand_core::draft::UnknownLabel>,
{
    let raw: Option<String> = row.try_get(column)?;
    raw.map(T::try_from)
        .transpose()
        .map_err(|e| Error::Corrupt(format!("review {column}: {e}")))
}

fn case_id(row: &PgRow) -> Result<CaseId> {
    let raw: String = row.try_get("case_id")?;
    CaseId::parse(&raw).map_err(|e| Error::Corrupt(format!("review case_id: {e}")))
}

fn customer_id(row: &PgRow) -> Result<CustomerId> {
    CustomerId::parse(row.try_get("customer_id")?)
        .map_err(|e| Error::Corrupt(format!("review customer_id: {e}")))
}

fn parse_status(raw: &str) -> Result<ReviewStatus> {
    raw.parse()
        .map_err(|e: String| Error::Corrupt(format!("review status: {e}")))
}

const ITEM_COLUMNS: &str = "r.draft_id, r.case_id, r.customer_id, r.status, r.version, r.topic,
    r.urgency, r.route, r.confidence, r.language, r.sentiment, r.frustration, r.subject,
    r.sender, r.summary, r.action_count::bigint AS action_count, r.action_cents,
    r.email_received_at, r.drafted_at, r.decided_at, o.status AS delivery";

fn item_from_row(row: &PgRow) -> Result<QueueItem> {
    let status: String = row.try_get("status")?;
    let sentiment: Option<String> = row.try_get("sentiment")?;
    Ok(QueueItem {
        draft_id: DraftId::from_uuid(row.try_get("draft_id")?),
        case_id: case_id(row)?,
        customer_id: customer_id(row)?,
        status: parse_status(&status)?,
        version: row.try_get("version")?,
        topic: label(row, "topic")?,
        urgency: label(row, "urgency")?,
        route: label(row, "route")?,
        confidence: row.try_get("confidence")?,
        language: optional_label(row, "language")?,
        sentiment: sentiment
            .map(|s| s.parse::<Sentiment>())
            .transpose()
            .map_err(|e| Error::Corrupt(format!("review sentiment: {e}")))?,
        frustration: row.try_get("frustration")?,
        subject: row.try_get("subject")?,
        from: row.try_get("sender")?,
        summary: row.try_get("summary")?,
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

    /// Every reviewer, active or not, by name.
    pub async fn reviewers(&self) -> Result<Vec<ReviewerAccount>> {
        let rows = sqlx::query(
            // One pass over the audit log for every reviewer, not one per reviewer (it
            // has no index by reviewer: this is the only reader that groups by them).
            "SELECT r.reviewer_id, r.name, r.role, r.created_at, r.disabled_at, a.last_seen
             FROM reviewers r
             LEFT JOIN (SELECT reviewer_id, max(at) AS last_seen FROM audit_log
                        GROUP BY reviewer_id) a USING (reviewer_id)
             ORDER BY r.name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReviewerAccount {
                    reviewer: reviewer_from_row(r)?,
                    created_at: r.try_get("created_at")?,
                    disabled_at: r.try_get("disabled_at")?,
                    last_seen: r.try_get("last_seen")?,
                })
            })
            .collect()
    }

    /// Disables the reviewer `name`: their token stops working and their browser sessions
    /// end, in one transaction with its audit line. `false` when no such active reviewer.
    pub async fn disable_reviewer(&self, name: &str) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE reviewers SET disabled_at = now()
             WHERE name = $1 AND disabled_at IS NULL RETURNING reviewer_id",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(false);
        };
        end_sessions_of(&mut tx, id, "reviewer_disabled", name).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces the token of the active reviewer `name` with the one hashing to
    /// `token_hash`; the old token and every session made from it stop working at once.
    /// `false` when no such active reviewer.
    pub async fn rotate_token(&self, name: &str, token_hash: &[u8]) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE reviewers SET token_hash = $2
             WHERE name = $1 AND disabled_at IS NULL RETURNING reviewer_id",
        )
        .bind(name)
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(false);
        };
        end_sessions_of(&mut tx, id, "token_rotated", name).await?;
        tx.commit().await?;
        Ok(true)
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

    /// Opens a browser session for the active reviewer holding the token that hashes to
    /// `token_hash`, and returns them; `None` (and no session) when no one holds it.
    ///
    /// One statement that locks the reviewer's row: a rotation or a disable running at
    /// the same moment either ends this session with the others or makes the old token
    /// find no one. Never a session made from a token that has just stopped working.
    pub async fn open_session(
        &self,
        token_hash: &[u8],
        session_hash: &[u8],
        csrf_token: &str,
        expires_at: OffsetDateTime,
    ) -> Result<Option<Reviewer>> {
        let row = sqlx::query(
            "WITH reviewer AS (
                 SELECT reviewer_id, name, role FROM reviewers
                 WHERE token_hash = $1 AND disabled_at IS NULL
                 FOR SHARE),
             session AS (
                 INSERT INTO review_sessions (session_hash, reviewer_id, csrf_token, expires_at)
                 SELECT $2, reviewer_id, $3, $4 FROM reviewer)
             SELECT reviewer_id, name, role FROM reviewer",
        )
        .bind(token_hash)
        .bind(session_hash)
        .bind(csrf_token)
        .bind(expires_at)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| reviewer_from_row(&r)).transpose()
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

    /// Whether a draft event whose bytes hash to `payload_sha256` is one the worker
    /// published, exactly as it published it. The approval topic is not trusted: anyone
    /// who can produce to it could otherwise queue a draft that moves money.
    pub async fn draft_provenance(
        &self,
        draft_id: DraftId,
        payload_sha256: &[u8],
    ) -> Result<Provenance> {
        let same: Option<Option<bool>> =
            sqlx::query_scalar("SELECT event_sha256 = $2 FROM drafts WHERE draft_id = $1")
                .bind(draft_id.as_uuid())
                .bind(payload_sha256)
                .fetch_optional(self.pool())
                .await?;
        Ok(match same {
            Some(Some(true)) => Provenance::Recorded,
            Some(Some(false)) => Provenance::Altered,
            Some(None) => Provenance::Unverifiable,
            None => Provenance::Unknown,
        })
    }

    /// The draft event the worker recorded for `draft_id`, as the store keeps it.
    pub async fn recorded_draft_event(
        &self,
        draft_id: DraftId,
    ) -> Result<Option<serde_json::Value>> {
        Ok(
            sqlx::query_scalar("SELECT event FROM drafts WHERE draft_id = $1")
                .bind(draft_id.as_uuid())
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Queues a draft for review; `false` when it was already queued (a redelivery).
    pub async fn queue_draft(&self, queued: QueuedDraft<'_>) -> Result<bool> {
        let draft = queued.draft;
        let urgency = draft.classification.urgency;
        let tone = draft.classification.tone;
        // A draft closed on arrival is audited in the same statement: a redelivery that
        // queues nothing audits nothing, and no close goes unaudited.
        let inserted: i64 = sqlx::query_scalar(
            "WITH queued AS (
                 INSERT INTO reviews (draft_id, event_id, case_id, customer_id, topic, urgency,
                     urgency_rank, route, confidence, email_received_at, drafted_at, search_text,
                     draft, source_topic, source_partition, source_offset, trace_parent,
                     language, sentiment, frustration, subject, sender, email_text, summary,
                     action_count, action_cents, reply_to, status)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                     $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27,
                     $28)
                 ON CONFLICT (draft_id) DO NOTHING
                 RETURNING draft_id, customer_id, route),
             audited AS (
                 INSERT INTO audit_log (reviewer_id, action, draft_id, customer_id, detail)
                 SELECT NULL, 'auto_closed', draft_id, customer_id,
                        jsonb_build_object('route', route,
                            'note', 'needs no reply; closed on arrival (review.no_reply)')
                 FROM queued WHERE $28 = 'closed')
             SELECT count(*) FROM queued",
        )
        .bind(draft.draft_id.as_uuid())
        .bind(draft.event_id.as_str())
        .bind(draft.case_id.as_str())
        .bind(draft.customer_id.get())
        .bind(draft.classification.topic.as_str())
        .bind(urgency.as_str())
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
        .bind(draft.classification.language.as_ref().map(Language::as_str))
        .bind(tone.map(|t| t.sentiment.as_str()))
        .bind(tone.map(|t| t.frustration.get()))
        .bind(queued.subject)
        .bind(queued.sender)
        .bind(queued.email_text)
        .bind(&draft.summary)
        .bind(i32::try_from(draft.proposed_actions.len()).unwrap_or(i32::MAX))
        .bind(money_moved(&draft.proposed_actions).unwrap_or(Cents::MAX))
        .bind(queued.reply_to.map(EmailAddress::as_str))
        .bind(queued.status.as_str())
        .fetch_one(self.pool())
        .await?;
        Ok(inserted == 1)
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
            .bind(filter.topic.map(Topic::as_str))
            .bind(filter.urgency.map(Urgency::as_str))
            .bind(filter.route.map(Route::as_str))
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
        .bind(filter.topic.map(Topic::as_str))
        .bind(filter.urgency.map(Urgency::as_str))
        .bind(filter.route.map(Route::as_str))
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
        .bind(filter.topic.map(Topic::as_str))
        .bind(filter.urgency.map(Urgency::as_str))
        .bind(filter.route.map(Route::as_str))
        .bind(query)
        .bind(status)
        .fetch_one(self.pool())
        .await?)
    }

    /// The draft view's data: the draft, its case's memory, drafts and decisions.
    pub async fn review_detail(&self, draft_id: DraftId) -> Result<Option<ReviewDetail>> {
        let draft_id = draft_id.as_uuid();
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
        let (case_id, customer_id) = (item.case_id.as_str(), item.customer_id.get());
        let memory = crate::memory::load_memory(&mut conn, case_id, customer_id).await?;
        let case_rows = sqlx::query(
            "SELECT draft_id, status, summary, topic, email_received_at
             FROM reviews WHERE case_id = $1 AND customer_id = $2 AND draft_id <> $3
             ORDER BY email_received_at, queued_at",
        )
        .bind(case_id)
        .bind(customer_id)
        .bind(draft_id)
        .fetch_all(&mut *conn)
        .await?;
        let case_drafts = case_rows
            .iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                Ok(CaseDraft {
                    draft_id: DraftId::from_uuid(r.try_get("draft_id")?),
                    status: parse_status(&status)?,
                    summary: r.try_get("summary")?,
                    topic: label(r, "topic")?,
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
        .bind(case_id)
        .bind(customer_id)
        .fetch_all(&mut *conn)
        .await?;
        let decisions = decision_rows
            .iter()
            .map(|r| {
                Ok(DecisionRecord {
                    decision_id: r.try_get("decision_id")?,
                    draft_id: DraftId::from_uuid(r.try_get("draft_id")?),
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

    /// Records a view of customer data or a decision in the audit log.
    pub async fn audit(
        &self,
        reviewer_id: Option<i64>,
        action: &str,
        draft_id: Option<DraftId>,
        customer_id: Option<CustomerId>,
        detail: serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (reviewer_id, action, draft_id, customer_id, detail)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(reviewer_id)
        .bind(action)
        .bind(draft_id.map(|id| id.as_uuid()))
        .bind(customer_id.map(CustomerId::get))
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
                    draft_id: r
                        .try_get::<Option<Uuid>, _>("draft_id")?
                        .map(DraftId::from_uuid),
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
    pub draft_id: Option<DraftId>,
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
