//! The triage graph: named nodes over one email.
//!
//! `guard → recall → classify → route → (product | delivery | answer | order | context) →
//! compose`.
//! Each node's name and duration go into the draft's trace. Whatever goes wrong in a
//! cognitive step becomes an escalation, so every email reaches a person one way or
//! another; only an unreachable store makes the run fail (the email is then retried).

use crate::action::ProposedAction;
use crate::delivery::{format_cents, PolicySettings};
use crate::draft::{
    Classification, Confidence, Draft, Escalation, EscalationKind, Language, Observation, Reply,
    Route, Topic, Trace, Urgency,
};
use crate::email::InboundEmail;
use crate::grounding::{check_reply, check_subject};
use crate::ids::DraftId;
use crate::knowledge::{Knowledge, KnowledgeIndex, KnowledgeSettings};
use crate::memory::{CaseMemory, MemorySettings};
use crate::order::OrderStatus;
use crate::ports::{
    Cognition, ComposeInput, CustomerActivity, DataError, Deadline, DeliveryLookup, Recalled,
    ShopData,
};
use crate::scope::CustomerScope;
use crate::sender::SenderCheck;
use crate::tracking::find_numbers;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use time::{Date, OffsetDateTime};
use tracing::Instrument as _;

mod answer;
mod delivery;
mod order;
mod products;
mod route;
mod sender_check;
mod trace;

use trace::{node_span, TraceRecorder};

pub use route::{decide_route, RouteDecision};

/// The graph's knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphSettings {
    /// Emails whose readable text is longer than this are escalated unread.
    pub max_body_chars: usize,
    /// Classifications less confident than this are escalated.
    pub min_confidence: f64,
    /// The n-th customer email on the same topic in one case is escalated.
    pub repeat_limit: u32,
    /// Catalog rows read per product question.
    pub max_catalog_rows: i64,
    /// Alternatives offered per reply when the item asked for cannot be had.
    pub max_offers: usize,
    /// Rows of the item asked for a reply lists (each size, width and colour named).
    pub max_requested_rows: usize,
    /// Languages the engine replies in; an email in another language goes to a person,
    /// with its language named, rather than getting an answer in the wrong one.
    pub reply_languages: Vec<Language>,
    pub policy: PolicySettings,
    pub memory: MemorySettings,
    /// When the sender is not the customer's address on file: warn the reviewer, or draft
    /// no reply.
    pub sender_check: SenderCheck,
    pub knowledge: KnowledgeSettings,
}

impl Default for GraphSettings {
    fn default() -> Self {
        Self {
            max_body_chars: 2_500,
            min_confidence: 0.6,
            repeat_limit: 4,
            max_catalog_rows: 500,
            max_offers: 3,
            max_requested_rows: 8,
            reply_languages: vec![Language::english()],
            policy: PolicySettings::default(),
            sender_check: SenderCheck::default(),
            memory: MemorySettings::default(),
            knowledge: KnowledgeSettings::default(),
        }
    }
}

/// What the caller supplies for one run; the graph itself reads no clock and mints no ids.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub draft_id: DraftId,
    pub now: OffsetDateTime,
    /// The business date the policy reasons about (configurable for reproducible runs).
    pub today: Date,
    pub trace_id: String,
    /// The email's budget for cognitive steps.
    pub deadline: Deadline,
}

/// A run's result: the draft, and the case memory as it should be stored with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Triage {
    pub draft: Draft,
    /// The memory after this email; `memory.version` is the version it was read at.
    pub memory: CaseMemory,
}

/// Why a run could not finish. Every other failure on the way (a model error, a failed
/// read) becomes an escalation in the draft; only these stop the run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// The store could not be reached; the whole email is retried later.
    #[error("triage interrupted: {0}")]
    StoreUnavailable(#[source] DataError),
}

impl crate::Transience for GraphError {
    fn is_transient(&self) -> bool {
        match self {
            Self::StoreUnavailable(_) => true,
        }
    }
}

