//! Product attributes from free text, with the catalog's own vocabulary.

use deskhand_core::product::{eu_to_us, CatalogVocabulary, ProductQuery};

/// What a shoe is for, as stems that catalog descriptions use ("cushion" finds
/// "cushioned" and "cushioning"). A recommendation request is matched against them.
const USE_WORDS: &[&str] = &[
    "running",
    "trail",
    "walking",
    "hiking",
    "basketball",
    "tennis",
    "training",
    "gym",
    "marathon",
    "race",
    "racing",
    "casual",
    "cross-training",
    "everyday",
    "cushion",
    "stability",
    "overpronat",
    "neutral",
    "support",
    "waterproof",
    "gore-tex",
    "lightweight",
    "grip",
    "recovery",
    "long run",
    "daily",
    "tempo",
    "spike",
    "track",
    "carbon",
    "toe box",
    "standing",
    "beginner",
    "plantar",
    "arch",
    "flat feet",
    "mud",
    "winter",
];

/// Words of model names that are also everyday words.
const EVERYDAY_MODEL_WORDS: &[&str] = &[
    "trail",
    "light",
    "waterproof",
    "peak",
    "road",
    "pro",
    "plus",
    "elite",
    "wide",
    "walker",
    "running",
    "ultra",
    "sense",
    "ride",
    "guide",
    "wave",
    "fresh",
    "foam",
    "boost",
    "speed",
    "flow",
    "structure",
    "transport",
    "triumph",
    "glide",
    "ghost",
    "lone",
    "zoom",
    "free",
    "react",
    "mach",
    "invincible",
    "adrenaline",
    "launch",
    "rebel",
    "challenger",
    "court",
    "force",
    "cloud",
    "max",
    "shift",
    "sport",
    "edge",
    "terrain",
    "summit",
];

/// Colour words in the customer's language → the catalog's English colour.
const COLOR_WORDS: &[(&str, &str)] = &[
    ("gray", "Grey"),
    ("navy blue", "Navy"),
    ("schwarz", "Black"),
    ("schwarze", "Black"),
    ("schwarzen", "Black"),
    ("weiß", "White"),
    ("weiss", "White"),
    ("weißen", "White"),
    ("grau", "Grey"),
    ("blau", "Blue"),
    ("rot", "Red"),
    ("grün", "Green"),
    ("noir", "Black"),
    ("noire", "Black"),
    ("noires", "Black"),
    ("blanc", "White"),
    ("blanche", "White"),
    ("gris", "Grey"),
    ("grise", "Grey"),
    ("bleu", "Blue"),
    ("bleue", "Blue"),
    ("rouge", "Red"),
    ("vert", "Green"),
    ("rose", "Pink"),
    ("negro", "Black"),
    ("negra", "Black"),
    ("negras", "Black"),
    ("negros", "Black"),
    ("blanco", "White"),
    ("blanca", "White"),
    ("blancas", "White"),
    ("azul", "Blue"),
    ("rojo", "Red"),
    ("verde", "Green"),
    ("rosa", "Pink"),
    // Navy in each language, before its "blue" word is read as blue.
    ("navy", "Navy"),
    ("bleu marine", "Navy"),
    ("azul marino", "Navy"),
    ("dunkelblau", "Navy"),
    ("marineblau", "Navy"),
    ("lacivert", "Navy"),
    ("granatowy", "Navy"),
    ("orange", "Orange"),
    ("naranja", "Orange"),
    ("oranje", "Orange"),
    ("arancione", "Orange"),
    ("gelb", "Yellow"),
    ("jaune", "Yellow"),
    ("amarillo", "Yellow"),
    ("geel", "Yellow"),
    ("giallo", "Yellow"),
    ("violett", "Purple"),
    ("morado", "Purple"),
    ("paars", "Purple"),
    // Dutch, Italian, Portuguese, Polish and Turkish customers write in English with
    // their own colour words.
    ("zwart", "Black"),
    ("grijs", "Grey"),
    ("blauw", "Blue"),
    ("rood", "Red"),
    ("groen", "Green"),
    ("roze", "Pink"),
    ("nero", "Black"),
    ("nera", "Black"),
    ("bianco", "White"),
    ("grigio", "Grey"),
    ("blu", "Blue"),
    ("azzurro", "Blue"),
    ("rosso", "Red"),
    ("preto", "Black"),
    ("preta", "Black"),
    ("branco", "White"),
    ("branca", "White"),
    ("cinza", "Grey"),
    ("vermelho", "Red"),
    ("czarny", "Black"),
    ("czarne", "Black"),
    ("biały", "White"),
    ("białe", "White"),
    ("szary", "Grey"),
    ("szare", "Grey"),
    ("niebieski", "Blue"),
    ("niebieskie", "Blue"),
    ("czerwony", "Red"),
    ("zielony", "Green"),
    ("siyah", "Black"),
    ("beyaz", "White"),
    ("gri", "Grey"),
    ("mavi", "Blue"),
    ("kırmızı", "Red"),
    ("yeşil", "Green"),
];

