//! The rules of human review.

use deskhand_core::review::*;
use deskhand_core::{Action, CouponGrant, CouponKind, DeliveryFeeRefund, ProposedAction, Urgency};
use time::macros::datetime;

fn refund(id: &str, cents: i64) -> ProposedAction {
    ProposedAction {
        id: id.into(),
        action: Action::RefundDeliveryFee(DeliveryFeeRefund {
            delivery_id: 1,
            tracking_number: "1Z999AA10123456784".into(),
            amount_cents: cents,
            days_late: 3,
            reason: "3 days late".into(),
        }),
    }
}

fn coupon(id: &str) -> ProposedAction {
    ProposedAction {
        id: id.into(),
        action: Action::IssueCoupon(CouponGrant {
            delivery_id: 1,
            tracking_number: "1Z999AA10123456784".into(),
            coupon: CouponKind::FreeExpeditedShipping,
            valid_days: 90,
            reason: "a second late delivery".into(),
        }),
    }
}

#[test]
fn an_action_keeps_its_wire_format_of_id_type_and_params() {
    // What the untyped `{id, type, params}` actions were published as (keys sorted, as
    // every event is written through a JSON value).
    let published = r#"[{"id":"a1","params":{"amount_cents":250,"days_late":3,"delivery_id":1,"reason":"3 days late","tracking_number":"1Z999AA10123456784"},"type":"refund_delivery_fee"},{"id":"a2","params":{"coupon":"free_expedited_shipping","delivery_id":1,"reason":"a second late delivery","tracking_number":"1Z999AA10123456784","valid_days":90},"type":"issue_coupon"}]"#;
    let actions = vec![refund("a1", 250), coupon("a2")];
    let value = serde_json::to_value(&actions).unwrap();
    assert_eq!(serde_json::to_string(&value).unwrap(), published);
    let read: Vec<ProposedAction> = serde_json::from_str(published).unwrap();
    assert_eq!(read, actions);
}

#[test]
fn an_action_of_an_unknown_type_or_without_its_params_is_not_read() {
    for broken in [
        r#"{"id":"a1","type":"wire_money","params":{"amount_cents":1}}"#,
        r#"{"id":"a1","type":"refund_delivery_fee","params":{"delivery_id":1}}"#,
        r#"{"id":"a1","type":"refund_delivery_fee"}"#,
    ] {
        assert!(
            serde_json::from_str::<ProposedAction>(broken).is_err(),
            "{broken} was read"
        );
    }
}

#[test]
fn refunds_credit_money_and_their_sum_is_checked() {
    assert_eq!(refund("a1", 640).credits_cents(), 640);
    assert_eq!(coupon("a2").credits_cents(), 0);
    assert_eq!(
        money_moved(&[refund("a1", 640), coupon("a2"), refund("a3", 5)]),
        Some(645)
    );
    assert_eq!(
        money_moved(&[refund("a1", i64::MAX), refund("a2", 1)]),
        None,
        "an overflowing sum is not a number of cents"
    );
}

const POLICY: ReviewPolicy = ReviewPolicy {
    reviewer_max_action_cents: 1000,
    coupon_value_cents: 300,
};

#[test]
fn a_reviewer_approves_refunds_and_coupons_up_to_the_limit_and_a_lead_any_amount() {
    assert!(POLICY
        .may_approve(
            Role::Reviewer,
            &[refund("a", 400), refund("b", 300), coupon("c")]
        )
        .is_ok());
    // The coupon counts: 400 + 301 + 300 is over 1000.
    let over = POLICY.may_approve(
        Role::Reviewer,
        &[refund("a", 400), refund("b", 301), coupon("c")],
    );
    assert!(
        matches!(&over, Err(Refusal::OverLimit { amount, .. }) if amount == "$10.01"),
        "{over:?}"
    );
    let coupons = POLICY.may_approve(
        Role::Reviewer,
        &[coupon("a"), coupon("b"), coupon("c"), coupon("d")],
    );
    assert!(
        matches!(coupons, Err(Refusal::OverLimit { .. })),
        "{coupons:?}"
    );
    assert!(POLICY
        .may_approve(Role::Lead, &[refund("a", 90_000)])
        .is_ok());
    assert!(POLICY
        .may_approve(Role::Admin, &[refund("a", 90_000), coupon("b")])
        .is_ok());
}

#[test]
fn an_approval_whose_amounts_overflow_is_refused_even_for_a_lead() {
    for role in Role::ALL {
        assert_eq!(
            POLICY.may_approve(role, &[refund("a", i64::MAX), coupon("b")]),
            Err(Refusal::Uncountable),
            "{role}"
        );
    }
}

#[test]
fn only_leads_and_admins_decide_an_escalated_draft() {
    assert_eq!(
        POLICY.may_decide(Role::Reviewer, ReviewStatus::Escalated),
        Err(Refusal::EscalatedToLead(Role::Reviewer))
    );
    assert!(POLICY
        .may_decide(Role::Lead, ReviewStatus::Escalated)
        .is_ok());
    assert!(POLICY
        .may_decide(Role::Reviewer, ReviewStatus::Pending)
        .is_ok());
}

