//! The language the customer wrote in, by whatlang's trigram detector restricted to the
//! languages a European web shop receives. Each line is read on its own and the language
//! of most words wins, so an English email with a Polish sign-off stays English. Short texts are often ambiguous: when the detector is not sure, plain ASCII is
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

/// Detects the language of the customer's words (the subject counts as one more line).
pub fn detect_language(subject: &str, body: &str) -> Option<Language> {
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
