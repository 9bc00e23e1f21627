//! The language the customer wrote in, by whatlang's trigram detector restricted to the
//! languages a European web shop receives. Plainly English text (many of English's
//! commonest words) is taken as English without the detector; the rest is read whole, and
//! a text that does not read as English is read again line by line, the language of most
//! words winning, so an English email with a Polish sign-off stays English. Short texts are often ambiguous: when the detector is not sure, plain ASCII is
//! taken as the shop's own English, and accented text keeps a fair guess or stays unknown.

use deskhand_core::Language;
use std::sync::OnceLock;
use whatlang::{Detector, Lang};

/// The languages considered, with their ISO 639-1 codes.
const LANGUAGES: &[(Lang, &str)] = &[
    (Lang::Eng, "en"),
    (Lang::Deu, "de"),
    (Lang::Fra, "fr"),
    (Lang::Spa, "es"),
    (Lang::Ita, "it"),
    (Lang::Nld, "nl"),
    (Lang::Por, "pt"),
    (Lang::Pol, "pl"),
    (Lang::Swe, "sv"),
    (Lang::Dan, "da"),
];

/// Numbers and codes (order and tracking numbers) carry no language and skew trigrams.
fn words(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .collect()
}

/// The language of one stretch of text, if it can be told.
fn detect_one(detector: &Detector, text: &str) -> Option<&'static str> {
    if !text.chars().any(char::is_alphabetic) {
        return None;
    }
    let code = |lang: Lang| {
        LANGUAGES
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, code)| *code)
    };
    let ascii_only = text.chars().all(|c| c.is_ascii() || !c.is_alphabetic());
    // Short texts fool trigram statistics ("Any compensation?" reads as French): for plain
    // ASCII only a reliable detection names another language, else it is the shop's own
    // English. Text with accented letters keeps a fair guess, and is otherwise unknown.
    match detector.detect(text) {
        Some(info) if info.is_reliable() => code(info.lang()),
        _ if ascii_only => Some("en"),
        Some(info) if info.confidence() >= 0.2 => code(info.lang()),
        _ => None,
    }
}

/// English's commonest words. Plain ASCII text in which they are a large share of the words
/// is English without asking the (slower) trigram detector: most of a shop's mail.
const ENGLISH_COMMON: &[&str] = &[
    "the", "and", "my", "is", "to", "you", "it", "of", "for", "not", "has", "have", "i", "a",
    "can", "please", "your", "was", "this", "that", "with", "on", "me", "we", "be", "are", "do",
    "did", "what", "when", "where", "hi", "hello", "thanks", "yet", "still", "would", "could",
    "an", "at", "but", "just", "it's", "i'm", "don't", "no", "any",
];

fn plainly_english(text: &str) -> bool {
    if !text.is_ascii() {
        return false;
    }
    let words: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphabetic() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let common = words
        .iter()
        .filter(|w| ENGLISH_COMMON.contains(&w.as_str()))
        .count();
    words.len() >= 6 && common * 10 >= words.len() * 3
}

/// Detects the language of the customer's words (the subject counts as one more line).
pub fn detect_language(subject: &str, body: &str) -> Option<Language> {
    if plainly_english(body) {
        return Some(Language::english());
    }
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    let detector = DETECTOR
        .get_or_init(|| Detector::with_allowlist(LANGUAGES.iter().map(|(l, _)| *l).collect()));
    // Most mail is read whole, once; only a text that reads as another language is read
    // line by line, so a Polish sign-off under English words does not decide.
    // Sixty words tell a language as well as six hundred, at a tenth of the cost.
    let all = format!("{subject}\n{body}");
    let opening: Vec<&str> = words(&all).into_iter().take(60).collect();
    let whole = detect_one(detector, &opening.join(" "));
    if whole == Some("en") {
        return Some(Language::english());
    }
    let mut votes: Vec<(&'static str, usize)> = Vec::new();
    let stretches: Vec<String> = std::iter::once(subject)
        .chain(body.lines().take(30))
        .map(|line| words(line).join(" "))
        .filter(|line| !line.is_empty())
        .collect();
    for stretch in &stretches {
        let weight = stretch.split_whitespace().count();
        if let Some(code) = detect_one(detector, stretch) {
            match votes.iter_mut().find(|(c, _)| *c == code) {
                Some(entry) => entry.1 += weight,
                None => votes.push((code, weight)),
            }
        }
    }
    // Most words win; ties go to the language seen first.
    let best = votes
        .iter()
        .fold(None::<(&str, usize)>, |best, &(code, n)| match best {
            Some((_, m)) if m >= n => best,
            _ => Some((code, n)),
        })?;
    Language::parse(best.0).ok()
}
