//! The consumer's handler for inbound emails: decodes the event at the edge, hands the
//! email to the triage use case (`deskhand_service::triage`), and tells the consumer
//! whether a failure is worth retrying.

use deskhand_contracts::{decode_inbound, DecodeLimits};
use deskhand_core::ports::Cognition;
use deskhand_core::{InboundEmail, SourcePosition};
use deskhand_kafka::{EventHandler, HandlerError, Undecodable};
use deskhand_service::triage::Triage;

/// The inbound topic's handler.
#[derive(Debug)]
pub struct TriageHandler<C> {
    triage: Triage<C>,
    decode: DecodeLimits,
}

impl<C> TriageHandler<C> {
    pub fn new(triage: Triage<C>, decode: DecodeLimits) -> Self {
        Self { triage, decode }
    }
}

impl<C: Cognition + 'static> EventHandler for TriageHandler<C> {
    type Event = InboundEmail;

    fn decode(&self, payload: &[u8]) -> Result<InboundEmail, Undecodable> {
        decode_inbound(payload, &self.decode).map_err(|error| Undecodable {
            code: error.code(),
            reason: error.to_string(),
        })
    }

    fn describe(email: &InboundEmail) -> String {
        email.event_id.to_string()
    }

    async fn handle(
        &self,
        email: &InboundEmail,
        source: SourcePosition,
    ) -> Result<(), HandlerError> {
        Ok(self.triage.triage(email, source).await?)
    }
}
