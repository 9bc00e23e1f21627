//! The consumer loop, shared by the inbound worker and the review service.
//!
//! Guarantees:
//! - **At least once.** An offset is stored only after the handler succeeded (or the event
//!   went to the dead-letter topic); librdkafka commits stored offsets. A crash replays
//!   from the last commit, and the handler deduplicates on the event id.
//! - **Ordered per case.** Messages with the same key (the case id) run one after the
//!   other, in offset order; different cases run concurrently.
//! - **Bounded.** At most `max_in_flight` messages are being handled at once, and at most
//!   as many more wait in a local buffer. While the buffer is full the loop stops taking
//!   messages, and librdkafka's own fetch queue fills and stops fetching: backpressure
//!   without a seek. Only when the buffer stays full for a third of
//!   `max.poll.interval.ms` (at most 10 s: a model or database outage) are the assigned
//!   partitions paused, and polling resumes so the consumer never falls out of its group
//!   and rebalances are answered; they are resumed when the buffer is half empty.
//!
//!   Pausing is the last resort because librdkafka drops its prefetched messages on pause
//!   and fetches again from the next offset on resume: a fetch round trip per message
//!   when done at every busy moment, and a fetch that starts inside a record batch, which
//!   tansu 0.6 answers by skipping to the next batch (see `docs/operations.md`).
//! - **Nothing lost.** Transient handler failures are retried with backoff until they pass
//!   or shutdown begins (then the offset stays uncommitted); permanent failures and
//!   undecodable events go to the dead-letter topic with the reason in headers.

use crate::producer::Publisher;
use crate::{ClientSettings, Error, Result};
use deskhand_core::{SourcePosition, Transience};
use futures_util::FutureExt as _;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::{ClientContext, TopicPartitionList};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

mod fetch_buffer;

use fetch_buffer::FetchBuffer;

/// Consumer knobs; see `config/base.toml` for what each one means in operation.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    pub client: ClientSettings,
    pub group_id: String,
    pub topic: String,
    pub dlq_topic: String,
    /// Messages held at once (decoding, waiting for their case, being handled).
    pub max_in_flight: usize,
    pub session_timeout: Duration,
    pub max_poll_interval: Duration,
    /// How long the broker may hold a fetch when there is nothing new.
    pub fetch_wait_max: Duration,
    /// How often librdkafka commits the stored offsets.
    pub auto_commit_interval: Duration,
    /// On shutdown or partition revocation: how long in-flight messages may take to finish.
    pub drain_timeout: Duration,
    /// Longest pause between retries of a transiently failing message.
    pub max_retry_backoff: Duration,
}

/// Why the handler could not finish an email: the error itself (its source chain kept for
/// the logs) and whether to retry it or dead-letter the event. Any error that knows its
/// [`Transience`] converts with `?`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", if *.transient { "transient" } else { "permanent" })]
pub struct HandlerError {
    transient: bool,
    /// The dead-letter reason code when permanent.
    code: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl HandlerError {
    /// Whether the consumer retries the event (or dead-letters it).
    pub fn is_transient(&self) -> bool {
        self.transient
    }

    /// Names the failure for the dead-letter `reason_code` header (default
    /// `handler_failed`).
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    /// Short and stable, for the `reason_code` header and dashboards.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The reason, source chain included, for the dead-letter header and the logs.
    pub fn reason(&self) -> String {
        let mut reason = self.source.to_string();
        let mut cause = self.source.source();
        while let Some(error) = cause {
            // Most errors print their source already; say each cause once.
            let text = error.to_string();
            if !reason.contains(&text) {
                reason.push_str(": ");
                reason.push_str(&text);
            }
            cause = error.source();
        }
        reason
    }
}

impl<E> From<E> for HandlerError
where
    E: Transience + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        Self {
            transient: error.is_transient(),
            code: "handler_failed",
            source: Box::new(error),
        }
    }
}

/// Why an event could not be decoded; it goes to the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable {
    /// Short and stable, for the `reason_code` header and dashboards.
    pub code: &'static str,
    pub reason: String,
}

