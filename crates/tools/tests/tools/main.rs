//! The tools as an operator runs them: the product binary hands `eval`, `train`, `bench`
//! and `demo` over to them, and the benchmark runs end to end against Postgres
//! (`DATABASE_URL`). The harness and the trainer are tested end to end with the pipeline
//! (`crates/app/tests/pipeline`: eval, learning).

mod bench;
mod handover;
mod support;
