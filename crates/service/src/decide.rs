//! Decide a draft: approve (runs the selected actions, queues the reply), reject, or
//! escalate to a lead.
//!
//! Each decision carries the draft version the reviewer saw and, for approvals, an
//! idempotency key. The draft's row is locked for the whole decision, so of two concurrent
//! decisions exactly one wins; a repeated key gets the first answer back. The rules (who
//! may decide, the money limit, what is sent) are `deskhand_core::review`'s; the HTTP
//! layer only parses requests into the commands below and maps the answers.

use crate::Wakeups;
use deskhand_contracts::decision::{self, DecisionEvent, DecisionReviewer, SentReply};
use deskhand_contracts::{
    headers, trace_context, DraftEventError, InboundEmailDto, InboundEventDto, StoredDraft,
};
use deskhand_core::delivery::PolicySettings;
use deskhand_core::draft::UnknownLabel;
use deskhand_core::memory::MemorySettings;
use deskhand_core::review::{
    reply_summary, reply_to_send, select_actions, subject_to_send, Correction, DecisionKind,
    OutgoingEmail, Refusal, ReviewPolicy, ReviewStatus,
};
use deskhand_core::{Action, ActionId, Draft, DraftId, ProposedAction, Transience};
use deskhand_db::{
    ActionToRun, Approval, ApprovalOutcome, DecisionStart, IdempotencyKey, OutboxMessage, Outcome,
    PendingDecision, RecordedDecision, Reopening, Reviewer, Store, Verdict,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

/// What deciding is configured with.
#[derive(Debug, Clone)]
pub struct DecideSettings {
    pub policy: ReviewPolicy,
    /// The late-delivery policy an approval's actions are checked against again.
    pub delivery_policy: PolicySettings,
    pub memory: MemorySettings,
    /// The domain of our `Message-ID`s (the part after `@` in `DESKHAND_MAIL_FROM`).
    pub mail_domain: String,
    /// Where decision events go (`DESKHAND_TOPIC_DECIDED`).
    pub decided_topic: String,
    /// Where requests for a fresh draft go (the inbound topic).
    pub inbound_topic: String,
    /// The business date for coupons, when pinned.
    pub today: Option<time::Date>,
}

/// An approval as the reviewer asked for it.
#[derive(Debug, Clone, Default)]
pub struct Approve {
    /// The draft version the reviewer saw.
    pub version: i32,
    /// The reviewer's edit of the reply; `None` sends the draft as written.
    pub reply_body: Option<String>,
    /// The reviewer's subject, when they changed the drafted one.
    pub reply_subject: Option<String>,
    /// The actions to run; `None` runs every proposed action.
    pub action_ids: Option<Vec<ActionId>>,
    /// The reviewer's view of the topic and urgency, as sent.
    pub correction: Option<LabelsAsSent>,
}

/// The reviewer's view of the labels as sent. They are read once the draft is open, so
/// that a replayed key, an unknown draft or a conflict is answered first, as it always was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelsAsSent {
    pub topic: Option<String>,
    pub urgency: Option<String>,
}

impl TryFrom<&LabelsAsSent> for Correction {
    type Error = DecideError;
    fn try_from(sent: &LabelsAsSent) -> Result<Self, DecideError> {
        let invalid = |e: UnknownLabel| DecideError::Invalid(format!("correction: {e}"));
        Ok(Correction {
            topic: sent
                .topic
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(invalid)?,
            urgency: sent
                .urgency
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(invalid)?,
        })
    }
}

/// A rejection (with its reason) or an escalation to a lead (with a note).
#[derive(Debug, Clone)]
pub struct Conclude {
    pub kind: Concluding,
    pub version: i32,
    pub reason: String,
    /// The reviewer's view of the topic and urgency (rejections), as sent.
    pub correction: Option<LabelsAsSent>,
}

/// The decisions that end without sending anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concluding {
    Reject,
    Escalate,
}