/// Extracts what the customer asked for. Every field may stay empty.
pub fn extract_product_query(text: &str, vocabulary: &CatalogVocabulary) -> ProductQuery {
    let lower = text.to_lowercase();
    let words: Vec<String> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '/' || c == '½'))
        .map(|w| w.trim_matches('.').to_owned())
        .filter(|w| !w.is_empty())
        .collect();
    let has_word = |needle: &str| {
        let needle = needle.to_lowercase();
        if needle.contains(' ') {
            lower.contains(&needle)
        } else {
            // "Kayanos" asks for the Kayano.
            words
                .iter()
                .any(|w| *w == needle || w.strip_suffix('s') == Some(needle.as_str()))
        }
    };
    // A use word is a stem: it may start a longer word ("cushion" in "cushioned").
    let has_stem = |stem: &str| {
        lower.match_indices(stem).any(|(at, _)| {
            lower[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
        })
    };

    // A brand that is also a short everyday word ("On") counts only right before one of
    // the catalog's model words ("On Cloudmonster"), not in "on the stairs".
    let model_vocabulary: Vec<String> = vocabulary
        .models
        .iter()
        .flat_map(|m| {
            m.to_lowercase()
                .split([' ', '-'])
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|w| w.len() >= 4 && w.chars().any(char::is_alphabetic))
        .collect();
    let names_the_brand = |brand: &str| {
        let brand = brand.to_lowercase();
        if brand.chars().count() > 3 {
            return has_word(&brand);
        }
        words.windows(2).any(|pair| {
            pair[0] == brand
                && model_vocabulary
                    .iter()
                    .any(|m| *m == pair[1] || pair[1].strip_suffix('s') == Some(m.as_str()))
        })
    };
    // Of several brands, the one named first: "any Hoka stability shoes? I was in Brooks
    // for years" asks about Hoka.
    let brand_position = |brand: &str| {
        let brand = brand.to_lowercase();
        if brand.chars().count() > 3 {
            return lower.find(&brand).unwrap_or(usize::MAX);
        }
        // A short brand counts before a model word only ("On Cloudmonster").
        words
            .windows(2)
            .filter(|pair| {
                pair[0] == brand
                    && model_vocabulary
                        .iter()
                        .any(|m| *m == pair[1] || pair[1].strip_suffix('s') == Some(m.as_str()))
            })
            .find_map(|pair| lower.find(&format!("{} {}", pair[0], pair[1])))
            .unwrap_or(usize::MAX)
    };
    let brand = vocabulary
        .brands
        .iter()
        .filter(|b| names_the_brand(b))
        .min_by_key(|b| brand_position(b))
        .cloned();
    // Model words: words of catalog model names (not numbers, not the brand). A name word
    // that is also everyday English ("Guide", "Trail", "Light") counts only beside a word
    // that is not (the "Pegasus" of "Pegasus Trail"), after a brand ("Saucony Guide"), or
    // before the model's number ("Guide 17"): "your size guide" asks for no shoe.
    let mut model_words: Vec<String> = Vec::new();
    let brand_words: Vec<String> = vocabulary.brands.iter().map(|b| b.to_lowercase()).collect();
    for model in &vocabulary.models {
        let name = model.to_lowercase();
        let parts: Vec<&str> = name.split([' ', '-']).filter(|w| !w.is_empty()).collect();
        let numbers: Vec<&str> = parts
            .iter()
            .copied()
            .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
            .collect();
        let candidates: Vec<&str> = parts
            .iter()
            .copied()
            .filter(|w| w.len() >= 4 && w.chars().any(char::is_alphabetic))
            .collect();
        let distinctive_named = candidates
            .iter()
            .any(|w| !EVERYDAY_MODEL_WORDS.contains(w) && has_word(w));
        for word in candidates {
            if !has_word(word) || model_words.iter().any(|m| m == word) {
                continue;
            }
            let everyday = EVERYDAY_MODEL_WORDS.contains(&word);
            let anchored = || {
                words.windows(2).any(|pair| {
                    (pair[1] == word && brand_words.contains(&pair[0]))
                        || (pair[0] == word && numbers.contains(&pair[1].as_str()))
                })
            };
            if !everyday || distinctive_named || anchored() {
                model_words.push(word.to_owned());
            }
        }
    }
    // The catalog's name for a colour: the colour itself, or the catalog's longer name
    // that starts with it ("Navy" is the catalog's "Navy Blue").
    let in_catalog = |english: &str| {
        let prefix = format!("{} ", english.to_lowercase());
        vocabulary
            .colors
            .iter()
            .find(|c| c.eq_ignore_ascii_case(english))
            .or_else(|| {
                vocabulary
                    .colors
                    .iter()
                    .find(|c| c.to_lowercase().starts_with(&prefix))
            })
    };
    // Compound colour words first: "navy blue" is navy, not blue.
    let compound = COLOR_WORDS
        .iter()
        .filter(|(word, _)| word.contains(' ') && has_word(word))
        .find_map(|(_, english)| in_catalog(english));
    // One word's colour, in the catalog's words: "grey", "schwarz", "navy" of "navy blue".
    let colour_of = |word: &str| {
        in_catalog(word).or_else(|| {
            COLOR_WORDS
                .iter()
                .find(|(w, _)| *w == word)
                .and_then(|(_, english)| in_catalog(english))
        })
    };
    // The colour ending at word `i`: a compound ("navy blue") wins over its last word.
    let colour_at = |i: usize| {
        i.checked_sub(1)
            .and_then(|before| {
                let pair = format!("{} {}", words[before], words[i]);
                COLOR_WORDS
                    .iter()
                    .find(|(w, _)| *w == pair)
                    .and_then(|(_, english)| in_catalog(english))
            })
            .or_else(|| colour_of(&words[i]))
    };
    // "black or grey", "blanc ou rose": every colour of an either-or is one they'd take,
    // the first of them first.
    let mut either_or: Vec<String> = Vec::new();
    for i in 1..words.len().saturating_sub(1) {
        if !matches!(words[i].as_str(), "or" | "oder" | "ou" | "o") {
            continue;
        }
        // "naranja o en azul", "black or the navy": one small word may sit between.
        let next =
            if matches!(words[i + 1].as_str(), "en" | "in" | "the" | "a") && i + 2 < words.len() {
                i + 2
            } else {
                i + 1
            };
        if let (Some(a), Some(b)) = (colour_at(i - 1), colour_of(&words[next])) {
            for c in [a, b] {
                if !either_or.contains(c) {
                    either_or.push(c.clone());
                }
            }
        }
    }
    let color = either_or
        .first()
        .or(compound)
        .or_else(|| vocabulary.colors.iter().find(|c| has_word(c)))
        .or_else(|| {
            // The catalog's colours are English; customers write theirs.
            COLOR_WORDS
                .iter()
                .find(|(word, _)| has_word(word))
                .and_then(|(_, english)| in_catalog(english))
        })
        .cloned();
    let other_colors: Vec<String> = either_or.iter().skip(1).cloned().collect();
    let material = vocabulary.materials.iter().find(|m| has_word(m)).cloned();
    let width = if lower.contains("extra wide")
        || lower.contains("extra-wide")
        || has_word("4e")
        || has_word("eeee")
    {
        Some("4E".to_owned())
    } else if has_word("wide") || has_word("ee") || has_word("2e") {
        Some("2E".to_owned())
    } else if has_word("narrow") {
        Some("B".to_owned())
    } else {
        vocabulary
            .widths
            .iter()
            .find(|w| w.len() > 1 && has_word(w))
            .cloned()
    };
    let use_words = USE_WORDS
        .iter()
        .filter(|w| has_stem(w))
        .map(|w| (*w).to_owned())
        .collect();
    let sizes = parse_sizes(&lower);
    // The version named right after a model word ("Kayano 31", "Ghost 15"): one the
    // catalog has, or a number that is not the size asked for ("Clifton 10 in a 10" is
    // too close to call, and left to the size).
    let is_a_size = |n: f64| {
        sizes
            .as_ref()
            .is_some_and(|s| s.first == n || s.others.contains(&n))
    };
    let mut model_numbers: Vec<String> = Vec::new();
    for pair in words.windows(2) {
        let (word, number) = (pair[0].as_str(), pair[1].as_str());
        let model_word = word
            .strip_suffix('s')
            .filter(|w| model_words.iter().any(|m| m == w));
        let Some(model_word) = model_words
            .iter()
            .find(|m| m.as_str() == word)
            .map(String::as_str)
            .or(model_word)
        else {
            continue;
        };
        if number.is_empty() || number.len() > 3 || !number.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        // "bought the Ghost 2 weeks ago": a quantity, not a version.
        let at = words
            .windows(2)
            .position(|p| p[0] == word && p[1] == number)
            .unwrap_or(0);
        if words.get(at + 2).is_some_and(|w| is_unit(w)) {
            continue;
        }
        let in_catalog = vocabulary.models.iter().any(|m| {
            let m = m.to_lowercase();
            let parts: Vec<&str> = m.split([' ', '-']).collect();
            parts.contains(&model_word) && parts.contains(&number)
        });
        let value: f64 = number.parse().unwrap_or(0.0);
        let version = format!("{model_word} {number}");
        if (in_catalog || !is_a_size(value)) && !model_numbers.contains(&version) {
            model_numbers.push(version);
        }
    }
    // The waterproof version, named ("GTX", "Gore-Tex") and not refused ("not the GTX").
    // Its material is the waterproof one, whatever else the email mentions ("I only see
    // the normal mesh one").
    let waterproof = names_waterproof_version(&words);
    if waterproof && !model_words.iter().any(|m| m == "gtx") {
        model_words.push("gtx".to_owned());
    }
    let material = if waterproof {
        vocabulary
            .materials
            .iter()
            .find(|m| m.to_lowercase().starts_with("gore"))
            .cloned()
    } else {
        material
    };
    ProductQuery {
        brand,
        model_words,
        model_numbers,
        size: sizes.as_ref().map(|s| s.first),
        other_sizes: sizes.map(|s| s.others).unwrap_or_default(),
        width,
        color,
        other_colors,
        material,
        max_price_cents: parse_max_price(&lower),
        use_words,
    }
}

/// Whether the customer asks for the Gore-Tex version: "GTX", "Gore-Tex", "waterproof",
/// unless a negation comes within the four words before ("not the GTX one", "not
/// interested in the Gore-Tex").
fn names_waterproof_version(words: &[String]) -> bool {
    for (i, word) in words.iter().enumerate() {
        let gtx = matches!(
            word.as_str(),
            "gtx" | "goretex" | "waterproof" | "wasserdicht" | "imperméable" | "impermeable"
        ) || (word == "gore" && words.get(i + 1).is_some_and(|w| w == "tex"));
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
struct SizesNamed {
    /// US size.
    first: f64,
    /// "a 10 or a 10.5", "42 oder 42,5", "a 9 for my son and an 11 for me" (US sizes).
    others: Vec<f64>,
}

/// Finds the first size as [`parse_size`] does, then the sizes joined to it by "or",
/// "and" and their German, French and Spanish words, within a few words.
fn parse_sizes(lower: &str) -> Option<SizesNamed> {
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
        .collect();
    let number = size_number;

    for (i, token) in tokens.iter().enumerate() {
        let (system, start) = match token.trim_end_matches(['.', ':']) {
            "size" | "sz" | "us" | "usa" => (SizeSystem::Us, i + 1),
            "eu" | "eur" | "euro" | "european" | "europe" => (SizeSystem::Eu, i + 1),
            "uk" => (SizeSystem::Uk, i + 1),
            // Words for "size" that come with European sizes more often than not; the
            // number decides (US sizes stop at 16, EU sizes start at 35).
            "größe" | "grösse" | "gr" | "schuhgröße" | "pointure" | "taille" | "talla"
            | "número" | "numero" | "taglia" | "maat" | "calza" | "calzo" | "chausse"
            | "chausses" => (SizeSystem::Us, i + 1),
            // "in a 12", "I wear an 11"
            "a" | "an"
                if i > 0 && matches!(tokens[i - 1], "in" | "wear" | "i'm" | "im" | "am" | "a") =>
            {
                (SizeSystem::Us, i + 1)
            }
            _ => continue,
        };
        // "size eu 43", "size uk 8", "size us 9"
        let (system, start) = match tokens.get(start).copied() {
            Some("eu" | "eur") => (SizeSystem::Eu, start + 1),
            Some("uk") => (SizeSystem::Uk, start + 1),
            Some("us") => (SizeSystem::Us, start + 1),
            _ => (system, start),
        };
        if let Some(value) = tokens.get(start).and_then(|t| number(t)) {
            // "the UK 3 weeks ago" is a duration, not a size.
            let next = tokens
                .get(start + 1)
                .map(|t| t.trim_end_matches(['.', '?', '!', ':', ',']));
            if next.is_some_and(is_unit) {
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
        let value = with_fraction(value, tokens.get(i + 1));
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

fn is_unit(word: &str) -> bool {
    QUANTITY_UNITS.iter().any(|q| word.starts_with(q))
}

/// Words a size follows: "size 9", "talla 42", "Größe 44", "a 10".
const SIZE_WORDS: &[&str] = &[
    "size",
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
    // Each joined size moves the search on from it ("9, 9.5 or 10").
    while let Some(connector) = (last + 1..tokens.len().min(last + 7))
        .find(|&i| CONNECTORS.contains(&tokens[i].trim_end_matches([',', '.'])))
    {
        let Some((i, v)) = (connector + 1..tokens.len().min(connector + 7))
            .find_map(|i| size_number(tokens[i]).map(|v| (i, v)))
        else {
            break;
        };
        let v = with_fraction(v, tokens.get(i + 1));
        let unit = tokens
            .get(i + 1)
            .map(|t| t.trim_end_matches(['.', '?', '!', ':']));
        let quantity = unit.is_some_and(is_unit);
        let named_as_size = i == connector + 1 || SIZE_WORDS.contains(&tokens[i - 1]);
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
        if let Some((_, n)) = WORDS.iter().find(|(w, _)| *w == word) {
            let half = tokens.get(i + 1..i + 4).is_some_and(|t| {
                t.join(" ").trim_end_matches([',', '.', '?', '!']) == "and a half"
            });
            if half {
                out.push(format!("{n}.5"));
                i += 4;
            } else {
                out.push(n.to_string());
                i += 1;
            }
            continue;
        }
        out.push(tokens[i].to_owned());
        i += 1;
    }
    out.join(" ")
}

/// "under $150", "less than 120 dollars", "max $99.99", "budget is $100".
fn parse_max_price(lower: &str) -> Option<i64> {
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
