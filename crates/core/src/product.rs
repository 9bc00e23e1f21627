//! Product questions: what the customer asked for, what the catalog has, and how well each
//! candidate fits.

use crate::delivery::{format_cents, Cents};
use serde::{Deserialize, Serialize};
use time::Date;

/// The attributes a customer asked for; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductQuery {
    pub brand: Option<String>,
    /// Words of the model or product name ("pegasus", "ultraboost").
    #[serde(default)]
    pub model_words: Vec<String>,
    /// Versions named right after a model word, as "word number" ("kayano 31"): a row of
    /// that model in another version is not the item asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_numbers: Vec<String>,
    /// US size (converted when the customer gave EU or UK).
    pub size: Option<f64>,
    /// Further sizes the customer would take as well ("a 10 or a 10.5", "one in 41 and one
    /// in 42"): each matches as `size` does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_sizes: Vec<f64>,
    pub width: Option<String>,
    pub color: Option<String>,
    /// Further colours the customer would take as well ("black or grey").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_colors: Vec<String>,
    /// Colours the customer refuses ("any colour except pink", "not the orange one"): a
    /// row in one is not what they asked for, nor an alternative.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_colors: Vec<String>,
    pub material: Option<String>,
    pub max_price_cents: Option<Cents>,
    /// Use words when nothing else was named ("trail", "running").
    #[serde(default)]
    pub use_words: Vec<String>,
    /// Further items asked for in the same email, each with attributes of its own ("1) the
    /// Pegasus 41 in a 10, 2) the Ghost 16 for my daughter, she wears a 40"): each is
    /// looked up as this one is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<ProductQuery>,
}

impl ProductQuery {
    /// Every item asked for, this one first, each on its own.
    pub fn items(mut self) -> Vec<ProductQuery> {
        let also = std::mem::take(&mut self.also);
        std::iter::once(self).chain(also).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.brand.is_none()
            && self.model_words.is_empty()
            && self.size.is_none()
            && self.width.is_none()
            && self.color.is_none()
            && self.material.is_none()
            && self.max_price_cents.is_none()
            && self.use_words.is_empty()
    }

    /// Whether the query names a model: a word of a model's name that is more than the
    /// kind of thing it is ("insoles", "socks") or its waterproof version ("GTX").
    pub fn names_a_model(&self) -> bool {
        self.model_words
            .iter()
            .any(|word| !KINDS_OF_ITEM.contains(&word.to_lowercase().as_str()))
    }

    /// The query as a person would say it, for observations.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(brand) = &self.brand {
            parts.push(brand.clone());
        }
        if !self.model_words.is_empty() {
            parts.push(self.model_words.join(" "));
        }
        if !self.model_numbers.is_empty() {
            parts.push(format!("version {}", self.model_numbers.join(", ")));
        }
        if let Some(size) = self.size {
            let sizes: Vec<String> = std::iter::once(size)
                .chain(self.other_sizes.iter().copied())
                .map(format_size)
                .collect();
            parts.push(format!("size {}", sizes.join(" or ")));
        }
        if let Some(width) = &self.width {
            parts.push(format!("width {width}"));
        }
        if let Some(color) = &self.color {
            let colors: Vec<&str> = std::iter::once(color.as_str())
                .chain(self.other_colors.iter().map(String::as_str))
                .collect();
            parts.push(colors.join(" or "));
        }
        if let Some(material) = &self.material {
            parts.push(material.clone());
        }
        if let Some(max) = self.max_price_cents {
            parts.push(format!("under {}", format_cents(max)));
        }
        if !self.use_words.is_empty() {
            parts.push(format!("for {}", self.use_words.join(", ")));
        }
        parts.join(", ")
    }
}

/// Words of catalog names that say what kind of item a row is, not which one.
const KINDS_OF_ITEM: &[&str] = &[
    "shoe",
    "shoes",
    "sneaker",
    "sneakers",
    "trainer",
    "trainers",
    "insole",
    "insoles",
    "sock",
    "socks",
    "laces",
    "lace",
    "shirt",
    "tee",
    "top",
    "shorts",
    "tights",
    "jacket",
    "vest",
    "cap",
    "hat",
    "gloves",
    "running",
    "trail",
    "gtx",
    "gore-tex",
    "waterproof",
];

