//! Shoe sizes as customers write them: US, UK and European, halves and thirds, in words,
//! and every size a customer would take ("a 10 or a 10.5", "two size 8, one 9").

use deskhand_core::product::eu_to_us;
/// Finds a shoe size: "size 9.5", "size 9 1/2", "9½", "US 10", "EU 43", "a 10.5".
/// Returns a US size.
pub fn parse_size(lower: &str) -> Option<f64> {
    parse_sizes(lower).map(|sizes| sizes.first)
}

/// How the customer wrote a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SizeSystem {
    Us,
    Eu,
    /// UK men's sizes run half a size below US ones (UK 9 = US 9.5).
    Uk,
}

impl SizeSystem {
    fn plausible(self, value: f64) -> bool {
        let range = match self {
            Self::Eu => 35.0..=50.0,
            Self::Us | Self::Uk => 3.0..=16.0,
        };
        range.contains(&value) && (value * 2.0).fract() == 0.0
    }

    fn to_us(self, value: f64) -> f64 {
        match self {
            Self::Us => value,
            Self::Eu => eu_to_us(value),
            Self::Uk => value + 0.5,
        }
    }
}

/// The sizes an email names: the first, and any it offers as an alternative to it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SizesNamed {
    /// US size.
    pub(crate) first: f64,
    /// "a 10 or a 10.5", "42 oder 42,5", "a 9 for my son and an 11 for me" (US sizes).
    pub(crate) others: Vec<f64>,
}

