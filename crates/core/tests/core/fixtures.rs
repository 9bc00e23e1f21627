//! Builders shared by the test modules.

use deskhand_core::delivery::{DeliveryFacts, DeliveryStatus};

/// A UPS delivery with a two-day window ending `end`; delivered when `delivered` is set.
pub fn delivery(
    id: i64,
    tracking: &str,
    end: time::Date,
    delivered: Option<time::Date>,
    fee: i64,
) -> DeliveryFacts {
    DeliveryFacts {
        delivery_id: id,
        order_number: format!("{}", 100_000 + id),
        tracking_number: tracking.into(),
        carrier: "UPS".into(),
        status: if delivered.is_some() {
            DeliveryStatus::Delivered
        } else {
            DeliveryStatus::InTransit
        },
        expected_start: end - time::Duration::days(2),
        expected_end: end,
        delivered_on: delivered,
        fee_cents: fee,
        refunded_cents: 0,
        coupon_issued: false,
        product_name: None,
    }
}
