//! Money amounts as a reply or the evidence writes them, normalised to cents.

const CURRENCY_SYMBOLS: [char; 3] = ['$', '€', '£'];
const CURRENCY_CODES: [&str; 4] = ["USD", "EUR", "GBP", "CHF"];

/// A money amount as written, with its value in cents: `None` when the figure is too
/// large or too oddly written to be read (such an amount is never grounded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WrittenAmount {
    pub written: String,
    pub cents: Option<i64>,
}

/// Money amounts marked by a currency: `$12.50`, `$3`, `$9.6`, `€8,00`, `12.50 USD`,
/// `USD 12.50`, `8,00 €`. A code counts only as a word of its own: the `eur` ending
/// `livreur` or starting `European` marks nothing.
pub(super) fn amounts(text: &str) -> Vec<WrittenAmount> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && is_number_char(chars[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_number_char(chars[i]) {
            i += 1;
        }
        let mut end = i;
        while end > start && matches!(chars[end - 1], '.' | ',') {
            end -= 1;
        }
        let number: String = chars[start..end].iter().collect();
        let before = skip_spaces_back(&chars, start);
        let after = skip_spaces_forward(&chars, end);
        let symbol_before = before
            .checked_sub(1)
            .map(|at| chars[at])
            .filter(|c| CURRENCY_SYMBOLS.contains(c));
        let marked = symbol_before.is_some()
            || code_ending_at(&chars, before)
            || chars
                .get(after)
                .is_some_and(|c| CURRENCY_SYMBOLS.contains(c))
            || code_starting_at(&chars, after);
        if marked {
            let written = match symbol_before {
                Some(symbol) => format!("{symbol}{number}"),
                None => number.clone(),
            };
            out.push(WrittenAmount {
                written,
                cents: to_cents(&number),
            });
        }
    }
    out
}

fn is_number_char(c: char) -> bool {
    c.is_ascii_digit() || c == '.' || c == ','
}

fn skip_spaces_back(chars: &[char], mut at: usize) -> usize {
    while at > 0 && chars[at - 1] == ' ' {
        at -= 1;
    }
    at
}

fn skip_spaces_forward(chars: &[char], mut at: usize) -> usize {
    while chars.get(at) == Some(&' ') {
        at += 1;
    }
    at
}

/// Whether a currency code, as a word of its own, ends just before `end`.
fn code_ending_at(chars: &[char], end: usize) -> bool {
    end >= 3 && {
        let start = end - 3;
        is_code(&chars[start..end]) && (start == 0 || !chars[start - 1].is_alphanumeric())
    }
}

/// Whether a currency code, as a word of its own, starts at `start`.
fn code_starting_at(chars: &[char], start: usize) -> bool {
    let end = start + 3;
    end <= chars.len()
        && is_code(&chars[start..end])
        && chars.get(end).is_none_or(|c| !c.is_alphanumeric())
}

fn is_code(word: &[char]) -> bool {
    let word: String = word.iter().collect::<String>().to_ascii_uppercase();
    CURRENCY_CODES.contains(&word.as_str())
}

/// `12.50`, `12,50`, `9.6`, `1,234.56`, `1.234,56`, `8` → cents. The last separator
/// followed by one or two digits is the decimal one; three digits group thousands.
/// `None` for a figure past what an `i64` of cents holds.
fn to_cents(number: &str) -> Option<i64> {
    let last_separator = number.rfind(['.', ',']);
    let (whole, fraction) = match last_separator {
        Some(at) if (1..=2).contains(&(number.len() - at - 1)) => {
            (&number[..at], &number[at + 1..])
        }
        _ => (number, ""),
    };
    let whole: String = whole.chars().filter(char::is_ascii_digit).collect();
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(fraction)
}