/// What the consumer does with each event: decode it, then handle it.
pub trait EventHandler: Send + Sync + 'static {
    type Event: Send + Sync + 'static;

    /// Parses the payload at the edge; a failure dead-letters the event.
    fn decode(&self, payload: &[u8]) -> Result<Self::Event, Undecodable>;

    /// An id for logs (the event id, the draft id).
    fn describe(event: &Self::Event) -> String;

    fn handle(
        &self,
        event: &Self::Event,
        source: SourcePosition,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// Header names on dead-lettered events (a contract, documented in `docs/events.md`).
pub mod dlq_headers {
    pub const REASON: &str = "deskhand.dlq.reason";
    pub const REASON_CODE: &str = "deskhand.dlq.reason_code";
    pub const SOURCE_TOPIC: &str = "deskhand.dlq.source_topic";
    pub const SOURCE_PARTITION: &str = "deskhand.dlq.source_partition";
    pub const SOURCE_OFFSET: &str = "deskhand.dlq.source_offset";
    pub const PAYLOAD_OMITTED: &str = "deskhand.dlq.payload_omitted";
}

/// The metrics the consumer records (through the `metrics` facade; the binary renders
/// them at `/metrics`).
pub mod names {
    /// Counter, by `topic`: events taken from the topic.
    pub const CONSUMED: &str = "deskhand_events_consumed_total";
    /// Gauge, by `topic`: events being handled now.
    pub const IN_FLIGHT: &str = "deskhand_events_in_flight";
    /// Gauge, by `topic`: events fetched and waiting for a handler slot.
    pub const BUFFERED: &str = "deskhand_events_buffered";
    /// Counter, by `topic` and `reason` (the dead-letter reason code).
    pub const DEAD_LETTERS: &str = "deskhand_dead_letters_total";
    /// Counter, by `topic`: transient handler failures that were retried.
    pub const RETRIES: &str = "deskhand_handler_retries_total";
    /// Gauge, by `topic` and `group`: messages behind the partition ends, from librdkafka's
    /// statistics.
    pub const LAG: &str = "deskhand_consumer_lag";
}

/// A consumer group member that hands each event to `H`.
pub struct EventConsumer<H> {
    settings: ConsumerSettings,
    handler: Arc<H>,
    dead_letters: Publisher,
}

impl<H> std::fmt::Debug for EventConsumer<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventConsumer")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

type Partition = (String, i32);

/// Per partition: which offsets are in flight, and what was stored, so the stored offset
/// never passes an email that is still being handled.
#[derive(Debug, Default)]
struct OffsetTracker {
    partitions: Mutex<HashMap<Partition, PartitionOffsets>>,
    changed: Condvar,
    /// Partitions revoked since the loop last looked: their buffered messages belong to
    /// the next owner now.
    revoked: Mutex<Vec<Partition>>,
}

#[derive(Debug, Default)]
struct PartitionOffsets {
    in_flight: BTreeSet<i64>,
    highest_dispatched: Option<i64>,
    stored: Option<i64>,
}

impl OffsetTracker {
    fn started(&self, partition: &Partition, offset: i64) {
        let mut partitions = self.partitions.lock().expect("offset tracker poisoned");
        let state = partitions.entry(partition.clone()).or_default();
        state.in_flight.insert(offset);
        state.highest_dispatched = Some(state.highest_dispatched.map_or(offset, |h| h.max(offset)));
    }

    /// Marks an offset done; returns the last offset below which everything is done, when
    /// that moved forward (it is what librdkafka's `store_offset` takes).
    fn finished(&self, partition: &Partition, offset: i64) -> Option<i64> {
        let mut partitions = self.partitions.lock().expect("offset tracker poisoned");
        let state = partitions.get_mut(partition)?;
        if !state.in_flight.remove(&offset) {
            return None;
        }
        let done_through = match state.in_flight.first() {
            Some(&lowest) => lowest - 1,
            None => state.highest_dispatched?,
        };
        self.changed.notify_all();
        if state.stored.is_some_and(|stored| stored >= done_through) {
            return None;
        }
        state.stored = Some(done_through);
        Some(done_through)
    }

    /// Takes the partitions revoked since the last call.
    fn take_revoked(&self) -> Vec<Partition> {
        std::mem::take(&mut *self.revoked.lock().expect("offset tracker poisoned"))
    }

    /// Forgets a partition that was revoked: its late completions store nothing.
    fn forget(&self, partition: &Partition) {
        self.partitions
            .lock()
            .expect("offset tracker poisoned")
            .remove(partition);
    }

    fn in_flight(&self, partition: &Partition) -> usize {
        let partitions = self.partitions.lock().expect("offset tracker poisoned");
        partitions.get(partition).map_or(0, |s| s.in_flight.len())
    }

    /// Blocks until no message of these partitions is in flight, or the timeout passes.
    fn wait_drained(&self, partitions: &[Partition], timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut guard = self.partitions.lock().expect("offset tracker poisoned");
        loop {
            let busy = partitions
                .iter()
                .any(|p| guard.get(p).is_some_and(|s| !s.in_flight.is_empty()));
            if !busy {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            guard = self
                .changed
                .wait_timeout(guard, deadline - now)
                .expect("offset tracker poisoned")
                .0;
        }
    }
}

/// Hooks into librdkafka's rebalance so a revoked partition's work finishes (and its
/// offsets are committed) before another worker takes it over.
struct RebalanceContext {
    tracker: Arc<OffsetTracker>,
    drain_timeout: Duration,
    topic: String,
    group: String,
}

impl ClientContext for RebalanceContext {
    /// librdkafka's periodic statistics: the lag of the partitions this member owns.
    fn stats(&self, statistics: rdkafka::Statistics) {
        let Some(topic) = statistics.topics.get(&self.topic) else {
            return;
        };
        let lag: i64 = topic
            .partitions
            .values()
            // -1 is librdkafka's internal partition; a negative lag is "not known yet".
            .filter(|p| p.partition >= 0 && p.consumer_lag >= 0)
            .map(|p| p.consumer_lag)
            .sum();
        metrics::gauge!(names::LAG, "topic" => self.topic.clone(), "group" => self.group.clone())
            .set(lag as f64);
    }
}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let revoked = partitions_of(list);
            let drained = self.tracker.wait_drained(&revoked, self.drain_timeout);
            let pending: usize = revoked.iter().map(|p| self.tracker.in_flight(p)).sum();
            tracing::info!(partitions = ?revoked, drained, pending, "partitions revoked");
            commit_stored(consumer);
            for partition in &revoked {
                self.tracker.forget(partition);
            }
            self.tracker
                .revoked
                .lock()
                .expect("offset tracker poisoned")
                .extend(revoked);
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                let assigned = partitions_of(list);
                // A partition that comes back starts from its committed offset, afresh.
                for partition in &assigned {
                    self.tracker.forget(partition);
                }
                tracing::info!(partitions = ?assigned, "partitions assigned");
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(error) => tracing::warn!(%error, "rebalance failed"),
        }
    }
}

