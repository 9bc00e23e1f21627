//! The catalog's names as customers misspell them: "cliffton", "brookes", "addidas",
//! "saucany", "vomaro", and names split in two ("ultra boost", "cloud monster"). The
//! text is rewritten to the catalog's spelling before attributes are read, so that every
//! rule after this one sees the name the customer meant.
//!
//! A near miss is taken only where it is safe: a word of a distinctive name (long, and
//! not everyday English), one edit away (two for long names), and only next to what
//! confirms a shoe is meant (a number after it, another name word, or a brand in the
//! email); a brand near miss only before a model word or a number. "Could" is not
//! "Cloud", and "spend" is not "Speed".

use deskhand_core::product::CatalogVocabulary;

/// Rewrites the lower-cased `text` with the catalog's spelling of the brand and model
/// names it misspells or splits. `everyday` lists model words that are also everyday
/// English: short ones are never the target of a near miss.
pub(crate) fn with_catalog_spelling(
    text: &str,
    vocabulary: &CatalogVocabulary,
    everyday: &[&str],
) -> String {
    let brands: Vec<String> = vocabulary
        .brands
        .iter()
        .map(|b| b.to_lowercase())
        .filter(|b| !b.contains(' ') && b.chars().count() >= 4)
        .collect();
    let mut names: Vec<String> = name_parts(vocabulary)
        .filter(|w| w.chars().count() >= 6 && w.chars().all(char::is_alphabetic))
        // A short everyday word ("guide", "speed") has too many neighbours to be a near
        // miss; a long one ("adrenaline", "invincible") is still anchored by the
        // extraction's own rule for everyday model words.
        .filter(|w| !everyday.contains(&w.as_str()) || w.chars().count() >= 8)
        .collect();
    names.sort();
    names.dedup();
    let known = |w: &str| {
        brands
            .iter()
            .chain(&names)
            .any(|k| k == w || w.strip_suffix('s') == Some(k.as_str()))
    };

    let mut tokens: Vec<String> = text.split(' ').map(str::to_owned).collect();
    // Names split in two: "ultra boost" → "ultraboost", "speed cross" → "speedcross".
    let mut i = 0;
    while i + 1 < tokens.len() {
        let (first, _) = split_punctuation(&tokens[i]);
        let (second, tail) = split_punctuation(&tokens[i + 1]);
        let joined = format!("{first}{second}");
        if !first.is_empty()
            && !second.is_empty()
            && !known(first)
            && names.iter().chain(&brands).any(|n| *n == joined)
        {
            tokens[i] = format!("{joined}{tail}");
            tokens.remove(i + 1);
        }
        i += 1;
    }

    let cores: Vec<String> = tokens
        .iter()
        .map(|t| split_punctuation(t).0.to_owned())
        .collect();
    let is_number = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_digit());
    let brand_said = cores.iter().any(|w| brands.contains(w));
    let mut spelled = tokens.clone();
    // Brand near misses, not yet confirmed: "asic" for Asics; otherwise one edit, the word
    // at least 5 letters long ("mike" is a name, not Nike).
    let brand_near: Vec<Option<&String>> = cores
        .iter()
        .map(|word| {
            // "ultra" is a word, not Altra.
            if word.chars().count() < 4
                || !word.chars().all(char::is_alphabetic)
                || known(word)
                || everyday.contains(&word.as_str())
            {
                return None;
            }
            brands
                .iter()
                .find(|b| b.strip_suffix('s') == Some(word.as_str()) && b.chars().count() >= 5)
                .or_else(|| {
                    let found: Vec<&String> = brands
                        .iter()
                        .filter(|b| word.chars().count() >= 5 && distance(word, b) == 1)
                        .collect();
                    (found.len() == 1).then(|| found[0])
                })
        })
        .collect();
    // Model names next: a corrected model word then confirms a brand near miss before it.
    let mut corrected_names: Vec<usize> = Vec::new();
    for (at, word) in cores.iter().enumerate() {
        if word.chars().count() < 5 || !word.chars().all(char::is_alphabetic) || known(word) {
            continue;
        }
        let Some(name) = nearest(word, &names) else {
            continue;
        };
        let beside = |offset: isize| {
            at.checked_add_signed(offset)
                .and_then(|j| cores.get(j))
                .map(String::as_str)
        };
        let brand_before = [1, 2].iter().any(|back| {
            at.checked_sub(*back)
                .is_some_and(|j| brand_near[j].is_some())
        });
        let close_by = [beside(1), beside(2)].into_iter().flatten().any(is_number)
            || [beside(-1), beside(1)]
                .into_iter()
                .flatten()
                .any(|w| names.iter().any(|n| n == w));
        // Two edits away ("solution" from "resolution") needs the name's own neighbours;
        // a brand somewhere in the email is not enough.
        let one_edit = distance(word, name) == 1;
        let confirmed = close_by || (one_edit && (brand_said || brand_before));
        if confirmed {
            spelled[at] = tokens[at].replacen(word.as_str(), name, 1);
            corrected_names.push(at);
        }
    }
    for (at, word) in cores.iter().enumerate() {
        let Some(brand) = brand_near[at] else {
            continue;
        };
        // Right before a model word or a number: "brookes adrenaline", "hokka mach 6",
        // "asic gt 2000"; not "I'm Brooke, order 4471".
        let confirmed = is_number(cores.get(at + 1).map_or("", String::as_str))
            || (at + 1..cores.len().min(at + 3)).any(|j| {
                corrected_names.contains(&j)
                    || names.iter().any(|n| *n == cores[j])
                    || vocabulary
                        .models
                        .iter()
                        .any(|m| m.to_lowercase().split([' ', '-']).any(|p| p == cores[j]))
            });
        if confirmed {
            spelled[at] = tokens[at].replacen(word.as_str(), brand, 1);
        }
    }
    spelled.join(" ")
}

