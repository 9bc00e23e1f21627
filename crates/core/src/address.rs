//! Delivery addresses: the address an order ships to, a customer's request to change it,
//! and the new address read from their email. Reading is exact rules (a cue, then the
//! lines or the clause after it) shared by both engines: a model never writes the address
//! an action applies, and the change runs only when a person approves it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A delivery address: one to six lines (street and number, town, postcode, country),
/// kept as the customer or the shop wrote them.
///
/// Read back from a stored draft or the shop's records as written ([`Self::on_file`]):
/// only an address read from an email is judged ([`Self::parse`]), when the draft is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct ShippingAddress(String);

/// Why a text is not a delivery address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("the address is empty")]
    Empty,
    #[error("an address has at most {} lines", ShippingAddress::MAX_LINES)]
    TooManyLines,
    #[error("an address has at most {} characters", ShippingAddress::MAX_CHARS)]
    TooLong,
    #[error("an address holds a house number or a postcode")]
    NoNumber,
    #[error("an address holds no control or invisible formatting characters")]
    ControlCharacter,
}

impl ShippingAddress {
    pub const MAX_LINES: usize = 8;
    pub const MAX_CHARS: usize = 300;

    /// Reads an address written on several lines, or on one line with commas between its
    /// parts. It must name a house number or a postcode: "my new flat" is no address.
    pub fn parse(raw: &str) -> Result<Self, AddressError> {
        let address = Self::on_file(raw);
        if address.0.is_empty() {
            return Err(AddressError::Empty);
        }
        // Bidirectional overrides and zero-width characters would show the reviewer
        // something other than what is stored.
        if address
            .0
            .chars()
            .any(|c| (c.is_control() && c != '\n') || is_invisible_format(c))
        {
            return Err(AddressError::ControlCharacter);
        }
        if address.lines().count() > Self::MAX_LINES {
            return Err(AddressError::TooManyLines);
        }
        if address.0.chars().count() > Self::MAX_CHARS {
            return Err(AddressError::TooLong);
        }
        // A house number or a postcode: a line with letters and digits ("27 Harbour
        // Road", "Dublin 8"), not a telephone number under a name.
        let numbered_line = address.lines().any(|line| {
            line.chars().any(|c| c.is_ascii_digit()) && line.chars().any(char::is_alphabetic)
        });
        if !numbered_line {
            return Err(AddressError::NoNumber);
        }
        Ok(address)
    }

    /// An address as the shop's records hold it: tidied (one part per line, no blank
    /// lines), not judged.
    pub fn on_file(raw: &str) -> Self {
        let one_line = !raw.trim().contains('\n');
        let parts: Vec<&str> = if one_line {
            raw.split([',', ';']).collect()
        } else {
            raw.lines().collect()
        };
        let lines: Vec<String> = parts
            .iter()
            .map(|part| {
                part.split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .trim_end_matches([',', ';'])
                    .to_owned()
            })
            .filter(|line| !line.is_empty())
            .collect();
        Self(lines.join("\n"))
    }

    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.0.lines()
    }

    /// The address on one line, its parts joined by commas: how a reply quotes it.
    pub fn one_line(&self) -> String {
        self.lines().collect::<Vec<_>>().join(", ")
    }

    /// Whether two addresses name the same place, whatever their case, spacing,
    /// punctuation or line breaks.
    pub fn same_place(&self, other: &ShippingAddress) -> bool {
        // Word by word: "Flat 1, 23 Harbour Rd" is not "Flat 12, 3 Harbour Rd".
        fn words(address: &ShippingAddress) -> Vec<String> {
            address
                .0
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect()
        }
        words(self) == words(other)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for ShippingAddress {
    fn from(raw: String) -> Self {
        Self::on_file(&raw)
    }
}

/// Unicode format characters that change how text shows without showing themselves.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// `text` in lower case, character for character where that keeps each character's
/// length in bytes, so that an offset found in the result is one in `text` (Rust's
/// `to_lowercase` turns "İ" into two characters and "ẞ" into a shorter one).
fn fold(text: &str) -> String {
    text.chars()
        .map(|c| {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) if l.len_utf8() == c.len_utf8() => l,
                _ => c,
            }
        })
        .collect()
}

