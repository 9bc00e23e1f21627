//! Decided drafts as training data: what reviewers confirmed or corrected.

use crate::{Error, Result, Store};
use deskhand_core::{Topic, Urgency};
use sqlx::Row;
use time::OffsetDateTime;

/// One decided draft's email and the labels a reviewer stood behind. An unedited approval
/// confirms the agent's labels; a correction replaces the field it corrects. A field no
/// reviewer vouched for (an edited approval, a rejection) is left out.
#[derive(Debug, Clone, PartialEq)]
pub struct DecidedExample {
    pub subject: Option<String>,
    /// The customer's name on the email, so that it can be masked where the email is
    /// shown outside its case.
    pub customer_name: Option<String>,
    /// What the agent read: the customer's own words.
    pub text: String,
    pub topic: Option<Topic>,
    pub urgency: Option<Urgency>,
    /// The reviewer corrected at least one label.
    pub corrected: bool,
    pub decided_at: OffsetDateTime,
}

/// The decisions that vouch for a label: unedited approvals, and any correction.
const VOUCHING: &str = "SELECT r.subject, r.email_text AS text,
        r.draft->'email'->>'customer_name' AS customer_name,
        r.topic, r.urgency, d.kind, d.edited, d.corrected_topic, d.corrected_urgency,
        d.decided_at, d.decision_id
     FROM decisions d JOIN reviews r USING (draft_id)
     WHERE d.kind IN ('approve', 'reject')
       AND ((d.kind = 'approve' AND d.edited IS FALSE)
            OR d.corrected_topic IS NOT NULL OR d.corrected_urgency IS NOT NULL)";

impl Store {
    /// Approvals and rejections since `since` (all when `None`) that confirm or correct a
    /// label, oldest first.
    pub async fn decided_examples(
        &self,
        since: Option<OffsetDateTime>,
    ) -> Result<Vec<DecidedExample>> {
        let rows = sqlx::query(&format!(
            "{VOUCHING} AND ($1::timestamptz IS NULL OR d.decided_at >= $1)
             ORDER BY d.decision_id"
        ))
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(example).collect()
    }

    /// The newest `limit` of the same, oldest first: what a refresh reads, however long
    /// the history.
    pub async fn latest_decided_examples(&self, limit: usize) -> Result<Vec<DecidedExample>> {
        let rows = sqlx::query(&format!(
            "SELECT * FROM ({VOUCHING} ORDER BY d.decision_id DESC LIMIT $1) newest
             ORDER BY decision_id"
        ))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(example).collect()
    }
}

/// One vouching decision's row as an example.
fn example(row: &sqlx::postgres::PgRow) -> Result<DecidedExample> {
    let corrupt = |what: &str, e: deskhand_core::draft::UnknownLabel| {
        Error::Corrupt(format!("decided draft {what}: {e}"))
    };
    let confirmed = row.try_get::<String, _>("kind")? == "approve"
        && row.try_get::<Option<bool>, _>("edited")? == Some(false);
    let corrected_topic: Option<String> = row.try_get("corrected_topic")?;
    let corrected_urgency: Option<String> = row.try_get("corrected_urgency")?;
    let corrected = corrected_topic.is_some() || corrected_urgency.is_some();
    let drafted_topic: String = row.try_get("topic")?;
    let drafted_urgency: String = row.try_get("urgency")?;
    let topic = match corrected_topic {
        Some(t) => Some(t),
        None => confirmed.then_some(drafted_topic),
    };
    let urgency = match corrected_urgency {
        Some(u) => Some(u),
        None => confirmed.then_some(drafted_urgency),
    };
    Ok(DecidedExample {
        subject: row.try_get("subject")?,
        customer_name: row.try_get("customer_name")?,
        text: row
            .try_get::<Option<String>, _>("text")?
            .unwrap_or_default(),
        topic: topic
            .map(|t| t.parse::<Topic>())
            .transpose()
            .map_err(|e| corrupt("topic", e))?,
        urgency: urgency
            .map(|u| u.parse::<Urgency>())
            .transpose()
            .map_err(|e| corrupt("urgency", e))?,
        corrected,
        decided_at: row.try_get("decided_at")?,
    })
}
