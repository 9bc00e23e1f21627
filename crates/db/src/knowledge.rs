//! Reviewers' feedback on the knowledge base: a passage a draft cited, flagged as wrong or
//! outdated, and the report the knowledge owner reads.

use crate::{Result, Store};
use deskhand_core::DraftId;
use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;

/// What a reviewer says of a cited passage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PassageVerdict {
    /// The passage does not answer what it was cited for, or states the policy wrongly.
    Wrong,
    /// The policy changed; the page has not.
    Outdated,
}

impl PassageVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wrong => "wrong",
            Self::Outdated => "outdated",
        }
    }
}

impl std::str::FromStr for PassageVerdict {
    type Err = String;
    fn from_str(raw: &str) -> std::result::Result<Self, String> {
        match raw {
            "wrong" => Ok(Self::Wrong),
            "outdated" => Ok(Self::Outdated),
            other => Err(format!("verdict {other:?}: expected wrong or outdated")),
        }
    }
}

/// One passage's flags, for the knowledge owner.
#[derive(Debug, Clone, Serialize)]
pub struct PassageFeedback {
    pub passage: String,
    pub wrong: i64,
    pub outdated: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub last_flagged_at: OffsetDateTime,
    /// The latest notes (newest first, at most five), with who wrote them.
    pub notes: Vec<FeedbackNote>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeedbackNote {
    pub reviewer: String,
    pub verdict: String,
    pub note: String,
    pub draft_id: uuid::Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl Store {
    /// Records a reviewer's flag on a passage the draft cited, with its audit entry, in one
    /// statement. `None` when there is no such draft; `Some(false)` when the draft did not
    /// cite that passage (a flag on a passage nobody showed the reviewer means nothing).
    pub async fn flag_passage(
        &self,
        draft_id: DraftId,
        reviewer_id: i64,
        passage: &str,
        verdict: PassageVerdict,
        note: &str,
    ) -> Result<Option<bool>> {
        let cited = serde_json::json!([{"source": "knowledge", "data": {"passage": passage}}]);
        let row = sqlx::query(
            "WITH cited AS (
                 SELECT draft_id, customer_id FROM reviews
                  WHERE draft_id = $1 AND draft -> 'observations' @> $6
             ), flagged AS (
                 INSERT INTO knowledge_feedback (draft_id, reviewer_id, passage, verdict, note)
                 SELECT draft_id, $2, $3, $4, $5 FROM cited
                 ON CONFLICT (draft_id, reviewer_id, passage)
                 DO UPDATE SET verdict = EXCLUDED.verdict, note = EXCLUDED.note,
                               created_at = now()
                 RETURNING feedback_id
             ), audited AS (
                 INSERT INTO audit_log (reviewer_id, action, draft_id, customer_id, detail)
                 SELECT $2, 'passage_flagged', draft_id, customer_id,
                        jsonb_build_object('passage', $3::text, 'verdict', $4::text, 'note', $5::text)
                   FROM cited
                  WHERE EXISTS (SELECT 1 FROM flagged)
             )
             SELECT (SELECT count(*) FROM flagged) AS flagged,
                    EXISTS (SELECT 1 FROM reviews WHERE draft_id = $1) AS draft_exists",
        )
        .bind(draft_id.as_uuid())
        .bind(reviewer_id)
        .bind(passage)
        .bind(verdict.as_str())
        .bind(note)
        .bind(cited)
        .fetch_one(self.pool())
        .await?;
        let exists: bool = row.try_get("draft_exists")?;
        Ok(exists.then_some(row.try_get::<i64, _>("flagged")? > 0))
    }

    /// The knowledge owner's report: every flagged passage, most flagged first.
    pub async fn knowledge_feedback(&self) -> Result<Vec<PassageFeedback>> {
        let rows = sqlx::query(
            "SELECT f.passage, f.verdict, f.note, f.draft_id, f.created_at, r.name
               FROM knowledge_feedback f JOIN reviewers r USING (reviewer_id)
              ORDER BY f.passage, f.created_at DESC",
        )
        .fetch_all(self.pool())
        .await?;
        let mut report: Vec<PassageFeedback> = Vec::new();
        for row in rows {
            let passage: String = row.try_get("passage")?;
            let verdict: String = row.try_get("verdict")?;
            let at: OffsetDateTime = row.try_get("created_at")?;
            if report.last().is_none_or(|last| last.passage != passage) {
                report.push(PassageFeedback {
                    passage: passage.clone(),
                    wrong: 0,
                    outdated: 0,
                    last_flagged_at: at,
                    notes: Vec::new(),
                });
            }
            let entry = report.last_mut().expect("pushed above");
            match verdict.as_str() {
                "wrong" => entry.wrong += 1,
                _ => entry.outdated += 1,
            }
            let note: String = row.try_get("note")?;
            if !note.is_empty() && entry.notes.len() < 5 {
                entry.notes.push(FeedbackNote {
                    reviewer: row.try_get("name")?,
                    verdict,
                    note,
                    draft_id: row.try_get("draft_id")?,
                    at,
                });
            }
        }
        report.sort_by(|a, b| {
            (b.wrong + b.outdated)
                .cmp(&(a.wrong + a.outdated))
                .then(b.last_flagged_at.cmp(&a.last_flagged_at))
        });
        Ok(report)
    }
}
