//! Logs, traces and metrics.
//!
//! - Logs: human-readable on a terminal, JSON lines otherwise; `RUST_LOG` honoured.
//! - Traces: the same `tracing` spans, exported over OTLP/HTTP when
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` is set: one trace per email (consume → graph nodes →
//!   tools, database and model calls → record → publish), whose W3C `traceparent` travels
//!   on the draft message so the relay's publish and the reviewer's decision join it.
//! - Metrics: recorded through the `metrics` facade by every component, rendered in the
//!   Prometheus text format at `/metrics` (the names are listed in [`names`] and in
//!   `deskhand_kafka::consumer::names`).

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::io::IsTerminal;
use std::sync::OnceLock;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

/// Keeps the trace exporter alive; dropping it flushes the spans still buffered.
#[derive(Debug, Default)]
pub struct Telemetry {
    tracer_provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.tracer_provider.take() {
            if let Err(error) = provider.shutdown() {
                eprintln!("flushing traces failed: {error}");
            }
        }
    }
}

/// Installs logging, and trace export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Safe to
/// call more than once (later calls install nothing).
pub fn init(default_filter: &str) -> Telemetry {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|e| !e.trim().is_empty());
    let provider = endpoint.and_then(|endpoint| match otlp_tracer_provider() {
        Ok(provider) => Some(provider),
        Err(error) => {
            eprintln!("traces will not be exported to {endpoint}: {error}");
            None
        }
    });
    install(default_filter, provider)
}

/// The OTLP/HTTP exporter; it reads `OTEL_EXPORTER_OTLP_*` (endpoint, headers, timeout)
/// itself, and `OTEL_SERVICE_NAME` names the service (default `deskhand`).
fn otlp_tracer_provider() -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource())
        .build())
}

fn resource() -> opentelemetry_sdk::Resource {
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "deskhand".to_owned());
    opentelemetry_sdk::Resource::builder()
        .with_service_name(name)
        .build()
}

/// Installs the global subscriber: logs, plus spans to `provider` when given (tests pass
/// one with an in-memory exporter).
pub fn install(default_filter: &str, provider: Option<SdkTracerProvider>) -> Telemetry {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = if std::io::stderr().is_terminal() {
        logs.boxed()
    } else {
        logs.json()
            .flatten_event(true)
            .with_current_span(false)
            .boxed()
    };
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("deskhand"))
            .boxed()
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(traces)
        .try_init();
    Telemetry {
        tracer_provider: provider,
    }
}

/// The process's Prometheus recorder, installed on first use (in-process tests build
/// several applications; they share it, and label by their own topics).
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let seconds = [
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            60.0,
        ];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &seconds)
            .expect("bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (a host process embedding us); then
        // this handle renders nothing, which is the host's choice.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
        }
        handle
    })
}
