//! The triage graph on a scripted engine and an in-memory shop.

use crate::fixtures::delivery;
use deskhand_core::delivery::DeliveryFacts;
use deskhand_core::graph::decide_route;
use deskhand_core::order::OrderFacts;
use deskhand_core::ports::*;
use deskhand_core::product::{ProductCandidate, ProductQuery};
use deskhand_core::*;
use futures_executor::block_on;
use time::macros::{date, datetime};

#[derive(Clone)]
pub(crate) struct Scripted {
    pub(crate) classified: Result<Classified, CognitionError>,
    pub(crate) query: ProductQuery,
    pub(crate) reply_body: Option<String>,
    /// The composed subject, when the test scripts one ("Re" otherwise).
    pub(crate) reply_subject: Option<String>,
}

impl Cognition for Scripted {
    fn engine_name(&self) -> String {
        "scripted".into()
    }
    async fn classify(
        &self,
        _: &InboundEmail,
        _: &CaseMemory,
        _: Deadline,
    ) -> CognitionResult<Classified> {
        self.classified
            .clone()
            .map_err(Metered::free)
            .map(|value| Metered {
                value,
                usage: Usage {
                    calls: 1,
                    prompt_tokens: 100,
                    completion_tokens: 20,
                    cost_usd: 0.001,
                },
            })
    }
    async fn extract_product_query(
        &self,
        _: &InboundEmail,
        _: Deadline,
    ) -> CognitionResult<ProductQuery> {
        Ok(Metered::free(self.query.clone()))
    }
    async fn compose(&self, input: ComposeInput<'_>, _: Deadline) -> CognitionResult<Reply> {
        match &self.reply_body {
            Some(body) => Ok(Metered::free(Reply {
                subject: self.reply_subject.clone().unwrap_or_else(|| "Re".into()),
                body: body.clone(),
            })),
            None => Ok(Metered::free(self.template_reply(input))),
        }
    }
    fn template_reply(&self, input: ComposeInput<'_>) -> Reply {
        Reply {
            subject: "Re".into(),
            body: input.facts.join("\n"),
        }
    }
}

/// A shop in memory that honours the scope the way the store does.
#[derive(Default, Clone)]
pub(crate) struct Shop {
    deliveries: Vec<(i64, DeliveryFacts)>,
    /// Orders by owner.
    pub(crate) orders: Vec<(i64, OrderFacts)>,
    pub(crate) products: Vec<ProductCandidate>,
    memory: CaseMemory,
    pub(crate) address_on_file: Option<String>,
    /// The recall fails for good (a corrupt row).
    recall_fails: bool,
}

impl ShopData for Shop {
    async fn recall(&self, _: CustomerScope, _: &CaseId) -> Result<Recalled, DataError> {
        if self.recall_fails {
            return Err(DataError::Failed("case memory row unreadable".into()));
        }
        Ok(Recalled {
            memory: self.memory.clone(),
            address_on_file: self.address_on_file.clone(),
        })
    }
    async fn deliveries(
        &self,
        scope: CustomerScope,
        lookup: &DeliveryLookup,
        since: time::Date,
    ) -> Result<DeliveryMatches, DataError> {
        let mine = self
            .deliveries
            .iter()
            .filter(|(owner, _)| *owner == scope.customer_id().get())
            .map(|(_, d)| d);
        Ok(DeliveryMatches {
            matched: mine
                .clone()
                .filter(|d| {
                    lookup
                        .tracking
                        .iter()
                        .any(|t| t.as_str() == d.tracking_number)
                })
                .cloned()
                .collect(),
            recent: mine.filter(|d| d.expected_end >= since).cloned().collect(),
        })
    }
    async fn orders(
        &self,
        scope: CustomerScope,
        numbers: &[String],
    ) -> Result<Vec<OrderFacts>, DataError> {
        Ok(self
            .orders
            .iter()
            .filter(|(owner, o)| {
                *owner == scope.customer_id().get() && numbers.contains(&o.order_number)
            })
            .map(|(_, o)| o.clone())
            .collect())
    }
    async fn activity(
        &self,
        _: CustomerScope,
        _: &DeliveryLookup,
    ) -> Result<CustomerActivity, DataError> {
        Ok(CustomerActivity::default())
    }
    async fn search_products(
        &self,
        _: &ProductQuery,
        limit: i64,
    ) -> Result<Vec<ProductCandidate>, DataError> {
        Ok(self.products.iter().take(limit as usize).cloned().collect())
    }
}

