//! The outbox relay: publishes what the database committed, in commit order.
//!
//! It wakes when this process records a draft, and polls for messages written by other
//! processes. A message is marked published only after the broker acknowledged it, so a
//! crash between the two re-sends the same message (same draft id), never a different one.

use crate::metrics::names;
use deskhand_core::ports::EventPublisher;
use deskhand_db::Store;
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
        let outcome = relay_once(&store, &publisher, config.batch_size).await;
        if backlog_measured.is_none_or(|at| at.elapsed() >= BACKLOG_EVERY) {
            backlog_measured = Some(Instant::now());
            if let Ok(pending) = store.outbox_backlog().await {
                backlog.set(pending as f64);
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
            match relay_once(&store, &publisher, config.batch_size).await {
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
    batch_size: i64,
) -> Result<usize, RelayError> {
    let Some(batch) = store.claim_outbox(batch_size).await? else {
        return Ok(0);
    };
    if batch.is_empty() {
        batch.finish(&[], &[]).await?;
        return Ok(0);
    }
    // join_all polls in order, so messages are handed to the producer in id order; the
    // idempotent producer keeps that order within each partition.
    let sends = batch.messages.iter().map(|pending| {
        let message = &pending.message;
        let headers: Vec<(&str, &str)> = message
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // The publish continues the trace of the email (or decision) that wrote it.
        let span = tracing::info_span!(
            "publish",
            otel.name = %format!("publish {}", message.topic),
            otel.kind = "producer",
            messaging.system = "kafka",
            messaging.destination.name = %message.topic,
            deskhand.outbox_id = pending.id,
        );
        deskhand_contracts::trace_context::continue_trace(&span, &message.headers);
        async move {
            let result = publisher
                .publish(&message.topic, &message.key, &message.payload, &headers)
                .await;
            (pending.id, result)
        }
        .instrument(span)
    });
    let results = join_all(sends).await;
    let total = results.len();
    let mut published = Vec::with_capacity(total);
    let mut failed = Vec::new();
    for (id, result) in results {
        match result {
            Ok(()) => published.push(id),
            Err(error) => failed.push((id, error.to_string())),
        }
    }
    let first_failure = failed.first().map(|(_, e)| e.clone());
    metrics::counter!(names::OUTBOX_PUBLISHED).increment(published.len() as u64);
    batch.finish(&published, &failed).await?;
    match first_failure {
        None => Ok(published.len()),
        Some(first) => Err(RelayError::Publish {
            failed: failed.len(),
            total,
            first,
        }),
    }
}