/// Finds the first size as [`parse_size`] does, then the sizes joined to it by "or",
/// "and" and their German, French and Spanish words, within a few words.
pub(crate) fn parse_sizes(lower: &str) -> Option<SizesNamed> {
    // "42,5" is how most of Europe writes 42.5.
    let chars: Vec<char> = lower.chars().collect();
    let lower: String = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let between_digits = i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if c == ',' && between_digits {
                '.'
            } else {
                c
            }
        })
        .collect();
    let lower = spell_numbers(&lower);
    let lower = lower.as_str();
    let tokens: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '(' || c == ')')
        .filter(|t| !t.is_empty())
        .flat_map(glued_size_word)
        .collect();
    let number = size_number;
    // "a women's 9, which I think is a men's 7.5": the men's size, which the catalog
    // uses, wins when both are said.
    let mens_said = tokens.iter().any(|t| {
        matches!(
            t.trim_end_matches(['.', ':', '?']),
            "mens" | "men's" | "men’s" | "men"
        )
    });

    for (i, token) in tokens.iter().enumerate() {
        let (system, start) = match token.trim_end_matches(['.', ':']) {
            "size" | "sizes" | "sz" | "us" | "usa" => (SizeSystem::Us, i + 1),
            // "mens 9", "men's size 10" (a size word after it is skipped below).
            "mens" | "men's" | "men’s" => (SizeSystem::Us, i + 1),
            // A women's size is read as written: shops label women's shoes by women's
            // sizes, and a catalog that lists them does too.
            "womens" | "women's" | "women’s" | "ladies" | "wmns" if !mens_said => {
                (SizeSystem::Us, i + 1)
            }
            "eu" | "eur" | "euro" | "european" | "europe" => (SizeSystem::Eu, i + 1),
            "uk" => (SizeSystem::Uk, i + 1),
            // Words for "size" that come with European sizes more often than not; the
            // number decides (US sizes stop at 16, EU sizes start at 35).
            "größe" | "grösse" | "größen" | "grössen" | "gr" | "schuhgröße" | "pointure"
            | "pointures" | "taille" | "tailles" | "talla" | "tallas" | "número" | "numero"
            | "taglia" | "maat" | "calza" | "calzo" | "chausse" | "chausses" => {
                (SizeSystem::Us, i + 1)
            }
            // "number 42,5", "Nr. 43": a European size only (the range decides below;
            // "number 3" of a list is no size).
            "number" | "nummer" | "nr" => (SizeSystem::Eu, i + 1),
            // "in a 12", "I wear an 11"
            "a" | "an"
                if i > 0 && matches!(tokens[i - 1], "in" | "wear" | "i'm" | "im" | "am" | "a") =>
            {
                (SizeSystem::Us, i + 1)
            }
            _ => continue,
        };
        // "size eu 43", "size uk 8", "size us 9", "men's size 10"
        let (system, start) = match tokens.get(start).copied() {
            Some("eu" | "eur") => (SizeSystem::Eu, start + 1),
            Some("uk") => (SizeSystem::Uk, start + 1),
            Some("us") => (SizeSystem::Us, start + 1),
            Some("size" | "sz") => (system, start + 1),
            _ => (system, start),
        };
        if let Some(value) = tokens.get(start).and_then(|t| number(t)) {
            // "the UK 3 weeks ago" is a duration, not a size.
            let next = tokens
                .get(start + 1)
                .map(|t| t.trim_end_matches(['.', '?', '!', ':', ',']));
            // "size 7 x 1" on an order line is size 7, one pair.
            if next.is_some_and(|n| is_unit(n) && !matches!(n, "x" | "×")) {
                continue;
            }
            let value = with_fraction(value, tokens.get(start + 1));
            // "size 9 uk": a system named after the number wins.
            let system = tokens
                .get(start + 1)
                .and_then(|t| system_after(t))
                .unwrap_or(system);
            // The number decides between US or UK and EU: US sizes stop at 16, EU start at 35.
            let system = if (35.0..=50.0).contains(&value) {
                SizeSystem::Eu
            } else if system == SizeSystem::Eu {
                continue;
            } else {
                system
            };
            if system.plausible(value) {
                return Some(with_others(&tokens, start, value, system));
            }
        }
    }
    // "in 12", and a bare half size ("11.5 please"): model numbers are whole, and so are
    // most quantities, but a half is almost always a shoe size.
    for (i, token) in tokens.iter().enumerate() {
        let Some(value) = number(token) else { continue };
        let unit = tokens
            .get(i + 1)
            .map(|t| t.trim_end_matches(['.', '?', '!', ':']));
        let is_quantity = unit.is_some_and(is_unit);
        let after_in = i > 0 && matches!(tokens[i - 1], "in" | "a");
        let money = i > 0
            && (tokens[i - 1].ends_with(['$', '€', '£']) || token.starts_with(['$', '€', '£']));
        if is_quantity || money {
            continue;
        }
        // "in 45", "en 44", "du 44", "la 42": a European size after a preposition (French
        // and Spanish say sizes this way; the number range tells it from a US size).
        let after_preposition = i > 0
            && matches!(
                tokens[i - 1].trim_end_matches(['.', ':']),
                "in" | "en" | "du" | "de" | "la" | "el" | "a" | "an" | "im" | "un" | "una"
            );
        // "42 2/3", "44⅔": thirds belong to European charts only.
        let in_thirds = token.ends_with(['⅓', '⅔'])
            || tokens
                .get(i + 1)
                .is_some_and(|t| matches!(t.trim_end_matches(['.', '?', '!']), "1/3" | "2/3"));
        let value = with_fraction(value, tokens.get(i + 1));
        if in_thirds && SizeSystem::Eu.plausible(value) {
            return Some(with_others(&tokens, i, value, SizeSystem::Eu));
        }
        // "a 9 UK", "an 11 men's": the system named after the number.
        if let Some(system) = tokens.get(i + 1).and_then(|t| system_after(t)) {
            if system.plausible(value) {
                return Some(with_others(&tokens, i, value, system));
            }
        }
        if after_preposition && SizeSystem::Eu.plausible(value) {
            return Some(with_others(&tokens, i, value, SizeSystem::Eu));
        }
        if !(3.0..=16.0).contains(&value) {
            continue;
        }
        if value.fract() == 0.5 || (after_in && value.fract() == 0.0) {
            return Some(with_others(&tokens, i, value, SizeSystem::Us));
        }
    }
    // "43 EU", "9.5 US", "8 UK", "11 men's"
    for (i, token) in tokens.iter().enumerate().skip(1) {
        let Some(system) = system_after(token) else {
            continue;
        };
        if let Some(value) = number(tokens[i - 1]) {
            if system.plausible(value) {
                return Some(with_others(&tokens, i, value, system));
            }
        }
    }
    None
}

/// A size word written onto its number ("us13", "eu44", "sz10"), as two tokens.
fn glued_size_word(token: &str) -> Vec<&str> {
    for word in ["size", "sz", "us", "eu", "uk"] {
        if let Some(number) = token.strip_prefix(word) {
            if number.starts_with(|c: char| c.is_ascii_digit()) {
                return vec![word, number];
            }
        }
    }
    vec![token]
}

/// The size system a word after a number names: "43 EU", "9 UK", "11 men's".
fn system_after(token: &str) -> Option<SizeSystem> {
    match token.trim_end_matches(['.', '?', '!', ',', ':']) {
        "eu" | "eur" | "euro" | "european" => Some(SizeSystem::Eu),
        "us" | "men's" | "mens" => Some(SizeSystem::Us),
        "uk" => Some(SizeSystem::Uk),
        _ => None,
    }
}