/// A span for one node of the graph; its tool, database and model calls nest under it.
/// The parts of a draft the nodes decide.
struct Outcome {
    classification: Classification,
    topic_for_memory: Topic,
    route: Route,
    reply: Option<Reply>,
    summary: String,
    observations: Vec<Observation>,
    actions: Vec<ProposedAction>,
    escalation: Option<Escalation>,
}

impl Outcome {
    fn unclassified(route: Route, summary: String, escalation: Option<Escalation>) -> Self {
        Self {
            classification: Classification {
                topic: Topic::Other,
                urgency: if route == Route::Escalate {
                    Urgency::Medium
                } else {
                    Urgency::Low
                },
                confidence: Confidence::parse(1.0).expect("1.0 is a valid confidence"),
                tone: None,
                language: None,
            },
            topic_for_memory: Topic::Other,
            route,
            reply: None,
            summary,
            observations: Vec::new(),
            actions: Vec::new(),
            escalation,
        }
    }
}

/// What a flow found for the reply.
#[derive(Default)]
struct Findings {
    observations: Vec<Observation>,
    facts: Vec<String>,
    actions: Vec<ProposedAction>,
    ask_for: Option<&'static str>,
}

impl Findings {
    /// A read that failed for good: the error as evidence for the reviewer, and a holding
    /// sentence for the customer about their `what` ("order", "delivery").
    fn read_failed(&mut self, source: &str, error: &DataError, what: &str) {
        self.observations.push(Observation {
            source: source.to_owned(),
            text: error.to_string(),
            data: json!({}),
        });
        self.facts.push(format!(
            "We are checking your {what} and will come back to you shortly."
        ));
    }
}

fn unavailable(error: DataError) -> Result<(), GraphError> {
    match error {
        DataError::Unavailable(_) => Err(GraphError::StoreUnavailable(error)),
        DataError::Failed(_) => Ok(()),
    }
}

/// The triage graph over a cognitive engine `C` and the store's data `D`.
#[derive(Debug, Clone)]
pub struct TriageGraph<C, D> {
    cognition: C,
    data: D,
    settings: GraphSettings,
    /// The shop's policies; empty unless [`TriageGraph::with_knowledge`] gave some.
    knowledge: Arc<dyn Knowledge>,
}

impl<C: Cognition, D: ShopData> TriageGraph<C, D> {
    pub fn new(cognition: C, data: D, settings: GraphSettings) -> Self {
        Self {
            cognition,
            data,
            settings,
            knowledge: Arc::new(KnowledgeIndex::default()),
        }
    }

    /// Policy questions are answered from this knowledge base.
    pub fn with_knowledge(mut self, knowledge: Arc<dyn Knowledge>) -> Self {
        self.knowledge = knowledge;
        self
    }

    pub fn settings(&self) -> &GraphSettings {
        &self.settings
    }

    /// Runs the nodes over one email.
    pub async fn run(&self, email: &InboundEmail, ctx: RunContext) -> Result<Triage, GraphError> {
        let mut recorder = TraceRecorder {
            trace: Trace::default(),
        };
        let scope = CustomerScope::of(email);

        let started = Instant::now();
        let mut recall_failed = false;
        let Recalled {
            memory,
            address_on_file,
        } = match self
            .data
            .recall(scope, &email.case_id)
            .instrument(node_span("recall"))
            .await
        {
            Ok(recalled) => recalled,
            Err(error @ DataError::Unavailable(_)) => {
                return Err(GraphError::StoreUnavailable(error))
            }
            Err(DataError::Failed(reason)) => {
                recorder.node("recall", started, Some(reason));
                recall_failed = true;
                Recalled::default()
            }
        };
        let mut outcome = self
            .decide(email, &ctx, scope, &memory, started, &mut recorder)
            .await?;
        let finding = sender_check::finding(&email.from, recall_failed, address_on_file.as_deref());
        if let Some(mismatch) = finding {
            outcome.apply_sender_check(mismatch, self.settings.sender_check);
        }
        // A redraft is of an email the memory already holds: keep it as is.
        let next_memory = if email.redraft_of.is_some() {
            memory.clone()
        } else {
            memory.with_customer_email(
                &outcome.summary,
                outcome.topic_for_memory,
                &self.settings.memory,
            )
        };
        let draft = Draft {
            draft_id: ctx.draft_id,
            event_id: email.event_id.clone(),
            case_id: email.case_id.clone(),
            customer_id: email.customer_id,
            created_at: ctx.now,
            classification: outcome.classification,
            route: outcome.route,
            reply: outcome.reply,
            summary: outcome.summary,
            observations: outcome.observations,
            proposed_actions: outcome.actions,
            escalation: outcome.escalation,
            engine: self.cognition.engine_name(),
            trace: recorder.trace,
            trace_id: ctx.trace_id,
        };
        Ok(Triage {
            draft,
            memory: next_memory,
        })
    }

