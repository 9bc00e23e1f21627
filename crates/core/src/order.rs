//! Orders and what may change on them: an order can be cancelled, or sent to another
//! address, while none of its deliveries has left the shop, and a cancellation refunds
//! what the customer paid. The same checks run when the draft is made and again, on the
//! store's facts, at approval.

use crate::address::ShippingAddress;
use crate::delivery::{Cents, DeliveryFacts, DeliveryStatus};
use serde::{Deserialize, Serialize};
use time::Date;

/// Where an order stands as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed (and maybe partly or wholly shipped: its deliveries say).
    Placed,
    /// Cancelled; what was paid was refunded.
    Cancelled,
}

impl OrderStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "placed" => Some(Self::Placed),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "placed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One order of the customer's, with its deliveries, as the policy needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderFacts {
    /// Internal id: goes into action parameters, never into a reply.
    pub order_id: i64,
    pub order_number: String,
    pub placed_on: Date,
    pub total_cents: Cents,
    pub status: OrderStatus,
    /// Where the order ships; `None` when the shop has no address on file.
    pub ship_to: Option<ShippingAddress>,
    /// The code of the return already started for this order, if any.
    pub return_code: Option<String>,
    pub deliveries: Vec<DeliveryFacts>,
}

impl OrderFacts {
    /// The first delivery that has left the shop (in transit, out for delivery, delivered
    /// or held by the carrier); one still being prepared, or cancelled, has not.
    pub fn shipped_delivery(&self) -> Option<&DeliveryFacts> {
        self.deliveries.iter().find(|d| {
            !matches!(
                d.status,
                DeliveryStatus::Processing | DeliveryStatus::Cancelled
            )
        })
    }

    /// What a cancellation pays back: the order's total, less the delivery fees already
    /// refunded on its deliveries (a late parcel's fee refund is part of that total).
    pub fn refundable_cents(&self) -> Cents {
        let refunded: Cents = self.deliveries.iter().map(|d| d.refunded_cents).sum();
        (self.total_cents - refunded).max(0)
    }

    /// Whether the policy lets this order be cancelled now.
    pub fn may_cancel(&self) -> Result<(), OrderRefusal> {
        if self.status == OrderStatus::Cancelled {
            return Err(OrderRefusal::AlreadyCancelled(self.order_number.clone()));
        }
        if let Some(shipped) = self.shipped_delivery() {
            return Err(OrderRefusal::Shipped {
                order_number: self.order_number.clone(),
                tracking_number: shipped.tracking_number.clone(),
            });
        }
        Ok(())
    }

    /// Whether the policy lets this order go to another address now: the same rule as a
    /// cancellation (nothing has left the shop, not cancelled).
    pub fn may_change_address(&self) -> Result<(), OrderRefusal> {
        self.may_cancel()
    }

    /// Checks a proposed address change against the order as it is now: it may still
    /// change, and it still ships where the reviewer was shown it ships (a change approved
    /// from a stale diff would overwrite another one).
    pub fn recheck_address_change(
        &self,
        from: Option<&ShippingAddress>,
    ) -> Result<(), OrderRefusal> {
        self.may_change_address()?;
        let unchanged = match (&self.ship_to, from) {
            (None, None) => true,
            (Some(now), Some(shown)) => now.same_place(shown),
            _ => false,
        };
        if !unchanged {
            return Err(OrderRefusal::Changed(self.order_id));
        }
        Ok(())
    }

    /// Whether the policy lets a return of this order start on `today`: everything that
    /// was sent has been delivered, the last delivery no more than `window_days` ago
    /// (the last day included), and no return was started yet. `Ok` holds the last day
    /// the return may be sent back.
    pub fn may_return(&self, today: Date, window_days: i64) -> Result<Date, OrderRefusal> {
        if let Some(code) = &self.return_code {
            return Err(OrderRefusal::AlreadyReturned {
                order_number: self.order_number.clone(),
                code: code.clone(),
            });
        }
        if self.status == OrderStatus::Cancelled {
            return Err(OrderRefusal::AlreadyCancelled(self.order_number.clone()));
        }
        let sent: Vec<&DeliveryFacts> = self
            .deliveries
            .iter()
            .filter(|d| d.status != DeliveryStatus::Cancelled)
            .collect();
        let delivered: Option<Vec<Date>> = sent
            .iter()
            .map(|d| {
                (d.status == DeliveryStatus::Delivered)
                    .then_some(d.delivered_on)
                    .flatten()
            })
            .collect();
        let Some(last_delivered) = delivered.and_then(|days| days.into_iter().max()) else {
            return Err(OrderRefusal::NotDelivered(self.order_number.clone()));
        };
        let last_day = last_delivered
            .checked_add(time::Duration::days(window_days))
            .unwrap_or(Date::MAX);
        if today > last_day {
            return Err(OrderRefusal::ReturnWindowClosed {
                order_number: self.order_number.clone(),
                delivered_on: last_delivered,
                last_day,
            });
        }
        Ok(last_day)
    }

