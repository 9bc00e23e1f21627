//! Precedents: past emails whose labels a reviewer stood behind (an unedited approval, or a
//! correction), shown to a model as worked examples when it classifies a new email.
//!
//! They come from *other* customers, so they never carry what identifies one: addresses,
//! links, every number of three digits or more (orders, tracking, phones, cards, postcodes)
//! and the customer's name are masked, and only the opening words are kept. A precedent
//! teaches a label, not a case.

use crate::{Topic, Urgency};

/// Longest excerpt a precedent keeps, in characters (a cut one ends in `…` besides).
pub const EXCERPT_CHARS: usize = 300;
/// Longest subject a precedent keeps, in characters (likewise).
pub const SUBJECT_CHARS: usize = 120;

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
            subject: cut(&mask(subject.unwrap_or(""), customer_name), SUBJECT_CHARS),
            excerpt: cut(&mask(text, customer_name), EXCERPT_CHARS),
            topic,
            urgency,
        }
    }
}

/// Words that make the words around them a postal address, when a house number is near.
const STREET_WORDS: &[&str] = &[
    "street",
    "st",
    "road",
    "rd",
    "avenue",
    "ave",
    "lane",
    "ln",
    "drive",
    "dr",
    "way",
    "court",
    "ct",
    "place",
    "pl",
    "boulevard",
    "blvd",
    "str",
    "rue",
    "avenida",
    "calle",
    "plaza",
    "piazza",
    "via",
];

/// Endings that make one word a street ("Hauptstraße", "Lindenweg").
const STREET_ENDINGS: &[&str] = &[
    "straße", "strasse", "weg", "gasse", "platz", "allee", "laan", "straat", "gade",
];

fn is_street(key: &str) -> bool {
    STREET_WORDS.contains(&key)
        || STREET_ENDINGS
            .iter()
            .any(|end| key.chars().count() > end.chars().count() + 2 && key.ends_with(end))
}

/// Masks what identifies a person in `text`, by rule; whitespace collapses to single
/// spaces. Masked: email addresses, links and bare domains, every number of three digits
/// or more and every run of three or more number groups (phones written in pairs), the
/// words around a street word (an address), and the customer's own name (also in
/// possessives and double-barrelled names). Not recognised: other people's names.
pub fn mask(text: &str, customer_name: Option<&str>) -> String {
    let names: Vec<String> = customer_name
        .unwrap_or("")
        .split(|c: char| c.is_whitespace() || c == '-')
        .map(word_key)
        .filter(|n| n.chars().count() >= 2)
        .collect();
    let words: Vec<&str> = text.split_whitespace().collect();
    let digits = |w: &str| w.chars().filter(char::is_ascii_digit).count();
    let numeric = |w: &str| {
        digits(w) > 0
            && w.chars()
                .all(|c| c.is_ascii_digit() || "+-().,/".contains(c))
    };
    let mut masked: Vec<Option<&str>> = words.iter().map(|_| None).collect();
    for (i, word) in words.iter().enumerate() {
        let key = word_key(word);
        masked[i] = if word.contains('@') {
            Some("[email]")
        } else if word.contains("://") || key.starts_with("www.") || is_domain(&key) {
            Some("[link]")
        } else if digits(word) >= 3 {
            Some("[number]")
        } else if !key.is_empty() && key.split('-').any(|part| names.iter().any(|n| n == part)) {
            Some("[name]")
        } else {
            masked[i]
        };
        // "+33 6 12 34 56 78": short groups that are one number together.
        let run = words[i..].iter().take_while(|w| numeric(w)).count();
        if run >= 3 && (i == 0 || !numeric(words[i - 1])) {
            for slot in &mut masked[i..i + run] {
                *slot = Some("[number]");
            }
        }
        // "12 North Elm Street, Springfield", "rue de la Paix 4", "Hauptstraße 12": a street
        // word with a house number up to four words before or after it, and all between.
        let number_at = (i.saturating_sub(4)..(i + 5).min(words.len()))
            .find(|&j| j != i && digits(words[j]) > 0);
        if let (true, Some(number)) = (is_street(&key), number_at) {
            let from = number.min(i).saturating_sub(1);
            let to = number.max(i + 1).min(words.len() - 1);
            for slot in &mut masked[from..=to] {
                *slot = Some("[address]");
            }
        }
    }
    let mut out: Vec<&str> = Vec::with_capacity(words.len());
    for (word, mask) in words.iter().zip(masked) {
        let shown = mask.unwrap_or(word);
        // One mask for a run of masked words of one kind.
        if mask.is_some() && out.last() == Some(&shown) {
            continue;
        }
        out.push(shown);
    }
    out.join(" ")
}

/// `shop.example`, `danaruiz.com`: letters, a dot, a short alphabetic ending.
fn is_domain(key: &str) -> bool {
    let Some((head, tld)) = key.rsplit_once('.') else {
        return false;
    };
    head.chars().count() >= 2
        && head.chars().any(char::is_alphabetic)
        && (2..=6).contains(&tld.chars().count())
        && tld.chars().all(|c| c.is_ascii_alphabetic())
}

/// A word without its surrounding punctuation and possessive, lowercased: how names are
/// compared.
fn word_key(word: &str) -> String {
    let key = word
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '.')
        .trim_end_matches('.')
        .to_lowercase();
    for possessive in ["'s", "’s"] {
        if let Some(name) = key.strip_suffix(possessive) {
            return name.to_owned();
        }
    }
    key
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
        assert!(masked.contains("[name] here"), "{masked}");
        assert!(masked.contains("Order [number]"), "{masked}");
    }

    #[test]
    fn phones_in_groups_possessives_domains_and_addresses_are_masked_too() {
        let text = "Call me on +33 6 12 34 56 78. It's Dana's order, Dana Ruiz-Garcia, \
                    ship to 12 North Elm St. Springfield, or Hauptstraße 7 in Köln, \
                    see danaruiz.com";
        let masked = mask(text, Some("Dana Ruiz-Garcia"));
        for leaked in [
            " 12 ", "34 56", "Dana", "Ruiz", "Garcia", "North", "Elm", "Haupt", " 7 ", "danaruiz",
        ] {
            assert!(!masked.contains(leaked), "{leaked} leaked: {masked}");
        }
        assert!(
            masked.contains("[number]") && masked.contains("[address]"),
            "{masked}"
        );
        assert!(masked.contains("[link]"), "{masked}");
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
