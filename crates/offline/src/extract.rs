//! Product attributes from free text, with the catalog's own vocabulary.

use crate::sizes::{is_unit, parse_sizes};
use crate::spelling::{name_parts, with_catalog_spelling};
use crate::written::{
    link_parts_apart, names_waterproof_version, parse_max_price, says_standard_width,
    short_brand_before_shoe_word, two_tone_in_catalog, with_brand_nicknames, without_versions,
};
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

/// Words that refuse what follows them: "except pink", "not the orange", "außer Rot".
const REFUSING_WORDS: &[&str] = &[
    "except", "not", "apart", "without", "nicht", "kein", "keine", "außer", "ausser", "ohne",
    "sauf", "pas", "excepto", "menos", "salvo", "sin",
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

/// Extracts one item's attributes.
pub(crate) fn extract_item(text: &str, vocabulary: &CatalogVocabulary) -> ProductQuery {
    let lower = with_catalog_spelling(
        &with_brand_nicknames(&link_parts_apart(&text.to_lowercase())),
        vocabulary,
        EVERYDAY_MODEL_WORDS,
    );
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
    let model_vocabulary: Vec<String> = name_parts(vocabulary)
        .filter(|w| w.len() >= 4 && w.chars().any(char::is_alphabetic))
        .collect();
    let names_the_brand = |brand: &str| {
        let lowered = brand.to_lowercase();
        if lowered.chars().count() > 3 {
            return has_word(&lowered);
        }
        words.windows(2).any(|pair| {
            pair[0] == lowered
                && model_vocabulary
                    .iter()
                    .any(|m| *m == pair[1] || pair[1].strip_suffix('s') == Some(m.as_str()))
        }) || short_brand_before_shoe_word(text, brand).is_some()
    };
    // Of several brands, the one named first: "any Hoka stability shoes? I was in Brooks
    // for years" asks about Hoka.
    let brand_position = |brand: &str| {
        let original = brand.to_owned();
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
            .or_else(|| short_brand_before_shoe_word(text, &original))
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
        // Two neighbouring words of the name said together ("GTS 24", "Rival XC") name
        // the model even when each alone is short or everyday: the short word counts
        // too, and the version after it decides between "Adrenaline GTS 24" and
        // "Glycerin GTS 21".
        for pair in parts.windows(2) {
            let said_together = words.windows(2).any(|w| w[0] == pair[0] && w[1] == pair[1]);
            if !said_together {
                continue;
            }
            // "gt 2000": two letters beside a long number are as telling as a word.
            let long_number = pair
                .iter()
                .any(|p| p.len() >= 3 && p.chars().all(|c| c.is_ascii_digit()));
            for word in pair {
                let shortest = if long_number { 2 } else { 3 };
                let is_name_word = word.len() >= shortest && word.chars().all(char::is_alphabetic);
                if is_name_word
                    && !brand_words.iter().any(|b| b == word)
                    && !model_words.iter().any(|m| m == word)
                {
                    model_words.push((*word).to_owned());
                }
            }
        }
    }
    // A model said short before its version ("peg 41s" for the Pegasus 41): the one
    // catalog name word that starts with it, in a model of that version.
    for pair in words.windows(2) {
        let (short, version) = (pair[0].as_str(), pair[1].trim_end_matches('s'));
        if short.len() < 3
            || !short.chars().all(char::is_alphabetic)
            || version.is_empty()
            || !version.chars().all(|c| c.is_ascii_digit())
        {
            continue;
        }
        let mut longer: Vec<String> = vocabulary
            .models
            .iter()
            .map(|m| m.to_lowercase())
            .filter(|m| m.split([' ', '-']).any(|p| p == version))
            .flat_map(|m| {
                m.split([' ', '-'])
                    .filter(|p| p.len() > short.len() && p.starts_with(short))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        longer.dedup();
        if let [word] = longer.as_slice() {
            if !model_words.contains(word) {
                model_words.push(word.clone());
            }
        }
    }
    // A name part of digits and letters ("1080v14", "880v14") said apart ("1080 v14") or
    // by its number alone ("the 1080 in 4E").
    for model in &vocabulary.models {
        for part in model.to_lowercase().split([' ', '-']) {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            if digits.len() < 3
                || digits.len() == part.len()
                || model_words.iter().any(|m| m == part)
            {
                continue;
            }
            let rest = &part[digits.len()..];
            let said =
                words.contains(&digits) || words.windows(2).any(|w| w[0] == digits && w[1] == rest);
            if said {
                model_words.push(part.to_owned());
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
    // Compound colour words first: "navy blue" is navy, not blue; and a two-tone colour
    // the catalog has, however it is joined ("grey/white", "Black-Red", "black and
    // white" for the catalog's "Black White").
    let compound = two_tone_in_catalog(&lower, vocabulary).or_else(|| {
        COLOR_WORDS
            .iter()
            .filter(|(word, _)| word.contains(' ') && has_word(word))
            .find_map(|(_, english)| in_catalog(english))
    });
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
    // "any colour except pink", "not the orange one", "alles außer Rot": a colour after a
    // refusal (within three words) is one they do not want.
    // "I don't mind black or white" refuses nothing.
    let mut not_colors: Vec<String> = Vec::new();
    for i in 0..words.len() {
        let before = &words[i.saturating_sub(3)..i];
        let refused = before.iter().any(|w| REFUSING_WORDS.contains(&w.as_str()))
            && !before.iter().any(|w| {
                matches!(
                    w.as_str(),
                    "mind" | "care" | "matter" | "fussed" | "bothered" | "sure"
                )
            });
        if let Some(colour) = colour_at(i).filter(|_| refused) {
            if !not_colors.contains(colour) {
                not_colors.push(colour.clone());
            }
        }
    }
    let wanted = |c: &&String| !not_colors.contains(c);
    // Otherwise the colour said first: "does it come in grey? black shows every speck"
    // asks for grey.
    // "red if you have it, otherwise black": a fallback colour is one they'd take too.
    for i in 1..words.len() {
        if !matches!(words[i].as_str(), "otherwise" | "else" | "sonst" | "sinon") {
            continue;
        }
        let before = (i.saturating_sub(6)..i).find_map(&colour_at);
        let after = (i + 1..words.len().min(i + 4)).find_map(&colour_at);
        if let (Some(a), Some(b)) = (before, after) {
            for c in [a, b] {
                if !either_or.contains(c) {
                    either_or.push(c.clone());
                }
            }
        }
    }
    let color = either_or
        .iter()
        .find(wanted)
        .or(compound.filter(wanted))
        .or_else(|| (0..words.len()).find_map(|i| colour_at(i).filter(wanted)))
        .or_else(|| {
            vocabulary
                .colors
                .iter()
                .filter(wanted)
                .find(|c| has_word(c))
        })
        .or_else(|| {
            // The catalog's colours are English; customers write theirs.
            COLOR_WORDS
                .iter()
                .filter(|(word, _)| has_word(word))
                .find_map(|(_, english)| in_catalog(english).filter(wanted))
        })
        .cloned();
    let other_colors: Vec<String> = either_or
        .iter()
        .filter(wanted)
        .filter(|c| Some(*c) != color.as_ref())
        .cloned()
        .collect();
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
    } else if says_standard_width(&lower, &words) && vocabulary.widths.iter().any(|w| w == "D") {
        // "normal width", or a product title's "10.5 D": the standard fit, D.
        Some("D".to_owned())
    } else {
        vocabulary
            .widths
            .iter()
            .find(|w| w.len() > 1 && has_word(w))
            .cloned()
    };
    let use_words: Vec<String> = USE_WORDS
        .iter()
        .filter(|w| has_stem(w))
        .map(|w| (*w).to_owned())
        .collect();
    let sizes = parse_sizes(&without_versions(&lower, vocabulary));
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
        // "Ultraboost Light 42 2/3": a European size in thirds, not a version.
        if words
            .get(at + 2)
            .is_some_and(|w| matches!(w.as_str(), "1/2" | "1/3" | "2/3"))
        {
            continue;
        }
        let in_catalog = vocabulary.models.iter().any(|m| {
            let m = m.to_lowercase();
            let parts: Vec<&str> = m.split([' ', '-']).collect();
            parts.contains(&model_word) && parts.contains(&number)
        });
        // "Speedcross 6 GTX in 42,5": the waterproof word is no model with a version.
        if model_word == "gtx" {
            continue;
        }
        let value: f64 = number.parse().unwrap_or(0.0);
        // "42,5" and "10.5" were split at the mark: the half belongs to the number.
        let value =
            if lower.contains(&format!("{number},5")) || lower.contains(&format!("{number}.5")) {
                value + 0.5
            } else {
                value
            };
        let version = format!("{model_word} {number}");
        // "Ghost 16 in 44" names the size in EU: "ghost 44" would be that size again.
        let eu_size = (35.0..=50.0).contains(&value) && is_a_size(eu_to_us(value));
        if (in_catalog || !(is_a_size(value) || eu_size)) && !model_numbers.contains(&version) {
            model_numbers.push(version);
        }
    }
    // The waterproof version, named ("GTX", "Gore-Tex") and not refused ("not the GTX").
    // Its material is the waterproof one, whatever else the email mentions ("I only see
    // the normal mesh one").
    // Without a model it is a need ("something waterproof for my commute"), which the
    // descriptions answer, not a version.
    let waterproof = names_waterproof_version(&words) && !model_words.is_empty();
    if waterproof && !model_words.iter().any(|m| m == "gtx") {
        model_words.push("gtx".to_owned());
    }
    // A catalog that names its waterproof versions ("Ghost 16 GTX") is asked by that
    // name; its Gore-Tex materials differ from row to row, so none is required.
    let named_versions = vocabulary
        .models
        .iter()
        .any(|m| m.to_lowercase().split([' ', '-']).any(|p| p == "gtx"));
    let material = match (waterproof, named_versions) {
        (true, false) => vocabulary
            .materials
            .iter()
            .find(|m| m.to_lowercase().starts_with("gore"))
            .cloned(),
        (true, true) => None,
        (false, _) => material,
    };
    // A need for dry feet in any language ("wasserdicht", "imperméable") is the
    // catalog's "waterproof", which ranks what a recommendation offers.
    let mut use_words: Vec<String> = use_words;
    if names_waterproof_version(&words) && !use_words.iter().any(|w| w == "waterproof") {
        use_words.push("waterproof".to_owned());
    }
    ProductQuery {
        brand,
        model_words,
        model_numbers,
        size: sizes.as_ref().map(|s| s.first),
        other_sizes: sizes.map(|s| s.others).unwrap_or_default(),
        width,
        color,
        other_colors,
        not_colors,
        material,
        max_price_cents: parse_max_price(&lower),
        use_words,
        also: Vec::new(),
    }
}
