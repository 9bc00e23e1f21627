//! The late-delivery policy, at its boundaries.

use deskhand_core::delivery::*;
use time::macros::date;
use time::{Date, Duration};

const TODAY: Date = date!(2026 - 03 - 10);

fn delivery(id: i64, end: Date, delivered: Option<Date>, fee: i64) -> DeliveryFacts {
    crate::fixtures::delivery(id, &format!("1Z{id:016}"), end, delivered, fee)
}

fn refund_of(actions: &[PolicyAction]) -> Option<i64> {
    actions.iter().find_map(|a| match a {
        PolicyAction::RefundDeliveryFee { amount_cents, .. } => Some(*amount_cents),
        _ => None,
    })
}

fn has_coupon(actions: &[PolicyAction]) -> bool {
    actions
        .iter()
        .any(|a| matches!(a, PolicyAction::IssueCoupon { .. }))
}

#[test]
fn delivered_on_the_last_day_of_the_window_is_on_time() {
    let on_time = delivery(1, date!(2026 - 03 - 05), Some(date!(2026 - 03 - 05)), 800);
    let (lateness, actions) = assess(&on_time, &[], TODAY, &PolicySettings::default());
    assert!(!lateness.late);
    assert!(actions.is_empty());
}

#[test]
fn not_delivered_is_late_only_after_the_last_day() {
    let due_today = delivery(1, TODAY, None, 800);
    assert!(!lateness(&due_today, TODAY).late);
    let due_yesterday = delivery(1, TODAY - Duration::days(1), None, 800);
    assert_eq!(
        lateness(&due_yesterday, TODAY),
        Lateness {
            late: true,
            days_late: 1
        }
    );
}

#[test]
fn the_refund_is_days_late_times_twenty_percent_rounded_down_to_the_cent() {
    let settings = PolicySettings::default();
    assert_eq!(refund_amount(799, 1, &settings), 159, "159.8 rounds down");
    assert_eq!(refund_amount(800, 2, &settings), 320);
    let late = delivery(1, date!(2026 - 03 - 01), Some(date!(2026 - 03 - 03)), 799);
    let (lateness, actions) = assess(&late, &[], TODAY, &settings);
    assert_eq!(
        lateness.days_late, 2,
        "measured to the delivery date, not today"
    );
    assert_eq!(refund_of(&actions), Some(319));
}

#[test]
fn the_refund_is_capped_at_the_full_fee() {
    let settings = PolicySettings::default();
    assert_eq!(refund_amount(800, 5, &settings), 800, "exactly 100%");
    assert_eq!(refund_amount(800, 6, &settings), 800, "120% capped");
    assert_eq!(refund_amount(800, 400, &settings), 800);
}

#[test]
fn an_undelivered_late_parcel_is_refunded_as_of_today() {
    let late = delivery(1, TODAY - Duration::days(3), None, 1000);
    let (_, actions) = assess(&late, &[], TODAY, &PolicySettings::default());
    assert_eq!(refund_of(&actions), Some(600));
}

#[test]
fn no_second_refund_when_one_was_already_credited() {
    let mut late = delivery(1, TODAY - Duration::days(3), None, 1000);
    late.refunded_cents = 1;
    let (_, actions) = assess(&late, &[], TODAY, &PolicySettings::default());
    assert_eq!(refund_of(&actions), None);
}

#[test]
fn cancelled_deliveries_get_no_action() {
    let mut cancelled = delivery(1, TODAY - Duration::days(10), None, 1000);
    cancelled.status = DeliveryStatus::Cancelled;
    let other = delivery(2, TODAY - Duration::days(5), None, 500);
    let (lateness, actions) = assess(&cancelled, &[other], TODAY, &PolicySettings::default());
    assert!(!lateness.late);
    assert!(actions.is_empty());
}

#[test]
fn a_coupon_needs_another_late_delivery_within_sixty_days_inclusive() {
    let settings = PolicySettings::default();
    let this = delivery(1, TODAY - Duration::days(2), None, 800);
    let at_boundary = delivery(
        2,
        TODAY - Duration::days(60),
        Some(TODAY - Duration::days(58)),
        500,
    );
    let (_, actions) = assess(&this, std::slice::from_ref(&at_boundary), TODAY, &settings);
    assert!(
        has_coupon(&actions),
        "expected_end exactly 60 days ago counts"
    );

    let too_old = delivery(
        2,
        TODAY - Duration::days(61),
        Some(TODAY - Duration::days(58)),
        500,
    );
    let (_, actions) = assess(&this, &[too_old], TODAY, &settings);
    assert!(!has_coupon(&actions), "61 days ago does not");

    let on_time = delivery(
        2,
        TODAY - Duration::days(20),
        Some(TODAY - Duration::days(20)),
        500,
    );
    let (_, actions) = assess(&this, &[on_time], TODAY, &settings);
    assert!(!has_coupon(&actions), "the other delivery must be late too");

    let (_, actions) = assess(&this, std::slice::from_ref(&this), TODAY, &settings);
    assert!(!has_coupon(&actions), "a delivery is not its own repeat");
}