/// What asks whether something can be had or which to choose, in the languages the shop
/// reads: "do you have", "in stock", "haben Sie", "disponible", "¿tienen…?".
const STOCK_QUESTIONS: &[&str] = &[
    "do you have",
    "do you stock",
    "do you carry",
    "do you sell",
    "have you got",
    "you got any",
    "do u have",
    "have u got",
    "u got any",
    "would you have",
    "can you cover",
    "it come in",
    "they come in",
    "this come in",
    "these come in",
    "comes in",
    "any left",
    "still available",
    "got any",
    "in stock",
    "available",
    "availability",
    "back in stock",
    "restock",
    "coming back",
    "any coming",
    "still have",
    "is there a",
    "are there any",
    "recommend",
    "suggest",
    "which one",
    "haben sie",
    "habt ihr",
    "hast du",
    "gibt es",
    "verfügbar",
    "lieferbar",
    "auf lager",
    "vorrätig",
    "empfehl",
    "avez-vous",
    "avez vous",
    "vous avez",
    "auriez-vous",
    "disponible",
    "en stock",
    "conseill",
    "tienen",
    "tenéis",
    "teneis",
    "tienes",
    "hay ",
    "quedan",
    "recomend",
    "hebben jullie",
    "op voorraad",
    "avete",
    "disponibil",
];

/// Whether a text asks about stock or a recommendation at all: an email that only names
/// what it ordered ("my order (Novablast 5 + socks) is late") asks for no product.
pub fn asks_about_stock(text: &str) -> bool {
    let lower = text.to_lowercase();
    STOCK_QUESTIONS.iter().any(|q| lower.contains(q))
}

/// `9.5` → `9.5`, `10.0` → `10`.
pub fn format_size(size: f64) -> String {
    if size.fract() == 0.0 {
        format!("{size:.0}")
    } else {
        format!("{size:.1}")
    }
}

/// EU to US men's size (EU 42 = US 8.5, EU 43 = US 9.5): the scale steps 1:1 from 33.5.
pub fn eu_to_us(eu: f64) -> f64 {
    ((eu - 33.5) * 2.0).round() / 2.0
}

/// A catalog row with its stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductCandidate {
    /// Internal id: for evidence and evaluation, never printed in a reply.
    pub product_id: i64,
    pub name: String,
    pub brand: String,
    pub model: String,
    pub size: f64,
    pub width: String,
    pub color: String,
    pub material: String,
    pub price_cents: Cents,
    pub description: String,
    pub quantity: i64,
    /// Earliest pending stock delivery: date and quantity.
    pub next_incoming: Option<(Date, i64)>,
}

impl ProductCandidate {
    /// `Nike Pegasus 41, size 9.5, width D, Black, Mesh, $130.00`.
    pub fn label(&self) -> String {
        format!(
            "{} {}, size {}, width {}, {}, {}, {}",
            self.brand,
            self.name,
            format_size(self.size),
            self.width,
            self.color,
            self.material,
            format_cents(self.price_cents)
        )
    }

    /// The stock sentence: in stock, coming, or neither.
    pub fn availability(&self) -> String {
        match (self.quantity, self.next_incoming) {
            (q, _) if q > 0 => format!("{}: {} in stock.", self.label(), q),
            (_, Some((date, qty))) => {
                format!(
                    "{}: out of stock; {} more expected on {}.",
                    self.label(),
                    qty,
                    date
                )
            }
            (_, None) => format!(
                "{}: out of stock, and no restock is scheduled.",
                self.label()
            ),
        }
    }
}

impl ProductQuery {
    /// Whether a catalog size is a size asked for (or none was). A size converted from
    /// EU or UK is matched exactly too: a neighbour half a size off is another size, for
    /// the customer to be offered as an alternative, not to be sent as the one asked for.
    pub fn names_size(&self, size: f64) -> bool {
        self.size.is_none() || self.sizes().any(|s| (s - size).abs() < 0.01)
    }

    /// Whether a catalog colour is a colour asked for (or none was).
    pub fn names_color(&self, color: &str) -> bool {
        !self.refuses_color(color)
            && (self.color.is_none() || self.colors().any(|c| c.eq_ignore_ascii_case(color)))
    }

    /// Whether the customer said they do not want this colour.
    pub fn refuses_color(&self, color: &str) -> bool {
        self.not_colors
            .iter()
            .any(|c| c.eq_ignore_ascii_case(color))
    }

