//! The engine: one chat-completions call per cognitive step, validated and metered.

use crate::prompts;
use crate::transport::{capturing_retry_after, RetryAfterAware};
use crate::wire::{self, Answer, Constraint, StructuredOutput};
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::ReqwestService;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionResponse, FinishReason,
};
use async_openai::Client;
use deskhand_core::email::InboundEmail;
use deskhand_core::memory::CaseMemory;
use deskhand_core::ports::{
    Classified, Cognition, CognitionError, CognitionResult, ComposeInput, Deadline, Metered, Usage,
};
use deskhand_core::product::ProductQuery;
use deskhand_core::{Confidence, Reply, Sentiment, Tone, Topic, Urgency};
use deskhand_offline::{OfflineEngine, SharedPrecedents};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

/// One setting per cognitive step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerStep<T> {
    pub classify: T,
    pub extract: T,
    pub compose: T,
}

/// Which model each step uses.
pub type StepModels = PerStep<String>;

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub prompt_per_million: f64,
    pub completion_per_million: f64,
}

/// How to reach and use the endpoint.
#[derive(Clone)]
pub struct LlmSettings {
    /// e.g. `https://api.openai.com/v1`, or any compatible server.
    pub base_url: String,
    pub api_key: String,
    pub models: StepModels,
    /// Most tokens each step's answer may take. Unbounded, a small model on a CPU server
    /// generates until the call times out, and the abandoned generation keeps a server
    /// slot busy for the next email.
    pub max_tokens: PerStep<u32>,
    /// How the endpoint is asked for JSON that matches a schema.
    pub structured_output: StructuredOutput,
    /// Precedents (past emails with reviewed labels, masked) shown in the classify prompt;
    /// 0 shows none.
    pub classify_examples: usize,
    /// Model calls in flight at once, across all emails; the rest wait their turn within
    /// their email's budget. Size it to the server's parallel slots.
    pub max_concurrent_calls: usize,
    /// Longest one HTTP call may take (a hung connection is cut here).
    pub call_timeout: Duration,
    /// Calls per step before giving up (the client also retries 429/5xx inside a call).
    pub max_attempts: u32,
    /// Prices by model name; a model without a price costs 0 (and is logged).
    pub prices: BTreeMap<String, Price>,
}

impl std::fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &"[redacted]")
            .field("models", &self.models)
            .field("max_tokens", &self.max_tokens)
            .field("structured_output", &self.structured_output)
            .field("max_concurrent_calls", &self.max_concurrent_calls)
            .field("classify_examples", &self.classify_examples)
            .field("call_timeout", &self.call_timeout)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// The graph's cognitive steps on a language model.
#[derive(Debug, Clone)]
pub struct LlmEngine {
    client: Client<OpenAIConfig>,
    settings: LlmSettings,
    templates: OfflineEngine,
    /// One permit per call in flight to the endpoint.
    slots: Arc<Semaphore>,
    precedents: SharedPrecedents,
}

/// One cognitive step's fixed parts: its name (also the schema's name), model, system
/// prompt, output schema and answer length.
struct Step<'a> {
    name: &'static str,
    model: &'a str,
    system: &'a str,
    schema: Value,
    max_tokens: u32,
}

/// A usable answer from one call: its JSON text, and whether the server cut it at
/// `max_tokens`.
struct Completion {
    text: String,
    cut_off: bool,
}

/// Why a call was never sent: every slot at the endpoint stayed busy for the budget.
const NO_SLOT: &str = "no free model slot (llm.max_concurrent_calls)";

/// What to do after a failed call.
enum Failure {
    /// Another attempt may succeed.
    Retry(String),
    /// It will fail the same way again.
    GiveUp(String),
}

fn classify_error(error: &OpenAIError) -> Failure {
    match error {
        OpenAIError::ApiError(api) => {
            let status = api.status_code.as_u16();
            let quota = api.api_error.r#type.as_deref() == Some("insufficient_quota");
            if !quota && (status == 408 || status == 409 || status == 429 || status >= 500) {
                Failure::Retry(error.to_string())
            } else {
                Failure::GiveUp(error.to_string())
            }
        }
        OpenAIError::Reqwest(_)
        | OpenAIError::JSONDeserialize(..)
        | OpenAIError::StreamError(_) => Failure::Retry(error.to_string()),
        _ => Failure::GiveUp(error.to_string()),
    }
}

