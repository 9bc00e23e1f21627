//! The delivery flow: the tracking and order numbers an email gives, this customer's
//! deliveries, and the late-delivery policy's refund and coupon.

use super::{unavailable, Findings, GraphError, TriageGraph};
use crate::action::{Action, ActionId, CouponGrant, CouponKind, DeliveryFeeRefund, ProposedAction};
use crate::delivery::{assess, format_cents, DeliveryFacts, PolicyAction};
use crate::draft::Observation;
use crate::email::InboundEmail;
use crate::order::OrderStatus;
use crate::ports::{Cognition, DeliveryLookup, ShopData};
use crate::scope::CustomerScope;
use crate::tracking::find_numbers;
use serde_json::json;
use time::Date;

impl<C: Cognition, D: ShopData> TriageGraph<C, D> {
    /// Delivery flow: numbers from the email → this customer's deliveries → policy.
    pub(super) async fn delivery_flow(
        &self,
        email: &InboundEmail,
        scope: CustomerScope,
        today: Date,
    ) -> Result<Findings, GraphError> {
        let text = email.subject_and_text();
        let numbers = find_numbers(&text);
        let mut findings = Findings::default();
        if numbers.is_empty() {
            findings.observations.push(Observation {
                source: "deliveries".to_owned(),
                text: "The email gives no tracking or order number.".to_owned(),
                data: json!({}),
            });
            findings.ask_for = Some("the tracking number or the order number of the delivery");
            return Ok(findings);
        }
        let lookup = DeliveryLookup {
            tracking: numbers.tracking.clone(),
            orders: numbers.orders.clone(),
        };
        let since = today - time::Duration::days(self.settings.policy.coupon_lookback_days);
        let matches = match self.data.deliveries(scope, &lookup, since).await {
            Ok(matches) => matches,
            Err(error) => {
                unavailable(error.clone())?;
                findings.read_failed("deliveries", &error, "delivery");
                return Ok(findings);
            }
        };
        // Numbers that match none of this customer's deliveries get one answer, whoever
        // else they might belong to: the lookup above cannot see other customers.
        for number in &numbers.tracking {
            if !matches
                .matched
                .iter()
                .any(|d| d.tracking_number.eq_ignore_ascii_case(number.as_str()))
            {
                let sentence = format!(
                    "We could not find an open delivery with the number {} on your account.",
                    number.as_str()
                );
                findings.facts.push(sentence.clone());
                findings.observations.push(Observation {
                    source: "deliveries".to_owned(),
                    text: sentence,
                    data: json!({"number": number.as_str(), "matched": false}),
                });
            }
        }
        let without_delivery: Vec<String> = numbers
            .orders
            .iter()
            .filter(|order| {
                !matches
                    .matched
                    .iter()
                    .any(|d| d.order_number.eq_ignore_ascii_case(order))
            })
            .cloned()
            .collect();
        let orders_found = self
            .orders_without_delivery(scope, &without_delivery, &mut findings)
            .await?;
        for delivery in &matches.matched {
            self.assess_delivery(delivery, &matches.recent, today, &mut findings);
        }
        if matches.matched.is_empty() && orders_found == 0 {
            findings.ask_for =
                Some("the tracking number exactly as it appears in the shipping confirmation");
        }
        Ok(findings)
    }

    /// Order numbers no delivery matched: an order that has not shipped yet (or was
    /// cancelled) is said so, from the order itself; a number that is not this customer's
    /// order is said not found. Returns how many were this customer's orders.
    async fn orders_without_delivery(
        &self,
        scope: CustomerScope,
        numbers: &[String],
        findings: &mut Findings,
    ) -> Result<usize, GraphError> {
        if numbers.is_empty() {
            return Ok(0);
        }
        let orders = match self.data.orders(scope, numbers).await {
            Ok(orders) => orders,
            Err(error) => {
                // Unreadable is not "not found": say nothing about these numbers.
                unavailable(error)?;
                return Ok(0);
            }
        };
        for number in numbers {
            let order = orders
                .iter()
                .find(|o| o.order_number.eq_ignore_ascii_case(number))
                // More deliveries than the lookup reads: not for this sentence.
                .filter(|o| o.shipped_delivery().is_none());
            if order.is_none()
                && orders
                    .iter()
                    .any(|o| o.order_number.eq_ignore_ascii_case(number))
            {
                continue;
            }
            let sentence = match order {
                Some(order) if order.status == OrderStatus::Cancelled => {
                    format!("Your order {} was cancelled.", order.order_number)
                }
                Some(order) => format!(
                    "Your order {} placed on {} has not shipped yet; it is being prepared.",
                    order.order_number, order.placed_on
                ),
                None => format!("We could not find order {number} on your account."),
            };
            findings.facts.push(sentence.clone());
            findings.observations.push(Observation {
                source: "orders".to_owned(),
                text: sentence,
                data: match order {
                    Some(order) => json!({
                        "order_number": order.order_number,
                        "placed_on": order.placed_on.to_string(),
                        "status": order.status.as_str(),
                        "matched": true,
                    }),
                    None => json!({"order": number, "matched": false}),
                },
            });
        }
        Ok(orders.len())
    }