#[test]
fn no_second_coupon_for_the_same_delivery() {
    let mut this = delivery(1, TODAY - Duration::days(2), None, 800);
    this.coupon_issued = true;
    let other = delivery(
        2,
        TODAY - Duration::days(10),
        Some(TODAY - Duration::days(8)),
        500,
    );
    let (_, actions) = assess(&this, &[other], TODAY, &PolicySettings::default());
    assert!(!has_coupon(&actions));
    assert!(
        refund_of(&actions).is_some(),
        "the refund is independent of the coupon"
    );
}

#[test]
fn an_on_time_delivery_gets_no_coupon_even_with_late_history() {
    let this = delivery(1, TODAY + Duration::days(2), None, 800);
    let other = delivery(
        2,
        TODAY - Duration::days(10),
        Some(TODAY - Duration::days(8)),
        500,
    );
    let (lateness, actions) = assess(&this, &[other], TODAY, &PolicySettings::default());
    assert!(!lateness.late);
    assert!(actions.is_empty());
}

#[test]
fn amounts_are_shown_in_dollars() {
    assert_eq!(format_cents(960), "$9.60");
    assert_eq!(format_cents(5), "$0.05");
    assert_eq!(format_cents(13000), "$130.00");
}

#[test]
fn an_approval_may_pay_up_to_the_policys_refund_and_not_a_cent_more() {
    let settings = PolicySettings::default();
    // Delivered two days late on an $8 fee: the policy refunds $3.20.
    let late = delivery(1, date!(2026 - 03 - 01), Some(date!(2026 - 03 - 03)), 800);
    let asking = |amount_cents| PolicyAction::RefundDeliveryFee {
        amount_cents,
        days_late: 2,
    };
    assert_eq!(recheck(&asking(320), &late, &[], TODAY, &settings), Ok(()));
    assert_eq!(
        recheck(&asking(321), &late, &[], TODAY, &settings),
        Err(PolicyRefusal::RefundOverPolicy {
            delivery_id: 1,
            asked: 321,
            allowed: 320
        })
    );
    assert!(recheck(&asking(0), &late, &[], TODAY, &settings).is_err());
    // Two refunds of the allowed amount on one delivery are twice it.
    assert_eq!(
        recheck_delivery(&[asking(320), asking(320)], &late, &[], TODAY, &settings),
        Err(PolicyRefusal::RefundOverPolicy {
            delivery_id: 1,
            asked: 640,
            allowed: 320
        })
    );
    assert_eq!(
        recheck_delivery(&[asking(200), asking(120)], &late, &[], TODAY, &settings),
        Ok(())
    );
    assert!(
        recheck_delivery(&[asking(i64::MAX), asking(1)], &late, &[], TODAY, &settings).is_err()
    );
    // Once refunded (by another draft's approval), nothing more is due.
    let refunded = DeliveryFacts {
        refunded_cents: 320,
        ..late.clone()
    };
    assert_eq!(
        recheck(&asking(320), &refunded, &[], TODAY, &settings),
        Err(PolicyRefusal::NoRefundDue(1))
    );
    // An on-time delivery is owed nothing, whatever the draft says.
    let on_time = delivery(2, TODAY, None, 800);
    assert_eq!(
        recheck(&asking(100), &on_time, &[], TODAY, &settings),
        Err(PolicyRefusal::NoRefundDue(2))
    );
}

#[test]
fn an_approval_gives_a_coupon_only_when_due_and_never_longer_than_the_policy() {
    let settings = PolicySettings::default();
    let late = delivery(1, date!(2026 - 03 - 01), None, 800);
    let earlier_late = delivery(2, date!(2026 - 02 - 10), Some(date!(2026 - 02 - 14)), 800);
    let coupon = |valid_days| PolicyAction::IssueCoupon { valid_days };
    let others = [earlier_late.clone()];
    assert_eq!(
        recheck(&coupon(90), &late, &others, TODAY, &settings),
        Ok(())
    );
    assert_eq!(
        recheck(&coupon(91), &late, &others, TODAY, &settings),
        Err(PolicyRefusal::CouponTooLong {
            asked: 91,
            allowed: 90
        })
    );
    assert!(recheck(&coupon(0), &late, &others, TODAY, &settings).is_err());
    assert_eq!(
        recheck_delivery(&[coupon(30), coupon(30)], &late, &others, TODAY, &settings),
        Err(PolicyRefusal::SeveralCoupons(1))
    );
    assert_eq!(
        recheck(&coupon(30), &late, &[], TODAY, &settings),
        Err(PolicyRefusal::NoCouponDue(1)),
        "a first late delivery earns no coupon"
    );
    let issued = DeliveryFacts {
        coupon_issued: true,
        ..late
    };
    assert_eq!(
        recheck(&coupon(30), &issued, &others, TODAY, &settings),
        Err(PolicyRefusal::NoCouponDue(1))
    );
}
