//! `deskhand train`: labelled emails (the eval's JSONL format, or a CSV export of past
//! tickets) → a triage model file and its report. Each email is read exactly as the worker
//! reads it (the same event decoding, MIME parsing and quote stripping), so the model
//! learns from the words it will later see.

use crate::eval::dataset::{Case, Dataset};
use crate::eval::run::inbound_event;
use anyhow::{bail, Context as _};
use deskhand_contracts::{decode_inbound, DecodeLimits};
use deskhand_core::{Sentiment, Topic, Urgency};
use deskhand_db::DecidedExample;
use deskhand_offline::report::HeldOutScores;
use deskhand_offline::train::{train, Example, Labels, Method, TrainOptions};
use std::path::{Path, PathBuf};

/// Where the examples come from and where the model goes.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    /// JSONL datasets in the eval format, or CSV files (by extension).
    pub inputs: Vec<PathBuf>,
    pub csv: CsvColumns,
    pub out: PathBuf,
    pub options: TrainOptions,
    /// Labelled files to score the finished model on (never trained on).
    pub evaluate_on: Vec<PathBuf>,
    /// Decided drafts from the review side (`--from-decisions`), already read.
    pub decided: Vec<DecidedExample>,
}

/// Reviewers' decisions as examples: the labels they confirmed or corrected.
pub fn from_decisions(decided: &[DecidedExample]) -> Vec<Example> {
    decided
        .iter()
        .map(|d| Example {
            subject: d.subject.clone().unwrap_or_default(),
            body: d.text.clone(),
            labels: Labels {
                topic: d.topic,
                urgency: d.urgency,
                ..Labels::default()
            },
        })
        .collect()
}

/// Which CSV columns hold what. Only the text column is required; a label column holds
/// this product's label names (see docs/labels.md).
#[derive(Debug, Clone, Default)]
pub struct CsvColumns {
    pub text: Option<String>,
    pub subject: Option<String>,
    /// The topic label.
    pub label: Option<String>,
    pub urgency: Option<String>,
}

/// What `deskhand train` wrote.
#[derive(Debug)]
pub struct Trained {
    pub examples: usize,
    pub model: PathBuf,
    pub report_markdown: PathBuf,
    pub report_json: PathBuf,
    pub summary: String,
}

/// A case's labels. Older cases name a route but no topic: the delivery and product routes
/// imply their topic, so those still teach the model.
fn labels_of(case: &Case) -> anyhow::Result<Labels> {
    let expect = &case.expect;
    let topic = match expect.topic.as_deref() {
        Some(topic) => Some(topic.parse::<Topic>()?),
        None => match expect.route.as_deref() {
            Some("delivery") => Some(Topic::DeliveryDelay),
            Some("product") => Some(Topic::ProductAvailabilityOrRecommendation),
            _ => None,
        },
    };
    let urgency = match &expect.urgency {
        Some(urgency) => Some(urgency.parse::<Urgency>()?),
        None if expect.urgent == Some(true) => Some(Urgency::Urgent),
        None => None,
    };
    let sentiment = expect
        .sentiment
        .as_deref()
        .map(str::parse::<Sentiment>)
        .transpose()?;
    Ok(Labels {
        topic,
        urgency,
        needs_reply: expect
            .needs_reply
            .or_else(|| expect.route.as_deref().map(|r| r != "no_reply")),
        multiple_requests: expect.multiple_requests,
        sentiment,
    })
}

/// Reads a JSONL dataset through the worker's own decoding.
fn from_dataset(path: &Path) -> anyhow::Result<Vec<Example>> {
    let fallback = time::OffsetDateTime::now_utc().date();
    let dataset = Dataset::load(path, fallback)?;
    let limits = DecodeLimits::default();
    let mut examples = Vec::with_capacity(dataset.cases.len());
    for case in &dataset.cases {
        let event = inbound_event(case, &format!("train-{}", case.id));
        let email = decode_inbound(&serde_json::to_vec(&event)?, &limits)
            .with_context(|| format!("{}: case {}", path.display(), case.id))?;
        examples.push(Example {
            subject: email.subject.clone().unwrap_or_default(),
            body: email.body.readable.clone(),
            labels: labels_of(case).with_context(|| format!("case {}", case.id))?,
        });
    }
    Ok(examples)
}

/// Reads a CSV export: one ticket a row, the customer's text in `--text-column`.
fn from_csv(path: &Path, columns: &CsvColumns) -> anyhow::Result<Vec<Example>> {
    let text_column = columns
        .text
        .as_deref()
        .context("a CSV input needs --text-column")?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| {
                format!(
                    "{}: no column {name:?} (columns: {:?})",
                    path.display(),
                    headers
                )
            })
    };
    let text_at = find(text_column)?;
    let subject_at = columns.subject.as_deref().map(find).transpose()?;
    let label_at = columns.label.as_deref().map(find).transpose()?;
    let urgency_at = columns.urgency.as_deref().map(find).transpose()?;
    let mut examples = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), row + 2))?;
        let cell = |at: Option<usize>| {
            at.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let Some(text) = cell(Some(text_at)) else {
            continue;
        };
        let at_row = || format!("{}: row {}", path.display(), row + 2);
        let topic = cell(label_at)
            .map(str::parse::<Topic>)
            .transpose()
            .with_context(at_row)?;
        let urgency = cell(urgency_at)
            .map(str::parse::<Urgency>)
            .transpose()
            .with_context(at_row)?;
        examples.push(Example {
            subject: cell(subject_at).unwrap_or_default().to_owned(),
            // A ticket export holds the thread as text: strip quotes as the worker would.
            body: deskhand_mail::readable_text(text),
            labels: Labels {
                topic,
                urgency,
                ..Labels::default()
            },
        });
    }
    Ok(examples)
}

