//! Delivery addresses: reading a request to send an order elsewhere and the new address,
//! the policy at its boundaries, and the order route that proposes the change as a diff
//! for a person to approve.

use crate::graph::{classified, engine};
use crate::knowledge::run_in;
use crate::order::{assert_a_stranger_is_left_to_a_lead, order, shop_with};
use deskhand_core::address::{asks_address_change, new_address, ShippingAddress};
use deskhand_core::delivery::DeliveryStatus;
use deskhand_core::order::OrderRefusal;
use deskhand_core::review::ReviewPolicy;
use deskhand_core::*;

fn lines(address: &ShippingAddress) -> Vec<&str> {
    address.lines().collect()
}

#[test]
fn the_new_address_is_read_from_the_block_under_its_cue_or_from_the_cues_own_line() {
    let block = "Hi, I've just moved, could you send order 4471 to my new address instead:\n\nFlat 3, 27 Harbour Road\nLeith, Edinburgh EH6 6LU\nUnited Kingdom\n\nThanks so much,\nTomás";
    assert_eq!(
        new_address(block).as_ref().map(lines),
        Some(vec![
            "Flat 3, 27 Harbour Road",
            "Leith, Edinburgh EH6 6LU",
            "United Kingdom"
        ]),
        "the block stops at the blank line, before the sign-off"
    );
    let signed_off_at_once =
        "The correct address is:\n14 Elm Street\nLeeds LS1 4AB\nThank you\nAna";
    assert_eq!(
        new_address(signed_off_at_once).as_ref().map(lines),
        Some(vec!["14 Elm Street", "Leeds LS1 4AB"])
    );
    let colon = "Order 4471 - new address: 14 Elm Street, Leeds LS1 4AB, UK\nCheers";
    assert_eq!(
        new_address(colon).as_ref().map(lines),
        Some(vec!["14 Elm Street", "Leeds LS1 4AB", "UK"])
    );
    let inline =
        "Could you ship it to 22 St. Mary's Road, Bath BA1 2AB instead? My old flat is empty.";
    assert_eq!(
        new_address(inline).as_ref().map(lines),
        Some(vec!["22 St. Mary's Road", "Bath BA1 2AB"]),
        "an abbreviation's full stop does not end the address"
    );
    let german = "Bitte an folgende Adresse liefern:\nHauptstraße 5\n10115 Berlin\nViele Grüße";
    assert_eq!(
        new_address(german).as_ref().map(lines),
        Some(vec!["Hauptstraße 5", "10115 Berlin"])
    );
    let french = "Voici ma nouvelle adresse : 8 rue des Lilas, 69003 Lyon";
    assert_eq!(
        new_address(french).as_ref().map(lines),
        Some(vec!["8 rue des Lilas", "69003 Lyon"])
    );
    for no_address in [
        "Please send it to my office instead.",
        "My new address is in my account, the flat by the river.",
        "Please change the delivery address of order 4471.\nThanks",
        "Can you ship it to me faster?",
    ] {
        assert_eq!(new_address(no_address), None, "{no_address:?} gives none");
    }
}

#[test]
fn a_request_to_send_an_order_elsewhere_is_told_apart_from_a_parcel_that_went_astray() {
    for asks in [
        "Can you change the delivery address on order 4471?",
        "I put the wrong address on my order, the correct address is below.",
        "Please ship it to my work address instead: 4 Quay St, Cork",
        "Bitte die Lieferadresse ändern.",
        "Je voudrais changer l'adresse de livraison.",
        "¿Puedo cambiar la dirección de envío?",
    ] {
        assert!(asks_address_change(asks), "{asks:?} asks");
    }
    for does_not in [
        "My parcel was delivered to the wrong address!",
        "Where is order 4471?",
        "Please don't change the address, it is right.",
        "I placed two orders by mistake. Can you ship them together?",
        "The refund bounced. Could you send it to my new card instead?",
        "Please issue a VAT invoice and send it to: Unit 4, Riverside Park, Reading RG1 8QT",
        "Is the Pegasus 41 available in a 10?",
    ] {
        assert!(!asks_address_change(does_not), "{does_not:?} does not ask");
    }
}