impl From<ShippingAddress> for String {
    fn from(address: ShippingAddress) -> String {
        address.0
    }
}

impl fmt::Display for ShippingAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.one_line())
    }
}

/// Whether the customer asks us to send an order somewhere else ("please change the
/// delivery address", "ship it to ... instead", "neue Lieferadresse", "nouvelle adresse",
/// "cambiar la dirección"), and not a report that a parcel went astray ("it was delivered
/// to the wrong address") or a request to leave the address alone.
///
/// A plain redirect ("send it to", "ship order 4471 to", "to be delivered to") asks for
/// another address only when an address or an "instead" follows it: "could you send it
/// to my new card instead?" is about a refund, "send it to this address" under a
/// company's details is about an invoice.
pub fn asks_address_change(text: &str) -> bool {
    let mut lower = text.to_lowercase();
    // A billing or email address is not where the goods go.
    for other in OTHER_ADDRESSES {
        lower = lower.replace(other, " ");
    }
    let about_something_else = |line: &str| {
        ABOUT_SOMETHING_ELSE
            .iter()
            .any(|w| whole_phrase_at(line, w).next().is_some())
    };
    let asked = lower.lines().any(|line| {
        !about_something_else(line)
            && CHANGE_PHRASES
                .iter()
                .any(|phrase| whole_phrase_at(line, phrase).any(|at| !negated_before(line, at)))
    });
    if asked {
        return true;
    }
    if about_something_else(&lower) {
        return false;
    }
    let redirects_instead = lower.lines().any(|line| {
        redirect_ends(line).any(|end| {
            let sentence = &line[end..];
            let sentence = &sentence[..sentence.find(['.', '?', '!']).unwrap_or(sentence.len())];
            whole_phrase_at(sentence, "instead").next().is_some()
        })
    });
    redirects_instead
        || (lower.lines().any(|l| redirect_ends(l).next().is_some()) && new_address(text).is_some())
}

/// Whether a negation stands in the three words before `at`.
fn negated_before(lower: &str, at: usize) -> bool {
    lower[..at]
        .split_whitespace()
        .rev()
        .take(3)
        .any(|w| NEGATIONS.contains(&w))
}

