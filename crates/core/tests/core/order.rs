//! Orders: the cancellation policy at its boundaries, reading a request to cancel, and
//! the order route that proposes a cancellation for approval.

use crate::fixtures::delivery;
use crate::graph::{classified, engine, Shop};
use crate::knowledge::run_in;
use deskhand_core::delivery::DeliveryStatus;
use deskhand_core::order::{asks_to_cancel, OrderFacts, OrderRefusal, OrderStatus};
use deskhand_core::*;
use time::macros::date;

pub(crate) const CUSTOMER: i64 = 7;

pub(crate) fn order(number: &str, statuses: &[DeliveryStatus]) -> OrderFacts {
    OrderFacts {
        order_id: 41,
        order_number: number.into(),
        placed_on: date!(2026 - 03 - 08),
        total_cents: 12_950,
        status: OrderStatus::Placed,
        ship_to: None,
        return_code: None,
        deliveries: statuses
            .iter()
            .enumerate()
            .map(|(i, status)| {
                let mut d = delivery(
                    i as i64 + 1,
                    &format!("1Z999AA1012345678{i}"),
                    date!(2026 - 03 - 14),
                    None,
                    599,
                );
                d.order_number = number.into();
                d.status = *status;
                d
            })
            .collect(),
    }
}

#[test]
fn an_order_can_be_cancelled_until_one_of_its_deliveries_leaves_the_shop() {
    use DeliveryStatus::*;
    assert_eq!(
        order("4471", &[]).may_cancel(),
        Ok(()),
        "nothing shipped yet"
    );
    assert_eq!(
        order("4471", &[Processing]).may_cancel(),
        Ok(()),
        "being prepared"
    );
    assert_eq!(
        order("4471", &[Cancelled, Processing]).may_cancel(),
        Ok(()),
        "a cancelled delivery never left"
    );
    for shipped in [InTransit, OutForDelivery, Delivered, Exception] {
        assert_eq!(
            order("4471", &[Processing, shipped]).may_cancel(),
            Err(OrderRefusal::Shipped {
                order_number: "4471".into(),
                tracking_number: "1Z999AA10123456781".into(),
            }),
            "one delivery {shipped:?} is enough to refuse"
        );
    }
    let mut cancelled = order("4471", &[]);
    cancelled.status = OrderStatus::Cancelled;
    assert_eq!(
        cancelled.may_cancel(),
        Err(OrderRefusal::AlreadyCancelled("4471".into()))
    );
}

#[test]
fn an_approved_cancellation_refunds_exactly_the_order_total() {
    let open = order("4471", &[]);
    assert_eq!(open.recheck_cancellation(12_950), Ok(()));
    // A delivery fee already refunded on one of its parcels is part of that total.
    let mut refunded = order("4471", &[DeliveryStatus::Processing]);
    refunded.deliveries[0].refunded_cents = 240;
    assert_eq!(refunded.refundable_cents(), 12_710);
    assert_eq!(refunded.recheck_cancellation(12_710), Ok(()));
    assert!(refunded.recheck_cancellation(12_950).is_err());
    for wrong in [12_951, 12_949, 0] {
        assert!(
            matches!(
                open.recheck_cancellation(wrong),
                Err(OrderRefusal::RefundNotTotal { total: 12_950, .. })
            ),
            "{wrong} cents is not what was paid"
        );
    }
}

#[test]
fn a_request_to_cancel_is_told_apart_from_a_report_or_a_refusal_to_cancel() {
    for asks in [
        "Please cancel order 4471, I ordered the wrong size",
        "I want to cancel my order",
        "Can I still cancel? Order #4471",
        "cancellation request for order 4471",
        "Bitte stornieren Sie meine Bestellung 4471",
        "Pouvez-vous annuler ma commande 4471 ?",
        "Quiero cancelar el pedido 4471",
        "call off the order please",
        "I need order #4471 cancelled today, before it leaves",
        "I'd like it cancelled please, order 4471",
    ] {
        assert!(asks_to_cancel(asks), "{asks:?} asks to cancel");
    }
    for does_not in [
        "Why was my order cancelled?",
        "My order 4471 was canceled without notice",
        "Meine Bestellung wurde storniert",
        "Please do not cancel my order, I still want it",
        "I don't want to cancel, just change the size",
        "Where is my order 4471?",
        "Why did you cancel my order 4471?",
        "Please cancel my return for order 4471, I'll keep them",
        "Can you cancel the socks from order 4471?",
        "From order 4471 could you cancel just the socks and keep the shoes?",
        "I want to know why order 4471 was cancelled",
    ] {
        assert!(
            !asks_to_cancel(does_not),
            "{does_not:?} does not ask to cancel"
        );
    }
}

