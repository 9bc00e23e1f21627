//! The reply guard catches numbers the evidence does not support.

use deskhand_core::grounding::check_reply;
use deskhand_core::Observation;
use serde_json::json;

fn evidence() -> Vec<Observation> {
    vec![Observation {
        source: "deliveries".into(),
        text: "Tracking 1Z999AA10123456784, expected 2026-03-01 to 2026-03-04; refund $9.60."
            .into(),
        data: json!({}),
    }]
}

#[test]
fn a_reply_that_repeats_the_evidence_passes() {
    let reply = "Your parcel 1Z 999 AA1 0123 4567 84 was due 2026-03-04; we refund $9.60.";
    assert!(check_reply(reply, &evidence()).is_empty());
}

#[test]
fn invented_numbers_amounts_and_dates_are_each_reported() {
    let reply = "Parcel 1Z999AA10123456785 arrives 2026-03-12; refund $50.00.";
    let kinds: Vec<&str> = check_reply(reply, &evidence())
        .iter()
        .map(|u| u.kind)
        .collect();
    assert_eq!(kinds, ["tracking number", "amount", "date"]);
}

#[test]
fn amounts_are_matched_whole_whatever_their_currency_form() {
    let evidence = evidence();
    let grounded = |reply: &str| check_reply(reply, &evidence).is_empty();
    assert!(
        !grounded("We refund $9 today."),
        "$9 is not the $9.60 of the evidence"
    );
    assert!(!grounded("We refund $0.60."), "nor is a part of it");
    for form in ["$9.60", "9.60 USD", "USD 9.60", "€9,60", "9,60 €"] {
        assert!(grounded(&format!("We refund {form}.")), "{form}");
    }
    // Cents the evidence carries as data count too.
    let data = vec![Observation {
        source: "policy".into(),
        text: "Refund of the delivery fee.".into(),
        data: json!({"amount_cents": 800}),
    }];
    assert!(check_reply("We refund $8.", &data).is_empty());
    assert!(!check_reply("We refund $80.", &data).is_empty());
}

#[test]
fn dates_in_words_are_the_evidences_dates_or_are_reported() {
    let evidence = evidence();
    let grounded = |reply: &str| check_reply(reply, &evidence).is_empty();
    for form in ["March 4", "4 March 2026", "Mar 4th", "2026-03-04"] {
        assert!(grounded(&format!("It was due on {form}.")), "{form}");
    }
    assert!(!grounded("It arrives on March 12."));
    assert!(
        grounded("We may refund the fee."),
        "'may' the verb is no date"
    );
}

#[test]
fn a_subject_is_checked_like_the_body() {
    let reply = "Re: your refund of $25.00\nHi, we refund $9.60.";
    let problems = check_reply(reply, &evidence());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].value, "$25.00");
}