fn partitions_of(list: &TopicPartitionList) -> Vec<Partition> {
    list.elements()
        .iter()
        .map(|e| (e.topic().to_owned(), e.partition()))
        .collect()
}

fn commit_stored<C: Consumer<X>, X: ConsumerContext>(consumer: &C) {
    use rdkafka::error::KafkaError;
    use rdkafka::types::RDKafkaErrorCode;
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) => {}
        // Nothing was stored since the last commit.
        Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
        Err(error) => tracing::warn!(%error, "committing stored offsets failed"),
    }
}

/// What every message task shares.
struct Shared<H> {
    consumer: Arc<StreamConsumer<RebalanceContext>>,
    tracker: Arc<OffsetTracker>,
    handler: Arc<H>,
    dead_letters: Publisher,
    settings: ConsumerSettings,
    shutdown: CancellationToken,
}

impl<H: EventHandler> EventConsumer<H> {
    pub fn new(settings: ConsumerSettings, handler: Arc<H>, dead_letters: Publisher) -> Self {
        Self {
            settings,
            handler,
            dead_letters,
        }
    }

    /// Consumes until `shutdown` is cancelled, then drains in-flight work, commits the
    /// stored offsets and leaves the group.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let tracker = Arc::new(OffsetTracker::default());
        let context = RebalanceContext {
            tracker: tracker.clone(),
            drain_timeout: self.settings.drain_timeout,
            topic: self.settings.topic.clone(),
            group: self.settings.group_id.clone(),
        };
        let mut config = self.settings.client.client_config();
        config
            .set("group.id", &self.settings.group_id)
            .set("enable.auto.commit", "true")
            .set("enable.auto.offset.store", "false")
            .set(
                "auto.commit.interval.ms",
                self.settings.auto_commit_interval.as_millis().to_string(),
            )
            .set("auto.offset.reset", "earliest")
            .set(
                "fetch.wait.max.ms",
                self.settings.fetch_wait_max.as_millis().to_string(),
            )
            // Feeds the consumer-lag gauge.
            .set("statistics.interval.ms", "5000")
            .set(
                "session.timeout.ms",
                self.settings.session_timeout.as_millis().to_string(),
            )
            .set(
                "max.poll.interval.ms",
                self.settings.max_poll_interval.as_millis().to_string(),
            );
        let consumer: StreamConsumer<RebalanceContext> =
            config.create_with_context(context).map_err(Error::Config)?;
        consumer
            .subscribe(&[self.settings.topic.as_str()])
            .map_err(Error::Subscribe)?;
        tracing::info!(topic = %self.settings.topic, group = %self.settings.group_id, "consumer started");

