//! The reply guard: every tracking number, amount, date, duration and percentage in a
//! composed reply (subject and body) must appear in the observations it was grounded in. A
//! model that invents one is caught here.
//!
//! Values are compared whole and normalised, never as substrings: `$9` is not grounded by
//! evidence of `$9.60`, while `$8`, `8.00 USD` and `€8,00` all state the 800 cents the
//! evidence holds; `March 4`, `4 March 2026` and `2026-03-04` are one date.

mod amounts;
mod dates;
mod quantities;

use crate::draft::Observation;
use crate::tracking::find_numbers;
use amounts::amounts;
use dates::{dates, WrittenDate};
use quantities::{quantities, Unit};
use std::collections::BTreeSet;

/// Something the reply states that no observation supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ungrounded {
    pub kind: &'static str,
    pub value: String,
}

/// Lists what the reply states without support.
pub fn check_reply(reply: &str, observations: &[Observation]) -> Vec<Ungrounded> {
    let evidence = Evidence::of(observations.iter().map(|o| (o.text.as_str(), &o.data)));
    evidence.unsupported(reply)
}

/// Lists what a reply's subject states without support. A subject that repeats the
/// customer's own ("Re: charged $49.99 twice") may state what theirs states; anything else
/// in it is held to the evidence alone (the customer's words are not evidence).
pub fn check_subject(
    subject: &str,
    their_subject: Option<&str>,
    observations: &[Observation],
) -> Vec<Ungrounded> {
    let no_data = serde_json::Value::Null;
    let theirs = their_subject
        .map(without_reply_prefix)
        .filter(|theirs| !theirs.is_empty() && subject.contains(theirs))
        .map(|text| (text, &no_data));
    let evidence = Evidence::of(
        observations
            .iter()
            .map(|o| (o.text.as_str(), &o.data))
            .chain(theirs),
    );
    evidence.unsupported(subject)
}

/// What the evidence states, normalised for comparison.
struct Evidence {
    /// Upper-case letters and digits only: a tracking number however it was spaced.
    compact: String,
    cents: BTreeSet<i64>,
    dates: BTreeSet<WrittenDate>,
    /// "30 days", "20%": the number as written, with what it measures.
    quantities: BTreeSet<(String, Unit)>,
}

impl Evidence {
    fn of<'a>(sources: impl Iterator<Item = (&'a str, &'a serde_json::Value)>) -> Self {
        let mut text = String::new();
        let mut cents = BTreeSet::new();
        let mut limits = BTreeSet::new();
        for (source_text, data) in sources {
            text.push_str(source_text);
            text.push('\n');
            if !data.is_null() {
                text.push_str(&data.to_string());
                text.push('\n');
            }
            collect_cents_fields(data, &mut cents, &mut limits);
        }
        // The observation's text names the customer's budget too ("under $150.00"): an
        // amount that is only a limit they set is no price the shop stated.
        cents.extend(
            amounts(&text)
                .into_iter()
                .filter_map(|amount| amount.cents)
                .filter(|c| !limits.contains(c)),
        );
        Self {
            compact: text
                .to_ascii_uppercase()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect(),
            cents,
            dates: dates(&text).into_iter().map(|(_, date)| date).collect(),
            quantities: quantities(&text)
                .into_iter()
                .map(|(_, number, unit)| (number, unit))
                .collect(),
        }
    }

    fn unsupported(&self, reply: &str) -> Vec<Ungrounded> {
        let mut problems = Vec::new();
        for number in find_numbers(reply).tracking {
            if !self.compact.contains(number.as_str()) {
                problems.push(Ungrounded {
                    kind: "tracking number",
                    value: number.as_str().to_owned(),
                });
            }
        }
        for amount in amounts(reply) {
            if !amount
                .cents
                .is_some_and(|cents| self.cents.contains(&cents))
            {
                problems.push(Ungrounded {
                    kind: "amount",
                    value: amount.written,
                });
            }
        }
        for (written, date) in dates(reply) {
            if !self.dates.iter().any(|known| date.agrees_with(known)) {
                problems.push(Ungrounded {
                    kind: "date",
                    value: written,
                });
            }
        }
        for (written, number, unit) in quantities(reply) {
            if !self.quantities.contains(&(number, unit)) {
                problems.push(Ungrounded {
                    kind: "quantity",
                    value: written,
                });
            }
        }
        problems
    }
}

/// Every integer the shop's data states in cents (`fee_cents`, `amount_cents`,
/// `price_cents`) into `shop`; limits the customer set (`max_price_cents`, a budget) into
/// `limits`: a reply cannot quote them as a price.
fn collect_cents_fields(
    value: &serde_json::Value,
    shop: &mut BTreeSet<i64>,
    limits: &mut BTreeSet<i64>,
) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                if let (true, Some(cents)) = (key.ends_with("_cents"), value.as_i64()) {
                    if key.starts_with("max_") || key.starts_with("min_") {
                        limits.insert(cents);
                    } else {
                        shop.insert(cents);
                    }
                }
                collect_cents_fields(value, shop, limits);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                collect_cents_fields(item, shop, limits);
            }
        }
        _ => {}
    }
}

/// A subject without its "Re:" prefixes, trimmed.
fn without_reply_prefix(subject: &str) -> &str {
    let mut rest = subject.trim();
    while rest.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("re:")) {
        rest = rest[3..].trim_start();
    }
    rest
}
