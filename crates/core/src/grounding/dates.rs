//! Dates as a reply or the evidence writes them: ISO (`2026-03-04`) and in words
//! (`March 4`, `Mar 4th, 2026`, `4 March`).

/// A date as written: its year only when the text gives one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct WrittenDate {
    pub year: Option<u16>,
    pub month: u8,
    pub day: u8,
}

impl WrittenDate {
    /// Whether `self` (from a reply) states what `evidence` does: the same day and month,
    /// and the same year when both name one.
    pub fn agrees_with(&self, evidence: &WrittenDate) -> bool {
        self.month == evidence.month
            && self.day == evidence.day
            && match (self.year, evidence.year) {
                (Some(ours), Some(theirs)) => ours == theirs,
                _ => true,
            }
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Dates as written, with their value.
pub(super) fn dates(text: &str) -> Vec<(String, WrittenDate)> {
    let mut out = iso_dates(text);
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        let Some(month) = month_of(word) else {
            continue;
        };
        let (written, day, year_at) = if let Some(day) = words.get(i + 1).and_then(|w| day_of(w)) {
            (format!("{word} {}", words[i + 1]), day, i + 2)
        } else if let Some(day) = i
            .checked_sub(1)
            // "… in a size 9. May I suggest": a number that ends a sentence is no day.
            .filter(|b| !words[*b].ends_with('.'))
            .and_then(|b| day_of(words[b]))
        {
            (format!("{} {word}", words[i - 1]), day, i + 1)
        } else {
            continue;
        };
        let year = words.get(year_at).and_then(|w| year_of(w));
        let written = match year {
            Some(_) => format!("{written} {}", words[year_at]),
            None => written,
        };
        out.push((written, WrittenDate { year, month, day }));
    }
    out
}

/// A month name, written as a name: capitalised (`May`, `Mar.`, `September`). "may" and
/// "march" are verbs as often as months, and a reply names months with a capital.
fn month_of(word: &str) -> Option<u8> {
    let word = word.trim_end_matches('.');
    if !word.chars().next().is_some_and(char::is_uppercase) {
        return None;
    }
    let lower = word.to_lowercase();
    if lower.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&lower) && (lower.len() == 3 || *m == lower))
        .map(|m| m as u8 + 1)
}

/// `4`, `4th`, `21st,` → the day of a month.
fn day_of(word: &str) -> Option<u8> {
    let digits = word
        .trim_end_matches(['.', ';', ':', ')'])
        .trim_end_matches("st")
        .trim_end_matches("nd")
        .trim_end_matches("rd")
        .trim_end_matches("th");
    digits
        .parse::<u8>()
        .ok()
        .filter(|d| (1..=31).contains(d) && digits.len() <= 2)
}

/// `2026`, `2026.` → a year of this era.
fn year_of(word: &str) -> Option<u16> {
    let digits = word.trim_end_matches(['.', ';', ':', ')']);
    digits
        .parse::<u16>()
        .ok()
        .filter(|y| digits.len() == 4 && (1900..=2199).contains(y))
}

/// `2026-03-04` → 4 March 2026.
fn iso_dates(text: &str) -> Vec<(String, WrittenDate)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    if bytes.len() < 10 {
        return out;
    }
    for i in 0..=bytes.len() - 10 {
        let window = &bytes[i..i + 10];
        let shape = window.iter().enumerate().all(|(k, b)| {
            if k == 4 || k == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
        let bounded = (i == 0 || !bytes[i - 1].is_ascii_digit())
            && (i + 10 == bytes.len() || !bytes[i + 10].is_ascii_digit());
        if shape && bounded {
            let written = String::from_utf8_lossy(window).into_owned();
            out.push((
                written.clone(),
                WrittenDate {
                    year: written[..4].parse().ok(),
                    month: written[5..7].parse().unwrap_or(0),
                    day: written[8..10].parse().unwrap_or(0),
                },
            ));
        }
    }
    out
}
