//! Receive an email over HTTP (`POST /api/v1/emails`): record the event id, publish the
//! inbound event to the inbound topic and answer once the broker holds it. From there it
//! takes the same path as an event the CRM produced to Kafka: no second pipeline.
//!
//! The record comes first so that a post whose publish failed (the client got a 503)
//! and is posted again is published then; a post of an event id already on the topic
//! publishes nothing and gets the first answer. The worker skips an event id it has
//! already drafted, so a publish that the broker took but whose acknowledgement was
//! lost costs one duplicate message, never a second draft.

use deskhand_contracts::{headers, trace_context};
use deskhand_core::email::InboundEmail;
use deskhand_core::ports::EventPublisher;
use deskhand_core::Transience;
use deskhand_db::{Integration, NewSubmission, Store, SubmissionProgress};
use time::OffsetDateTime;

/// Why an email could not be received.
#[derive(Debug, thiserror::Error)]
pub enum ReceptionError {
    #[error(transparent)]
    Store(#[from] deskhand_db::Error),
    /// The broker did not take the event; the client posts it again later.
    #[error("the inbound topic did not take the email: {0}")]
    Publish(String),
    /// Another integration posted this event id first; its status is not this one's
    /// to see.
    #[error("event id {0} was posted by another integration")]
    TakenByAnother(String),
}

impl Transience for ReceptionError {
    fn is_transient(&self) -> bool {
        match self {
            Self::Store(error) => error.is_transient(),
            Self::Publish(_) => true,
            Self::TakenByAnother(_) => false,
        }
    }
}

/// The answer to a post: the same for every post of one event id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub event_id: String,
    pub received_at: OffsetDateTime,
    pub published_at: OffsetDateTime,
    /// `false` when the event id had been posted before.
    pub first: bool,
}

/// The HTTP intake use case.
#[derive(Debug, Clone)]
pub struct Reception<P> {
    store: Store,
    publisher: P,
    inbound_topic: String,
}

impl<P: EventPublisher> Reception<P> {
    pub fn new(store: Store, publisher: P, inbound_topic: String) -> Self {
        Self {
            store,
            publisher,
            inbound_topic,
        }
    }

    /// Receives `email`, whose inbound event (as it goes to the topic) is `payload`.
    pub async fn receive(
        &self,
        integration: &Integration,
        email: &InboundEmail,
        payload: &[u8],
    ) -> Result<Receipt, ReceptionError> {
        let submission = self
            .store
            .record_submission(NewSubmission {
                event_id: email.event_id.as_str(),
                integration_id: integration.id,
                case_id: email.case_id.as_str(),
                customer_id: email.customer_id.get(),
                payload,
            })
            .await?;
        if submission.integration_id != integration.id {
            return Err(ReceptionError::TakenByAnother(submission.event_id));
        }
        let published_at = match submission.published_at {
            Some(at) => at,
            None => {
                // What was recorded is what goes out: a repeated post publishes the
                // first post's event, not a variant of it.
                let mut message_headers = vec![(headers::EVENT_ID, submission.event_id.as_str())];
                let traceparent = trace_context::current_traceparent();
                if let Some(traceparent) = traceparent.as_deref() {
                    message_headers.push((headers::TRACEPARENT, traceparent));
                }
                self.publisher
                    .publish(
                        &self.inbound_topic,
                        &submission.case_id,
                        &submission.payload,
                        &message_headers,
                    )
                    .await
                    .map_err(|e| ReceptionError::Publish(e.to_string()))?;
                metrics::counter!("deskhand_http_emails_published_total").increment(1);
                self.store
                    .submission_published(&submission.event_id)
                    .await?
            }
        };
        Ok(Receipt {
            event_id: submission.event_id,
            received_at: submission.received_at,
            published_at,
            first: submission.first,
        })
    }

    /// How far the email `event_id` that `integration` posted has come.
    pub async fn progress(
        &self,
        integration: &Integration,
        event_id: &str,
    ) -> Result<Option<SubmissionProgress>, ReceptionError> {
        Ok(self
            .store
            .submission_progress(integration.id, event_id)
            .await?)
    }
}
