//! Layered configuration: `config/base.toml` → `config/{DESKHAND_ENV}.toml` → environment.
//!
//! The base file is also compiled in, so the binary runs from any directory.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const EMBEDDED_BASE: &str = include_str!("../../../config/base.toml");

/// Environment variables that are part of Deskhand's contract, and the key each sets.
const CONTRACT_ENV: &[(&str, &str, &str)] = &[
    ("DATABASE_URL", "database", "url"),
    ("KAFKA_BROKERS", "kafka", "brokers"),
    ("DESKHAND_GROUP_ID", "kafka", "group_id"),
    ("DESKHAND_HTTP_ADDR", "http", "addr"),
    ("DESKHAND_TOPIC_INBOUND", "topics", "inbound"),
    ("DESKHAND_TOPIC_APPROVAL", "topics", "approval"),
    ("DESKHAND_TOPIC_DLQ", "topics", "dlq"),
    ("DESKHAND_TOPIC_DECIDED", "topics", "decided"),
    ("DESKHAND_SMTP_URL", "smtp", "url"),
    ("DESKHAND_MAIL_FROM", "smtp", "from"),
    ("DESKHAND_MAX_IN_FLIGHT", "worker", "max_in_flight"),
    ("DESKHAND_TODAY", "agent", "today"),
    ("DESKHAND_TRIAGE_MODEL", "triage", "model_path"),
    ("DESKHAND_KNOWLEDGE_DIR", "knowledge", "dir"),
    ("OPENAI_API_KEY", "llm", "api_key"),
    ("OPENAI_BASE_URL", "llm", "base_url"),
    ("DESKHAND_MODEL", "llm", "model"),
    ("DESKHAND_LLM_STRUCTURED_OUTPUT", "llm", "structured_output"),
];

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid TOML in {origin}: {source}")]
    Toml {
        origin: String,
        source: toml::de::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// A `*_ms` key: milliseconds in the file, a `Duration` everywhere past this edge.
fn millis<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    u64::deserialize(deserializer).map(Duration::from_millis)
}

/// `warn` or `refuse`.
fn sender_check<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<deskhand_core::sender::SenderCheck, D::Error> {
    String::deserialize(deserializer)?
        .parse()
        .map_err(serde::de::Error::custom)
}

/// `YYYY-MM-DD`, or empty for none.
fn optional_date<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<time::Date>, D::Error> {
    let raw = String::deserialize(deserializer)?;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, &format)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("agent.today {raw:?}: {e}")))
}

/// A value that must never reach a log line.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "[redacted]"
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub kafka: KafkaSettings,
    pub topics: TopicSettings,
    pub worker: WorkerSettings,
    pub relay: RelaySettings,
    pub agent: AgentSettings,
    pub triage: TriageSettings,
    pub knowledge: KnowledgeConfig,
    pub http: HttpSettings,
    pub review: ReviewConfig,
    pub intake: IntakeConfig,
    pub smtp: SmtpSettings,
    pub llm: LlmSettings,
}

/// The HTTP way in (`POST /api/v1/emails`, served with the review API).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeConfig {
    /// The largest body a post may have.
    pub max_body_bytes: usize,
    /// Requests one integration key may make per minute (and at once).
    pub requests_per_minute: u32,
    /// Serve `POST /api/v1/triage:dry-run` (reviewers' tokens only).
    pub dry_run: bool,
    /// How often, and after how long, a posted email the broker never acknowledged is
    /// published again.
    #[serde(rename = "sweep_ms", deserialize_with = "millis")]
    pub sweep: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewConfig {
    pub group_id: String,
    pub reviewer_max_action_cents: i64,
    /// What one coupon counts against a reviewer's limit, in cents.
    pub coupon_value_cents: i64,
    pub sla_urgent_minutes: i64,
    pub sla_high_minutes: i64,
    pub sla_medium_minutes: i64,
    pub sla_low_minutes: i64,
    pub session_ttl_minutes: u64,
    pub secure_cookies: bool,
    /// Sign-in attempts one client address may make per window.
    pub sign_in_attempts: u32,
    pub sign_in_window_seconds: u64,
    /// The header a trusted reverse proxy puts the client's address in; empty: the peer.
    pub client_address_header: String,
    /// `close`: drafts that need no reply are closed on arrival (audited, listed under
    /// closed, reopenable); `queue`: they wait in the queue like the others.
    pub no_reply: NoReplyHandling,
}

