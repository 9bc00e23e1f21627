//! Training: labelled emails → a [`TriageModel`] and a report a person can read.
//!
//! Each field is a softmax layer over the same hashed features. Two methods are built in so
//! they can be compared on the same folds: logistic regression (Adagrad, L2, balanced class
//! weights) and multinomial naive Bayes. Both are deterministic: examples are visited in an
//! order drawn from a fixed seed, and folds are assigned by position.
//!
//! Quality is measured by k-fold cross-validation on the training data: every example is
//! predicted by a model that did not see it. The same out-of-fold predictions fit each
//! field's temperature (so confidences are calibrated) and the "see first" threshold for
//! urgency; the final model is then trained on all examples.

use crate::features::{extract, Features, BUCKETS};
use crate::model::{softmax, Field, HeadInfo, ModelError, ModelInfo, TriageModel};
use crate::report::{FieldReport, SeeFirstReport, TrainingReport};
use deskhand_core::{Sentiment, Topic, Urgency};
use serde::{Deserialize, Serialize};

/// An email's labels; any may be missing (a CSV export may carry only the topic).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Labels {
    pub topic: Option<Topic>,
    pub urgency: Option<Urgency>,
    pub needs_reply: Option<bool>,
    pub multiple_requests: Option<bool>,
    pub sentiment: Option<Sentiment>,
}

impl Labels {
    /// The column of this example's label for a field, if labelled.
    fn column(&self, field: Field) -> Option<usize> {
        let position = |label: &str| field.labels().iter().position(|l| *l == label);
        match field {
            Field::Topic => self.topic.and_then(|t| position(t.as_str())),
            Field::Urgency => self.urgency.and_then(|u| position(u.as_str())),
            Field::NeedsReply => self.needs_reply.map(usize::from),
            Field::MultipleRequests => self.multiple_requests.map(usize::from),
            Field::Sentiment => self.sentiment.and_then(|s| position(s.as_str())),
        }
    }
}

/// One labelled email.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub subject: String,
    /// The customer's own words (quotes and signatures stripped).
    pub body: String,
    pub labels: Labels,
}

/// How the weights are learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Softmax regression with Adagrad and L2.
    Logistic,
    /// Multinomial naive Bayes with Laplace smoothing.
    NaiveBayes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub method: Method,
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
    pub folds: usize,
    /// The recall of "see first" (high or urgent) the threshold is chosen for.
    pub see_first_recall: f32,
    /// The precision the model's own "urgent" must reach (see `urgent_threshold`).
    pub urgent_precision: f32,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            method: Method::Logistic,
            epochs: 15,
            learning_rate: 0.4,
            l2: 3e-4,
            folds: 5,
            see_first_recall: 0.92,
            urgent_precision: 0.99,
            seed: 0x5eed_d35c_4a4d,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{field}: needs labelled examples of at least two labels (found {found})")]
    TooFewLabels { field: &'static str, found: usize },
    #[error("need at least {needed} examples for {folds}-fold validation, got {got}")]
    TooFewExamples {
        needed: usize,
        folds: usize,
        got: usize,
    },
    #[error("cross-validation needs at least 2 folds, not {folds}")]
    TooFewFolds { folds: usize },
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// A field's learned layer, dense over all buckets.
struct Layer {
    weights: Vec<f32>,
    bias: Vec<f32>,
    classes: usize,
}

impl Layer {
    fn logits(&self, x: &Features) -> Vec<f32> {
        let mut z = self.bias.clone();
        for (j, v) in x.iter() {
            let row = &self.weights[j as usize * self.classes..(j as usize + 1) * self.classes];
            for (zc, w) in z.iter_mut().zip(row) {
                *zc += w * v;
            }
        }
        z
    }
}

/// splitmix64: a tiny, fixed generator so training is reproducible everywhere.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

fn fit(xs: &[&Features], ys: &[usize], classes: usize, options: &TrainOptions, seed: u64) -> Layer {
    match options.method {
        Method::Logistic => fit_logistic(xs, ys, classes, options, seed),
        Method::NaiveBayes => fit_naive_bayes(xs, ys, classes),
    }
}

fn class_weights(ys: &[usize], classes: usize) -> Vec<f32> {
    let mut counts = vec![0usize; classes];
    for &y in ys {
        counts[y] += 1;
    }
    counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0.0
            } else {
                (ys.len() as f32 / (classes as f32 * c as f32)).clamp(0.2, 5.0)
            }
        })
        .collect()
}

