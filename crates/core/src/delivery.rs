//! Deliveries to customers and the late-delivery policy. Amounts are integer cents; every
//! number the policy uses is configurable.

use serde::{Deserialize, Serialize};
use time::Date;

/// Money in integer cents.
pub type Cents = i64;

/// Formats cents as dollars for people (`$9.60`).
pub fn format_cents(cents: Cents) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.abs();
    format!("{sign}${}.{:02}", cents / 100, cents % 100)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Processing,
    InTransit,
    OutForDelivery,
    Delivered,
    Exception,
    Cancelled,
}

impl DeliveryStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "processing" => Self::Processing,
            "in_transit" => Self::InTransit,
            "out_for_delivery" => Self::OutForDelivery,
            "delivered" => Self::Delivered,
            "exception" => Self::Exception,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processing => "processing",
            Self::InTransit => "in_transit",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::Exception => "exception",
            Self::Cancelled => "cancelled",
        }
    }
    /// How a customer would say it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Processing => "being prepared",
            Self::InTransit => "in transit",
            Self::OutForDelivery => "out for delivery",
            Self::Delivered => "delivered",
            Self::Exception => "held up by a carrier exception",
            Self::Cancelled => "cancelled",
        }
    }
}

/// What the store knows about one delivery of the customer's, as the policy needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryFacts {
    /// Internal id: goes into action parameters, never into a reply.
    pub delivery_id: i64,
    pub order_number: String,
    pub tracking_number: String,
    pub carrier: String,
    pub status: DeliveryStatus,
    pub expected_start: Date,
    pub expected_end: Date,
    pub delivered_on: Option<Date>,
    pub fee_cents: Cents,
    /// Sum of refunds already credited for this delivery.
    pub refunded_cents: Cents,
    pub coupon_issued: bool,
    pub product_name: Option<String>,
}

/// The policy's knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySettings {
    /// Share of the delivery fee refunded per day late, in percent.
    pub refund_percent_per_day: i64,
    /// A coupon needs another late delivery whose window ended within this many days.
    pub coupon_lookback_days: i64,
    /// How long an issued coupon is valid.
    pub coupon_valid_days: i64,
    /// Days after delivery within which a return may be started.
    pub return_window_days: i64,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            refund_percent_per_day: 20,
            coupon_lookback_days: 60,
            coupon_valid_days: 90,
            return_window_days: 30,
        }
    }
}

/// Lateness of one delivery as of `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lateness {
    pub late: bool,
    /// Days past `expected_end` (as of delivery, or today when not delivered); 0 if on time.
    pub days_late: i64,
}

/// Late = delivered after `expected_end`, or not delivered and today is past it.
/// Cancelled deliveries are never late.
pub fn lateness(delivery: &DeliveryFacts, today: Date) -> Lateness {
    if delivery.status == DeliveryStatus::Cancelled {
        return Lateness {
            late: false,
            days_late: 0,
        };
    }
    let reference = match (delivery.status, delivery.delivered_on) {
        (_, Some(delivered)) => delivered,
        (DeliveryStatus::Delivered, None) => {
            return Lateness {
                late: false,
                days_late: 0,
            }
        }
        (_, None) => today,
    };
    let days = (reference - delivery.expected_end).whole_days();
    Lateness {
        late: days > 0,
        days_late: days.max(0),
    }
}

/// An action the policy proposes for a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyAction {
    RefundDeliveryFee { amount_cents: Cents, days_late: i64 },
    IssueCoupon { valid_days: i64 },
}

/// The refund for a late delivery: `days_late × percent` of the fee, rounded down to the
/// cent, capped at the fee. Integer arithmetic only.
pub fn refund_amount(fee_cents: Cents, days_late: i64, settings: &PolicySettings) -> Cents {
    if fee_cents <= 0 || days_late <= 0 {
        return 0;
    }
    let raw =
        (fee_cents as i128 * days_late as i128 * settings.refund_percent_per_day as i128) / 100;
    raw.min(fee_cents as i128) as Cents
}

/// The policy for one delivery. `others` are the customer's other deliveries (any status)
/// that could make this a repeat problem.
pub fn assess(
    delivery: &DeliveryFacts,
    others: &[DeliveryFacts],
    today: Date,
    settings: &PolicySettings,
) -> (Lateness, Vec<PolicyAction>) {
    let lateness = lateness(delivery, today);
    let mut actions = Vec::new();
    if !lateness.late {
        return (lateness, actions);
    }
    if delivery.refunded_cents == 0 {
        let amount = refund_amount(delivery.fee_cents, lateness.days_late, settings);
        if amount > 0 {
            actions.push(PolicyAction::RefundDeliveryFee {
                amount_cents: amount,
                days_late: lateness.days_late,
            });
        }
    }
    let window_start = today - time::Duration::days(settings.coupon_lookback_days);
    let repeat = others.iter().any(|other| {
        other.delivery_id != delivery.delivery_id
            && other.expected_end >= window_start
            && lateness_of(other, today)
    });
    if repeat && !delivery.coupon_issued {
        actions.push(PolicyAction::IssueCoupon {
            valid_days: settings.coupon_valid_days,
        });
    }
    (lateness, actions)
}