pub(crate) fn shop_with(order: OrderFacts) -> Shop {
    let mut shop = Shop::default();
    shop.orders.push((CUSTOMER, order));
    shop
}

/// `body` about `order`, from an address that is not the customer's on file: the draft
/// must leave everything to a lead (no reply, no action, escalated as a sender mismatch).
pub(crate) fn assert_a_stranger_is_left_to_a_lead(order: OrderFacts, body: &str) {
    let mut shop = shop_with(order);
    // The email comes from dana@example.com; the customer on file is someone else.
    shop.address_on_file = Some("owner@example.com".into());
    let draft = run_in(
        engine(classified(Topic::TransactionInquiry, Urgency::Medium)),
        shop,
        body,
    )
    .draft;
    assert_eq!(draft.route, Route::Escalate);
    assert!(draft.proposed_actions.is_empty() && draft.reply.is_none());
    assert_eq!(
        draft.escalation.map(|e| e.kind),
        Some(EscalationKind::SenderMismatch)
    );
}

fn cancel_request(shop: Shop, body: &str) -> Triage {
    run_in(
        engine(classified(Topic::TransactionInquiry, Urgency::Medium)),
        shop,
        body,
    )
}

#[test]
fn a_request_to_cancel_an_unshipped_order_proposes_the_cancellation_for_approval() {
    let triage = cancel_request(
        shop_with(order("4471", &[DeliveryStatus::Processing])),
        "Please cancel order 4471, I ordered the wrong size.",
    );
    let draft = &triage.draft;
    assert_eq!(draft.route, Route::Order);
    assert!(draft.escalation.is_none(), "{:?}", draft.escalation);
    assert_eq!(draft.proposed_actions.len(), 1);
    let Action::CancelOrder(cancel) = &draft.proposed_actions[0].action else {
        panic!("a cancellation: {:?}", draft.proposed_actions);
    };
    assert_eq!(
        (
            cancel.order_id,
            cancel.order_number.as_str(),
            cancel.amount_cents
        ),
        (41, "4471", 12_950)
    );
    let reply = &draft.reply.as_ref().expect("a reply is drafted").body;
    assert!(
        reply.contains("cancelled your order 4471") && reply.contains("$129.50"),
        "{reply}"
    );
}

#[test]
fn a_shipped_order_is_not_cancelled_and_the_reply_gives_the_return_path() {
    let triage = cancel_request(
        shop_with(order("4471", &[DeliveryStatus::InTransit])),
        "Please cancel order 4471, I ordered the wrong size.",
    );
    let draft = &triage.draft;
    assert_eq!(draft.route, Route::Order);
    assert!(
        draft.proposed_actions.is_empty(),
        "{:?}",
        draft.proposed_actions
    );
    let reply = &draft.reply.as_ref().expect("a reply is drafted").body;
    assert!(reply.contains("already shipped"), "{reply}");
    let cited: Vec<&Observation> = draft
        .observations
        .iter()
        .filter(|o| o.source == "knowledge")
        .collect();
    assert_eq!(cited.len(), 1, "{:?}", draft.observations);
    assert_eq!(cited[0].data["file"], "returns.md");
    assert!(
        reply.contains("30 days"),
        "the returns passage is quoted: {reply}"
    );
}

#[test]
fn another_customers_order_number_is_not_found_and_nothing_is_proposed() {
    let mut shop = Shop::default();
    shop.orders.push((CUSTOMER + 1, order("4471", &[])));
    let triage = cancel_request(shop, "Please cancel order 4471.");
    let draft = &triage.draft;
    assert!(draft.proposed_actions.is_empty());
    let reply = &draft.reply.as_ref().expect("a reply is drafted").body;
    assert!(reply.contains("could not find order 4471"), "{reply}");
    assert!(!reply.contains("$129.50"), "{reply}");
}

#[test]
fn a_request_to_cancel_without_an_order_number_asks_for_it() {
    let triage = cancel_request(shop_with(order("4471", &[])), "Please cancel my order.");
    let draft = &triage.draft;
    assert_eq!(draft.route, Route::Order);
    assert!(draft.proposed_actions.is_empty());
    assert!(
        draft
            .observations
            .iter()
            .any(|o| o.text.contains("gives no order number")),
        "{:?}",
        draft.observations
    );
}

