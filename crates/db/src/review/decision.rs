//! Decisions: a draft's row locked while the reviewer's decision is checked, its actions
//! run exactly once, and the decision, the audit line and the decision event recorded in
//! one transaction. The actions on whole orders (cancel, redirect, return) are in
//! [`orders`].

mod orders;

use super::*;
use crate::shop::{delivery_from_row, load_orders, OrderKeys, DELIVERY_COLUMNS, DELIVERY_FROM};
use deskhand_core::address::ShippingAddress;
use deskhand_core::delivery::{recheck_delivery, PolicyAction, PolicyRefusal, PolicySettings};
use deskhand_core::order::OrderRefusal;

/// A decision being made: the draft's row is locked until it is recorded or dropped.
#[derive(Debug)]
pub struct PendingDecision {
    tx: Transaction<'static, Postgres>,
    pub draft_id: DraftId,
    pub status: ReviewStatus,
    pub version: i32,
    pub case_id: String,
    pub customer_id: i64,
    pub draft: serde_json::Value,
    /// The `traceparent` of the span that made the draft, when it was traced.
    pub trace_parent: Option<String>,
    /// Where an approval's reply goes, parsed when the draft was queued.
    pub reply_to: Option<EmailAddress>,
    email_received_at: OffsetDateTime,
    drafted_at: OffsetDateTime,
}

/// A decision request's `Idempotency-Key`, with a hash of the request it came with. A key
/// is the reviewer's own: it replays only their own decision, and only for the same
/// request.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyKey<'a> {
    pub key: &'a str,
    /// A hash of what was asked (the draft, the kind of decision and its body).
    pub request_hash: &'a str,
}

/// What the caller found when it asked to decide.
#[derive(Debug)]
pub enum DecisionStart {
    /// No draft with this id.
    NotFound,
    /// This reviewer's key already decided this request: its stored response.
    Replay {
        draft_id: DraftId,
        response: serde_json::Value,
    },
    /// This reviewer's key already decided a different request (another body, or another
    /// draft): nothing is replayed and nothing is decided.
    KeyReused { draft_id: DraftId },
    /// The row is locked; decide.
    Open(Box<PendingDecision>),
}

/// An action the approval runs, already checked against the policy.
#[derive(Debug, Clone)]
pub enum ActionToRun {
    Refund {
        action_id: ActionId,
        delivery_id: i64,
        amount_cents: i64,
        reason: String,
    },
    Coupon {
        action_id: ActionId,
        delivery_id: i64,
        code: String,
        kind: String,
        issued_on: Date,
        expires_on: Date,
    },
    CancelOrder {
        action_id: ActionId,
        order_id: i64,
        amount_cents: i64,
        reason: String,
    },
    StartReturn {
        action_id: ActionId,
        order_id: i64,
        code: String,
        /// The last day the draft told the customer; the return is refused if the window
        /// has moved since.
        last_day: Date,
        reason: String,
    },
    UpdateShippingAddress {
        action_id: ActionId,
        order_id: i64,
        /// Where the reviewer was shown the order ships now.
        from: Option<ShippingAddress>,
        to: ShippingAddress,
    },
}

impl ActionToRun {
    /// The action as the late-delivery policy states it, for its check at approval;
    /// `None` for an action on a whole order.
    fn as_policy_action(&self) -> Option<PolicyAction> {
        Some(match self {
            Self::Refund { amount_cents, .. } => PolicyAction::RefundDeliveryFee {
                amount_cents: *amount_cents,
                days_late: 0,
            },
            Self::Coupon {
                issued_on,
                expires_on,
                ..
            } => PolicyAction::IssueCoupon {
                valid_days: (*expires_on - *issued_on).whole_days(),
            },
            Self::CancelOrder { .. }
            | Self::UpdateShippingAddress { .. }
            | Self::StartReturn { .. } => return None,
        })
    }

    /// The delivery the action acts on; `None` for an action on a whole order.
    pub fn delivery_id(&self) -> Option<i64> {
        match self {
            Self::Refund { delivery_id, .. } | Self::Coupon { delivery_id, .. } => {
                Some(*delivery_id)
            }
            Self::CancelOrder { .. }
            | Self::UpdateShippingAddress { .. }
            | Self::StartReturn { .. } => None,
        }
    }

