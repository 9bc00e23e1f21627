//! The decision event: typed, and the same bytes as the event the review service wrote
//! before it had a type.

use deskhand_contracts::decision::{DecisionEvent, DecisionReviewer, Recorded, SentReply, Verdict};
use deskhand_core::review::{ActionResult, Role};
use deskhand_core::*;
use serde_json::json;
use std::collections::BTreeSet;
use time::macros::datetime;

fn draft() -> Draft {
    Draft {
        draft_id: DraftId::new(),
        event_id: EventId::parse("evt-1").unwrap(),
        case_id: CaseId::parse("case-1").unwrap(),
        customer_id: CustomerId::parse(101).unwrap(),
        created_at: datetime!(2026-11-20 09:00 UTC),
        classification: Classification {
            topic: Topic::DeliveryDelay,
            urgency: Urgency::Medium,
            confidence: Confidence::parse(0.9).unwrap(),
            tone: None,
            language: None,
        },
        route: Route::Delivery,
        reply: None,
        summary: "late parcel".into(),
        observations: vec![],
        proposed_actions: vec![],
        escalation: None,
        engine: "offline".into(),
        trace: Trace::default(),
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
    }
}

fn recorded() -> Recorded {
    Recorded {
        decision_id: 42,
        decided_at: datetime!(2026-11-20 09:14:03 UTC),
        draft_version: 2,
    }
}

fn rita() -> DecisionReviewer {
    DecisionReviewer {
        name: "rita".into(),
        role: Role::Reviewer,
    }
}

#[test]
fn an_approval_is_published_byte_for_byte_as_before() {
    let draft = draft();
    let actions = vec![ActionResult::RefundDeliveryFee {
        action_id: "a1".into(),
        refund_id: 7,
        delivery_id: 31,
        amount_cents: 320,
    }];
    let event = DecisionEvent::new(
        &draft,
        rita(),
        recorded(),
        Verdict::Approved {
            edited: true,
            reply: SentReply {
                to: "dana@example.com".into(),
                subject: "Re: Where is my order?".into(),
                body: "Hi Dana".into(),
                message_id: "draft-1@shop.example".into(),
            },
            actions: actions.clone(),
        },
    );
    // How the review service built it before the type existed.
    let before = json!({
        "decision_id": 42,
        "draft_id": draft.draft_id.as_uuid(),
        "event_id": "evt-1",
        "case_id": "case-1",
        "customer_id": 101,
        "decision": "approve",
        "decided_at": "2026-11-20T09:14:03Z",
        "reviewer": {"name": "rita", "role": Role::Reviewer},
        "draft_version": 2,
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "edited": true,
        "reply": {"to": "dana@example.com", "subject": "Re: Where is my order?",
                  "body": "Hi Dana", "message_id": "draft-1@shop.example"},
        "actions": actions,
        "reason": null,
    });
    assert_eq!(
        String::from_utf8(event.to_payload()).unwrap(),
        serde_json::to_string(&before).unwrap()
    );
}

#[test]
fn a_rejection_carries_its_reason_and_nothing_an_approval_carries() {
    let event = DecisionEvent::new(
        &draft(),
        rita(),
        recorded(),
        Verdict::Rejected {
            reason: "wrong parcel".into(),
        },
    );
    let value: serde_json::Value = serde_json::from_slice(&event.to_payload()).unwrap();
    assert_eq!(value["decision"], "reject");
    assert_eq!(value["reason"], "wrong parcel");
    assert_eq!(value["edited"], serde_json::Value::Null);
    assert_eq!(value["reply"], serde_json::Value::Null);
    assert_eq!(value["actions"], json!([]));
}

#[test]
fn the_decision_schema_lists_exactly_the_fields_the_code_publishes() {
    let path = format!(
        "{}/../../docs/schemas/deskhand.draft.decided.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let documented: BTreeSet<String> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let event = DecisionEvent::new(
        &draft(),
        rita(),
        recorded(),
        Verdict::Escalated {
            note: "lead".into(),
        },
    );
    let published: serde_json::Value = serde_json::from_slice(&event.to_payload()).unwrap();
    let published: BTreeSet<String> = published.as_object().unwrap().keys().cloned().collect();
    assert_eq!(published, documented);
}