/// Where `phrase` occurs in `lower` as whole words ("ship them to", not "ship them
/// together").
fn whole_phrase_at<'a>(lower: &'a str, phrase: &'a str) -> impl Iterator<Item = usize> + 'a {
    lower.match_indices(phrase).filter_map(move |(at, _)| {
        let starts = lower[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let ends = lower[at + phrase.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        (starts && ends).then_some(at)
    })
}

/// The words of a line with their byte offsets.
fn words_at(line: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    for (at, c) in line.char_indices() {
        let in_word = c.is_alphanumeric() || c == '\'' || c == '’';
        match (in_word, start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                words.push((from, &line[from..at]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        words.push((from, &line[from..]));
    }
    words
}

/// Where each redirect of a (lowercased) line ends: right after the "to" of "send it
/// to", "ship order 4471 to", "deliver them to", "to be delivered to", "need it shipped
/// to". A past form counts only as something wanted ("be delivered", "need it shipped"),
/// not as a report ("tracking says delivered to"); a negated one not at all.
fn redirect_ends(line: &str) -> impl Iterator<Item = usize> + '_ {
    let words = words_at(line);
    let mut ends = Vec::new();
    for (i, (at, word)) in words.iter().enumerate() {
        let wanted_form = REDIRECT_VERBS.contains(word);
        let past_form = REDIRECTED.contains(word);
        if !wanted_form && !past_form {
            continue;
        }
        let before = &words[i.saturating_sub(3)..i];
        if past_form && !before.iter().any(|(_, w)| WANTING.contains(w)) {
            continue;
        }
        if negated_before(line, *at) {
            continue;
        }
        // "to" within four words, in the same sentence.
        for (to_at, to) in words.iter().skip(i + 1).take(4) {
            if line[*at..*to_at].contains(['.', '?', '!', ';']) {
                break;
            }
            if *to == "to" {
                ends.push(to_at + 2);
                break;
            }
        }
    }
    ends.into_iter()
}

/// The new address the email gives, if it gives one: the rest of a cue's line after a
/// colon, the clause after a redirect when it reads as an address ("ship it to 14 Harbour
/// Road, Leith, EH6 6LU instead"), or the block of address lines below the cue ("my new
/// address is:", "... instead? It's").
pub fn new_address(text: &str) -> Option<ShippingAddress> {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        // Folded, not lowercased: offsets found in it are offsets in the line. A billing
        // or email address is blanked (same length) so that its "address is" cues nothing.
        let mut lower = fold(line);
        for other in OTHER_ADDRESSES {
            lower = lower.replace(other, &" ".repeat(other.len()));
        }
        let Some(cue_end) = cue_end(&lower) else {
            continue;
        };
        let rest = line[cue_end..].trim();
        // "New address: 14 Harbour Road, Leith EH6 6LU", "deliver it to their house
        // instead: 3 Orchard Close, Bristol BS41 9AA".
        if let Some(colon) = rest.find(':') {
            let after = rest[colon + 1..].trim();
            if !after.is_empty() {
                if let Some(address) = inline_address(after) {
                    return Some(address);
                }
            }
        } else if let Some(address) = inline_address(rest) {
            return Some(address);
        }
        // Otherwise the address is the block below the cue.
        if let Some(address) = block_after(&lines[i + 1..]) {
            return Some(address);
        }
    }
    None
}

/// Where the address cue of a (lowercased) line ends: after the last cue phrase or
/// redirect on it.
fn cue_end(lower: &str) -> Option<usize> {
    let phrases = ADDRESS_CUES
        .iter()
        .flat_map(|cue| whole_phrase_at(lower, cue).map(move |at| at + cue.len()));
    phrases.chain(redirect_ends(lower)).max()
}

/// An address written inside a sentence: up to "instead", "please", a question mark or
/// the sentence's end, with at least two parts (a street and a town) and a number.
fn inline_address(rest: &str) -> Option<ShippingAddress> {
    let lower = fold(rest);
    let mut end = rest.len();
    for stop in [
        " instead",
        " please",
        " thanks",
        " thank you",
        "?",
        " if ",
        " rather",
    ] {
        if let Some(at) = lower.find(stop) {
            end = end.min(at);
        }
    }
    // A full stop and a space end the sentence, except after an abbreviation ("St.",
    // "Ave.", "Str."): a word of three letters or fewer without a digit.
    let sentence_end = rest[..end]
        .match_indices(". ")
        .map(|(at, _)| at)
        .find(|&at| {
            let word = rest[..at].rsplit(' ').next().unwrap_or_default();
            word.chars().count() >= 4 || word.chars().any(|c| c.is_ascii_digit())
        });
    if let Some(at) = sentence_end {
        end = at;
    }
    let clause = rest[..end].trim().trim_end_matches(['.', '!']);
    if !clause.contains(',') || !clause.starts_with(|c: char| c.is_alphanumeric()) {
        return None;
    }
    ShippingAddress::parse(clause).ok()
}

/// The block of address lines right under a cue (blank lines between them skipped): two
/// or more short lines together, one with a house number or postcode, up to the first
/// line that is not one (a question, a label such as "Order: 4471", a sign-off, a
/// sentence, a blank line).
fn block_after(lines: &[&str]) -> Option<ShippingAddress> {
    let block: Vec<&str> = lines
        .iter()
        .map(|line| line.trim())
        .skip_while(|line| line.is_empty())
        .take_while(|line| {
            let lower = line.to_lowercase();
            !line.is_empty()
                && line.split_whitespace().count() <= 8
                && !line.contains(['?', ':', '@'])
                && !lower.contains("www.")
                && !lower.contains("http")
                && !["tel", "phone", "mobile", "mob", "cell", "fax"]
                    .iter()
                    .any(|label| starts_with_word(&lower, label))
                && whole_phrase_at(&lower, "order").next().is_none()
                && !SIGN_OFFS.iter().any(|s| starts_with_word(&lower, s))
        })
        .take(ShippingAddress::MAX_LINES)
        .collect();
    if block.len() < 2 {
        return None;
    }
    ShippingAddress::parse(&block.join("\n")).ok()
}

/// Whether `lower` starts with `word` as a whole word ("best," but not "Bestwood Road").
fn starts_with_word(lower: &str, word: &str) -> bool {
    whole_phrase_at(lower, word).any(|at| at == 0)
}

/// Phrases that ask for another delivery address.
const CHANGE_PHRASES: &[&str] = &[
    "change the address",
    "change my address",
    "change the shipping address",
    "change the delivery address",
    "change my shipping address",
    "change my delivery address",
    "change of address",
    "address change",
    "update the address",
    "update my address",
    "update the shipping address",
    "update the delivery address",
    "update my shipping address",
    "update my delivery address",
    "new address",
    "new shipping address",
    "new delivery address",
    "different address",
    "redirect the order",
    "correct address is",
    "right address is",
    "address should be",
    "put the wrong address",
    "entered the wrong address",
    "typed the wrong address",
    "typo in the address",
    "typo in my address",
    "old address",
    "adresse ändern",
    "lieferadresse ändern",
    "neue adresse",
    "neue lieferadresse",
    "adressänderung",
    "an diese adresse",
    "an folgende adresse",
    "falsche adresse angegeben",
    "changer l'adresse",
    "changer mon adresse",
    "modifier l'adresse",
    "modifier mon adresse",
    "nouvelle adresse",
    "changement d'adresse",
    "à cette adresse",
    "à l'adresse suivante",
    "cambiar la dirección",
    "cambiar mi dirección",
    "cambiar la direccion",
    "modificar la dirección",
    "nueva dirección",
    "nueva direccion",
    "cambio de dirección",
    "a esta dirección",
    "a la siguiente dirección",
    "dirección correcta",
];

/// Verbs that send goods somewhere, as a request ("send it to", "ship order 4471 to").
// Not "forward": "I look forward to hearing from you".
const REDIRECT_VERBS: &[&str] = &["send", "ship", "deliver", "redirect", "reroute"];

/// Their past forms, which ask only after a word of wanting ("to be delivered to", "I
/// need it shipped to").
const REDIRECTED: &[&str] = &["sent", "shipped", "delivered", "redirected"];

const WANTING: &[&str] = &[
    "be", "need", "needs", "want", "wanted", "like", "have", "get", "please",
];

/// Addresses that are not where the goods go.
const OTHER_ADDRESSES: &[&str] = &[
    "billing address",
    "invoice address",
    "email address",
    "e-mail address",
    "mail address",
    "rechnungsadresse",
    "e-mail-adresse",
    "adresse de facturation",
    "adresse e-mail",
    "adresse mail",
    "dirección de facturación",
    "dirección de correo",
    "adresse email",
    "e-mail adresse",
    "email-adresse",
    "email adresse",
    "dirección de email",
    "dirección de e-mail",
];

/// Words that make "send it to" about a document or money, not the goods: "send the
/// invoice to", "send the refund to my new card".
const ABOUT_SOMETHING_ELSE: &[&str] = &[
    "invoice",
    "receipt",
    "rechnung",
    "facture",
    "factura",
    "fattura",
    "label",
    "refund",
    "card",
    "bank transfer",
    "voucher",
    "facturation",
    "facturación",
];

/// What comes right before a new address (the last one on a line wins).
const ADDRESS_CUES: &[&str] = &[
    "new address",
    "new shipping address",
    "new delivery address",
    "correct address",
    "right address",
    "address should be",
    "address is",
    "address to",
    "following address",
    "this address",
    "neue adresse",
    "neue lieferadresse",
    "folgende adresse",
    "diese adresse",
    "nouvelle adresse",
    "cette adresse",
    "adresse suivante",
    "nueva dirección",
    "nueva direccion",
    "esta dirección",
    "siguiente dirección",
    "dirección correcta",
];

/// Lines that end an address block.
const SIGN_OFFS: &[&str] = &[
    "thank",
    "thanks",
    "many thanks",
    "regards",
    "kind regards",
    "best",
    "cheers",
    "sent from",
    "--",
    "danke",
    "viele grüße",
    "mit freundlichen",
    "liebe grüße",
    "merci",
    "cordialement",
    "bien à vous",
    "gracias",
    "saludos",
    "un saludo",
    "please",
    "could you",
    "can you",
];

const NEGATIONS: &[&str] = &[
    "don't", "don’t", "dont", "not", "never", "nicht", "pas", "no",
];
