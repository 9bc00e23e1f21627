//! The order flow: a request to cancel an order, or to send it to another address, looked
//! up among this customer's orders and checked against the policy. An order that has not
//! shipped gets a `cancel_order` or `update_shipping_address` action for a person to
//! approve; a shipped one gets the return path from the knowledge base instead of a
//! cancellation.

use super::answer::evidence;
use super::{unavailable, Findings, GraphError, Outcome, TriageGraph};
use crate::action::{
    Action, ActionId, AddressChange, OrderCancellation, ProposedAction, ReturnStart,
};
use crate::address::{asks_address_change, new_address, ShippingAddress};
use crate::delivery::format_cents;
use crate::draft::{EscalationKind, Observation, Route, Topic};
use crate::email::InboundEmail;
use crate::order::{
    asks_order_status, asks_to_cancel, asks_to_return, OrderFacts, OrderRefusal, OrderStatus,
};
use crate::ports::{Classified, Cognition, ShopData};
use crate::scope::CustomerScope;
use crate::tracking::find_numbers;
use serde_json::json;
use time::Date;

/// What the knowledge base is asked when an order has shipped and cannot be cancelled.
const RETURN_QUESTION: &str = "How do I start a return, and what is the return window?";

impl<C: Cognition, D: ShopData> TriageGraph<C, D> {
    /// An email no other flow takes may be about one order: a request to cancel it goes to
    /// the order flow, a question where it stands (with its number) to the delivery flow,
    /// which reads orders as well as parcels. Urgent mail, several requests, another
    /// language or a repeated question have already been escalated by the route and stay
    /// with a person.
    ///
    /// A request to cancel one numbered order is exact enough that the model being unsure
    /// of its topic does not send it to a person: it is a transaction inquiry by the
    /// labels' definition. A model sure it is something else (a charge, several requests)
    /// is not overruled. A person still approves the cancellation.
    pub(super) fn try_order_route(
        &self,
        email: &InboundEmail,
        classified: &Classified,
        outcome: &mut Outcome,
    ) {
        let reason = outcome.escalation.as_ref().map(|e| e.kind);
        let handed_over = outcome.route == Route::Escalate
            && matches!(
                reason,
                Some(EscalationKind::NeedsPerson | EscalationKind::LowConfidence)
            );
        if !handed_over {
            return;
        }
        let sure_no_flow = reason == Some(EscalationKind::NeedsPerson);
        let text = email.subject_and_text();
        let orders = find_numbers(&text).orders;
        let request = match OrderRequest::read(email) {
            // "Cancel it, or else send it to my office": which one is a person's to read.
            Asked::Several => return,
            Asked::Nothing => None,
            Asked::One(request) => Some(request),
        };
        let change = request.is_some();
        let send_back = matches!(request, Some(OrderRequest::Return));
        // "Cancel 4471 but keep 4472": which to cancel is a person's to read.
        let transaction = classified.topic == Topic::TransactionInquiry;
        let route = if change && orders.len() == 1 && (transaction || !sure_no_flow) {
            outcome.classification.topic = Topic::TransactionInquiry;
            outcome.topic_for_memory = Topic::TransactionInquiry;
            Route::Order
        } else if change
            // "How do I return these?" without a number is a policy question.
            && !send_back
            && orders.is_empty()
            && sure_no_flow
            && classified.topic == Topic::TransactionInquiry
        {
            Route::Order
        } else if asks_order_status(&text)
            && !orders.is_empty()
            && matches!(
                classified.topic,
                Topic::TransactionInquiry | Topic::DeliveryDelay
            )
        {
            Route::Delivery
        } else {
            return;
        };
        outcome.route = route;
        outcome.escalation = None;
    }

