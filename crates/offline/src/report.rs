//! What training measured, for a person: per-class precision and recall, the confusion
//! matrix and a reliability curve per field, all from out-of-fold predictions.

use crate::model::{softmax, Field};
use crate::train::{Method, TrainOptions};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassReport {
    pub label: String,
    pub support: usize,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
}

/// One bin of the reliability curve: of the emails the model gave a confidence in
/// `from..to`, how many it got right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    pub from: f64,
    pub to: f64,
    pub count: usize,
    pub mean_confidence: Option<f64>,
    pub accuracy: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldReport {
    pub field: Field,
    pub examples: usize,
    pub accuracy: f64,
    pub temperature: f32,
    /// Expected calibration error: the gap between confidence and accuracy, weighted by bin.
    pub calibration_error: f64,
    pub classes: Vec<ClassReport>,
    /// `confusion[truth][predicted]`, in the order of `classes`.
    pub confusion: Vec<Vec<usize>>,
    pub reliability: Vec<ReliabilityBin>,
}

fn ratio(numerator: usize, denominator: usize) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

fn argmax(p: &[f32]) -> usize {
    p.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

impl FieldReport {
    pub fn new(field: Field, temperature: f32, ys: &[usize], predictions: &[Vec<f32>]) -> Self {
        let labels = field.labels();
        let k = labels.len();
        let mut confusion = vec![vec![0usize; k]; k];
        let mut bins: Vec<(usize, f64, usize)> = vec![(0, 0.0, 0); 10];
        for (p, &y) in predictions.iter().zip(ys) {
            let predicted = argmax(p);
            confusion[y][predicted] += 1;
            let confidence = f64::from(p[predicted]);
            let bin = ((confidence * 10.0) as usize).min(9);
            bins[bin].0 += 1;
            bins[bin].1 += confidence;
            bins[bin].2 += usize::from(predicted == y);
        }
        let correct: usize = (0..k).map(|c| confusion[c][c]).sum();
        let classes = (0..k)
            .map(|c| {
                let support: usize = confusion[c].iter().sum();
                let predicted: usize = confusion.iter().map(|row| row[c]).sum();
                ClassReport {
                    label: labels[c].to_owned(),
                    support,
                    precision: ratio(confusion[c][c], predicted),
                    recall: ratio(confusion[c][c], support),
                }
            })
            .collect();
        let n = ys.len().max(1) as f64;
        let calibration_error = bins
            .iter()
            .filter(|b| b.0 > 0)
            .map(|&(count, confidence_sum, right)| {
                (count as f64 / n)
                    * (confidence_sum / count as f64 - right as f64 / count as f64).abs()
            })
            .sum();
        let reliability = bins
            .iter()
            .enumerate()
            .map(|(i, &(count, confidence_sum, right))| ReliabilityBin {
                from: i as f64 / 10.0,
                to: (i + 1) as f64 / 10.0,
                count,
                mean_confidence: (count > 0).then(|| confidence_sum / count as f64),
                accuracy: ratio(right, count),
            })
            .collect();
        Self {
            field,
            examples: ys.len(),
            accuracy: correct as f64 / n,
            temperature,
            calibration_error,
            classes,
            confusion,
            reliability,
        }
    }
}

/// How well "see first" (high or urgent) is found, with the decision the worker makes:
/// the most likely urgency is high or urgent, or `P(high) + P(urgent)` reaches the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeeFirstReport {
    pub threshold: f32,
    pub target_recall: f32,
    pub positives: usize,
    pub recall: Option<f64>,
    pub precision: Option<f64>,
}