#[test]
fn omitted_action_ids_select_every_action_and_unknown_ids_are_refused() {
    let proposed = [refund("a1", 100), coupon("a2")];
    assert_eq!(select_actions(&proposed, None).unwrap(), proposed.to_vec());
    assert_eq!(
        select_actions(&proposed, Some(&["a2".into(), "a2".into()])).unwrap(),
        vec![coupon("a2")],
        "a repeated id runs once"
    );
    assert!(select_actions(&proposed, Some(&[])).unwrap().is_empty());
    assert!(matches!(
        select_actions(&proposed, Some(&["a9".into()])),
        Err(Refusal::UnknownAction(id, known)) if id == "a9" && known == "a1, a2"
    ));
}

#[test]
fn the_drafted_reply_counts_as_unedited_and_an_empty_edit_is_refused() {
    assert_eq!(
        reply_to_send(Some("Hi Ann,\nIt ships today."), None).unwrap(),
        ("Hi Ann,\nIt ships today.".to_owned(), false)
    );
    assert_eq!(
        reply_to_send(
            Some("Hi Ann,\nIt ships today."),
            Some("Hi Ann,\r\nIt ships today.\n")
        )
        .unwrap(),
        ("Hi Ann,\nIt ships today.".to_owned(), false),
        "line endings and trailing space are not an edit"
    );
    assert_eq!(
        reply_to_send(Some("Hi"), Some("Hello Ann")).unwrap(),
        ("Hello Ann".to_owned(), true)
    );
    assert_eq!(
        reply_to_send(Some("Hi"), Some("  \n")),
        Err(Refusal::EmptyReply)
    );
    assert_eq!(reply_to_send(None, None), Err(Refusal::NothingToSend));
    assert_eq!(
        reply_to_send(None, Some("Written by a person")).unwrap(),
        ("Written by a person".to_owned(), true)
    );
}

#[test]
fn a_reply_threads_under_the_customers_message_and_cannot_inject_headers() {
    let draft = deskhand_core::DraftId::from_uuid(uuid::Uuid::nil());
    let ann = deskhand_core::EmailAddress::from_mailbox("Ann <ann@example.com>").unwrap();
    let reply = OutgoingEmail::reply(
        &ann,
        "Re: where\r\nBcc: evil@example.com",
        "Body".into(),
        draft,
        "shop.example",
        Some(" <CAF123@mail.example> "),
    );
    assert_eq!(reply.in_reply_to.as_deref(), Some("CAF123@mail.example"));
    assert_eq!(reply.message_id, format!("draft-{draft}@shop.example"));
    assert!(!reply.subject.contains(['\r', '\n']));
    let hostile = OutgoingEmail::reply(
        &ann,
        "s",
        "b".into(),
        draft,
        "shop.example",
        Some("<a@b>\r\nBcc: x@y"),
    );
    assert_eq!(
        hostile.in_reply_to, None,
        "a malformed id is dropped, not sent"
    );
}

#[test]
fn the_sla_due_time_follows_the_urgency() {
    let received = datetime!(2026-03-10 09:00 UTC);
    let sla = SlaTargets::default();
    assert_eq!(
        sla.due(Urgency::Urgent, received),
        datetime!(2026-03-10 10:00 UTC)
    );
    assert_eq!(
        sla.due(Urgency::High, received),
        datetime!(2026-03-10 13:00 UTC)
    );
    assert_eq!(
        sla.due(Urgency::Low, received),
        datetime!(2026-03-11 09:00 UTC)
    );
}

#[test]
fn the_memory_keeps_one_bounded_line_of_an_approved_reply_without_the_greeting() {
    let summary = reply_summary(
        "Hi Ann,\n\nYour parcel 1Z999 is 6 days late; we refunded $4.80.\nMore text.",
        30,
    );
    assert_eq!(
        summary, "Replied: Your parcel 1Z999 is 6 days la",
        "30 characters kept"
    );
}

#[test]
fn a_reply_address_is_one_mailbox_or_none() {
    use deskhand_core::EmailAddress;
    let address = |from: &str| EmailAddress::from_mailbox(from).map(|a| a.to_string());
    assert_eq!(
        address("Ann Lee <ann@example.com>").as_deref(),
        Some("ann@example.com")
    );
    assert_eq!(
        address(" ann@example.com ").as_deref(),
        Some("ann@example.com")
    );
    for none in [
        "Ann Lee",
        "",
        "a@b.com, c@d.com",
        "<ann @example.com>",
        "ann@exa\nmple.com",
    ] {
        assert_eq!(address(none), None, "{none:?}");
    }
}

#[test]
fn an_edited_subject_is_sent_on_one_line_and_an_empty_one_is_refused() {
    use deskhand_core::review::{subject_to_send, Refusal};
    assert_eq!(
        subject_to_send("Re: parcel", None),
        Ok(("Re: parcel".to_owned(), false))
    );
    assert_eq!(
        subject_to_send("Re: parcel", Some(" Re: parcel ")),
        Ok(("Re: parcel".to_owned(), false)),
        "the same subject is no edit"
    );
    assert_eq!(
        subject_to_send("Re: parcel", Some("Refund\r\nBcc: someone@else.example")),
        Ok(("Refund  Bcc: someone@else.example".to_owned(), true)),
        "a line break cannot start a header"
    );
    assert_eq!(
        subject_to_send("Re: parcel", Some(" \n ")),
        Err(Refusal::EmptySubject)
    );
    let (long, _) = subject_to_send("Re: parcel", Some(&"é\u{0}\t".repeat(400))).unwrap();
    // 85 × "é" and two spaces is 255 characters; the last two spaces are trimmed.
    assert_eq!(
        long.chars().count(),
        253,
        "cut at 255 characters, then trimmed"
    );
    assert!(!long.contains(['\0', '\t']));
}