    /// The order the action changes, if it acts on a whole order.
    fn order_id(&self) -> Option<i64> {
        match self {
            Self::CancelOrder { order_id, .. }
            | Self::UpdateShippingAddress { order_id, .. }
            | Self::StartReturn { order_id, .. } => Some(*order_id),
            Self::Refund { .. } | Self::Coupon { .. } => None,
        }
    }

    pub fn action_id(&self) -> &ActionId {
        match self {
            Self::Refund { action_id, .. }
            | Self::Coupon { action_id, .. }
            | Self::CancelOrder { action_id, .. }
            | Self::UpdateShippingAddress { action_id, .. }
            | Self::StartReturn { action_id, .. } => action_id,
        }
    }
}

/// Why an action could not run; the whole approval is rolled back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionRefused {
    #[error("delivery {0} is not this customer's")]
    NotCustomersDelivery(i64),
    #[error("refunding {amount} cents would exceed the fee of delivery {delivery_id}; it was already refunded")]
    OverRefund { delivery_id: i64, amount: i64 },
    #[error("delivery {0} already has a coupon")]
    CouponExists(i64),
    /// The policy, applied again to the store's facts at approval, does not allow it.
    #[error(transparent)]
    Policy(#[from] PolicyRefusal),
    /// The order, as it is at approval, cannot be cancelled or sent elsewhere (shipped
    /// since, already cancelled, another customer's, its total is not what the draft
    /// refunds, or it no longer ships where the reviewer was shown).
    #[error(transparent)]
    Order(#[from] OrderRefusal),
}

/// How an approval ended: recorded (with the response the caller made), or refused by
/// the data (and rolled back).
#[derive(Debug)]
pub enum ApprovalOutcome {
    Recorded(serde_json::Value),
    Refused(ActionRefused),
}

/// What running one action came to.
#[derive(Debug)]
enum ActionRun {
    Done(ActionResult),
    Refused(ActionRefused),
}

/// An approval to record.
#[derive(Debug)]
pub struct Approval<'a> {
    pub reviewer: &'a Reviewer,
    pub idempotency_key: Option<IdempotencyKey<'a>>,
    pub request: serde_json::Value,
    pub reply_body: &'a str,
    pub edited: bool,
    pub actions: Vec<ActionToRun>,
    /// The line the case memory keeps about the reply.
    pub memory_line: String,
    pub memory_settings: &'a MemorySettings,
    /// The email for the SMTP relay (JSON of `OutgoingEmail`).
    pub outgoing: serde_json::Value,
    /// The reviewer's correction of the topic or urgency, if any.
    pub correction: Correction,
    /// The late-delivery policy every action is checked against again, as of `today`.
    pub policy: &'a PolicySettings,
    pub today: Date,
}

/// A rejection or escalation to record.
#[derive(Debug)]
pub struct Verdict<'a> {
    pub reviewer: &'a Reviewer,
    pub kind: DecisionKind,
    pub idempotency_key: Option<IdempotencyKey<'a>>,
    pub request: serde_json::Value,
    pub reason: &'a str,
    /// The reviewer's correction of the topic or urgency, if any.
    pub correction: Correction,
}

/// What the caller makes of a recorded decision, stored in the same transaction: the
/// response (replayed for a repeated idempotency key) and the decision event.
#[derive(Debug)]
pub struct Outcome {
    pub response: serde_json::Value,
    pub event: OutboxMessage,
}

/// What a recorded decision returns.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub decision_id: i64,
    pub decided_at: OffsetDateTime,
    pub version: i32,
    pub actions: Vec<ActionResult>,
}

