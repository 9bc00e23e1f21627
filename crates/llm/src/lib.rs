//! # deskhand-llm
//!
//! The LLM engine: implements [`deskhand_core::ports::Cognition`] on any OpenAI-compatible
//! chat-completions endpoint (async-openai), so the same graph that runs on the offline
//! engine runs on a model.
//!
//! - **Structured outputs.** Every step asks for a JSON schema, in whichever form the
//!   endpoint takes (`json_schema`, `json_object` with a schema, or a forced tool call);
//!   answers are parsed and validated into core types. An answer outside the allowed labels is retried once with
//!   a correction, then the step fails (and the graph escalates the email).
//! - **Per-step models.** A small model to classify and extract, a stronger one to compose.
//! - **Bounded work.** Each step's answer has a token limit, and calls in flight to the
//!   endpoint are bounded, so a small server is not buried under abandoned generations.
//! - **Bounded waiting.** 429s (honouring `Retry-After`) and 5xx are retried by the client;
//!   timeouts, hung connections and malformed bodies by this crate; all of it stops at the
//!   email's [`Deadline`](deskhand_core::ports::Deadline).
//! - **Metered.** Prompt and completion tokens and the cost (from a price table) of every
//!   call go into the draft's trace.
//! - **Grounded.** Prompts carry only the email, the case memory and the facts the tools
//!   found for this customer. The reply guard in the core checks what comes back; the
//!   template fallback is the offline engine's.
//!
//! **The rule it keeps: wire types of the endpoint stay inside this crate**; what leaves
//! it is a core type or a refusal. Depends on `deskhand-core` and
//! `deskhand-offline` (templates).

mod engine;
mod prompts;
mod transport;
mod wire;

pub use engine::{LlmEngine, LlmError, LlmSettings, PerStep, Price, StepModels};
pub use wire::StructuredOutput;
