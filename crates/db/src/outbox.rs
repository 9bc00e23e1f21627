//! The transactional outbox: messages written with the state that caused them, published
//! later by a relay.
//!
//! One relay publishes at a time (a transaction-scoped advisory lock), and it publishes in
//! id order, so messages of one case reach the topic in the order they were recorded even
//! with several workers running.

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
            "SELECT id, topic, message_key, payload, headers FROM outbox
             WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE",
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

    /// Messages not yet published; the relay's backlog.
    pub async fn outbox_backlog(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(self.pool())
                .await?,
        )
    }
}

impl OutboxBatch {
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Marks the published messages and records the failure of the others, then releases
    /// the batch. Failed messages stay pending and are retried by the next claim.
    pub async fn finish(mut self, published: &[i64], failed: &[(i64, String)]) -> Result<()> {
        if !published.is_empty() {
            sqlx::query("UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1)")
                .bind(published)
                .execute(&mut *self.tx)
                .await?;
        }
        for (id, error) in failed {
            sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
                .bind(id)
                .bind(error)
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}
