//! Traces: one email is one trace, from consumption through the graph's nodes, its
//! database and model calls, to the relay's publish; the draft carries the trace id.
//! Spans go to the SDK's in-memory exporter through the same subscriber the binary uses.

use crate::agent::{email, load_shop};
use crate::support::*;
use deskhand_llm_script::ScriptedLlm;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

/// This test process's spans, through the subscriber the binary installs, into memory.
pub(crate) fn spans_in_memory() -> (
    InMemorySpanExporter,
    SdkTracerProvider,
    deskhand::telemetry::Telemetry,
) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let telemetry = deskhand::telemetry::install("info", Some(provider.clone()));
    (exporter, provider, telemetry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_email_is_one_trace_from_consumption_through_nodes_tools_and_model_calls_to_publish() {
    let (exporter, provider, _telemetry) = spans_in_memory();

    let world = TestWorld::new(1).await;
    load_shop(&world).await;
    let server =
        ScriptedLlm::start(|request, _| crate::llm::script(request, &AtomicBool::new(true))).await;
    let worker = crate::llm::start_llm_worker(&world, &unique("group"), &server, &[]).await;
    let event = email(
        &unique("ev"),
        "case-traced",
        1,
        "Late parcel",
        "My parcel 1Z999AA10123456784 is late.",
    );
    world.publish(std::slice::from_ref(&event)).await;
    let drafts = world.read_drafts(1, Duration::from_secs(30)).await;
    // The relay's publish span ends after the broker acknowledged; give it a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    worker.stop().await;
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();

    let root = spans
        .iter()
        .find(|s| s.name == "triage email")
        .expect("a root span for the email");
    let trace_id = root.span_context.trace_id();
    let attr = |key: &str| attribute(root, key);
    assert_eq!(attr("deskhand.case_id").as_deref(), Some("case-traced"));
    assert_eq!(attr("deskhand.customer_id").as_deref(), Some("1"));
    assert_eq!(attr("deskhand.topic").as_deref(), Some("delivery_delay"));
    assert_eq!(attr("deskhand.route").as_deref(), Some("delivery"));
    assert_eq!(
        attr("messaging.destination.name"),
        Some(world.inbound.clone())
    );
    assert!(
        attr("gen_ai.usage.input_tokens").is_some_and(|t| t.parse::<u64>().unwrap() > 0),
        "{:?}",
        root.attributes
    );

    let in_trace: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.span_context.trace_id() == trace_id)
        .collect();
    let names: Vec<&str> = in_trace.iter().map(|s| s.name.as_ref()).collect();
    let publish = format!("publish {}", world.approval);
    for expected in [
        "recall",
        "classify",
        "delivery_lookup",
        "compose",
        "chat gpt-4o-mini",
        "chat gpt-4o",
        "db recall",
        "db deliveries",
        "db record_triage",
        publish.as_str(),
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let span_named = |name: &str| {
        *in_trace
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    // Model calls sit under the node that made them, with GenAI attributes.
    let classify_call = span_named("chat gpt-4o-mini");
    assert_eq!(
        classify_call.parent_span_id,
        span_named("classify").span_context.span_id()
    );
    assert_eq!(
        attribute(classify_call, "gen_ai.request.model").as_deref(),
        Some("gpt-4o-mini")
    );
    assert_eq!(
        attribute(classify_call, "gen_ai.operation.name").as_deref(),
        Some("chat")
    );
    assert!(attribute(classify_call, "gen_ai.usage.input_tokens").is_some());
    assert_eq!(
        span_named("db deliveries").parent_span_id,
        span_named("delivery_lookup").span_context.span_id(),
        "tools run in the customer's scope under their node"
    );

    // The draft names the trace, and its message carries the context onward.
    let (message, draft) = &drafts[0];
    assert_eq!(draft.trace_id, trace_id.to_string());
    let traceparent = &message.headers["traceparent"];
    assert!(
        traceparent.starts_with(&format!("00-{trace_id}-")),
        "{traceparent}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_whose_event_carries_a_traceparent_continues_the_crms_trace() {
    let (exporter, provider, _telemetry) = spans_in_memory();

    let world = TestWorld::new(1).await;
    load_shop(&world).await;
    let worker = world.start_worker(&unique("group"), &[]).await;
    // A span of the CRM's, as its producer would write it.
    let crm_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let crm_span = "00f067aa0ba902b7";
    let event = email(
        &unique("ev"),
        "case-crm-traced",
        1,
        "Late parcel",
        "My parcel 1Z999AA10123456784 is late.",
    );
    world
        .publisher
        .send(
            &world.inbound,
            "case-crm-traced",
            &serde_json::to_vec(&event).unwrap(),
            &[("traceparent", &format!("00-{crm_trace}-{crm_span}-01"))],
        )
        .await
        .unwrap();
    let drafts = world.read_drafts(1, Duration::from_secs(30)).await;
    worker.stop().await;
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();

    let root = spans
        .iter()
        .find(|s| s.name == "triage email")
        .expect("a span for the email");
    assert_eq!(root.span_context.trace_id().to_string(), crm_trace);
    assert_eq!(root.parent_span_id.to_string(), crm_span);
    assert!(
        spans
            .iter()
            .filter(|s| s.name == "classify" || s.name == "db record_triage")
            .all(|s| s.span_context.trace_id().to_string() == crm_trace),
        "the graph's spans are in the CRM's trace too"
    );
    assert_eq!(drafts[0].1.trace_id, crm_trace);
}
