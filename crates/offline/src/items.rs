//! Several items in one email: a list of products (numbered or bulleted), each with its
//! own attributes, and two models weighed against each other ("the Kayano or the Nimbus?",
//! "Challenger 7 GTX ou X Ultra 4 GTX"), each looked up with what the email says of both.

use crate::extract::extract_item;
use deskhand_core::product::{CatalogVocabulary, ProductQuery};

/// Extracts what the customer asked for. Every field may stay empty. An email that lists
/// several items ("1) the Pegasus 41 in a 10 2) the Ghost 16, she wears a 40", one per
/// bullet) asks for each with its own attributes: the first is the query, the others its
/// `also`.
pub fn extract_product_query(text: &str, vocabulary: &CatalogVocabulary) -> ProductQuery {
    let names_a_product = |q: &ProductQuery| q.brand.is_some() || !q.model_words.is_empty();
    let mut items: Vec<ProductQuery> = listed_items(text)
        .into_iter()
        .map(|item| extract_item(item, vocabulary))
        .filter(names_a_product)
        .collect();
    if items.len() < 2 {
        // Two models weighed need two model words in the whole email: most emails are
        // read once.
        let whole = extract_item(text, vocabulary);
        if whole.model_words.len() < 2 {
            return whole;
        }
        return compared_items(text, vocabulary, &whole).unwrap_or(whole);
    }
    let mut first = items.remove(0);
    first.also = items;
    first
}

/// Words that set two models against each other: "the Kayano or the Nimbus", "Ghost 16 vs
/// Glycerin 21", "Kayano o Nimbus", "Challenger ou X Ultra".
const WEIGHING: &[&str] = &["or", "vs", "versus", "oder", "ou", "o"];

/// "Between" words: after one, "and" weighs too ("torn between the Kayano and the
/// Adrenaline", "zwischen dem Nimbus und dem 1080", "entre la Speedcross y la Peregrine").
const BETWEEN: &[&str] = &["between", "zwischen", "entre", "tra", "fra", "tussen"];
const AND: &[&str] = &["and", "und", "et", "y", "e", "en"];

/// The sentences of a text: a stop ends one only before a space or the end ("size 9.5."
/// is one sentence, not "size 9." and "5.").
fn sentences(text: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map(|(_, n)| *n);
        let ends =
            c == '\n' || (matches!(c, '.' | '?' | '!') && next.is_none_or(char::is_whitespace));
        if ends {
            let end = at + c.len_utf8();
            sentences.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        sentences.push(&text[start..]);
    }
    sentences
}

/// Two different models named on either side of "or" / "vs" in one sentence: both are
/// what the customer asks about, each with the size, width and colour the whole email
/// gives ("do you have the Kayano or the Nimbus in a 10.5 wide?"). `None` when only one
/// side names a model ("the Pegasus or something like it"), or both name the same one.
fn compared_items(
    text: &str,
    vocabulary: &CatalogVocabulary,
    whole: &ProductQuery,
) -> Option<ProductQuery> {
    for sentence in sentences(text) {
        let words: Vec<&str> = sentence.split(' ').collect();
        let bare = |word: &str| {
            word.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        };
        let mut after_between = false;
        for (i, word) in words.iter().enumerate() {
            let bare = bare(word);
            after_between |= BETWEEN.contains(&bare.as_str());
            let weighs = WEIGHING.contains(&bare.as_str())
                || (after_between && AND.contains(&bare.as_str()));
            if !weighs || i == 0 {
                continue;
            }
            let left = extract_item(&words[..i].join(" "), vocabulary);
            let right = extract_item(&words[i + 1..].join(" "), vocabulary);
            let distinct = !left.model_words.is_empty()
                && !right.model_words.is_empty()
                && left
                    .model_words
                    .iter()
                    .all(|w| !right.model_words.contains(w));
            if !distinct {
                continue;
            }
            // Each side keeps what it says of itself ("the Pegasus in a 10 or the Vomero
            // in a 9") and takes the rest from the whole email.
            let side = |part: ProductQuery| {
                let (size, other_sizes) = match part.size {
                    Some(size) => (Some(size), part.other_sizes),
                    None => (whole.size, whole.other_sizes.clone()),
                };
                let (color, other_colors) = match part.color {
                    Some(color) => (Some(color), part.other_colors),
                    None => (whole.color.clone(), whole.other_colors.clone()),
                };
                ProductQuery {
                    // A side that names no brand keeps none: the whole email's brand is
                    // the first one named, often the other side's ("the Pegasus 41 or
                    // the Ghost 16" is no Nike Ghost).
                    brand: part.brand,
                    model_words: part.model_words,
                    model_numbers: part.model_numbers,
                    size,
                    other_sizes,
                    width: part.width.or_else(|| whole.width.clone()),
                    color,
                    other_colors,
                    also: Vec::new(),
                    ..whole.clone()
                }
            };
            let mut first = side(left);
            first.also = vec![side(right)];
            return Some(first);
        }
    }
    None
}

/// The parts of a list the email makes: lines that start with a bullet ("-", "•", "*") or
/// a number ("1)", "2.", "(3)"), and numbered points written on one line ("1) ... 2) ...")
/// when their numbers run 1, 2, 3 (so "(size 10)" is no point). Fewer than two: no list.
fn listed_items(text: &str) -> Vec<&str> {
    let number_of = |token: &str, dot: bool| {
        let token = token.trim_start_matches('(');
        token
            .strip_suffix(')')
            .or_else(|| token.strip_suffix('.').filter(|_| dot))
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=20).contains(n))
    };
    let mut bullets: Vec<usize> = Vec::new();
    let mut numbered: Vec<(usize, u8)> = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let mut at = line_start;
        for (i, token) in line.split_whitespace().enumerate() {
            // Tokens come in order: each is found after the one before.
            let offset = at + line[at - line_start..].find(token).unwrap_or(0);
            at = offset + token.len();
            if i == 0 && matches!(token, "-" | "•" | "*" | "–") {
                bullets.push(offset);
            } else if let Some(n) = number_of(token, i == 0) {
                numbered.push((offset, n));
            }
        }
        line_start += line.len();
    }
    // Numbered points count when they run 1, 2, 3...: the first 1 starts the run.
    let run: Vec<usize> = numbered
        .iter()
        .position(|(_, n)| *n == 1)
        .map(|first| {
            let mut expected = 1;
            numbered[first..]
                .iter()
                .filter(|(_, n)| {
                    let next = *n == expected;
                    if next {
                        expected += 1;
                    }
                    next
                })
                .map(|(offset, _)| *offset)
                .collect()
        })
        .unwrap_or_default();
    let mut starts = if run.len() >= 2 { run } else { bullets };
    starts.sort_unstable();
    if starts.len() < 2 {
        return Vec::new();
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| &text[start..starts.get(i + 1).copied().unwrap_or(text.len())])
        .collect()
}
