//! Returns: the return window at its edges, reading a request to send an order back, and
//! the order route that opens a return, with the code the reply gives, for approval.

use crate::graph::{classified, engine};
use crate::knowledge::run_in;
use crate::order::{assert_a_stranger_is_left_to_a_lead, order, shop_with};
use deskhand_core::delivery::DeliveryStatus;
use deskhand_core::order::{asks_to_cancel, asks_to_return, OrderFacts, OrderRefusal, OrderStatus};
use deskhand_core::*;
use time::macros::date;
use time::Date;

/// Order 4471 with one delivery per status, delivered (when it was) on 2026-02-20.
fn delivered(statuses: &[DeliveryStatus]) -> OrderFacts {
    let mut order = order("4471", statuses);
    for delivery in &mut order.deliveries {
        if delivery.status == DeliveryStatus::Delivered {
            delivery.delivered_on = Some(date!(2026 - 02 - 20));
        }
    }
    order
}

const DAY_30: Date = date!(2026 - 03 - 22);

#[test]
fn a_return_may_start_until_the_last_day_of_the_window_after_the_last_delivery() {
    use DeliveryStatus::*;
    let order = delivered(&[Delivered, Cancelled]);
    assert_eq!(order.may_return(date!(2026 - 02 - 20), 30), Ok(DAY_30));
    assert_eq!(
        order.may_return(DAY_30, 30),
        Ok(DAY_30),
        "the last day counts"
    );
    assert_eq!(
        order.may_return(date!(2026 - 03 - 23), 30),
        Err(OrderRefusal::ReturnWindowClosed {
            order_number: "4471".into(),
            delivered_on: date!(2026 - 02 - 20),
            last_day: DAY_30,
        })
    );
    for not_yet in [Processing, InTransit, OutForDelivery, Exception] {
        assert_eq!(
            delivered(&[Delivered, not_yet]).may_return(date!(2026 - 03 - 01), 30),
            Err(OrderRefusal::NotDelivered("4471".into())),
            "{not_yet:?}: a return starts once everything has arrived"
        );
    }
    let mut returned = delivered(&[Delivered]);
    returned.return_code = Some("RET-ABCD2345".into());
    assert!(matches!(
        returned.may_return(date!(2026 - 03 - 01), 30),
        Err(OrderRefusal::AlreadyReturned { .. })
    ));
    let mut cancelled = delivered(&[Delivered]);
    cancelled.status = OrderStatus::Cancelled;
    assert!(cancelled.may_return(date!(2026 - 03 - 01), 30).is_err());
    assert_eq!(
        order.recheck_return(date!(2026 - 03 - 01), 30, DAY_30),
        Ok(())
    );
    assert_eq!(
        order.recheck_return(date!(2026 - 03 - 01), 30, date!(2026 - 03 - 25)),
        Err(OrderRefusal::Changed(41)),
        "a draft that told the customer another last day is stale"
    );
}

#[test]
fn a_request_to_send_an_order_back_is_told_apart_from_a_return_already_sent() {
    for asks in [
        "The shoes from order 4471 are too small, I'd like to return them.",
        "Can I have a return label for order 4471?",
        "How do I return order 4471?",
        "Can I still return order 4471? They are half a size too big.",
        "How do I send these back to you?",
        "Ich möchte die Schuhe zurückschicken.",
        "Je voudrais retourner ma commande.",
        "Quiero devolver el pedido 4471.",
    ] {
        assert!(asks_to_return(asks), "{asks:?} asks");
    }
    for does_not in [
        "I returned them last week, where is my refund?",
        "I sent them back on Monday, has it arrived?",
        "What is your returns policy?",
        "Could you call off that return? I'm keeping them after all.",
        "I don't want to return them, please send a replacement pair.",
        "I want it cancelled before it ships, not to have to send it back.",
        "Please return my call about order 4471.",
        "I need to return to London on Saturday, can 4471 arrive before?",
        "¿Me pueden devolver el dinero del pedido 4471?",
        "Can you tell me what the return window is?",
        "I requested a return label last week, but please cancel the return: I'm keeping them.",
        "Where is order 4471?",
    ] {
        assert!(!asks_to_return(does_not), "{does_not:?} does not ask");
    }
    assert!(
        !asks_to_cancel("Could you call off that return? I'm keeping them after all."),
        "calling off a return does not cancel the order"
    );
    for cancels in [
        "Please cancel it and refund me.",
        "Cancel my order, refund please.",
        "Please call off order 4471, I changed my mind.",
    ] {
        assert!(asks_to_cancel(cancels), "{cancels:?} still cancels");
    }
}