    /// Checks a proposed return against the order as it is now: still returnable on
    /// `today`, until the day the draft told the customer.
    pub fn recheck_return(
        &self,
        today: Date,
        window_days: i64,
        last_day: Date,
    ) -> Result<(), OrderRefusal> {
        let now = self.may_return(today, window_days)?;
        if now != last_day {
            return Err(OrderRefusal::Changed(self.order_id));
        }
        Ok(())
    }

    /// Checks a proposed cancellation against the order as it is now: cancellable, and
    /// refunding exactly what is owed (not more, and not a stale total).
    pub fn recheck_cancellation(&self, refund_cents: Cents) -> Result<(), OrderRefusal> {
        self.may_cancel()?;
        let owed = self.refundable_cents();
        if refund_cents != owed {
            return Err(OrderRefusal::RefundNotTotal {
                order_number: self.order_number.clone(),
                asked: refund_cents,
                total: owed,
            });
        }
        Ok(())
    }
}

/// Why an order cannot be cancelled, sent elsewhere or returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderRefusal {
    #[error("order {0} is already cancelled")]
    AlreadyCancelled(String),
    #[error("order {order_number} has shipped (tracking number {tracking_number}); it can be returned, not changed or cancelled")]
    Shipped {
        order_number: String,
        tracking_number: String,
    },
    #[error("a cancellation of order {order_number} refunds {total} cents, not {asked}")]
    RefundNotTotal {
        order_number: String,
        asked: Cents,
        total: Cents,
    },
    #[error("order {0} is not this customer's")]
    NotCustomersOrder(i64),
    #[error("order {0} has not been delivered in full yet; a return starts after delivery")]
    NotDelivered(String),
    #[error("order {order_number} was delivered on {delivered_on}; its return window closed on {last_day}")]
    ReturnWindowClosed {
        order_number: String,
        delivered_on: Date,
        last_day: Date,
    },
    #[error("a return of order {order_number} is already open (code {code})")]
    AlreadyReturned { order_number: String, code: String },
    /// Rechecked, then not as the draft saw it by the time it ran: it changed in between
    /// (or, for an address change, another change landed first).
    #[error("order {0} changed since the draft was made; look at it again")]
    Changed(i64),
}

/// Whether the customer asks us to cancel an order: a request to cancel ("please cancel",
/// "I want to cancel", "cancellation", "stornieren", "annuler", "cancelar"), not a report
/// that something was cancelled ("my order was cancelled?") or a request not to.
/// Deterministic and shared by both engines: it decides whether an action is proposed.
pub fn asks_to_cancel(text: &str) -> bool {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().enumerate().any(|(i, word)| {
        // "I need order 4471 cancelled", "I'd like it cancelled": the past form asked for.
        let wanted_done = matches!(*word, "cancelled" | "canceled")
            && words[i.saturating_sub(3)..i]
                .iter()
                .any(|w| matches!(*w, "need" | "want" | "like" | "please"));
        let request = CANCEL_REQUEST_WORDS.contains(word)
            || (*word == "call" && words.get(i + 1) == Some(&"off"))
            || wanted_done;
        let before = &words[i.saturating_sub(3)..i];
        // "please do not cancel", "I don't want to cancel", "no cancelen".
        let negated = before.iter().any(|w| NEGATIONS.contains(w));
        // "why did you cancel my order?", "has it been cancelled": about a cancellation
        // that happened, not a request for one.
        let about_the_past = before.iter().any(|w| {
            matches!(
                *w,
                "why" | "did" | "didn't" | "has" | "have" | "warum" | "pourquoi" | "por"
            )
        });
        // "cancel my return", "cancel the socks from 4471": something else than the
        // whole order ("cancel it and refund me" is the order).
        // After "call off", its object ("call off that return").
        let from = if *word == "call" { i + 2 } else { i + 1 };
        let after = &words[from.min(words.len())..words.len().min(from + 2)];
        let something_else = after.iter().any(|w| NOT_THE_ORDER.contains(w));
        request && !negated && !about_the_past && !something_else
    })
}