    fn assess_delivery(
        &self,
        delivery: &DeliveryFacts,
        recent: &[DeliveryFacts],
        today: Date,
        findings: &mut Findings,
    ) {
        let settings = &self.settings.policy;
        let (late, actions) = assess(delivery, recent, today, settings);
        let window = format!("{} to {}", delivery.expected_start, delivery.expected_end);
        let status = match (delivery.status, delivery.delivered_on) {
            (_, Some(on)) => format!("was delivered on {on}"),
            (status, None) => format!("is {}", status.describe()),
        };
        let mut sentence = format!(
            "Your {} delivery with tracking number {} {}; it was expected {}.",
            delivery.carrier, delivery.tracking_number, status, window
        );
        if late.late {
            let unit = if late.days_late == 1 { "day" } else { "days" };
            sentence.push_str(&format!(" It is {} {} late.", late.days_late, unit));
        } else if delivery.status != crate::delivery::DeliveryStatus::Cancelled
            && delivery.delivered_on.is_none()
        {
            sentence.push_str(" It is on schedule.");
        }
        findings.facts.push(sentence.clone());
        findings.observations.push(Observation {
            source: "deliveries".to_owned(),
            text: sentence,
            data: json!({
                "delivery_id": delivery.delivery_id,
                "order_number": delivery.order_number,
                "tracking_number": delivery.tracking_number,
                "carrier": delivery.carrier,
                "status": delivery.status.as_str(),
                "expected_start": delivery.expected_start.to_string(),
                "expected_end": delivery.expected_end.to_string(),
                "delivered_on": delivery.delivered_on.map(|d| d.to_string()),
                "days_late": late.days_late,
                "fee_cents": delivery.fee_cents,
                "refunded_cents": delivery.refunded_cents,
                "coupon_issued": delivery.coupon_issued,
            }),
        });
        if late.late && delivery.refunded_cents > 0 {
            findings.observations.push(Observation {
                source: "policy".to_owned(),
                text: format!(
                    "A refund of {} was already credited for this delivery; no further refund.",
                    format_cents(delivery.refunded_cents)
                ),
                data: json!({"delivery_id": delivery.delivery_id}),
            });
        }
        for action in actions {
            let id = ActionId::nth(findings.actions.len() + 1);
            match action {
                PolicyAction::RefundDeliveryFee {
                    amount_cents,
                    days_late,
                } => {
                    let reason = format!(
                        "{days_late} days late × {}% of the {} delivery fee, capped at the fee",
                        settings.refund_percent_per_day,
                        format_cents(delivery.fee_cents)
                    );
                    findings.facts.push(format!(
                        "As an apology we will refund {} of the delivery fee for tracking number {}.",
                        format_cents(amount_cents),
                        delivery.tracking_number
                    ));
                    findings.observations.push(Observation {
                        source: "policy".to_owned(),
                        text: format!(
                            "Refund {} of the delivery fee ({reason}).",
                            format_cents(amount_cents)
                        ),
                        data: json!({"action": id, "amount_cents": amount_cents}),
                    });
                    findings.actions.push(ProposedAction {
                        id,
                        action: Action::RefundDeliveryFee(DeliveryFeeRefund {
                            delivery_id: delivery.delivery_id,
                            tracking_number: delivery.tracking_number.clone(),
                            amount_cents,
                            days_late,
                            reason,
                        }),
                    });
                }
                PolicyAction::IssueCoupon { valid_days } => {
                    let reason = format!(
                        "another delivery of this customer's was late within the last {} days",
                        settings.coupon_lookback_days
                    );
                    findings.facts.push(format!(
                        "Because this is not the first late delivery, we are adding a coupon for free expedited shipping, valid for {valid_days} days."
                    ));
                    findings.observations.push(Observation {
                        source: "policy".to_owned(),
                        text: format!("Issue a free expedited shipping coupon valid {valid_days} days ({reason})."),
                        data: json!({"action": id}),
                    });
                    findings.actions.push(ProposedAction {
                        id,
                        action: Action::IssueCoupon(CouponGrant {
                            delivery_id: delivery.delivery_id,
                            tracking_number: delivery.tracking_number.clone(),
                            coupon: CouponKind::FreeExpeditedShipping,
                            valid_days,
                            reason,
                        }),
                    });
                }
            }
        }
    }
}
