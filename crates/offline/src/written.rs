//! How customers write what the catalog names, read back into the catalog's words: links
//! pasted in, model versions beside sizes, two-tone colours, brand nicknames, "normal
//! width", the waterproof version, a budget.

use deskhand_core::product::CatalogVocabulary;

/// "Normal width", "regular fit", "standard width", "medium width", "normale Weite", or the
/// width letter of a product title right after its size ("- 10.5 D").
pub(crate) fn says_standard_width(lower: &str, words: &[String]) -> bool {
    const SAID: &[&str] = &[
        "normal width",
        "regular width",
        "standard width",
        "medium width",
        "normal fit",
        "regular fit",
        "standard fit",
        "normal-width",
        "normale weite",
        "normale breite",
        "largeur normale",
        "ancho normal",
        "horma normal",
    ];
    let titled = words.windows(2).any(|pair| {
        pair[1] == "d"
            && pair[0]
                .parse::<f64>()
                .is_ok_and(|size| (4.0..=16.0).contains(&size) && (size * 2.0).fract() == 0.0)
    });
    titled || SAID.iter().any(|s| lower.contains(s))
}

/// A pasted link or path read as words: "/products/hoka-bondi-8-wide?size=10.5&width=2e"
/// gives "products hoka-bondi-8-wide size 10.5 width 2e". A slash between digits stays
/// ("9 1/2"), and so does a stop at a sentence's end.
pub(crate) fn link_parts_apart(lower: &str) -> String {
    let chars: Vec<char> = lower.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let before = i.checked_sub(1).map(|b| chars[b]);
            let after = chars.get(i + 1).copied();
            let digits = before.is_some_and(|b| b.is_ascii_digit())
                && after.is_some_and(|a| a.is_ascii_digit());
            let joins = after.is_some_and(char::is_alphanumeric)
                && before.is_some_and(|b| b.is_alphanumeric() || b == '/');
            match c {
                '/' if !digits => ' ',
                '=' | '&' | '?' if joins => ' ',
                _ => c,
            }
        })
        .collect()
}

/// The text with the catalog's model versions blanked ("ghost 16" → "ghost ##"), so a
/// version is never read as a size: "Brooks Ghost 16 Men's - Grey - 10.5 D" is a 10.5.
pub(crate) fn without_versions(lower: &str, vocabulary: &CatalogVocabulary) -> String {
    let mut out = lower.to_owned();
    for model in &vocabulary.models {
        let name = model.to_lowercase();
        let parts: Vec<&str> = name.split([' ', '-']).filter(|p| !p.is_empty()).collect();
        for pair in parts.windows(2) {
            let (word, number) = (pair[0], pair[1]);
            let is_number = |p: &str| p.chars().all(|c| c.is_ascii_digit());
            if !is_number(number) || is_number(word) {
                continue;
            }
            for joint in [" ", "-"] {
                let said = format!("{word}{joint}{number}");
                let mut from = 0;
                while let Some(found) = out[from..].find(&said) {
                    let at = from + found;
                    let end = at + said.len();
                    let starts_a_word = out[..at]
                        .chars()
                        .next_back()
                        .is_none_or(|c| !c.is_alphanumeric());
                    let rest = &out[end..];
                    // "ghost 16" but not "ghost 160" nor "ghost 16.5".
                    let digit = |t: &str| t.starts_with(|c: char| c.is_ascii_digit());
                    let longer = digit(rest) || (rest.starts_with(['.', ',']) && digit(&rest[1..]));
                    let ends_the_number = !longer;
                    if starts_a_word && ends_the_number {
                        out.replace_range(end - number.len()..end, &"#".repeat(number.len()));
                    }
                    from = end;
                }
            }
        }
    }
    out
}

/// A two-tone colour of the catalog ("Grey White") however the email joins its parts:
/// "grey/white" (read apart as "grey white"), "grey-white", "grey and white", "grey &
/// white".
pub(crate) fn two_tone_in_catalog<'v>(
    lower: &str,
    vocabulary: &'v CatalogVocabulary,
) -> Option<&'v String> {
    vocabulary.colors.iter().find(|colour| {
        let parts: Vec<String> = colour.split_whitespace().map(str::to_lowercase).collect();
        let [first, second] = parts.as_slice() else {
            return false;
        };
        [" ", "-", " and ", " & ", " / "].iter().any(|joint| {
            let said = format!("{first}{joint}{second}");
            lower.match_indices(&said).any(|(at, _)| {
                let end = at + said.len();
                lower[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric())
                    && lower[end..]
                        .chars()
                        .next()
                        .is_none_or(|c| !c.is_alphanumeric())
            })
        })
    })
}

