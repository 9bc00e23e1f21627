//! The trained triage model: for each field (topic, urgency, needs-reply, several requests,
//! sentiment) a linear layer over the hashed features of [`crate::features`], softened by a
//! temperature fitted on held-out folds so a probability of 0.8 is right about 80 % of the
//! time. The weights are stored sparse: only the buckets the training data touched.
//!
//! File format (little endian): `DHTRIAGE`, a `u32` format version, a `u32` length and that
//! many bytes of JSON metadata, then `u32` rows, `u32` columns, the rows' bucket indices
//! (`u32`, ascending), one `f32` scale per column, and the weights as `i16` (row-major, one
//! column per label; weight = value × scale). Sixteen bits keep every weight to within
//! 1/32767 of its column's largest, and halve the file.

use crate::features::{Features, BUCKETS};
use deskhand_core::{Sentiment, Topic, Urgency};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

const MAGIC: &[u8; 8] = b"DHTRIAGE";
const FORMAT: u32 = 2;

/// The model the product ships with, trained on `eval/corpus` (see `docs/triage-model.md`).
const SHIPPED: &[u8] = include_bytes!("../model/triage.model");

/// Why a model file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("not a Deskhand triage model (bad magic bytes)")]
    NotAModel,
    #[error("triage model format {found} is not supported (this build reads {FORMAT})")]
    Format { found: u32 },
    #[error("triage model is truncated or corrupt: {0}")]
    Corrupt(&'static str),
    #[error("triage model metadata is invalid: {0}")]
    Metadata(#[from] serde_json::Error),
    #[error("triage model head {field:?}: {problem}")]
    Head { field: String, problem: String },
}

/// The fields the model predicts, in the order its heads are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Topic,
    Urgency,
    NeedsReply,
    MultipleRequests,
    Sentiment,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Topic,
        Field::Urgency,
        Field::NeedsReply,
        Field::MultipleRequests,
        Field::Sentiment,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Topic => "topic",
            Field::Urgency => "urgency",
            Field::NeedsReply => "needs_reply",
            Field::MultipleRequests => "multiple_requests",
            Field::Sentiment => "sentiment",
        }
    }
    /// The labels of the field, in column order.
    pub fn labels(self) -> Vec<&'static str> {
        match self {
            Field::Topic => Topic::ALL.iter().map(|t| t.as_str()).collect(),
            Field::Urgency => Urgency::ALL.iter().map(|u| u.as_str()).collect(),
            Field::NeedsReply | Field::MultipleRequests => vec!["false", "true"],
            Field::Sentiment => Sentiment::ALL.iter().map(|s| s.as_str()).collect(),
        }
    }
}

/// One field's layer as stored: its labels, bias and temperature; its weights are the
/// columns `offset..offset + labels.len()` of the shared matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadInfo {
    pub field: Field,
    pub labels: Vec<String>,
    pub offset: usize,
    pub bias: Vec<f32>,
    pub temperature: f32,
}

/// What the model file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub buckets: u32,
    pub heads: Vec<HeadInfo>,
    /// `P(high) + P(urgent)` at or above this marks an email "see first" (at least high),
    /// chosen on held-out folds of the training data for the recall it targets.
    pub see_first_threshold: f32,
    /// `P(urgent)` at or above this makes the model's "urgent" stand on its own (urgent
    /// escalates at once); below it, an urgent reading counts as high. Chosen on held-out
    /// folds for the precision it targets. The safety floor's words are urgent regardless.
    #[serde(default)]
    pub urgent_threshold: f32,
    /// Training examples, and where they came from.
    pub examples: usize,
    pub source: String,
}

/// A probability per label, highest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Probabilities<L> {
    pub ranked: Vec<(L, f32)>,
}

impl<L: Copy + PartialEq> Probabilities<L> {
    pub fn best(&self) -> (L, f32) {
        self.ranked[0]
    }
    pub fn of(&self, label: L) -> f32 {
        self.ranked
            .iter()
            .find(|(l, _)| *l == label)
            .map_or(0.0, |(_, p)| *p)
    }
}

/// The model's reading of one email.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub topic: Probabilities<Topic>,
    pub urgency: Probabilities<Urgency>,
    pub needs_reply: Probabilities<bool>,
    pub multiple_requests: Probabilities<bool>,
    pub sentiment: Probabilities<Sentiment>,
    /// `P(high) + P(urgent)`.
    pub see_first: f32,
    pub see_first_threshold: f32,
    pub urgent_threshold: f32,
}

