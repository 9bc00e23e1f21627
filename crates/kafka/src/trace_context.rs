//! The trace context on a consumed message: its `traceparent` and `tracestate` headers,
//! copied off the broker's headers and read by [`deskhand_contracts::trace_context`].

use deskhand_contracts::headers::{TRACEPARENT, TRACESTATE};
use std::collections::BTreeMap;

/// The trace context a consumed message carries, when it carries a valid one: work on
/// the message is then parented to its producer's span, so a trace the CRM started
/// continues through Deskhand.
pub fn context_of_message(
    headers: Option<&rdkafka::message::OwnedHeaders>,
) -> Option<opentelemetry::Context> {
    use rdkafka::message::Headers as _;
    let headers = headers?;
    let carried: BTreeMap<String, String> = headers
        .iter()
        .filter(|header| header.key == TRACEPARENT || header.key == TRACESTATE)
        .filter_map(|header| {
            let value = std::str::from_utf8(header.value?).ok()?;
            Some((header.key.to_owned(), value.to_owned()))
        })
        .collect();
    deskhand_contracts::trace_context::extract(&carried)
}
