//! The customer scope every read of customer data must carry.

use crate::draft::Draft;
use crate::email::InboundEmail;
use crate::ids::CustomerId;

/// Proof that a read is on behalf of one customer: it can only be made from the inbound
/// email (or a draft made from one), never from text the customer wrote or the model said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerScope(CustomerId);

impl CustomerScope {
    /// The scope of the customer who sent this email.
    pub fn of(email: &InboundEmail) -> Self {
        Self(email.customer_id)
    }
    /// The scope of the customer a draft answers.
    pub fn of_draft(draft: &Draft) -> Self {
        Self(draft.customer_id)
    }
    pub fn customer_id(&self) -> CustomerId {
        self.0
    }
}