pub(crate) fn classified(topic: Topic, urgency: Urgency) -> Classified {
    Classified {
        topic,
        urgency,
        confidence: 0.9,
        needs_reply: true,
        multiple_requests: false,
        summary: "asks where the parcel is".into(),
        urgent_reason: None,
        tone: None,
        language: Some(Language::english()),
    }
}

pub(crate) fn engine(c: Classified) -> Scripted {
    Scripted {
        classified: Ok(c),
        query: ProductQuery::default(),
        reply_body: None,
        reply_subject: None,
    }
}

pub(crate) fn email(body: &str) -> InboundEmail {
    InboundEmail {
        event_id: EventId::parse("e1").unwrap(),
        case_id: CaseId::parse("c1").unwrap(),
        customer_id: CustomerId::parse(7).unwrap(),
        customer_name: Some("Dana".into()),
        received_at: datetime!(2026-03-10 10:00 UTC),
        from: "dana@example.com".into(),
        subject: Some("Order".into()),
        message_id: None,
        redraft_of: None,
        body: EmailBody {
            original: OriginalMessage::Text(body.into()),
            full_text: body.into(),
            readable: body.into(),
        },
    }
}

pub(crate) fn run(engine: Scripted, shop: Shop, body: &str) -> Triage {
    run_email(engine, shop, &email(body))
}

fn run_email(engine: Scripted, shop: Shop, email: &InboundEmail) -> Triage {
    run_with(engine, shop, email, GraphSettings::default())
}

fn run_with(engine: Scripted, shop: Shop, email: &InboundEmail, settings: GraphSettings) -> Triage {
    let graph = TriageGraph::new(engine, shop, settings);
    let ctx = RunContext {
        draft_id: DraftId::new(),
        now: datetime!(2026-03-10 10:01 UTC),
        today: date!(2026 - 03 - 10),
        trace_id: "t".into(),
        deadline: Deadline::after(std::time::Duration::from_secs(5)),
    };
    block_on(graph.run(email, ctx)).expect("graph runs")
}

pub(crate) fn product(
    id: i64,
    quantity: i64,
    incoming: Option<(time::Date, i64)>,
) -> ProductCandidate {
    ProductCandidate {
        product_id: id,
        name: "Pegasus 41".into(),
        brand: "Nike".into(),
        model: "Pegasus 41".into(),
        size: 9.5,
        width: "D".into(),
        color: "Black".into(),
        material: "Mesh".into(),
        price_cents: 13000,
        description: "Road running".into(),
        quantity,
        next_incoming: incoming,
    }
}

#[test]
fn urgent_emails_are_escalated_with_the_reason() {
    let mut c = classified(Topic::DeliveryDelay, Urgency::Urgent);
    c.urgent_reason = Some("legal threat".into());
    let decision = decide_route(&c, &GraphSettings::default(), 0);
    assert_eq!(decision.route, Route::Escalate);
    assert_eq!(decision.escalation.unwrap().reason, "urgent: legal threat");
}

#[test]
fn multiple_requests_and_low_confidence_are_escalated() {
    let settings = GraphSettings::default();
    let mut c = classified(Topic::DeliveryDelay, Urgency::Medium);
    c.multiple_requests = true;
    assert_eq!(decide_route(&c, &settings, 0).route, Route::Escalate);
    let mut c = classified(Topic::DeliveryDelay, Urgency::Medium);
    c.confidence = 0.59;
    assert_eq!(decide_route(&c, &settings, 0).route, Route::Escalate);
    c.confidence = 0.6;
    assert_eq!(
        decide_route(&c, &settings, 0).route,
        Route::Delivery,
        "the threshold itself passes"
    );
}

