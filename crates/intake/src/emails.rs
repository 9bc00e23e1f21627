//! `POST /api/v1/emails` and `GET /api/v1/emails/{event_id}`.

use crate::auth::IntegrationCaller;
use crate::body::{read_posted, MessageParams, PostedEmail};
use crate::{IntakeState, Problem};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use deskhand_core::ports::EventPublisher;
use deskhand_core::review::ReviewStatus;
use deskhand_db::{Integration, SubmissionProgress};
use deskhand_service::reception::{Receipt, ReceptionError};
use serde_json::{json, Value};
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

impl From<ReceptionError> for Problem {
    fn from(error: ReceptionError) -> Self {
        match error {
            ReceptionError::Store(error) => error.into(),
            ReceptionError::Publish(reason) => {
                tracing::warn!(%reason, "an email posted over HTTP could not be published");
                Problem::Unavailable("the inbound topic did not take the email".to_owned())
            }
            taken @ (ReceptionError::TakenByAnother(_)
            | ReceptionError::ReceivedAnotherWay(_)
            | ReceptionError::DifferentEmail(_)) => Problem::Conflict(taken.to_string()),
        }
    }
}

/// An id as one path segment: everything but the unreserved characters percent-encoded.
fn path_segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// `POST /api/v1/emails`: takes the email, answers once it is on the inbound topic.
pub(crate) async fn receive<P>(
    State(state): State<Arc<IntakeState<P>>>,
    IntegrationCaller(integration): IntegrationCaller,
    params: Result<Query<MessageParams>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem>
where
    P: EventPublisher + Send + Sync + 'static,
{
    let Query(params) = params.map_err(|e| Problem::Invalid(e.body_text()))?;
    let posted = read_posted(&headers, params, body, &state.settings).await?;
    take(&state, &integration, &posted).await
}

/// Receives a posted email and answers `202` with its status URL: every way in ends here.
pub(crate) async fn take<P>(
    state: &IntakeState<P>,
    integration: &Integration,
    posted: &PostedEmail,
) -> Result<Response, Problem>
where
    P: EventPublisher + Send + Sync + 'static,
{
    let receipt = state
        .reception
        .receive(
            integration,
            &posted.email,
            &posted.payload,
            &posted.body_sha256,
        )
        .await?;
    Ok(accepted(&receipt))
}

/// `202 Accepted` with the status URL (also in `Location`): the answer to every post of
/// one event id.
fn accepted(receipt: &Receipt) -> Response {
    metrics::counter!("deskhand_http_emails_received_total", "repeat" => (!receipt.first).to_string())
        .increment(1);
    let status_url = format!("/api/v1/emails/{}", path_segment(&receipt.event_id));
    let body = json!({
        "event_id": receipt.event_id,
        "status": "received",
        "received_at": rfc3339(receipt.received_at),
        "published_at": rfc3339(receipt.published_at),
        "status_url": status_url,
        "repeat": !receipt.first,
    });
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&status_url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `GET /api/v1/emails/{event_id}`: received → drafted → decided.
pub(crate) async fn status<P>(
    State(state): State<Arc<IntakeState<P>>>,
    IntegrationCaller(integration): IntegrationCaller,
    Path(event_id): Path<String>,
) -> Result<Json<Value>, Problem>
where
    P: EventPublisher + Send + Sync + 'static,
{
    let progress = state
        .reception
        .progress(&integration, &event_id)
        .await?
        .ok_or_else(|| Problem::NotFound(format!("this key posted no email {event_id:?}")))?;
    Ok(Json(progress_json(&progress)))
}

fn progress_json(progress: &SubmissionProgress) -> Value {
    let draft = progress.draft.as_ref();
    let decided = draft
        .and_then(|d| d.review_status)
        .filter(|s| matches!(s, ReviewStatus::Approved | ReviewStatus::Rejected));
    let status = match (draft, decided) {
        (None, _) => "received",
        (Some(_), None) => "drafted",
        (Some(_), Some(_)) => "decided",
    };
    json!({
        "event_id": progress.event_id,
        "status": status,
        "received_at": rfc3339(progress.received_at),
        "published_at": progress.published_at.map(rfc3339),
        "draft": draft.map(|d| json!({
            "draft_id": d.draft_id,
            "topic": d.topic,
            "urgency": d.urgency,
            "route": d.route,
            "drafted_at": rfc3339(d.drafted_at),
            "review_status": d.review_status.map(ReviewStatus::as_str),
        })),
        "decision": draft.zip(decided).map(|(d, outcome)| json!({
            "outcome": outcome.as_str(),
            "decided_at": d.decided_at.map(rfc3339),
            "reply": d.reply_status,
            "sent_at": d.sent_at.map(rfc3339),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::path_segment;

    #[test]
    fn an_event_id_is_one_path_segment_whatever_it_holds() {
        assert_eq!(path_segment("crm-42.a_b~c"), "crm-42.a_b~c");
        assert_eq!(path_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(path_segment("é"), "%C3%A9");
    }
}
