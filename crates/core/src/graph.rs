//! The triage graph: a fixed sequence of named nodes over one email.
//!
//! `guard → classify → route → compose`. Each node's name and duration go into the
//! draft's trace. The graph never fails: whatever goes wrong becomes an escalation, so
//! every email reaches a person one way or another.

use crate::draft::{
    Classification, Confidence, Draft, Escalation, NodeRun, Observation, Route, Topic, Trace,
    Urgency,
};
use crate::email::InboundEmail;
use crate::ids::DraftId;
use crate::ports::{Classified, Cognition, ComposeInput, Usage};
use std::time::Instant;
use time::OffsetDateTime;

/// The graph's knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphSettings {
    /// Emails whose readable text is longer than this are escalated unread.
    pub max_body_chars: usize,
    /// Classifications less confident than this are escalated.
    pub min_confidence: f64,
}

impl Default for GraphSettings {
    fn default() -> Self {
        Self {
            max_body_chars: 2_500,
            min_confidence: 0.6,
        }
    }
}

/// What the caller supplies for one run; the graph itself reads no clock and mints no ids.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub draft_id: DraftId,
    pub now: OffsetDateTime,
    pub trace_id: String,
}

/// The triage graph over a cognitive engine `C`.
#[derive(Debug, Clone)]
pub struct TriageGraph<C> {
    cognition: C,
    settings: GraphSettings,
}

/// What the route node decided.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteDecision {
    pub route: Route,
    pub escalation: Option<Escalation>,
}

/// The routing rules, in priority order. Pure, so it is tested on its own.
pub fn decide_route(classified: &Classified, settings: &GraphSettings) -> RouteDecision {
    let escalate = |reason: String| RouteDecision {
        route: Route::Escalate,
        escalation: Some(Escalation { reason }),
    };
    if classified.urgency == Urgency::Urgent {
        let why = classified
            .urgent_reason
            .as_deref()
            .unwrap_or("marked urgent");
        return escalate(format!("urgent: {why}"));
    }
    if classified.multiple_requests {
        return escalate("several requests in one email".to_owned());
    }
    if classified.confidence < settings.min_confidence {
        return escalate(format!(
            "low classification confidence ({:.2} < {:.2})",
            classified.confidence, settings.min_confidence
        ));
    }
    if !classified.needs_reply {
        return RouteDecision {
            route: Route::NoReply,
            escalation: None,
        };
    }
    match classified.topic {
        Topic::ProductAvailabilityOrRecommendation => RouteDecision {
            route: Route::Product,
            escalation: None,
        },
        Topic::DeliveryDelay => RouteDecision {
            route: Route::Delivery,
            escalation: None,
        },
        Topic::TransactionInquiry => escalate("transaction inquiry: needs a person".to_owned()),
        Topic::BillingDispute => escalate("billing dispute: needs a person".to_owned()),
        Topic::Other => escalate("no automatic flow for this request".to_owned()),
    }
}

/// Collects node timings and model usage while the graph runs.
struct TraceRecorder {
    trace: Trace,
}

impl TraceRecorder {
    fn new() -> Self {
        Self {
            trace: Trace::default(),
        }
    }
    fn node(&mut self, node: &str, started: Instant, note: Option<String>) {
        self.trace.nodes.push(NodeRun {
            node: node.to_owned(),
            duration_ms: started.elapsed().as_secs_f64() * 1_000.0,
            note,
        });
    }
    fn usage(&mut self, usage: Usage) {
        self.trace.llm_calls += usage.calls;
        self.trace.prompt_tokens += usage.prompt_tokens;
        self.trace.completion_tokens += usage.completion_tokens;
        self.trace.cost_usd += usage.cost_usd;
    }
}

/// The parts of a draft that the nodes decide.
struct Outcome {
    classification: Classification,
    route: Route,
    reply: Option<crate::draft::Reply>,
    summary: String,
    observations: Vec<Observation>,
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
            },
            route,
            reply: None,
            summary,
            observations: Vec::new(),
            escalation,
        }
    }
}

impl<C: Cognition> TriageGraph<C> {
    pub fn new(cognition: C, settings: GraphSettings) -> Self {
        Self {
            cognition,
            settings,
        }
    }

    pub fn settings(&self) -> &GraphSettings {
        &self.settings
    }

    /// Runs every node over one email and returns its draft.
    pub async fn run(&self, email: &InboundEmail, ctx: RunContext) -> Draft {
        let mut recorder = TraceRecorder::new();
        let outcome = self.decide(email, &mut recorder).await;
        Draft {
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
            proposed_actions: Vec::new(),
            escalation: outcome.escalation,
            engine: self.cognition.engine_name(),
            trace: recorder.trace,
            trace_id: ctx.trace_id,
        }
    }

    async fn decide(&self, email: &InboundEmail, recorder: &mut TraceRecorder) -> Outcome {
        // guard: no model call; cheap refusals first.
        let started = Instant::now();
        let readable = email.body.readable.trim();
        if readable.is_empty() {
            recorder.node("guard", started, Some("empty body".to_owned()));
            return Outcome::unclassified(Route::NoReply, "Empty email.".to_owned(), None);
        }
        let chars = readable.chars().count();
        if chars > self.settings.max_body_chars {
            recorder.node("guard", started, Some(format!("{chars} characters")));
            return Outcome::unclassified(
                Route::Escalate,
                format!("Long email ({chars} characters), not read automatically."),
                Some(Escalation {
                    reason: "too long for automatic handling".to_owned(),
                }),
            );
        }
        recorder.node("guard", started, None);

        let started = Instant::now();
        let classified = match self.cognition.classify(email).await {
            Ok(metered) => {
                recorder.usage(metered.usage);
                metered.value
            }
            Err(error) => {
                recorder.node("classify", started, Some(error.to_string()));
                return Outcome::unclassified(
                    Route::Escalate,
                    "Email could not be classified automatically.".to_owned(),
                    Some(Escalation {
                        reason: format!("classification failed: {error}"),
                    }),
                );
            }
        };
        recorder.node("classify", started, None);
        let classification = Classification {
            topic: classified.topic,
            urgency: classified.urgency,
            confidence: Confidence::parse(classified.confidence.clamp(0.0, 1.0))
                .unwrap_or_else(|_| Confidence::parse(0.0).expect("0.0 is valid")),
        };

        let started = Instant::now();
        let decision = decide_route(&classified, &self.settings);
        recorder.node("route", started, Some(decision.route.to_string()));

        let mut outcome = Outcome {
            classification,
            route: decision.route,
            reply: None,
            summary: classified.summary.clone(),
            observations: Vec::new(),
            escalation: decision.escalation,
        };
        if !matches!(outcome.route, Route::Product | Route::Delivery) {
            return outcome;
        }

        let started = Instant::now();
        let input = ComposeInput {
            email,
            classified: &classified,
            observations: &outcome.observations,
        };
        match self.cognition.compose(input).await {
            Ok(metered) => {
                recorder.usage(metered.usage);
                recorder.node("compose", started, None);
                outcome.reply = Some(metered.value);
            }
            Err(error) => {
                recorder.node("compose", started, Some(error.to_string()));
                outcome.route = Route::Escalate;
                outcome.escalation = Some(Escalation {
                    reason: format!("reply could not be composed: {error}"),
                });
            }
        }
        outcome
    }
}
