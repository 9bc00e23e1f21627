//! Keyword rules over the customer's own words (quotes already stripped).

use deskhand_core::email::InboundEmail;
use deskhand_core::ports::Classified;
use deskhand_core::{Topic, Urgency};

/// Phrases that make an email urgent, with the reason a lead sees.
const URGENT: &[(&str, &str)] = &[
    ("lawyer", "legal threat"),
    ("attorney", "legal threat"),
    ("legal action", "legal threat"),
    ("sue you", "legal threat"),
    ("small claims", "legal threat"),
    ("chargeback", "chargeback threat"),
    ("charge back", "chargeback threat"),
    ("injur", "injury or safety"),
    ("hospital", "injury or safety"),
    ("unsafe", "injury or safety"),
    ("burn", "injury or safety"),
    ("fourth time", "fourth time asking"),
    ("4th time", "fourth time asking"),
    ("better business bureau", "public complaint threat"),
    ("journalist", "press inquiry"),
    ("on the record", "press inquiry"),
];

const NO_REPLY: &[&str] = &[
    "out of office",
    "out-of-office",
    "automatic reply",
    "auto-reply",
    "autoreply",
    "unsubscribe",
    "newsletter",
    "this is an automated message",
    "undeliverable",
    "delivery has failed to these recipients",
    "your message was read",
    "you have been invited to the following event",
    "claim your prize",
    "you have been selected as the winner",
];

const THANKS: &[&str] = &["thank you", "thanks", "thx", "much appreciated", "got it"];

/// Whole replies that only acknowledge ("ok", "👍").
const ACKNOWLEDGEMENTS: &[&str] = &[
    "ok", "okay", "ok.", "okay.", "ok!", "👍", "great", "perfect",
];

const TOPIC_WORDS: &[(Topic, &[&str])] = &[
    (
        Topic::DeliveryDelay,
        &[
            "where is my order",
            "where is my package",
            "where's",
            "arrive",
            "arriving",
            "on its way",
            // The languages customers write in most after English.
            "lieferung",
            "paket",
            "verspätet",
            "colis",
            "en retard",
            "pedido",
            "retras",
            "tracking",
            "package",
            "parcel",
            "delivery",
            "delivered",
            "shipped",
            "shipping",
            "hasn't arrived",
            "has not arrived",
            "not arrived",
            "still waiting",
            "late",
            "delayed",
            "delay",
            "courier",
            "ups",
            "fedex",
            "usps",
            "dhl",
        ],
    ),
    (
        Topic::ProductAvailabilityOrRecommendation,
        &[
            "in stock",
            "available",
            "availability",
            "do you have",
            "do you carry",
            "size",
            "restock",
            "back in stock",
            "recommend",
            "do you sell",
            "looking for",
            "which shoe",
            "wide",
            "color",
            "colour",
        ],
    ),
    (
        Topic::BillingDispute,
        &[
            "charged twice",
            "charged me twice",
            "charged me double",
            "charged me two times",
            "billed me twice",
            "charged double",
            "charged again",
            "refund",
            "double charged",
            "double charge",
            "overcharged",
            "wrong amount",
            "dispute",
            "unauthorized",
            "refund my money",
            "billed twice",
            "difference back",
            "price dropped",
            "price drop",
        ],
    ),
    (
        Topic::TransactionInquiry,
        &[
            "invoice",
            "receipt",
            "payment",
            "order confirmation",
            "my order number",
            "cancel my order",
            "change my order",
            "return",
            "exchange",
            "refund status",
            "get my refund",
            "promo code",
            "discount code",
            "gift card",
            "confirmation",
            "checkout",
        ],
    ),
];

/// Labels an email with rules. Deterministic: the same email always gets the same labels.
pub fn classify(email: &InboundEmail) -> Classified {
    let subject = email.subject.as_deref().unwrap_or("");
    // A reply's subject repeats the first email's topic; only a fresh subject speaks for
    // this email.
    let fresh_subject = !subject.trim_start().to_lowercase().starts_with("re:");
    let text = if fresh_subject {
        format!("{subject}\n{}", email.body.readable).to_lowercase()
    } else {
        email.body.readable.to_lowercase()
    };

    let urgent_reason = URGENT
        .iter()
        .find(|(phrase, _)| text.contains(phrase))
        .map(|(_, reason)| (*reason).to_owned());

    let mut scores: Vec<(Topic, usize)> = TOPIC_WORDS
        .iter()
        .map(|(topic, words)| (*topic, words.iter().filter(|w| text.contains(*w)).count()))
        .collect();
    // A carrier-format tracking number is the strongest sign of a delivery question.
    if !deskhand_core::tracking::find_numbers(&text)
        .tracking
        .is_empty()
    {
        if let Some(delivery) = scores.iter_mut().find(|(t, _)| *t == Topic::DeliveryDelay) {
            delivery.1 += 2;
        }
    }
    scores.sort_by_key(|&(_, score)| std::cmp::Reverse(score));
    let (topic, best) = scores[0];
    let second = scores[1].1;

    // An automated phrase in the subject marks the whole email; in the body only when the
    // email asks nothing else (a customer may mention the newsletter in a real request).
    let automated = NO_REPLY
        .iter()
        .any(|p| subject.to_lowercase().contains(p) || (best == 0 && text.contains(p)));
    let readable = email.body.readable.trim().to_lowercase();
    let only_thanks = best == 0
        && (THANKS.iter().any(|p| text.contains(p))
            || ACKNOWLEDGEMENTS.contains(&readable.as_str()))
        && email.body.readable.chars().count() < 200;
    let needs_reply = !(automated || only_thanks);

    let (topic, confidence) = if best == 0 {
        (Topic::Other, if needs_reply { 0.5 } else { 0.9 })
    } else {
        let margin = (best - second) as f64;
        (topic, (0.6 + 0.1 * margin + 0.05 * best as f64).min(0.95))
    };
    let multiple_requests = best >= 2 && second >= 2 && topic != Topic::Other;
    let urgency = match (&urgent_reason, topic) {
        (Some(_), _) => Urgency::Urgent,
        (None, Topic::BillingDispute) => Urgency::High,
        (None, _) if text.contains("asap") || text.contains("urgent") => Urgency::High,
        (None, Topic::Other) => Urgency::Low,
        (None, _) => Urgency::Medium,
    };
    Classified {
        topic,
        urgency,
        confidence,
        needs_reply,
        multiple_requests,
        summary: summarise(subject, &email.body.readable),
        urgent_reason,
    }
}

/// A one-line summary: the subject, or the first sentence, bounded.
fn summarise(subject: &str, readable: &str) -> String {
    let source = if subject.trim().is_empty() {
        readable
    } else {
        subject
    };
    let line = source
        .split(['\n', '.', '?', '!'])
        .find(|s| !s.trim().is_empty())
        .unwrap_or("");
    let mut summary: String = line.trim().chars().take(120).collect();
    if summary.is_empty() {
        summary.push_str("(no text)");
    }
    format!("Customer wrote: {summary}")
}
