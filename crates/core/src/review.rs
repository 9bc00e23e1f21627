//! Human review: who may decide what, which actions an approval runs, the reply that goes
//! out, and the service-level targets a queue is measured against.
//!
//! Everything here is a rule, not I/O: the review API and the store call these so the
//! same checks hold however a decision arrives.

use crate::action::{Action, ActionId, ProposedAction};
use crate::delivery::Cents;
use crate::draft::{Topic, Urgency};

pub use crate::action::{money_moved, ActionResult};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::{Duration, OffsetDateTime};

/// What a reviewer is allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Works the queue; approves actions up to the configured amount.
    Reviewer,
    /// Takes escalations and approves any amount.
    Lead,
    /// A lead who also manages reviewers.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Reviewer, Role::Lead, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reviewer => "reviewer",
            Role::Lead => "lead",
            Role::Admin => "admin",
        }
    }

    /// Leads and admins take escalated drafts and approve any amount.
    pub fn is_lead(self) -> bool {
        matches!(self, Role::Lead | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so a table's `{:<8}` lines roles up.
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| format!("unknown role {raw:?}; expected reviewer, lead or admin"))
    }
}

/// Where a draft is in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// Waiting for a reviewer.
    Pending,
    /// Handed to a lead; only a lead or admin may decide it.
    Escalated,
    /// Approved: actions ran and the reply is sending or sent.
    Approved,
    Rejected,
    /// A newer email arrived in the case after it was drafted; a fresh draft was requested.
    Stale,
    /// Needed no reply (a thank-you, an auto-reply, spam): closed on arrival, out of the
    /// queue and the SLA; a reviewer may reopen it.
    Closed,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 6] = [
        ReviewStatus::Pending,
        ReviewStatus::Escalated,
        ReviewStatus::Approved,
        ReviewStatus::Rejected,
        ReviewStatus::Stale,
        ReviewStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "pending",
            ReviewStatus::Escalated => "escalated",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
            ReviewStatus::Stale => "stale",
            ReviewStatus::Closed => "closed",
        }
    }

    /// Still waiting for a decision.
    pub fn is_open(self) -> bool {
        matches!(self, ReviewStatus::Pending | ReviewStatus::Escalated)
    }
}

impl FromStr for ReviewStatus {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        ReviewStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| format!("unknown status {raw:?}"))
    }
}

/// The kinds of decision a reviewer makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approve,
    Reject,
    Escalate,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Approve => "approve",
            DecisionKind::Reject => "reject",
            DecisionKind::Escalate => "escalate",
        }
    }
}

/// Review rules that a team configures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewPolicy {
    /// The largest value (in cents) a `reviewer` may approve on one draft: refunds, and
    /// each coupon at `coupon_value_cents`.
    pub reviewer_max_action_cents: Cents,
    /// What one coupon counts against a reviewer's limit: it costs the shop money too.
    pub coupon_value_cents: Cents,
}

/// Why a decision is refused before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "a {role} may approve actions up to {limit}; this approval moves {amount}; ask a lead"
    )]
    OverLimit {
        role: Role,
        limit: String,
        amount: String,
    },
    #[error("the actions' amounts add up to more than can be counted")]
    Uncountable,
    #[error("this draft was escalated to a lead; a {0} cannot decide it")]
    EscalatedToLead(Role),
    #[error("unknown action id {0:?}; the draft proposes {1}")]
    UnknownAction(String, String),
    #[error("the draft has no reply to send; reject it or escalate it, or write a reply")]
    NothingToSend,
    #[error("the reply is empty")]
    EmptyReply,
    #[error("the subject is empty")]
    EmptySubject,
}

impl ReviewPolicy {
    /// Checks that `role` may decide a draft in `status`.
    pub fn may_decide(&self, role: Role, status: ReviewStatus) -> Result<(), Refusal> {
        if status == ReviewStatus::Escalated && !role.is_lead() {
            return Err(Refusal::EscalatedToLead(role));
        }
        Ok(())
    }

    /// What `actions` are worth against a reviewer's limit: refunds and cancellations at
    /// what they pay back, each coupon at `coupon_value_cents`, an address change at the
    /// value of the order it redirects; `None` when the sum overflows.
    pub fn value_of(&self, actions: &[ProposedAction]) -> Option<Cents> {
        actions.iter().try_fold(0 as Cents, |sum, proposed| {
            let value = match &proposed.action {
                Action::RefundDeliveryFee(refund) => refund.amount_cents,
                Action::IssueCoupon(_) => self.coupon_value_cents,
                Action::CancelOrder(cancel) => cancel.amount_cents,
                Action::UpdateShippingAddress(change) => change.order_total_cents,
                Action::StartReturn(start) => start.order_total_cents,
            };
            sum.checked_add(value)
        })
    }

    /// Checks that `role` may approve what `actions` are worth. A sum that overflows is
    /// refused for everyone: no real draft moves that much.
    pub fn may_approve(&self, role: Role, actions: &[ProposedAction]) -> Result<(), Refusal> {
        let amount = self.value_of(actions).ok_or(Refusal::Uncountable)?;
        if !role.is_lead() && amount > self.reviewer_max_action_cents {
            return Err(Refusal::OverLimit {
                role,
                limit: crate::delivery::format_cents(self.reviewer_max_action_cents),
                amount: crate::delivery::format_cents(amount),
            });
        }
        Ok(())
    }
}