/// What the review side does with drafts that need no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoReplyHandling {
    Close,
    Queue,
}

impl ReviewConfig {
    pub fn sla(&self) -> deskhand_core::review::SlaTargets {
        let minutes = time::Duration::minutes;
        deskhand_core::review::SlaTargets {
            urgent: minutes(self.sla_urgent_minutes),
            high: minutes(self.sla_high_minutes),
            medium: minutes(self.sla_medium_minutes),
            low: minutes(self.sla_low_minutes),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// May carry a password.
    pub url: Secret,
    pub from: String,
    #[serde(rename = "timeout_ms", deserialize_with = "millis")]
    pub timeout: Duration,
    #[serde(rename = "max_retry_backoff_ms", deserialize_with = "millis")]
    pub max_retry_backoff: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: Secret,
    pub max_connections: u32,
    #[serde(rename = "acquire_timeout_ms", deserialize_with = "millis")]
    pub acquire_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSettings {
    pub brokers: String,
    pub group_id: String,
    pub create_topics: bool,
    pub partitions: i32,
    #[serde(rename = "session_timeout_ms", deserialize_with = "millis")]
    pub session_timeout: Duration,
    #[serde(rename = "fetch_wait_max_ms", deserialize_with = "millis")]
    pub fetch_wait_max: Duration,
    #[serde(rename = "max_poll_interval_ms", deserialize_with = "millis")]
    pub max_poll_interval: Duration,
    #[serde(rename = "auto_commit_interval_ms", deserialize_with = "millis")]
    pub auto_commit_interval: Duration,
    pub max_message_bytes: usize,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSettings {
    pub inbound: String,
    pub approval: String,
    pub dlq: String,
    pub decided: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    pub max_in_flight: usize,
    #[serde(rename = "drain_timeout_ms", deserialize_with = "millis")]
    pub drain_timeout: Duration,
    #[serde(rename = "max_retry_backoff_ms", deserialize_with = "millis")]
    pub max_retry_backoff: Duration,
    pub max_event_bytes: usize,
    pub mime_max_depth: usize,
    pub mime_max_parts: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaySettings {
    pub batch_size: i64,
    #[serde(rename = "poll_interval_ms", deserialize_with = "millis")]
    pub poll_interval: Duration,
    #[serde(rename = "publish_timeout_ms", deserialize_with = "millis")]
    pub publish_timeout: Duration,
    pub park_after: i32,
}

/// The shop's knowledge base: policy pages the answer route quotes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeConfig {
    /// The folder of Markdown pages; one passage per `## ` section.
    pub dir: PathBuf,
    /// The best passage's retrieval score below which a question goes to a person.
    pub min_score: f64,
    /// How far the best passage must lead the next, as a share of its score.
    pub min_margin: f64,
    /// A second passage is cited when it scores at least this share of the best.
    pub second_passage_ratio: f64,
    /// How often a search looks whether a page changed (a few `stat` calls).
    #[serde(deserialize_with = "millis")]
    pub recheck_ms: Duration,
}

impl KnowledgeConfig {
    pub fn graph(&self) -> deskhand_core::KnowledgeSettings {
        deskhand_core::KnowledgeSettings {
            min_score: self.min_score,
            min_margin: self.min_margin,
            second_passage_ratio: self.second_passage_ratio,
        }
    }

    /// The folder, indexed; re-indexed on a search after a page changed.
    pub fn open(
        &self,
    ) -> Result<std::sync::Arc<crate::knowledge::WatchedKnowledge>, SettingsError> {
        crate::knowledge::WatchedKnowledge::open(&self.dir, self.recheck_ms)
            .map(std::sync::Arc::new)
    }
}

/// The offline engine's classifier.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageSettings {
    pub model_path: String,
    pub reply_languages: Vec<String>,
}

impl TriageSettings {
    /// The configured model file, or the shipped model.
    pub fn load_model(&self) -> Result<deskhand_offline::TriageModel, SettingsError> {
        let path = self.model_path.trim();
        let invalid = |problem: String| {
            SettingsError::Invalid(format!("triage.model_path {path:?}: {problem}"))
        };
        if path.is_empty() {
            return deskhand_offline::TriageModel::shipped().map_err(|e| invalid(e.to_string()));
        }
        let bytes = std::fs::read(path).map_err(|e| invalid(e.to_string()))?;
        deskhand_offline::TriageModel::from_bytes(&bytes).map_err(|e| invalid(e.to_string()))
    }

    pub fn reply_languages(&self) -> Result<Vec<deskhand_core::Language>, SettingsError> {
        self.reply_languages
            .iter()
            .map(|code| {
                deskhand_core::Language::parse(code)
                    .map_err(|e| SettingsError::Invalid(format!("triage.reply_languages: {e}")))
            })
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    /// The business date, when pinned (tests, evaluation); otherwise each email's own day.
    #[serde(deserialize_with = "optional_date")]
    pub today: Option<time::Date>,
    pub max_body_chars: usize,
    pub min_confidence: f64,
    pub repeat_limit: u32,
    pub max_catalog_rows: i64,
    pub max_offers: usize,
    pub max_requested_rows: usize,
    pub refund_percent_per_day: i64,
    pub coupon_lookback_days: i64,
    pub coupon_valid_days: i64,
    /// Days after delivery within which a return may be started (the knowledge base's
    /// returns page says the same to customers).
    pub return_window_days: i64,
    pub memory_max_entries: usize,
    pub memory_max_rolling_chars: usize,
    /// `warn` or `refuse`: what a sender that is not the customer's address on file gets.
    #[serde(deserialize_with = "sender_check")]
    pub sender_mismatch: deskhand_core::sender::SenderCheck,
}

impl AgentSettings {
    /// The graph's settings, with the languages the engine replies in.
    pub fn graph(
        &self,
        reply_languages: Vec<deskhand_core::Language>,
        knowledge: deskhand_core::KnowledgeSettings,
    ) -> deskhand_core::GraphSettings {
        deskhand_core::GraphSettings {
            max_body_chars: self.max_body_chars,
            min_confidence: self.min_confidence,
            repeat_limit: self.repeat_limit,
            max_catalog_rows: self.max_catalog_rows,
            max_offers: self.max_offers,
            max_requested_rows: self.max_requested_rows,
            reply_languages,
            policy: self.policy(),
            memory: self.memory(),
            sender_check: self.sender_mismatch,
            knowledge,
        }
    }

    /// The late-delivery policy: what the worker proposes and an approval checks again.
    pub fn policy(&self) -> deskhand_core::delivery::PolicySettings {
        deskhand_core::delivery::PolicySettings {
            refund_percent_per_day: self.refund_percent_per_day,
            coupon_lookback_days: self.coupon_lookback_days,
            coupon_valid_days: self.coupon_valid_days,
            return_window_days: self.return_window_days,
        }
    }

    /// How the case memory folds summaries.
    pub fn memory(&self) -> deskhand_core::memory::MemorySettings {
        deskhand_core::memory::MemorySettings {
            max_entries: self.memory_max_entries,
            max_rolling_chars: self.memory_max_rolling_chars,
            ..deskhand_core::memory::MemorySettings::default()
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub addr: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    pub api_key: Secret,
    pub base_url: String,
    pub model: String,
    pub classify_model: String,
    pub extract_model: String,
    pub compose_model: String,
    pub classify_max_tokens: u32,
    pub extract_max_tokens: u32,
    pub compose_max_tokens: u32,
    pub structured_output: deskhand_llm::StructuredOutput,
    pub max_concurrent_calls: usize,
    pub classify_examples: usize,
    pub precedent_pool: usize,
    #[serde(rename = "precedent_refresh_ms", deserialize_with = "millis")]
    pub precedent_refresh: Duration,
    #[serde(rename = "call_timeout_ms", deserialize_with = "millis")]
    pub call_timeout: Duration,
    pub max_attempts: u32,
    #[serde(rename = "email_budget_ms", deserialize_with = "millis")]
    pub email_budget: Duration,
    #[serde(default)]
    pub prices: BTreeMap<String, ModelPrice>,
}

/// US dollars per million tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub prompt_per_million: f64,
    pub completion_per_million: f64,
}

impl LlmSettings {
    /// The LLM engine's settings, or `None` when no key is configured (offline engine).
    pub fn engine(&self) -> Option<deskhand_llm::LlmSettings> {
        if self.api_key.is_empty() {
            return None;
        }
        let pick = |step: &str| {
            if step.trim().is_empty() {
                self.model.clone()
            } else {
                step.to_owned()
            }
        };
        Some(deskhand_llm::LlmSettings {
            base_url: self.base_url.clone(),
            api_key: self.api_key.expose().to_owned(),
            models: deskhand_llm::StepModels {
                classify: pick(&self.classify_model),
                extract: pick(&self.extract_model),
                compose: pick(&self.compose_model),
            },
            max_tokens: deskhand_llm::PerStep {
                classify: self.classify_max_tokens,
                extract: self.extract_max_tokens,
                compose: self.compose_max_tokens,
            },
            structured_output: self.structured_output,
            max_concurrent_calls: self.max_concurrent_calls,
            classify_examples: self.classify_examples,
            call_timeout: self.call_timeout,
            max_attempts: self.max_attempts,
            prices: self
                .prices
                .iter()
                .map(|(model, p)| {
                    (
                        model.clone(),
                        deskhand_llm::Price {
                            prompt_per_million: p.prompt_per_million,
                            completion_per_million: p.completion_per_million,
                        },
                    )
                })
                .collect(),
        })
    }
}

impl Settings {
    /// Loads configuration for this process: files from `DESKHAND_CONFIG_DIR` (default
    /// `./config`, falling back to the compiled-in base) and the environment.
    pub fn load() -> Result<Self, SettingsError> {
        let dir = std::env::var_os("DESKHAND_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("config"));
        let profile = std::env::var("DESKHAND_ENV").ok().filter(|p| !p.is_empty());
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(&dir, profile.as_deref(), &env)
    }

    /// Loads configuration from a directory and an explicit environment (for tests).
    pub fn load_from(
        dir: &Path,
        profile: Option<&str>,
        env: &[(String, String)],
    ) -> Result<Self, SettingsError> {
        let base_path = dir.join("base.toml");
        let mut merged = if base_path.exists() {
            parse_toml(&read(&base_path)?, &base_path.display().to_string())?
        } else {
            parse_toml(EMBEDDED_BASE, "embedded base.toml")?
        };
        if let Some(profile) = profile {
            let path = dir.join(format!("{profile}.toml"));
            let overlay = parse_toml(&read(&path)?, &path.display().to_string())?;
            merge(&mut merged, overlay);
        }
        for (name, value) in env {
            if let Some((_, section, key)) = CONTRACT_ENV.iter().find(|(n, _, _)| n == name) {
                set(&mut merged, &[section, key], value);
            } else if let Some(path) = name.strip_prefix("DESKHAND__") {
                let path: Vec<String> = path.split("__").map(str::to_lowercase).collect();
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                set(&mut merged, &path, value);
            }
        }
        let settings: Settings = merged.try_into().map_err(|source| SettingsError::Toml {
            origin: "merged configuration".into(),
            source,
        })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |msg: String| Err(SettingsError::Invalid(msg));
        if self.worker.max_in_flight == 0 {
            return invalid("worker.max_in_flight must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.agent.min_confidence) {
            return invalid("agent.min_confidence must be between 0 and 1".into());
        }
        if self.kafka.max_poll_interval <= self.worker.drain_timeout {
            return invalid(
                "kafka.max_poll_interval_ms must exceed worker.drain_timeout_ms, or a \
                 rebalance could outlast the group's patience"
                    .into(),
            );
        }
        if self.llm.email_budget >= self.kafka.max_poll_interval {
            return invalid(
                "llm.email_budget_ms must stay below kafka.max_poll_interval_ms".into(),
            );
        }
        if self.llm.max_concurrent_calls == 0
            || [
                self.llm.classify_max_tokens,
                self.llm.extract_max_tokens,
                self.llm.compose_max_tokens,
            ]
            .contains(&0)
        {
            return invalid(
                "llm.max_concurrent_calls and llm.*_max_tokens must be at least 1".into(),
            );
        }
        if self.llm.precedent_refresh < Duration::from_secs(1) {
            return invalid(
                "llm.precedent_refresh_ms must be at least 1000: each refresh reads the store"
                    .into(),
            );
        }
        if self.agent.memory_max_entries == 0 || self.agent.repeat_limit == 0 {
            return invalid(
                "agent.memory_max_entries and agent.repeat_limit must be at least 1".into(),
            );
        }
        if self.intake.max_body_bytes < 1024
            || self.intake.requests_per_minute == 0
            || self.intake.sweep < Duration::from_millis(100)
        {
            return invalid(
                "intake.max_body_bytes must be at least 1024, intake.requests_per_minute \
                 at least 1 and intake.sweep_ms at least 100"
                    .into(),
            );
        }
        if self.review.reviewer_max_action_cents < 0 {
            return invalid("review.reviewer_max_action_cents must not be negative".into());
        }
        if self.review.sign_in_attempts == 0 || self.review.sign_in_window_seconds == 0 {
            return invalid(
                "review.sign_in_attempts and review.sign_in_window_seconds must be at least 1"
                    .into(),
            );
        }
        if !(1..=365).contains(&self.agent.return_window_days) {
            return invalid("agent.return_window_days must be between 1 and 365".into());
        }
        if self.review.coupon_value_cents < 0 {
            return invalid("review.coupon_value_cents must not be negative".into());
        }
        if self.kafka.partitions < 1 {
            return invalid("kafka.partitions must be at least 1".into());
        }
        Ok(())
    }
}

fn read(path: &Path) -> Result<String, SettingsError> {
    std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.into(),
        source,
    })
}

fn parse_toml(text: &str, origin: &str) -> Result<toml::Value, SettingsError> {
    text.parse::<toml::Value>()
        .map_err(|source| SettingsError::Toml {
            origin: origin.to_owned(),
            source,
        })
}

fn merge(base: &mut toml::Value, overlay: toml::Value) {
    match (base, overlay) {
        (toml::Value::Table(base), toml::Value::Table(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// Sets a key from an environment variable. The value keeps the type the key already
/// has (numbers and booleans are parsed), so `DESKHAND__WORKER__MAX_IN_FLIGHT=8` works.
fn set(root: &mut toml::Value, path: &[&str], raw: &str) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = root;
    for part in parents {
        let toml::Value::Table(table) = node else {
            return;
        };
        node = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()));
    }
    let toml::Value::Table(table) = node else {
        return;
    };
    let value = match table.get(*last) {
        Some(toml::Value::Integer(_)) => raw.parse().map(toml::Value::Integer).ok(),
        Some(toml::Value::Float(_)) => raw.parse().map(toml::Value::Float).ok(),
        Some(toml::Value::Boolean(_)) => raw.parse().map(toml::Value::Boolean).ok(),
        _ => None,
    }
    .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
    table.insert(last.to_string(), value);
}
