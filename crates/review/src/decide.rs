//! Deciding: approve (runs the actions, sends the reply), reject, escalate.
//!
//! Each decision carries the draft version the reviewer saw and, for approvals, an
//! `Idempotency-Key`. The draft's row is locked for the whole decision, so of two
//! concurrent decisions exactly one wins; a repeated key gets the first answer back.

use crate::api::parse_draft_id;
use crate::auth::Authenticated;
use crate::{ApiError, ReviewState};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use deskhand_contracts::decision::{self, DecisionEvent, DecisionReviewer, SentReply};
use deskhand_contracts::{headers, trace_context, InboundEmailDto, InboundEventDto, StoredDraft};
use deskhand_core::review::Correction;
use deskhand_core::review::{
    reply_summary, reply_to_send, select_actions, DecisionKind, OutgoingEmail, Refusal,
    ReviewStatus,
};
use deskhand_core::{Action, ActionId, Draft, DraftId, ProposedAction, Topic, Urgency};
use deskhand_db::{
    ActionToRun, Approval, ApprovalOutcome, DecisionStart, OutboxMessage, Outcome, PendingDecision,
    RecordedDecision, Reviewer, Verdict,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

const IDEMPOTENCY_KEY: &str = "idempotency-key";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApproveBody {
    version: i32,
    reply_body: Option<String>,
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

/// The reviewer's view of the labels, as sent; parsed into a [`Correction`] at this edge.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CorrectionBody {
    topic: Option<String>,
    urgency: Option<String>,
}

impl TryFrom<CorrectionBody> for Correction {
    type Error = ApiError;
    fn try_from(body: CorrectionBody) -> Result<Self, ApiError> {
        let invalid = |e: deskhand_core::draft::UnknownLabel| {
            ApiError::Unprocessable(format!("correction: {e}"))
        };
        Ok(Correction {
            topic: body
                .topic
                .as_deref()
                .map(str::parse::<Topic>)
                .transpose()
                .map_err(invalid)?,
            urgency: body
                .urgency
                .as_deref()
                .map(str::parse::<Urgency>)
                .transpose()
                .map_err(invalid)?,
        })
    }
}

/// The correction against the draft's own labels (a "correction" to the same label is none).
fn correction_of(body: Option<CorrectionBody>, draft: &Draft) -> Result<Correction, ApiError> {
    Ok(match body {
        Some(body) => Correction::try_from(body)?
            .against(draft.classification.topic, draft.classification.urgency),
        None => Correction::default(),
    })
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

fn refusal(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::OverLimit { .. } | Refusal::EscalatedToLead(_) => {
            ApiError::Forbidden(refusal.to_string())
        }
        _ => ApiError::Unprocessable(refusal.to_string()),
    }
}

/// What opening a decision came to.
enum Opened {
    /// The draft's row is locked and every shared check passed: decide on this draft,
    /// read from the queue once.
    Decide(Box<PendingDecision>, Box<StoredDraft>),
    /// The answer is already known (a replayed idempotency key): send it.
    Answered(Response),
}

/// Locks the draft and runs the checks every decision shares.
async fn open(
    state: &ReviewState,
    who: &Reviewer,
    draft_id: DraftId,
    key: Option<&str>,
    version: i32,
) -> Result<Opened, ApiError> {
    let pending = match state.store.begin_decision(draft_id, key).await? {
        DecisionStart::NotFound => return Err(ApiError::NotFound(format!("no draft {draft_id}"))),
        DecisionStart::Replay {
            draft_id: decided,
            response,
        } => {
            if decided != draft_id {
                return Err(ApiError::Unprocessable(format!(
                    "this Idempotency-Key was already used for draft {decided}"
                )));
            }
            let mut replay = Json(response).into_response();
            replay.headers_mut().insert(
                "idempotent-replayed",
                "true".parse().expect("static header"),
            );
            return Ok(Opened::Answered(replay));
        }
        DecisionStart::Open(pending) => pending,
    };
    if !pending.status.is_open() {
        let verb = match pending.status {
            ReviewStatus::Approved => "was already approved",
            ReviewStatus::Rejected => "was already rejected",
            _ => "is stale: a newer email arrived in its case, and a fresh draft was requested",
        };
        return Err(ApiError::Conflict {
            code: "already_decided",
            message: format!("draft {draft_id} {verb}; it cannot be decided again"),
            current_version: Some(pending.version),
        });
    }
    if pending.version != version {
        return Err(ApiError::Conflict {
            code: "version_conflict",
            message: format!(
                "draft {draft_id} changed since you opened it (you saw version {version}, it is at {}); reload it",
                pending.version
            ),
            current_version: Some(pending.version),
        });
    }
    state
        .settings
        .policy
        .may_decide(who.role, pending.status)
        .map_err(refusal)?;
    let stored = StoredDraft::from_json(pending.draft.clone())
        .map_err(|e| ApiError::Unprocessable(format!("stored draft is unreadable: {e}")))?;
    let mut pending = pending;
    if pending.is_stale().await? {
        let redraft = redraft_request(state, &stored);
        let case_id = pending.case_id.clone();
        let version = pending.mark_stale(redraft.as_ref()).await?;
        state.wakeups.outbox.notify_one();
        tracing::info!(%draft_id, "stale draft taken out of the queue; fresh draft requested");
        return Err(ApiError::Conflict {
            code: "stale",
            message: format!(
                "a newer email arrived in case {case_id} after this draft was made, so it may answer \
                 the wrong question; it left the queue and a fresh draft was requested"
            ),
            current_version: Some(version),
        });
    }
    Ok(Opened::Decide(pending, Box::new(stored)))
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
    let key = idempotency_key(&headers, true)?;
    let body: ApproveBody = parse_body(&body)?;
    let reviewer = &who.reviewer;
    let (pending, stored) =
        match open(&state, reviewer, draft_id, key.as_deref(), body.version).await? {
            Opened::Decide(pending, stored) => (pending, *stored),
            Opened::Answered(response) => return Ok(response),
        };
    let StoredDraft { draft, email } = stored;
    let trace_parent = pending.trace_parent.clone();
    let correction = correction_of(body.correction, &draft)?;

    let actions =
        select_actions(&draft.proposed_actions, body.action_ids.as_deref()).map_err(refusal)?;
    state
        .settings
        .policy
        .may_approve(reviewer.role, &actions)
        .map_err(refusal)?;
    let (reply_body, edited) = reply_to_send(
        draft.reply.as_ref().map(|r| r.body.as_str()),
        body.reply_body.as_deref(),
    )
    .map_err(refusal)?;
    let Some(email) = email else {
        return Err(ApiError::Unprocessable(
            "the draft event carries no email, so there is no address to reply to".into(),
        ));
    };
    let to = sender_address(&email.from).ok_or_else(|| {
        ApiError::Unprocessable(format!("cannot reply to {:?}: no address", email.from))
    })?;
    let subject = match &draft.reply {
        Some(reply) => reply.subject.clone(),
        None => reply_subject(email.subject.as_deref()),
    };
    let today = state
        .settings
        .today
        .unwrap_or_else(|| OffsetDateTime::now_utc().date());
    let to_run = actions
        .iter()
        .map(|a| action_to_run(a, today))
        .collect::<Result<Vec<_>, _>>()?;
    let outgoing = OutgoingEmail::reply(
        &to,
        &subject,
        reply_body.clone(),
        draft_id,
        &state.settings.mail_domain,
        email.message_id.as_deref(),
    );
    let request = json!({
        "version": body.version,
        "reply_body": body.reply_body,
        "action_ids": body.action_ids,
        "correction": correction,
    });
    let approval = Approval {
        reviewer,
        idempotency_key: key.as_deref(),
        request,
        reply_body: &reply_body,
        edited,
        actions: to_run,
        memory_line: reply_summary(&reply_body, state.settings.memory.max_summary_chars),
        memory_settings: &state.settings.memory,
        outgoing: serde_json::to_value(&outgoing).expect("an email serialises"),
        correction,
    };
    let settings = state.settings.clone();
    let outcome = pending
        .approve(approval, |recorded| {
            let response = json!({
                "draft_id": draft_id,
                "status": "approved",
                "version": recorded.version,
                "decision_id": recorded.decision_id,
                "decided_at": rfc3339(recorded.decided_at),
                "edited": edited,
                "actions": recorded.actions,
                "delivery": "sending",
            });
            let event = decision_event(
                &settings.decided_topic,
                &draft,
                trace_parent.as_deref(),
                reviewer,
                recorded,
                decision::Verdict::Approved {
                    edited,
                    reply: SentReply {
                        to: outgoing.to.clone(),
                        subject: outgoing.subject.clone(),
                        body: outgoing.body.clone(),
                        message_id: outgoing.message_id.clone(),
                    },
                    actions: recorded.actions.clone(),
                },
            );
            Outcome { response, event }
        })
        .await?;
    match outcome {
        ApprovalOutcome::Recorded(response) => {
            state.wakeups.outbox.notify_one();
            state.wakeups.mail.notify_one();
            tracing::info!(%draft_id, reviewer = %reviewer.name, edited, "draft approved");
            Ok(Json(response).into_response())
        }
        ApprovalOutcome::Refused(refused) => {
            Err(ApiError::conflict("action_refused", refused.to_string()))
        }
    }
}

/// `POST /api/drafts/{id}/reject`.
pub(crate) async fn reject(
    State(state): State<ReviewState>,
    who: Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body: RejectBody = parse_body(&body)?;
    conclude(
        state,
        who,
        id,
        headers,
        DecisionKind::Reject,
        body.version,
        body.reason,
        body.correction,
    )
    .await
}

/// `POST /api/drafts/{id}/escalate`.
pub(crate) async fn escalate(
    State(state): State<ReviewState>,
    who: Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body: EscalateBody = parse_body(&body)?;
    conclude(
        state,
        who,
        id,
        headers,
        DecisionKind::Escalate,
        body.version,
        body.note,
        None,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn conclude(
    state: ReviewState,
    who: Authenticated,
    id: String,
    headers: HeaderMap,
    kind: DecisionKind,
    version: i32,
    reason: String,
    correction: Option<CorrectionBody>,
) -> Result<Response, ApiError> {
    let draft_id = parse_draft_id(&id)?;
    let key = idempotency_key(&headers, false)?;
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        let field = if kind == DecisionKind::Reject {
            "reason"
        } else {
            "note"
        };
        return Err(ApiError::Unprocessable(format!(
            "{field} must not be empty"
        )));
    }
    let reviewer = &who.reviewer;
    let (pending, stored) = match open(&state, reviewer, draft_id, key.as_deref(), version).await? {
        Opened::Decide(pending, stored) => (pending, stored),
        Opened::Answered(response) => return Ok(response),
    };
    if kind == DecisionKind::Escalate && pending.status == ReviewStatus::Escalated {
        return Err(ApiError::conflict(
            "already_escalated",
            "this draft is already with a lead",
        ));
    }
    let draft = stored.draft;
    let correction = correction_of(correction, &draft)?;
    let trace_parent = pending.trace_parent.clone();
    let status = if kind == DecisionKind::Escalate {
        "escalated"
    } else {
        "rejected"
    };
    let settings = state.settings.clone();
    let response = pending
        .conclude(
            Verdict {
                reviewer,
                kind,
                idempotency_key: key.as_deref(),
                request: json!({ "version": version, "reason": reason, "correction": correction }),
                reason: &reason,
                correction,
            },
            |recorded| Outcome {
                response: json!({
                    "draft_id": draft_id,
                    "status": status,
                    "version": recorded.version,
                    "decision_id": recorded.decision_id,
                    "decided_at": rfc3339(recorded.decided_at),
                }),
                event: decision_event(
                    &settings.decided_topic,
                    &draft,
                    trace_parent.as_deref(),
                    reviewer,
                    recorded,
                    if kind == DecisionKind::Escalate {
                        decision::Verdict::Escalated {
                            note: reason.clone(),
                        }
                    } else {
                        decision::Verdict::Rejected {
                            reason: reason.clone(),
                        }
                    },
                ),
            },
        )
        .await?;
    state.wakeups.outbox.notify_one();
    tracing::info!(%draft_id, reviewer = %reviewer.name, decision = kind.as_str(), "draft decided");
    Ok(Json(response).into_response())
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .expect("a timestamp formats")
}

/// The `deskhand.draft.decided` event (see `docs/events.md`).
fn decision_event(
    topic: &str,
    draft: &Draft,
    trace_parent: Option<&str>,
    reviewer: &Reviewer,
    recorded: &RecordedDecision,
    verdict: decision::Verdict,
) -> OutboxMessage {
    let event = DecisionEvent::new(
        draft,
        DecisionReviewer {
            name: reviewer.name.clone(),
            role: reviewer.role,
        },
        decision::Recorded {
            decision_id: recorded.decision_id,
            decided_at: recorded.decided_at,
            draft_version: recorded.version,
        },
        verdict,
    );
    OutboxMessage {
        topic: topic.to_owned(),
        key: draft.case_id.to_string(),
        payload: event.to_payload(),
        headers: decision_headers(draft, trace_parent, reviewer, event.decision),
    }
}

/// The decision joins the trace of the email its draft came from: a span for it, a child
/// of the span that made the draft (or, for a draft queued without its `traceparent`,
/// in the draft's trace), and that span's `traceparent` on the event, which the relay's
/// publish continues.
fn decision_headers(
    draft: &Draft,
    trace_parent: Option<&str>,
    reviewer: &Reviewer,
    kind: DecisionKind,
) -> BTreeMap<String, String> {
    let span = tracing::info_span!(
        "decision",
        otel.name = %format!("review {}", kind.as_str()),
        deskhand.decision = kind.as_str(),
        deskhand.draft_id = %draft.draft_id,
        deskhand.case_id = %draft.case_id,
        deskhand.reviewer_role = %reviewer.role,
    );
    match trace_parent {
        Some(parent) => trace_context::continue_trace(
            &span,
            &BTreeMap::from([(headers::TRACEPARENT.to_owned(), parent.to_owned())]),
        ),
        None => trace_context::join_trace(&span, &draft.trace_id),
    }
    let mut headers = trace_context::headers_of(&span);
    headers.insert(headers::EVENT_ID.to_owned(), draft.event_id.to_string());
    headers.insert(headers::TRACE_ID.to_owned(), draft.trace_id.clone());
    headers
}

/// The inbound event asking the worker for a fresh draft of a stale draft's email, or
/// `None` when the draft carries no email to re-send.
fn redraft_request(state: &ReviewState, stored: &StoredDraft) -> Option<OutboxMessage> {
    let email = stored.email.clone()?;
    let draft = &stored.draft;
    let (text, raw) = match (email.original_text, email.original_raw) {
        (Some(text), _) => (Some(text), None),
        (None, Some(raw)) => (None, Some(raw)),
        (None, None) => (Some(email.full_text), None),
    };
    let event_id = draft.event_id.as_str();
    let original_event = event_id
        .split("~redraft-")
        .next()
        .unwrap_or(event_id)
        .to_owned();
    let request = InboundEventDto {
        event_id: format!(
            "{original_event}~redraft-{}",
            &Uuid::new_v4().simple().to_string()[..12]
        ),
        case_id: draft.case_id.to_string(),
        customer_id: draft.customer_id.get(),
        customer_name: email.customer_name,
        received_at: email.received_at,
        email: InboundEmailDto {
            from: email.from,
            subject: email.subject,
            message_id: email.message_id,
            text,
            raw,
        },
        redraft_of: Some(original_event.clone()),
    };
    Some(OutboxMessage {
        topic: state.settings.inbound_topic.clone(),
        key: draft.case_id.to_string(),
        payload: serde_json::to_vec(&request).expect("an event serialises"),
        headers: BTreeMap::from([
            (headers::REDRAFT_OF.to_owned(), original_event),
            (headers::TRACE_ID.to_owned(), draft.trace_id.clone()),
        ]),
    })
}

/// The address in `Name <address>` or a bare address.
fn sender_address(from: &str) -> Option<String> {
    let address = match (from.rfind('<'), from.rfind('>')) {
        (Some(open), Some(close)) if open < close => &from[open + 1..close],
        _ => from,
    }
    .trim();
    let valid = address.contains('@')
        && !address.contains(|c: char| c.is_whitespace() || c.is_control() || c == ',');
    valid.then(|| address.to_owned())
}

fn reply_subject(subject: Option<&str>) -> String {
    match subject.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if s.to_lowercase().starts_with("re:") => s.to_owned(),
        Some(s) => format!("Re: {s}"),
        None => "Re: your message".to_owned(),
    }
}

/// Turns a proposed action into what the store runs; an action outside the policy's
/// bounds refuses the whole approval rather than run half of it.
fn action_to_run(proposed: &ProposedAction, today: time::Date) -> Result<ActionToRun, ApiError> {
    let out_of_bounds = |what: &str| {
        ApiError::Unprocessable(format!(
            "action {} ({}) has no valid {what}",
            proposed.id,
            proposed.action.kind()
        ))
    };
    match &proposed.action {
        Action::RefundDeliveryFee(refund) => {
            if refund.amount_cents <= 0 {
                return Err(out_of_bounds("amount_cents"));
            }
            Ok(ActionToRun::Refund {
                action_id: proposed.id.clone(),
                delivery_id: refund.delivery_id,
                amount_cents: refund.amount_cents,
                reason: refund.reason.clone(),
            })
        }
        Action::IssueCoupon(coupon) => {
            if !(1..=3650).contains(&coupon.valid_days) {
                return Err(out_of_bounds("valid_days"));
            }
            Ok(ActionToRun::Coupon {
                action_id: proposed.id.clone(),
                delivery_id: coupon.delivery_id,
                code: coupon_code(),
                kind: coupon.coupon.as_str().to_owned(),
                issued_on: today,
                expires_on: today + time::Duration::days(coupon.valid_days),
            })
        }
    }
}

/// `SHIP-` and 12 characters from a v4 UUID, without look-alikes (0/O, 1/I).
fn coupon_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let bytes = Uuid::new_v4().into_bytes();
    let code: String = bytes
        .iter()
        .take(12)
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect();
    format!("SHIP-{code}")
}