    async fn decide(
        &self,
        email: &InboundEmail,
        ctx: &RunContext,
        scope: CustomerScope,
        memory: &CaseMemory,
        recall_started: Instant,
        recorder: &mut TraceRecorder,
    ) -> Result<Outcome, GraphError> {
        // guard: no model call; cheap refusals first. Recall ran just before so that even
        // refused emails are remembered in the case.
        let started = Instant::now();
        let readable = email.body.readable.trim();
        if readable.is_empty() {
            recorder.node("guard", started, Some("empty body".to_owned()));
            return Ok(Outcome::unclassified(
                Route::NoReply,
                "Empty email.".to_owned(),
                None,
            ));
        }
        let chars = readable.chars().count();
        if chars > self.settings.max_body_chars {
            recorder.node("guard", started, Some(format!("{chars} characters")));
            return Ok(Outcome::unclassified(
                Route::Escalate,
                format!("Long email ({chars} characters), not read automatically."),
                Some(Escalation::new(
                    EscalationKind::TooLong,
                    "too long for automatic handling",
                )),
            ));
        }
        recorder.node("guard", started, None);
        recorder.node(
            "recall",
            recall_started,
            Some(format!(
                "{} entries, {} earlier emails",
                memory.entries.len(),
                memory.customer_emails
            )),
        );

        let started = Instant::now();
        let classified = match self
            .cognition
            .classify(email, memory, ctx.deadline)
            .instrument(node_span("classify"))
            .await
        {
            Ok(metered) => {
                recorder.usage(metered.usage);
                metered.value
            }
            Err(failed) => {
                recorder.usage(failed.usage);
                let error = failed.value;
                recorder.node("classify", started, Some(error.to_string()));
                return Ok(Outcome::unclassified(
                    Route::Escalate,
                    "Email could not be classified automatically.".to_owned(),
                    Some(Escalation::new(
                        EscalationKind::ClassificationFailed,
                        format!("classification failed: {error}"),
                    )),
                ));
            }
        };
        recorder.node("classify", started, None);
        let classification = Classification {
            topic: classified.topic,
            urgency: classified.urgency,
            confidence: Confidence::parse(classified.confidence.clamp(0.0, 1.0))
                .unwrap_or_else(|_| Confidence::parse(0.0).expect("0.0 is valid")),
            tone: classified.tone,
            language: classified.language.clone(),
        };

        let started = Instant::now();
        let decision = decide_route(
            &classified,
            &self.settings,
            memory.times_asked(classified.topic),
        );
        recorder.node("route", started, Some(decision.route.to_string()));

        let mut outcome = Outcome {
            classification,
            topic_for_memory: classified.topic,
            route: decision.route,
            reply: None,
            summary: classified.summary.clone(),
            observations: Vec::new(),
            actions: Vec::new(),
            escalation: decision.escalation,
        };
        // One order to cancel or to look up is read before the knowledge base: "please
        // cancel order 4471" wants it done, not the cancellation policy quoted.
        self.try_order_route(email, &classified, &mut outcome);
        let answered = self.try_answer(email, &classified, &mut outcome, recorder);
        if answered.is_some() && self.names_a_product(email, ctx.deadline, recorder).await? {
            // "Do you ship to Canada? And do you have the Nimbus in a 10?": a policy answer
            // would leave the stock question unanswered; a person takes both, with the
            // stock looked up below.
            outcome.route = Route::Escalate;
            outcome.escalation = Some(Escalation::new(
                EscalationKind::SeveralRequests,
                "a policy question and a product question",
            ));
        }
        let findings = match outcome.route {
            Route::NoReply => return Ok(outcome),
            Route::Answer => answered.unwrap_or_default(),
            Route::Escalate => {
                let started = Instant::now();
                let findings = self
                    .escalation_context(email, scope)
                    .instrument(node_span("context"))
                    .await?;
                recorder.node(
                    "context",
                    started,
                    Some(format!("{} observations", findings.observations.len())),
                );
                outcome.observations.extend(findings.observations);
                // A product question a person answers because of its language or because it
                // was asked once too often still gets its stock looked up, so they have it
                // in front of them; so does the stock question among several requests
                // ("where is my order? and do you have the Ghost 16 in a 9?"; mostly `other`
                // to an engine that cannot count requests), when the catalog has something
                // it names. An unsure topic is no reason to look anything up, and an urgent
                // email is about the emergency, not the stock.
                let sure_of_topic = outcome.escalation.as_ref().is_some_and(|e| {
                    matches!(e.kind, EscalationKind::Language | EscalationKind::Repeated)
                });
                let product_question =
                    sure_of_topic && classified.topic == Topic::ProductAvailabilityOrRecommendation;
                // Among several requests, only one that asks about stock: an order that
                // merely names what was bought gets no offer of it.
                let asks = crate::product::asks_about_stock(&format!(
                    "{}\n{}",
                    email.subject.as_deref().unwrap_or(""),
                    email.body.readable
                ));
                if product_question
                    || (asks && (classified.multiple_requests || classified.topic == Topic::Other))
                {
                    let started = Instant::now();
                    if let Ok(findings) = self
                        .product_flow(email, ctx.deadline, recorder)
                        .instrument(node_span("product_lookup"))
                        .await?
                    {
                        recorder.node(
                            "product_lookup",
                            started,
                            Some(format!("{} observations", findings.observations.len())),
                        );
                        let found = findings
                            .observations
                            .iter()
                            .any(|o| o.source == "inventory");
                        if product_question || found {
                            outcome.observations.extend(findings.observations);
                        }
                    }
                }
                return Ok(outcome);
            }
            Route::Product => {
                let started = Instant::now();
                match self
                    .product_flow(email, ctx.deadline, recorder)
                    .instrument(node_span("product_lookup"))
                    .await?
                {
                    Ok(findings) => {
                        recorder.node(
                            "product_lookup",
                            started,
                            Some(format!("{} observations", findings.observations.len())),
                        );
                        findings
                    }
                    Err(reason) => {
                        recorder.node("product_lookup", started, Some(reason.clone()));
                        outcome.route = Route::Escalate;
                        outcome.escalation =
                            Some(Escalation::new(EscalationKind::ProductLookupFailed, reason));
                        return Ok(outcome);
                    }
                }
            }
            Route::Order => {
                let started = Instant::now();
                let findings = self
                    // A return counts from the day the customer asked, not the day
                    // a backed-up worker read it.
                    .order_flow(email, scope, ctx.today.min(email.received_at.date()))
                    .instrument(node_span("order_lookup"))
                    .await?;
                recorder.node(
                    "order_lookup",
                    started,
                    Some(format!("{} actions", findings.actions.len())),
                );
                findings
            }
            Route::Delivery => {
                let started = Instant::now();
                let findings = self
                    .delivery_flow(email, scope, ctx.today)
                    .instrument(node_span("delivery_lookup"))
                    .await?;
                recorder.node(
                    "delivery_lookup",
                    started,
                    Some(format!("{} actions", findings.actions.len())),
                );
                findings
            }
        };
        outcome.observations = findings.observations;
        outcome.actions = findings.actions;

        let started = Instant::now();
        let input = ComposeInput {
            email,
            classified: &classified,
            route: outcome.route,
            observations: &outcome.observations,
            facts: &findings.facts,
            ask_for: findings.ask_for,
        };
        match self
            .cognition
            .compose(input, ctx.deadline)
            .instrument(node_span("compose"))
            .await
        {
            Ok(metered) => {
                recorder.usage(metered.usage);
                // The subject is sent too: it is held to the same evidence as the body, and
                // may also repeat what the customer's own subject states ("Re: charged
                // $49.99"), never what neither states.
                let reply = &metered.value;
                let mut problems = check_subject(
                    &reply.subject,
                    email.subject.as_deref(),
                    &outcome.observations,
                );
                problems.extend(check_reply(&reply.body, &outcome.observations));
                if problems.is_empty() {
                    recorder.node("compose", started, None);
                    outcome.reply = Some(metered.value);
                } else {
                    let listed: Vec<String> = problems
                        .iter()
                        .map(|p| format!("{} {}", p.kind, p.value))
                        .collect();
                    let note = format!(
                        "reply replaced by template: ungrounded {}",
                        listed.join(", ")
                    );
                    recorder.node("compose", started, Some(note.clone()));
                    let template = self.cognition.template_reply(input);
                    outcome.observations.push(Observation {
                        source: "reply_guard".to_owned(),
                        text: note,
                        data: json!({"ungrounded": listed}),
                    });
                    outcome.reply = Some(template);
                }
            }
            Err(failed) => {
                recorder.usage(failed.usage);
                let error = failed.value;
                recorder.node("compose", started, Some(error.to_string()));
                outcome.route = Route::Escalate;
                outcome.actions.clear();
                outcome.escalation = Some(Escalation::new(
                    EscalationKind::ComposeFailed,
                    format!("reply could not be composed: {error}"),
                ));
            }
        }
        Ok(outcome)
    }