fn fit_logistic(
    xs: &[&Features],
    ys: &[usize],
    classes: usize,
    options: &TrainOptions,
    seed: u64,
) -> Layer {
    let size = BUCKETS as usize * classes;
    let mut weights = vec![0.0f32; size];
    let mut squared = vec![0.0f32; size];
    let mut bias = vec![0.0f32; classes];
    let mut bias_squared = vec![0.0f32; classes];
    let class_weight = class_weights(ys, classes);
    let mut order: Vec<usize> = (0..xs.len()).collect();
    let mut rng = Rng(seed);
    let rate = options.learning_rate;
    for _ in 0..options.epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            let x = xs[i];
            let mut z = bias.clone();
            for (j, v) in x.iter() {
                let row = &weights[j as usize * classes..(j as usize + 1) * classes];
                for (zc, w) in z.iter_mut().zip(row) {
                    *zc += w * v;
                }
            }
            let p = softmax(&z);
            let cw = class_weight[ys[i]];
            for c in 0..classes {
                let g = cw * (p[c] - if c == ys[i] { 1.0 } else { 0.0 });
                bias_squared[c] += g * g;
                bias[c] -= rate * g / (bias_squared[c].sqrt() + 1e-8);
                for (j, v) in x.iter() {
                    let k = j as usize * classes + c;
                    let grad = g * v + options.l2 * weights[k];
                    squared[k] += grad * grad;
                    weights[k] -= rate * grad / (squared[k].sqrt() + 1e-8);
                }
            }
        }
    }
    Layer {
        weights,
        bias,
        classes,
    }
}

fn fit_naive_bayes(xs: &[&Features], ys: &[usize], classes: usize) -> Layer {
    const ALPHA: f64 = 0.1;
    let mut sums: Vec<std::collections::HashMap<u32, f64>> = vec![Default::default(); classes];
    let mut totals = vec![0.0f64; classes];
    let mut counts = vec![0usize; classes];
    for (x, &y) in xs.iter().zip(ys) {
        counts[y] += 1;
        for (j, v) in x.iter() {
            *sums[y].entry(j).or_default() += f64::from(v);
            totals[y] += f64::from(v);
        }
    }
    let vocabulary: std::collections::BTreeSet<u32> =
        sums.iter().flat_map(|s| s.keys().copied()).collect();
    let v = vocabulary.len() as f64;
    let mut weights = vec![0.0f32; BUCKETS as usize * classes];
    for &j in &vocabulary {
        let logs: Vec<f64> = (0..classes)
            .map(|c| {
                let count = sums[c].get(&j).copied().unwrap_or(0.0);
                ((count + ALPHA) / (totals[c] + ALPHA * v)).ln()
            })
            .collect();
        // Centred per row, so a bucket unseen at training time contributes nothing.
        let mean = logs.iter().sum::<f64>() / classes as f64;
        for c in 0..classes {
            weights[j as usize * classes + c] = (logs[c] - mean) as f32;
        }
    }
    let n = ys.len() as f64;
    let bias = counts
        .iter()
        .map(|&c| ((c as f64 + 1.0) / (n + classes as f64)).ln() as f32)
        .collect();
    Layer {
        weights,
        bias,
        classes,
    }
}

/// Mean negative log-likelihood of the true labels at a temperature.
fn log_loss(logits: &[Vec<f32>], ys: &[usize], temperature: f32) -> f64 {
    let total: f64 = logits
        .iter()
        .zip(ys)
        .map(|(z, &y)| {
            let scaled: Vec<f32> = z.iter().map(|v| v / temperature).collect();
            -f64::from(softmax(&scaled)[y].max(1e-9)).ln()
        })
        .sum();
    total / ys.len().max(1) as f64
}

