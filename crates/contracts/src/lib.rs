//! # deskhand-contracts
//!
//! The events Deskhand reads and writes, as they are on the wire, and their conversion
//! into and out of the domain: the CRM's inbound email ([`inbound`]), the draft on the
//! approval topic ([`draft`]), the reviewer's decision ([`decision`]), the header names
//! ([`headers`]) and the W3C trace context carried in them ([`trace_context`]).
//!
//! **The rule this crate keeps: no I/O.** No broker, no database, no runtime; the Kafka
//! adapter, the review service and the tools all speak these types, so a reader of the
//! review side never needs librdkafka. Wire DTOs stop here: `TryFrom` turns them into
//! `deskhand-core` types, and nothing past this crate sees a wire string.
//!
//! Depends on `deskhand-core` (the domain) and `deskhand-mail` (MIME parsing of raw
//! emails, itself pure).

pub mod decision;
pub mod draft;
pub mod headers;
pub mod inbound;
pub mod trace_context;

pub use decision::{DecisionEvent, DecisionReviewer, SentReply, Verdict};
pub use draft::{
    DraftEmail, DraftEvent, DraftEventError, Fitted, StoredDraft, CUT_MARK, MAX_DRAFT_EVENT_BYTES,
    MAX_ORIGINAL_RAW_BYTES, SUBJECT_CUT_MARK,
};
pub use inbound::{decode_inbound, DecodeError, DecodeLimits, InboundEmailDto, InboundEventDto};
