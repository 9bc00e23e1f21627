//! `POST /api/v1/triage:dry-run`: "what would it have said?" One email through the graph
//! against the live store; the draft event comes back, and nothing else happens.

use crate::auth::ReviewerCaller;
use crate::body::{read_posted, MessageParams};
use crate::{IntakeState, Problem};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use deskhand_contracts::DraftEvent;
use serde_json::json;
use std::sync::Arc;

pub(crate) async fn dry_run<P>(
    State(state): State<Arc<IntakeState<P>>>,
    ReviewerCaller(reviewer): ReviewerCaller,
    params: Result<Query<MessageParams>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<DraftEvent>, Problem>
where
    P: Send + Sync + 'static,
{
    let runner = state.dry_run.as_ref().ok_or_else(|| {
        Problem::Unavailable("this process runs no triage graph for dry runs".to_owned())
    })?;
    let Query(params) = params.map_err(|e| Problem::Invalid(e.body_text()))?;
    let posted = read_posted(&headers, params, body, &state.settings).await?;
    // A dry run shows the customer's orders and case: who looked is audited like a view
    // of a draft. It is the one row a dry run writes.
    state
        .store
        .audit(
            Some(reviewer.id),
            "dry_run",
            None,
            Some(posted.email.customer_id),
            json!({ "event_id": posted.email.event_id.as_str() }),
        )
        .await?;
    let event = runner.dry_run(&posted.email).await.map_err(|error| {
        if error.transient {
            // The cause (a host, a URL) is the log's, not the caller's.
            tracing::warn!(%error, "dry run could not finish");
            Problem::Unavailable("the store or the model is away".to_owned())
        } else {
            tracing::error!(%error, "dry run failed");
            Problem::Internal
        }
    })?;
    Ok(Json(event))
}
