//! Header names Deskhand puts on the messages it publishes (a contract, `docs/events.md`).

/// The inbound event a draft or decision belongs to.
pub const EVENT_ID: &str = "deskhand.event_id";
/// The draft's trace, so a decision joins the email's trace.
pub const TRACE_ID: &str = "deskhand.trace_id";
/// On a redraft request: the event whose draft went stale.
pub const REDRAFT_OF: &str = "deskhand.redraft_of";
/// The W3C trace-context header.
pub const TRACEPARENT: &str = "traceparent";
/// The W3C trace-state header that may travel with [`TRACEPARENT`].
pub const TRACESTATE: &str = "tracestate";
