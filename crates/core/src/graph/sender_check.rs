//! The sender check applied to a run's outcome (see [`crate::sender`]).

use super::Outcome;
use crate::draft::{Escalation, EscalationKind, Route};
use crate::sender::{SenderCheck, SenderMismatch};

impl Outcome {
    /// Tells the reviewer the sender is not the customer's address on file; under
    /// [`SenderCheck::Refuse`] also withdraws the reply and the actions, so nothing about
    /// the customer's account can go to that sender without a lead writing it.
    pub(super) fn apply_sender_check(&mut self, mismatch: SenderMismatch, check: SenderCheck) {
        let would_answer = self.reply.is_some() || !self.actions.is_empty();
        if check == SenderCheck::Refuse && would_answer {
            self.route = Route::Escalate;
            self.reply = None;
            self.actions.clear();
            self.escalation = Some(Escalation::new(
                EscalationKind::NeedsPerson,
                format!(
                    "the sender {} is not the customer's address on file ({}); no reply was drafted",
                    mismatch.sender, mismatch.on_file
                ),
            ));
        }
        self.observations.push(mismatch.observation());
    }
}
