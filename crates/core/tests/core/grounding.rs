//! The reply guard catches numbers the evidence does not support.

use deskhand_core::grounding::{check_reply, check_subject};
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
fn a_subject_is_checked_like_the_body_and_may_repeat_only_the_customers_own() {
    let evidence = evidence();
    let theirs = Some("Charged $49.99 twice on 2026-02-27");
    assert!(check_subject("Re: Charged $49.99 twice on 2026-02-27", theirs, &evidence).is_empty());
    assert!(check_subject("Your refund of $9.60", theirs, &evidence).is_empty());
    let problems = check_subject("Re: your refund of $25.00", theirs, &evidence);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].value, "$25.00");
    // What the customer wrote grounds the subject only, never the body.
    assert!(!check_reply("We refund $49.99.", &evidence).is_empty());
    // A subject that contains theirs does not carry an invented amount through.
    let problems = check_subject(
        "Re: Charged $49.99 twice on 2026-02-27: refund of $25.00",
        theirs,
        &evidence,
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    // Only a subject that repeats theirs may state what theirs states.
    let problems = check_subject("Your refund of $49.99 is approved", theirs, &evidence);
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn a_year_written_with_a_date_must_be_the_evidences_year() {
    let evidence = evidence();
    let grounded = |reply: &str| check_reply(reply, &evidence).is_empty();
    assert!(!grounded("It was due on 2027-03-04."));
    assert!(!grounded("It was due on March 4, 2025."));
    assert!(!grounded("It was due on 4 March 2025."));
    assert!(grounded("It was due on March 4, 2026."));
}

#[test]
fn numbers_beside_may_or_march_the_words_are_no_dates() {
    let evidence = evidence();
    let grounded = |reply: &str| check_reply(reply, &evidence).is_empty();
    for reply in [
        "The Ghost 16 may be back in stock soon.",
        "A size 9 may fit you better.",
        "Runners march 10 miles in these.",
        "We have it in a size 9. May I suggest the wide one?",
    ] {
        assert!(grounded(reply), "{reply}");
    }
    assert!(
        !grounded("It arrives on May 16."),
        "a capitalised month is one"
    );
}

#[test]
fn currency_codes_count_only_as_words_of_their_own() {
    let evidence = evidence();
    let grounded = |reply: &str| check_reply(reply, &evidence).is_empty();
    for reply in [
        "Le livreur 2 jours plus tard.",
        "Ships to 27 European countries.",
        "Order 4455 EURO-PACK arrived.",
    ] {
        assert!(grounded(reply), "{reply}");
    }
    assert!(!grounded("We refund EUR 42."));
    assert!(!grounded("We refund 42 EUR."));
}

#[test]
fn a_single_decimal_digit_is_tenths_and_an_unreadable_amount_is_reported() {
    let evidence = evidence();
    let grounded = |reply: &str| check_reply(reply, &evidence).is_empty();
    assert!(grounded("We refund $9.6."), "$9.6 is $9.60");
    assert!(!grounded("We refund $96."));
    let huge = format!("We refund ${}.", "9".repeat(40));
    let problems = check_reply(&huge, &evidence);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, "amount");
}

#[test]
fn a_customers_budget_in_the_data_is_no_price_to_quote() {
    let data = vec![Observation {
        source: "products".into(),
        // As the product lookup writes it: the budget is in the text as well.
        text: "Looked for trail shoes under $150.00; 1 found.".into(),
        data: json!({"query": {"max_price_cents": 15000}, "rows": [{"price_cents": 12999}]}),
    }];
    assert!(check_reply("It costs $129.99.", &data).is_empty());
    assert!(!check_reply("It costs $150.", &data).is_empty());
}

#[test]
fn durations_and_percentages_must_be_the_ones_the_evidence_states() {
    let policy = vec![Observation {
        source: "knowledge".into(),
        text: "Return within 30 days; refunds arrive in 5 business days; 20% off for clubs.".into(),
        data: json!({}),
    }];
    for grounded in [
        "You have 30 days to return them.",
        "We offer a 30-day return window.",
        "Refunds take 5 business days.",
        "Clubs get 20 % off.",
        "Clubs get 20 percent off.",
        "Clubs get 20 per cent off.",
        "You have **30 days** to return them.",
    ] {
        assert!(check_reply(grounded, &policy).is_empty(), "{grounded}");
    }
    for (invented, written) in [
        ("You have 60 days to return them.", "60 days"),
        ("Refunds take 5 weeks.", "5 weeks"),
        ("Clubs get 25% off.", "25%"),
        ("Refunds take 30%.", "30%"),
        ("Clubs get 25 per cent off.", "25 per"),
        ("You have **60 days** to return them.", "**60 days**"),
    ] {
        let problems = check_reply(invented, &policy);
        assert_eq!(problems.len(), 1, "{invented}: {problems:?}");
        assert_eq!(problems[0].kind, "quantity");
        assert_eq!(problems[0].value.trim_end_matches('.'), written);
    }
}

#[test]
fn both_ends_of_a_range_must_be_stated() {
    let policy = vec![Observation {
        source: "knowledge".into(),
        text: "Standard shipping takes 3 to 5 business days; expedited 2 days.".into(),
        data: json!({}),
    }];
    for grounded in [
        "It takes 3-5 business days.",
        "It takes 3–5 days.",
        "3 to 5 days.",
    ] {
        assert!(check_reply(grounded, &policy).is_empty(), "{grounded}");
    }
    for invented in ["It takes 1-2 business days.", "It takes 2 to 4 days."] {
        assert!(!check_reply(invented, &policy).is_empty(), "{invented}");
    }
}