    /// Every colour asked for, the first one first.
    pub fn colors(&self) -> impl Iterator<Item = &str> + '_ {
        self.color
            .as_deref()
            .into_iter()
            .chain(self.other_colors.iter().map(String::as_str))
    }

    /// Every size asked for, the first one first.
    pub fn sizes(&self) -> impl Iterator<Item = f64> + '_ {
        self.size
            .into_iter()
            .chain(self.other_sizes.iter().copied())
    }
}

/// How well a candidate fits the query; higher is better.
pub fn score(query: &ProductQuery, candidate: &ProductCandidate) -> i64 {
    let eq = |a: &Option<String>, b: &str| a.as_ref().is_some_and(|a| a.eq_ignore_ascii_case(b));
    let mut score = 0;
    if eq(&query.brand, &candidate.brand) {
        score += 30;
    }
    let haystack = format!("{} {}", candidate.name, candidate.model).to_lowercase();
    score += 20
        * query
            .model_words
            .iter()
            .filter(|w| haystack.contains(&w.to_lowercase()))
            .count() as i64;
    if query.size.is_some() && query.names_size(candidate.size) {
        score += 25;
    }
    if eq(&query.width, &candidate.width) {
        score += 5;
    }
    if query.color.is_some() && query.names_color(&candidate.color) {
        score += 10;
    }
    if eq(&query.material, &candidate.material) {
        score += 5;
    }
    score += 5 * use_overlap(query, candidate) as i64;
    // Among equals, what the customer can have now beats what is coming.
    if candidate.quantity > 0 {
        score += 3;
    } else if candidate.next_incoming.is_some() {
        score += 1;
    }
    score
}

/// The best `limit` candidates, best first; ties broken by product id for determinism.
pub fn rank(
    query: &ProductQuery,
    mut candidates: Vec<ProductCandidate>,
    limit: usize,
) -> Vec<ProductCandidate> {
    candidates.sort_by(|a, b| {
        score(query, b)
            .cmp(&score(query, a))
            .then(a.product_id.cmp(&b.product_id))
    });
    candidates.truncate(limit);
    candidates
}

/// The words the catalog uses, so deterministic extraction can recognise them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogVocabulary {
    pub brands: Vec<String>,
    /// Model names ("Pegasus 41", "Ultraboost Light").
    pub models: Vec<String>,
    pub colors: Vec<String>,
    pub materials: Vec<String>,
    pub widths: Vec<String>,
}

/// Whether a candidate is the item asked for: it has every attribute the customer named.
/// Use words only rank; a recommendation request names a need, not an item.
pub fn is_requested(query: &ProductQuery, candidate: &ProductCandidate) -> bool {
    let same = |wanted: &Option<String>, have: &str| {
        wanted.as_ref().is_none_or(|w| w.eq_ignore_ascii_case(have))
    };
    same(&query.brand, &candidate.brand)
        && query.names_size(candidate.size)
        && same(&query.width, &candidate.width)
        && query.names_color(&candidate.color)
        && same(&query.material, &candidate.material)
        && query
            .max_price_cents
            .is_none_or(|max| candidate.price_cents <= max)
}

/// What a product question gets: the item asked for when it can be had, or else the
/// alternatives worth offering and what could not be had.
#[derive(Debug, Clone, PartialEq)]
pub enum Offer {
    /// The item asked for, in stock (or, when none is, arriving), best first.
    Requested(Vec<ProductCandidate>),
    /// The item asked for cannot be had; alternatives are chosen separately.
    Unavailable {
        /// The item itself, when the catalog has it but it is sold out with no restock.
        sold_out: Vec<ProductCandidate>,
        /// The best-fitting row the search found (same brand or model, say), to find
        /// alternatives like it.
        closest: Option<Box<ProductCandidate>>,
    },
    /// Nothing in the catalog fits the question.
    Nothing,
}

/// The words of a candidate's name, lower-cased ("gel", "kayano", "31").
fn name_tokens(candidate: &ProductCandidate) -> impl Iterator<Item = String> + '_ {
    candidate
        .name
        .split([' ', '-'])
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
}

/// Whether a candidate is in a version named for its model: "ghost 16" holds for the
/// Ghost 16 and for any row that is not a Ghost; "my Novablast 4 died, the Novablast 5?"
/// takes either version of the Novablast (the one the catalog has is the one asked for).
fn is_named_version(query: &ProductQuery, candidate: &ProductCandidate) -> bool {
    let tokens: Vec<String> = name_tokens(candidate).collect();
    let versions = || {
        query
            .model_numbers
            .iter()
            .filter_map(|version| version.split_once(' '))
    };
    versions().all(|(word, _)| {
        let of_this_model = tokens.iter().any(|t| t.contains(word));
        !of_this_model
            || versions()
                .filter(|(w, _)| *w == word)
                .any(|(_, number)| tokens.iter().any(|t| t == number))
    })
}

