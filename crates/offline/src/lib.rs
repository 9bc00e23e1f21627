//! # deskhand-offline
//!
//! The offline engine: a trained triage model (hashed word and character n-grams, one
//! linear layer per field, calibrated) for classification, exact rules for extraction and
//! the safety floor, templates for replies. Training lives here too ([`train`]), pure:
//! examples in, a model and its report out. It implements [`deskhand_core::ports::Cognition`], so the graph runs the
//! same way on it as on a language model. It is a product tier (instant, free,
//! predictable), the default when no model endpoint is configured, and the template
//! fallback of the LLM engine.
//!
//! The one rule it keeps: no I/O and no clock. A model arrives as bytes; the shipped one
//! is compiled in. Depends on `deskhand-core` (and whatlang for language detection).

mod classify;
mod compose;
mod deadline;
mod extract;
pub mod features;
mod items;
mod language;
pub mod model;
mod precedents;
pub mod report;
mod requests;
mod sizes;
mod spelling;
pub mod train;
mod written;

pub use classify::{classify, classify_text, safety_floor, see_first_floor};
pub use compose::compose;
pub use items::extract_product_query;
pub use language::detect_language;
pub use model::{ModelError, TriageModel};
pub use precedents::{PrecedentIndex, SharedPrecedents};
pub use sizes::parse_size;

use deskhand_core::email::InboundEmail;
use deskhand_core::memory::CaseMemory;
use deskhand_core::ports::{
    Classified, Cognition, CognitionResult, ComposeInput, Deadline, Metered,
};
use deskhand_core::product::{CatalogVocabulary, ProductQuery};
use deskhand_core::Reply;
use std::sync::Arc;

/// The deterministic engine: a triage model and the catalog's vocabulary.
#[derive(Debug, Clone)]
pub struct OfflineEngine {
    model: Arc<TriageModel>,
    vocabulary: Arc<CatalogVocabulary>,
}

impl OfflineEngine {
    pub fn new(model: TriageModel, vocabulary: CatalogVocabulary) -> Self {
        Self {
            model: Arc::new(model),
            vocabulary: Arc::new(vocabulary),
        }
    }

    /// The engine with the model that ships with the product.
    pub fn shipped(vocabulary: CatalogVocabulary) -> Result<Self, ModelError> {
        Ok(Self::new(TriageModel::shipped()?, vocabulary))
    }

    pub fn model(&self) -> &TriageModel {
        &self.model
    }
}

impl Cognition for OfflineEngine {
    fn engine_name(&self) -> String {
        "offline".to_owned()
    }

    async fn classify(
        &self,
        email: &InboundEmail,
        _memory: &CaseMemory,
        _deadline: Deadline,
    ) -> CognitionResult<Classified> {
        Ok(Metered::free(classify(email, &self.model)))
    }

    async fn extract_product_query(
        &self,
        email: &InboundEmail,
        _deadline: Deadline,
    ) -> CognitionResult<ProductQuery> {
        let text = email.subject_and_text();
        Ok(Metered::free(extract_product_query(
            &text,
            &self.vocabulary,
        )))
    }

    async fn compose(
        &self,
        input: ComposeInput<'_>,
        _deadline: Deadline,
    ) -> CognitionResult<Reply> {
        Ok(Metered::free(compose(input)))
    }

    fn template_reply(&self, input: ComposeInput<'_>) -> Reply {
        compose(input)
    }
}