    /// Order numbers from the email → this customer's orders → the policy for what the
    /// customer asks (a cancellation, or another delivery address).
    pub(super) async fn order_flow(
        &self,
        email: &InboundEmail,
        scope: CustomerScope,
        today: Date,
    ) -> Result<Findings, GraphError> {
        let numbers = find_numbers(&email.subject_and_text()).orders;
        // The route sent only an email asking one thing of an order here.
        let request = match OrderRequest::read(email) {
            Asked::One(request) => request,
            Asked::Nothing | Asked::Several => OrderRequest::Cancel,
        };
        let mut findings = Findings::default();
        if numbers.is_empty() {
            let (asks, ask_for) = match request {
                OrderRequest::Cancel => (
                    "to cancel an order",
                    "the number of the order you would like to cancel",
                ),
                OrderRequest::ChangeAddress(_) => (
                    "to change an order's delivery address",
                    "the number of the order that should go to the new address",
                ),
                OrderRequest::Return => (
                    "to return an order",
                    "the number of the order you would like to return",
                ),
            };
            findings.observations.push(Observation {
                source: "orders".to_owned(),
                text: format!("The email asks {asks} but gives no order number."),
                data: json!({}),
            });
            findings.ask_for = Some(ask_for);
            return Ok(findings);
        }
        let orders = match self.data.orders(scope, &numbers).await {
            Ok(orders) => orders,
            Err(error) => {
                unavailable(error.clone())?;
                findings.read_failed("orders", &error, "order");
                return Ok(findings);
            }
        };
        // A number that is not this customer's order gets one answer, whoever else's it
        // might be: the lookup cannot see other customers.
        for number in &numbers {
            if !orders
                .iter()
                .any(|o| o.order_number.eq_ignore_ascii_case(number))
            {
                let sentence = format!("We could not find order {number} on your account.");
                findings.facts.push(sentence.clone());
                findings.observations.push(Observation {
                    source: "orders".to_owned(),
                    text: sentence,
                    data: json!({"order": number, "matched": false}),
                });
            }
        }
        if orders.is_empty() {
            findings.ask_for =
                Some("the order number exactly as it appears in the order confirmation");
        }
        for order in &orders {
            match &request {
                OrderRequest::Cancel => self.assess_cancellation(order, &mut findings),
                OrderRequest::ChangeAddress(to) => {
                    assess_address_change(order, to.as_ref(), &mut findings)
                }
                OrderRequest::Return => {
                    // A redraft opens the return under the first draft's code.
                    let first = email.redraft_of.as_ref().unwrap_or(&email.event_id);
                    self.assess_return(order, today, &first.to_string(), &mut findings)
                }
            }
        }
        Ok(findings)
    }

    fn assess_cancellation(&self, order: &OrderFacts, findings: &mut Findings) {
        let total = format_cents(order.total_cents);
        let owed = order.refundable_cents();
        let refund = format_cents(owed);
        let verdict = order.may_cancel();
        let standing = match &verdict {
            Ok(()) => "no delivery of it has shipped, so it can be cancelled".to_owned(),
            Err(refusal) => refusal.to_string(),
        };
        findings
            .observations
            .push(order_observation(order, &standing));
        match verdict {
            Ok(()) => {
                let id = ActionId::nth(findings.actions.len() + 1);
                let reason = unshipped_reason(order);
                // Shops take the money at different points (on ordering, at dispatch):
                // the reply says what is true either way.
                findings.facts.push(format!(
                    "We have cancelled your order {} placed on {}; you will not be charged for it, and any payment already taken ({refund}) goes back to your original payment method.",
                    order.order_number, order.placed_on
                ));
                let less = if owed == order.total_cents {
                    String::new()
                } else {
                    format!(
                        ", less {} of delivery fees already refunded",
                        format_cents(order.total_cents - owed)
                    )
                };
                findings.observations.push(Observation {
                    source: "policy".to_owned(),
                    text: format!(
                        "Cancel order {} and refund {refund}: its total of {total}{less} ({reason}).",
                        order.order_number
                    ),
                    data: json!({"action": id, "amount_cents": owed}),
                });
                findings.actions.push(ProposedAction {
                    id,
                    action: Action::CancelOrder(OrderCancellation {
                        order_id: order.order_id,
                        order_number: order.order_number.clone(),
                        amount_cents: owed,
                        reason,
                    }),
                });
            }
            Err(OrderRefusal::Shipped {
                tracking_number, ..
            }) => {
                findings.facts.push(format!(
                    "Your order {} has already shipped (tracking number {tracking_number}), so it can no longer be cancelled, but it can be returned.",
                    order.order_number
                ));
                self.cite_return_path(findings);
            }
            Err(_) if order.status == OrderStatus::Cancelled => {
                findings.facts.push(format!(
                    "Your order {} is already cancelled.",
                    order.order_number
                ));
            }
            Err(_) => {}
        }
    }

