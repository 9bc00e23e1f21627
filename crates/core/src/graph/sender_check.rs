//! The sender check applied to a run's outcome (see [`crate::sender`]).

use super::Outcome;
use crate::draft::{Escalation, EscalationKind, Route};
use crate::sender::{SenderCheck, SenderMismatch};

/// What the sender check finds for an email: a sender that is not the customer's address
/// on file, or one that could not be checked (the recall failed), which is not taken for
/// the customer: the check fails closed.
pub(super) fn finding(
    from: &str,
    recall_failed: bool,
    on_file: Option<&str>,
) -> Option<SenderMismatch> {
    if recall_failed {
        Some(SenderMismatch::unverified(from))
    } else {
        SenderMismatch::of(from, on_file)
    }
}

impl Outcome {
    /// Tells the reviewer the sender is not the customer's address on file; under
    /// [`SenderCheck::Refuse`] also withdraws any reply and actions and escalates it (the
    /// review queue gives it to leads only), so nothing about the customer's account goes
    /// to that sender unless a lead writes it. Mail that needs no reply is left as it is.
    ///
    /// Whatever the setting, a stranger does not get an order sent somewhere else or a
    /// return opened on it: a draft that would change a delivery address or start a
    /// return for a sender who is not the customer is handled the same way (nothing in a `From` header is authenticated, and the reply
    /// telling of the change would go to the stranger, not to the customer).
    pub(super) fn apply_sender_check(&mut self, mismatch: SenderMismatch, check: SenderCheck) {
        let customer_only = self
            .actions
            .iter()
            .any(|a| a.action.for_the_customer_only());
        if (check == SenderCheck::Refuse || customer_only) && self.route != Route::NoReply {
            let also = self
                .escalation
                .as_ref()
                .map(|e| format!("; it was also: {}", e.reason))
                .unwrap_or_default();
            self.route = Route::Escalate;
            self.reply = None;
            self.actions.clear();
            self.escalation = Some(Escalation::new(
                EscalationKind::SenderMismatch,
                format!(
                    "the sender {} is not the customer's address on file ({}); no reply was drafted, and a lead decides whether to answer{also}",
                    mismatch.sender,
                    mismatch.on_file_or_unknown()
                ),
            ));
        }
        self.observations.push(mismatch.observation());
    }
}