/// How many of the query's model words a candidate's name holds.
fn model_overlap(query: &ProductQuery, candidate: &ProductCandidate) -> usize {
    let haystack = format!("{} {}", candidate.name, candidate.model).to_lowercase();
    query
        .model_words
        .iter()
        .filter(|w| haystack.contains(&w.to_lowercase()))
        .count()
}

/// How many of the query's use words a candidate fits: its description, or its name and
/// material (a "Gore-Tex" row, a "Cloudrunner 2 Waterproof" are waterproof whatever the
/// description says).
fn use_overlap(query: &ProductQuery, candidate: &ProductCandidate) -> usize {
    let said = format!(
        "{} {} {}",
        candidate.description, candidate.name, candidate.material
    )
    .to_lowercase();
    let fits = |word: &str| match word {
        "waterproof" | "gore-tex" => ["waterproof", "gore-tex", "gtx"]
            .iter()
            .any(|w| said.contains(w)),
        word => said.contains(word),
    };
    query
        .use_words
        .iter()
        .filter(|w| fits(&w.to_lowercase()))
        .count()
}

/// Chooses the offer from the candidates a search returned. Of the rows with every
/// attribute named, the item asked for is the one whose name holds the most model words
/// ("Pegasus Trail" over "Pegasus"; both of "Clifton or Bondi"), then whose description
/// holds the most use words ("trail shoe for mud" over a road shoe of the same brand).
pub fn choose_offer(
    query: &ProductQuery,
    candidates: Vec<ProductCandidate>,
    limit: usize,
) -> Offer {
    if candidates.is_empty() {
        return Offer::Nothing;
    }
    let ranked = rank(query, candidates, usize::MAX);
    let attributes: Vec<&ProductCandidate> =
        ranked.iter().filter(|c| is_requested(query, c)).collect();
    // The model is the one whose name holds the most words asked for, among every row the
    // search found: "the Wave Rider 28 in navy" is not the navy Wave Inspire because the
    // Rider has no navy row.
    let best_model = ranked
        .iter()
        .map(|c| model_overlap(query, c))
        .max()
        .unwrap_or(0);
    let named: Vec<&ProductCandidate> = attributes
        .into_iter()
        .filter(|c| {
            query.model_words.is_empty()
                || (best_model > 0 && model_overlap(query, c) == best_model)
        })
        .collect();
    // The version named ("Ghost 15"): another version of that model is the closest thing,
    // not the item; other models named without a version are not touched.
    let named = if query.model_numbers.is_empty() {
        named
    } else {
        let versioned: Vec<&ProductCandidate> = named
            .iter()
            .copied()
            .filter(|c| is_named_version(query, c))
            .collect();
        if versioned.is_empty() {
            return Offer::Unavailable {
                sold_out: Vec::new(),
                closest: named.first().map(|c| Box::new((*c).clone())),
            };
        }
        versioned
    };
    // Of those, the plain model over its variant nobody named: "Speedcross 6" asks for
    // the "Speedcross 6", not the "Speedcross 6 GTX" (its name plus a word not said).
    let said = |t: &str| {
        query
            .model_words
            .iter()
            .any(|w| t.contains(&w.to_lowercase()))
    };
    let variant_of = |c: &ProductCandidate, plain: &ProductCandidate| {
        let base: Vec<String> = name_tokens(plain).collect();
        let own: Vec<String> = name_tokens(c).collect();
        own.len() > base.len()
            && base.iter().all(|t| own.contains(t))
            && own.iter().filter(|t| !base.contains(t)).all(|t| !said(t))
    };
    // Against every row the search found: a plain model sold out in this size still makes
    // its variant not the item. A need names no model ("a waterproof trail shoe"), so no
    // variant is one it did not ask for.
    let named: Vec<&ProductCandidate> = named
        .iter()
        .copied()
        .filter(|c| {
            query.model_words.is_empty() || !ranked.iter().any(|plain| variant_of(c, plain))
        })
        .collect();
    // A recommendation ("something for flat feet in a 12") names no item: what it gets is
    // what can be bought now (or, when nothing can, what arrives), best fit to the need
    // first, never a sold-out shoe that merely fits the need better.
    let recommendation = query.brand.is_none() && query.model_words.is_empty();
    let available = |c: &&ProductCandidate| c.quantity > 0 || c.next_incoming.is_some();
    let named: Vec<&ProductCandidate> = if recommendation {
        let in_stock: Vec<&ProductCandidate> =
            named.iter().copied().filter(|c| c.quantity > 0).collect();
        if in_stock.is_empty() {
            named.into_iter().filter(available).collect()
        } else {
            in_stock
        }
    } else {
        named
    };
    let best_use = named
        .iter()
        .map(|c| use_overlap(query, c))
        .max()
        .unwrap_or(0);
    let requested: Vec<&ProductCandidate> = named
        .into_iter()
        .filter(|c| use_overlap(query, c) == best_use)
        .collect();
    // Every row with what was named is the item asked for, in stock or not: "black or
    // navy" told that navy is sold out is answered, not guessed at. The reply lists what
    // can be had first.
    if requested.iter().any(available) {
        let mut rows: Vec<&ProductCandidate> = requested.clone();
        rows.sort_by_key(|c| match (c.quantity > 0, c.next_incoming.is_some()) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 2,
        });
        return Offer::Requested(rows.into_iter().take(limit).cloned().collect());
    }
    Offer::Unavailable {
        sold_out: requested.iter().take(limit).map(|c| (*c).clone()).collect(),
        closest: ranked.first().cloned().map(Box::new),
    }
}