#[test]
fn an_urgent_or_several_request_cancellation_stays_with_a_person() {
    let mut urgent = classified(Topic::TransactionInquiry, Urgency::Urgent);
    urgent.urgent_reason = Some("legal threat".into());
    let triage = run_in(
        engine(urgent),
        shop_with(order("4471", &[])),
        "Cancel order 4471 now or my lawyer will.",
    );
    assert_eq!(triage.draft.route, Route::Escalate);
    assert!(triage.draft.proposed_actions.is_empty());

    let triage = run_in(
        engine(classified(Topic::TransactionInquiry, Urgency::Medium)),
        shop_with(order("4471", &[])),
        "Please cancel order 4471 but keep order 4472.",
    );
    assert_eq!(
        triage.draft.route,
        Route::Escalate,
        "which of two orders to cancel is a person's to read"
    );

    let mut several = classified(Topic::TransactionInquiry, Urgency::Medium);
    several.multiple_requests = true;
    let triage = run_in(
        engine(several),
        shop_with(order("4471", &[])),
        "Cancel order 4471, and why was I charged twice?",
    );
    assert_eq!(triage.draft.route, Route::Escalate);
    assert!(triage.draft.proposed_actions.is_empty());
}

#[test]
fn a_late_delivery_question_about_an_order_that_has_not_shipped_says_so() {
    let triage = run_in(
        engine(classified(Topic::DeliveryDelay, Urgency::Medium)),
        shop_with(order("4471", &[])),
        "Where is my order 4471? It has been days.",
    );
    let draft = &triage.draft;
    assert_eq!(draft.route, Route::Delivery);
    let reply = &draft.reply.as_ref().expect("a reply is drafted").body;
    assert!(
        reply.contains("order 4471 placed on 2026-03-08 has not shipped yet"),
        "{reply}"
    );
    assert!(!reply.contains("could not find"), "{reply}");
}

#[test]
fn a_question_where_an_order_stands_is_told_apart_from_one_about_its_money() {
    use deskhand_core::order::asks_order_status;
    for asks in [
        "Has order 4471 shipped yet?",
        "What's the status of my order 4471?",
        "When will order 4471 arrive?",
        "Wurde meine Bestellung 4471 schon versandt?",
    ] {
        assert!(
            asks_order_status(asks),
            "{asks:?} asks where the order stands"
        );
    }
    for does_not in [
        "What's the status of my refund for order 4471?",
        "Can I get an invoice for order 4471?",
        "I want to exchange order 4471 for a bigger size",
    ] {
        assert!(
            !asks_order_status(does_not),
            "{does_not:?} is about money or a return"
        );
    }
}

#[test]
fn a_transaction_inquiry_asking_where_an_order_stands_is_answered_from_the_order() {
    let triage = cancel_request(
        shop_with(order("4471", &[])),
        "Hi, what's the status of order 4471? Has it shipped?",
    );
    let draft = &triage.draft;
    assert_eq!(draft.route, Route::Delivery, "{:?}", draft.escalation);
    let reply = &draft.reply.as_ref().expect("a reply is drafted").body;
    assert!(reply.contains("has not shipped yet"), "{reply}");

    let triage = cancel_request(
        shop_with(order("4471", &[])),
        "What's the status of my refund for order 4471?",
    );
    assert_eq!(
        triage.draft.route,
        Route::Escalate,
        "a refund status goes to a person"
    );
}

#[test]
fn a_request_to_cancel_one_numbered_order_is_a_transaction_inquiry_when_the_model_is_unsure() {
    for (topic, confidence) in [
        (Topic::Other, 0.4),
        (Topic::BillingDispute, 0.5),
        (Topic::TransactionInquiry, 0.4),
    ] {
        let mut read = classified(topic, Urgency::Medium);
        read.confidence = confidence;
        let triage = run_in(
            engine(read),
            shop_with(order("4471", &[])),
            "Hi, I ordered the wrong size. Please cancel order 4471. Thanks",
        );
        let draft = &triage.draft;
        assert_eq!(draft.route, Route::Order, "{topic:?} at {confidence}");
        assert_eq!(draft.classification.topic, Topic::TransactionInquiry);
        assert_eq!(draft.proposed_actions.len(), 1);
    }
    // A model sure it is about a charge is not overruled.
    let triage = run_in(
        engine(classified(Topic::BillingDispute, Urgency::Medium)),
        shop_with(order("4471", &[])),
        "Hi, I ordered the wrong size. Please cancel order 4471. Thanks",
    );
    assert_eq!(triage.draft.route, Route::Escalate);
    // Unsure, and no number to make it exact: a person reads it.
    let mut unsure = classified(Topic::TransactionInquiry, Urgency::Medium);
    unsure.confidence = 0.4;
    let triage = run_in(
        engine(unsure),
        shop_with(order("4471", &[])),
        "can you cancel it please",
    );
    assert_eq!(triage.draft.route, Route::Escalate);
}
