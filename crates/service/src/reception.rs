//! Receive an email over HTTP (`POST /api/v1/emails`): record the event id, publish the
//! inbound event to the inbound topic and answer once the broker holds it. From there it
//! takes the same path as an event the CRM produced to Kafka: no second pipeline.
//!
//! The record comes first so that a post whose publish failed (the client got a 503) is
//! published when it is posted again or by the sweep ([`Reception::run_sweeps`]),
//! whichever comes first; a post of an event id already on the topic publishes nothing
//! and gets the first answer. The worker skips an event id it has
//! already drafted, so a publish that the broker took but whose acknowledgement was
//! lost costs one duplicate message, never a second draft.

use deskhand_contracts::{headers, trace_context};
use deskhand_core::email::InboundEmail;
use deskhand_core::ports::EventPublisher;
use deskhand_core::Transience;
use deskhand_db::{
    Integration, NewSubmission, Store, Submission, SubmissionProgress, SubmissionRefused,
};
use std::time::Duration;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

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
    /// The id is an email's that came from the CRM's topic.
    #[error("event id {0} is an email Deskhand received another way")]
    ReceivedAnotherWay(String),
    /// The id was posted before with another email: a second email needs its own id.
    #[error("event id {0} was posted before with a different email; give this one its own id")]
    DifferentEmail(String),
}

impl Transience for ReceptionError {
    fn is_transient(&self) -> bool {
        match self {
            Self::Store(error) => error.is_transient(),
            Self::Publish(_) => true,
            Self::TakenByAnother(_) | Self::ReceivedAnotherWay(_) | Self::DifferentEmail(_) => {
                false
            }
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

    /// Receives `email`, whose inbound event (as it goes to the topic) is `payload` and
    /// whose posted body hashes to `body_sha256`.
    pub async fn receive(
        &self,
        integration: &Integration,
        email: &InboundEmail,
        payload: &[u8],
        body_sha256: &[u8],
    ) -> Result<Receipt, ReceptionError> {
        let submission = self
            .store
            .record_submission(NewSubmission {
                event_id: email.event_id.as_str(),
                integration_id: integration.id,
                case_id: email.case_id.as_str(),
                customer_id: email.customer_id.get(),
                payload,
                body_sha256,
            })
            .await?
            .map_err(|SubmissionRefused::ReceivedAnotherWay| {
                ReceptionError::ReceivedAnotherWay(email.event_id.to_string())
            })?;
        if submission.integration_id != integration.id {
            return Err(ReceptionError::TakenByAnother(submission.event_id));
        }
        if !submission.same_body {
            return Err(ReceptionError::DifferentEmail(submission.event_id));
        }
        let published_at = match submission.published_at {
            Some(at) => at,
            None => self.publish(&submission).await?,
        };
        Ok(Receipt {
            event_id: submission.event_id,
            received_at: submission.received_at,
            published_at,
            first: submission.first,
        })
    }

    /// Publishes a recorded event and marks it published. What was recorded is what goes
    /// out: a repeated post publishes the first post's event, not a variant of it.
    async fn publish(&self, submission: &Submission) -> Result<OffsetDateTime, ReceptionError> {
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
        Ok(self
            .store
            .submission_published(&submission.event_id)
            .await?)
    }

    /// Publishes what was recorded but never acknowledged (the broker was away when it
    /// was posted and no one posted it again, or the process died in between); returns
    /// how many went out.
    pub async fn sweep(&self, older_than: Duration, limit: i64) -> Result<usize, ReceptionError> {
        let pending = self
            .store
            .unpublished_submissions(older_than, limit)
            .await?;
        let mut published = 0;
        for submission in &pending {
            self.publish(submission).await?;
            published += 1;
        }
        if published > 0 {
            tracing::info!(
                published,
                "published emails posted over HTTP that had not gone out"
            );
        }
        Ok(published)
    }

    /// Sweeps every `every` until `shutdown`; a failed sweep is logged and tried again.
    pub async fn run_sweeps(&self, every: Duration, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            if let Err(error) = self.sweep(every, 100).await {
                tracing::warn!(%error, "sweeping unpublished HTTP emails failed; trying again");
            }
        }
    }

    /// The customer a webhook's sender is: the one with `address` on file; `None` when no
    /// customer or several have it (a person must say which).
    pub async fn customer_with_address(
        &self,
        address: &str,
    ) -> Result<Option<i64>, ReceptionError> {
        Ok(
            match self.store.customers_with_address(address).await?.as_slice() {
                [one] => Some(*one),
                _ => None,
            },
        )
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