/// A size token's number: "9.5", "9½", "42⅔" (to the nearest half), "10." at the end of a
/// sentence.
fn size_number(token: &str) -> Option<f64> {
    let token = token.trim_end_matches(['.', '?', '!']);
    for (symbol, fraction) in [('½', 0.5), ('⅓', 1.0 / 3.0), ('⅔', 2.0 / 3.0)] {
        if let Some(whole) = token.strip_suffix(symbol) {
            return whole
                .parse::<f64>()
                .ok()
                .map(|w| ((w + fraction) * 2.0).round() / 2.0);
        }
    }
    token.parse::<f64>().ok()
}

/// `value` with the fraction written after it: "10 1/2", and the thirds of European
/// charts ("42 2/3"), to the nearest half size.
fn with_fraction(value: f64, next: Option<&&str>) -> f64 {
    let fraction = match next.map(|t| t.trim_end_matches(['.', '?', '!', ','])) {
        Some("1/2") => 0.5,
        Some("1/3") => 1.0 / 3.0,
        Some("2/3") => 2.0 / 3.0,
        _ => return value,
    };
    ((value + fraction) * 2.0).round() / 2.0
}

/// Words after a number that make it a quantity, not a size ("3 weeks", "2 pairs").
const QUANTITY_UNITS: &[&str] = &[
    "day", "week", "hour", "hr", "month", "year", "minute", "sec", "km", "mile", "pair", "%", "x",
    "$", "€", "£", "min", "euro", "dollar", "pound", "degree", "°", "kg", "lb", "tag", "jour",
    "día", "dia", "semaine", "semana", "woche", "jahr", "año", "ans", "anni", "grad", "dólar",
    "dolar", "libra", "stunde", "heure", "hora", "minut", "people", "runner", "kid", "child",
];

pub(crate) fn is_unit(word: &str) -> bool {
    QUANTITY_UNITS.iter().any(|q| word.starts_with(q))
}

/// Words a size follows: "size 9", "talla 42", "Größe 44", "a 10".
const SIZE_WORDS: &[&str] = &[
    "size",
    "sizes",
    "mens",
    "men's",
    "sz",
    "us",
    "usa",
    "eu",
    "eur",
    "uk",
    "größe",
    "grösse",
    "gr",
    "schuhgröße",
    "pointure",
    "taille",
    "talla",
    "número",
    "numero",
    "taglia",
    "maat",
    "a",
    "an",
    "in",
];

/// The first size (`value`, its token at `at`), and the sizes of the same system joined to
/// it: a connector ("or", "oder", "and", "y", ...) within six words after it, then a
/// plausible size right after the connector or after a size word within six words of it
/// ("42 oder 42,5", "and an 11", "y otra para mi hermana talla 42"), not a quantity ("and
/// 2 pairs") nor a number that is something else ("and can it come by the 14th").
fn with_others(tokens: &[&str], at: usize, value: f64, system: SizeSystem) -> SizesNamed {
    const CONNECTORS: &[&str] = &["or", "and", "oder", "und", "ou", "et", "o", "y", "/", "&"];
    let plausible = |v: f64| system.plausible(v);
    let to_us = |v: f64| system.to_us(v);
    // "10 or 10.5": a size right before a connector that joins it to this one comes
    // first (a bare whole number is read as a size only when joined so).
    let before = at
        .checked_sub(2)
        .filter(|_| CONNECTORS.contains(&tokens[at - 1].trim_end_matches([',', '.'])))
        .and_then(|i| size_number(tokens[i]))
        .filter(|v| plausible(*v) && *v != value);
    let (first, mut others) = match before {
        Some(earlier) => (to_us(earlier), vec![to_us(value)]),
        None => (to_us(value), Vec::new()),
    };
    let mut last = at;
    // Each joined size moves the search on from it ("9, 9.5 or 10"). A size is joined by
    // a connector before it, or by a count of pairs ("two size 8, two size 9, one 9.5",
    // "dos de la 41, uno de la 42"): a size said once more on its own ("I'm a 10, I
    // ordered an 11") is not one they would take.
    loop {
        let connector = (last + 1..tokens.len().min(last + 7))
            .find(|&i| CONNECTORS.contains(&tokens[i].trim_end_matches([',', '.'])));
        let window_end = connector.map_or(last + 7, |c| c + 7);
        let Some((i, v)) = (last + 1..tokens.len().min(window_end))
            .find_map(|i| size_number(tokens[i]).map(|v| (i, v)))
        else {
            break;
        };
        let v = with_fraction(v, tokens.get(i + 1));
        let unit = tokens
            .get(i + 1)
            .map(|t| t.trim_end_matches(['.', '?', '!', ':']));
        // "size 8 x 2": after a size word, the number is the size and "x 2" its count.
        let after_size_word = i > 0 && SIZE_WORDS.contains(&tokens[i - 1]);
        let quantity =
            unit.is_some_and(is_unit) && !(after_size_word && matches!(unit, Some("x" | "×")));
        let joined = connector.is_some_and(|c| c < i);
        // "41, 42 und 44", "sizes 8, 9 and 10", "EU 41, EU 42 and EU 44": a size right
        // after the last one (or its size word), in a list (the commas are gone from the
        // tokens).
        let right_after = i == last + 1 || (i == last + 2 && SIZE_WORDS.contains(&tokens[i - 1]));
        let listed = right_after && connector.is_some();
        // "and the other 8.5", "and one 9": a few small words may sit between.
        let filler_only = connector.is_some_and(|c| {
            c < i
                && tokens[c + 1..i].iter().all(|t| {
                    SIZE_WORDS.contains(t)
                        || matches!(*t, "the" | "other" | "one" | "his" | "her" | "my" | "is")
                })
        });
        let named_as_size = (joined
            && (connector == Some(i - 1) || SIZE_WORDS.contains(&tokens[i - 1]) || filler_only))
            || counted_pairs_before(tokens, i)
            || listed;
        // A count of pairs on a line of an order ("2 pairs size 8 / 1 pair size 9", "4 x
        // size 8", "size 7 x 1"): the size after it may still come.
        let count = quantity && tokens.get(i + 1).is_some_and(|t| is_pair_word(t))
            || (i > 0 && matches!(tokens[i - 1], "x" | "×") && v.fract() == 0.0 && v <= 20.0);
        if count {
            last = i;
            continue;
        }
        // The next number is something else ("and 2 pairs", "by the 14"): stop looking.
        if !plausible(v) || quantity || !named_as_size {
            break;
        }
        let us = to_us(v);
        if us != first && !others.contains(&us) {
            others.push(us);
        }
        last = i;
    }
    SizesNamed { first, others }
}

