//! Durations and percentages as a reply states them: "30 days", "5 business days",
//! "12 months", "20%", "15 percent". A policy answer that says "60 days" where the policy
//! says 30 is as wrong as a wrong price.

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
    let word = word.trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
    Some(match word {
        "minute" | "minutes" | "min" | "mins" => Unit::Minute,
        "hour" | "hours" | "hr" | "hrs" => Unit::Hour,
        "day" | "days" => Unit::Day,
        "week" | "weeks" => Unit::Week,
        "month" | "months" => Unit::Month,
        "year" | "years" => Unit::Year,
        "%" | "percent" | "per cent" => Unit::Percent,
        _ => return None,
    })
}

/// Each quantity a text states: how it was written, its number and its unit. A number
/// joined to its unit by a hyphen ("30-day", "12-month") counts; so do "20%" and "20 %",
/// and a qualifier between ("5 business days", "3 working days", "2 calendar weeks").
pub(super) fn quantities(text: &str) -> Vec<(String, String, Unit)> {
    let lower = text.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '(' || c == '/')
        .filter(|t| !t.is_empty())
        .collect();
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let token = token.trim_start_matches(['~', '≈']);
        // "20%", "30-day"
        let (number, glued) = match token.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
            Some(0) | None if !token.starts_with(|c: char| c.is_ascii_digit()) => continue,
            Some(at) => (&token[..at], Some(token[at..].trim_start_matches('-'))),
            None => (token, None),
        };
        let number = number.trim_end_matches('.');
        if number.is_empty() {
            continue;
        }
        let unit = match glued.filter(|g| !g.is_empty()) {
            Some(rest) => unit_of(rest),
            None => tokens.get(i + 1).and_then(|next| {
                unit_of(next).or_else(|| {
                    let qualifier = matches!(
                        next.trim_end_matches(','),
                        "business" | "working" | "calendar" | "full" | "more" | "extra"
                    );
                    qualifier
                        .then(|| tokens.get(i + 2).and_then(|t| unit_of(t)))
                        .flatten()
                })
            }),
        };
        if let Some(unit) = unit {
            let written = match glued {
                Some(_) => (*token).to_owned(),
                None => format!("{token} {}", tokens.get(i + 1).copied().unwrap_or_default()),
            };
            found.push((written, number.to_owned(), unit));
        }
    }
    found
}