        let shared = Arc::new(Shared {
            consumer: Arc::new(consumer),
            tracker,
            handler: self.handler,
            dead_letters: self.dead_letters,
            settings: self.settings,
            shutdown: shutdown.clone(),
        });
        let capacity = Arc::new(Semaphore::new(shared.settings.max_in_flight.max(1)));
        let tasks = TaskTracker::new();
        let mut case_tails: HashMap<Vec<u8>, JoinHandle<()>> = HashMap::new();
        let mut buffer = FetchBuffer::new(
            shared.settings.max_in_flight.max(1),
            // Rebalance callbacks wait while we do not poll: keep that short.
            (shared.settings.max_poll_interval / 3)
                .clamp(Duration::from_millis(100), Duration::from_secs(10)),
        );
        let buffered = metrics::gauge!(names::BUFFERED, "topic" => shared.settings.topic.clone());

        loop {
            // Hand out every buffered message a free slot can take.
            while !buffer.is_empty() {
                let Ok(permit) = capacity.clone().try_acquire_owned() else {
                    break;
                };
                let message = buffer.pop().expect("the buffer is not empty");
                dispatch(&shared, &tasks, &mut case_tails, message, permit);
            }
            buffer.apply_flow_control(shared.consumer.as_ref(), Instant::now());
            buffered.set(buffer.len() as f64);
            let pause_at = buffer.pause_due();

            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                permit = capacity.clone().acquire_owned(), if !buffer.is_empty() => {
                    let Ok(permit) = permit else { break };
                    let message = buffer.pop().expect("the buffer is not empty");
                    dispatch(&shared, &tasks, &mut case_tails, message, permit);
                }
                // Time to pause: the loop comes round and flow control acts.
                _ = tokio::time::sleep_until(pause_at.unwrap_or_else(Instant::now).into()), if pause_at.is_some() => {}
                // Polling goes on while paused: it keeps the group membership alive.
                received = tokio::time::timeout(Duration::from_secs(1), shared.consumer.recv()), if buffer.accepting() => {
                    let message = match received {
                        Err(_idle) => None,
                        Ok(Err(error)) => {
                            tracing::warn!(%error, "consumer error");
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            None
                        }
                        Ok(Ok(message)) => Some(message.detach()),
                    };
                    // Rebalance callbacks ran inside `recv`.
                    buffer.receive(&shared.tracker.take_revoked(), message);
                }
            }
        }

        tracing::info!(
            in_flight = tasks.len(),
            "consumer stopping; draining in-flight emails"
        );
        tasks.close();
        if tokio::time::timeout(shared.settings.drain_timeout, tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                abandoned = tasks.len(),
                "drain timed out; unfinished emails will be redelivered"
            );
        }
        commit_stored(shared.consumer.as_ref());
        shared.consumer.unsubscribe();
        tracing::info!("consumer stopped");
        Ok(())
    }
}

