//! The `traceparent` header: written from a span, and a span joined to a stored trace id.

use deskhand_contracts::trace_context::{headers_of, join_trace, TRACEPARENT};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;

const STORED_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

#[test]
fn a_span_joined_to_a_stored_trace_id_carries_that_trace_onward() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::with_default(subscriber, || {
        let decision = tracing::info_span!("decision");
        join_trace(&decision, STORED_TRACE);
        let headers = headers_of(&decision);
        let traceparent = &headers[TRACEPARENT];
        assert!(
            traceparent.starts_with(&format!("00-{STORED_TRACE}-")),
            "{traceparent}"
        );
        assert!(traceparent.ends_with("-01"), "sampled: {traceparent}");

        for not_a_trace in ["", "not hex", "00000000000000000000000000000000"] {
            let span = tracing::info_span!("other");
            join_trace(&span, not_a_trace);
            let headers = headers_of(&span);
            assert!(
                !headers[TRACEPARENT].contains(STORED_TRACE),
                "{not_a_trace:?} starts a trace of its own"
            );
        }
    });
}

#[test]
fn without_span_export_no_traceparent_is_written() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let span = tracing::info_span!("untraced");
    join_trace(&span, STORED_TRACE);
    assert!(headers_of(&span).is_empty());
}