#[derive(Debug, Clone)]
struct Head<L> {
    labels: Vec<L>,
    offset: usize,
    bias: Vec<f32>,
    temperature: f32,
}

impl<L: FromStr + Copy> Head<L> {
    fn parse(info: &HeadInfo, columns: usize) -> Result<Self, ModelError> {
        let problem = |problem: String| ModelError::Head {
            field: info.field.as_str().to_owned(),
            problem,
        };
        let labels = info
            .labels
            .iter()
            .map(|l| {
                l.parse::<L>()
                    .map_err(|_| problem(format!("unknown label {l:?}")))
            })
            .collect::<Result<Vec<L>, _>>()?;
        if labels.len() < 2 || info.bias.len() != labels.len() {
            return Err(problem("needs two or more labels, one bias each".into()));
        }
        if info
            .offset
            .checked_add(labels.len())
            .is_none_or(|end| end > columns)
        {
            return Err(problem("columns out of range".into()));
        }
        if !(info.temperature.is_finite() && info.temperature > 0.0) {
            return Err(problem("temperature must be positive".into()));
        }
        Ok(Self {
            labels,
            offset: info.offset,
            bias: info.bias.clone(),
            temperature: info.temperature,
        })
    }

    fn probabilities(&self, logits: &[f32]) -> Probabilities<L> {
        let scaled: Vec<f32> = logits[self.offset..self.offset + self.labels.len()]
            .iter()
            .zip(&self.bias)
            .map(|(z, b)| (z + b) / self.temperature)
            .collect();
        let probabilities = softmax(&scaled);
        let mut ranked: Vec<(L, f32)> = self.labels.iter().copied().zip(probabilities).collect();
        // Stable sort: ties keep column order, so the result is deterministic.
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        Probabilities { ranked }
    }
}

/// Numerically stable softmax.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|z| (z - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// A loaded, validated model. Cheap to clone (the weights are shared).
#[derive(Debug, Clone)]
pub struct TriageModel {
    info: Arc<ModelInfo>,
    indices: Arc<[u32]>,
    weights: Arc<[f32]>,
    columns: usize,
    topic: Head<Topic>,
    urgency: Head<Urgency>,
    needs_reply: Head<bool>,
    multiple_requests: Head<bool>,
    sentiment: Head<Sentiment>,
}

impl TriageModel {
    /// The model that ships inside the product.
    pub fn shipped() -> Result<Self, ModelError> {
        static SHIPPED_MODEL: OnceLock<Result<TriageModel, String>> = OnceLock::new();
        SHIPPED_MODEL
            .get_or_init(|| Self::from_bytes(SHIPPED).map_err(|e| e.to_string()))
            .clone()
            .map_err(|problem| ModelError::Head {
                field: "shipped model".into(),
                problem,
            })
    }

    /// Builds a model from trained dense weights (`rows[bucket * columns + column]`).
    pub fn from_dense(info: ModelInfo, columns: usize, dense: &[f32]) -> Result<Self, ModelError> {
        let mut indices = Vec::new();
        let mut weights = Vec::new();
        for bucket in 0..info.buckets as usize {
            let row = &dense[bucket * columns..(bucket + 1) * columns];
            if row.iter().any(|w| w.abs() > 1e-6) {
                indices.push(bucket as u32);
                weights.extend_from_slice(row);
            }
        }
        Self::assemble(info, columns, indices, weights)
    }

