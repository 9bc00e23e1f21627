//! The outbox relay: publishes what the database committed, in commit order.
//!
//! It wakes when this process records a draft, and polls for messages written by other
//! processes. A message is marked published only after the broker acknowledged it, so a
//! crash between the two re-sends the same message (same draft id), never a different one.
//!
//! Messages of one key (one case) go out one after the other, and a failure stops the
//! rest of that key's messages in the round: they wait behind it, so a case's drafts reach
//! the topic in order. A message the broker refuses for good is parked after
//! `park_after` strikes (`deskhand_outbox_parked`, alert on it); `deskhand outbox parked`
//! lists them and `deskhand outbox release ID` puts one back in line.

use crate::metrics::names;
use deskhand_core::ports::EventPublisher;
use deskhand_core::Transience as _;
use deskhand_db::{FailedPublish, PendingMessage, Store};
use futures_util::future::join_all;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

/// How often the backlog gauge is refreshed (a count over the pending index).
const BACKLOG_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub batch_size: i64,
    pub poll_interval: Duration,
    /// On shutdown: how long the final flush may take.
    pub drain_timeout: Duration,
    /// Refusals for good before a message is parked.
    pub park_after: i32,
}

/// Runs until `shutdown`, then flushes what is pending.
pub async fn run<P: EventPublisher>(
    store: Store,
    publisher: P,
    config: RelayConfig,
    wakeup: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let mut failures = 0u32;
    let backlog = metrics::gauge!(names::OUTBOX_BACKLOG);
    let mut backlog_measured: Option<Instant> = None;
    loop {
        let outcome = relay_once(&store, &publisher, &config).await;
        if backlog_measured.is_none_or(|at| at.elapsed() >= BACKLOG_EVERY) {
            backlog_measured = Some(Instant::now());
            if let Ok(pending) = store.outbox_backlog().await {
                backlog.set(pending as f64);
            }
            if let Ok(parked) = store.parked_count().await {
                metrics::gauge!(names::OUTBOX_PARKED).set(parked as f64);
            }
        }
        let pause = match outcome {
            Ok(sent) if sent as i64 >= config.batch_size => {
                failures = 0;
                continue;
            }
            Ok(_) => {
                failures = 0;
                config.poll_interval
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::warn!(%error, failures, "outbox relay round failed");
                Duration::from_millis(100 * 2u64.pow(failures.min(7)))
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = wakeup.notified() => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
    // Whatever the consumer committed while draining is published before we exit.
    let flushed = tokio::time::timeout(config.drain_timeout, async {
        loop {
            match relay_once(&store, &publisher, &config).await {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "final outbox flush failed; the next start publishes the rest");
                    break;
                }
            }
        }
    })
    .await;
    if flushed.is_err() {
        tracing::warn!("final outbox flush timed out; the next start publishes the rest");
    }
    tracing::info!("outbox relay stopped");
}

/// Why a relay round failed; the relay backs off and tries again either way.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Db(#[from] deskhand_db::Error),
    #[error("{failed} of {total} messages could not be published: {first}")]
    Publish {
        failed: usize,
        total: usize,
        first: String,
    },
}

/// Publishes one batch; returns how many messages went out.
pub async fn relay_once<P: EventPublisher>(
    store: &Store,
    publisher: &P,
    config: &RelayConfig,
) -> Result<usize, RelayError> {
    let Some(batch) = store.claim_outbox(config.batch_size).await? else {
        return Ok(0);
    };
    if batch.is_empty() {
        batch.finish(&[], &[], config.park_after).await?;
        return Ok(0);
    }
    // One sequence per key, the sequences side by side: a key's messages go out in id
    // order, each after the one before was acknowledged, and stop at its first failure.
    let mut by_key: Vec<Vec<&PendingMessage>> = Vec::new();
    let mut key_index = std::collections::HashMap::new();
    for pending in &batch.messages {
        let key = (&pending.message.topic, &pending.message.key);
        let index = *key_index.entry(key).or_insert_with(|| {
            by_key.push(Vec::new());
            by_key.len() - 1
        });
        by_key[index].push(pending);
    }
    let sequences = by_key.into_iter().map(|sequence| async move {
        let mut results = Vec::with_capacity(sequence.len());
        for pending in sequence {
            let result = publish_one(publisher, pending).await;
            let failed = result.is_err();
            results.push((pending.id, result));
            if failed {
                break;
            }
        }
        results
    });
    let results: Vec<_> = join_all(sequences).await.into_iter().flatten().collect();
    let total = batch.messages.len();
    let mut published = Vec::with_capacity(total);
    let mut failures = Vec::new();
    for (id, result) in results {
        match result {
            Ok(()) => published.push(id),
            Err(error) => failures.push((id, error)),
        }
    }
    // Only a refusal for good strikes: a transient failure (a partition without its
    // leader, a broker restarting) passes, however long it lasts and whatever else went
    // through meanwhile.
    let failed: Vec<FailedPublish> = failures
        .iter()
        .map(|(id, error)| FailedPublish {
            id: *id,
            error: error.to_string(),
            strike: !error.is_transient(),
        })
        .collect();
    let first_failure = failed.first().map(|f| f.error.clone());
    metrics::counter!(names::OUTBOX_PUBLISHED).increment(published.len() as u64);
    let parked = batch.finish(&published, &failed, config.park_after).await?;
    for id in &parked {
        let error = failed
            .iter()
            .find(|f| f.id == *id)
            .map(|f| f.error.as_str());
        tracing::error!(outbox_id = id, error, "outbox message parked: the broker refuses it; its case waits behind it until `deskhand outbox release {id}`");
        metrics::counter!(names::OUTBOX_PARKED_TOTAL).increment(1);
    }
    match first_failure {
        None => Ok(published.len()),
        Some(first) => Err(RelayError::Publish {
            failed: failed.len(),
            total,
            first,
        }),
    }
}

/// Publishes one message, continuing the trace of the email (or decision) that wrote it.
async fn publish_one<P: EventPublisher>(
    publisher: &P,
    pending: &PendingMessage,
) -> Result<(), P::Error> {
    let message = &pending.message;
    let headers: Vec<(&str, &str)> = message
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let span = tracing::info_span!(
        "publish",
        otel.name = %format!("publish {}", message.topic),
        otel.kind = "producer",
        messaging.system = "kafka",
        messaging.destination.name = %message.topic,
        deskhand.outbox_id = pending.id,
    );
    deskhand_contracts::trace_context::continue_trace(&span, &message.headers);
    publisher
        .publish(&message.topic, &message.key, &message.payload, &headers)
        .instrument(span)
        .await
}