    /// A request to send a delivered order back, against the return window: within it, a
    /// `start_return` action with the code the reply gives; outside it, or before the
    /// order arrived, the reply says why. The returns page is cited either way.
    fn assess_return(
        &self,
        order: &OrderFacts,
        today: Date,
        event_id: &str,
        findings: &mut Findings,
    ) {
        let window = self.settings.policy.return_window_days;
        let verdict = order.may_return(today, window);
        let standing = match &verdict {
            Ok(last_day) => {
                format!("it can be returned until {last_day}, {window} days after delivery")
            }
            Err(refusal) => format!("{refusal}; returns start within {window} days of delivery"),
        };
        findings
            .observations
            .push(order_observation(order, &standing));
        match verdict {
            Ok(last_day) => {
                let id = ActionId::nth(findings.actions.len() + 1);
                let code = return_code(order.order_id, event_id);
                let delivered_on = last_day - time::Duration::days(window);
                findings.facts.push(format!(
                    "We have opened a return for your order {}, within its return window (which ends on {last_day}): your return code is {code}; please write it on the parcel.",
                    order.order_number
                ));
                let reason = format!(
                    "delivered on {delivered_on}; the {window}-day return window ends on {last_day}"
                );
                findings.observations.push(Observation {
                    source: "policy".to_owned(),
                    text: format!(
                        "Open a return of order {} with the code {code} ({reason}).",
                        order.order_number
                    ),
                    data: json!({"action": id, "code": code, "last_day": last_day.to_string()}),
                });
                findings.actions.push(ProposedAction {
                    id,
                    action: Action::StartReturn(ReturnStart {
                        order_id: order.order_id,
                        order_number: order.order_number.clone(),
                        code,
                        delivered_on,
                        last_day,
                        order_total_cents: order.total_cents,
                        reason,
                    }),
                });
            }
            Err(OrderRefusal::NotDelivered(_)) => findings.facts.push(format!(
                "Your order {} has not been delivered in full yet; once it has, you can return it within {window} days.",
                order.order_number
            )),
            Err(OrderRefusal::ReturnWindowClosed {
                delivered_on,
                last_day,
                ..
            }) => findings.facts.push(format!(
                "Your order {} was delivered on {delivered_on}, and its return window closed on {last_day}, so we cannot open a return for it.",
                order.order_number
            )),
            Err(OrderRefusal::AlreadyReturned { code, .. }) => findings.facts.push(format!(
                "A return of your order {} is already open, with the return code {code}.",
                order.order_number
            )),
            Err(_) if order.status == OrderStatus::Cancelled => findings.facts.push(format!(
                "Your order {} was cancelled, so there is nothing to return.",
                order.order_number
            )),
            Err(_) => {}
        }
        self.cite_return_path(findings);
    }

    /// The knowledge base's best passage on returns, cited as the way back for a shipped
    /// order when it scores as high as an answer must. No lead over the next passage is
    /// asked for: the question is ours, not the customer's, so there is no reading of it
    /// to be unsure about, and any returns passage beats none.
    fn cite_return_path(&self, findings: &mut Findings) {
        if findings
            .observations
            .iter()
            .any(|o| o.source == "knowledge")
        {
            return;
        }
        let found = self.knowledge.search(RETURN_QUESTION, 1);
        let Some(passage) = found
            .first()
            .filter(|p| p.score >= self.settings.knowledge.min_score)
        else {
            return;
        };
        findings.facts.push(format!(
            "{}: {}",
            passage.passage.source.heading, passage.passage.text
        ));
        findings.observations.push(evidence(passage, "knowledge"));
    }
}

/// Why an order may still change, in words a reviewer checks.
fn unshipped_reason(order: &OrderFacts) -> String {
    format!(
        "order placed on {}; none of its {} deliveries has shipped",
        order.placed_on,
        order.deliveries.len()
    )
}

/// The code of the return opened for `order_id` by the email `event_id`: the same email
/// always gets the same code (a redraft tells the customer what the first draft told
/// them), without look-alike characters. Not a secret: it is written on the parcel.
fn return_code(order_id: i64, event_id: &str) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    // FNV-1a, 64 bits: stable across builds and platforms, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("{order_id}/{event_id}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let code: String = (0..8)
        .map(|i| ALPHABET[((hash >> (i * 5)) & 31) as usize] as char)
        .collect();
    format!("RET-{code}")
}

/// What the customer asks of one order.
enum OrderRequest {
    Cancel,
    /// Send it back.
    Return,
    /// Another delivery address, and the one the email gives (if it gives one).
    ChangeAddress(Option<ShippingAddress>),
}