#[test]
fn the_fourth_email_asking_for_the_same_thing_is_escalated() {
    let c = classified(Topic::DeliveryDelay, Urgency::Medium);
    let settings = GraphSettings::default();
    assert_eq!(
        decide_route(&c, &settings, 2).route,
        Route::Delivery,
        "third time"
    );
    let fourth = decide_route(&c, &settings, 3);
    assert_eq!(fourth.route, Route::Escalate);
    assert!(fourth.escalation.unwrap().reason.contains("4th time"));
}

#[test]
fn topics_route_to_their_flows() {
    let route = |t| {
        decide_route(
            &classified(t, Urgency::Medium),
            &GraphSettings::default(),
            0,
        )
        .route
    };
    assert_eq!(
        route(Topic::ProductAvailabilityOrRecommendation),
        Route::Product
    );
    assert_eq!(route(Topic::DeliveryDelay), Route::Delivery);
    assert_eq!(route(Topic::TransactionInquiry), Route::Escalate);
    assert_eq!(route(Topic::BillingDispute), Route::Escalate);
    let mut thanks = classified(Topic::Other, Urgency::Low);
    thanks.needs_reply = false;
    assert_eq!(
        decide_route(&thanks, &GraphSettings::default(), 0).route,
        Route::NoReply
    );
}

#[test]
fn an_empty_body_gets_no_reply_without_calling_the_engine() {
    let engine = Scripted {
        classified: Err(CognitionError::Permanent("must not be called".into())),
        query: ProductQuery::default(),
        reply_body: None,
        reply_subject: None,
    };
    let triage = run(engine, Shop::default(), "   \n ");
    assert_eq!(triage.draft.route, Route::NoReply);
    assert!(triage.draft.reply.is_none());
    assert_eq!(triage.draft.trace.llm_calls, 0);
}

#[test]
fn a_body_over_the_limit_is_escalated_unread() {
    let engine = Scripted {
        classified: Err(CognitionError::Permanent("must not be called".into())),
        query: ProductQuery::default(),
        reply_body: None,
        reply_subject: None,
    };
    let triage = run(engine, Shop::default(), &"x".repeat(2_501));
    assert_eq!(triage.draft.route, Route::Escalate);
    assert_eq!(
        triage.draft.escalation.unwrap().reason,
        "too long for automatic handling"
    );
    let at_limit = run(engine_for_delivery(), Shop::default(), &"x".repeat(2_500));
    assert_eq!(at_limit.draft.route, Route::Delivery);
}

fn engine_for_delivery() -> Scripted {
    engine(classified(Topic::DeliveryDelay, Urgency::Low))
}

#[test]
fn a_failing_engine_escalates_instead_of_dropping_the_email() {
    let engine = Scripted {
        classified: Err(CognitionError::Transient("429".into())),
        query: ProductQuery::default(),
        reply_body: None,
        reply_subject: None,
    };
    let triage = run(engine, Shop::default(), "where is my parcel");
    assert_eq!(triage.draft.route, Route::Escalate);
    assert!(triage.draft.escalation.unwrap().reason.contains("429"));
}

#[test]
fn a_late_delivery_gets_the_policy_actions_and_the_trace_lists_the_nodes() {
    let shop = Shop {
        deliveries: vec![
            (
                7,
                delivery(1, "1Z999AA10123456784", date!(2026 - 03 - 04), None, 800),
            ),
            (
                7,
                delivery(
                    2,
                    "1Z999AA10000000001",
                    date!(2026 - 02 - 01),
                    Some(date!(2026 - 02 - 03)),
                    500,
                ),
            ),
        ],
        ..Shop::default()
    };
    let triage = run(
        engine_for_delivery(),
        shop,
        "Where is 1z999aa1-0123-4567-84 ?",
    );
    let draft = &triage.draft;
    assert_eq!(draft.route, Route::Delivery);
    let kinds: Vec<&str> = draft
        .proposed_actions
        .iter()
        .map(|a| a.action.kind())
        .collect();
    assert_eq!(kinds, ["refund_delivery_fee", "issue_coupon"]);
    assert_eq!(
        draft.proposed_actions[0].credits_cents(),
        800,
        "6 days × 20% = 960, capped at 800"
    );
    let nodes: Vec<&str> = draft.trace.nodes.iter().map(|n| n.node.as_str()).collect();
    assert_eq!(
        nodes,
        [
            "guard",
            "recall",
            "classify",
            "route",
            "delivery_lookup",
            "compose"
        ]
    );
    let reply = draft.reply.as_ref().unwrap();
    assert!(reply.body.contains("1Z999AA10123456784"));
    assert!(!reply.body.contains("delivery_id"));
    assert_eq!(triage.memory.customer_emails, 1);
}