/// The query for alternatives: the customer's size, width and budget, and the need words
/// of what they asked for, without the brand and model that could not be had.
pub fn alternatives_query(query: &ProductQuery) -> ProductQuery {
    ProductQuery {
        brand: None,
        model_words: Vec::new(),
        model_numbers: Vec::new(),
        size: query.size,
        other_sizes: query.other_sizes.clone(),
        width: query.width.clone(),
        color: None,
        other_colors: Vec::new(),
        not_colors: query.not_colors.clone(),
        material: None,
        max_price_cents: query.max_price_cents,
        use_words: query.use_words.clone(),
        also: Vec::new(),
    }
}

/// Words of a description that say what a shoe is for.
fn description_words(text: &str) -> std::collections::BTreeSet<String> {
    const COMMON: &[&str] = &[
        "with", "and", "for", "the", "that", "shoe", "shoes", "from", "your", "this", "into",
    ];
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 4 && !COMMON.contains(w))
        .map(str::to_owned)
        .collect()
}

/// Up to `limit` in-stock alternatives to `like` (what was asked for, when the catalog
/// has it): the same model in another colour first, then the shoes whose description
/// shares the most with it, then the rest by the query's own ranking.
pub fn rank_alternatives(
    query: &ProductQuery,
    like: Option<&ProductCandidate>,
    candidates: Vec<ProductCandidate>,
    limit: usize,
) -> Vec<ProductCandidate> {
    let like_words = like
        .map(|l| description_words(&l.description))
        .unwrap_or_default();
    let mut scored: Vec<(i64, ProductCandidate)> = candidates
        .into_iter()
        // In stock only: the sold-out item asked for is never its own alternative, and the
        // closest row (the catalog's version of a model asked for in another) may well be
        // the best one.
        .filter(|c| c.quantity > 0)
        .filter(|c| query.names_size(c.size))
        .filter(|c| !query.refuses_color(&c.color))
        .filter(|c| query.max_price_cents.is_none_or(|max| c.price_cents <= max))
        .filter(|c| {
            query
                .width
                .as_ref()
                .is_none_or(|w| w.eq_ignore_ascii_case(&c.width))
        })
        // Like what was asked for: the same model, or a shoe whose description shares a
        // word with its own ("trail", "stability"); a road shoe is no alternative to a
        // trail shoe however well it ranks otherwise.
        .filter(|c| {
            like.is_none_or(|l| {
                l.name.eq_ignore_ascii_case(&c.name)
                    || like_words.is_empty()
                    || description_words(&c.description)
                        .intersection(&like_words)
                        .next()
                        .is_some()
            })
        })
        .map(|c| {
            let mut points = score(query, &c);
            if let Some(like) = like {
                if like.name.eq_ignore_ascii_case(&c.name) {
                    points += 100;
                }
                points += 10
                    * description_words(&c.description)
                        .intersection(&like_words)
                        .count() as i64;
            }
            (points, c)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.product_id.cmp(&b.1.product_id)));
    scored.into_iter().take(limit).map(|(_, c)| c).collect()
}
