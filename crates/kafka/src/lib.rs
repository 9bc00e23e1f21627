//! # deskhand-kafka
//!
//! The Kafka adapter.
//! - [`consumer`]: the consumer loop: at-least-once, ordered per case, bounded in-flight
//!   work, offsets stored only after the handler succeeded, poison messages to the
//!   dead-letter topic.
//! - [`producer`]: a small publisher used for dead letters and by the outbox relay.
//! - [`reader`]: reads a topic back (demo, evaluation, tests).
//! - [`admin`]: creates the topics Deskhand uses.
//! - [`trace_context`]: the trace context a consumed message carries.
//!
//! The events themselves (inbound, draft, decision, header names) are
//! `deskhand-contracts`; this crate only moves bytes. Depends on `deskhand-core` and
//! `deskhand-contracts`; never on the database.

pub mod admin;
pub mod consumer;
pub mod producer;
pub mod reader;
pub mod trace_context;

pub use admin::ensure_topics;
pub use consumer::{
    dlq_headers, ConsumerSettings, EventConsumer, EventHandler, HandlerError, Undecodable,
};

pub use producer::{ProducerSettings, Publisher};
pub use reader::{ReadMessage, TopicReader};

/// A broker failure, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid Kafka client configuration: {0}")]
    Config(#[source] rdkafka::error::KafkaError),
    #[error("Kafka subscription failed: {0}")]
    Subscribe(#[source] rdkafka::error::KafkaError),
    #[error("publishing to {topic} failed: {source}")]
    Publish {
        topic: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("topic administration failed: {0}")]
    Admin(#[source] rdkafka::error::KafkaError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl deskhand_core::Transience for Error {
    /// A message too large for the broker, or a topic that is not allowed, will fail the
    /// same way again; everything else (timeouts, leader changes, broker down) may pass.
    fn is_transient(&self) -> bool {
        use rdkafka::types::RDKafkaErrorCode as Code;
        match self {
            Self::Config(_) | Self::Subscribe(_) => false,
            Self::Admin(_) => true,
            Self::Publish { source, .. } => !matches!(
                source.rdkafka_error_code(),
                Some(
                    Code::MessageSizeTooLarge
                        | Code::InvalidMessageSize
                        | Code::TopicAuthorizationFailed
                        | Code::InvalidMessage
                        | Code::InvalidRecord
                )
            ),
        }
    }
}

/// The broker settings shared by every client Deskhand creates.
#[derive(Debug, Clone, Default)]
pub struct ClientSettings {
    /// Bootstrap servers, `host:port[,host:port]`.
    pub brokers: String,
    /// Extra librdkafka properties (security, timeouts), passed through as given.
    pub extra: std::collections::BTreeMap<String, String>,
}

impl ClientSettings {
    /// A librdkafka configuration with the brokers and the pass-through properties, for
    /// clients beyond the ones this crate builds (the benchmark's floor loop).
    pub fn client_config(&self) -> rdkafka::ClientConfig {
        let mut config = rdkafka::ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        for (key, value) in &self.extra {
            config.set(key, value);
        }
        config
    }
}