impl Store {
    /// Starts a decision by `reviewer_id` on `draft_id`: replays their idempotency key if
    /// it already decided this request, refuses it if it decided another, or locks the
    /// draft's row for the caller to decide.
    pub async fn begin_decision(
        &self,
        draft_id: DraftId,
        reviewer_id: i64,
        idempotency_key: Option<IdempotencyKey<'_>>,
    ) -> Result<DecisionStart> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query(
            "SELECT status, version, case_id, customer_id, draft, trace_parent, reply_to,
                 email_received_at, drafted_at
             FROM reviews WHERE draft_id = $1 FOR UPDATE",
        )
        .bind(draft_id.as_uuid())
        .fetch_optional(&mut *tx)
        .await?;
        // Checked after the lock: a concurrent request with the same key for this draft has
        // committed by now, so its answer is found; one for another draft is caught when
        // the decision is inserted.
        if let Some(idempotency) = idempotency_key {
            let replay = sqlx::query(
                "SELECT draft_id, response, request_hash FROM decisions
                 WHERE reviewer_id = $1 AND idempotency_key = $2",
            )
            .bind(reviewer_id)
            .bind(idempotency.key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(replay) = replay {
                let draft_id = DraftId::from_uuid(replay.try_get("draft_id")?);
                // Decided before requests were hashed: replayed as it always was.
                let hash: Option<String> = replay.try_get("request_hash")?;
                if hash.is_some_and(|h| h != idempotency.request_hash) {
                    return Ok(DecisionStart::KeyReused { draft_id });
                }
                return Ok(DecisionStart::Replay {
                    draft_id,
                    response: replay.try_get("response")?,
                });
            }
        }
        let Some(row) = row else {
            return Ok(DecisionStart::NotFound);
        };
        let status: String = row.try_get("status")?;
        Ok(DecisionStart::Open(Box::new(PendingDecision {
            tx,
            draft_id,
            status: parse_status(&status)?,
            version: row.try_get("version")?,
            case_id: row.try_get("case_id")?,
            customer_id: row.try_get("customer_id")?,
            draft: row.try_get("draft")?,
            trace_parent: row.try_get("trace_parent")?,
            // Read back through the same parser: a value it refuses is no address (the
            // approval says so), never an error that would block rejecting the draft.
            reply_to: row
                .try_get::<Option<String>, _>("reply_to")?
                .and_then(|stored| EmailAddress::from_mailbox(&stored)),
            email_received_at: row.try_get("email_received_at")?,
            drafted_at: row.try_get("drafted_at")?,
        })))
    }
}