/// Brand names as customers shorten them ("nb" for New Balance), written out.
pub(crate) fn with_brand_nicknames(lower: &str) -> String {
    const NICKNAMES: &[(&str, &str)] = &[("nb", "new balance"), ("newbalance", "new balance")];
    let mut out = String::with_capacity(lower.len());
    let mut word_start = 0;
    // Words are runs of letters and digits; everything between is kept as it is.
    for (at, c) in lower
        .char_indices()
        .chain(std::iter::once((lower.len(), ' ')))
    {
        if c.is_alphanumeric() {
            continue;
        }
        let word = &lower[word_start..at];
        match NICKNAMES.iter().find(|(nick, _)| *nick == word) {
            Some((_, full)) => out.push_str(full),
            None => out.push_str(word),
        }
        if at < lower.len() {
            out.push(c);
        }
        word_start = at + c.len_utf8();
    }
    out
}

/// Whether the customer asks for the Gore-Tex version: "GTX", "Gore-Tex", "waterproof",
/// unless a negation comes within the four words before ("not the GTX one", "not
/// interested in the Gore-Tex").
pub(crate) fn names_waterproof_version(words: &[String]) -> bool {
    for (i, word) in words.iter().enumerate() {
        let gtx = matches!(
            word.as_str(),
            "gtx"
                | "goretex"
                | "waterproof"
                | "imperméable"
                | "imperméables"
                | "impermeable"
                | "impermeables"
        ) || word.starts_with("wasserdicht")
            || (word == "gore" && words.get(i + 1).is_some_and(|w| w == "tex"));
        if !gtx {
            continue;
        }
        let before = &words[i.saturating_sub(4)..i];
        // "not sure if I need the GTX" is no refusal.
        let unsure = before.iter().any(|w| w == "sure" || w == "if");
        let refused = !unsure
            && before.iter().any(|w| {
                matches!(
                    w.as_str(),
                    "not"
                        | "no"
                        | "don't"
                        | "dont"
                        | "without"
                        | "non"
                        | "nicht"
                        | "kein"
                        | "keine"
                        | "pas"
                        | "sin"
                )
            });
        if !refused {
            return true;
        }
    }
    false
}

/// Where a short brand that is also an everyday word ("On") is written as the brand, in
/// its own capitals mid-sentence and before a word for shoes ("any On shoes in an 11?",
/// "the On trainers"): not "On Monday" nor "on shoes".
pub(crate) fn short_brand_before_shoe_word(text: &str, brand: &str) -> Option<usize> {
    const SHOE_WORDS: &[&str] = &[
        "shoe", "shoes", "trainer", "trainers", "sneaker", "sneakers", "runners", "running",
        "models", "range", "ones",
    ];
    text.match_indices(brand).find_map(|(at, _)| {
        let before = text[..at].trim_end_matches(' ');
        let mid_sentence = before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == ',');
        let starts_word = text[..at]
            .chars()
            .next_back()
            .is_some_and(char::is_whitespace);
        let next = text[at + brand.len()..]
            .trim_start_matches(' ')
            .split(|c: char| !c.is_alphabetic())
            .next()
            .unwrap_or("");
        (mid_sentence && starts_word && SHOE_WORDS.contains(&next.to_lowercase().as_str()))
            .then_some(at)
    })
}

/// "under $150", "less than 120 dollars", "max $99.99", "budget is $100".
pub(crate) fn parse_max_price(lower: &str) -> Option<i64> {
    for marker in [
        "under",
        "less than",
        "below",
        "max",
        "maximum",
        "budget",
        "no more than",
        "up to",
    ] {
        let mut rest = lower;
        while let Some(at) = rest.find(marker) {
            let after = &rest[at + marker.len()..];
            let digits: String = after
                .trim_start_matches([' ', ':', '$', 'i', 's', 'o', 'f'])
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            if let Ok(amount) = digits.trim_end_matches('.').parse::<f64>() {
                if (10.0..10_000.0).contains(&amount) {
                    return Some((amount * 100.0).round() as i64);
                }
            }
            rest = after;
        }
    }
    None
}
