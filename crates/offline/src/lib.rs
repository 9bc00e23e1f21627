//! # deskhand-offline
//!
//! The offline engine: deterministic rules for classification and templates for replies.
//! It implements [`deskhand_core::ports::Cognition`], so the graph runs the same way on it
//! as on a language model. It is a product tier (instant, free, predictable), and the
//! default when no model endpoint is configured.
//!
//! Depends on `deskhand-core` only.

mod classify;
mod compose;

pub use classify::classify;
pub use compose::compose;

use deskhand_core::email::InboundEmail;
use deskhand_core::ports::{Classified, Cognition, CognitionError, ComposeInput, Metered};
use deskhand_core::Reply;

/// The deterministic engine.
#[derive(Debug, Clone, Default)]
pub struct OfflineEngine;

impl Cognition for OfflineEngine {
    fn engine_name(&self) -> String {
        "offline".to_owned()
    }

    async fn classify(&self, email: &InboundEmail) -> Result<Metered<Classified>, CognitionError> {
        Ok(Metered::free(classify(email)))
    }

    async fn compose(&self, input: ComposeInput<'_>) -> Result<Metered<Reply>, CognitionError> {
        Ok(Metered::free(compose(input)))
    }
}