impl SeeFirstReport {
    pub fn new(
        threshold: f32,
        target_recall: f32,
        scores: &[(f32, bool)],
        logits: &[Vec<f32>],
        temperature: f32,
        [high, urgent]: [usize; 2],
    ) -> Self {
        let (mut true_positive, mut predicted, mut positives) = (0, 0, 0);
        for ((score, positive), z) in scores.iter().zip(logits) {
            let p = softmax(&z.iter().map(|v| v / temperature).collect::<Vec<_>>());
            let best = argmax(&p);
            let flagged = best == high || best == urgent || *score >= threshold;
            positives += usize::from(*positive);
            predicted += usize::from(flagged);
            true_positive += usize::from(flagged && *positive);
        }
        Self {
            threshold,
            target_recall,
            positives,
            recall: ratio(true_positive, positives),
            precision: ratio(true_positive, predicted),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    pub source: String,
    pub method: Method,
    pub options: TrainOptions,
    pub examples: usize,
    pub weight_rows: usize,
    pub fields: Vec<FieldReport>,
    pub see_first: SeeFirstReport,
}

fn percent(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), |v| format!("{:.1} %", v * 100.0))
}

impl TrainingReport {
    /// The report as Markdown: what a shop reads before trusting a model.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Triage model training report\n");
        let _ = writeln!(
            out,
            "Trained on {} examples from `{}` with {:?}; {} weight rows. Every number below \
             is out-of-fold ({}-fold cross-validation): each email was predicted by a model \
             that had not seen it.\n",
            self.examples, self.source, self.method, self.weight_rows, self.options.folds
        );
        let _ = writeln!(
            out,
            "**See first** (high or urgent): recall {}, precision {} over {} such emails, at \
             threshold {:.3} on P(high)+P(urgent) (chosen for a recall of {:.0} %).\n",
            percent(self.see_first.recall),
            percent(self.see_first.precision),
            self.see_first.positives,
            self.see_first.threshold,
            self.see_first.target_recall * 100.0
        );
        for field in &self.fields {
            let _ = writeln!(
                out,
                "## {}\n\nAccuracy {} on {} labelled examples; temperature {:.2}; \
                 calibration error {:.3}.\n",
                field.field.as_str(),
                percent(Some(field.accuracy)),
                field.examples,
                field.temperature,
                field.calibration_error
            );
            let _ = writeln!(
                out,
                "| label | support | precision | recall |\n|---|---|---|---|"
            );
            for class in &field.classes {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    class.label,
                    class.support,
                    percent(class.precision),
                    percent(class.recall)
                );
            }
            let labels: Vec<&str> = field.classes.iter().map(|c| c.label.as_str()).collect();
            let _ = writeln!(
                out,
                "\nConfusion (rows: truth, columns: predicted)\n\n| | {} |\n|---|{}",
                labels.join(" | "),
                "---|".repeat(labels.len())
            );
            for (label, row) in labels.iter().zip(&field.confusion) {
                let cells: Vec<String> = row.iter().map(usize::to_string).collect();
                let _ = writeln!(out, "| **{label}** | {} |", cells.join(" | "));
            }
            let _ = writeln!(
                out,
                "\nReliability: of the emails given a confidence in each range, how many \
                 were right.\n\n| confidence | emails | mean confidence | right |\n|---|---|---|---|"
            );
            for bin in field.reliability.iter().filter(|b| b.count > 0) {
                let _ = writeln!(
                    out,
                    "| {:.1}–{:.1} | {} | {} | {} |",
                    bin.from,
                    bin.to,
                    bin.count,
                    percent(bin.mean_confidence),
                    percent(bin.accuracy)
                );
            }
            out.push('\n');
        }
        out
    }
}

/// How a finished model does on labelled emails it was not trained on, with the worker's
/// own decisions (the safety floor and the see-first threshold included).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HeldOutScores {
    pub examples: usize,
    pub topic_accuracy: Option<f64>,
    /// Per topic: (label, support, recall).
    pub topic_recall: Vec<(String, usize, Option<f64>)>,
    pub urgency_accuracy: Option<f64>,
    pub see_first_recall: Option<f64>,
    pub see_first_precision: Option<f64>,
    pub needs_reply_accuracy: Option<f64>,
    pub sentiment_accuracy: Option<f64>,
    pub several_requests_recall: Option<f64>,
    pub several_requests_precision: Option<f64>,
}

