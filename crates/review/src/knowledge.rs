//! Feedback on the knowledge base: a reviewer flags a passage a draft cited as wrong or
//! outdated; the knowledge owner reads what was flagged.

use crate::api::parse_draft_id;
use crate::auth::Authenticated;
use crate::{ApiError, ReviewState};
use axum::extract::{Path, State};
use axum::Json;
use deskhand_db::PassageVerdict;
use serde::Deserialize;
use serde_json::{json, Value};

/// Notes longer than this are cut: a flag says what is wrong, the page holds the policy.
const MAX_NOTE_CHARS: usize = 2_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlagBody {
    /// `file#heading`, as the draft's evidence cites it.
    passage: String,
    /// `wrong` or `outdated`.
    verdict: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/drafts/{id}/passages/flag`: any reviewer; only a passage the draft cited.
pub(crate) async fn flag_passage(
    State(state): State<ReviewState>,
    who: Authenticated,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let draft_id = parse_draft_id(&id)?;
    let body: FlagBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::Unprocessable(format!("request body: {e}")))?;
    let verdict: PassageVerdict = body.verdict.parse().map_err(ApiError::Unprocessable)?;
    let note: String = body.note.trim().chars().take(MAX_NOTE_CHARS).collect();
    let flagged = state
        .store
        .flag_passage(draft_id, who.reviewer.id, &body.passage, verdict, &note)
        .await?;
    match flagged {
        None => return Err(ApiError::NotFound(format!("no draft {id}"))),
        Some(false) => {
            return Err(ApiError::Unprocessable(format!(
                "draft {id} cites no passage {:?}",
                body.passage
            )))
        }
        Some(true) => {}
    }
    Ok(Json(json!({
        "draft_id": draft_id.to_string(),
        "passage": body.passage,
        "verdict": verdict.as_str(),
    })))
}

/// `GET /api/knowledge/feedback`: every flagged passage, most flagged first. Leads and
/// admins (the knowledge owner is one of them).
pub(crate) async fn feedback(
    State(state): State<ReviewState>,
    who: Authenticated,
) -> Result<Json<Value>, ApiError> {
    if !who.reviewer.role.is_lead() {
        return Err(ApiError::Forbidden(
            "the knowledge feedback report is for leads and admins".to_owned(),
        ));
    }
    let passages = state.store.knowledge_feedback().await?;
    // The report carries reviewers' notes and draft ids: who read it is on record.
    state
        .store
        .audit(
            Some(who.reviewer.id),
            "read_knowledge_feedback",
            None,
            None,
            json!({"passages": passages.len()}),
        )
        .await?;
    Ok(Json(json!({ "passages": passages })))
}