/// The actions an approval runs: all proposed ones when `selected` is `None`, else exactly
/// the named ones (each must be proposed).
pub fn select_actions(
    proposed: &[ProposedAction],
    selected: Option<&[ActionId]>,
) -> Result<Vec<ProposedAction>, Refusal> {
    let Some(selected) = selected else {
        return Ok(proposed.to_vec());
    };
    let known = || {
        if proposed.is_empty() {
            "no actions".to_owned()
        } else {
            proposed
                .iter()
                .map(|a| a.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let mut chosen = Vec::with_capacity(selected.len());
    for id in selected {
        let action = proposed
            .iter()
            .find(|a| &a.id == id)
            .ok_or_else(|| Refusal::UnknownAction(id.to_string(), known()))?;
        if !chosen.iter().any(|a: &ProposedAction| a.id == action.id) {
            chosen.push(action.clone());
        }
    }
    Ok(chosen)
}

/// The reply text an approval sends: the reviewer's edit, or the draft as written.
/// Returns the text and whether it was edited.
pub fn reply_to_send(
    drafted: Option<&str>,
    edited: Option<&str>,
) -> Result<(String, bool), Refusal> {
    match (edited, drafted) {
        (Some(edit), _) if edit.trim().is_empty() => Err(Refusal::EmptyReply),
        (Some(edit), drafted) => {
            let edit = normalise_newlines(edit);
            let changed = drafted.map(normalise_newlines).as_deref() != Some(edit.as_str());
            Ok((edit, changed))
        }
        (None, Some(drafted)) => Ok((drafted.to_owned(), false)),
        (None, None) => Err(Refusal::NothingToSend),
    }
}

/// The longest subject a reviewer may send, in characters.
pub const MAX_SUBJECT_CHARS: usize = 255;

/// The subject an approval sends: the reviewer's edit (on one line, at most
/// [`MAX_SUBJECT_CHARS`]), or the drafted one.
/// Returns the subject and whether it was edited.
pub fn subject_to_send(drafted: &str, edited: Option<&str>) -> Result<(String, bool), Refusal> {
    match edited {
        None => Ok((drafted.to_owned(), false)),
        Some(edit) => {
            // A header is one line: line breaks and other control characters become
            // spaces, so nothing can be injected; and it is bounded.
            let edit: String = edit
                .chars()
                .map(|c| {
                    if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                        ' '
                    } else {
                        c
                    }
                })
                .take(MAX_SUBJECT_CHARS)
                .collect();
            let edit = edit.trim().to_owned();
            if edit.is_empty() {
                return Err(Refusal::EmptySubject);
            }
            let changed = edit != drafted.trim();
            Ok((edit, changed))
        }
    }
}

fn normalise_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_owned()
}

/// The short line the case memory keeps about an approved reply: its first sentence or so,
/// never the whole text.
pub fn reply_summary(body: &str, max_chars: usize) -> String {
    let mut lines = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        // Skip the greeting: it says nothing about what was answered.
        .skip_while(|l| {
            let lower = l.to_lowercase();
            (lower.starts_with("hi") || lower.starts_with("hello") || lower.starts_with("dear"))
                && l.len() < 40
        });
    let first = lines.next().unwrap_or("").to_owned();
    let summary: String = first.chars().take(max_chars).collect();
    format!("Replied: {summary}")
}

/// How long each urgency may wait from email to decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaTargets {
    pub urgent: Duration,
    pub high: Duration,
    pub medium: Duration,
    pub low: Duration,
}

impl SlaTargets {
    pub fn target(&self, urgency: Urgency) -> Duration {
        match urgency {
            Urgency::Urgent => self.urgent,
            Urgency::High => self.high,
            Urgency::Medium => self.medium,
            Urgency::Low => self.low,
        }
    }

    /// When an email of `urgency` received at `received_at` must be decided by.
    pub fn due(&self, urgency: Urgency, received_at: OffsetDateTime) -> OffsetDateTime {
        received_at + self.target(urgency)
    }
}

impl Default for SlaTargets {
    fn default() -> Self {
        Self {
            urgent: Duration::hours(1),
            high: Duration::hours(4),
            medium: Duration::hours(24),
            low: Duration::hours(24),
        }
    }
}

/// The email an approval sends, threaded under the customer's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Our `Message-ID` (without angle brackets); stable per draft, so a resend after a
    /// crash can be recognised by the receiving side.
    pub message_id: String,
    /// The customer's `Message-ID`, for `In-Reply-To` and `References`.
    pub in_reply_to: Option<String>,
}

impl OutgoingEmail {
    /// The reply to `customer_message_id` (if the CRM passed it) with the approved text.
    pub fn reply(
        to: &crate::email::EmailAddress,
        subject: &str,
        body: String,
        draft_id: crate::DraftId,
        mail_domain: &str,
        customer_message_id: Option<&str>,
    ) -> Self {
        let in_reply_to = customer_message_id
            .map(|id| {
                id.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .trim()
            })
            .filter(|id| !id.is_empty() && !id.contains(['\r', '\n', '<', '>', ' ']))
            .map(str::to_owned);
        Self {
            to: to.to_string(),
            subject: subject.replace(['\r', '\n'], " "),
            body,
            message_id: format!("draft-{draft_id}@{mail_domain}"),
            in_reply_to,
        }
    }
}

/// A reviewer's correction of the agent's labels, given while deciding a draft. It is
/// stored with the decision, shown in the audit, and becomes training data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<Topic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<Urgency>,
}

impl Correction {
    pub fn is_empty(&self) -> bool {
        self.topic.is_none() && self.urgency.is_none()
    }

    /// Only the fields that differ from what the agent said: a "correction" to the same
    /// label confirms it and is no correction.
    pub fn against(self, topic: Topic, urgency: Urgency) -> Self {
        Self {
            topic: self.topic.filter(|t| *t != topic),
            urgency: self.urgency.filter(|u| *u != urgency),
        }
    }
}