/// A decision's answer: the response recorded with it, which a repeated idempotency key
/// gets again.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub response: Value,
    /// `true` when the key had already decided and this is its first answer.
    pub replayed: bool,
}

/// Why a decision was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("no draft {0}")]
    NotFound(DraftId),
    /// The draft is not where the reviewer thought (decided, changed, stale), or the data
    /// refused an action; `code` is stable for clients.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        current_version: Option<i32>,
    },
    /// A review rule refused it (over the money limit, an escalated draft, ...).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The request cannot be carried out as asked (a reason missing, no address).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(deskhand_db::Error),
}

impl From<deskhand_db::Error> for DecideError {
    fn from(error: deskhand_db::Error) -> Self {
        match error {
            // The same key for two requests at once: the client's bug, as when in turn.
            deskhand_db::Error::KeyTaken => Self::Invalid(error.to_string()),
            error => Self::Store(error),
        }
    }
}

impl Transience for DecideError {
    fn is_transient(&self) -> bool {
        matches!(self, Self::Store(error) if error.is_transient())
    }
}

impl DecideError {
    fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
            current_version: None,
        }
    }
}

/// The decide use case over the review queue's store.
#[derive(Debug, Clone)]
pub struct Decisions {
    store: Store,
    settings: Arc<DecideSettings>,
    wakeups: Wakeups,
}

/// What opening a decision came to.
enum Opened {
    /// The draft's row is locked and every shared check passed: decide on this draft, read
    /// from the queue once (an unreadable one is refused where each decision needs it).
    Decide(
        Box<PendingDecision>,
        Box<Result<StoredDraft, DraftEventError>>,
    ),
    /// The answer is already known (a replayed idempotency key).
    Answered(Decided),
}

impl Decisions {
    pub fn new(store: Store, settings: DecideSettings, wakeups: Wakeups) -> Self {
        Self {
            store,
            settings: Arc::new(settings),
            wakeups,
        }
    }

    pub fn settings(&self) -> &DecideSettings {
        &self.settings
    }

    /// Reopens a draft that was closed on arrival as needing no reply: it joins the
    /// pending queue (audited), at the version the reviewer saw.
    pub async fn reopen(
        &self,
        reviewer: &Reviewer,
        draft_id: DraftId,
        version: i32,
    ) -> Result<serde_json::Value, DecideError> {
        match self.store.reopen(draft_id, reviewer.id, version).await? {
            Reopening::Reopened { version } => Ok(json!({
                "draft_id": draft_id,
                "status": ReviewStatus::Pending.as_str(),
                "version": version,
            })),
            Reopening::NotFound => Err(DecideError::NotFound(draft_id)),
            Reopening::Refused {
                status: ReviewStatus::Closed,
                version: current,
            } => Err(DecideError::Conflict {
                code: "version_conflict",
                message: format!(
                    "draft {draft_id} changed since you opened it (you saw version {version}, it is at {current}); reload it"
                ),
                current_version: Some(current),
            }),
            Reopening::Refused { status, version } => Err(DecideError::Conflict {
                code: "not_closed",
                message: format!("draft {draft_id} is {}; only a closed draft can be reopened", status.as_str()),
                current_version: Some(version),
            }),
        }
    }

