//! The actions a draft proposes and an approval runs: one typed enum from the policy that
//! proposes them, through the draft event and the review queue, to the store that runs
//! them. On the wire an action is `{"id", "type", "params"}` (the `type` names the
//! variant, `params` its fields).

use crate::address::ShippingAddress;
use crate::delivery::Cents;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;

/// An action's id, stable within its draft (`a1`, `a2`, ...), so a reviewer can approve a
/// subset of the proposed actions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionId(String);

impl ActionId {
    /// The id of the `n`th action of a draft (from 1).
    pub fn nth(n: usize) -> Self {
        Self(format!("a{n}"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ActionId {
    fn from(raw: &str) -> Self {
        Self(raw.trim().to_owned())
    }
}

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An action the policy proposes; it runs only when a person approves the draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedAction {
    pub id: ActionId,
    #[serde(flatten)]
    pub action: Action,
}

impl ProposedAction {
    /// Cents this action credits to the customer.
    pub fn credits_cents(&self) -> Cents {
        self.action.credits_cents()
    }
}

/// What an action does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "params", rename_all = "snake_case")]
pub enum Action {
    /// Refund part of a late delivery's fee.
    RefundDeliveryFee(DeliveryFeeRefund),
    /// Give a coupon after a repeated late delivery.
    IssueCoupon(CouponGrant),
    /// Cancel an order none of whose deliveries has shipped, refunding what was paid.
    CancelOrder(OrderCancellation),
    /// Send an order none of whose deliveries has shipped to another address.
    UpdateShippingAddress(AddressChange),
    /// Open a return of a delivered order within the return window.
    StartReturn(ReturnStart),
}

impl Action {
    /// The wire name of the action's type.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RefundDeliveryFee(_) => "refund_delivery_fee",
            Self::IssueCoupon(_) => "issue_coupon",
            Self::CancelOrder(_) => "cancel_order",
            Self::UpdateShippingAddress(_) => "update_shipping_address",
            Self::StartReturn(_) => "start_return",
        }
    }

    /// Cents the action credits to the customer: what a reviewer's money limit counts.
    /// Every variant says what it moves; a new one cannot be added without saying it.
    pub fn credits_cents(&self) -> Cents {
        match self {
            Self::RefundDeliveryFee(refund) => refund.amount_cents,
            Self::IssueCoupon(_) => 0,
            Self::CancelOrder(cancel) => cancel.amount_cents,
            // A return pays nothing now: the refund follows when the goods are back.
            Self::UpdateShippingAddress(_) | Self::StartReturn(_) => 0,
        }
    }

    /// Whether only the customer themselves may ask for it: an order sent somewhere else
    /// or a return opened (its reply gives the code and the order's delivery facts) must
    /// not be had by someone who merely knows an order number.
    pub fn for_the_customer_only(&self) -> bool {
        match self {
            Self::UpdateShippingAddress(_) | Self::StartReturn(_) => true,
            Self::RefundDeliveryFee(_) | Self::IssueCoupon(_) | Self::CancelOrder(_) => false,
        }
    }

    /// The delivery the action is about; `None` for an action on a whole order.
    pub fn delivery_id(&self) -> Option<i64> {
        match self {
            Self::RefundDeliveryFee(refund) => Some(refund.delivery_id),
            Self::IssueCoupon(coupon) => Some(coupon.delivery_id),
            Self::CancelOrder(_) | Self::UpdateShippingAddress(_) | Self::StartReturn(_) => None,
        }
    }
}

/// A refund of (part of) a delivery's fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryFeeRefund {
    pub delivery_id: i64,
    pub tracking_number: String,
    pub amount_cents: Cents,
    pub days_late: i64,
    /// Why, in words a reviewer checks.
    pub reason: String,
}

/// A coupon for the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponGrant {
    pub delivery_id: i64,
    pub tracking_number: String,
    pub coupon: CouponKind,
    pub valid_days: i64,
    /// Why, in words a reviewer checks.
    pub reason: String,
}

/// The cancellation of an order that has not shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancellation {
    pub order_id: i64,
    pub order_number: String,
    /// What the cancellation refunds: the order's total, as paid.
    pub amount_cents: Cents,
    /// Why, in words a reviewer checks.
    pub reason: String,
}

/// A new delivery address for an order that has not shipped, shown to the reviewer as a
/// change from the address on file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressChange {
    pub order_id: i64,
    pub order_number: String,
    /// The address on file when the draft was made; `None` when the shop has none. The
    /// approval runs only while the order still ships there.
    pub from: Option<ShippingAddress>,
    /// The address the customer asked for, as read from their email.
    pub to: ShippingAddress,
    /// What the redirected goods are worth: what the change counts against a reviewer's
    /// limit (moving a parcel is moving its value).
    pub order_total_cents: Cents,
    /// Why, in words a reviewer checks.
    pub reason: String,
}

/// A return of a delivered order, opened with the code the customer writes on the
/// parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnStart {
    pub order_id: i64,
    pub order_number: String,
    /// Written on the parcel; chosen when the draft is made, so the reply can give it.
    pub code: String,
    #[serde(with = "iso_date")]
    pub delivered_on: Date,
    /// The last day of the return window (a return must be started by then).
    #[serde(with = "iso_date")]
    pub last_day: Date,
    /// What a return refunds once the goods are back: what it counts against a
    /// reviewer's limit.
    pub order_total_cents: Cents,
    /// Why, in words a reviewer checks.
    pub reason: String,
}

/// The coupons the policy gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponKind {
    FreeExpeditedShipping,
}

impl CouponKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FreeExpeditedShipping => "free_expedited_shipping",
        }
    }
}

/// The total the actions credit; `None` when it does not fit a `Cents` (only a forged or
/// corrupt draft could ask that much).
pub fn money_moved(actions: &[ProposedAction]) -> Option<Cents> {
    actions
        .iter()
        .try_fold(0 as Cents, |sum, a| sum.checked_add(a.credits_cents()))
}

/// What an approved action did, for the decision event and the API's response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActionResult {
    RefundDeliveryFee {
        action_id: ActionId,
        refund_id: i64,
        delivery_id: i64,
        amount_cents: Cents,
    },
    IssueCoupon {
        action_id: ActionId,
        coupon_id: i64,
        delivery_id: i64,
        code: String,
        /// `YYYY-MM-DD`.
        expires_on: String,
    },
    CancelOrder {
        action_id: ActionId,
        cancellation_id: i64,
        order_id: i64,
        order_number: String,
        /// The payment refunded.
        amount_cents: Cents,
    },
    StartReturn {
        action_id: ActionId,
        return_id: i64,
        order_id: i64,
        order_number: String,
        code: String,
        /// `YYYY-MM-DD`: the last day of the return window.
        last_day: String,
    },
    UpdateShippingAddress {
        action_id: ActionId,
        change_id: i64,
        order_id: i64,
        order_number: String,
        /// The address the order now ships to, its lines joined by newlines.
        address: String,
    },
}

/// Dates in action parameters as `YYYY-MM-DD`, as the rest of the wire writes them.
mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::macros::format_description;
    use time::Date;

    const FORMAT: &[time::format_description::FormatItem<'static>] =
        format_description!("[year]-[month]-[day]");

    pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        let text = date.format(FORMAT).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text, FORMAT).map_err(serde::de::Error::custom)
    }
}
