//! How fast the offline engine reads email: the shipped model's load time, and the time
//! per email to classify (features, model, language, floors) over a labelled corpus.
//!
//! `cargo run --release -p deskhand-offline --example classify_speed -- eval/corpus/*.jsonl`
//!
//! Reads each case's `email.subject` and `email.text` (cases with only HTML or raw MIME are
//! skipped: the worker parses those before the engine sees them).

use std::time::Instant;

fn main() {
    let started = Instant::now();
    let model = deskhand_offline::TriageModel::shipped().expect("the shipped model loads");
    let load = started.elapsed();

    let mut emails: Vec<(String, String)> = Vec::new();
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).expect("readable corpus");
        for line in text.lines() {
            let Ok(case) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let email = &case["email"];
            if let Some(body) = email["text"].as_str() {
                let subject = email["subject"].as_str().unwrap_or_default();
                emails.push((subject.to_owned(), body.to_owned()));
            }
        }
    }
    assert!(!emails.is_empty(), "give one or more JSONL corpora");
    let rounds = (20_000 / emails.len()).max(1);
    let started = Instant::now();
    let mut urgent = 0usize;
    for _ in 0..rounds {
        for (subject, body) in &emails {
            let labels = deskhand_offline::classify_text(subject, body, &model);
            urgent += usize::from(labels.urgency == deskhand_core::Urgency::Urgent);
        }
    }
    let total = started.elapsed();
    let classified = rounds * emails.len();
    // Where the time goes: the features alone, the model on them, the language alone.
    let per_email = |f: &dyn Fn(&str, &str)| {
        let started = Instant::now();
        for (subject, body) in &emails {
            f(subject, body);
        }
        started.elapsed().as_secs_f64() * 1e6 / emails.len() as f64
    };
    let features_us = per_email(&|s, b| {
        std::hint::black_box(deskhand_offline::features::extract(s, b));
    });
    let model_us = per_email(&|s, b| {
        std::hint::black_box(model.predict(&deskhand_offline::features::extract(s, b)));
    }) - features_us;
    let language_us = per_email(&|s, b| {
        std::hint::black_box(deskhand_offline::detect_language(s, b));
    });
    println!(
        "{{\"model_load_ms\": {:.1}, \"weight_rows\": {}, \"emails\": {}, \"us_per_email\": {:.1}, \
         \"features_us\": {features_us:.1}, \"model_us\": {model_us:.1}, \"language_us\": {language_us:.1}, \
         \"urgent_seen\": {}}}",
        load.as_secs_f64() * 1e3,
        model.rows(),
        classified,
        total.as_secs_f64() * 1e6 / classified as f64,
        urgent
    );
}
