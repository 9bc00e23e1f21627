//! Trace context on event headers: the W3C `traceparent` header, written from the
//! current span and read back into a span, so one email's trace runs from its consumption
//! through the relay's publish to the reviewer's decision. Headers are a plain map here;
//! the Kafka adapter copies them to and from the broker's.
//!
//! These only do something when the process exports spans (`tracing-opentelemetry` is
//! installed and the propagator set); otherwise they are no-ops.

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use std::collections::BTreeMap;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

pub use crate::headers::{TRACEPARENT, TRACESTATE};

/// The current span's trace id as 32 hex digits, when spans are exported.
pub fn current_trace_id() -> Option<String> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

/// The current span's context as message headers (`traceparent`).
pub fn trace_headers() -> BTreeMap<String, String> {
    headers_of(&tracing::Span::current())
}

/// `span`'s context as message headers (`traceparent`).
pub fn headers_of(span: &tracing::Span) -> BTreeMap<String, String> {
    inject(&span.context())
}

/// `context` as headers; none for a context without a valid span.
fn inject(context: &opentelemetry::Context) -> BTreeMap<String, String> {
    let mut headers = BTreeMap::new();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(context, &mut HeaderWriter(&mut headers));
    });
    headers
}

/// The context `headers` carry (`traceparent`, `tracestate`), when they carry a valid
/// one: work on a consumed message is then parented to its producer's span, so a trace
/// the CRM started continues through Deskhand.
pub fn extract(headers: &BTreeMap<String, String>) -> Option<opentelemetry::Context> {
    if !headers.contains_key(TRACEPARENT) {
        return None;
    }
    let context = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderReader(headers))
    });
    context.span().span_context().is_valid().then_some(context)
}

struct HeaderWriter<'a>(&'a mut BTreeMap<String, String>);

impl opentelemetry::propagation::Injector for HeaderWriter<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

struct HeaderReader<'a>(&'a BTreeMap<String, String>);

impl opentelemetry::propagation::Extractor for HeaderReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// The `traceparent` of the OpenTelemetry context current on this task: inside a
/// consumer's handler, the context the message carried.
pub fn current_traceparent() -> Option<String> {
    inject(&opentelemetry::Context::current()).remove(TRACEPARENT)
}

/// Makes `span` a child of the context in `headers`, when they carry one.
pub fn continue_trace(span: &tracing::Span, headers: &BTreeMap<String, String>) {
    if let Some(context) = extract(headers) {
        let _ = span.set_parent(context);
    }
}

/// Makes `span` a child of the trace `trace_id` (32 hex digits) when it names one: for
/// work that only kept the trace id (a decision on a stored draft). The parent span id is
/// made up, so tools show the span in the trace under a parent they do not have.
pub fn join_trace(span: &tracing::Span, trace_id: &str) {
    let Ok(trace) = TraceId::from_hex(trace_id) else {
        return;
    };
    if trace == TraceId::INVALID {
        return;
    }
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut span_id = [0u8; 8];
    span_id.copy_from_slice(&bytes[..8]);
    span_id[0] |= 1; // never the invalid all-zero id
    let remote = SpanContext::new(
        trace,
        SpanId::from_bytes(span_id),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
}
