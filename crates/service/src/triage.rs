//! Triage an email: run the graph on it and record the draft, with the draft event for
//! the approval topic, in one transaction. A draft that cannot be stored becomes a
//! hand-over to a person; nothing is dropped.

use deskhand_contracts::headers::EVENT_ID;
use deskhand_contracts::{trace_context, DraftEvent};
use deskhand_core::ports::Cognition;
use deskhand_core::{
    DraftId, Escalation, EscalationKind, GraphError, InboundEmail, RunContext, SourcePosition,
    Transience, TriageGraph,
};
use deskhand_db::{OutboxMessage, Recorded, Store};
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::Notify;

/// Why an email could not be triaged.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    /// The graph stopped (its store was unreachable); the email is retried.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The draft could not be recorded.
    #[error(transparent)]
    Store(#[from] deskhand_db::Error),
    /// Neither the draft nor its hand-over to a person could be stored.
    #[error("the draft could not be stored ({draft}), nor its hand-over ({handover})")]
    HandOver {
        draft: deskhand_db::Error,
        #[source]
        handover: deskhand_db::Error,
    },
}

impl Transience for TriageError {
    fn is_transient(&self) -> bool {
        match self {
            Self::Graph(error) => error.is_transient(),
            Self::Store(error) => error.is_transient(),
            // Retrying would run the graph (and its model calls) again for an email whose
            // draft the store refused for good: dead-letter it with both reasons.
            Self::HandOver { .. } => false,
        }
    }
}

/// Runs the graph on an email and records the draft with its outbox message.
pub struct Triage<C> {
    graph: TriageGraph<C, Store>,
    store: Store,
    approval_topic: String,
    relay_wakeup: Arc<Notify>,
    /// The business date, when pinned; otherwise today's UTC date at each email.
    today: Option<time::Date>,
    /// Time an email's cognitive steps may take, retries included.
    budget: std::time::Duration,
    /// Whether to look for an existing draft before running the graph.
    redeliveries: Redeliveries,
}

/// What to do about an event that may already have its draft (a redelivery after a crash
/// or a rebalance, or the CRM publishing twice). Either way it gets one draft: the triage
/// write skips an event that has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeliveries {
    /// Check first and skip the graph: with a model, a rerun costs calls and money.
    CheckFirst,
    /// Run the graph and let the write skip it: the offline engine costs nothing to rerun,
    /// and the check would cost every email a database round trip.
    LeaveToTheWrite,
}

impl<C> std::fmt::Debug for Triage<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Triage")
            .field("approval_topic", &self.approval_topic)
            .finish_non_exhaustive()
    }
}

impl<C: Cognition> Triage<C> {
    pub fn new(
        graph: TriageGraph<C, Store>,
        store: Store,
        approval_topic: String,
        relay_wakeup: Arc<Notify>,
        today: Option<time::Date>,
        budget: std::time::Duration,
    ) -> Self {
        Self {
            graph,
            store,
            approval_topic,
            relay_wakeup,
            today,
            budget,
            redeliveries: Redeliveries::CheckFirst,
        }
    }

    /// How to treat an event that may already have its draft (default: check first).
    pub fn with_redeliveries(mut self, redeliveries: Redeliveries) -> Self {
        self.redeliveries = redeliveries;
        self
    }
}

/// What the run decided, on the email's span.
fn record_on_span(draft: &deskhand_core::Draft) {
    let span = tracing::Span::current();
    span.record("deskhand.topic", draft.classification.topic.to_string());
    span.record("deskhand.urgency", draft.classification.urgency.to_string());
    span.record("deskhand.route", draft.route.to_string());
    if let Some(escalation) = &draft.escalation {
        span.record("deskhand.escalation", escalation.kind.as_str());
    }
    span.record("gen_ai.usage.input_tokens", draft.trace.prompt_tokens);
    span.record("gen_ai.usage.output_tokens", draft.trace.completion_tokens);
    span.record("deskhand.cost_usd", draft.trace.cost_usd);
}