#[test]
fn another_customers_tracking_number_gets_the_same_answer_as_an_unknown_one() {
    let shop = Shop {
        deliveries: vec![(
            8,
            delivery(1, "1Z999AA10123456784", date!(2026 - 03 - 04), None, 800),
        )],
        ..Shop::default()
    };
    let theirs = run(engine_for_delivery(), shop, "Where is 1Z999AA10123456784?").draft;
    let unknown = run(
        engine_for_delivery(),
        Shop::default(),
        "Where is 1Z999AA10123456784?",
    )
    .draft;
    assert!(theirs.proposed_actions.is_empty());
    assert_eq!(
        theirs.reply, unknown.reply,
        "nothing reveals that the number exists elsewhere"
    );
    assert_eq!(theirs.observations, unknown.observations);
    assert!(theirs
        .reply
        .unwrap()
        .body
        .contains("could not find an open delivery"));
}

#[test]
fn an_email_without_any_number_gets_a_reply_asking_for_one() {
    let triage = run(
        engine_for_delivery(),
        Shop::default(),
        "My parcel is late, where is it?",
    );
    assert!(triage.draft.proposed_actions.is_empty());
    assert_eq!(
        triage.draft.observations[0].text,
        "The email gives no tracking or order number."
    );
}

#[test]
fn a_reply_stating_an_amount_not_in_the_evidence_is_replaced_by_the_template_and_flagged() {
    let shop = Shop {
        deliveries: vec![(
            7,
            delivery(1, "1Z999AA10123456784", date!(2026 - 03 - 08), None, 800),
        )],
        ..Shop::default()
    };
    let mut engine = engine_for_delivery();
    engine.reply_body = Some("We refunded you $500.00 for 1Z999AA10123456784.".into());
    let draft = run(engine, shop, "Where is 1Z999AA10123456784?").draft;
    let reply = draft.reply.unwrap().body;
    assert!(!reply.contains("$500.00"), "{reply}");
    assert!(draft
        .observations
        .iter()
        .any(|o| o.source == "reply_guard" && o.text.contains("$500.00")));
}

#[test]
fn a_non_english_email_goes_to_a_person_with_its_language_named() {
    let mut c = classified(Topic::DeliveryDelay, Urgency::Medium);
    c.language = Some(Language::parse("de").unwrap());
    let draft = run(engine(c), Shop::default(), "Wo ist mein Paket?").draft;
    assert_eq!(draft.route, Route::Escalate);
    assert!(
        draft.reply.is_none(),
        "no English template goes to a German customer"
    );
    let escalation = draft.escalation.expect("escalated");
    assert_eq!(escalation.kind, EscalationKind::Language);
    assert!(
        escalation.reason.contains("German"),
        "{}",
        escalation.reason
    );
    assert_eq!(draft.classification.language.unwrap().as_str(), "de");
}