    /// Approves `draft_id`: runs the selected actions, stores the reply's summary in the
    /// case memory, queues the reply and the decision event. All or nothing.
    pub async fn approve(
        &self,
        reviewer: &Reviewer,
        draft_id: DraftId,
        idempotency_key: &str,
        approve: Approve,
    ) -> Result<Decided, DecideError> {
        let mut hashed = json!({
            "version": approve.version,
            "reply_body": approve.reply_body,
            "action_ids": approve.action_ids,
            "correction": labels_as_sent(approve.correction.as_ref()),
        });
        // Only when sent: a request without it hashes as it did before subjects could be
        // edited, so a retry across the upgrade still replays.
        if let Some(subject) = &approve.reply_subject {
            hashed["reply_subject"] = json!(subject);
        }
        let request_hash = request_hash(draft_id, DecisionKind::Approve, &hashed);
        let key = Some(IdempotencyKey {
            key: idempotency_key,
            request_hash: &request_hash,
        });
        let (pending, stored) = match self.open(reviewer, draft_id, key, approve.version).await? {
            Opened::Decide(pending, stored) => (pending, *stored),
            Opened::Answered(decided) => return Ok(decided),
        };
        let StoredDraft { draft, email } = stored.map_err(unreadable)?;
        let trace_parent = pending.trace_parent.clone();
        let correction = correction_of(approve.correction.as_ref(), &draft)?;

        let actions = select_actions(&draft.proposed_actions, approve.action_ids.as_deref())?;
        self.settings.policy.may_approve(reviewer.role, &actions)?;
        let (reply_body, edited) = reply_to_send(
            draft.reply.as_ref().map(|r| r.body.as_str()),
            approve.reply_body.as_deref(),
        )?;
        let Some(email) = email else {
            return Err(DecideError::Invalid(
                "the draft event carries no email, so there is no address to reply to".into(),
            ));
        };
        let to = pending.reply_to.clone().ok_or_else(|| {
            DecideError::Invalid(format!("cannot reply to {:?}: no address", email.from))
        })?;
        let drafted_subject = match &draft.reply {
            Some(reply) => reply.subject.clone(),
            None => reply_subject(email.subject.as_deref()),
        };
        // `edited` stays about the reply's text: an approval with a retitled subject still
        // confirms the agent's labels and reply for training and the stats.
        let (subject, _retitled) =
            subject_to_send(&drafted_subject, approve.reply_subject.as_deref())?;
        let today = self
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
            &self.settings.mail_domain,
            email.message_id.as_deref(),
        );
        let request = json!({
            "version": approve.version,
            "reply_body": approve.reply_body,
            "reply_subject": approve.reply_subject,
            "action_ids": approve.action_ids,
            "correction": correction,
        });
        let approval = Approval {
            reviewer,
            idempotency_key: key,
            request,
            reply_body: &reply_body,
            edited,
            actions: to_run,
            memory_line: reply_summary(&reply_body, self.settings.memory.max_summary_chars),
            memory_settings: &self.settings.memory,
            outgoing: serde_json::to_value(&outgoing).expect("an email serialises"),
            correction,
            policy: &self.settings.delivery_policy,
            today,
        };
        let decided_topic = &self.settings.decided_topic;
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
                    decided_topic,
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
                self.wakeups.outbox.notify_one();
                self.wakeups.mail.notify_one();
                tracing::info!(%draft_id, reviewer = %reviewer.name, edited, "draft approved");
                Ok(Decided {
                    response,
                    replayed: false,
                })
            }
            ApprovalOutcome::Refused(refused) => {
                Err(DecideError::conflict("action_refused", refused.to_string()))
            }
        }
    }

    /// Rejects `draft_id` with a reason, or escalates it to a lead with a note.
    pub async fn conclude(
        &self,
        reviewer: &Reviewer,
        draft_id: DraftId,
        idempotency_key: Option<&str>,
        conclude: Conclude,
    ) -> Result<Decided, DecideError> {
        let kind = match conclude.kind {
            Concluding::Reject => DecisionKind::Reject,
            Concluding::Escalate => DecisionKind::Escalate,
        };
        let reason = conclude.reason.trim().to_owned();
        if reason.is_empty() {
            let field = match conclude.kind {
                Concluding::Reject => "reason",
                Concluding::Escalate => "note",
            };
            return Err(DecideError::Invalid(format!("{field} must not be empty")));
        }
        let version = conclude.version;
        let request_hash = request_hash(
            draft_id,
            kind,
            &json!({
                "version": version,
                "reason": reason,
                "correction": labels_as_sent(conclude.correction.as_ref()),
            }),
        );
        let idempotency_key = idempotency_key.map(|key| IdempotencyKey {
            key,
            request_hash: &request_hash,
        });
        let (pending, stored) = match self
            .open(reviewer, draft_id, idempotency_key, version)
            .await?
        {
            Opened::Decide(pending, stored) => (pending, stored),
            Opened::Answered(decided) => return Ok(decided),
        };
        if kind == DecisionKind::Escalate && pending.status == ReviewStatus::Escalated {
            return Err(DecideError::conflict(
                "already_escalated",
                "this draft is already with a lead",
            ));
        }
        let draft = stored.map_err(unreadable)?.draft;
        let correction = correction_of(conclude.correction.as_ref(), &draft)?;
        let trace_parent = pending.trace_parent.clone();
        let status = match conclude.kind {
            Concluding::Reject => "rejected",
            Concluding::Escalate => "escalated",
        };
        let decided_topic = &self.settings.decided_topic;
        let response = pending
            .conclude(
                Verdict {
                    reviewer,
                    kind,
                    idempotency_key,
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
                        decided_topic,
                        &draft,
                        trace_parent.as_deref(),
                        reviewer,
                        recorded,
                        match conclude.kind {
                            Concluding::Reject => decision::Verdict::Rejected {
                                reason: reason.clone(),
                            },
                            Concluding::Escalate => decision::Verdict::Escalated {
                                note: reason.clone(),
                            },
                        },
                    ),
                },
            )
            .await?;
        self.wakeups.outbox.notify_one();
        tracing::info!(%draft_id, reviewer = %reviewer.name, decision = kind.as_str(), "draft decided");
        Ok(Decided {
            response,
            replayed: false,
        })
    }

    /// Locks the draft and runs the checks every decision shares.
    async fn open(
        &self,
        who: &Reviewer,
        draft_id: DraftId,
        key: Option<IdempotencyKey<'_>>,
        version: i32,
    ) -> Result<Opened, DecideError> {
        let pending = match self.store.begin_decision(draft_id, who.id, key).await? {
            DecisionStart::NotFound => return Err(DecideError::NotFound(draft_id)),
            DecisionStart::KeyReused { draft_id: decided } => {
                return Err(DecideError::Invalid(if decided == draft_id {
                    "this Idempotency-Key was already used with a different request; send a new key for a new request".to_owned()
                } else {
                    format!("this Idempotency-Key was already used for draft {decided}")
                }));
            }
            DecisionStart::Replay {
                draft_id: decided,
                response,
            } => {
                if decided != draft_id {
                    return Err(DecideError::Invalid(format!(
                        "this Idempotency-Key was already used for draft {decided}"
                    )));
                }
                return Ok(Opened::Answered(Decided {
                    response,
                    replayed: true,
                }));
            }
            DecisionStart::Open(pending) => pending,
        };
        if !pending.status.is_open() {
            let verb = match pending.status {
                ReviewStatus::Approved => "was already approved",
                ReviewStatus::Rejected => "was already rejected",
                ReviewStatus::Closed => "was closed as needing no reply; reopen it first",
                _ => "is stale: a newer email arrived in its case, and a fresh draft was requested",
            };
            return Err(DecideError::Conflict {
                code: "already_decided",
                message: format!("draft {draft_id} {verb}; it cannot be decided again"),
                current_version: Some(pending.version),
            });
        }
        if pending.version != version {
            return Err(DecideError::Conflict {
                code: "version_conflict",
                message: format!(
                    "draft {draft_id} changed since you opened it (you saw version {version}, it is at {}); reload it",
                    pending.version
                ),
                current_version: Some(pending.version),
            });
        }
        self.settings.policy.may_decide(who.role, pending.status)?;
        let stored = StoredDraft::from_json(&pending.draft);
        let mut pending = pending;
        if pending.is_stale().await? {
            let redraft = stored.as_ref().ok().and_then(|s| self.redraft_request(s));
            let case_id = pending.case_id.clone();
            let version = pending.mark_stale(redraft.as_ref()).await?;
            self.wakeups.outbox.notify_one();
            tracing::info!(%draft_id, "stale draft taken out of the queue; fresh draft requested");
            return Err(DecideError::Conflict {
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

    /// The inbound event asking the worker for a fresh draft of a stale draft's email, or
    /// `None` when the draft carries no email to re-send.
    fn redraft_request(&self, stored: &StoredDraft) -> Option<OutboxMessage> {
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
            topic: self.settings.inbound_topic.clone(),
            key: draft.case_id.to_string(),
            payload: serde_json::to_vec(&request).expect("an event serialises"),
            headers: BTreeMap::from([
                (headers::REDRAFT_OF.to_owned(), original_event),
                (headers::TRACE_ID.to_owned(), draft.trace_id.clone()),
            ]),
        })
    }
}

/// The reviewer's correction against the draft's own labels (a "correction" to the same
/// label is none).
fn correction_of(sent: Option<&LabelsAsSent>, draft: &Draft) -> Result<Correction, DecideError> {
    Ok(match sent {
        Some(sent) => Correction::try_from(sent)?
            .against(draft.classification.topic, draft.classification.urgency),
        None => Correction::default(),
    })
}

/// A queued draft that no longer reads as one.
fn unreadable(error: DraftEventError) -> DecideError {
    DecideError::Invalid(match error {
        DraftEventError::Shape(e) => format!("stored draft is unreadable: {e}"),
        DraftEventError::Field(e) => format!("stored draft is invalid: {e}"),
    })
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

fn reply_subject(subject: Option<&str>) -> String {
    match subject.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if s.to_lowercase().starts_with("re:") => s.to_owned(),
        Some(s) => format!("Re: {s}"),
        None => "Re: your message".to_owned(),
    }
}

/// Turns a proposed action into what the store runs; an action outside the policy's
/// bounds refuses the whole approval rather than run half of it.
fn action_to_run(proposed: &ProposedAction, today: time::Date) -> Result<ActionToRun, DecideError> {
    let out_of_bounds = |what: &str| {
        DecideError::Invalid(format!(
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
        Action::CancelOrder(cancel) => {
            if cancel.amount_cents < 0 {
                return Err(out_of_bounds("amount_cents"));
            }
            Ok(ActionToRun::CancelOrder {
                action_id: proposed.id.clone(),
                order_id: cancel.order_id,
                amount_cents: cancel.amount_cents,
                reason: cancel.reason.clone(),
            })
        }
        Action::StartReturn(start) if start.order_total_cents < 0 => {
            Err(out_of_bounds("order_total_cents"))
        }
        Action::UpdateShippingAddress(change) if change.order_total_cents < 0 => {
            Err(out_of_bounds("order_total_cents"))
        }
        // Judged again: a draft stored before the address rules tightened is held to them.
        Action::UpdateShippingAddress(change)
            if deskhand_core::address::ShippingAddress::parse(change.to.as_str()).is_err() =>
        {
            Err(out_of_bounds("to"))
        }
        Action::StartReturn(start) => Ok(ActionToRun::StartReturn {
            action_id: proposed.id.clone(),
            order_id: start.order_id,
            code: start.code.clone(),
            last_day: start.last_day,
            reason: start.reason.clone(),
        }),
        Action::UpdateShippingAddress(change) => Ok(ActionToRun::UpdateShippingAddress {
            action_id: proposed.id.clone(),
            order_id: change.order_id,
            from: change.from.clone(),
            to: change.to.clone(),
        }),
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

/// What identifies a decision request for its idempotency key: the draft, the kind of
/// decision and the body as sent, hashed (SHA-256, hex).
fn request_hash(draft_id: DraftId, kind: DecisionKind, body: &Value) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{draft_id}\n{}\n{body}", kind.as_str()).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A correction as sent, for the request hash.
fn labels_as_sent(labels: Option<&LabelsAsSent>) -> Value {
    labels.map_or(
        Value::Null,
        |l| json!({"topic": l.topic, "urgency": l.urgency}),
    )
}