fn return_request(order: OrderFacts, body: &str) -> Triage {
    run_in(
        engine(classified(Topic::TransactionInquiry, Urgency::Medium)),
        shop_with(order),
        body,
    )
}

const TOO_SMALL: &str =
    "The Ghost 16 from order 4471 are too small, I'd like to return them please.";

#[test]
fn a_return_within_the_window_is_opened_for_approval_with_the_code_the_reply_gives() {
    let draft = return_request(delivered(&[DeliveryStatus::Delivered]), TOO_SMALL).draft;
    assert_eq!(draft.route, Route::Order);
    assert!(draft.escalation.is_none(), "{:?}", draft.escalation);
    assert_eq!(draft.proposed_actions.len(), 1);
    let Action::StartReturn(start) = &draft.proposed_actions[0].action else {
        panic!("a return: {:?}", draft.proposed_actions);
    };
    assert_eq!((start.order_id, start.order_number.as_str()), (41, "4471"));
    // The test run's today is 2026-03-10: delivered 2026-02-20, 30 days.
    assert_eq!(start.last_day, DAY_30);
    assert!(
        start.code.starts_with("RET-") && start.code.len() == 12,
        "{}",
        start.code
    );
    assert_eq!(start.order_total_cents, 12_950);
    assert_eq!(
        draft.proposed_actions[0].credits_cents(),
        0,
        "nothing is paid yet"
    );
    let reply = &draft.reply.as_ref().expect("a reply is drafted").body;
    assert!(
        reply.contains(&start.code) && reply.contains("2026-03-22") && reply.contains("4471"),
        "{reply}"
    );
    assert!(
        draft.observations.iter().any(|o| o.source == "knowledge"),
        "the returns page is cited: {:?}",
        draft.observations
    );
    let again = return_request(delivered(&[DeliveryStatus::Delivered]), TOO_SMALL).draft;
    let Action::StartReturn(same) = &again.proposed_actions[0].action else {
        panic!("a return");
    };
    assert_eq!(same.code, start.code, "the same email gets the same code");
}

#[test]
fn a_return_outside_the_window_or_before_delivery_is_not_opened_and_the_reply_says_why() {
    let mut late = delivered(&[DeliveryStatus::Delivered]);
    late.deliveries[0].delivered_on = Some(date!(2026 - 01 - 20));
    let draft = return_request(late, TOO_SMALL).draft;
    assert_eq!(draft.route, Route::Order);
    assert!(draft.proposed_actions.is_empty());
    let reply = &draft.reply.as_ref().expect("a reply is drafted").body;
    assert!(
        reply.contains("return window closed on 2026-02-19"),
        "{reply}"
    );

    let draft = return_request(delivered(&[DeliveryStatus::InTransit]), TOO_SMALL).draft;
    assert!(draft.proposed_actions.is_empty());
    let reply = &draft.reply.as_ref().expect("a reply is drafted").body;
    assert!(reply.contains("not been delivered in full yet"), "{reply}");
}

#[test]
fn a_return_question_without_an_order_number_is_answered_from_the_returns_page() {
    let draft = return_request(
        delivered(&[DeliveryStatus::Delivered]),
        "How do I return shoes that don't fit?",
    )
    .draft;
    assert_ne!(draft.route, Route::Order, "no order to open a return on");
    assert!(draft.proposed_actions.is_empty());
}

#[test]
fn a_sender_who_is_not_the_customer_gets_no_return_opened_on_their_order() {
    assert_a_stranger_is_left_to_a_lead(delivered(&[DeliveryStatus::Delivered]), TOO_SMALL);
}
