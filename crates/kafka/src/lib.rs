//! # deskhand-kafka
//!
//! The Kafka adapter.
//! - [`inbound`]: the CRM's email event on the wire, and its decoding into a
//!   [`deskhand_core::InboundEmail`] (parse at the edge; every refusal has a reason).
//! - [`draft_event`]: the draft event Deskhand publishes on the approval topic.
//! - [`consumer`]: the consumer loop: at-least-once, ordered per case, bounded in-flight
//!   work, offsets stored only after the handler succeeded, poison messages to the
//!   dead-letter topic.
//! - [`producer`]: a small publisher used for dead letters and by the outbox relay.
//! - [`reader`]: reads a topic back (demo, evaluation, tests).
//! - [`admin`]: creates the topics Deskhand uses.
//! - [`trace_context`]: the `traceparent` header that carries an email's trace.
//!
//! Depends on `deskhand-core` (domain) and `deskhand-mail` (MIME); never on the database.

pub mod admin;
pub mod consumer;
pub mod draft_event;
pub mod inbound;
pub mod producer;
pub mod reader;
pub mod trace_context;

pub use admin::ensure_topics;
pub use consumer::{
    dlq_headers, ConsumerSettings, EventConsumer, EventHandler, HandlerError, Undecodable,
};
pub use draft_event::{DraftEmail, DraftEvent};

/// Header names Deskhand puts on the messages it publishes (a contract, `docs/events.md`).
pub mod headers {
    /// The inbound event a draft or decision belongs to.
    pub const EVENT_ID: &str = "deskhand.event_id";
    /// The draft's trace, so a decision joins the email's trace.
    pub const TRACE_ID: &str = "deskhand.trace_id";
    /// On a redraft request: the event whose draft went stale.
    pub const REDRAFT_OF: &str = "deskhand.redraft_of";
}
pub use inbound::{decode_inbound, DecodeError, DecodeLimits};
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

impl Error {
    /// A message too large for the broker, or a topic that is not allowed, will fail the
    /// same way again; everything else (timeouts, leader changes, broker down) may pass.
    pub fn is_transient(&self) -> bool {
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
