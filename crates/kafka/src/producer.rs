//! A thin publisher over rdkafka's `FutureProducer`: idempotent, waits for the broker's ack.

use crate::{ClientSettings, Error, Result};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::Duration;

/// Producer knobs.
#[derive(Debug, Clone)]
pub struct ProducerSettings {
    pub client: ClientSettings,
    /// How long librdkafka keeps retrying one message before reporting failure.
    pub message_timeout: Duration,
    /// Largest message the producer will send (the dead-letter topic forwards big events).
    pub max_message_bytes: usize,
}

/// Publishes messages and waits until the broker has them.
#[derive(Clone)]
pub struct Publisher {
    producer: FutureProducer,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

impl Publisher {
    pub fn new(settings: &ProducerSettings) -> Result<Self> {
        let mut config = settings.client.client_config();
        config
            // Idempotence keeps retries from duplicating or reordering within a partition.
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "2")
            .set(
                "message.timeout.ms",
                settings.message_timeout.as_millis().to_string(),
            )
            .set("message.max.bytes", settings.max_message_bytes.to_string());
        let producer = config.create().map_err(Error::Config)?;
        Ok(Self { producer })
    }

    /// Sends one message and waits for the broker's acknowledgement.
    pub async fn send(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<()> {
        let mut owned = OwnedHeaders::new_with_capacity(headers.len());
        for (name, value) in headers {
            owned = owned.insert(Header {
                key: name,
                value: Some(value.as_bytes()),
            });
        }
        let record = FutureRecord::to(topic)
            .key(key)
            .payload(payload)
            .headers(owned);
        self.producer
            .send(record, Duration::from_secs(0))
            .await
            .map(|_| ())
            .map_err(|(source, _)| Error::Publish {
                topic: topic.to_owned(),
                source,
            })
    }

    /// Waits until everything queued has been acknowledged, or the timeout passes.
    pub fn flush(&self, timeout: Duration) {
        use rdkafka::producer::Producer as _;
        if let Err(error) = self.producer.flush(timeout) {
            tracing::warn!(%error, "producer flush did not complete");
        }
    }
}

impl Publisher {
    /// True when a broker answers a metadata request within `timeout`.
    pub async fn is_reachable(&self, timeout: Duration) -> bool {
        use rdkafka::producer::Producer as _;
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || producer.client().fetch_metadata(None, timeout).is_ok())
            .await
            .unwrap_or(false)
    }
}

impl deskhand_core::ports::EventPublisher for Publisher {
    type Error = Error;

    async fn publish(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<()> {
        self.send(topic, key, payload, headers).await
    }
}