impl<C: Cognition> Triage<C> {
    /// Triages one email. One trace per email: this span is its root, the graph's nodes, tools, database and
    /// model calls are its children, and the relay's publish continues it.
    #[tracing::instrument(name = "email", skip_all, fields(
        otel.name = "triage email",
        otel.kind = "consumer",
        messaging.system = "kafka",
        messaging.destination.name = %source.topic,
        messaging.destination.partition.id = source.partition,
        messaging.kafka.offset = source.offset,
        deskhand.event_id = %email.event_id,
        deskhand.case_id = %email.case_id,
        deskhand.customer_id = %email.customer_id,
        deskhand.topic = tracing::field::Empty,
        deskhand.urgency = tracing::field::Empty,
        deskhand.route = tracing::field::Empty,
        deskhand.escalation = tracing::field::Empty,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        deskhand.cost_usd = tracing::field::Empty,
    ))]
    pub async fn triage(
        &self,
        email: &InboundEmail,
        source: SourcePosition,
    ) -> Result<(), TriageError> {
        let started = std::time::Instant::now();
        // A redelivered event skips the graph (and any model cost) entirely.
        if self.redeliveries == Redeliveries::CheckFirst
            && self.store.is_recorded(&email.event_id).await?
        {
            tracing::debug!("event already has a draft; skipping");
            return Ok(());
        }
        // A redraft answers the email as it was recorded, not the copy in the request,
        // which the draft event may have cut to fit the approval topic.
        let reloaded;
        let email = match &email.redraft_of {
            Some(original) => match self.store.recorded_body(email, original).await? {
                Some((subject, body)) => {
                    reloaded = InboundEmail {
                        subject,
                        body,
                        ..email.clone()
                    };
                    &reloaded
                }
                None => email,
            },
            None => email,
        };
        let triage = self.graph.run(email, self.run_context()).await?;
        let draft = triage.draft;
        let first = self
            .record(email, &source, draft.clone(), &triage.memory, started)
            .await;
        match first {
            Err(error) if !error.is_transient() => {
                // Retrying cannot store this draft; a person gets the email without it.
                tracing::error!(%error, "the draft cannot be stored; handing the email to a person");
                let handed_over = draft.handed_over(Escalation::new(
                    EscalationKind::StorageFailed,
                    format!("the draft could not be stored: {error}"),
                ));
                self.record(email, &source, handed_over, &triage.memory, started)
                    .await
                    .map_err(|handover| TriageError::HandOver {
                        draft: error,
                        handover,
                    })
            }
            other => Ok(other?),
        }
    }

    /// What the graph would draft for `email` against the live store, without recording,
    /// publishing or sending anything: the draft with its evidence, route, actions and
    /// trace. How an integrator checks a mapping, and a reviewer asks "what would it have
    /// said?".
    pub async fn dry_run(&self, email: &InboundEmail) -> Result<deskhand_core::Draft, TriageError> {
        Ok(self.graph.run(email, self.run_context()).await?.draft)
    }

    /// A run's context: a new draft id, the business date, the email's budget.
    fn run_context(&self) -> RunContext {
        let now = OffsetDateTime::now_utc();
        RunContext {
            draft_id: DraftId::new(),
            now,
            today: self.today.unwrap_or(now.date()),
            // The exported trace's id, so the draft and the decision name the same trace.
            trace_id: trace_context::current_trace_id()
                .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()),
            deadline: deskhand_core::ports::Deadline::after(self.budget),
        }
    }

    /// Records one draft with its outbox message; `Ok` also when another worker was first.
    async fn record(
        &self,
        email: &InboundEmail,
        source: &SourcePosition,
        draft: deskhand_core::Draft,
        memory: &deskhand_core::CaseMemory,
        started: std::time::Instant,
    ) -> Result<(), deskhand_db::Error> {
        record_on_span(&draft);
        let mut fitted = DraftEvent::from(&draft)
            .with_email(email)
            .into_json_within(deskhand_contracts::MAX_DRAFT_EVENT_BYTES);
        let draft = if fitted.fits {
            draft
        } else {
            // A broker with default limits would refuse it, and the case would wait behind
            // it: a person gets the email without the draft's bulk instead.
            tracing::error!(draft_id = %draft.draft_id, "the draft event is over the size a broker accepts by default, even with the email cut; handing the email to a person");
            metrics::counter!(crate::metrics::names::DRAFT_EVENTS_OVERSIZED).increment(1);
            let handed_over = draft.handed_over(Escalation::new(
                EscalationKind::TooLong,
                "the draft and its evidence were too large to publish; the email is in the store",
            ));
            fitted = DraftEvent::from(&handed_over)
                .with_email(email)
                .into_json_within(deskhand_contracts::MAX_DRAFT_EVENT_BYTES);
            if !fitted.fits {
                // What is left is the email's own headers (a sender of a megabyte): the
                // hand-over goes without the email, which the store keeps.
                fitted = DraftEvent::from(&handed_over)
                    .into_json_within(deskhand_contracts::MAX_DRAFT_EVENT_BYTES);
            }
            handed_over
        };
        let event_json = fitted.json;
        let outbox = OutboxMessage {
            topic: self.approval_topic.clone(),
            key: draft.case_id.to_string(),
            payload: serde_json::to_vec(&event_json).expect("a JSON value serialises"),
            headers: {
                let mut headers = trace_context::trace_headers();
                headers.insert(EVENT_ID.to_owned(), draft.event_id.to_string());
                headers
            },
        };
        match self
            .store
            .record_triage(email, source, &draft, &event_json, memory, &outbox)
            .await?
        {
            Recorded::New => {
                tracing::info!(draft_id = %draft.draft_id, route = %draft.route, topic = %draft.classification.topic, "draft recorded");
                crate::metrics::record_draft(&draft, started.elapsed());
                self.relay_wakeup.notify_one();
            }
            Recorded::Duplicate => tracing::debug!("another worker recorded this event first"),
        }
        Ok(())
    }
}
