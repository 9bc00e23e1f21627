//! Finds tracking numbers and order numbers in what a customer wrote. Deterministic and
//! shared by both engines: the model never decides which numbers to look up.
//!
//! Tolerant of case, spaces and dashes inside a number ("1z 999 aa1-0123 4567 84").
//! Carrier formats are recognised anywhere; a plain run of digits counts only near a word
//! like "tracking" or "parcel", so phone numbers and prices are left alone.

use serde::{Deserialize, Serialize};

/// A tracking number in its normal form (upper case, no separators).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackingNumber(String);

impl TrackingNumber {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Normalises a number as written (e.g. from a dataset or the store).
    pub fn normalise(raw: &str) -> Self {
        Self(
            raw.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        )
    }
}

/// Which format a number matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    Ups,
    Usps,
    FedEx,
    Dhl,
}

/// The numbers found in one email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoundNumbers {
    pub tracking: Vec<TrackingNumber>,
    pub orders: Vec<String>,
}

impl FoundNumbers {
    pub fn is_empty(&self) -> bool {
        self.tracking.is_empty() && self.orders.is_empty()
    }
}

const TRACKING_WORDS: &[&str] = &[
    "tracking",
    "track",
    "trace",
    "parcel",
    "package",
    "ups",
    "fedex",
    "usps",
    "dhl",
    "courier",
    "delivery",
    "shipment",
    "consignment",
    "waybill",
    "awb",
    "sendung",
    "colis",
    "paquete",
];

/// Whether a format is distinctive on its own. All-digit formats other than USPS's long
/// 9… numbers look like phone numbers or amounts, so they need a tracking word nearby.
fn self_evident(candidate: &str) -> bool {
    !candidate.bytes().all(|b| b.is_ascii_digit())
        || (candidate.len() >= 20 && candidate.starts_with('9'))
}

/// A date written with dashes or slashes (2026-03-12, 12/03/2026) is never a number to track.
fn date_shaped(pieces: &[&str]) -> bool {
    let lengths: Vec<usize> = pieces.iter().map(|p| p.len()).collect();
    matches!(
        lengths.as_slice(),
        [4, 1..=2, 1..=2] | [1..=2, 1..=2, 4] | [1..=2, 1..=2, 2]
    )
}

/// The carrier format of a normalised candidate, if any.
pub fn carrier_of(candidate: &str) -> Option<Carrier> {
    let bytes = candidate.as_bytes();
    let all_digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let len = bytes.len();
    if len == 18 && candidate.starts_with("1Z") && bytes[2..].iter().all(u8::is_ascii_alphanumeric)
    {
        return Some(Carrier::Ups);
    }
    // USPS international / registered: two letters, nine digits, two letters (EA123456789US).
    if len == 13
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && all_digits(&bytes[2..11])
        && bytes[11..].iter().all(u8::is_ascii_uppercase)
    {
        return Some(Carrier::Usps);
    }
    // DHL eCommerce: JD/JJD plus digits; GM plus digits.
    if (candidate.starts_with("JJD") && all_digits(&bytes[3..]) && (10..=20).contains(&(len - 3)))
        || (candidate.starts_with("JD") && all_digits(&bytes[2..]) && len == 20)
        || (candidate.starts_with("GM") && all_digits(&bytes[2..]) && (16..=22).contains(&len))
    {
        return Some(Carrier::Dhl);
    }
    if all_digits(bytes) {
        return match len {
            20..=22 if bytes[0] == b'9' => Some(Carrier::Usps),
            12 | 15 | 20 | 22 => Some(Carrier::FedEx),
            10 | 11 => Some(Carrier::Dhl),
            _ => None,
        };
    }
    None
}

struct Token<'a> {
    text: &'a str,
    start: usize,
    end: usize,
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_ascii_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            out.push(Token {
                text: &text[s..i],
                start: s,
                end: i,
            });
        }
    }
    if let Some(s) = start {
        out.push(Token {
            text: &text[s..],
            start: s,
            end: text.len(),
        });
    }
    out
}

/// Tokens may be glued when only one or two spaces or dashes separate them.
fn joinable(text: &str, left: &Token<'_>, right: &Token<'_>) -> bool {
    let gap = &text[left.end..right.start];
    !gap.is_empty() && gap.len() <= 2 && gap.chars().all(|c| c == ' ' || c == '-')
}