#[test]
fn a_subject_stating_an_amount_not_in_the_evidence_is_caught_but_the_customers_own_is_not() {
    let shop = || Shop {
        deliveries: vec![(
            7,
            delivery(1, "1Z999AA10123456784", date!(2026 - 03 - 08), None, 800),
        )],
        ..Shop::default()
    };
    let mut engine = engine_for_delivery();
    engine.reply_body = Some("Your parcel 1Z999AA10123456784 is on its way.".into());
    engine.reply_subject = Some("Your $500.00 refund".into());
    let draft = run(engine.clone(), shop(), "Where is 1Z999AA10123456784?").draft;
    assert_ne!(draft.reply.unwrap().subject, "Your $500.00 refund");
    assert!(draft.observations.iter().any(|o| o.source == "reply_guard"));

    // "Re:" the customer's own subject repeats their words, not a claim of ours.
    let mut theirs = email("Where is 1Z999AA10123456784? I paid $12.99 for shipping.");
    theirs.subject = Some("Paid $12.99 for shipping".into());
    engine.reply_subject = Some("Re: Paid $12.99 for shipping".into());
    let draft = run_email(engine, shop(), &theirs).draft;
    assert!(
        !draft.observations.iter().any(|o| o.source == "reply_guard"),
        "{:?}",
        draft.observations
    );
}

#[test]
fn a_sender_who_is_not_the_customer_on_file_is_named_to_the_reviewer_or_gets_no_reply() {
    use deskhand_core::sender::SenderCheck;
    let late_parcel = || Shop {
        deliveries: vec![(
            7,
            delivery(1, "1Z999AA10123456784", date!(2026 - 03 - 04), None, 800),
        )],
        address_on_file: Some("Dana@Example.com".into()),
        ..Shop::default()
    };
    let mut mail = email("Where is 1Z999AA10123456784?");
    let sender_checks = |draft: &Draft| {
        draft
            .observations
            .iter()
            .filter(|o| o.source == "sender_check")
            .count()
    };

    // The customer's own address, however cased and named: nothing to say.
    mail.from = "Dana Ruiz <dana@example.COM>".into();
    let own = run_email(engine_for_delivery(), late_parcel(), &mail).draft;
    assert_eq!(sender_checks(&own), 0);
    assert_eq!(own.route, Route::Delivery);

    // Another address: the reviewer is told; by default the draft stands.
    mail.from = "Dana <dana.ruiz@another.example>".into();
    let warned = run_email(engine_for_delivery(), late_parcel(), &mail).draft;
    assert_eq!(sender_checks(&warned), 1);
    assert_eq!(warned.route, Route::Delivery);
    assert!(warned.reply.is_some() && !warned.proposed_actions.is_empty());

    // Under `refuse`, nothing about the account is drafted for that sender.
    let settings = GraphSettings {
        sender_check: SenderCheck::Refuse,
        ..GraphSettings::default()
    };
    let refused = run_with(engine_for_delivery(), late_parcel(), &mail, settings).draft;
    assert_eq!(refused.route, Route::Escalate);
    assert!(refused.reply.is_none() && refused.proposed_actions.is_empty());
    assert_eq!(sender_checks(&refused), 1);
    let escalation = refused.escalation.unwrap();
    assert_eq!(escalation.kind, EscalationKind::SenderMismatch);
    assert!(escalation.reason.contains("dana.ruiz@another.example"));
    // A sender that cannot be checked (the customer's record is unreadable) is not taken
    // for the customer.
    mail.from = "Dana Ruiz <dana@example.com>".into();
    let unreadable = Shop {
        recall_fails: true,
        ..late_parcel()
    };
    let settings = GraphSettings {
        sender_check: SenderCheck::Refuse,
        ..GraphSettings::default()
    };
    let unchecked = run_with(engine_for_delivery(), unreadable, &mail, settings).draft;
    assert_eq!(unchecked.route, Route::Escalate);
    assert!(unchecked
        .escalation
        .unwrap()
        .reason
        .contains("could not be read"));
    mail.from = "Dana <dana.ruiz@another.example>".into();
    // A hand-over later (storage, size) keeps the warning.
    let refused = run_with(
        engine_for_delivery(),
        late_parcel(),
        &mail,
        GraphSettings {
            sender_check: SenderCheck::Refuse,
            ..GraphSettings::default()
        },
    )
    .draft
    .handed_over(Escalation::new(EscalationKind::StorageFailed, "test"));
    assert_eq!(sender_checks(&refused), 1);
}
