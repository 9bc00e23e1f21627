//! Reopening a draft that was closed on arrival as needing no reply.

use crate::{Error, Result, Store};
use deskhand_core::review::ReviewStatus;
use deskhand_core::DraftId;
use sqlx::Row;

/// What [`Store::reopen`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reopening {
    Reopened {
        version: i32,
    },
    /// Not closed, or not at the version the reviewer saw.
    Refused {
        status: ReviewStatus,
        version: i32,
    },
    NotFound,
}

impl Store {
    /// Reopens a draft closed on arrival (it needed no reply, or so the agent thought): it
    /// joins the pending queue, audited with who reopened it. Only at the `version` the
    /// reviewer saw.
    pub async fn reopen(
        &self,
        draft_id: DraftId,
        reviewer_id: i64,
        version: i32,
    ) -> Result<Reopening> {
        let reopened: Option<i32> = sqlx::query_scalar(
            "WITH reopened AS (
                 UPDATE reviews SET status = 'pending', version = version + 1
                 WHERE draft_id = $1 AND status = 'closed' AND version = $3
                 RETURNING version, customer_id),
             audited AS (
                 INSERT INTO audit_log (reviewer_id, action, draft_id, customer_id, detail)
                 SELECT $2, 'reopened', $1, customer_id, '{}'::jsonb FROM reopened)
             SELECT version FROM reopened",
        )
        .bind(draft_id.as_uuid())
        .bind(reviewer_id)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        if let Some(version) = reopened {
            return Ok(Reopening::Reopened { version });
        }
        let row = sqlx::query("SELECT status, version FROM reviews WHERE draft_id = $1")
            .bind(draft_id.as_uuid())
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else {
            return Ok(Reopening::NotFound);
        };
        let status: String = row.try_get("status")?;
        let status = status
            .parse()
            .map_err(|e: String| Error::Corrupt(format!("review status: {e}")))?;
        Ok(Reopening::Refused {
            status,
            version: row.try_get("version")?,
        })
    }
}
