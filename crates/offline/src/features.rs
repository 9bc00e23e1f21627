//! Text → a sparse, L2-normalised feature vector: word unigrams and bigrams, character
//! n-grams inside words (robust to typos, inflection and the languages customers write in),
//! the subject's words in their own namespace, and a few shape signals (shouting, "!!",
//! a carrier tracking number). Features are hashed into a fixed number of buckets with
//! FNV-1a, so the same text gives the same vector on every machine.

use deskhand_core::tracking::find_numbers;

/// Hash buckets; a model stores weights only for the buckets its training data touched.
pub const BUCKETS: u32 = 1 << 18;

/// A sparse feature vector: sorted, unique bucket indices and their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl Features {
    pub fn len(&self) -> usize {
        self.indices.len()
    }
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.indices
            .iter()
            .copied()
            .zip(self.values.iter().copied())
    }
    /// Cosine similarity of two normalised vectors.
    pub fn dot(&self, other: &Features) -> f32 {
        let (mut i, mut j, mut sum) = (0, 0, 0.0);
        while i < self.indices.len() && j < other.indices.len() {
            match self.indices[i].cmp(&other.indices[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    sum += self.values[i] * other.values[j];
                    i += 1;
                    j += 1;
                }
            }
        }
        sum
    }
}

/// Namespaces keep a subject word, a body word and a character n-gram of the same
/// spelling apart.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Space {
    Word = b'w',
    Bigram = b'b',
    Chars = b'c',
    Subject = b's',
    Shape = b'x',
}

/// How much each namespace weighs before normalisation: there are many more character
/// n-grams than words, so each counts for less.
fn weight(space: Space) -> f32 {
    match space {
        Space::Word => 1.0,
        Space::Bigram => 0.6,
        Space::Chars => 0.25,
        Space::Subject => 0.6,
        Space::Shape => 1.0,
    }
}

/// FNV-1a, fed piece by piece so n-grams and bigrams need no string of their own.
struct Fnv(u64);

impl Fnv {
    fn new(space: Space) -> Self {
        let mut fnv = Fnv(0xcbf2_9ce4_8422_2325);
        fnv.bytes(&[space as u8]);
        fnv
    }
    fn bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn char(&mut self, c: char) {
        let mut buffer = [0u8; 4];
        self.bytes(c.encode_utf8(&mut buffer).as_bytes());
    }
    fn bucket(&self) -> u32 {
        (self.0 % u64::from(BUCKETS)) as u32
    }
}

fn bucket(space: Space, token: &str) -> u32 {
    let mut fnv = Fnv::new(space);
    fnv.bytes(token.as_bytes());
    fnv.bucket()
}

/// Words as the model sees them: lower case, digits folded so order numbers and sizes
/// generalise ("55213" → "#5", "9.5" → "#1.#1", a mixed code → "#code").
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
    {
        let lower = raw.to_lowercase();
        let digits = lower.chars().filter(char::is_ascii_digit).count();
        let token = if digits == 0 {
            lower
        } else if digits == lower.chars().count() {
            format!("#{}", digits.min(9))
        } else {
            "#code".to_owned()
        };
        out.push(token);
    }
    out
}

/// The shape of the writing: what a reader notices before reading the words.
fn shape_signals(subject: &str, body: &str) -> Vec<&'static str> {
    let mut signals = Vec::new();
    let text = format!("{subject}\n{body}");
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 3)
        .collect();
    let shouted = words
        .iter()
        .filter(|w| w.chars().all(char::is_uppercase))
        .count();
    if shouted >= 3 && shouted * 3 >= words.len() {
        signals.push("shouting");
    } else if shouted >= 2 {
        signals.push("some-capitals");
    }
    if text.contains("!!") || text.contains("?!") || text.contains("!?") {
        signals.push("exclaims");
    }
    if text.contains('?') {
        signals.push("asks");
    }
    if !find_numbers(&text).tracking.is_empty() {
        signals.push("tracking-number");
    }
    let length = body.split_whitespace().count();
    signals.push(match length {
        0 => "len-0",
        1..=5 => "len-tiny",
        6..=20 => "len-short",
        21..=80 => "len-medium",
        _ => "len-long",
    });
    if subject.trim().is_empty() {
        signals.push("no-subject");
    }
    let subject_lower = subject.trim_start().to_lowercase();
    if ["re:", "aw:", "sv:", "antw:", "réf", "r:"]
        .iter()
        .any(|p| subject_lower.starts_with(p))
    {
        signals.push("reply");
    }
    if ["fw:", "fwd:", "tr:", "wg:", "rv:", "i:"]
        .iter()
        .any(|p| subject_lower.starts_with(p))
    {
        signals.push("forward");
    }
    signals
}

/// The feature vector of an email's subject and the customer's own words.
pub fn extract(subject: &str, body: &str) -> Features {
    let mut raw: Vec<(u32, f32)> = Vec::with_capacity(1024);
    let body_tokens = tokens(body);
    let mut padded: Vec<char> = Vec::with_capacity(32);
    for token in &body_tokens {
        raw.push((bucket(Space::Word, token), weight(Space::Word)));
        if token.starts_with('#') {
            continue;
        }
        padded.clear();
        padded.push('<');
        padded.extend(token.chars());
        padded.push('>');
        for n in 3..=5 {
            for gram in padded.windows(n) {
                let mut fnv = Fnv::new(Space::Chars);
                for &c in gram {
                    fnv.char(c);
                }
                raw.push((fnv.bucket(), weight(Space::Chars)));
            }
        }
    }
    for pair in body_tokens.windows(2) {
        let mut fnv = Fnv::new(Space::Bigram);
        fnv.bytes(pair[0].as_bytes());
        fnv.bytes(b" ");
        fnv.bytes(pair[1].as_bytes());
        raw.push((fnv.bucket(), weight(Space::Bigram)));
    }
    for token in tokens(subject) {
        raw.push((bucket(Space::Subject, &token), weight(Space::Subject)));
    }
    for signal in shape_signals(subject, body) {
        raw.push((bucket(Space::Shape, signal), weight(Space::Shape)));
    }

    raw.sort_unstable_by_key(|&(index, _)| index);
    let mut features = Features::default();
    let mut counts: Vec<f32> = Vec::new();
    for (index, value) in raw {
        if features.indices.last() == Some(&index) {
            *features.values.last_mut().expect("pushed with its index") += value;
            *counts.last_mut().expect("pushed with its index") += 1.0;
        } else {
            features.indices.push(index);
            features.values.push(value);
            counts.push(1.0);
        }
    }
    // Sub-linear term frequency: a word said five times is not five times the evidence.
    for (value, count) in features.values.iter_mut().zip(counts) {
        *value = *value / count * (1.0 + count.ln());
    }
    let norm = features.values.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        for value in &mut features.values {
            *value /= norm;
        }
    }
    features
}
