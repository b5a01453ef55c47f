//! Fault injection under load: the indexer killed, slow or answering errors, OpenCTI answering
//! 500 or timing out or down at start-up, the real binary stopped with SIGTERM mid-load, run
//! twice on one queue, or SIGKILLed again and again on one request, a handler panic, and secrets
//! kept out of the logs. Each test prints a `RELIABILITY|…` line
//! that `scripts/reliability` collects into RELIABILITY.md.
//!
//! Run: `cargo test --test faults [FILTER]`. To add a test file: create `tests/faults/<name>.rs`
//! (reach the shared kit as `crate::testkit::…`, the load and tally as `crate::testkit::faults`)
//! and add `mod <name>;` below. Same rules as `tests/system` (own queues, port 0, no process-wide
//! environment variables); a fault that disturbs the whole broker goes to `tests/broker`.

#[path = "../testkit/mod.rs"]
mod testkit;

mod indexer;
mod opencti;
mod outages;
mod process;
mod restarts;
mod secrets;