    fn assemble(
        info: ModelInfo,
        columns: usize,
        indices: Vec<u32>,
        weights: Vec<f32>,
    ) -> Result<Self, ModelError> {
        if info.buckets != BUCKETS {
            return Err(ModelError::Corrupt("hashed with a different bucket count"));
        }
        let head = |field: Field| {
            info.heads
                .iter()
                .find(|h| h.field == field)
                .ok_or_else(|| ModelError::Head {
                    field: field.as_str().into(),
                    problem: "missing".into(),
                })
        };
        Ok(Self {
            topic: Head::parse(head(Field::Topic)?, columns)?,
            urgency: Head::parse(head(Field::Urgency)?, columns)?,
            needs_reply: Head::parse(head(Field::NeedsReply)?, columns)?,
            multiple_requests: Head::parse(head(Field::MultipleRequests)?, columns)?,
            sentiment: Head::parse(head(Field::Sentiment)?, columns)?,
            info: Arc::new(info),
            indices: indices.into(),
            weights: weights.into(),
            columns,
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Stored weight rows (buckets the training data touched).
    pub fn rows(&self) -> usize {
        self.indices.len()
    }

    /// The raw scores of every column for a feature vector.
    fn logits(&self, features: &Features) -> Vec<f32> {
        let mut logits = vec![0.0; self.columns];
        for (index, value) in features.iter() {
            if let Ok(row) = self.indices.binary_search(&index) {
                let weights = &self.weights[row * self.columns..(row + 1) * self.columns];
                for (logit, weight) in logits.iter_mut().zip(weights) {
                    *logit += weight * value;
                }
            }
        }
        logits
    }

    pub fn predict(&self, features: &Features) -> Prediction {
        let logits = self.logits(features);
        let urgency = self.urgency.probabilities(&logits);
        let see_first = urgency.of(Urgency::High) + urgency.of(Urgency::Urgent);
        Prediction {
            topic: self.topic.probabilities(&logits),
            urgency,
            needs_reply: self.needs_reply.probabilities(&logits),
            multiple_requests: self.multiple_requests.probabilities(&logits),
            sentiment: self.sentiment.probabilities(&logits),
            see_first,
            see_first_threshold: self.info.see_first_threshold,
            urgent_threshold: self.info.urgent_threshold,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&*self.info).expect("model info serialises");
        let mut out = Vec::with_capacity(24 + meta.len() + self.weights.len() * 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
        out.extend_from_slice(&meta);
        out.extend_from_slice(&(self.indices.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.columns as u32).to_le_bytes());
        for index in self.indices.iter() {
            out.extend_from_slice(&index.to_le_bytes());
        }
        let scales: Vec<f32> = (0..self.columns)
            .map(|column| {
                let largest = self
                    .weights
                    .iter()
                    .skip(column)
                    .step_by(self.columns)
                    .fold(0.0f32, |m, w| m.max(w.abs()));
                if largest > 0.0 {
                    largest / f32::from(i16::MAX)
                } else {
                    1.0
                }
            })
            .collect();
        for scale in &scales {
            out.extend_from_slice(&scale.to_le_bytes());
        }
        for (n, weight) in self.weights.iter().enumerate() {
            let quantised = (weight / scales[n % self.columns]).round() as i16;
            out.extend_from_slice(&quantised.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(8)? != MAGIC {
            return Err(ModelError::NotAModel);
        }
        let format = reader.u32()?;
        if format != FORMAT {
            return Err(ModelError::Format { found: format });
        }
        let meta_len = reader.u32()? as usize;
        let info: ModelInfo = serde_json::from_slice(reader.take(meta_len)?)?;
        let rows = reader.u32()? as usize;
        let columns = reader.u32()? as usize;
        if columns == 0 || rows > BUCKETS as usize {
            return Err(ModelError::Corrupt("impossible dimensions"));
        }
        let indices = (0..rows)
            .map(|_| reader.u32())
            .collect::<Result<Vec<u32>, _>>()?;
        if indices.windows(2).any(|w| w[0] >= w[1]) || indices.last().is_some_and(|&i| i >= BUCKETS)
        {
            return Err(ModelError::Corrupt("bucket indices out of order or range"));
        }
        let scales = (0..columns)
            .map(|_| reader.u32().map(f32::from_bits))
            .collect::<Result<Vec<f32>, _>>()?;
        if scales.iter().any(|s| !s.is_finite() || *s <= 0.0) {
            return Err(ModelError::Corrupt("invalid weight scale"));
        }
        let weights = (0..rows * columns)
            .map(|n| reader.i16().map(|q| f32::from(q) * scales[n % columns]))
            .collect::<Result<Vec<f32>, _>>()?;
        if weights.iter().any(|w| !w.is_finite()) {
            return Err(ModelError::Corrupt("non-finite weight"));
        }
        if reader.at != bytes.len() {
            return Err(ModelError::Corrupt("trailing bytes"));
        }
        Self::assemble(info, columns, indices, weights)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(ModelError::Corrupt("unexpected end of file"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn i16(&mut self) -> Result<i16, ModelError> {
        let bytes = self.take(2)?;
        Ok(i16::from_le_bytes([bytes[0], bytes[1]]))
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }
}