#[test]
fn an_address_is_a_few_lines_with_a_number_and_compares_by_its_words() {
    assert!(ShippingAddress::parse("Flat by the river, Leeds").is_err());
    assert!(ShippingAddress::parse("").is_err());
    assert!(ShippingAddress::parse("1\n2\n3\n4\n5\n6\n7").is_err());
    assert!(ShippingAddress::parse(&format!("1 {}", "x".repeat(400))).is_err());
    assert!(ShippingAddress::parse("14 Elm St\u{7}\nLeeds").is_err());
    let written = ShippingAddress::parse("14 Elm Street,  Leeds LS1 4AB").unwrap();
    let on_file = ShippingAddress::on_file("14 elm street\nLEEDS LS1 4AB\n");
    assert!(written.same_place(&on_file));
    assert!(!written.same_place(&ShippingAddress::on_file("15 Elm Street\nLeeds LS1 4AB")));
    assert_eq!(written.one_line(), "14 Elm Street, Leeds LS1 4AB");
}

#[test]
fn an_address_may_change_until_a_delivery_leaves_and_only_from_the_address_shown() {
    use DeliveryStatus::*;
    let home = ShippingAddress::on_file("14 Elm Street\nLeeds LS1 4AB");
    let mut unshipped = order("4471", &[Processing, Cancelled]);
    unshipped.ship_to = Some(home.clone());
    assert_eq!(unshipped.may_change_address(), Ok(()));
    assert_eq!(unshipped.recheck_address_change(Some(&home)), Ok(()));
    assert_eq!(
        unshipped.recheck_address_change(Some(&ShippingAddress::on_file("9 Other Rd, York"))),
        Err(OrderRefusal::Changed(41)),
        "a diff from an address the order no longer ships to is stale"
    );
    assert_eq!(
        unshipped.recheck_address_change(None),
        Err(OrderRefusal::Changed(41))
    );
    for shipped in [InTransit, OutForDelivery, Delivered, Exception] {
        let mut order = order("4471", &[Processing, shipped]);
        order.ship_to = Some(home.clone());
        assert!(
            matches!(
                order.recheck_address_change(Some(&home)),
                Err(OrderRefusal::Shipped { .. })
            ),
            "{shipped:?}"
        );
    }
    let mut cancelled = order("4471", &[]);
    cancelled.status = order::OrderStatus::Cancelled;
    assert!(cancelled.may_change_address().is_err());
}

fn change_request(order: order::OrderFacts, body: &str) -> Triage {
    run_in(
        engine(classified(Topic::TransactionInquiry, Urgency::Medium)),
        shop_with(order),
        body,
    )
}

const MOVED: &str = "Hi, could you please send order 4471 to my new address:\n\n27 Harbour Road\nLeith EH6 6LU\n\nThanks, Tomás";

#[test]
fn a_request_to_send_an_unshipped_order_elsewhere_proposes_the_change_as_a_diff() {
    let mut unshipped = order("4471", &[DeliveryStatus::Processing]);
    unshipped.ship_to = Some(ShippingAddress::on_file("14 Elm Street\nLeeds LS1 4AB"));
    let draft = change_request(unshipped, MOVED).draft;
    assert_eq!(draft.route, Route::Order);
    assert!(draft.escalation.is_none(), "{:?}", draft.escalation);
    assert_eq!(draft.proposed_actions.len(), 1);
    let Action::UpdateShippingAddress(change) = &draft.proposed_actions[0].action else {
        panic!("an address change: {:?}", draft.proposed_actions);
    };
    assert_eq!(
        (change.order_id, change.order_number.as_str()),
        (41, "4471")
    );
    assert_eq!(
        change
            .from
            .as_ref()
            .map(ShippingAddress::one_line)
            .as_deref(),
        Some("14 Elm Street, Leeds LS1 4AB")
    );
    assert_eq!(change.to.one_line(), "27 Harbour Road, Leith EH6 6LU");
    assert_eq!(change.order_total_cents, 12_950);
    assert_eq!(
        draft.proposed_actions[0].credits_cents(),
        0,
        "no money moves"
    );
    let diff = draft
        .observations
        .iter()
        .find(|o| o.source == "policy")
        .expect("the change is evidence");
    assert!(
        diff.text
            .contains("from 14 Elm Street, Leeds LS1 4AB to 27 Harbour Road, Leith EH6 6LU"),
        "{}",
        diff.text
    );
    let reply = &draft.reply.as_ref().expect("a reply is drafted").body;
    assert!(
        reply.contains("delivery address of your order 4471 to 27 Harbour Road, Leith EH6 6LU"),
        "{reply}"
    );
}

