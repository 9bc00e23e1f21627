//! What the offline engine reads from product questions: each case of a labelled corpus,
//! its extracted query next to the products labelled, against the case's own catalog
//! (as the eval loads it), and what the offer rule chooses from that catalog. For
//! finding extraction misses on a training corpus.
//!
//! `cargo run -p deskhand-offline --example extract_query -- eval/corpus/train-products.jsonl [ID...]`
//!
//! Cases with only HTML or raw MIME are skipped: the worker parses those first.

use deskhand_core::product::{choose_offer, CatalogVocabulary, Offer, ProductCandidate};
use serde_json::Value;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a corpus path");
    let only: Vec<String> = args.collect();
    let corpus = std::fs::read_to_string(&path).expect("readable corpus");
    for line in corpus.lines() {
        let Ok(case) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(id) = case["id"].as_str() else {
            continue;
        };
        if !only.is_empty() && !only.iter().any(|o| o == id) {
            continue;
        }
        let Some(text) = case["email"]["text"].as_str() else {
            continue;
        };
        let products = case["given"]["products"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let distinct = |field: &str| {
            let mut values: Vec<String> = products
                .iter()
                .filter_map(|p| p[field].as_str().map(str::to_owned))
                .collect();
            values.sort();
            values.dedup();
            values
        };
        let vocabulary = CatalogVocabulary {
            brands: distinct("brand"),
            models: distinct("name"),
            colors: distinct("color"),
            materials: distinct("material"),
            widths: distinct("width"),
        };
        let subject = case["email"]["subject"].as_str().unwrap_or_default();
        let query =
            deskhand_offline::extract_product_query(&format!("{subject}\n{text}"), &vocabulary);
        // What the offer rule makes of the case's whole catalog (the store's search
        // narrows it first; with a brand or model named, to those rows).
        let candidates: Vec<ProductCandidate> = products
            .iter()
            .enumerate()
            .map(|(i, p)| ProductCandidate {
                product_id: i as i64,
                name: p["name"].as_str().unwrap_or_default().to_owned(),
                brand: p["brand"].as_str().unwrap_or_default().to_owned(),
                model: p["name"].as_str().unwrap_or_default().to_owned(),
                size: p["size"].as_f64().unwrap_or_default(),
                width: p["width"].as_str().unwrap_or("D").to_owned(),
                color: p["color"].as_str().unwrap_or_default().to_owned(),
                material: p["material"].as_str().unwrap_or_default().to_owned(),
                price_cents: p["price_cents"].as_i64().unwrap_or_default(),
                description: p["description"].as_str().unwrap_or_default().to_owned(),
                quantity: p["quantity"].as_i64().unwrap_or_default(),
                next_incoming: None,
            })
            .collect();
        let refs = |rows: &[ProductCandidate]| -> Vec<String> {
            rows.iter()
                .map(|c| {
                    products[c.product_id as usize]["ref"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        };
        let offer = match choose_offer(&query, candidates, 8) {
            Offer::Requested(rows) => format!("requested {:?}", refs(&rows)),
            Offer::Unavailable { sold_out, .. } => format!("unavailable {:?}", refs(&sold_out)),
            Offer::Nothing => "nothing".to_owned(),
        };
        println!(
            "{id}\t{}\n\texpected {} · {offer}",
            serde_json::to_string(&query).unwrap_or_default(),
            case["expect"]["products"]
        );
    }
}
