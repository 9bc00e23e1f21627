//! Product attributes from free text, with the catalog's own vocabulary.

use deskhand_core::product::{eu_to_us, CatalogVocabulary, ProductQuery};

const USE_WORDS: &[&str] = &[
    "running",
    "trail",
    "walking",
    "hiking",
    "basketball",
    "tennis",
    "training",
    "gym",
    "marathon",
    "race",
    "racing",
    "casual",
    "cross-training",
    "everyday",
];

/// Extracts what the customer asked for. Every field may stay empty.
pub fn extract_product_query(text: &str, vocabulary: &CatalogVocabulary) -> ProductQuery {
    let lower = text.to_lowercase();
    let words: Vec<String> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '/' || c == '½'))
        .map(|w| w.trim_matches('.').to_owned())
        .filter(|w| !w.is_empty())
        .collect();
    let has_word = |needle: &str| {
        let needle = needle.to_lowercase();
        if needle.contains(' ') {
            lower.contains(&needle)
        } else {
            words.contains(&needle)
        }
    };

    let brand = vocabulary.brands.iter().find(|b| has_word(b)).cloned();
    // Model words: distinctive words of catalog model names (not numbers, not the brand).
    let mut model_words: Vec<String> = Vec::new();
    for model in &vocabulary.models {
        for word in model.to_lowercase().split_whitespace() {
            let distinctive = word.len() >= 4 && word.chars().any(char::is_alphabetic);
            if distinctive && has_word(word) && !model_words.iter().any(|m| m == word) {
                model_words.push(word.to_owned());
            }
        }
    }
    let color = vocabulary.colors.iter().find(|c| has_word(c)).cloned();
    let material = vocabulary.materials.iter().find(|m| has_word(m)).cloned();
    let width = if lower.contains("extra wide") || lower.contains("extra-wide") {
        Some("4E".to_owned())
    } else if has_word("wide") {
        Some("2E".to_owned())
    } else if has_word("narrow") {
        Some("B".to_owned())
    } else {
        vocabulary
            .widths
            .iter()
            .find(|w| w.len() > 1 && has_word(w))
            .cloned()
    };
    let use_words = USE_WORDS
        .iter()
        .filter(|w| has_word(w))
        .map(|w| (*w).to_owned())
        .collect();
    ProductQuery {
        brand,
        model_words,
        size: parse_size(&lower),
        width,
        color,
        material,
        max_price_cents: parse_max_price(&lower),
        use_words,
    }
}

/// Finds a shoe size: "size 9.5", "size 9 1/2", "9½", "US 10", "EU 43", "a 10.5".
/// Returns a US size.
pub fn parse_size(lower: &str) -> Option<f64> {
    let tokens: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '(' || c == ')')
        .filter(|t| !t.is_empty())
        .collect();
    let number = |token: &str| -> Option<f64> {
        let token = token.trim_end_matches(['.', '?', '!']);
        if let Some(whole) = token.strip_suffix('½') {
            return whole.parse::<f64>().ok().map(|w| w + 0.5);
        }
        token.parse::<f64>().ok()
    };
    let half =
        |token: Option<&&str>| token.is_some_and(|t| t.trim_end_matches(['.', '?', '!']) == "1/2");
    for (i, token) in tokens.iter().enumerate() {
        let (eu, start) = match *token {
            "size" | "sz" | "us" | "usa" => (false, i + 1),
            "eu" | "eur" | "euro" => (true, i + 1),
            _ => continue,
        };
        // "size eu 43", "size us 9"
        let (eu, start) = match tokens.get(start).copied() {
            Some("eu" | "eur") => (true, start + 1),
            Some("us") => (eu, start + 1),
            _ => (eu, start),
        };
        if let Some(value) = tokens.get(start).and_then(|t| number(t)) {
            let value = if half(tokens.get(start + 1)) {
                value + 0.5
            } else {
                value
            };
            let plausible = if eu {
                (35.0..=50.0).contains(&value)
            } else {
                (3.0..=16.0).contains(&value)
            };
            if plausible {
                return Some(if eu { eu_to_us(value) } else { value });
            }
        }
    }
    // "43 EU", "9.5 US"
    for (i, token) in tokens.iter().enumerate().skip(1) {
        if matches!(*token, "eu" | "us") {
            if let Some(value) = number(tokens[i - 1]) {
                if *token == "eu" && (35.0..=50.0).contains(&value) {
                    return Some(eu_to_us(value));
                }
                if *token == "us" && (3.0..=16.0).contains(&value) {
                    return Some(value);
                }
            }
        }
    }
    None
}

/// "under $150", "less than 120 dollars", "max $99.99", "budget is $100".
fn parse_max_price(lower: &str) -> Option<i64> {
    for marker in [
        "under",
        "less than",
        "below",
        "max",
        "maximum",
        "budget",
        "no more than",
        "up to",
    ] {
        let mut rest = lower;
        while let Some(at) = rest.find(marker) {
            let after = &rest[at + marker.len()..];
            let digits: String = after
                .trim_start_matches([' ', ':', '$', 'i', 's', 'o', 'f'])
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            if let Ok(amount) = digits.trim_end_matches('.').parse::<f64>() {
                if (10.0..10_000.0).contains(&amount) {
                    return Some((amount * 100.0).round() as i64);
                }
            }
            rest = after;
        }
    }
    None
}