/// Why the policy, as it stands when a reviewer approves, does not allow an action a
/// draft proposed. The draft is a proposal: the amounts it carries are checked again
/// against the store's facts, so a draft altered on its way (or drafted before another
/// approval paid) cannot pay more than the policy does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefusal {
    #[error("the policy refunds nothing for delivery {0} now (not late, or already refunded)")]
    NoRefundDue(i64),
    #[error(
        "a refund of {asked} cents for delivery {delivery_id} is more than the policy's {allowed}"
    )]
    RefundOverPolicy {
        delivery_id: i64,
        asked: Cents,
        allowed: Cents,
    },
    #[error("the policy gives no coupon for delivery {0} now (no repeat late delivery, or one was issued)")]
    NoCouponDue(i64),
    #[error("a coupon valid {asked} days is longer than the policy's {allowed}")]
    CouponTooLong { asked: i64, allowed: i64 },
    #[error("one approval gives delivery {0} more than one coupon")]
    SeveralCoupons(i64),
}

/// Checks `action` on `delivery` against what the policy gives today (`assess` on the
/// same facts): a refund up to the policy's amount, a coupon only when one is due and for
/// no longer than the policy's days.
pub fn recheck(
    action: &PolicyAction,
    delivery: &DeliveryFacts,
    others: &[DeliveryFacts],
    today: Date,
    settings: &PolicySettings,
) -> Result<(), PolicyRefusal> {
    let (_, due) = assess(delivery, others, today, settings);
    match *action {
        PolicyAction::RefundDeliveryFee { amount_cents, .. } => {
            let allowed = due
                .iter()
                .find_map(|a| match a {
                    PolicyAction::RefundDeliveryFee { amount_cents, .. } => Some(*amount_cents),
                    PolicyAction::IssueCoupon { .. } => None,
                })
                .ok_or(PolicyRefusal::NoRefundDue(delivery.delivery_id))?;
            if amount_cents <= 0 || amount_cents > allowed {
                return Err(PolicyRefusal::RefundOverPolicy {
                    delivery_id: delivery.delivery_id,
                    asked: amount_cents,
                    allowed,
                });
            }
            Ok(())
        }
        PolicyAction::IssueCoupon { valid_days } => {
            if !due
                .iter()
                .any(|a| matches!(a, PolicyAction::IssueCoupon { .. }))
            {
                return Err(PolicyRefusal::NoCouponDue(delivery.delivery_id));
            }
            if !(1..=settings.coupon_valid_days).contains(&valid_days) {
                return Err(PolicyRefusal::CouponTooLong {
                    asked: valid_days,
                    allowed: settings.coupon_valid_days,
                });
            }
            Ok(())
        }
    }
}

/// Checks every action an approval runs on `delivery` together: the refunds' total against
/// the policy's refund (two refunds of the allowed amount are twice it), and at most one
/// coupon. An amount that does not add up is refused.
pub fn recheck_delivery(
    actions: &[PolicyAction],
    delivery: &DeliveryFacts,
    others: &[DeliveryFacts],
    today: Date,
    settings: &PolicySettings,
) -> Result<(), PolicyRefusal> {
    let mut refunds: Option<Cents> = None;
    let mut coupons = 0;
    for action in actions {
        match *action {
            PolicyAction::RefundDeliveryFee { amount_cents, .. } => {
                let total = refunds.unwrap_or(0).checked_add(amount_cents);
                refunds = Some(total.ok_or(PolicyRefusal::RefundOverPolicy {
                    delivery_id: delivery.delivery_id,
                    asked: Cents::MAX,
                    allowed: 0,
                })?);
            }
            PolicyAction::IssueCoupon { .. } => {
                coupons += 1;
                if coupons > 1 {
                    return Err(PolicyRefusal::SeveralCoupons(delivery.delivery_id));
                }
                recheck(action, delivery, others, today, settings)?;
            }
        }
    }
    if let Some(amount_cents) = refunds {
        let total = PolicyAction::RefundDeliveryFee {
            amount_cents,
            days_late: 0,
        };
        recheck(&total, delivery, others, today, settings)?;
    }
    Ok(())
}

fn lateness_of(delivery: &DeliveryFacts, today: Date) -> bool {
    lateness(delivery, today).late
}
