//! The HTTP way in: integrations (the systems allowed to post emails, by hashed key), the
//! emails they posted (the idempotency record and what was published), and how far each
//! posted email has come.

use crate::{Error, Result, Store};
use deskhand_core::review::ReviewStatus;
use deskhand_core::{DraftId, Route, Topic, Urgency};
use sqlx::Row as _;
use time::OffsetDateTime;

/// A system allowed to post emails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    pub id: i64,
    pub name: String,
}

/// An integration as `deskhand integrations list` shows it.
#[derive(Debug, Clone)]
pub struct IntegrationAccount {
    pub integration: Integration,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub submissions: i64,
    pub last_submission: Option<OffsetDateTime>,
}

/// An email an integration posted, to be recorded before it is published.
#[derive(Debug, Clone, Copy)]
pub struct NewSubmission<'a> {
    pub event_id: &'a str,
    pub integration_id: i64,
    pub case_id: &'a str,
    pub customer_id: i64,
    /// The inbound event exactly as it goes to the inbound topic.
    pub payload: &'a [u8],
    /// The hash of what was posted, to tell a repeat from another email under the id.
    pub body_sha256: &'a [u8],
}

/// The record of a posted event id: the first post's, whoever posts it again.
#[derive(Debug, Clone)]
pub struct Submission {
    pub event_id: String,
    pub integration_id: i64,
    pub case_id: String,
    pub payload: Vec<u8>,
    pub received_at: OffsetDateTime,
    /// When the broker acknowledged it; `None` while it still has to be published.
    pub published_at: Option<OffsetDateTime>,
    /// `false` when this event id had been posted before.
    pub first: bool,
    /// Whether this post's body is the first post's.
    pub same_body: bool,
}

/// Why a post could not be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmissionRefused {
    /// The id is an email's that came in another way (the CRM's Kafka topic): its status
    /// is not the poster's to see, and the post would be skipped as a redelivery.
    ReceivedAnotherWay,
}

/// How far a posted email has come.
#[derive(Debug, Clone)]
pub struct SubmissionProgress {
    pub event_id: String,
    pub received_at: OffsetDateTime,
    pub published_at: Option<OffsetDateTime>,
    /// Its latest draft (a redraft replaces a stale one), once the worker made one.
    pub draft: Option<DraftProgress>,
}

/// The latest draft of a posted email and what the reviewers did with it.
#[derive(Debug, Clone)]
pub struct DraftProgress {
    pub draft_id: DraftId,
    pub topic: Topic,
    pub urgency: Urgency,
    pub route: Route,
    pub drafted_at: OffsetDateTime,
    /// `None` until the review service has queued it.
    pub review_status: Option<ReviewStatus>,
    pub decided_at: Option<OffsetDateTime>,
    /// The approved reply's state at the mail relay: sending, sent or failed.
    pub reply_status: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
}

fn label<T: std::str::FromStr>(row: &sqlx::postgres::PgRow, column: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let raw: String = row.try_get(column)?;
    raw.parse()
        .map_err(|e| Error::Corrupt(format!("drafts.{column}: {e}")))
}

fn submission_of(
    row: &sqlx::postgres::PgRow,
    first: bool,
    body_sha256: &[u8],
) -> Result<Submission> {
    let recorded: Vec<u8> = row.try_get("body_sha256")?;
    Ok(Submission {
        event_id: row.try_get("event_id")?,
        integration_id: row.try_get("integration_id")?,
        case_id: row.try_get("case_id")?,
        payload: row.try_get("payload")?,
        received_at: row.try_get("received_at")?,
        published_at: row.try_get("published_at")?,
        first,
        same_body: recorded == body_sha256,
    })
}

