//! Case memory: read in a caller's transaction, written with an optimistic version.

use crate::{Error, Result};
use deskhand_core::memory::{CaseMemory, MemoryEntry, Speaker};
use deskhand_core::Topic;
use sqlx::{PgConnection, Postgres, Row, Transaction};
use std::collections::BTreeMap;

/// The case's memory as stored (empty, version 0, when the case has none yet).
pub(crate) async fn load_memory(
    conn: &mut PgConnection,
    case_id: &str,
    customer_id: i64,
) -> Result<CaseMemory> {
    let row = sqlx::query(
        "SELECT rolling_summary, customer_emails, request_counts, version FROM case_memory
         WHERE case_id = $1 AND customer_id = $2",
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
    let entry_rows = sqlx::query(
        "SELECT role, summary, topic FROM case_memory_entries
         WHERE case_id = $1 AND customer_id = $2 ORDER BY entry_id",
    )
    .bind(case_id)
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    let entries = entry_rows
        .iter()
        .map(|row| {
            let role: String = row.try_get("role")?;
            let topic: Option<String> = row.try_get("topic")?;
            Ok(MemoryEntry {
                speaker: if role == "agent" {
                    Speaker::Agent
                } else {
                    Speaker::Customer
                },
                summary: row.try_get("summary")?,
                topic: topic.and_then(|t| t.parse().ok()),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(CaseMemory {
        rolling_summary: row.try_get("rolling_summary")?,
        customer_emails: row.try_get::<i32, _>("customer_emails")? as u32,
        request_counts,
        entries,
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
    let stored = sqlx::query(
        "INSERT INTO case_memory (case_id, customer_id, rolling_summary, customer_emails,
             request_counts, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6 + 1, now())
         ON CONFLICT (case_id, customer_id) DO UPDATE SET
             rolling_summary = EXCLUDED.rolling_summary,
             customer_emails = EXCLUDED.customer_emails,
             request_counts = EXCLUDED.request_counts,
             version = EXCLUDED.version,
             updated_at = now()
         WHERE case_memory.version = $6",
    )
    .bind(case_id)
    .bind(customer_id)
    .bind(&memory.rolling_summary)
    .bind(memory.customer_emails as i32)
    .bind(counts)
    .bind(memory.version)
    .execute(&mut **tx)
    .await?;
    if stored.rows_affected() == 0 {
        return Err(Error::Conflict("case memory"));
    }
    // The entries are few (bounded by the memory settings): replace them wholesale.
    sqlx::query("DELETE FROM case_memory_entries WHERE case_id = $1 AND customer_id = $2")
        .bind(case_id)
        .bind(customer_id)
        .execute(&mut **tx)
        .await?;
    let roles: Vec<&str> = memory.entries.iter().map(|e| e.speaker.as_str()).collect();
    let summaries: Vec<&str> = memory.entries.iter().map(|e| e.summary.as_str()).collect();
    let topics: Vec<Option<&str>> = memory
        .entries
        .iter()
        .map(|e| e.topic.map(|t| t.as_str()))
        .collect();
    sqlx::query(
        "INSERT INTO case_memory_entries (case_id, customer_id, role, summary, topic)
         SELECT $1, $2, role, summary, topic
         FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS e(role, summary, topic, n)
         ORDER BY n",
    )
    .bind(case_id)
    .bind(customer_id)
    .bind(&roles)
    .bind(&summaries)
    .bind(&topics)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