fn dispatch<H: EventHandler>(
    shared: &Arc<Shared<H>>,
    tasks: &TaskTracker,
    case_tails: &mut HashMap<Vec<u8>, JoinHandle<()>>,
    message: OwnedMessage,
    permit: OwnedSemaphorePermit,
) {
    let partition = (message.topic().to_owned(), message.partition());
    shared.tracker.started(&partition, message.offset());
    metrics::counter!(names::CONSUMED, "topic" => partition.0.clone()).increment(1);
    let in_flight = metrics::gauge!(names::IN_FLIGHT, "topic" => partition.0.clone());
    in_flight.increment(1.0);
    // Events without a key have no case to order by; each runs on its own.
    let ordering_key = message.key().map(<[u8]>::to_vec);
    let predecessor = ordering_key.as_ref().and_then(|key| case_tails.remove(key));
    let task_shared = shared.clone();
    let handle = tasks.spawn(async move {
        if let Some(previous) = predecessor {
            // Waits for the case's previous event; a handler's panic is caught and
            // dead-lettered inside it, so a failed join is only the task being aborted.
            let _ = previous.await;
        }
        process(&task_shared, message).await;
        in_flight.decrement(1.0);
        drop(permit);
    });
    if let Some(key) = ordering_key {
        case_tails.insert(key, handle);
    }
    if case_tails.len() > shared.settings.max_in_flight * 4 {
        case_tails.retain(|_, handle| !handle.is_finished());
    }
}

/// Decodes and handles one message, retrying transient failures; stores its offset only
/// when it is fully dealt with.
async fn process<H: EventHandler>(shared: &Shared<H>, message: OwnedMessage) {
    let source = SourcePosition {
        topic: message.topic().to_owned(),
        partition: message.partition(),
        offset: message.offset(),
    };
    let decoded = match message.payload() {
        Some(payload) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            shared.handler.decode(payload)
        }))
        .unwrap_or_else(|panic| {
            Err(Undecodable {
                code: "decoder_panicked",
                reason: format!("the decoder panicked: {}", panic_message(panic.as_ref())),
            })
        }),
        None => Err(Undecodable {
            code: "empty",
            reason: "event has no value".to_owned(),
        }),
    };
    let dealt_with = match decoded {
        Ok(event) => handle_with_retries(shared, &event, &source, &message).await,
        Err(error) => {
            tracing::warn!(
                topic = %source.topic, partition = source.partition, offset = source.offset,
                reason = %error.reason, "undecodable event; dead-lettering"
            );
            dead_letter(shared, &message, error.code, &error.reason).await
        }
    };
    if dealt_with {
        let partition = (source.topic.clone(), source.partition);
        if let Some(done_through) = shared.tracker.finished(&partition, source.offset) {
            if let Err(error) =
                shared
                    .consumer
                    .store_offset(&source.topic, source.partition, done_through)
            {
                // The partition was revoked meanwhile; its next owner redelivers.
                tracing::debug!(%error, "offset not stored");
            }
        }
    }
}