/// The temperature that minimises held-out log-loss (golden-section search on its log).
fn fit_temperature(logits: &[Vec<f32>], ys: &[usize]) -> f32 {
    let (mut lo, mut hi) = ((0.05f64).ln(), (20.0f64).ln());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let loss = |log_t: f64| log_loss(logits, ys, log_t.exp() as f32);
    for _ in 0..60 {
        let a = hi - ratio * (hi - lo);
        let b = lo + ratio * (hi - lo);
        if loss(a) < loss(b) {
            hi = b;
        } else {
            lo = a;
        }
    }
    ((lo + hi) / 2.0).exp() as f32
}

/// The highest threshold on `P(high) + P(urgent)` whose recall of truly high-or-urgent
/// emails reaches `target`.
fn see_first_threshold(scores: &[(f32, bool)], target: f32) -> f32 {
    let positives = scores.iter().filter(|(_, p)| *p).count();
    if positives == 0 {
        return 0.5;
    }
    let mut sorted: Vec<(f32, bool)> = scores.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut found = 0;
    for (score, positive) in sorted {
        if positive {
            found += 1;
            if found as f32 / positives as f32 >= target {
                return score;
            }
        }
    }
    0.0
}

/// The lowest threshold at which everything scored at or above it is right at least
/// `target` of the time (1.0 when no threshold reaches it).
fn precise_threshold(scores: &[(f32, bool)], target: f32) -> f32 {
    let mut sorted: Vec<(f32, bool)> = scores.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut right, mut best) = (0usize, 1.0f32);
    for (n, (score, positive)) in sorted.iter().enumerate() {
        right += usize::from(*positive);
        if right as f32 / (n + 1) as f32 >= target {
            best = *score;
        }
    }
    best
}

/// What one field's cross-validation produced.
struct FieldFit {
    field: Field,
    /// Labelled examples' indices and labels.
    indices: Vec<usize>,
    ys: Vec<usize>,
    out_of_fold: Vec<Vec<f32>>,
    temperature: f32,
}