fn near_tracking_word(lower: &str, start: usize, end: usize) -> bool {
    let from = lower.floor_char_boundary_compat(start.saturating_sub(40));
    let to = lower.ceil_char_boundary_compat((end + 10).min(lower.len()));
    let window = &lower[from..to];
    TRACKING_WORDS.iter().any(|w| window.contains(w))
}

trait CharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
    fn ceil_char_boundary_compat(&self, i: usize) -> usize;
}
impl CharBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while i > 0 && !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
    fn ceil_char_boundary_compat(&self, mut i: usize) -> usize {
        while i < self.len() && !self.is_char_boundary(i) {
            i += 1;
        }
        i
    }
}

/// Finds tracking numbers and order numbers, each once, in order of appearance.
pub fn find_numbers(text: &str) -> FoundNumbers {
    // ASCII lower-casing keeps byte offsets, so token positions index both strings.
    let lower = text.to_ascii_lowercase();
    let tokens = tokens(text);
    // An email that already quotes a carrier-format number is about tracking: bare digit
    // numbers in it count too.
    let quotes_tracking = tokens.iter().any(|t| {
        let upper = t.text.to_ascii_uppercase();
        carrier_of(&upper).is_some() && self_evident(&upper)
    });
    let mut found = FoundNumbers::default();
    let mut consumed = vec![false; tokens.len()];

    let mut i = 0;
    while i < tokens.len() {
        // Longest glued run starting at i that is a tracking number.
        let mut best: Option<(usize, String)> = None;
        let mut glued = String::new();
        let mut pieces: Vec<&str> = Vec::new();
        let mut j = i;
        while j < tokens.len() && glued.len() <= 34 {
            if j > i && !joinable(text, &tokens[j - 1], &tokens[j]) {
                break;
            }
            let piece = tokens[j].text.to_ascii_uppercase();
            // Only the first piece may carry letters (1Z…, EA…US is one token); later pieces
            // of a glued number are digits or UPS alphanumerics.
            if j > i && !(glued.starts_with("1Z") || piece.bytes().all(|b| b.is_ascii_digit())) {
                break;
            }
            glued.push_str(&piece);
            pieces.push(tokens[j].text);
            let digits = glued.bytes().all(|b| b.is_ascii_digit());
            let plausible =
                carrier_of(&glued).is_some() || (digits && (8..=30).contains(&glued.len()));
            if plausible && !date_shaped(&pieces) {
                let evident = carrier_of(&glued).is_some() && self_evident(&glued);
                if evident
                    || quotes_tracking
                    || near_tracking_word(&lower, tokens[i].start, tokens[j].end)
                {
                    best = Some((j, glued.clone()));
                }
            }
            j += 1;
        }
        if let Some((last, number)) = best {
            let number = TrackingNumber(number);
            if !found.tracking.contains(&number) {
                found.tracking.push(number);
            }
            for flag in consumed.iter_mut().take(last + 1).skip(i) {
                *flag = true;
            }
            i = last + 1;
        } else {
            i += 1;
        }
    }

    // Order numbers: after "order" (+ "number"/"no"/"#"), or "#12345" on its own.
    for (index, token) in tokens.iter().enumerate() {
        if consumed[index] {
            continue;
        }
        let is_candidate = (4..=12).contains(&token.text.len())
            && token.text.bytes().any(|b| b.is_ascii_digit())
            && token.text.bytes().all(|b| b.is_ascii_alphanumeric());
        if !is_candidate {
            continue;
        }
        let before = &text[..token.start];
        let before_lower = before.to_ascii_lowercase();
        let trimmed = before_lower.trim_end_matches([' ', ':', '.', '-']);
        let hash = trimmed.ends_with('#');
        let trimmed = trimmed
            .trim_end_matches('#')
            .trim_end_matches([' ', ':', '.']);
        let after_order_word = [
            "order",
            "order number",
            "order no",
            "order nr",
            "order num",
            "bestellung",
            "commande",
            "pedido",
        ]
        .iter()
        .any(|w| trimmed.ends_with(w));
        let digits_only = token.text.bytes().all(|b| b.is_ascii_digit());
        if after_order_word || (hash && digits_only) {
            let order = token.text.to_ascii_uppercase();
            if !found.orders.contains(&order) {
                found.orders.push(order);
            }
        }
    }
    found
}