    /// For escalations: the customer's relevant orders, deliveries and refunds, so the
    /// person taking over does not have to look them up.
    async fn escalation_context(
        &self,
        email: &InboundEmail,
        scope: CustomerScope,
    ) -> Result<Findings, GraphError> {
        let text = email.subject_and_text();
        let numbers = find_numbers(&text);
        let lookup = DeliveryLookup {
            tracking: numbers.tracking,
            orders: numbers.orders,
        };
        let mut findings = Findings::default();
        let activity: CustomerActivity = match self.data.activity(scope, &lookup).await {
            Ok(activity) => activity,
            Err(error) => {
                unavailable(error.clone())?;
                findings.observations.push(Observation {
                    source: "context".to_owned(),
                    text: error.to_string(),
                    data: json!({}),
                });
                return Ok(findings);
            }
        };
        if activity.orders.is_empty() && activity.deliveries.is_empty() {
            findings.observations.push(Observation {
                source: "context".to_owned(),
                text: "No orders on record for this customer.".to_owned(),
                data: json!({}),
            });
        }
        for order in &activity.orders {
            findings.observations.push(Observation {
                source: "orders".to_owned(),
                text: format!(
                    "Order {} placed on {}, total {}{}.",
                    order.order_number,
                    order.placed_on,
                    format_cents(order.total_cents),
                    if order.status == OrderStatus::Cancelled { ", cancelled" } else { "" }
                ),
                data: json!({"order_number": order.order_number, "placed_on": order.placed_on.to_string(), "total_cents": order.total_cents, "status": order.status.as_str()}),
            });
        }
        for delivery in &activity.deliveries {
            findings.observations.push(Observation {
                source: "deliveries".to_owned(),
                text: format!(
                    "Delivery {} ({}) for order {}: {}, expected {} to {}{}.",
                    delivery.tracking_number,
                    delivery.carrier,
                    delivery.order_number,
                    delivery.status.describe(),
                    delivery.expected_start,
                    delivery.expected_end,
                    delivery.delivered_on.map(|d| format!(", delivered {d}")).unwrap_or_default()
                ),
                data: json!({"delivery_id": delivery.delivery_id, "tracking_number": delivery.tracking_number, "status": delivery.status.as_str()}),
            });
        }
        for refund in &activity.refunds {
            findings.observations.push(Observation {
                source: "refunds".to_owned(),
                text: format!("Refund of {} credited on {} for {}: {}.", format_cents(refund.amount_cents), refund.credited_on, refund.tracking_number, refund.reason),
                data: json!({"tracking_number": refund.tracking_number, "amount_cents": refund.amount_cents}),
            });
        }
        Ok(findings)
    }
}
