//! Precedents: past emails whose labels a reviewer stood behind (an unedited approval, or a
//! correction), shown to a model as worked examples when it classifies a new email.
//!
//! They come from *other* customers, so they never carry what identifies one: addresses,
//! links, every number of three digits or more (orders, tracking, phones, cards, postcodes)
//! and the customer's name are masked, and only the opening words are kept. A precedent
//! teaches a label, not a case.

use crate::{Topic, Urgency};

/// Longest excerpt a precedent keeps, in characters.
pub const EXCERPT_CHARS: usize = 300;

/// One labelled past email, personal data masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precedent {
    pub subject: String,
    pub excerpt: String,
    pub topic: Topic,
    /// When a reviewer vouched for it too (a rejection corrects the topic only).
    pub urgency: Option<Urgency>,
}

impl Precedent {
    /// A precedent from a decided email: subject and text masked, the text cut to
    /// [`EXCERPT_CHARS`] at a word boundary.
    pub fn masked(
        subject: Option<&str>,
        text: &str,
        customer_name: Option<&str>,
        topic: Topic,
        urgency: Option<Urgency>,
    ) -> Self {
        Self {
            subject: mask(subject.unwrap_or(""), customer_name),
            excerpt: cut(&mask(text, customer_name), EXCERPT_CHARS),
            topic,
            urgency,
        }
    }
}

/// Masks what identifies a person in `text`; whitespace collapses to single spaces.
pub fn mask(text: &str, customer_name: Option<&str>) -> String {
    let names: Vec<String> = customer_name
        .unwrap_or("")
        .split_whitespace()
        .map(word_key)
        .filter(|n| n.chars().count() >= 2)
        .collect();
    text.split_whitespace()
        .map(|word| {
            let key = word_key(word);
            if word.contains('@') {
                "[email]"
            } else if word.contains("://") || key.starts_with("www.") {
                "[link]"
            } else if word.chars().filter(char::is_ascii_digit).count() >= 3 {
                "[number]"
            } else if !key.is_empty() && names.contains(&key) {
                "[name]"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A word without its surrounding punctuation, lowercased: how names are compared.
fn word_key(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '.')
        .trim_end_matches('.')
        .to_lowercase()
}

/// At most `max` characters, ending on a whole word, with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max).collect();
    let end = head.rfind(' ').unwrap_or(head.len());
    format!("{}…", head[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_links_numbers_and_the_customers_name_are_masked() {
        let text = "Hi, Dana Ruiz here (dana.ruiz@example.com, +1 415 555 0100). Order #55213, \
                    tracking 1Z999AA10123456784, see https://shop.example/o/55213. Thanks, Dana";
        let masked = mask(text, Some("Dana Ruiz"));
        for leaked in [
            "Dana",
            "Ruiz",
            "dana.ruiz",
            "415",
            "55213",
            "1Z999",
            "https",
        ] {
            assert!(!masked.contains(leaked), "{leaked} leaked: {masked}");
        }
        assert!(masked.contains("[name] [name] here"), "{masked}");
        assert!(masked.contains("Order [number]"), "{masked}");
    }

    #[test]
    fn small_numbers_that_describe_the_request_stay() {
        let masked = mask("Size 9.5, two pairs, 3 weeks late", None);
        assert_eq!(masked, "Size 9.5, two pairs, 3 weeks late");
    }

    #[test]
    fn a_long_email_keeps_its_opening_words_only() {
        let text = "word ".repeat(200);
        let precedent = Precedent::masked(None, &text, None, Topic::Other, Some(Urgency::Low));
        assert!(precedent.excerpt.chars().count() <= EXCERPT_CHARS + 1);
        assert!(
            precedent.excerpt.ends_with("word…"),
            "{}",
            precedent.excerpt
        );
    }
}
