//! The triage graph's behaviour, on a scripted cognitive engine.

use deskhand_core::graph::decide_route;
use deskhand_core::ports::{Classified, Cognition, CognitionError, ComposeInput, Metered, Usage};
use deskhand_core::*;
use futures_executor::block_on;
use time::macros::datetime;

#[derive(Clone)]
struct Scripted {
    classified: Result<Classified, CognitionError>,
    compose_fails: bool,
}

impl Cognition for Scripted {
    fn engine_name(&self) -> String {
        "scripted".into()
    }
    async fn classify(&self, _: &InboundEmail) -> Result<Metered<Classified>, CognitionError> {
        self.classified.clone().map(|value| Metered {
            value,
            usage: Usage { calls: 1, prompt_tokens: 100, completion_tokens: 20, cost_usd: 0.001 },
        })
    }
    async fn compose(&self, input: ComposeInput<'_>) -> Result<Metered<Reply>, CognitionError> {
        if self.compose_fails {
            return Err(CognitionError::Transient("timeout".into()));
        }
        Ok(Metered::free(Reply { subject: "Re".into(), body: format!("About: {}", input.classified.summary) }))
    }
}

fn classified(topic: Topic, urgency: Urgency) -> Classified {
    Classified {
        topic,
        urgency,
        confidence: 0.9,
        needs_reply: true,
        multiple_requests: false,
        summary: "asks where the parcel is".into(),
        urgent_reason: None,
    }
}

fn email(body: &str) -> InboundEmail {
    InboundEmail {
        event_id: EventId::parse("e1").unwrap(),
        case_id: CaseId::parse("c1").unwrap(),
        customer_id: CustomerId::parse(7).unwrap(),
        customer_name: Some("Dana".into()),
        received_at: datetime!(2026-11-20 10:00 UTC),
        from: "dana@example.com".into(),
        subject: Some("Order".into()),
        message_id: None,
        body: EmailBody {
            original: OriginalMessage::Text(body.into()),
            full_text: body.into(),
            readable: body.into(),
        },
    }
}

fn run(engine: Scripted, body: &str) -> Draft {
    let graph = TriageGraph::new(engine, GraphSettings::default());
    let ctx = RunContext { draft_id: DraftId::new(), now: datetime!(2026-11-20 10:01 UTC), trace_id: "t".into() };
    block_on(graph.run(&email(body), ctx))
}

fn ok(c: Classified) -> Scripted {
    Scripted { classified: Ok(c), compose_fails: false }
}

#[test]
fn urgent_emails_are_escalated_with_the_reason() {
    let mut c = classified(Topic::DeliveryDelay, Urgency::Urgent);
    c.urgent_reason = Some("legal threat".into());
    let decision = decide_route(&c, &GraphSettings::default());
    assert_eq!(decision.route, Route::Escalate);
    assert_eq!(decision.escalation.unwrap().reason, "urgent: legal threat");
}

#[test]
fn multiple_requests_and_low_confidence_are_escalated() {
    let mut c = classified(Topic::DeliveryDelay, Urgency::Medium);
    c.multiple_requests = true;
    assert_eq!(decide_route(&c, &GraphSettings::default()).route, Route::Escalate);
    let mut c = classified(Topic::DeliveryDelay, Urgency::Medium);
    c.confidence = 0.59;
    assert_eq!(decide_route(&c, &GraphSettings::default()).route, Route::Escalate);
    c.confidence = 0.6;
    assert_eq!(decide_route(&c, &GraphSettings::default()).route, Route::Delivery, "the threshold itself passes");
}

#[test]
fn topics_route_to_their_flows() {
    let route = |t| decide_route(&classified(t, Urgency::Medium), &GraphSettings::default()).route;
    assert_eq!(route(Topic::ProductAvailabilityOrRecommendation), Route::Product);
    assert_eq!(route(Topic::DeliveryDelay), Route::Delivery);
    assert_eq!(route(Topic::TransactionInquiry), Route::Escalate);
    assert_eq!(route(Topic::BillingDispute), Route::Escalate);
    let mut thanks = classified(Topic::Other, Urgency::Low);
    thanks.needs_reply = false;
    assert_eq!(decide_route(&thanks, &GraphSettings::default()).route, Route::NoReply);
}

#[test]
fn an_empty_body_gets_no_reply_without_calling_the_engine() {
    let engine = Scripted { classified: Err(CognitionError::Permanent("must not be called".into())), compose_fails: false };
    let draft = run(engine, "   \n ");
    assert_eq!(draft.route, Route::NoReply);
    assert!(draft.reply.is_none());
    assert_eq!(draft.trace.llm_calls, 0);
    assert_eq!(draft.trace.nodes.len(), 1);
}

#[test]
fn a_body_over_the_limit_is_escalated_unread() {
    let engine = Scripted { classified: Err(CognitionError::Permanent("must not be called".into())), compose_fails: false };
    let draft = run(engine, &"x".repeat(2_501));
    assert_eq!(draft.route, Route::Escalate);
    assert_eq!(draft.escalation.unwrap().reason, "too long for automatic handling");
    let at_limit = run(ok(classified(Topic::DeliveryDelay, Urgency::Low)), &"x".repeat(2_500));
    assert_eq!(at_limit.route, Route::Delivery);
}

#[test]
fn a_failing_engine_escalates_instead_of_dropping_the_email() {
    let engine = Scripted { classified: Err(CognitionError::Transient("429".into())), compose_fails: false };
    let draft = run(engine, "where is my parcel");
    assert_eq!(draft.route, Route::Escalate);
    assert!(draft.escalation.unwrap().reason.contains("429"));

    let engine = Scripted { classified: Ok(classified(Topic::DeliveryDelay, Urgency::Low)), compose_fails: true };
    let draft = run(engine, "where is my parcel");
    assert_eq!(draft.route, Route::Escalate);
    assert!(draft.reply.is_none());
}

#[test]
fn the_trace_lists_every_node_taken_with_usage() {
    let draft = run(ok(classified(Topic::DeliveryDelay, Urgency::Low)), "where is my parcel");
    let nodes: Vec<&str> = draft.trace.nodes.iter().map(|n| n.node.as_str()).collect();
    assert_eq!(nodes, ["guard", "classify", "route", "compose"]);
    assert_eq!(draft.trace.llm_calls, 1);
    assert_eq!(draft.trace.prompt_tokens, 100);
    assert_eq!(draft.engine, "scripted");
    assert_eq!(draft.reply.unwrap().body, "About: asks where the parcel is");
}

#[test]
fn labels_outside_the_closed_sets_are_refused() {
    assert!("shipping".parse::<Topic>().is_err());
    assert_eq!("delivery_delay".parse::<Topic>().unwrap(), Topic::DeliveryDelay);
    assert!("critical".parse::<Urgency>().is_err());
    assert!(Confidence::parse(1.2).is_err());
    assert!(Confidence::parse(f64::NAN).is_err());
    assert!(serde_json::from_str::<Topic>("\"shipping\"").is_err());
}

#[test]
fn ids_are_trimmed_bounded_and_free_of_control_characters() {
    assert_eq!(EventId::parse("  e-1 ").unwrap().as_str(), "e-1");
    assert!(EventId::parse("").is_err());
    assert!(CaseId::parse(&"c".repeat(201)).is_err());
    assert!(CaseId::parse("a\nb").is_err());
    assert!(CustomerId::parse(0).is_err());
}
