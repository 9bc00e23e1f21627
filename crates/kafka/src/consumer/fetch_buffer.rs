//! The local buffer between polling and the handlers, and the flow control around it.

use super::Partition;
use rdkafka::consumer::{Consumer, ConsumerContext};
use rdkafka::message::{Message, OwnedMessage};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Messages fetched but not yet handed to a handler, with the flow control around them:
/// no more messages are taken while the buffer is full; the assignment is paused when it
/// stays full for `pause_after`, and resumed when it is half empty.
pub(super) struct FetchBuffer {
    messages: VecDeque<OwnedMessage>,
    bound: usize,
    pause_after: Duration,
    full_since: Option<Instant>,
    paused: bool,
}

impl FetchBuffer {
    pub(super) fn new(bound: usize, pause_after: Duration) -> Self {
        Self {
            messages: VecDeque::with_capacity(bound),
            bound,
            pause_after,
            full_since: None,
            paused: false,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.messages.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Whether the loop should take another message from librdkafka. While paused it
    /// keeps polling (that is what keeps the membership alive) and keeps what arrives.
    pub(super) fn accepting(&self) -> bool {
        self.paused || self.messages.len() < self.bound
    }

    pub(super) fn push(&mut self, message: OwnedMessage) {
        self.messages.push_back(message);
        if self.messages.len() >= self.bound && self.full_since.is_none() {
            self.full_since = Some(Instant::now());
        }
    }

    pub(super) fn pop(&mut self) -> Option<OwnedMessage> {
        let message = self.messages.pop_front();
        if self.messages.len() < self.bound {
            self.full_since = None;
        }
        message
    }

    /// When the buffer will have been full long enough to pause, if it is full.
    pub(super) fn pause_due(&self) -> Option<Instant> {
        match (self.paused, self.full_since) {
            (false, Some(since)) => Some(since + self.pause_after),
            _ => None,
        }
    }

    /// What the consumer should do now, given how full the buffer is and for how long.
    fn flow(&self, now: Instant) -> Flow {
        if self.pause_due().is_some_and(|due| now >= due) {
            Flow::Pause
        } else if self.paused && self.messages.len() <= self.bound / 2 {
            Flow::Resume
        } else {
            Flow::Keep
        }
    }

    pub(super) fn apply_flow_control<C: Consumer<X>, X: ConsumerContext>(
        &mut self,
        consumer: &C,
        now: Instant,
    ) {
        let flow = self.flow(now);
        if flow == Flow::Keep {
            return;
        }
        // The current assignment: a rebalance while paused may have changed it.
        let Ok(assignment) = consumer.assignment() else {
            return;
        };
        let result = if flow == Flow::Pause {
            consumer.pause(&assignment)
        } else {
            consumer.resume(&assignment)
        };
        match result {
            Ok(()) => {
                self.paused = flow == Flow::Pause;
                tracing::info!(
                    buffered = self.messages.len(),
                    paused = self.paused,
                    "flow control"
                );
            }
            Err(error) => tracing::warn!(%error, ?flow, "pausing or resuming partitions failed"),
        }
    }

    /// Takes in what one poll brought: the partitions revoked during it, then the message
    /// it returned. The order matters: buffered messages of a revoked partition belong to
    /// its next owner, but the returned message is of the new assignment, and dropping it
    /// would skip it for good while later offsets of its partition get committed.
    pub(super) fn receive(&mut self, revoked: &[Partition], message: Option<OwnedMessage>) {
        self.drop_revoked(revoked);
        if let Some(message) = message {
            self.push(message);
        }
    }

    /// Drops buffered messages of revoked partitions: their next owner fetches them again
    /// from the committed offset, so handling them here would race it.
    fn drop_revoked(&mut self, revoked: &[Partition]) {
        if revoked.is_empty() {
            return;
        }
        // Newly assigned partitions start unpaused; the next flow check pauses them again
        // if the buffer is still full.
        self.paused = false;
        let before = self.messages.len();
        self.messages.retain(|m| {
            !revoked
                .iter()
                .any(|(topic, partition)| m.partition() == *partition && m.topic() == topic)
        });
        let dropped = before - self.messages.len();
        if dropped > 0 {
            tracing::info!(dropped, "dropped buffered messages of revoked partitions");
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Pause,
    Resume,
    Keep,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(topic: &str, partition: i32, offset: i64) -> OwnedMessage {
        OwnedMessage::new(
            Some(b"{}".to_vec()),
            None,
            topic.to_owned(),
            rdkafka::Timestamp::NotAvailable,
            partition,
            offset,
            None,
        )
    }

    #[test]
    fn a_full_buffer_stops_taking_messages_and_pauses_only_after_staying_full() {
        let mut buffer = FetchBuffer::new(4, Duration::from_secs(10));
        for offset in 0..3 {
            buffer.push(message("t", 0, offset));
        }
        assert!(buffer.accepting());
        assert_eq!(buffer.pause_due(), None);
        buffer.push(message("t", 0, 3));
        assert!(!buffer.accepting(), "a full buffer takes no more");
        let now = Instant::now();
        assert_eq!(buffer.flow(now), Flow::Keep, "full but not for long");
        assert_eq!(buffer.flow(now + Duration::from_secs(11)), Flow::Pause);

        buffer.paused = true;
        assert!(buffer.accepting(), "a paused consumer keeps polling");
        buffer.pop();
        assert_eq!(
            buffer.flow(now),
            Flow::Keep,
            "one free slot does not resume"
        );
        buffer.pop();
        assert_eq!(buffer.flow(now), Flow::Resume, "half empty resumes");
    }

    #[test]
    fn a_buffer_that_drains_below_full_starts_its_pause_clock_afresh() {
        let mut buffer = FetchBuffer::new(2, Duration::from_secs(10));
        buffer.push(message("t", 0, 0));
        buffer.push(message("t", 0, 1));
        let first_due = buffer.pause_due().expect("full");
        buffer.pop();
        assert_eq!(buffer.pause_due(), None);
        std::thread::sleep(Duration::from_millis(5));
        buffer.push(message("t", 0, 2));
        assert!(buffer.pause_due().expect("full again") > first_due);
    }

    #[test]
    fn buffered_messages_of_revoked_partitions_are_dropped_and_the_rest_kept_in_order() {
        let mut buffer = FetchBuffer::new(8, Duration::from_secs(10));
        buffer.push(message("t", 0, 1));
        buffer.push(message("t", 1, 1));
        buffer.push(message("t", 0, 2));
        buffer.push(message("u", 0, 1));
        buffer.paused = true;
        buffer.drop_revoked(&[("t".to_owned(), 0)]);
        let left: Vec<(String, i32, i64)> = std::iter::from_fn(|| buffer.pop())
            .map(|m| (m.topic().to_owned(), m.partition(), m.offset()))
            .collect();
        assert_eq!(left, vec![("t".into(), 1, 1), ("u".into(), 0, 1)]);
        assert!(
            !buffer.paused,
            "a rebalance starts the new assignment unpaused"
        );
    }

    #[test]
    fn a_message_polled_with_a_revocation_is_kept_while_the_stale_ones_go() {
        let mut buffer = FetchBuffer::new(8, Duration::from_secs(10));
        buffer.push(message("t", 0, 7));
        buffer.push(message("t", 0, 8));
        // The poll revoked partition 0, assigned it back, and returned its committed offset.
        buffer.receive(&[("t".to_owned(), 0)], Some(message("t", 0, 5)));
        let left: Vec<i64> = std::iter::from_fn(|| buffer.pop())
            .map(|m| m.offset())
            .collect();
        assert_eq!(left, vec![5]);
    }
}