impl HeldOutScores {
    pub fn measure(model: &crate::TriageModel, examples: &[crate::train::Example]) -> Self {
        use deskhand_core::{Topic, Urgency};
        let mut topic = (0usize, 0usize);
        let mut per_topic: Vec<(Topic, usize, usize)> =
            Topic::ALL.iter().map(|t| (*t, 0, 0)).collect();
        let (mut urgency, mut needs_reply, mut sentiment) = ((0, 0), (0, 0), (0, 0));
        let (mut true_positive, mut flagged, mut positives) = (0, 0, 0);
        let mut several = (0, 0, 0);
        for example in examples {
            let got = crate::classify_text(&example.subject, &example.body, model);
            let labels = &example.labels;
            if let Some(want) = labels.topic {
                topic.1 += 1;
                topic.0 += usize::from(got.topic == want);
                if let Some(entry) = per_topic.iter_mut().find(|(t, _, _)| *t == want) {
                    entry.1 += 1;
                    entry.2 += usize::from(got.topic == want);
                }
            }
            if let Some(want) = labels.urgency {
                urgency.1 += 1;
                urgency.0 += usize::from(got.urgency == want);
                let want_first = want >= Urgency::High;
                let got_first = got.urgency >= Urgency::High;
                positives += usize::from(want_first);
                flagged += usize::from(got_first);
                true_positive += usize::from(want_first && got_first);
            }
            if let Some(want) = labels.multiple_requests {
                several.0 += usize::from(want && got.multiple_requests);
                several.1 += usize::from(got.multiple_requests);
                several.2 += usize::from(want);
            }
            if let Some(want) = labels.needs_reply {
                needs_reply.1 += 1;
                needs_reply.0 += usize::from(got.needs_reply == want);
            }
            if let Some(want) = labels.sentiment {
                sentiment.1 += 1;
                sentiment.0 += usize::from(got.tone.is_some_and(|t| t.sentiment == want));
            }
        }
        Self {
            examples: examples.len(),
            topic_accuracy: ratio(topic.0, topic.1),
            topic_recall: per_topic
                .into_iter()
                .map(|(t, support, right)| (t.as_str().to_owned(), support, ratio(right, support)))
                .collect(),
            urgency_accuracy: ratio(urgency.0, urgency.1),
            see_first_recall: ratio(true_positive, positives),
            see_first_precision: ratio(true_positive, flagged),
            needs_reply_accuracy: ratio(needs_reply.0, needs_reply.1),
            sentiment_accuracy: ratio(sentiment.0, sentiment.1),
            several_requests_recall: ratio(several.0, several.2),
            several_requests_precision: ratio(several.0, several.1),
        }
    }

    pub fn to_markdown(&self, name: &str) -> String {
        let mut out = format!(
            "## Held out: {name}\n\n{} emails the model was not trained on, classified as the \
             worker classifies them.\n\n| metric | value |\n|---|---|\n",
            self.examples
        );
        for (metric, value) in [
            ("topic accuracy", self.topic_accuracy),
            ("urgency accuracy", self.urgency_accuracy),
            ("see-first recall", self.see_first_recall),
            ("see-first precision", self.see_first_precision),
            ("needs-reply accuracy", self.needs_reply_accuracy),
            ("sentiment accuracy", self.sentiment_accuracy),
            ("several-requests recall", self.several_requests_recall),
            (
                "several-requests precision",
                self.several_requests_precision,
            ),
        ] {
            let _ = writeln!(out, "| {metric} | {} |", percent(value));
        }
        let _ = writeln!(out, "\n| topic | emails | recall |\n|---|---|---|");
        for (label, support, recall) in &self.topic_recall {
            let _ = writeln!(out, "| {label} | {support} | {} |", percent(*recall));
        }
        out
    }
}
