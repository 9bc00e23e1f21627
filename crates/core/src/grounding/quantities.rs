//! Durations and percentages as a reply states them: "30 days", "5 business days",
//! "12-month", "3-5 business days", "3 to 5 days", "20%", "15 percent", "20 per cent". A
//! policy answer that says "60 days" where the policy says 30 is as wrong as a wrong price.
//! Numbers are compared as written, in digits, with their unit: "12 months" is not
//! grounded by "1 year", and numbers in words ("sixty days") are not read.

/// What a number measures, so "30 days" is not grounded by "30%".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Unit {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    Percent,
}

fn unit_of(word: &str) -> Option<Unit> {
    let word = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '%');
    Some(match word {
        "minute" | "minutes" | "min" | "mins" => Unit::Minute,
        "hour" | "hours" | "hr" | "hrs" | "h" => Unit::Hour,
        "day" | "days" | "d" => Unit::Day,
        "week" | "weeks" | "wk" | "wks" => Unit::Week,
        "month" | "months" | "mo" | "mos" => Unit::Month,
        "year" | "years" | "yr" | "yrs" => Unit::Year,
        "%" | "percent" => Unit::Percent,
        _ => return None,
    })
}

/// The unit after the number at `i`: the next word, past a qualifier ("5 business days"),
/// or "per cent" as two words.
fn unit_after(tokens: &[&str], i: usize) -> Option<Unit> {
    let next = tokens.get(i + 1)?;
    if let Some(unit) = unit_of(next) {
        return Some(unit);
    }
    let word = next.trim_matches(|c: char| !c.is_alphanumeric());
    let after = tokens.get(i + 2).copied().unwrap_or_default();
    if word == "per" && after.trim_matches(|c: char| !c.is_alphanumeric()) == "cent" {
        return Some(Unit::Percent);
    }
    let qualifier = matches!(
        word,
        "business" | "working" | "calendar" | "full" | "more" | "extra" | "whole"
    );
    qualifier.then(|| unit_of(after)).flatten()
}

/// A token's leading number and what is glued after it: "20%" → ("20", "%"), "30-day" →
/// ("30", "-day"), "3-5" → ("3", "-5"), "**30" → ("30", "").
fn split_number(token: &str) -> Option<(&str, &str)> {
    let token = token.trim_start_matches(|c: char| !c.is_ascii_digit());
    let end = token
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(token.len());
    let number = token[..end].trim_end_matches(['.', ',']);
    (!number.is_empty()).then(|| (number, &token[number.len()..]))
}

/// Each quantity a text states: how it was written, its number and its unit. A range
/// ("3-5 days", "3–5 days", "3 to 5 days") states both ends in the unit that follows it.
pub(super) fn quantities(text: &str) -> Vec<(String, String, Unit)> {
    let lower = text.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '(' || c == '/')
        .filter(|t| !t.is_empty())
        .collect();
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let Some((number, glued)) = split_number(token) else {
            continue;
        };
        let dashed = glued.trim_start_matches(['-', '–']);
        // "3-5 days": both ends, in the unit after the token.
        if let Some((high, rest)) = split_number(dashed).filter(|_| dashed.len() < glued.len()) {
            if let Some(unit) = unit_of(rest).or_else(|| unit_after(&tokens, i)) {
                found.push(((*token).to_owned(), number.to_owned(), unit));
                found.push(((*token).to_owned(), high.to_owned(), unit));
            }
            continue;
        }
        let unit = if dashed.is_empty() {
            unit_after(&tokens, i).or_else(|| {
                // "3 to 5 days": the low end takes the high end's unit.
                let joined = tokens
                    .get(i + 1)
                    .is_some_and(|t| matches!(*t, "to" | "-" | "–" | "or"));
                let high = tokens.get(i + 2).and_then(|t| split_number(t));
                match (joined, high) {
                    (true, Some((_, ""))) => unit_after(&tokens, i + 2),
                    _ => None,
                }
            })
        } else {
            unit_of(dashed)
        };
        if let Some(unit) = unit {
            let written = if dashed.is_empty() {
                format!("{token} {}", tokens.get(i + 1).copied().unwrap_or_default())
            } else {
                (*token).to_owned()
            };
            found.push((written, number.to_owned(), unit));
        }
    }
    found
}
