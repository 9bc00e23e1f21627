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