impl Store {
    /// Adds an integration whose key hashes to `key_hash`.
    pub async fn add_integration(&self, name: &str, key_hash: &[u8]) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO integrations (name, key_hash) VALUES ($1, $2)
             ON CONFLICT (name) DO NOTHING RETURNING integration_id",
        )
        .bind(name)
        .bind(key_hash)
        .fetch_optional(self.pool())
        .await?;
        id.ok_or(Error::Conflict("integration name (already taken)"))
    }

    /// Every integration, active or revoked, by name, with what it posted.
    pub async fn integrations(&self) -> Result<Vec<IntegrationAccount>> {
        let rows = sqlx::query(
            "SELECT i.integration_id, i.name, i.created_at, i.revoked_at,
                    count(s.event_id) AS submissions, max(s.received_at) AS last_submission
             FROM integrations i LEFT JOIN http_submissions s USING (integration_id)
             GROUP BY i.integration_id ORDER BY i.name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(IntegrationAccount {
                    integration: Integration {
                        id: r.try_get("integration_id")?,
                        name: r.try_get("name")?,
                    },
                    created_at: r.try_get("created_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                    submissions: r.try_get("submissions")?,
                    last_submission: r.try_get("last_submission")?,
                })
            })
            .collect()
    }

    /// Revokes the active integration `name`: its key stops working at once. `false` when
    /// there is no such active integration.
    pub async fn revoke_integration(&self, name: &str) -> Result<bool> {
        let revoked = sqlx::query(
            "UPDATE integrations SET revoked_at = now()
             WHERE name = $1 AND revoked_at IS NULL",
        )
        .bind(name)
        .execute(self.pool())
        .await?;
        Ok(revoked.rows_affected() == 1)
    }

    /// The active integration holding the key that hashes to `key_hash`.
    pub async fn integration_by_key(&self, key_hash: &[u8]) -> Result<Option<Integration>> {
        let row = sqlx::query(
            "SELECT integration_id, name FROM integrations
             WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Integration {
                id: r.try_get("integration_id")?,
                name: r.try_get("name")?,
            })
        })
        .transpose()
    }

    /// The customers whose address on file is `address` (case aside), at most two: the
    /// one a webhook's sender is, when exactly one. Through a function that may read
    /// every customer's address (row-level security keeps the rest of each row scoped)
    /// and returns nothing but their ids.
    pub async fn customers_with_address(&self, address: &str) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT deskhand_customers_with_address($1)")
                .bind(address)
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Records a posted event, or returns the record of its first post when the event id
    /// is known (whichever integration posted it then, and whatever the payload now).
    pub async fn record_submission(
        &self,
        new: NewSubmission<'_>,
    ) -> Result<Result<Submission, SubmissionRefused>> {
        // An email the worker recorded that no one posted came from the CRM's topic.
        let inserted = sqlx::query(
            "INSERT INTO http_submissions
                 (event_id, integration_id, case_id, customer_id, payload, body_sha256)
             SELECT $1, $2, $3, $4, $5, $6
             WHERE NOT EXISTS (SELECT 1 FROM emails WHERE event_id = $1)
             ON CONFLICT (event_id) DO NOTHING
             RETURNING event_id, integration_id, case_id, payload, body_sha256, received_at,
                       published_at",
        )
        .bind(new.event_id)
        .bind(new.integration_id)
        .bind(new.case_id)
        .bind(new.customer_id)
        .bind(new.payload)
        .bind(new.body_sha256)
        .fetch_optional(self.pool())
        .await?;
        let (row, first) = match inserted {
            Some(row) => (row, true),
            None => {
                let earlier = sqlx::query(
                    "SELECT event_id, integration_id, case_id, payload, body_sha256, received_at,
                            published_at
                     FROM http_submissions WHERE event_id = $1",
                )
                .bind(new.event_id)
                .fetch_optional(self.pool())
                .await?;
                match earlier {
                    Some(row) => (row, false),
                    None => return Ok(Err(SubmissionRefused::ReceivedAnotherWay)),
                }
            }
        };
        submission_of(&row, first, new.body_sha256).map(Ok)
    }

    /// Posted events the broker has not acknowledged `older_than` after they were
    /// recorded, oldest first: the sweep publishes them.
    pub async fn unpublished_submissions(
        &self,
        older_than: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<Submission>> {
        let rows = sqlx::query(
            "SELECT event_id, integration_id, case_id, payload, body_sha256, received_at,
                    published_at
             FROM http_submissions
             WHERE published_at IS NULL AND received_at < now() - make_interval(secs => $1)
             ORDER BY received_at LIMIT $2",
        )
        .bind(older_than.as_secs_f64())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let hash: Vec<u8> = row.try_get("body_sha256")?;
                submission_of(row, false, &hash)
            })
            .collect()
    }

    /// Marks a posted event as acknowledged by the broker; returns when that was (the
    /// first acknowledgement's time when it was published before).
    pub async fn submission_published(&self, event_id: &str) -> Result<OffsetDateTime> {
        Ok(sqlx::query_scalar(
            "UPDATE http_submissions SET published_at = coalesce(published_at, now())
             WHERE event_id = $1 RETURNING published_at",
        )
        .bind(event_id)
        .fetch_one(self.pool())
        .await?)
    }

    /// How far the email `event_id`, posted by `integration_id`, has come; `None` when
    /// that integration posted no such event (another integration's events are not its
    /// business).
    pub async fn submission_progress(
        &self,
        integration_id: i64,
        event_id: &str,
    ) -> Result<Option<SubmissionProgress>> {
        let row = sqlx::query(
            "SELECT s.event_id, s.received_at, s.published_at,
                    d.draft_id, d.topic, d.urgency, d.route, d.created_at AS drafted_at,
                    r.status AS review_status, r.decided_at,
                    o.status AS reply_status, o.sent_at
             FROM http_submissions s
             LEFT JOIN LATERAL (
                 SELECT draft_id, topic, urgency, route, created_at FROM drafts
                 WHERE split_part(event_id, '~redraft-', 1) = s.event_id
                   AND customer_id = s.customer_id AND case_id = s.case_id
                 ORDER BY created_at DESC LIMIT 1) d ON true
             LEFT JOIN reviews r ON r.draft_id = d.draft_id
             LEFT JOIN outgoing_emails o ON o.draft_id = d.draft_id
             WHERE s.event_id = $1 AND s.integration_id = $2",
        )
        .bind(event_id)
        .bind(integration_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let draft_id: Option<uuid::Uuid> = row.try_get("draft_id")?;
        let draft = match draft_id {
            None => None,
            Some(id) => Some(DraftProgress {
                draft_id: DraftId::from_uuid(id),
                topic: label(&row, "topic")?,
                urgency: label(&row, "urgency")?,
                route: label(&row, "route")?,
                drafted_at: row.try_get("drafted_at")?,
                review_status: row
                    .try_get::<Option<String>, _>("review_status")?
                    .map(|s| s.parse())
                    .transpose()
                    .map_err(|e| Error::Corrupt(format!("reviews.status: {e}")))?,
                decided_at: row.try_get("decided_at")?,
                reply_status: row.try_get("reply_status")?,
                sent_at: row.try_get("sent_at")?,
            }),
        };
        Ok(Some(SubmissionProgress {
            event_id: row.try_get("event_id")?,
            received_at: row.try_get("received_at")?,
            published_at: row.try_get("published_at")?,
            draft,
        }))
    }
}
