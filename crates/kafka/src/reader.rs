//! Reads a topic from the beginning with a throw-away consumer group: for the demo, the
//! evaluation harness and tests that check what Deskhand published.

use crate::{ClientSettings, Error, Result};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use std::collections::BTreeMap;
use std::time::Duration;

/// One message as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMessage {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub payload: Vec<u8>,
}

/// A reader of one topic.
pub struct TopicReader {
    consumer: StreamConsumer,
}

impl std::fmt::Debug for TopicReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicReader").finish_non_exhaustive()
    }
}

impl TopicReader {
    pub fn new(client: &ClientSettings, topic: &str) -> Result<Self> {
        let group = format!("deskhand-reader-{}", uuid::Uuid::new_v4().simple());
        let consumer: StreamConsumer = client
            .client_config()
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            // Readers wait on tests and demos, not the other way round.
            .set("fetch.wait.max.ms", "10")
            .create()
            .map_err(Error::Config)?;
        consumer.subscribe(&[topic]).map_err(Error::Subscribe)?;
        Ok(Self { consumer })
    }

    /// The next message, or `None` when none arrives within `timeout`.
    pub async fn next(&self, timeout: Duration) -> Option<ReadMessage> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                return None;
            }
            match tokio::time::timeout(remaining, self.consumer.recv()).await {
                Err(_) => return None,
                Ok(Err(error)) => {
                    tracing::debug!(%error, "reader error");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(Ok(message)) => {
                    let mut headers = BTreeMap::new();
                    if let Some(list) = message.headers() {
                        for header in list.iter() {
                            let value = header
                                .value
                                .map(|v| String::from_utf8_lossy(v).into_owned());
                            headers.insert(header.key.to_owned(), value.unwrap_or_default());
                        }
                    }
                    return Some(ReadMessage {
                        partition: message.partition(),
                        offset: message.offset(),
                        key: message
                            .key()
                            .map(|k| String::from_utf8_lossy(k).into_owned()),
                        headers,
                        payload: message.payload().unwrap_or_default().to_vec(),
                    });
                }
            }
        }
    }

    /// Reads until `done` says so or nothing arrives for `idle`; returns what was read.
    pub async fn read_until(
        &self,
        idle: Duration,
        mut done: impl FnMut(&[ReadMessage]) -> bool,
    ) -> Vec<ReadMessage> {
        let mut read = Vec::new();
        while !done(&read) {
            match self.next(idle).await {
                Some(message) => read.push(message),
                None => break,
            }
        }
        read
    }
}
