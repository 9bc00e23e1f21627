//! The shop's knowledge base: policy pages split into passages, and a retrieval index over
//! them, so a policy question ("can I return worn shoes?") is answered from the passage
//! that states the policy, cited by file and heading.
//!
//! Pure: the pages are read by the caller; the index is built and searched in memory
//! (a shop's policies are tens to hundreds of passages). Retrieval is BM25 over lightly
//! stemmed words, with a few everyday synonyms folded into the shop's words ("swap" is an
//! exchange, "voucher" a discount); deterministic, and measured in `docs/knowledge.md`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Where a passage comes from: its file and its heading (`returns.md#Return window`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PassageSource {
    pub file: String,
    pub heading: String,
}

impl fmt::Display for PassageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.file, self.heading)
    }
}

/// One section of a policy page: what a reply may quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    pub source: PassageSource,
    /// The page's title (`# Returns`), for context.
    pub page_title: String,
    /// The section's text, without its heading.
    pub text: String,
}

/// Splits a Markdown page into passages at its `## ` headings. Text before the first
/// `## ` (the title and the page's introduction) is no passage: it states no policy.
/// Deeper headings (`### `) stay inside their section.
pub fn split_markdown(file: &str, markdown: &str) -> Vec<Passage> {
    let mut page_title = String::new();
    let mut passages = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    let mut flush = |current: Option<(String, Vec<&str>)>, page_title: &str| {
        if let Some((heading, lines)) = current {
            let text = lines.join("\n").trim().to_owned();
            if !text.is_empty() {
                passages.push(Passage {
                    source: PassageSource {
                        file: file.to_owned(),
                        heading,
                    },
                    page_title: page_title.to_owned(),
                    text,
                });
            }
        }
    };
    for line in markdown.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            flush(current.take(), &page_title);
            current = Some((heading.trim().to_owned(), Vec::new()));
        } else if let Some(title) = line.strip_prefix("# ") {
            if current.is_none() && page_title.is_empty() {
                page_title = title.trim().to_owned();
            }
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    flush(current.take(), &page_title);
    passages
}

/// When a passage of the knowledge base answers a policy question.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeSettings {
    /// The best passage's retrieval score (BM25) below which the question goes to a person
    /// with "no policy found" (`docs/knowledge.md`: how it was chosen).
    pub min_score: f64,
    /// How far the best passage must lead the next, as a share of its score: two passages
    /// that fit about as well mean the question is not clearly about either.
    pub min_margin: f64,
    /// A second passage is cited too when it scores at least this share of the best.
    pub second_passage_ratio: f64,
}

impl Default for KnowledgeSettings {
    fn default() -> Self {
        Self {
            min_score: 12.0,
            min_margin: 0.1,
            second_passage_ratio: 1.0,
        }
    }
}

/// How many of the best passages a search found are cited (0: none clears the bar). A
/// second passage nearly as good as the first (`second_passage_ratio`) is cited with it:
/// the question spans two sections. What is cited must score at least `min_score` and
/// lead the first passage left out by `min_margin` of its score: two passages that fit
/// about as well as a third mean the question is not clearly about any of them.
pub fn passages_to_cite(found: &[ScoredPassage], settings: &KnowledgeSettings) -> usize {
    let Some(best) = found.first() else {
        return 0;
    };
    let cited = if found
        .get(1)
        .is_some_and(|second| second.score >= best.score * settings.second_passage_ratio)
    {
        2
    } else {
        1
    };
    let last = &found[cited - 1];
    let lead = found
        .get(cited)
        .map_or(1.0, |next| (last.score - next.score) / last.score);
    if best.score >= settings.min_score && lead >= settings.min_margin {
        cited
    } else {
        0
    }
}

/// A passage a search found, with its BM25 score (higher is better; not bounded).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPassage {
    pub passage: Passage,
    pub score: f64,
}

/// The knowledge base as the graph sees it: a search over the shop's passages.
pub trait Knowledge: Send + Sync + fmt::Debug {
    /// The best `limit` passages for a question, best first; empty when nothing shares a
    /// word with it.
    fn search(&self, question: &str, limit: usize) -> Vec<ScoredPassage>;
    /// How many passages there are to search; zero when the shop has no knowledge base.
    fn passages(&self) -> usize;
}

/// A BM25 index over passages.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeIndex {
    passages: Vec<Passage>,
    /// Per passage: term → frequency (the heading's terms count three times: a
    /// heading names what its section is about).
    frequencies: Vec<BTreeMap<String, u32>>,
    lengths: Vec<f64>,
    average_length: f64,
    /// term → inverse document frequency.
    idf: BTreeMap<String, f64>,
}

/// BM25's usual constants: term-frequency saturation and length normalisation.
const K1: f64 = 1.2;
const B: f64 = 0.75;

