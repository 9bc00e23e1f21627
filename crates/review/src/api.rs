//! Reading: the queue, one draft, the audit log, the stats.

use crate::auth::Authenticated;
use crate::{ApiError, ReviewState};
use axum::extract::{Path, Query, State};
use axum::Json;
use deskhand_core::review::{ReviewStatus, SlaTargets};
use deskhand_core::{DraftId, Route, Topic, Urgency};
use deskhand_db::{QueueFilter, QueueItem};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
pub(crate) struct QueueParams {
    status: Option<String>,
    topic: Option<String>,
    urgency: Option<String>,
    route: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// A queue line with its service-level due time.
#[derive(Debug, Serialize)]
pub(crate) struct QueueLine {
    #[serde(flatten)]
    item: QueueItem,
    #[serde(with = "time::serde::rfc3339")]
    due_at: OffsetDateTime,
    sla_breached: bool,
}

pub(crate) fn with_sla(item: QueueItem, sla: &SlaTargets, now: OffsetDateTime) -> QueueLine {
    let due_at = sla.due(item.urgency, item.email_received_at);
    let decided_or_now = item.decided_at.unwrap_or(now);
    QueueLine {
        sla_breached: decided_or_now > due_at && item.status != ReviewStatus::Stale,
        due_at,
        item,
    }
}

fn label<T: std::str::FromStr>(name: &str, raw: Option<String>) -> Result<Option<T>, ApiError>
where
    T::Err: std::fmt::Display,
{
    match raw.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(value) => value
            .parse::<T>()
            .map(Some)
            .map_err(|e| ApiError::BadRequest(format!("{name}: {e}"))),
    }
}

/// `GET /api/drafts`: the queue, most urgent first and oldest first within an urgency.
pub(crate) async fn list_drafts(
    State(state): State<ReviewState>,
    who: Authenticated,
    Query(params): Query<QueueParams>,
) -> Result<Json<Value>, ApiError> {
    let status = match params.status.as_deref().filter(|s| !s.is_empty()) {
        None => Some(ReviewStatus::Pending),
        Some("all") => None,
        Some(raw) => Some(raw.parse().map_err(ApiError::BadRequest)?),
    };
    let filter = QueueFilter {
        status,
        topic: label::<Topic>("topic", params.topic)?,
        urgency: label::<Urgency>("urgency", params.urgency)?,
        route: label::<Route>("route", params.route)?,
        query: params
            .q
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty()),
        limit: params.limit.unwrap_or(50).clamp(1, 200),
        offset: params.offset.unwrap_or(0).max(0),
    };
    let page = state.store.list_queue(&filter).await?;
    state
        .store
        .audit(
            Some(who.reviewer.id),
            "list_drafts",
            None,
            None,
            json!({
                "status": status.map(ReviewStatus::as_str),
                "shown": page.items.iter().map(|i| i.draft_id).collect::<Vec<_>>(),
            }),
        )
        .await?;
    let now = OffsetDateTime::now_utc();
    let items: Vec<QueueLine> = page
        .items
        .into_iter()
        .map(|item| with_sla(item, &state.settings.sla, now))
        .collect();
    Ok(Json(json!({
        "items": items,
        "total": page.total,
        "limit": filter.limit,
        "offset": filter.offset,
        "counts": page.counts,
    })))
}

/// `GET /api/drafts/{id}`: everything a reviewer needs to decide.
pub(crate) async fn draft_detail(
    State(state): State<ReviewState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_draft_id(&id)?;
    let detail = state
        .store
        .review_detail(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no draft {id}")))?;
    state
        .store
        .audit(
            Some(who.reviewer.id),
            "view_draft",
            Some(id),
            Some(detail.item.customer_id),
            json!({}),
        )
        .await?;
    let now = OffsetDateTime::now_utc();
    let line = with_sla(detail.item, &state.settings.sla, now);
    Ok(Json(json!({
        "summary": line,
        "draft": detail.draft,
        "memory": detail.memory,
        "case_drafts": detail.case_drafts,
        "decisions": detail.decisions,
        "outgoing": detail.outgoing,
        "policy": {
            "reviewer_max_action_cents": state.decisions.settings().policy.reviewer_max_action_cents,
            "coupon_value_cents": state.decisions.settings().policy.coupon_value_cents,
        },
    })))
}

pub(crate) fn parse_draft_id(raw: &str) -> Result<DraftId, ApiError> {
    Uuid::parse_str(raw)
        .map(DraftId::from_uuid)
        .map_err(|_| ApiError::NotFound(format!("no draft {raw}")))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AuditParams {
    limit: Option<i64>,
    before: Option<i64>,
}

/// `GET /api/audit`: who looked at or decided what, newest first. Leads and admins only.
pub(crate) async fn audit(
    State(state): State<ReviewState>,
    who: Authenticated,
    Query(params): Query<AuditParams>,
) -> Result<Json<Value>, ApiError> {
    if !who.reviewer.role.is_lead() {
        return Err(ApiError::Forbidden(
            "the audit log is for leads and admins".to_owned(),
        ));
    }
    let entries = state
        .store
        .audit_log(params.limit.unwrap_or(100).clamp(1, 1000), params.before)
        .await?;
    Ok(Json(json!({ "entries": entries })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct StatsParams {
    hours: Option<i32>,
}

/// `GET /api/stats`: the team's numbers over the last `hours` (default 24).
pub(crate) async fn stats(
    State(state): State<ReviewState>,
    _who: Authenticated,
    Query(params): Query<StatsParams>,
) -> Result<Json<deskhand_db::ReviewStats>, ApiError> {
    let hours = params.hours.unwrap_or(24).clamp(1, 24 * 90);
    let since = OffsetDateTime::now_utc() - time::Duration::hours(hours.into());
    Ok(Json(
        state
            .store
            .review_stats(&state.settings.sla, since, hours.min(72))
            .await?,
    ))
}
