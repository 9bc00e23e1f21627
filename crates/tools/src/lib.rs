//! # deskhand-tools
//!
//! What a team runs around the product rather than in production: the evaluation
//! harness ([`eval`]: replays labelled emails through the real pipeline and scores every
//! step), the trainer ([`train`]: a triage model from labelled emails and reviewers'
//! decisions), the benchmark ([`bench`]) and the demo ([`demo`]).
//!
//! **The rule this crate keeps: nothing here is linked into the `deskhand` binary.** The
//! product binary hands `eval`, `train`, `bench` and `demo` to the `deskhand-tools` binary,
//! so the worker carries neither the scripted model server nor the trainer's CSV reader.
//! Everything runs through the same wiring (`deskhand::Application`) the worker runs.

pub mod bench;
pub mod demo;
pub mod eval;
pub mod train;
