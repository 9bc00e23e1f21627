//! The event contracts: what the code publishes is what the schemas say, inbound events
//! are decoded at the edge with a reason for every refusal, decisions and actions keep
//! their wire format, and the trace context travels in the headers.

mod decision;
mod decode;
mod schemas;
mod trace_context;