#[test]
fn a_shipped_order_keeps_its_address_and_the_reply_says_so() {
    let draft = change_request(order("4471", &[DeliveryStatus::InTransit]), MOVED).draft;
    assert_eq!(draft.route, Route::Order);
    assert!(
        draft.proposed_actions.is_empty(),
        "{:?}",
        draft.proposed_actions
    );
    let reply = &draft.reply.as_ref().expect("a reply is drafted").body;
    assert!(
        reply.contains("already shipped") && reply.contains("can no longer be changed"),
        "{reply}"
    );
}

#[test]
fn a_request_without_a_readable_address_asks_for_it_and_one_without_a_number_asks_for_that() {
    let draft = change_request(
        order("4471", &[]),
        "Please change the delivery address of order 4471, I am moving next week.",
    )
    .draft;
    assert_eq!(draft.route, Route::Order);
    assert!(draft.proposed_actions.is_empty(), "no address, no change");
    let reply = &draft.reply.as_ref().expect("a reply is drafted").body;
    assert!(reply.contains("order 4471 has not shipped yet"), "{reply}");
    assert!(
        draft
            .observations
            .iter()
            .any(|o| o.text.contains("can still go to another address")),
        "the reviewer sees the order may still change: {:?}",
        draft.observations
    );

    let draft = change_request(order("4471", &[]), "Can I change my delivery address?").draft;
    assert_eq!(draft.route, Route::Order);
    assert!(draft.proposed_actions.is_empty());
    assert!(
        draft.observations.iter().any(|o| o
            .text
            .contains("delivery address but gives no order number")),
        "{:?}",
        draft.observations
    );
}

#[test]
fn cancelling_and_redirecting_in_one_email_stays_with_a_person() {
    let draft = change_request(
        order("4471", &[]),
        "Please cancel order 4471, or if you can't, ship it to 4 Quay St, Cork T12 AB34 instead.",
    )
    .draft;
    assert_eq!(draft.route, Route::Escalate);
    assert!(draft.proposed_actions.is_empty());
}

#[test]
fn an_address_change_counts_the_orders_value_against_a_reviewers_limit() {
    let mut unshipped = order("4471", &[]);
    unshipped.ship_to = Some(ShippingAddress::on_file("14 Elm Street\nLeeds LS1 4AB"));
    let actions = change_request(unshipped, MOVED).draft.proposed_actions;
    assert_eq!(actions.len(), 1);
    let policy = ReviewPolicy {
        reviewer_max_action_cents: 10_000,
        coupon_value_cents: 300,
    };
    assert_eq!(policy.value_of(&actions), Some(12_950));
    assert!(policy
        .may_approve(review::Role::Reviewer, &actions)
        .is_err());
    assert!(policy.may_approve(review::Role::Lead, &actions).is_ok());
}

#[test]
fn a_sender_who_is_not_the_customer_gets_no_address_change_whatever_the_setting() {
    let mut unshipped = order("4471", &[DeliveryStatus::Processing]);
    unshipped.ship_to = Some(ShippingAddress::on_file("14 Elm Street\nLeeds LS1 4AB"));
    assert_a_stranger_is_left_to_a_lead(unshipped, MOVED);
}

