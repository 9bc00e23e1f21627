//! The engine this process runs: the LLM engine when an endpoint key is configured, the
//! offline engine otherwise. Same graph either way.

use deskhand_core::email::InboundEmail;
use deskhand_core::memory::CaseMemory;
use deskhand_core::ports::{Classified, Cognition, CognitionResult, ComposeInput, Deadline};
use deskhand_core::product::{CatalogVocabulary, ProductQuery};
use deskhand_core::Reply;
use deskhand_llm::LlmEngine;
use deskhand_offline::{OfflineEngine, TriageModel};

/// One of the two engines.
#[derive(Debug, Clone)]
pub enum AnyEngine {
    Offline(OfflineEngine),
    // Boxed: built once per process, and far larger than the offline engine.
    Llm(Box<LlmEngine>),
}

impl AnyEngine {
    /// The LLM engine when `llm` is given, the offline engine otherwise; both use the
    /// catalog vocabulary (the LLM engine for its template fallback).
    pub fn build(
        llm: Option<deskhand_llm::LlmSettings>,
        model: TriageModel,
        vocabulary: CatalogVocabulary,
    ) -> anyhow::Result<Self> {
        let offline = OfflineEngine::new(model, vocabulary);
        Ok(match llm {
            None => Self::Offline(offline),
            Some(settings) => Self::Llm(Box::new(LlmEngine::new(settings, offline)?)),
        })
    }
}

impl Cognition for AnyEngine {
    fn engine_name(&self) -> String {
        match self {
            Self::Offline(engine) => engine.engine_name(),
            Self::Llm(engine) => engine.engine_name(),
        }
    }

    async fn classify(
        &self,
        email: &InboundEmail,
        memory: &CaseMemory,
        deadline: Deadline,
    ) -> CognitionResult<Classified> {
        match self {
            Self::Offline(engine) => engine.classify(email, memory, deadline).await,
            Self::Llm(engine) => engine.classify(email, memory, deadline).await,
        }
    }

    async fn extract_product_query(
        &self,
        email: &InboundEmail,
        deadline: Deadline,
    ) -> CognitionResult<ProductQuery> {
        match self {
            Self::Offline(engine) => engine.extract_product_query(email, deadline).await,
            Self::Llm(engine) => engine.extract_product_query(email, deadline).await,
        }
    }

    async fn compose(&self, input: ComposeInput<'_>, deadline: Deadline) -> CognitionResult<Reply> {
        match self {
            Self::Offline(engine) => engine.compose(input, deadline).await,
            Self::Llm(engine) => engine.compose(input, deadline).await,
        }
    }

    fn template_reply(&self, input: ComposeInput<'_>) -> Reply {
        match self {
            Self::Offline(engine) => engine.template_reply(input),
            Self::Llm(engine) => engine.template_reply(input),
        }
    }
}
