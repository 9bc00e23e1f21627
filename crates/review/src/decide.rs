//! `POST /api/drafts/{id}/approve|reject|escalate`: each parses the request into a
//! command, calls the decide use case (`deskhand_service::decide`) and maps its answer.

use crate::api::parse_draft_id;
use crate::auth::Authenticated;
use crate::{ApiError, ReviewState};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use deskhand_core::review::Refusal;
use deskhand_core::ActionId;
use deskhand_service::decide::{Approve, Conclude, Concluding, DecideError, Decided, LabelsAsSent};
use serde::Deserialize;

const IDEMPOTENCY_KEY: &str = "idempotency-key";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApproveBody {
    version: i32,
    reply_body: Option<String>,
    reply_subject: Option<String>,
    action_ids: Option<Vec<ActionId>>,
    #[serde(default)]
    correction: Option<CorrectionBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RejectBody {
    version: i32,
    reason: String,
    #[serde(default)]
    correction: Option<CorrectionBody>,
}

/// The reviewer's view of the labels, as sent; the use case reads them once the draft is
/// open (see [`LabelsAsSent`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CorrectionBody {
    topic: Option<String>,
    urgency: Option<String>,
}

impl From<CorrectionBody> for LabelsAsSent {
    fn from(body: CorrectionBody) -> Self {
        LabelsAsSent {
            topic: body.topic,
            urgency: body.urgency,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReopenBody {
    version: i32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EscalateBody {
    version: i32,
    note: String,
}

fn idempotency_key(headers: &HeaderMap, required: bool) -> Result<Option<String>, ApiError> {
    match headers.get(IDEMPOTENCY_KEY) {
        None if required => Err(ApiError::BadRequest(
            "an Idempotency-Key header is required (any unique string, e.g. a UUID)".to_owned(),
        )),
        None => Ok(None),
        Some(value) => {
            let key = value
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or_else(|| {
                    ApiError::BadRequest("Idempotency-Key must be 1-200 visible characters".into())
                })?;
            Ok(Some(key.to_owned()))
        }
    }
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Unprocessable(format!("request body: {e}")))
}

fn correction(body: Option<CorrectionBody>) -> Option<LabelsAsSent> {
    body.map(LabelsAsSent::from)
}

/// `POST /api/drafts/{id}/approve`.
pub(crate) async fn approve(
    State(state): State<ReviewState>,
    who: Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let draft_id = parse_draft_id(&id)?;
    let key = idempotency_key(&headers, true)?.expect("required above");
    let body: ApproveBody = parse_body(&body)?;
    let approve = Approve {
        version: body.version,
        reply_body: body.reply_body,
        reply_subject: body.reply_subject,
        action_ids: body.action_ids,
        correction: correction(body.correction),
    };
    let decided = state
        .decisions
        .approve(&who.reviewer, draft_id, &key, approve)
        .await;
    answer(decided)
}

/// `POST /api/drafts/{id}/reopen`: a draft closed as needing no reply joins the queue.
pub(crate) async fn reopen(
    State(state): State<ReviewState>,
    who: Authenticated,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let draft_id = parse_draft_id(&id)?;
    let body: ReopenBody = parse_body(&body)?;
    let reopened = state
        .decisions
        .reopen(&who.reviewer, draft_id, body.version)
        .await?;
    Ok(Json(reopened).into_response())
}

/// `POST /api/drafts/{id}/reject`.
pub(crate) async fn reject(
    State(state): State<ReviewState>,
    who: Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    conclude::<RejectBody>(state, who, id, headers, &body).await
}

/// `POST /api/drafts/{id}/escalate`.
pub(crate) async fn escalate(
    State(state): State<ReviewState>,
    who: Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    conclude::<EscalateBody>(state, who, id, headers, &body).await
}

impl TryFrom<RejectBody> for Conclude {
    type Error = ApiError;
    fn try_from(body: RejectBody) -> Result<Self, ApiError> {
        Ok(Conclude {
            kind: Concluding::Reject,
            version: body.version,
            reason: body.reason,
            correction: correction(body.correction),
        })
    }
}

impl TryFrom<EscalateBody> for Conclude {
    type Error = ApiError;
    fn try_from(body: EscalateBody) -> Result<Self, ApiError> {
        Ok(Conclude {
            kind: Concluding::Escalate,
            version: body.version,
            reason: body.note,
            correction: None,
        })
    }
}

/// A rejection or an escalation: the body `B` parsed into its command, then decided.
async fn conclude<B>(
    state: ReviewState,
    who: Authenticated,
    id: String,
    headers: HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError>
where
    B: serde::de::DeserializeOwned + TryInto<Conclude, Error = ApiError>,
{
    let command: Conclude = parse_body::<B>(body)?.try_into()?;
    let draft_id = parse_draft_id(&id)?;
    let key = idempotency_key(&headers, false)?;
    let decided = state
        .decisions
        .conclude(&who.reviewer, draft_id, key.as_deref(), command)
        .await;
    answer(decided)
}

/// The use case's answer as an HTTP response; a replayed key says so in a header.
fn answer(decided: Result<Decided, DecideError>) -> Result<Response, ApiError> {
    let decided = decided?;
    let mut response = Json(decided.response).into_response();
    if decided.replayed {
        response.headers_mut().insert(
            "idempotent-replayed",
            "true".parse().expect("static header"),
        );
    }
    Ok(response)
}

impl From<DecideError> for ApiError {
    fn from(error: DecideError) -> Self {
        match error {
            DecideError::NotFound(draft_id) => ApiError::NotFound(format!("no draft {draft_id}")),
            DecideError::Conflict {
                code,
                message,
                current_version,
            } => ApiError::Conflict {
                code,
                message,
                current_version,
            },
            DecideError::Refused(
                refusal @ (Refusal::OverLimit { .. } | Refusal::EscalatedToLead(_)),
            ) => ApiError::Forbidden(refusal.to_string()),
            DecideError::Refused(refusal) => ApiError::Unprocessable(refusal.to_string()),
            DecideError::Invalid(message) => ApiError::Unprocessable(message),
            DecideError::Store(error) => ApiError::from(error),
        }
    }
}