/// Returns true once the email was handled or dead-lettered; false when shutdown came
/// first (the offset then stays unstored and the email is redelivered).
async fn handle_with_retries<H: EventHandler>(
    shared: &Shared<H>,
    event: &H::Event,
    source: &SourcePosition,
    message: &OwnedMessage,
) -> bool {
    let mut backoff = Backoff::new(shared.settings.max_retry_backoff);
    // The producer's trace, when the event carries one: the handler's spans join it.
    let producer_trace = crate::trace_context::context_of_message(message.headers());
    loop {
        let handling = shared.handler.handle(event, source.clone());
        // A panic is a bug that would come back on every redelivery: caught here, it is
        // dead-lettered with its message instead of freezing the partition's offset.
        let handling = std::panic::AssertUnwindSafe(handling).catch_unwind();
        let outcome = match &producer_trace {
            Some(context) => {
                use opentelemetry::context::FutureExt as _;
                handling.with_context(context.clone()).await
            }
            None => handling.await,
        };
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(panic) => {
                let reason = format!("the handler panicked: {}", panic_message(panic.as_ref()));
                tracing::error!(event = %H::describe(event), %reason, "handler panicked; dead-lettering");
                return dead_letter(shared, message, "handler_panicked", &reason).await;
            }
        };
        match outcome {
            Ok(()) => return true,
            Err(error) if !error.is_transient() => {
                let reason = error.reason();
                tracing::error!(event = %H::describe(event), %reason, "event failed permanently; dead-lettering");
                return dead_letter(shared, message, error.code(), &reason).await;
            }
            Err(error) => {
                let reason = error.reason();
                let delay = backoff.next();
                metrics::counter!(names::RETRIES, "topic" => source.topic.clone()).increment(1);
                tracing::warn!(event = %H::describe(event), %reason, retry_in_ms = delay.as_millis() as u64, "event failed transiently; retrying");
                tokio::select! {
                    _ = shared.shutdown.cancelled() => return false,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

/// What a panic said, when it said it with a string.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// Publishes the event, unchanged, to the dead-letter topic with the reason in headers.
async fn dead_letter<H>(
    shared: &Shared<H>,
    message: &OwnedMessage,
    code: &str,
    reason: &str,
) -> bool {
    let partition = message.partition().to_string();
    let offset = message.offset().to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(original) = message.headers() {
        for header in original.iter() {
            if let Some(value) = header.value.and_then(|v| std::str::from_utf8(v).ok()) {
                headers.push((header.key.to_owned(), value.to_owned()));
            }
        }
    }
    headers.push((
        dlq_headers::REASON.to_owned(),
        reason.chars().take(1_000).collect(),
    ));
    headers.push((dlq_headers::REASON_CODE.to_owned(), code.to_owned()));
    headers.push((
        dlq_headers::SOURCE_TOPIC.to_owned(),
        message.topic().to_owned(),
    ));
    headers.push((dlq_headers::SOURCE_PARTITION.to_owned(), partition));
    headers.push((dlq_headers::SOURCE_OFFSET.to_owned(), offset));
    let key = message
        .key()
        .map(String::from_utf8_lossy)
        .unwrap_or_default()
        .into_owned();
    let payload = message.payload().unwrap_or_default();

    let mut backoff = Backoff::new(shared.settings.max_retry_backoff);
    let mut omit_payload = false;
    loop {
        let mut refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if omit_payload {
            refs.push((
                dlq_headers::PAYLOAD_OMITTED,
                "too large for the dead-letter topic",
            ));
        }
        let body = if omit_payload { &[][..] } else { payload };
        match shared
            .dead_letters
            .send(&shared.settings.dlq_topic, &key, body, &refs)
            .await
        {
            Ok(()) => {
                metrics::counter!(names::DEAD_LETTERS, "topic" => message.topic().to_owned(), "reason" => code.to_owned())
                    .increment(1);
                return true;
            }
            Err(error) if !error.is_transient() && !omit_payload => {
                // The source topic still holds the payload at the offset in the headers.
                tracing::warn!(%error, "dead-letter publish refused; retrying without the payload");
                omit_payload = true;
            }
            Err(error) => {
                let delay = backoff.next();
                tracing::warn!(%error, retry_in_ms = delay.as_millis() as u64, "dead-letter publish failed; retrying");
                tokio::select! {
                    _ = shared.shutdown.cancelled() => return false,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

/// Exponential backoff from 100 ms, doubling up to a cap.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(max: Duration) -> Self {
        Self {
            next: Duration::from_millis(100),
            max,
        }
    }
    pub(crate) fn next(&mut self) -> Duration {
        let current = self.next.min(self.max);
        self.next = (self.next * 2).min(self.max);
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Partition {
        ("t".to_owned(), 0)
    }

    #[test]
    fn stored_offset_never_passes_an_email_still_in_flight() {
        let tracker = OffsetTracker::default();
        for offset in 10..13 {
            tracker.started(&p(), offset);
        }
        let stored = tracker.finished(&p(), 11);
        assert!(
            stored.is_none_or(|through| through < 10),
            "10 is still in flight: {stored:?}"
        );
        assert_eq!(tracker.finished(&p(), 10), Some(11));
        assert_eq!(tracker.finished(&p(), 12), Some(12));
    }

    #[test]
    fn a_revoked_partition_stores_nothing_for_late_completions() {
        let tracker = OffsetTracker::default();
        tracker.started(&p(), 5);
        tracker.forget(&p());
        assert_eq!(tracker.finished(&p(), 5), None);
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(350));
        let delays: Vec<u128> = (0..4).map(|_| backoff.next().as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 350, 350]);
    }
}