#[test]
fn what_is_not_a_delivery_address_is_not_taken_for_one() {
    // A name over a telephone number is a signature.
    assert_eq!(
        new_address("Please send order 4471 to my office instead.\n\nAna Lopez\n+34 600 123 456"),
        None
    );
    assert!(!asks_address_change(
        "Where is order 4471? I look forward to hearing from you.\n\nKind regards\nAna Lopez\n+34 600 123 456"
    ));
    for not_delivery in [
        "Order 4471: the billing address should be: ACME GmbH, Hauptstr. 5, 10115 Berlin",
        "I changed my email address to ana@example.com, order 4471.",
        "Please send the invoice for order 4471 to my new address: 5 Quay St, Cork",
    ] {
        assert!(!asks_address_change(not_delivery), "{not_delivery:?}");
    }
    // A street that begins like a sign-off is still a street.
    assert_eq!(
        new_address("My new address is:\nBestwood Road 4\nNottingham NG6 8TA")
            .map(|a| a.one_line()),
        Some("Bestwood Road 4, Nottingham NG6 8TA".to_owned())
    );
    // A signature's contact lines are no address; a street named like one still is.
    assert_eq!(
        new_address("Please send order 4471 to my office instead:\n\nAna Lopez\nTel 07700 900123\nana99@example.com"),
        None
    );
    assert_eq!(
        new_address("My new address is:\nTelford Road 5\nLeeds LS2 9JT").map(|a| a.one_line()),
        Some("Telford Road 5, Leeds LS2 9JT".to_owned())
    );
    // A billing address given first is not the new delivery address.
    assert_eq!(
        new_address("My billing address is 3 Orchard Close, Bristol BS41 9AA.\nPlease deliver order 4471 to: 8 Kiln Lane, Leeds LS1 2AB").map(|a| a.one_line()),
        Some("8 Kiln Lane, Leeds LS1 2AB".to_owned())
    );
    assert!(!asks_address_change(
        "Je voudrais changer mon adresse email pour la commande 4471."
    ));
}

#[test]
fn text_whose_lower_case_changes_length_is_read_without_panicking() {
    // "İ" lowercases to two characters, "ẞ" to a shorter one: offsets must still hold.
    let text = "İ need it shipped to\u{a0}HAUPTSTRAẞE 5, 10115 BERLIN İİ? 🎉";
    let _ = asks_address_change(text);
    let found = new_address(text).map(|a| a.one_line());
    assert_eq!(found.as_deref(), Some("HAUPTSTRAẞE 5, 10115 BERLIN İİ"));
    assert_eq!(
        new_address("New address: Atatürk Cd. 12, İstanbul 34000").map(|a| a.one_line()),
        Some("Atatürk Cd. 12, İstanbul 34000".to_owned()),
        "the address keeps the customer's letters"
    );
}

#[test]
fn an_address_on_file_reads_back_as_written_and_compares_word_by_word() {
    // Seven parts on one line and no digit at all: the shop's data, not judged.
    let stored =
        "\"Tomás Silva, Flat 3, 27 Harbour Rd, Leith, Edinburgh, EH6 6LU, United Kingdom\"";
    let address: ShippingAddress = serde_json::from_str(stored).expect("reads back");
    assert_eq!(address.lines().count(), 7);
    let rural: ShippingAddress =
        serde_json::from_str("\"Ballyvourney, Co. Cork, Ireland\"").expect("reads back");
    assert_eq!(rural.lines().count(), 3);
    let one = ShippingAddress::on_file("Flat 1, 23 Harbour Rd");
    let other = ShippingAddress::on_file("Flat 12, 3 Harbour Rd");
    assert!(!one.same_place(&other), "a house-number fix is a change");
    assert!(ShippingAddress::parse("27 Harbour Road\u{202E}\nLeith EH6 6LU").is_err());
}
