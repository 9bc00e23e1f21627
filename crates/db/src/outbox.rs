//! The transactional outbox: messages written with the state that caused them, published
//! later by a relay.
//!
//! One relay publishes at a time (a transaction-scoped advisory lock), and it publishes in
//! id order, so messages of one case reach the topic in the order they were recorded even
//! with several workers running.
//!
//! The later messages with a failing message's key (its case) wait behind it. A message
//! the broker refuses for good is parked after a few strikes, and its case waits until an
//! operator releases it: an alert and a pause for one case, never a relay stuck on one
//! message or a case's drafts out of order.

use crate::{Result, Store};
use sqlx::{Postgres, Row, Transaction};
use std::collections::BTreeMap;

/// Any constant works; it only has to be the same for every relay of a database.
const RELAY_LOCK_KEY: i64 = 0x6465_736b_6861_6e64; // "deskhand"

/// A message to publish once the transaction that wrote it commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub topic: String,
    pub key: String,
    pub payload: Vec<u8>,
    pub headers: BTreeMap<String, String>,
}

impl OutboxMessage {
    pub(crate) async fn insert(&self, tx: &mut Transaction<'_, Postgres>) -> Result<()> {
        let headers = serde_json::to_value(&self.headers).expect("a string map serialises");
        sqlx::query(
            "INSERT INTO outbox (topic, message_key, payload, headers) VALUES ($1, $2, $3, $4)",
        )
        .bind(&self.topic)
        .bind(&self.key)
        .bind(&self.payload)
        .bind(headers)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// A message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMessage {
    pub id: i64,
    pub message: OutboxMessage,
}

/// A claimed batch: its rows stay locked until [`OutboxBatch::finish`] or drop.
#[derive(Debug)]
pub struct OutboxBatch {
    tx: Transaction<'static, Postgres>,
    pub messages: Vec<PendingMessage>,
}

impl Store {
    /// Claims up to `limit` unpublished messages in id order. `None` when another relay
    /// holds the outbox right now.
    pub async fn claim_outbox(&self, limit: i64) -> Result<Option<OutboxBatch>> {
        let mut tx = self.pool().begin().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(RELAY_LOCK_KEY)
            .fetch_one(&mut *tx)
            .await?;
        if !locked {
            tx.rollback().await?;
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT id, topic, message_key, payload, headers FROM outbox o
             WHERE published_at IS NULL AND parked_at IS NULL
               AND NOT EXISTS (
                   SELECT 1 FROM outbox f
                   WHERE f.published_at IS NULL AND f.attempts > 0 AND f.id < o.id
                     AND f.topic = o.topic AND f.message_key = o.message_key)
             ORDER BY id LIMIT $1 FOR UPDATE",
        )
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut messages = Vec::with_capacity(rows.len());
        for row in rows {
            let headers: serde_json::Value = row.try_get("headers")?;
            let headers: BTreeMap<String, String> = serde_json::from_value(headers)
                .map_err(|e| crate::Error::Corrupt(format!("outbox headers: {e}")))?;
            messages.push(PendingMessage {
                id: row.try_get("id")?,
                message: OutboxMessage {
                    topic: row.try_get("topic")?,
                    key: row.try_get("message_key")?,
                    payload: row.try_get("payload")?,
                    headers,
                },
            });
        }
        Ok(Some(OutboxBatch { tx, messages }))
    }

    /// Messages not yet published; the relay's backlog (parked ones included: they are
    /// not published either).
    pub async fn outbox_backlog(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Parked messages, oldest first, with the number of later messages of their case
    /// waiting behind each.
    pub async fn parked_messages(&self) -> Result<Vec<ParkedMessage>> {
        let rows = sqlx::query(
            "SELECT p.id, p.topic, p.message_key, p.parked_at, p.attempts, p.last_error,
                    length(p.payload)::bigint AS bytes,
                    (SELECT count(*) FROM outbox w
                     WHERE w.published_at IS NULL AND w.id > p.id
                       AND w.topic = p.topic AND w.message_key = p.message_key) AS waiting
             FROM outbox p
             WHERE p.parked_at IS NOT NULL AND p.published_at IS NULL
             ORDER BY p.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ParkedMessage {
                    id: row.try_get("id")?,
                    topic: row.try_get("topic")?,
                    key: row.try_get("message_key")?,
                    parked_at: row.try_get("parked_at")?,
                    attempts: row.try_get("attempts")?,
                    last_error: row.try_get("last_error")?,
                    bytes: row.try_get("bytes")?,
                    waiting: row.try_get("waiting")?,
                })
            })
            .collect()
    }

    /// Puts a parked message back in line (after the broker's limit or the topic's ACL
    /// was fixed): it and the messages waiting behind it are published by the next round.
    /// `false` when `id` is not parked.
    pub async fn release_parked(&self, id: i64) -> Result<bool> {
        let released = sqlx::query(
            "UPDATE outbox SET parked_at = NULL, strikes = 0
             WHERE id = $1 AND parked_at IS NOT NULL AND published_at IS NULL",
        )
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(released.rows_affected() == 1)
    }

    /// How many messages are parked: the alert gauge.
    pub async fn parked_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL AND published_at IS NULL",
        )
        .fetch_one(self.pool())
        .await?)
    }
}

/// A message the relay gave up on until an operator releases it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedMessage {
    pub id: i64,
    pub topic: String,
    pub key: String,
    pub parked_at: time::OffsetDateTime,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub bytes: i64,
    /// Later messages with the same key, held back to keep their order.
    pub waiting: i64,
}

/// A message the broker did not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedPublish {
    pub id: i64,
    pub error: String,
    /// Whether this failure counts towards parking: the broker refused this message for
    /// good. A transient failure (the broker or a partition away) strikes no one.
    pub strike: bool,
}

impl OutboxBatch {
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Marks the published messages and records the failure of the others, parking a
    /// failed message at its `park_after`th strike, then releases the batch. Returns the
    /// ids parked now; other failed messages stay pending and are retried by the next
    /// claim.
    pub async fn finish(
        mut self,
        published: &[i64],
        failed: &[FailedPublish],
        park_after: i32,
    ) -> Result<Vec<i64>> {
        if !published.is_empty() {
            sqlx::query("UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1)")
                .bind(published)
                .execute(&mut *self.tx)
                .await?;
        }
        let mut parked = Vec::new();
        for failure in failed {
            let now_parked: bool = sqlx::query_scalar(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                     strikes = strikes + $3::int,
                     parked_at = CASE WHEN strikes + $3::int >= $4 THEN now() END
                 WHERE id = $1
                 RETURNING parked_at IS NOT NULL",
            )
            .bind(failure.id)
            .bind(&failure.error)
            .bind(i32::from(failure.strike))
            .bind(park_after.max(1))
            .fetch_one(&mut *self.tx)
            .await?;
            if now_parked {
                parked.push(failure.id);
            }
        }
        self.tx.commit().await?;
        Ok(parked)
    }
}
