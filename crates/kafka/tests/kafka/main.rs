//! The Kafka adapter's behaviour: event contracts, decoding at the edge, and the trace
//! context its messages carry.

mod contracts;
mod decode;
mod trace_context;
