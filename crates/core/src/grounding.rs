//! The reply guard: every tracking number, amount and date in a composed reply (subject and
//! body) must appear in the observations it was grounded in. A model that invents one is
//! caught here.
//!
//! Values are compared whole and normalised, never as substrings: `$9` is not grounded by
//! evidence of `$9.60`, while `$8`, `8.00 USD` and `€8,00` all state the 800 cents the
//! evidence holds; `March 4`, `4 March 2026` and `2026-03-04` are one date.

use crate::draft::Observation;
use crate::tracking::find_numbers;
use std::collections::BTreeSet;

/// Something the reply states that no observation supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ungrounded {
    pub kind: &'static str,
    pub value: String,
}

/// Lists what the reply states without support.
pub fn check_reply(reply: &str, observations: &[Observation]) -> Vec<Ungrounded> {
    let mut evidence_text = String::new();
    let mut evidence_cents = BTreeSet::new();
    for observation in observations {
        evidence_text.push_str(&observation.text);
        evidence_text.push('\n');
        evidence_text.push_str(&observation.data.to_string());
        evidence_text.push('\n');
        collect_cents_fields(&observation.data, &mut evidence_cents);
    }
    evidence_cents.extend(amounts(&evidence_text).into_iter().map(|(_, cents)| cents));
    let evidence_dates: BTreeSet<(u8, u8)> = dates(&evidence_text)
        .into_iter()
        .map(|(_, month_day)| month_day)
        .collect();
    let evidence_compact: String = evidence_text
        .to_ascii_uppercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();

    let mut problems = Vec::new();
    for number in find_numbers(reply).tracking {
        if !evidence_compact.contains(number.as_str()) {
            problems.push(Ungrounded {
                kind: "tracking number",
                value: number.as_str().to_owned(),
            });
        }
    }
    for (written, cents) in amounts(reply) {
        if !evidence_cents.contains(&cents) {
            problems.push(Ungrounded {
                kind: "amount",
                value: written,
            });
        }
    }
    for (written, month_day) in dates(reply) {
        if !evidence_dates.contains(&month_day) {
            problems.push(Ungrounded {
                kind: "date",
                value: written,
            });
        }
    }
    problems
}

/// Every integer under a key ending in `_cents` (`fee_cents`, `amount_cents`).
fn collect_cents_fields(value: &serde_json::Value, out: &mut BTreeSet<i64>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                if key.ends_with("_cents") {
                    if let Some(cents) = value.as_i64() {
                        out.insert(cents);
                    }
                }
                collect_cents_fields(value, out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                collect_cents_fields(item, out);
            }
        }
        _ => {}
    }
}

const CURRENCY_SYMBOLS: [char; 3] = ['$', '€', '£'];
const CURRENCY_CODES: [&str; 4] = ["USD", "EUR", "GBP", "CHF"];

/// Money amounts as written and in cents: `$12.50`, `$3`, `€8,00`, `12.50 USD`,
/// `USD 12.50`, `8,00 €`.
fn amounts(text: &str) -> Vec<(String, i64)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && is_number_char(chars[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_number_char(chars[i]) {
            i += 1;
        }
        let mut end = i;
        while end > start && matches!(chars[end - 1], '.' | ',') {
            end -= 1;
        }
        let number: String = chars[start..end].iter().collect();
        let before: String = chars[start.saturating_sub(4)..start].iter().collect();
        let after: String = chars[end..(end + 4).min(chars.len())].iter().collect();
        let symbol_before = before.trim_end().ends_with(CURRENCY_SYMBOLS);
        let code_before = CURRENCY_CODES
            .iter()
            .any(|c| before.trim_end().to_ascii_uppercase().ends_with(c));
        let after = after.trim_start();
        let marked_after = after.starts_with(CURRENCY_SYMBOLS)
            || CURRENCY_CODES
                .iter()
                .any(|c| after.to_ascii_uppercase().starts_with(c));
        if symbol_before || code_before || marked_after {
            if let Some(cents) = to_cents(&number) {
                let written = if symbol_before {
                    let symbol = before.trim_end().chars().last().unwrap_or('$');
                    format!("{symbol}{number}")
                } else {
                    number.clone()
                };
                out.push((written, cents));
            }
        }
    }
    out
}

fn is_number_char(c: char) -> bool {
    c.is_ascii_digit() || c == '.' || c == ','
}

/// `12.50`, `12,50`, `1,234.56`, `1.234,56`, `8` → cents. The last separator followed by
/// exactly two digits is the decimal one.
fn to_cents(number: &str) -> Option<i64> {
    let last_separator = number.rfind(['.', ',']);
    let (whole, fraction) = match last_separator {
        Some(at) if number.len() - at - 1 == 2 => (&number[..at], &number[at + 1..]),
        _ => (number, ""),
    };
    let whole: String = whole.chars().filter(char::is_ascii_digit).collect();
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    whole.checked_mul(100)?.checked_add(fraction)
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Dates as written and as (month, day): `2026-03-04`, `March 4`, `Mar 4th`, `4 March`.
fn dates(text: &str) -> Vec<(String, (u8, u8))> {
    let mut out = iso_dates(text);
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let month_of = |word: &str| {
        let word = word.trim_end_matches('.').to_lowercase();
        (word.len() >= 3)
            .then(|| {
                MONTHS
                    .iter()
                    .position(|m| m.starts_with(&word) && (word.len() == 3 || *m == word))
            })
            .flatten()
            .map(|m| m as u8 + 1)
    };
    let day_of = |word: &str| {
        let digits: String = word
            .trim_end_matches(['.', ';', ':', ')'])
            .trim_end_matches("st")
            .trim_end_matches("nd")
            .trim_end_matches("rd")
            .trim_end_matches("th")
            .to_owned();
        digits
            .parse::<u8>()
            .ok()
            .filter(|d| (1..=31).contains(d) && digits.len() <= 2)
    };
    for (i, word) in words.iter().enumerate() {
        let Some(month) = month_of(word) else {
            continue;
        };
        if let Some(day) = words.get(i + 1).and_then(|w| day_of(w)) {
            out.push((format!("{word} {}", words[i + 1]), (month, day)));
        } else if let Some(day) = i.checked_sub(1).and_then(|b| day_of(words[b])) {
            out.push((format!("{} {word}", words[i - 1]), (month, day)));
        }
    }
    out
}

/// `2026-03-04` → (3, 4).
fn iso_dates(text: &str) -> Vec<(String, (u8, u8))> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    if bytes.len() < 10 {
        return out;
    }
    for i in 0..=bytes.len() - 10 {
        let window = &bytes[i..i + 10];
        let shape = window.iter().enumerate().all(|(k, b)| {
            if k == 4 || k == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
        let bounded = (i == 0 || !bytes[i - 1].is_ascii_digit())
            && (i + 10 == bytes.len() || !bytes[i + 10].is_ascii_digit());
        if shape && bounded {
            let written = String::from_utf8_lossy(window).into_owned();
            let month = written[5..7].parse().unwrap_or(0);
            let day = written[8..10].parse().unwrap_or(0);
            out.push((written, (month, day)));
        }
    }
    out
}