/// The words of the catalog's model names, lower-cased ("gel", "kayano", "31", "gt").
pub(crate) fn name_parts(vocabulary: &CatalogVocabulary) -> impl Iterator<Item = String> + '_ {
    vocabulary.models.iter().flat_map(|m| {
        m.to_lowercase()
            .split([' ', '-'])
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    })
}

/// A token's word and what follows it ("cliffton?" → "cliffton", "?").
fn split_punctuation(token: &str) -> (&str, &str) {
    let end = token
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_alphanumeric())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let start = token[..end]
        .char_indices()
        .find(|(_, c)| c.is_alphanumeric())
        .map_or(end, |(i, _)| i);
    (&token[start..end], &token[end..])
}

/// The one name within reach of `word`: one edit for names up to 8 letters, two for
/// longer ones. `None` when none is, or when two are equally near.
fn nearest<'a>(word: &str, names: &'a [String]) -> Option<&'a str> {
    let reach = |name: &str| if name.chars().count() > 8 { 2 } else { 1 };
    let mut best: Option<(&str, usize)> = None;
    let mut tie = false;
    for name in names {
        let d = distance(word, name);
        if d == 0 || d > reach(name) {
            continue;
        }
        match best {
            Some((_, b)) if d > b => {}
            Some((_, b)) if d == b => tie = true,
            _ => {
                best = Some((name, d));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(name, _)| name)
}

/// Levenshtein distance, by characters.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> CatalogVocabulary {
        CatalogVocabulary {
            brands: vec![
                "Hoka".into(),
                "Brooks".into(),
                "Adidas".into(),
                "Asics".into(),
                "Nike".into(),
            ],
            models: vec![
                "Gel-Resolution 9".into(),
                "Clifton 9".into(),
                "Adrenaline GTS 24".into(),
                "Ultraboost Light".into(),
                "Vomero 18".into(),
                "GT-2000 13".into(),
                "Cloudmonster".into(),
            ],
            colors: vec![],
            materials: vec![],
            widths: vec![],
        }
    }

    fn spell(text: &str) -> String {
        with_catalog_spelling(text, &catalog(), &["light", "speed"])
    }

    #[test]
    fn misspelled_names_next_to_what_confirms_a_shoe_are_spelled_as_the_catalog_does() {
        assert_eq!(spell("the cliffton 9 in a 10"), "the clifton 9 in a 10");
        assert_eq!(
            spell("brookes adrenalin please"),
            "brooks adrenaline please"
        );
        assert_eq!(
            spell("addidas ultra boost in white"),
            "adidas ultraboost in white"
        );
        assert_eq!(spell("asic gt 2000 sz 12"), "asics gt 2000 sz 12");
        assert_eq!(spell("the on cloud monster?"), "the on cloudmonster?");
        assert_eq!(
            spell("nike running ones, vomaro?"),
            "nike running ones, vomero?"
        );
    }

    #[test]
    fn everyday_words_and_unconfirmed_near_misses_are_left_alone() {
        assert_eq!(spell("could you check"), "could you check");
        assert_eq!(spell("call mike tomorrow"), "call mike tomorrow");
        assert_eq!(spell("the basics of running"), "the basics of running");
        assert_eq!(
            spell("nike pegasus, a real solution for my knees"),
            "nike pegasus, a real solution for my knees",
            "two edits from a long name need the name's own neighbours"
        );
        assert_eq!(spell("i'm brooke, order 4471"), "i'm brooke, order 4471");
        // A near miss with nothing around it that says a shoe is meant.
        assert_eq!(spell("my cliffton holiday"), "my cliffton holiday");
    }
}