impl KnowledgeIndex {
    pub fn build(passages: Vec<Passage>) -> Self {
        let frequencies: Vec<BTreeMap<String, u32>> = passages
            .iter()
            .map(|p| {
                let mut counts = BTreeMap::new();
                let heading = terms(&p.source.heading);
                let body = terms(&p.text);
                for term in heading.iter().chain(&heading).chain(&heading).chain(&body) {
                    *counts.entry(term.clone()).or_insert(0) += 1;
                }
                counts
            })
            .collect();
        let lengths: Vec<f64> = frequencies
            .iter()
            .map(|f| f64::from(f.values().sum::<u32>()))
            .collect();
        let count = passages.len() as f64;
        let average_length = if passages.is_empty() {
            0.0
        } else {
            lengths.iter().sum::<f64>() / count
        };
        let mut containing: BTreeMap<String, f64> = BTreeMap::new();
        for f in &frequencies {
            for term in f.keys() {
                *containing.entry(term.clone()).or_insert(0.0) += 1.0;
            }
        }
        let idf = containing
            .into_iter()
            .map(|(term, n)| (term, ((count - n + 0.5) / (n + 0.5) + 1.0).ln()))
            .collect();
        Self {
            passages,
            frequencies,
            lengths,
            average_length,
            idf,
        }
    }

    pub fn passages(&self) -> &[Passage] {
        &self.passages
    }

    pub fn search(&self, question: &str, limit: usize) -> Vec<ScoredPassage> {
        // Each distinct word of the question counts once (a customer repeating "return"
        // five times in a story is not five times as sure), and twice when it is in the
        // sentence that asks: the story around a question is context, the question is
        // what the passage must answer.
        let mut query: BTreeMap<String, f64> = BTreeMap::new();
        for (sentence, asks) in sentences(question) {
            let weight = if asks { 2.0 } else { 1.0 };
            for term in terms(sentence) {
                if self.idf.contains_key(&term) {
                    let w = query.entry(term).or_insert(weight);
                    *w = w.max(weight);
                }
            }
        }
        if query.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(usize, f64)> = self
            .frequencies
            .iter()
            .enumerate()
            .map(|(i, frequencies)| {
                let norm = K1 * (1.0 - B + B * self.lengths[i] / self.average_length.max(1.0));
                let score = query
                    .iter()
                    .filter_map(|(t, weight)| {
                        let tf = f64::from(*frequencies.get(t)?);
                        Some(weight * self.idf[t] * tf * (K1 + 1.0) / (tf + norm))
                    })
                    .sum::<f64>();
                (i, score)
            })
            .filter(|(_, score)| *score > 0.0)
            .collect();
        // Ties keep the pages' order, so the result is the same on every run.
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored
            .into_iter()
            .take(limit)
            .map(|(i, score)| ScoredPassage {
                passage: self.passages[i].clone(),
                score,
            })
            .collect()
    }
}

impl Knowledge for KnowledgeIndex {
    fn search(&self, question: &str, limit: usize) -> Vec<ScoredPassage> {
        KnowledgeIndex::search(self, question, limit)
    }
    fn passages(&self) -> usize {
        self.passages.len()
    }
}

/// Words that carry no policy ("the", "can", "please") and the shop's own name for itself.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anything",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "hello",
    "hi",
    "how",
    "i",
    "i'm",
    "if",
    "in",
    "is",
    "it",
    "it's",
    "its",
    "just",
    "know",
    "let",
    "like",
    "me",
    "my",
    "no",
    "not",
    "of",
    "on",
    "or",
    "our",
    "please",
    "regards",
    "so",
    "some",
    "still",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "they",
    "this",
    "to",
    "too",
    "u",
    "up",
    "us",
    "very",
    "want",
    "was",
    "we",
    "what",
    "when",
    "where",
    "which",
    "who",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "dear",
    "kind",
    "best",
    "cheers",
    "hey",
    "im",
    "ive",
    "i've",
    "one",
    "much",
    "many",
    "more",
    "need",
    "should",
    "there's",
    "way",
    "long",
    "stuff",
    "thing",
    "things",
    "guys",
    "really",
    "sure",
    "wondering",
    "question",
    "quick",
    "iphone",
    "ipad",
    "android",
    "sent",
    "mobile",
    "hope",
    "well",
    "ok",
    "okay",
    "yes",
    "yeah",
    "lol",
    "pls",
    "plz",
    "thx",
    "ty",
    "ur",
    "r",
    "im",
    "dont",
    "don't",
    "cant",
    "can't",
    "bit",
    "maybe",
    "already",
    "again",
    "even",
    "ever",
    "every",
    "here",
    "these",
    "those",
    "than",
    "into",
    "out",
    "over",
    "only",
    "own",
    "same",
    "other",
    "such",
    "few",
    "most",
    "both",
    "each",
    "while",
    "because",
    "through",
    "during",
    "until",
    "since",
    "though",
];

