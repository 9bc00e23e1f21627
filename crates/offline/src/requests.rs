//! Several different requests in one email ("two things: where is my parcel, and you
//! charged me twice"): the label definitions make such an email `other`, for a person to
//! split.
//!
//! A bag of words over the whole email cannot see this: it averages the requests into one
//! topic, and reading every sentence apart finds "another topic" in plain single-topic
//! mail (docs/triage-model.md). So the rule needs the customer to say it, and the model to
//! agree: the email announces several points ("two things", "a few questions", a numbered
//! list), and its parts read as at least two different topics.

use crate::features::extract;
use crate::model::TriageModel;
use deskhand_core::Topic;
use std::collections::BTreeMap;

/// How sure the model must be of a part's topic for it to count as a request of its own.
const PART_CONFIDENCE: f32 = 0.6;

/// Parts shorter than this many words say too little to be read alone ("Thanks,"): they
/// join the part before.
const MIN_PART_WORDS: usize = 4;

/// At most this many parts are read: each costs one pass of the model.
const MAX_PARTS: usize = 12;

/// Counts that announce several points.
const COUNTS: &[&str] = &[
    "two", "2", "three", "3", "few", "couple", "several", "zwei", "drei", "deux", "trois", "dos",
    "tres",
];

/// What the points are called.
const POINTS: &[&str] = &[
    "things",
    "questions",
    "issues",
    "matters",
    "problems",
    "requests",
    "anliegen",
    "fragen",
    "dinge",
    "choses",
    "problèmes",
    "cosas",
    "preguntas",
    "problemas",
    "asuntos",
];

/// Words that open a further request without counting them first: "Also, do you have the
/// Bondi in an 11?", "Außerdem: …", "Par ailleurs, …", "Y otra cosa: …".
const FURTHER_REQUEST: &[&str] = &[
    "also",
    "additionally",
    "and also",
    "secondly",
    "second,",
    "another question",
    "another thing",
    "and another thing",
    "one more thing",
    "one more question",
    "on another note",
    "separately",
    "while i'm at it",
    "while i am at it",
    "p.s",
    "ps:",
    "ps ",
    "btw",
    "by the way",
    "außerdem",
    "ausserdem",
    "zudem",
    "des weiteren",
    "und noch",
    "noch eine frage",
    "eine weitere frage",
    "zweitens",
    "par ailleurs",
    "autre chose",
    "autre question",
    "de plus",
    "deuxièmement",
    "et aussi",
    "además",
    "ademas",
    "otra cosa",
    "y otra cosa",
    "otra pregunta",
    "por otro lado",
    "aparte",
];

/// The topics of an email's requests when it announces several (or opens a part with
/// "also", "außerdem", …) and its parts bear it out; empty otherwise. Each topic comes
/// with the model's highest confidence in a part of it.
pub fn several_requests(body: &str, model: &TriageModel) -> BTreeMap<Topic, f32> {
    let lower = body.to_lowercase();
    let parts = parts(body);
    let further = parts.iter().skip(1).any(|part| {
        let part = part.to_lowercase();
        FURTHER_REQUEST.iter().any(|marker| {
            part.strip_prefix(marker).is_some_and(|rest| {
                marker.ends_with([' ', ',', ':'])
                    || rest.starts_with(|c: char| !c.is_alphanumeric())
            })
        })
    });
    if !announces_points(&lower) && !further {
        return BTreeMap::new();
    }
    let mut topics = BTreeMap::new();
    for part in parts.iter().take(MAX_PARTS) {
        let (topic, confidence) = model.predict(&extract("", part)).topic.best();
        if topic != Topic::Other && confidence >= PART_CONFIDENCE {
            let best = topics.entry(topic).or_insert(confidence);
            *best = best.max(confidence);
        }
    }
    if topics.len() >= 2 {
        topics
    } else {
        BTreeMap::new()
    }
}

/// "Two things", "a few questions", "zwei Anliegen", or a list numbered from 1 (or a).
fn announces_points(lower: &str) -> bool {
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    // "I ordered two things" counts goods, not requests.
    let bought = |i: usize| {
        i.checked_sub(1)
            .is_some_and(|b| matches!(words[b], "ordered" | "bought" | "order" | "buy" | "got"))
    };
    let counted = (0..words.len()).any(|i| {
        let next = |k: usize| words.get(i + k).copied().unwrap_or("");
        COUNTS.contains(&words[i])
            && !bought(i)
            && (POINTS.contains(&next(1)) || (next(1) == "of" && POINTS.contains(&next(2))))
    });
    // A point marker is followed by a space: "1.5 miles" and "1.3." (a date) are not.
    let starts = |line: &str, first: &[&str]| {
        let line = line.trim_start();
        first.iter().any(|p| {
            line.strip_prefix(p)
                .is_some_and(|rest| rest.starts_with(char::is_whitespace))
        })
    };
    let mut lines = lower.lines();
    let numbered = lines
        .by_ref()
        .any(|line| starts(line, &["1.", "1)", "(1)", "(a)", "a)"]))
        && lines.any(|line| starts(line, &["2.", "2)", "(2)", "(b)", "b)"]));
    counted || numbered
}

/// The parts of an email: its sentences and list points, short ones joined to the one
/// before.
fn parts(body: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, parts: &mut Vec<String>| {
        let words = current.split_whitespace().count();
        if words == 0 {
            return;
        }
        match parts.last_mut() {
            Some(last) if words < MIN_PART_WORDS => {
                last.push(' ');
                last.push_str(current.trim());
            }
            _ => parts.push(current.trim().to_owned()),
        }
        current.clear();
    };
    for line in body.lines() {
        let trimmed = line.trim();
        if starts_a_point(trimmed) || trimmed.is_empty() {
            flush(&mut current, &mut parts);
        }
        let chars: Vec<char> = trimmed.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            current.push(*c);
            // A sentence ends at a stop followed by a space ("2.5" does not end one).
            let at_end = chars.get(i + 1).is_none_or(|next| next.is_whitespace());
            if matches!(c, '.' | '?' | '!') && at_end {
                flush(&mut current, &mut parts);
            }
        }
        current.push(' ');
    }
    flush(&mut current, &mut parts);
    parts
}

/// "1.", "2)", "(a)", "-", "•" start a list point.
fn starts_a_point(line: &str) -> bool {
    let mut chars = line.chars();
    match chars.next() {
        Some('-' | '•' | '*') => true,
        Some('(') => chars.next().is_some_and(char::is_alphanumeric) && chars.next() == Some(')'),
        Some(c) if c.is_ascii_digit() => matches!(chars.next(), Some('.' | ')')),
        _ => false,
    }
}