/// "pair", "pairs", "x" after a count: "2 pairs", "4 x".
fn is_pair_word(token: &str) -> bool {
    matches!(
        token.trim_end_matches([',', '.', ':']),
        "pair" | "pairs" | "x" | "×" | "paar" | "paires" | "pares" | "par"
    )
}

/// Whether a count of pairs comes right before the number at `at`, with at most size
/// words between ("two size 9", "one 9.5", "2x 10", "uno de la 42").
fn counted_pairs_before(tokens: &[&str], at: usize) -> bool {
    const COUNTS: &[&str] = &[
        "one", "two", "pair", "pairs", "x", "uno", "una", "dos", "un", "une", "deux", "ein",
        "eins", "zwei", "paar", "pares", "paires",
    ];
    const BETWEEN: &[&str] = &[
        "size", "sizes", "in", "of", "de", "la", "el", "du", "en", "taille", "talla", "größe",
    ];
    let is_count = |t: &str| {
        let t = t.trim_end_matches([',', '.', ':']);
        COUNTS.contains(&t)
            || t.strip_suffix('x')
                .or_else(|| t.strip_prefix('x'))
                .is_some_and(|n| n.parse::<u8>().is_ok_and(|n| (1..=20).contains(&n)))
            || t.parse::<u8>().is_ok_and(|n| (1..=3).contains(&n))
    };
    (1..=at.min(3))
        .map(|back| at - back)
        .any(|j| is_count(tokens[j]) && (j + 1..at).all(|k| BETWEEN.contains(&tokens[k])))
}

/// Sizes said in words: "size ten and a half" → "size 10.5".
fn spell_numbers(lower: &str) -> String {
    const WORDS: &[(&str, u32)] = &[
        ("three", 3),
        ("four", 4),
        ("five", 5),
        ("six", 6),
        ("seven", 7),
        ("eight", 8),
        ("nine", 9),
        ("ten", 10),
        ("eleven", 11),
        ("twelve", 12),
        ("thirteen", 13),
        ("fourteen", 14),
        ("fifteen", 15),
    ];
    let mut out: Vec<String> = Vec::new();
    let tokens: Vec<&str> = lower.split(' ').collect();
    let mut i = 0;
    while i < tokens.len() {
        let word = tokens[i].trim_end_matches([',', '.', '?', '!']);
        let digits = word
            .parse::<u32>()
            .ok()
            .filter(|n| (3..=15).contains(n))
            .map(|n| ("", n));
        if let Some((_, n)) = WORDS.iter().find(|(w, _)| *w == word).copied().or(digits) {
            let half = tokens.get(i + 1..i + 4).is_some_and(|t| {
                t.join(" ").trim_end_matches([',', '.', '?', '!']) == "and a half"
            });
            if half {
                out.push(format!("{n}.5"));
                i += 4;
            } else {
                out.push(tokens[i].replace(word, &n.to_string()));
                i += 1;
            }
            continue;
        }
        out.push(tokens[i].to_owned());
        i += 1;
    }
    out.join(" ")
}