impl PendingDecision {
    /// True when a newer customer email reached the case after this draft was made:
    /// the draft answers a conversation that has moved on.
    pub async fn is_stale(&mut self) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (
                 SELECT 1 FROM emails e
                 WHERE e.case_id = $1 AND e.customer_id = $2
                   AND e.received_at > $3 AND e.ingested_at > $4)
             OR EXISTS (
                 SELECT 1 FROM reviews o
                 WHERE o.case_id = $1 AND o.customer_id = $2 AND o.draft_id <> $5
                   AND o.email_received_at > $3 AND o.queued_at > $4)",
        )
        .bind(&self.case_id)
        .bind(self.customer_id)
        .bind(self.email_received_at)
        .bind(self.drafted_at)
        .bind(self.draft_id.as_uuid())
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// Takes the stale draft out of the queue and asks the worker for a fresh one.
    pub async fn mark_stale(mut self, redraft: Option<&OutboxMessage>) -> Result<i32> {
        let version: i32 = sqlx::query_scalar(
            "UPDATE reviews SET status = 'stale', version = version + 1, decided_at = now()
             WHERE draft_id = $1 RETURNING version",
        )
        .bind(self.draft_id.as_uuid())
        .fetch_one(&mut *self.tx)
        .await?;
        if let Some(message) = redraft {
            message.insert(&mut self.tx).await?;
        }
        self.tx.commit().await?;
        Ok(version)
    }

    /// Runs the approval: actions, case memory, outgoing email, decision event, decision.
    /// All or nothing; an action the data refuses rolls everything back.
    pub async fn approve(
        mut self,
        approval: Approval<'_>,
        outcome: impl FnOnce(&Recorded) -> Outcome,
    ) -> Result<ApprovalOutcome> {
        // The customer's rows only: the same scope the worker reads with.
        sqlx::query("SELECT set_config('deskhand.customer_id', $1, true)")
            .bind(self.customer_id.to_string())
            .execute(&mut *self.tx)
            .await?;
        // Approvals of different drafts can act on one delivery at the same moment. Each
        // checks the refunds and coupons already there, and under READ COMMITTED both would
        // see none and both pay. So one delivery's actions run one approval at a time, and
        // the second sees what the first committed. Each delivery has a lock key of its own
        // (the two-key lock space; the outbox relay's lock is in the one-key space: the id's
        // high and low halves), taken in delivery order, so two approvals cannot deadlock.
        let mut deliveries: Vec<i64> = approval
            .actions
            .iter()
            .filter_map(ActionToRun::delivery_id)
            .collect();
        // A cancellation pays back what its deliveries' fee refunds have not: it takes the
        // same locks as a refund on any of them, so the two never pay at once.
        let cancelled: Vec<i64> = approval
            .actions
            .iter()
            .filter(|a| matches!(a, ActionToRun::CancelOrder { .. }))
            .filter_map(ActionToRun::order_id)
            .collect();
        if !cancelled.is_empty() {
            let theirs: Vec<i64> = sqlx::query_scalar(
                "SELECT delivery_id FROM deliveries WHERE order_id = ANY($1) AND customer_id = $2",
            )
            .bind(&cancelled)
            .bind(self.customer_id)
            .fetch_all(&mut *self.tx)
            .await?;
            deliveries.extend(theirs);
        }
        deliveries.sort_unstable();
        deliveries.dedup();
        for delivery_id in deliveries {
            sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind((delivery_id >> 32) as i32)
                .bind(delivery_id as i32)
                .execute(&mut *self.tx)
                .await?;
        }
        // The draft proposed these actions; what is paid is what the policy gives now, on
        // the store's facts (after the locks, so another approval's payment is seen).
        if let Some(refused) = self.recheck(&approval).await? {
            self.tx.rollback().await?;
            return Ok(ApprovalOutcome::Refused(refused));
        }
        let mut results = Vec::with_capacity(approval.actions.len());
        for action in &approval.actions {
            match self.run_action(action).await? {
                ActionRun::Done(result) => results.push(result),
                ActionRun::Refused(refused) => {
                    self.tx.rollback().await?;
                    return Ok(ApprovalOutcome::Refused(refused));
                }
            }
        }
        // Lock the memory row so the worker's optimistic write and ours serialise.
        sqlx::query("SELECT 1 FROM case_memory WHERE case_id = $1 AND customer_id = $2 FOR UPDATE")
            .bind(&self.case_id)
            .bind(self.customer_id)
            .execute(&mut *self.tx)
            .await?;
        let memory =
            crate::memory::load_memory(&mut self.tx, &self.case_id, self.customer_id).await?;
        let memory = memory.with_agent_reply(&approval.memory_line, approval.memory_settings);
        crate::memory::store_memory(&mut self.tx, &self.case_id, self.customer_id, &memory).await?;

        sqlx::query("INSERT INTO outgoing_emails (draft_id, message) VALUES ($1, $2)")
            .bind(self.draft_id.as_uuid())
            .bind(&approval.outgoing)
            .execute(&mut *self.tx)
            .await?;
        let action_ids: Vec<String> = approval
            .actions
            .iter()
            .map(|a| a.action_id().to_string())
            .collect();
        let recorded = self
            .record(
                approval.reviewer,
                DecisionKind::Approve,
                ReviewStatus::Approved,
                approval.idempotency_key,
                &approval.request,
                Some(approval.edited),
                Some(approval.reply_body),
                &action_ids,
                None,
                approval.correction,
                results,
            )
            .await?;
        let response = self.finish(&recorded, outcome).await?;
        Ok(ApprovalOutcome::Recorded(response))
    }

    /// Records a rejection or an escalation.
    pub async fn conclude(
        mut self,
        verdict: Verdict<'_>,
        outcome: impl FnOnce(&Recorded) -> Outcome,
    ) -> Result<serde_json::Value> {
        let status = match verdict.kind {
            DecisionKind::Escalate => ReviewStatus::Escalated,
            _ => ReviewStatus::Rejected,
        };
        let recorded = self
            .record(
                verdict.reviewer,
                verdict.kind,
                status,
                verdict.idempotency_key,
                &verdict.request,
                None,
                None,
                &[],
                Some(verdict.reason),
                verdict.correction,
                Vec::new(),
            )
            .await?;
        self.finish(&recorded, outcome).await
    }

    /// Stores the response a replay of the idempotency key gets, queues the decision
    /// event, and commits.
    async fn finish(
        mut self,
        recorded: &Recorded,
        outcome: impl FnOnce(&Recorded) -> Outcome,
    ) -> Result<serde_json::Value> {
        let Outcome { response, event } = outcome(recorded);
        sqlx::query("UPDATE decisions SET response = $2 WHERE decision_id = $1")
            .bind(recorded.decision_id)
            .bind(&response)
            .execute(&mut *self.tx)
            .await?;
        event.insert(&mut self.tx).await?;
        self.tx.commit().await?;
        Ok(response)
    }

    #[allow(clippy::too_many_arguments)]
    async fn record(
        &mut self,
        reviewer: &Reviewer,
        kind: DecisionKind,
        status: ReviewStatus,
        idempotency_key: Option<IdempotencyKey<'_>>,
        request: &serde_json::Value,
        edited: Option<bool>,
        reply_body: Option<&str>,
        action_ids: &[String],
        reason: Option<&str>,
        correction: Correction,
        actions: Vec<ActionResult>,
    ) -> Result<Recorded> {
        let row = sqlx::query(
            "UPDATE reviews SET status = $2, version = version + 1,
                 decided_at = CASE WHEN $2 = 'escalated' THEN decided_at ELSE now() END,
                 decided_by = $3
             WHERE draft_id = $1 RETURNING version, now() AS at",
        )
        .bind(self.draft_id.as_uuid())
        .bind(status.as_str())
        .bind(reviewer.id)
        .fetch_one(&mut *self.tx)
        .await?;
        let version: i32 = row.try_get("version")?;
        let decided_at: OffsetDateTime = row.try_get("at")?;
        // Two requests of one reviewer with one key, for two drafts, lock different rows:
        // the second to commit finds the key taken here, and its transaction rolls back.
        let decision_id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO decisions (draft_id, reviewer_id, kind, idempotency_key, request,
                 response, edited, reply_body, action_ids, reason, corrected_topic,
                 corrected_urgency, request_hash)
             VALUES ($1, $2, $3, $4, $5, '{}'::jsonb, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (reviewer_id, idempotency_key) DO NOTHING
             RETURNING decision_id",
        )
        .bind(self.draft_id.as_uuid())
        .bind(reviewer.id)
        .bind(kind.as_str())
        .bind(idempotency_key.map(|k| k.key))
        .bind(request)
        .bind(edited)
        .bind(reply_body)
        .bind(action_ids)
        .bind(reason)
        .bind(correction.topic.map(|t| t.as_str()))
        .bind(correction.urgency.map(|u| u.as_str()))
        .bind(idempotency_key.map(|k| k.request_hash))
        .fetch_optional(&mut *self.tx)
        .await?;
        let decision_id = decision_id.ok_or(Error::KeyTaken)?;
        sqlx::query(
            "INSERT INTO audit_log (reviewer_id, action, draft_id, customer_id, detail)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(reviewer.id)
        .bind(kind.as_str())
        .bind(self.draft_id.as_uuid())
        .bind(self.customer_id)
        .bind(serde_json::json!({
            "decision_id": decision_id,
            "request": request,
            "correction": (!correction.is_empty()).then_some(correction),
        }))
        .execute(&mut *self.tx)
        .await?;
        Ok(Recorded {
            decision_id,
            decided_at,
            version,
            actions,
        })
    }

    /// Checks each action against the policy on the customer's deliveries as they are now;
    /// the first refusal, if any.
    async fn recheck(&mut self, approval: &Approval<'_>) -> Result<Option<ActionRefused>> {
        if let Some(refused) = self.recheck_orders(approval).await? {
            return Ok(Some(refused));
        }
        let acted_on: Vec<i64> = approval
            .actions
            .iter()
            .filter_map(ActionToRun::delivery_id)
            .collect();
        if acted_on.is_empty() {
            return Ok(None);
        }
        let since = approval.today - time::Duration::days(approval.policy.coupon_lookback_days);
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} {DELIVERY_FROM}
             WHERE d.customer_id = $1 AND (d.delivery_id = ANY($2) OR d.expected_end >= $3)"
        ))
        .bind(self.customer_id)
        .bind(&acted_on)
        .bind(since)
        .fetch_all(&mut *self.tx)
        .await?;
        let facts = rows
            .iter()
            .map(delivery_from_row)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        // Per delivery, all its actions at once: two refunds of the allowed amount on one
        // delivery are twice what the policy gives.
        let mut deliveries = acted_on;
        deliveries.sort_unstable();
        deliveries.dedup();
        for delivery_id in deliveries {
            let Some(delivery) = facts.iter().find(|d| d.delivery_id == delivery_id) else {
                return Ok(Some(ActionRefused::NotCustomersDelivery(delivery_id)));
            };
            let actions: Vec<PolicyAction> = approval
                .actions
                .iter()
                .filter(|a| a.delivery_id() == Some(delivery_id))
                .filter_map(ActionToRun::as_policy_action)
                .collect();
            if let Err(refusal) =
                recheck_delivery(&actions, delivery, &facts, approval.today, approval.policy)
            {
                return Ok(Some(refusal.into()));
            }
        }
        Ok(None)
    }

    async fn run_action(&mut self, action: &ActionToRun) -> Result<ActionRun> {
        match action {
            ActionToRun::StartReturn { .. }
            | ActionToRun::UpdateShippingAddress { .. }
            | ActionToRun::CancelOrder { .. } => self.run_order_action(action).await,
            ActionToRun::Refund {
                action_id,
                delivery_id,
                amount_cents,
                reason,
            } => {
                // Never more than the delivery's fee in total, whoever approved before.
                let row = sqlx::query(
                    "INSERT INTO refunds (customer_id, delivery_id, amount_cents, reason, draft_id)
                     SELECT d.customer_id, d.delivery_id, $3, $4, $5 FROM deliveries d
                     WHERE d.delivery_id = $2 AND d.customer_id = $1
                       AND d.fee_cents >= $3 + coalesce(
                           (SELECT sum(amount_cents) FROM refunds f
                            WHERE f.delivery_id = d.delivery_id), 0)
                     RETURNING refund_id",
                )
                .bind(self.customer_id)
                .bind(delivery_id)
                .bind(amount_cents)
                .bind(reason)
                .bind(self.draft_id.as_uuid())
                .fetch_optional(&mut *self.tx)
                .await?;
                match row {
                    Some(row) => Ok(ActionRun::Done(ActionResult::RefundDeliveryFee {
                        action_id: action_id.clone(),
                        refund_id: row.try_get("refund_id")?,
                        delivery_id: *delivery_id,
                        amount_cents: *amount_cents,
                    })),
                    None => Ok(ActionRun::Refused(
                        self.why_not(*delivery_id, || ActionRefused::OverRefund {
                            delivery_id: *delivery_id,
                            amount: *amount_cents,
                        })
                        .await?,
                    )),
                }
            }
            ActionToRun::Coupon {
                action_id,
                delivery_id,
                code,
                kind,
                issued_on,
                expires_on,
            } => {
                let row = sqlx::query(
                    "INSERT INTO coupons (customer_id, delivery_id, code, kind, issued_on,
                         expires_on, draft_id)
                     SELECT d.customer_id, d.delivery_id, $3, $4, $5, $6, $7 FROM deliveries d
                     WHERE d.delivery_id = $2 AND d.customer_id = $1
                       AND NOT EXISTS (SELECT 1 FROM coupons c WHERE c.delivery_id = d.delivery_id)
                     RETURNING coupon_id",
                )
                .bind(self.customer_id)
                .bind(delivery_id)
                .bind(code)
                .bind(kind)
                .bind(issued_on)
                .bind(expires_on)
                .bind(self.draft_id.as_uuid())
                .fetch_optional(&mut *self.tx)
                .await?;
                match row {
                    Some(row) => Ok(ActionRun::Done(ActionResult::IssueCoupon {
                        action_id: action_id.clone(),
                        coupon_id: row.try_get("coupon_id")?,
                        delivery_id: *delivery_id,
                        code: code.clone(),
                        expires_on: expires_on.to_string(),
                    })),
                    None => Ok(ActionRun::Refused(
                        self.why_not(*delivery_id, || ActionRefused::CouponExists(*delivery_id))
                            .await?,
                    )),
                }
            }
        }
    }

    /// Tells a delivery of another customer apart from the other refusals.
    async fn why_not(
        &mut self,
        delivery_id: i64,
        otherwise: impl FnOnce() -> ActionRefused,
    ) -> Result<ActionRefused> {
        let owned: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM deliveries WHERE delivery_id = $1 AND customer_id = $2)",
        )
        .bind(delivery_id)
        .bind(self.customer_id)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(if owned {
            otherwise()
        } else {
            ActionRefused::NotCustomersDelivery(delivery_id)
        })
    }
}