/// Why the engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("building the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// Why a model's answer was not accepted; the model is told once, then the step fails.
#[derive(Debug, thiserror::Error)]
enum InvalidAnswer {
    #[error("not JSON ({0})")]
    NotJson(#[source] serde_json::Error),
    #[error("{0}")]
    Shape(#[from] serde_json::Error),
    #[error(transparent)]
    Label(#[from] deskhand_core::draft::UnknownLabel),
    #[error("{0}")]
    OutOfRange(String),
}

impl LlmEngine {
    pub fn new(settings: LlmSettings, templates: OfflineEngine) -> Result<Self, LlmError> {
        let http = reqwest::Client::builder()
            .timeout(settings.call_timeout)
            .build()
            .map_err(LlmError::HttpClient)?;
        let config = OpenAIConfig::new()
            .with_api_key(settings.api_key.clone())
            .with_api_base(settings.base_url.trim_end_matches('/').to_owned());
        // Our transport, not async-openai's default one with its own retries (see
        // `transport`): every request is one metered call within the email's budget.
        let client = Client::with_config(config)
            .with_http_client(http.clone())
            .with_http_service(RetryAfterAware(ReqwestService::new(http)));
        Ok(Self {
            client,
            slots: Arc::new(Semaphore::new(settings.max_concurrent_calls.max(1))),
            settings,
            templates,
            precedents: SharedPrecedents::default(),
        })
    }

    /// The precedents the classify prompt draws its examples from: whoever holds this
    /// handle rebuilds them (the worker, from reviewed decisions).
    pub fn precedents(&self) -> SharedPrecedents {
        self.precedents.clone()
    }

    fn cost(&self, model: &str, prompt: u32, completion: u32) -> f64 {
        match self.settings.prices.get(model) {
            Some(price) => {
                (prompt as f64 * price.prompt_per_million
                    + completion as f64 * price.completion_per_million)
                    / 1_000_000.0
            }
            None => {
                tracing::debug!(%model, "no price configured for model; cost counted as 0");
                0.0
            }
        }
    }

    /// Asks for a JSON answer and validates it with `parse`; an invalid answer is retried
    /// once with the problem spelled out.
    async fn ask<T>(
        &self,
        step: Step<'_>,
        user: String,
        deadline: Deadline,
        parse: impl Fn(Value) -> Result<T, InvalidAnswer>,
    ) -> CognitionResult<T> {
        let Step {
            name: step,
            model,
            system,
            schema,
            max_tokens,
        } = step;
        let variant = self.settings.structured_output;
        let constraint = Constraint {
            name: step,
            schema: &schema,
            variant,
            max_tokens,
        };
        let mut usage = Usage::default();
        let mut messages: Vec<ChatCompletionRequestMessage> = vec![
            ChatCompletionRequestSystemMessage::from(variant.system_prompt(system, &schema)).into(),
            ChatCompletionRequestUserMessage::from(user).into(),
        ];
        let mut corrected = false;
        loop {
            let Completion {
                text: content,
                cut_off,
            } = match self
                .call(model, &messages, &constraint, deadline, &mut usage)
                .await
            {
                Ok(completion) => completion,
                Err(error) => {
                    return Err(Metered {
                        value: error,
                        usage,
                    })
                }
            };
            let parsed = serde_json::from_str::<Value>(&content)
                .map_err(InvalidAnswer::NotJson)
                .and_then(&parse);
            match parsed {
                Ok(value) => return Ok(Metered { value, usage }),
                // Asked again, the model would run out of room again.
                Err(problem) if cut_off => {
                    let error = CognitionError::Permanent(format!(
                        "{step}: the answer was cut off at the step's max_tokens ({max_tokens}): {problem}"
                    ));
                    return Err(Metered {
                        value: error,
                        usage,
                    });
                }
                Err(problem) if !corrected => {
                    tracing::warn!(step, %problem, "model answer invalid; asking once more");
                    corrected = true;
                    messages.push(ChatCompletionRequestAssistantMessage::from(content).into());
                    messages.push(
                        ChatCompletionRequestUserMessage::from(format!(
                            "That answer is invalid: {problem}. Answer again with JSON that matches the schema exactly."
                        ))
                        .into(),
                    );
                }
                Err(problem) => {
                    let error = CognitionError::Permanent(format!(
                        "{step}: invalid answer twice: {problem}"
                    ));
                    return Err(Metered {
                        value: error,
                        usage,
                    });
                }
            }
        }
    }

    /// One chat completion, retried on transient failures until the attempts or the
    /// deadline run out.
    async fn call(
        &self,
        model: &str,
        messages: &[ChatCompletionRequestMessage],
        constraint: &Constraint<'_>,
        deadline: Deadline,
        usage: &mut Usage,
    ) -> Result<Completion, CognitionError> {
        let step = constraint.name;
        let request = wire::request_body(model, messages, constraint)
            .map_err(|e| CognitionError::Permanent(format!("{step}: building the request: {e}")))?;
        let mut last_error = String::from("no attempt made");
        let mut backoff = Duration::from_millis(200);
        for attempt in 1..=self.settings.max_attempts.max(1) {
            let remaining = deadline.remaining();
            if remaining.is_zero() {
                break;
            }
            // Wait for a free slot at the endpoint; the wait counts against the budget.
            let Ok(Ok(slot)) = tokio::time::timeout(remaining, self.slots.acquire()).await else {
                last_error = NO_SLOT.to_owned();
                break;
            };
            // The slot may have come as the budget ran out: then nothing is sent.
            let remaining = deadline.remaining();
            if remaining.is_zero() {
                last_error = NO_SLOT.to_owned();
                break;
            }
            usage.calls += 1;
            // One span per request, in the GenAI semantic conventions.
            let span = tracing::info_span!(
                "chat",
                otel.name = %format!("chat {model}"),
                otel.kind = "client",
                otel.status_code = tracing::field::Empty,
                gen_ai.operation.name = "chat",
                gen_ai.provider.name = "openai",
                gen_ai.request.model = %model,
                gen_ai.request.temperature = 0.0,
                gen_ai.request.max_tokens = constraint.max_tokens,
                gen_ai.response.model = tracing::field::Empty,
                gen_ai.usage.input_tokens = tracing::field::Empty,
                gen_ai.usage.output_tokens = tracing::field::Empty,
                error.type = tracing::field::Empty,
                deskhand.step = step,
                deskhand.attempt = attempt,
                deskhand.cost_usd = tracing::field::Empty,
            );
            let (outcome, retry_after) = capturing_retry_after(tokio::time::timeout(
                remaining.min(self.settings.call_timeout),
                self.client
                    .chat()
                    .create_byot::<_, CreateChatCompletionResponse>(&request),
            ))
            .instrument(span.clone())
            .await;
            record_call(&span, &outcome, |input, output| {
                self.cost(model, input, output)
            });
            match outcome {
                Err(_) => last_error = "timed out".to_owned(),
                Ok(Ok(response)) => {
                    if let Some(tokens) = &response.usage {
                        usage.prompt_tokens += u64::from(tokens.prompt_tokens);
                        usage.completion_tokens += u64::from(tokens.completion_tokens);
                        usage.cost_usd +=
                            self.cost(model, tokens.prompt_tokens, tokens.completion_tokens);
                    }
                    let choice = response.choices.into_iter().next();
                    let cut_off = choice
                        .as_ref()
                        .is_some_and(|c| c.finish_reason == Some(FinishReason::Length));
                    match choice.map(|c| wire::answer(c.message, constraint.variant)) {
                        Some(Answer::Text(text)) => return Ok(Completion { text, cut_off }),
                        Some(Answer::Refused(refusal)) => {
                            return Err(CognitionError::Permanent(format!(
                                "{step}: the model refused: {refusal}"
                            )))
                        }
                        // All its room went before any answer (a model that reasons
                        // first): another call would spend it the same way.
                        Some(Answer::Empty) if cut_off => {
                            return Err(CognitionError::Permanent(format!(
                                "{step}: the answer was cut off at the step's max_tokens ({}) before any JSON",
                                constraint.max_tokens
                            )))
                        }
                        Some(Answer::Empty) | None => last_error = "empty answer".to_owned(),
                    }
                }
                Ok(Err(error)) => match classify_error(&error) {
                    Failure::Retry(reason) => last_error = reason,
                    Failure::GiveUp(reason) => {
                        return Err(CognitionError::Permanent(format!("{step}: {reason}")))
                    }
                },
            }
            // The slot is for a call in flight, not for waiting out a backoff.
            drop(slot);
            tracing::warn!(step, attempt, error = %last_error, "model call failed");
            // The server's Retry-After wins over our own backoff.
            let wait = retry_after.unwrap_or(backoff);
            tokio::time::sleep(wait.min(deadline.remaining())).await;
            backoff *= 2;
        }
        Err(CognitionError::Transient(format!(
            "{step}: no usable answer within the email's budget ({} calls): {last_error}",
            usage.calls
        )))
    }
}

/// Puts what one model call returned (tokens, cost) or how it failed on its span.
fn record_call<T>(
    span: &tracing::Span,
    outcome: &Result<Result<CreateChatCompletionResponse, OpenAIError>, T>,
    cost: impl Fn(u32, u32) -> f64,
) {
    match outcome {
        Ok(Ok(response)) => {
            span.record("gen_ai.response.model", response.model.as_str());
            if let Some(tokens) = &response.usage {
                span.record("gen_ai.usage.input_tokens", tokens.prompt_tokens);
                span.record("gen_ai.usage.output_tokens", tokens.completion_tokens);
                span.record(
                    "deskhand.cost_usd",
                    cost(tokens.prompt_tokens, tokens.completion_tokens),
                );
            }
        }
        Ok(Err(error)) => {
            span.record("otel.status_code", "ERROR");
            span.record("error.type", error_type(error));
        }
        Err(_) => {
            span.record("otel.status_code", "ERROR");
            span.record("error.type", "timeout");
        }
    }
}

fn error_type(error: &OpenAIError) -> String {
    match error {
        OpenAIError::ApiError(api) => api.status_code.as_u16().to_string(),
        OpenAIError::Reqwest(_) => "transport".to_owned(),
        OpenAIError::JSONDeserialize(..) => "malformed_response".to_owned(),
        _ => "other".to_owned(),
    }
}

#[derive(Deserialize)]
struct ClassifyAnswer {
    topic: String,
    urgency: String,
    urgent_reason: Option<String>,
    confidence: f64,
    needs_reply: bool,
    multiple_requests: bool,
    sentiment: String,
    frustration: f64,
    summary: String,
}

fn parse_classification(value: Value) -> Result<Classified, InvalidAnswer> {
    let answer: ClassifyAnswer = serde_json::from_value(value)?;
    let topic: Topic = answer.topic.parse()?;
    let urgency: Urgency = answer.urgency.parse()?;
    let sentiment: Sentiment = answer.sentiment.parse()?;
    let score = |name: &str, value: f64| {
        Confidence::parse(value)
            .map_err(|_| InvalidAnswer::OutOfRange(format!("{name} {value} is outside 0..1")))
    };
    let confidence = score("confidence", answer.confidence)?;
    let frustration = score("frustration", answer.frustration)?;
    let summary: String = answer
        .summary
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect();
    Ok(Classified {
        topic,
        urgency,
        confidence: confidence.get(),
        needs_reply: answer.needs_reply,
        multiple_requests: answer.multiple_requests,
        summary: if summary.is_empty() {
            "(no summary)".to_owned()
        } else {
            summary
        },
        urgent_reason: answer.urgent_reason.filter(|r| !r.trim().is_empty()),
        tone: Some(Tone {
            sentiment,
            frustration,
        }),
        language: None,
    })
}

fn parse_query(value: Value) -> Result<ProductQuery, InvalidAnswer> {
    let mut query: ProductQuery = serde_json::from_value(value)?;
    if let Some(size) = query.sizes().find(|s| !(1.0..=20.0).contains(s)) {
        return Err(InvalidAnswer::OutOfRange(format!(
            "size {size} is not a US shoe size"
        )));
    }
    // The first of several is the main one, whichever field the model put it in.
    if query.size.is_none() && !query.other_sizes.is_empty() {
        query.size = Some(query.other_sizes.remove(0));
    }
    if query.max_price_cents.is_some_and(|p| p <= 0) {
        query.max_price_cents = None;
    }
    let clean = |s: Option<String>| s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    query.brand = clean(query.brand);
    query.width = clean(query.width);
    query.color = clean(query.color);
    query.other_colors = query
        .other_colors
        .into_iter()
        .filter_map(|c| clean(Some(c)))
        .collect();
    if query.color.is_none() && !query.other_colors.is_empty() {
        query.color = Some(query.other_colors.remove(0));
    }
    query.material = clean(query.material);
    Ok(query)
}

#[derive(Deserialize)]
struct ComposeAnswer {
    subject: String,
    body: String,
}

impl Cognition for LlmEngine {
    fn engine_name(&self) -> String {
        format!("llm:{}", self.settings.models.compose)
    }

    async fn classify(
        &self,
        email: &InboundEmail,
        memory: &CaseMemory,
        deadline: Deadline,
    ) -> CognitionResult<Classified> {
        let model = self.settings.models.classify.clone();
        let subject = email.subject.as_deref().unwrap_or("");
        let precedents = self.precedents.snapshot();
        let examples = precedents.nearest(
            subject,
            &email.body.readable,
            self.settings.classify_examples,
        );
        let user = prompts::classify_user(email, memory, &examples);
        let mut answer = self
            .ask(
                Step {
                    name: "classification",
                    model: &model,
                    system: prompts::CLASSIFY_SYSTEM,
                    schema: prompts::classify_schema(),
                    max_tokens: self.settings.max_tokens.classify,
                },
                user,
                deadline,
                parse_classification,
            )
            .await?;
        // The deterministic parts are the same for both engines: the language, and the
        // safety floor that no model may talk an urgent email out of.
        let classified = &mut answer.value;
        classified.language = deskhand_offline::detect_language(subject, &email.body.readable);
        let own_words = format!("{subject}\n{}", email.body.readable);
        if let Some(reason) = deskhand_offline::safety_floor(&own_words) {
            if classified.urgency != Urgency::Urgent {
                classified.urgency = Urgency::Urgent;
                classified.urgent_reason = Some(reason.to_owned());
            }
        }
        Ok(answer)
    }

    async fn extract_product_query(
        &self,
        email: &InboundEmail,
        deadline: Deadline,
    ) -> CognitionResult<ProductQuery> {
        let model = self.settings.models.extract.clone();
        let user = prompts::extract_user(email);
        self.ask(
            Step {
                name: "product_query",
                model: &model,
                system: prompts::EXTRACT_SYSTEM,
                schema: prompts::extract_schema(),
                max_tokens: self.settings.max_tokens.extract,
            },
            user,
            deadline,
            parse_query,
        )
        .await
    }

    async fn compose(&self, input: ComposeInput<'_>, deadline: Deadline) -> CognitionResult<Reply> {
        let model = self.settings.models.compose.clone();
        let user = prompts::compose_user(&input);
        let subject_fallback = self.templates.template_reply(input).subject;
        self.ask(
            Step {
                name: "reply",
                model: &model,
                system: prompts::COMPOSE_SYSTEM,
                schema: prompts::compose_schema(),
                max_tokens: self.settings.max_tokens.compose,
            },
            user,
            deadline,
            |value| {
                let answer: ComposeAnswer = serde_json::from_value(value)?;
                if answer.body.trim().is_empty() {
                    return Err(InvalidAnswer::OutOfRange(
                        "the reply body is empty".to_owned(),
                    ));
                }
                let subject = if answer.subject.trim().is_empty() {
                    subject_fallback.clone()
                } else {
                    answer.subject
                };
                Ok(Reply {
                    subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
                    body: answer.body,
                })
            },
        )
        .await
    }

    fn template_reply(&self, input: ComposeInput<'_>) -> Reply {
        self.templates.template_reply(input)
    }
}