/// Loads every input, in order.
pub fn load_examples(inputs: &[PathBuf], csv: &CsvColumns) -> anyhow::Result<Vec<Example>> {
    let mut examples = Vec::new();
    for path in inputs {
        let is_csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        examples.extend(if is_csv {
            from_csv(path, csv)?
        } else {
            from_dataset(path)?
        });
    }
    Ok(examples)
}

/// Trains and writes the model with its report (`<out>.report.md`, `<out>.report.json`).
pub fn run(request: &TrainRequest) -> anyhow::Result<Trained> {
    if request.inputs.is_empty() && request.decided.is_empty() {
        bail!("no training data: give JSONL datasets or CSV files, or --from-decisions");
    }
    let mut examples = load_examples(&request.inputs, &request.csv)?;
    examples.extend(from_decisions(&request.decided));
    let mut sources: Vec<String> = request
        .inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    if !request.decided.is_empty() {
        let corrected = request.decided.iter().filter(|d| d.corrected).count();
        sources.push(format!(
            "{} decided drafts ({corrected} corrected)",
            request.decided.len()
        ));
    }
    let source = sources.join(", ");
    let (model, report) = train(&examples, &request.options, &source)?;
    if let Some(dir) = request.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let bytes = model.to_bytes();
    std::fs::write(&request.out, &bytes)
        .with_context(|| format!("writing {}", request.out.display()))?;
    // Score the model as the worker will load it (weights stored in 16 bits).
    let model = deskhand_offline::TriageModel::from_bytes(&bytes)?;
    let with_suffix = |suffix: &str| {
        let mut name = request.out.clone().into_os_string();
        name.push(suffix);
        PathBuf::from(name)
    };
    let report_markdown = with_suffix(".report.md");
    let report_json = with_suffix(".report.json");
    let mut markdown = report.to_markdown();
    let mut held_out = Vec::new();
    for path in &request.evaluate_on {
        let examples = load_examples(std::slice::from_ref(path), &request.csv)?;
        let scores = HeldOutScores::measure(&model, &examples);
        let name = path.display().to_string();
        markdown.push_str(&scores.to_markdown(&name));
        held_out.push((name, scores));
    }
    std::fs::write(&report_markdown, markdown)?;
    std::fs::write(
        &report_json,
        serde_json::to_vec_pretty(&serde_json::json!({"training": report, "held_out": held_out}))?,
    )?;
    let field = |name: &str| {
        report
            .fields
            .iter()
            .find(|f| f.field.as_str() == name)
            .map_or(0.0, |f| f.accuracy)
    };
    let mut summary = format!(
        "{} examples, {:?}: topic {:.3}, urgency {:.3}, needs reply {:.3}, sentiment {:.3} \
         (out-of-fold accuracy); see-first recall {:.3} at precision {:.3}",
        examples.len(),
        match request.options.method {
            Method::Logistic => "logistic regression",
            Method::NaiveBayes => "naive Bayes",
        },
        field("topic"),
        field("urgency"),
        field("needs_reply"),
        field("sentiment"),
        report.see_first.recall.unwrap_or(0.0),
        report.see_first.precision.unwrap_or(0.0),
    );
    for (name, scores) in &held_out {
        summary.push_str(&format!(
            "\nheld out {name} ({} emails): topic {:.3}, urgency {:.3}, see-first recall {:.3} \
             at precision {:.3}, needs reply {:.3}, sentiment {:.3}, several requests \
             recall {:.3} precision {:.3}",
            scores.examples,
            scores.topic_accuracy.unwrap_or(0.0),
            scores.urgency_accuracy.unwrap_or(0.0),
            scores.see_first_recall.unwrap_or(0.0),
            scores.see_first_precision.unwrap_or(0.0),
            scores.needs_reply_accuracy.unwrap_or(0.0),
            scores.sentiment_accuracy.unwrap_or(0.0),
            scores.several_requests_recall.unwrap_or(0.0),
            scores.several_requests_precision.unwrap_or(0.0),
        ));
        let per_topic: Vec<String> = scores
            .topic_recall
            .iter()
            .map(|(label, n, recall)| format!("{label} {:.2} ({n})", recall.unwrap_or(0.0)))
            .collect();
        summary.push_str(&format!("\n  per topic: {}", per_topic.join(", ")));
    }
    Ok(Trained {
        examples: examples.len(),
        model: request.out.clone(),
        report_markdown,
        report_json,
        summary,
    })
}
