//! The reply guard: every tracking number, amount and date in a composed reply must appear
//! in the observations it was grounded in. A model that invents one is caught here.

use crate::draft::Observation;
use crate::tracking::find_numbers;

/// Something the reply states that no observation supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ungrounded {
    pub kind: &'static str,
    pub value: String,
}

/// Lists what the reply states without support.
pub fn check_reply(reply: &str, observations: &[Observation]) -> Vec<Ungrounded> {
    let evidence: String = observations
        .iter()
        .map(|o| format!("{}\n{}\n", o.text, o.data))
        .collect::<String>()
        .to_ascii_uppercase();
    let evidence_compact: String = evidence
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
    for amount in amounts(reply) {
        if !evidence.contains(&amount) {
            problems.push(Ungrounded {
                kind: "amount",
                value: amount,
            });
        }
    }
    for date in iso_dates(reply) {
        if !evidence.contains(&date) {
            problems.push(Ungrounded {
                kind: "date",
                value: date,
            });
        }
    }
    problems
}

/// `$12.50`, `$3` (as written).
fn amounts(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices('$') {
        let mut end = i + 1;
        while end < bytes.len()
            && (bytes[end].is_ascii_digit() || bytes[end] == b'.' || bytes[end] == b',')
        {
            end += 1;
        }
        let amount = text[i..end].trim_end_matches(['.', ',']);
        if amount.len() > 1 {
            out.push(amount.to_owned());
        }
    }
    out
}

/// `2026-03-04`.
fn iso_dates(text: &str) -> Vec<String> {
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
            out.push(String::from_utf8_lossy(window).into_owned());
        }
    }
    out
}
