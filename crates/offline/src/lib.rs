//! # deskhand-offline
//!
//! The offline engine: deterministic rules for classification and extraction, templates
//! for replies. It implements [`deskhand_core::ports::Cognition`], so the graph runs the
//! same way on it as on a language model. It is a product tier (instant, free,
//! predictable), the default when no model endpoint is configured, and the template
//! fallback of the LLM engine.
//!
//! Depends on `deskhand-core` only.

mod classify;
mod compose;
mod extract;

pub use classify::classify;
pub use compose::compose;
pub use extract::{extract_product_query, parse_size};

use deskhand_core::email::InboundEmail;
use deskhand_core::memory::CaseMemory;
use deskhand_core::ports::{
    Classified, Cognition, CognitionResult, ComposeInput, Deadline, Metered,
};
use deskhand_core::product::{CatalogVocabulary, ProductQuery};
use deskhand_core::Reply;
use std::sync::Arc;

/// The deterministic engine, with the catalog's vocabulary.
#[derive(Debug, Clone, Default)]
pub struct OfflineEngine {
    vocabulary: Arc<CatalogVocabulary>,
}

impl OfflineEngine {
    pub fn new(vocabulary: CatalogVocabulary) -> Self {
        Self {
            vocabulary: Arc::new(vocabulary),
        }
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
        Ok(Metered::free(classify(email)))
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