/// Whether the customer asks to send an order back ("I'd like to return them", "can I
/// have a return label", "how do I return order 4471", *zurückschicken*, *retourner*,
/// *devolver*), and not about a return already sent ("I returned them last week, where is
/// my refund?"), which is about money and goes to a person, or a return called off
/// ("please cancel the return, I'm keeping them").
pub fn asks_to_return(text: &str) -> bool {
    let lower = text.to_lowercase();
    if RETURNED_ALREADY.iter().any(|p| lower.contains(p)) {
        return false;
    }
    // "I don't want to return them", "not to have to send it back".
    let negated_at = |at: usize| {
        lower[..at]
            .split_whitespace()
            .rev()
            .take(4)
            .any(|w| NEGATIONS.contains(&w))
    };
    let asked = RETURN_REQUESTS
        .iter()
        .any(|p| lower.match_indices(p).any(|(at, _)| !negated_at(at)));
    if asked {
        return true;
    }
    // "Can I still return order 4471?", "I'd really like to return them": the verb after
    // a word of asking or wanting, a few words back; not "return my call", "return to
    // London", "in return".
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().enumerate().any(|(i, word)| {
        let before = &words[i.saturating_sub(3)..i];
        // The object, past a determiner ("return my call", "return the money").
        let next = words[i + 1..]
            .iter()
            .copied()
            .find(|w| !matches!(*w, "my" | "your" | "our" | "the" | "his" | "her" | "their"))
            .unwrap_or_default();
        *word == "return"
            && !NOT_GOODS_AFTER_RETURN.contains(&next)
            && before.last() != Some(&"in")
            && !before.iter().any(|w| NEGATIONS.contains(w))
            && before.iter().any(|w| {
                matches!(
                    *w,
                    "can" | "could" | "may" | "i'd" | "want" | "like" | "wish" | "need" | "please"
                )
            })
    })
}

/// Words after "return" that make it about something else than goods: a call, money, a
/// journey.
const NOT_GOODS_AFTER_RETURN: &[&str] = &[
    "call", "calls", "money", "payment", "deposit", "to", "home", "from", "trip", "flight",
    "policy", "window",
];

const RETURN_REQUESTS: &[&str] = &[
    "return label",
    "returns label",
    "start a return",
    "open a return",
    "like to return",
    "want to return",
    "wish to return",
    "can i return",
    "could i return",
    "may i return",
    "how do i return",
    "how can i return",
    "return these",
    "return them",
    "return my order",
    "send them back",
    "send it back",
    "send these back",
    "send those back",
    "rücksendeetikett",
    "zurückschicken",
    "zurücksenden",
    "retourner",
    "renvoyer le colis",
    "renvoyer la commande",
    "renvoyer les chaussures",
    "étiquette de retour",
    "devolver el pedido",
    "devolver los",
    "devolver las",
    "devolverlos",
    "devolverlas",
    "etiqueta de devolución",
];

const RETURNED_ALREADY: &[&str] = &[
    "i returned",
    "i've returned",
    "i have returned",
    "already returned",
    "sent them back",
    "sent it back",
    "returned them",
    "returned it",
    "zurückgeschickt",
    "retourné",
    "renvoyé",
    "devuelto",
    "devolví",
    // Calling a return off.
    "cancel the return",
    "cancel my return",
    "requested a return",
    "keeping them",
    "keeping it",
    "keep them",
];

/// Words after "cancel" that make it about something other than a whole order.
const NOT_THE_ORDER: &[&str] = &[
    "return",
    "exchange",
    "refund",
    "subscription",
    "newsletter",
    "account",
    "just",
    "only",
    "item",
    "one",
    "pair",
    "socks",
    "retoure",
    "umtausch",
    "retour",
    "échange",
    "devolución",
    "cambio",
];

/// Whether the customer asks where an order stands ("has it shipped?", "what's the status
/// of order 4471?", "when will it arrive?"), and not about money or a return on it ("the
/// status of my refund"), which a person handles.
pub fn asks_order_status(text: &str) -> bool {
    let lower = text.to_lowercase();
    let about_money_or_return = MONEY_OR_RETURN.iter().any(|w| lower.contains(w));
    !about_money_or_return && ORDER_STATUS_PHRASES.iter().any(|p| lower.contains(p))
}

const ORDER_STATUS_PHRASES: &[&str] = &[
    "status",
    "shipped",
    "dispatched",
    "sent out",
    "where is",
    "where's",
    "when will",
    "arrive",
    "versandt",
    "verschickt",
    "wo ist",
    "wann kommt",
    "expédiée",
    "expédié",
    "où en est",
    "enviado",
    "dónde está",
    "cuándo llega",
];

const MONEY_OR_RETURN: &[&str] = &[
    "refund",
    "return",
    "exchange",
    "invoice",
    "receipt",
    "charge",
    "payment",
    "rückerstattung",
    "rücksendung",
    "rechnung",
    "rembourse",
    "retour",
    "facture",
    "reembolso",
    "devolución",
    "factura",
];

/// Request forms only: "cancelled", "storniert", "annulée" and "cancelado" report, not ask.
const CANCEL_REQUEST_WORDS: &[&str] = &[
    "cancel",
    "cancellation",
    "cancelation",
    "stornieren",
    "storniere",
    "stornierung",
    "storno",
    "stornoanfrage",
    "annuler",
    "annulez",
    "annulation",
    "cancelar",
    "cancele",
    "cancelen",
    "cancelación",
    "cancelacion",
    "anular",
    "anulen",
];

const NEGATIONS: &[&str] = &[
    "don't", "don’t", "dont", "not", "never", "nicht", "kein", "pas", "no",
];
