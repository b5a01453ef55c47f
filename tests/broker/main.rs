//! Faults that disturb the whole RabbitMQ broker (`rabbitmqctl close_all_connections`,
//! `stop_app`): they would break any other test talking to the broker at the same time.
//!
//! Run: `cargo test --test broker [FILTER]`. To add a test file: create `tests/broker/<name>.rs`
//! and add `mod <name>;` below. Every test here must call
//! `let _broker = crate::testkit::rabbit::exclusive_broker().await;` first: it takes the broker
//! lock exclusively for this process (waiting for other test processes to finish) and runs this
//! harness's tests one at a time.

#[path = "../testkit/mod.rs"]
mod testkit;

mod close_all_connections;
mod recovery;
mod stop_app;
