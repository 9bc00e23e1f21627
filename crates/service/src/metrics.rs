//! The metrics the use cases record, through the `metrics` facade; the binary decides
//! how they are exported (Prometheus at `/metrics`).

use deskhand_core::Draft;
use std::time::Duration;

/// Metric names recorded by the use cases (the consumer's are `deskhand_kafka::consumer::names`).
pub mod names {
    /// Counter, by `route`: drafts recorded.
    pub const DRAFTS: &str = "deskhand_drafts_total";
    /// Counter, by `kind` (`deskhand_core::EscalationKind`): drafts that need a person.
    pub const ESCALATIONS: &str = "deskhand_escalations_total";
    /// Histogram, by `node`: time spent in each graph node.
    pub const NODE_SECONDS: &str = "deskhand_node_duration_seconds";
    /// Histogram: one email from handler start to its draft being committed.
    pub const EMAIL_SECONDS: &str = "deskhand_email_duration_seconds";
    /// Counter: model calls.
    pub const LLM_CALLS: &str = "deskhand_llm_calls_total";
    /// Counter, by `type` (`input`, `output`): model tokens.
    pub const LLM_TOKENS: &str = "deskhand_llm_tokens_total";
    /// Counter: model cost in millionths of a US dollar (counters are integers).
    pub const LLM_COST: &str = "deskhand_llm_cost_microdollars_total";
    /// Gauge: outbox messages not yet published.
    pub const OUTBOX_BACKLOG: &str = "deskhand_outbox_backlog";
    /// Counter: outbox messages published.
    pub const OUTBOX_PUBLISHED: &str = "deskhand_outbox_published_total";
    /// Gauge: outbox messages parked (the broker refuses them); alert when above zero.
    pub const OUTBOX_PARKED: &str = "deskhand_outbox_parked";
    /// Counter: outbox messages parked.
    pub const OUTBOX_PARKED_TOTAL: &str = "deskhand_outbox_parked_total";
    /// Counter, by `reason` (`unknown_draft`, `altered_draft`): draft events on the
    /// approval topic the worker did not record, refused at intake. Alert on any.
    pub const DRAFTS_REFUSED: &str = "deskhand_review_drafts_refused_total";
    /// Counter: drafts whose event was still over `MAX_DRAFT_EVENT_BYTES` once the email in
    /// it was cut (the draft's own evidence was that large); each was handed to a person
    /// without its bulk instead.
    pub const DRAFT_EVENTS_OVERSIZED: &str = "deskhand_draft_events_oversized_total";
    /// Counter, by `outcome` (`sent`, `retry`, `rejected`): SMTP delivery attempts.
    pub const SMTP_ATTEMPTS: &str = "deskhand_smtp_attempts_total";
}

/// Records what a committed draft says about the run that made it.
pub fn record_draft(draft: &Draft, handled_in: Duration) {
    metrics::counter!(names::DRAFTS, "route" => draft.route.to_string()).increment(1);
    if let Some(escalation) = &draft.escalation {
        metrics::counter!(names::ESCALATIONS, "kind" => escalation.kind.as_str()).increment(1);
    }
    for node in &draft.trace.nodes {
        metrics::histogram!(names::NODE_SECONDS, "node" => node.node.clone())
            .record(node.duration_ms / 1_000.0);
    }
    metrics::histogram!(names::EMAIL_SECONDS).record(handled_in.as_secs_f64());
    let trace = &draft.trace;
    if trace.llm_calls > 0 {
        metrics::counter!(names::LLM_CALLS).increment(u64::from(trace.llm_calls));
        metrics::counter!(names::LLM_TOKENS, "type" => "input").increment(trace.prompt_tokens);
        metrics::counter!(names::LLM_TOKENS, "type" => "output").increment(trace.completion_tokens);
        metrics::counter!(names::LLM_COST).increment((trace.cost_usd * 1e6).round() as u64);
    }
}