/// How many things an email asks of an order.
enum Asked {
    Nothing,
    One(OrderRequest),
    Several,
}

impl OrderRequest {
    /// What the email asks of an order: one definition for the route that sends it to
    /// the order flow and for the flow itself.
    fn read(email: &InboundEmail) -> Asked {
        let text = email.subject_and_text();
        let mut asked = Vec::new();
        if asks_to_cancel(&text) {
            asked.push(Self::Cancel);
        }
        if asks_to_return(&text) {
            asked.push(Self::Return);
        }
        if asks_address_change(&text) {
            asked.push(Self::ChangeAddress(new_address(&email.body.readable)));
        }
        match asked.len() {
            0 => Asked::Nothing,
            1 => Asked::One(asked.remove(0)),
            _ => Asked::Several,
        }
    }
}

/// The order as the reviewer needs to see it: number, date, total, where it stands.
fn order_observation(order: &OrderFacts, standing: &str) -> Observation {
    Observation {
        source: "orders".to_owned(),
        text: format!(
            "Order {} placed on {}, total {}: {standing}.",
            order.order_number,
            order.placed_on,
            format_cents(order.total_cents)
        ),
        data: json!({
            "order_id": order.order_id,
            "order_number": order.order_number,
            "placed_on": order.placed_on.to_string(),
            "total_cents": order.total_cents,
            "status": order.status.as_str(),
            "ship_to": order.ship_to.as_ref().map(ShippingAddress::as_str),
            "deliveries": order.deliveries.iter().map(|d| json!({
                "tracking_number": d.tracking_number,
                "status": d.status.as_str(),
            })).collect::<Vec<_>>(),
        }),
    }
}

/// A request to send an order elsewhere, against the policy: before anything has shipped,
/// an `update_shipping_address` action from the address on file to the one the email
/// gives; without a readable address, the reply asks for it.
fn assess_address_change(
    order: &OrderFacts,
    to: Option<&ShippingAddress>,
    findings: &mut Findings,
) {
    let on_file = order.ship_to.as_ref().map_or_else(
        || "no address on file".to_owned(),
        ShippingAddress::one_line,
    );
    let verdict = order.may_change_address();
    let standing = match &verdict {
        Ok(()) => format!(
            "no delivery of it has shipped, so it can still go to another address; it ships to {on_file}"
        ),
        Err(refusal) => refusal.to_string(),
    };
    findings
        .observations
        .push(order_observation(order, &standing));
    match verdict {
        Ok(()) => {
            let Some(to) = to else {
                findings.facts.push(format!(
                    "Your order {} has not shipped yet, so its delivery address can still be changed.",
                    order.order_number
                ));
                findings.ask_for = Some(
                    "the full new delivery address (street and house number, postcode, town and country)",
                );
                return;
            };
            if order.ship_to.as_ref().is_some_and(|a| a.same_place(to)) {
                findings.facts.push(format!(
                    "Your order {} is already set to be delivered to {}.",
                    order.order_number,
                    to.one_line()
                ));
                return;
            }
            let id = ActionId::nth(findings.actions.len() + 1);
            let reason = unshipped_reason(order);
            findings.facts.push(format!(
                "We have changed the delivery address of your order {} to {}.",
                order.order_number,
                to.one_line()
            ));
            findings.observations.push(Observation {
                source: "policy".to_owned(),
                text: format!(
                    "Change the delivery address of order {} from {on_file} to {} ({reason}).",
                    order.order_number,
                    to.one_line()
                ),
                data: json!({
                    "action": id,
                    "from": order.ship_to.as_ref().map(ShippingAddress::as_str),
                    "to": to.as_str(),
                }),
            });
            findings.actions.push(ProposedAction {
                id,
                action: Action::UpdateShippingAddress(AddressChange {
                    order_id: order.order_id,
                    order_number: order.order_number.clone(),
                    from: order.ship_to.clone(),
                    to: to.clone(),
                    order_total_cents: order.total_cents,
                    reason,
                }),
            });
        }
        Err(OrderRefusal::Shipped {
            tracking_number, ..
        }) => findings.facts.push(format!(
            "Your order {} has already shipped (tracking number {tracking_number}), so its delivery address can no longer be changed.",
            order.order_number
        )),
        Err(_) if order.status == OrderStatus::Cancelled => findings.facts.push(format!(
            "Your order {} is cancelled, so there is nothing left to deliver.",
            order.order_number
        )),
        Err(_) => {}
    }
}