/// Trains a model on the examples and reports its cross-validated quality.
pub fn train(
    examples: &[Example],
    options: &TrainOptions,
    source: &str,
) -> Result<(TriageModel, TrainingReport), TrainError> {
    if options.folds < 2 {
        return Err(TrainError::TooFewFolds {
            folds: options.folds,
        });
    }
    let needed = options.folds * 2;
    if examples.len() < needed {
        return Err(TrainError::TooFewExamples {
            needed,
            folds: options.folds,
            got: examples.len(),
        });
    }
    let features: Vec<Features> = examples
        .iter()
        .map(|e| extract(&e.subject, &e.body))
        .collect();

    let mut fits = Vec::new();
    for (n, field) in Field::ALL.into_iter().enumerate() {
        let (indices, ys): (Vec<usize>, Vec<usize>) = examples
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.labels.column(field).map(|y| (i, y)))
            .unzip();
        let distinct = ys.iter().collect::<std::collections::BTreeSet<_>>().len();
        if distinct < 2 {
            return Err(TrainError::TooFewLabels {
                field: field.as_str(),
                found: distinct,
            });
        }
        let classes = field.labels().len();
        let mut out_of_fold = vec![Vec::new(); indices.len()];
        for fold in 0..options.folds {
            let train_at: Vec<usize> = (0..indices.len())
                .filter(|k| k % options.folds != fold)
                .collect();
            let xs: Vec<&Features> = train_at.iter().map(|&k| &features[indices[k]]).collect();
            let fold_ys: Vec<usize> = train_at.iter().map(|&k| ys[k]).collect();
            let seed = options.seed ^ ((n as u64) << 32) ^ fold as u64;
            let layer = fit(&xs, &fold_ys, classes, options, seed);
            for k in (0..indices.len()).filter(|k| k % options.folds == fold) {
                out_of_fold[k] = layer.logits(&features[indices[k]]);
            }
        }
        let temperature = fit_temperature(&out_of_fold, &ys);
        fits.push(FieldFit {
            field,
            indices,
            ys,
            out_of_fold,
            temperature,
        });
    }

    // The see-first threshold, from held-out urgency probabilities.
    let urgency = fits
        .iter()
        .find(|f| f.field == Field::Urgency)
        .expect("urgency is one of the fields");
    let high = Field::Urgency.labels().iter().position(|l| *l == "high");
    let urgent = Field::Urgency.labels().iter().position(|l| *l == "urgent");
    let (high, urgent) = (high.expect("high"), urgent.expect("urgent"));
    let see_first_scores: Vec<(f32, bool)> = urgency
        .out_of_fold
        .iter()
        .zip(&urgency.ys)
        .map(|(z, &y)| {
            let scaled: Vec<f32> = z.iter().map(|v| v / urgency.temperature).collect();
            let p = softmax(&scaled);
            (p[high] + p[urgent], y == high || y == urgent)
        })
        .collect();
    let threshold = see_first_threshold(&see_first_scores, options.see_first_recall);
    let urgent_scores: Vec<(f32, bool)> = urgency
        .out_of_fold
        .iter()
        .zip(&urgency.ys)
        .map(|(z, &y)| {
            let scaled: Vec<f32> = z.iter().map(|v| v / urgency.temperature).collect();
            (softmax(&scaled)[urgent], y == urgent)
        })
        .collect();
    let urgent_at = precise_threshold(&urgent_scores, options.urgent_precision);

    // The final model, on everything.
    let columns: usize = Field::ALL.iter().map(|f| f.labels().len()).sum();
    let mut dense = vec![0.0f32; BUCKETS as usize * columns];
    let mut heads = Vec::new();
    let mut offset = 0;
    for (n, fit_result) in fits.iter().enumerate() {
        let classes = fit_result.field.labels().len();
        let xs: Vec<&Features> = fit_result.indices.iter().map(|&i| &features[i]).collect();
        let layer = fit(
            &xs,
            &fit_result.ys,
            classes,
            options,
            options.seed ^ ((n as u64) << 32) ^ 0xff,
        );
        for bucket in 0..BUCKETS as usize {
            let from = &layer.weights[bucket * classes..(bucket + 1) * classes];
            dense[bucket * columns + offset..bucket * columns + offset + classes]
                .copy_from_slice(from);
        }
        heads.push(HeadInfo {
            field: fit_result.field,
            labels: fit_result
                .field
                .labels()
                .iter()
                .map(|l| (*l).to_owned())
                .collect(),
            offset,
            bias: layer.bias,
            temperature: fit_result.temperature,
        });
        offset += classes;
    }
    let info = ModelInfo {
        buckets: BUCKETS,
        heads,
        see_first_threshold: threshold,
        urgent_threshold: urgent_at,
        examples: examples.len(),
        source: source.to_owned(),
    };
    let model = TriageModel::from_dense(info, columns, &dense)?;

    let fields = fits
        .iter()
        .map(|f| {
            let predictions: Vec<Vec<f32>> = f
                .out_of_fold
                .iter()
                .map(|z| softmax(&z.iter().map(|v| v / f.temperature).collect::<Vec<_>>()))
                .collect();
            FieldReport::new(f.field, f.temperature, &f.ys, &predictions)
        })
        .collect();
    let see_first = SeeFirstReport::new(
        threshold,
        options.see_first_recall,
        &see_first_scores,
        &urgency.out_of_fold,
        urgency.temperature,
        [high, urgent],
    );
    let report = TrainingReport {
        source: source.to_owned(),
        method: options.method,
        options: options.clone(),
        examples: examples.len(),
        weight_rows: model.rows(),
        fields,
        see_first,
    };
    Ok((model, report))
}
