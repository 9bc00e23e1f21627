//! Case memory: read in a caller's transaction, written with an optimistic version.
//!
//! A case's memory is one row; its entries, few and bounded by the memory settings, are a
//! JSON array in it, so recalling and storing the memory are one statement each.

use crate::{Error, Result};
use deskhand_core::memory::{CaseMemory, MemoryEntry, Speaker};
use deskhand_core::Topic;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, Row, Transaction};
use std::collections::BTreeMap;

/// An entry as stored in `case_memory.entries`.
#[derive(Debug, Serialize, Deserialize)]
struct StoredEntry {
    role: String,
    summary: String,
    topic: Option<String>,
}

impl From<&MemoryEntry> for StoredEntry {
    fn from(entry: &MemoryEntry) -> Self {
        Self {
            role: entry.speaker.as_str().to_owned(),
            summary: entry.summary.clone(),
            topic: entry.topic.map(|t| t.as_str().to_owned()),
        }
    }
}

impl From<StoredEntry> for MemoryEntry {
    fn from(stored: StoredEntry) -> Self {
        Self {
            speaker: if stored.role == "agent" {
                Speaker::Agent
            } else {
                Speaker::Customer
            },
            summary: stored.summary,
            // A topic this version does not know is dropped, not an error: the entry's
            // summary still tells the story.
            topic: stored.topic.and_then(|t| t.parse().ok()),
        }
    }
}

/// The case's memory as stored (empty, version 0, when the case has none yet).
pub(crate) async fn load_memory(
    conn: &mut PgConnection,
    case_id: &str,
    customer_id: i64,
) -> Result<CaseMemory> {
    let row = sqlx::query(
        "SELECT rolling_summary, customer_emails, request_counts, entries, version
         FROM case_memory WHERE case_id = $1 AND customer_id = $2",
    )
    .bind(case_id)
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(CaseMemory::default());
    };
    let counts: serde_json::Value = row.try_get("request_counts")?;
    let request_counts: BTreeMap<Topic, u32> = serde_json::from_value(counts)
        .map_err(|e| Error::Corrupt(format!("case memory counts: {e}")))?;
    let entries: serde_json::Value = row.try_get("entries")?;
    let entries: Vec<StoredEntry> = serde_json::from_value(entries)
        .map_err(|e| Error::Corrupt(format!("case memory entries: {e}")))?;
    Ok(CaseMemory {
        rolling_summary: row.try_get("rolling_summary")?,
        customer_emails: row.try_get::<i32, _>("customer_emails")? as u32,
        request_counts,
        entries: entries.into_iter().map(MemoryEntry::from).collect(),
        version: row.try_get("version")?,
    })
}

/// Stores `memory` as the case's memory if nobody changed it since it was read at
/// `memory.version`; otherwise fails with a (transient) conflict so the email is retried.
pub(crate) async fn store_memory(
    tx: &mut Transaction<'_, Postgres>,
    case_id: &str,
    customer_id: i64,
    memory: &CaseMemory,
) -> Result<()> {
    let counts = serde_json::to_value(&memory.request_counts).expect("topic counts serialise");
    let entries: Vec<StoredEntry> = memory.entries.iter().map(StoredEntry::from).collect();
    let entries = serde_json::to_value(&entries).expect("memory entries serialise");
    let stored = sqlx::query(
        "INSERT INTO case_memory (case_id, customer_id, rolling_summary, customer_emails,
             request_counts, entries, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7 + 1, now())
         ON CONFLICT (case_id, customer_id) DO UPDATE SET
             rolling_summary = EXCLUDED.rolling_summary,
             customer_emails = EXCLUDED.customer_emails,
             request_counts = EXCLUDED.request_counts,
             entries = EXCLUDED.entries,
             version = EXCLUDED.version,
             updated_at = now()
         WHERE case_memory.version = $7",
    )
    .bind(case_id)
    .bind(customer_id)
    .bind(&memory.rolling_summary)
    .bind(memory.customer_emails as i32)
    .bind(counts)
    .bind(entries)
    .bind(memory.version)
    .execute(&mut **tx)
    .await?;
    if stored.rows_affected() == 0 {
        return Err(Error::Conflict("case memory"));
    }
    Ok(())
}