/// Words that open a question ("can I ...", "do you ...").
const QUESTION_OPENERS: &[&str] = &[
    "can",
    "could",
    "do",
    "does",
    "is",
    "are",
    "how",
    "what",
    "when",
    "where",
    "which",
    "will",
    "would",
    "may",
    "why",
    "who",
    "if",
    "wondering",
    "wonder",
];

/// The text's sentences, each with whether it asks: it ends in a question mark or opens
/// with a question word. Lines count as sentences (many customers skip the full stop).
fn sentences(text: &str) -> impl Iterator<Item = (&str, bool)> {
    text.split_inclusive(['.', '?', '!', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let first = s
                .split(|c: char| !c.is_alphanumeric() && c != '\'')
                .find(|w| !w.is_empty())
                .unwrap_or("")
                .to_lowercase();
            let asks = s.ends_with('?') || QUESTION_OPENERS.contains(&first.as_str());
            (s, asks)
        })
}

/// Everyday phrases for what the pages name in one word ("send them back" is a return).
const PHRASES: &[(&str, &str)] = &[
    (" send back ", " return "),
    (" send them back ", " return "),
    (" send it back ", " return "),
    (" sent back ", " return "),
    (" sent them back ", " return "),
    (" bring back ", " return "),
    (" take back ", " return "),
    (" money back ", " refund "),
    (" pay back ", " refund "),
    (" e mail ", " email "),
    (" gift card ", " giftcard "),
    (" gift cards ", " giftcard "),
    (" po box ", " pobox "),
];

/// Irregular forms the stemmer cannot reach.
const IRREGULAR: &[(&str, &str)] = &[
    ("ran", "run"),
    ("wore", "wear"),
    ("worn", "wear"),
    ("bought", "buy"),
    ("paid", "pay"),
    ("sent", "send"),
    ("took", "take"),
    ("lost", "lose"),
    ("gave", "give"),
    ("given", "give"),
];

/// Everyday words folded into the words the shop's pages use.
const SYNONYMS: &[(&str, &str)] = &[
    ("swap", "exchange"),
    ("switch", "exchange"),
    ("postage", "shipping"),
    ("post", "shipping"),
    ("ship", "shipping"),
    ("voucher", "discount"),
    ("promo", "discount"),
    ("coupon", "discount"),
    ("trainer", "shoe"),
    ("sneaker", "shoe"),
    ("overseas", "international"),
    ("abroad", "international"),
    ("installment", "instalment"),
    ("colour", "color"),
    ("cancellation", "cancel"),
    ("refunded", "refund"),
    ("pw", "password"),
    ("login", "account"),
    ("newsletter", "marketing"),
    ("faulty", "defect"),
    ("broken", "defect"),
    ("damaged", "defect"),
    ("guarantee", "warranty"),
    ("tax", "vat"),
    ("duty", "customs"),
    ("duties", "customs"),
];

/// The words of a text as the index compares them: lower case, stop words dropped,
/// everyday synonyms folded, endings trimmed so "returns", "returned" and "returning" meet.
fn terms(text: &str) -> Vec<String> {
    // Punctuation to spaces first, so "send them back," meets its phrase.
    let spaced: String = text
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let mut lower = format!(
        " {} ",
        spaced.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    for (phrase, word) in PHRASES {
        lower = lower.replace(phrase, word);
    }
    lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').trim_end_matches("'s"))
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(|w| {
            let w = IRREGULAR
                .iter()
                .find(|(from, _)| *from == w)
                .map_or(w, |(_, to)| *to);
            let stemmed = stem(w);
            SYNONYMS
                .iter()
                .find(|(from, _)| stem(from) == stemmed)
                .map_or(stemmed, |(_, to)| stem(to))
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// A light English stemmer: enough for "shipping"/"shipped"/"ship", "sizes"/"sizing",
/// "policies"/"policy", without a dictionary.
fn stem(word: &str) -> String {
    if word.chars().any(|c| c.is_ascii_digit()) || word.chars().count() <= 3 {
        return word.to_owned();
    }
    let mut w = word.to_owned();
    if let Some(base) = w.strip_suffix("ies").or_else(|| w.strip_suffix("ied")) {
        w = format!("{base}y");
    } else if let Some(base) = w.strip_suffix("ing").filter(|b| b.len() >= 3) {
        w = base.to_owned();
    } else if let Some(base) = w.strip_suffix("ed").filter(|b| b.len() >= 3) {
        w = base.to_owned();
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        w.pop();
    }
    if w.len() > 3 && w.ends_with('e') {
        w.pop();
    }
    // "shipp" of "shipping" is the "ship" of "ship".
    let bytes = w.as_bytes();
    if bytes.len() > 3
        && bytes[bytes.len() - 1] == bytes[bytes.len() - 2]
        && !matches!(bytes[bytes.len() - 1], b's' | b'l' | b'e' | b'o')
    {
        w.pop();
    }
    w
}
