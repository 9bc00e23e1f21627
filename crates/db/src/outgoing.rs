//! Approved replies waiting for the SMTP relay.
//!
//! One email per transaction: the row stays locked (`SKIP LOCKED` for other relays) while
//! it is handed to the SMTP server, and is marked sent in the same transaction, so a crash
//! can at worst re-send the one email that was in the air (with the same `Message-ID`).

use crate::{Result, Store};
use deskhand_core::DraftId;
use sqlx::{Postgres, Row, Transaction};
use std::time::Duration;

/// A reply due for sending, locked for this relay.
#[derive(Debug)]
pub struct DueEmail {
    tx: Transaction<'static, Postgres>,
    pub email_id: i64,
    pub draft_id: DraftId,
    /// JSON of `deskhand_core::review::OutgoingEmail`.
    pub message: serde_json::Value,
    pub attempts: i32,
}

impl Store {
    /// The oldest reply whose next attempt is due, if any (and not held by another relay).
    pub async fn next_due_email(&self) -> Result<Option<DueEmail>> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query(
            "SELECT email_id, draft_id, message, attempts FROM outgoing_emails
             WHERE status = 'sending' AND next_attempt_at <= now()
             ORDER BY next_attempt_at, email_id LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        Ok(Some(DueEmail {
            tx,
            email_id: row.try_get("email_id")?,
            draft_id: DraftId::from_uuid(row.try_get("draft_id")?),
            message: row.try_get("message")?,
            attempts: row.try_get("attempts")?,
        }))
    }
}

impl DueEmail {
    /// The SMTP server accepted it.
    pub async fn sent(mut self) -> Result<()> {
        sqlx::query(
            "UPDATE outgoing_emails SET status = 'sent', sent_at = now(), attempts = attempts + 1,
                 last_error = NULL
             WHERE email_id = $1",
        )
        .bind(self.email_id)
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// The SMTP server refused it for good (or it cannot be read): it stays visible as
    /// `failed` for a person to handle, and is not retried.
    pub async fn rejected(mut self, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outgoing_emails SET status = 'failed', attempts = attempts + 1, last_error = $2
             WHERE email_id = $1",
        )
        .bind(self.email_id)
        .bind(error)
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// It could not be sent; try again after `retry_in`.
    pub async fn failed(mut self, error: &str, retry_in: Duration) -> Result<()> {
        sqlx::query(
            "UPDATE outgoing_emails SET attempts = attempts + 1, last_error = $2,
                 next_attempt_at = now() + make_interval(secs => $3)
             WHERE email_id = $1",
        )
        .bind(self.email_id)
        .bind(error)
        .bind(retry_in.as_secs_f64())
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(())
    }
}
