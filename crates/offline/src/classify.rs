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
];

const THANKS: &[&str] = &["thank you", "thanks", "thx", "much appreciated", "got it"];

const TOPIC_WORDS: &[(Topic, &[&str])] = &[
    (
        Topic::DeliveryDelay,
        &[
            "where is my order",
            "where is my package",
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
    scores.sort_by_key(|&(_, score)| std::cmp::Reverse(score));
    let (topic, best) = scores[0];
    let second = scores[1].1;

    let automated = NO_REPLY.iter().any(|p| text.contains(p));
    let only_thanks = best == 0
        && THANKS.iter().any(|p| text.contains(p))
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
