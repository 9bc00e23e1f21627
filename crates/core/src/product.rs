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
    /// US size.
    pub size: Option<f64>,
    pub width: Option<String>,
    pub color: Option<String>,
    pub material: Option<String>,
    pub max_price_cents: Option<Cents>,
    /// Use words when nothing else was named ("trail", "running").
    #[serde(default)]
    pub use_words: Vec<String>,
}

impl ProductQuery {
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

    /// The query as a person would say it, for observations.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(brand) = &self.brand {
            parts.push(brand.clone());
        }
        if !self.model_words.is_empty() {
            parts.push(self.model_words.join(" "));
        }
        if let Some(size) = self.size {
            parts.push(format!("size {}", format_size(size)));
        }
        if let Some(width) = &self.width {
            parts.push(format!("width {width}"));
        }
        if let Some(color) = &self.color {
            parts.push(color.clone());
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
    if query
        .size
        .is_some_and(|s| (s - candidate.size).abs() < 0.01)
    {
        score += 25;
    }
    if eq(&query.width, &candidate.width) {
        score += 5;
    }
    if eq(&query.color, &candidate.color) {
        score += 10;
    }
    if eq(&query.material, &candidate.material) {
        score += 5;
    }
    let description = candidate.description.to_lowercase();
    score += 5 * query
        .use_words
        .iter()
        .filter(|w| description.contains(&w.to_lowercase()))
        .count() as i64;
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
