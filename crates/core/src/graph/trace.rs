//! What a run records about itself: a span per node, and the node timings and model usage
//! the draft's trace carries.

use crate::draft::{NodeRun, Trace};
use crate::ports::Usage;
use std::time::Instant;

/// The span a graph node runs in.
pub(super) fn node_span(node: &'static str) -> tracing::Span {
    tracing::info_span!("node", otel.name = node, deskhand.node = node)
}

/// Collects node timings and model usage while the graph runs.
pub(super) struct TraceRecorder {
    pub(super) trace: Trace,
}

impl TraceRecorder {
    pub(super) fn node(&mut self, node: &str, started: Instant, note: Option<String>) {
        self.trace.nodes.push(NodeRun {
            node: node.to_owned(),
            duration_ms: started.elapsed().as_secs_f64() * 1_000.0,
            note,
        });
    }
    pub(super) fn usage(&mut self, usage: Usage) {
        self.trace.llm_calls += usage.calls;
        self.trace.prompt_tokens += usage.prompt_tokens;
        self.trace.completion_tokens += usage.completion_tokens;
        self.trace.cost_usd += usage.cost_usd;
    }
}
