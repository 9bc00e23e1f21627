//! Case memory writes.

use crate::{Error, Result};
use deskhand_core::{CaseMemory, InboundEmail};
use sqlx::{Postgres, Transaction};

/// Stores `memory` as the case's memory if nobody changed it since it was read at
/// `memory.version`; otherwise fails with a (transient) conflict so the email is retried.
pub(crate) async fn store_memory(
    tx: &mut Transaction<'_, Postgres>,
    email: &InboundEmail,
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
    .bind(email.case_id.as_str())
    .bind(email.customer_id.get())
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
        .bind(email.case_id.as_str())
        .bind(email.customer_id.get())
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
    .bind(email.case_id.as_str())
    .bind(email.customer_id.get())
    .bind(&roles)
    .bind(&summaries)
    .bind(&topics)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
