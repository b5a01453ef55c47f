//! Tests against the real services: RabbitMQ on 127.0.0.1:5672, osmem-server (the test
//! indexer, `OSMEM_SERVER_BIN`), the test OpenCTI (`testkit::fake_opencti`), and the real binary:
//! the CLI commands, the indexer client, pattern search, the runtime and the daemon end to end.
//!
//! Run: `cargo test --test system [FILTER]`. To add a test file: create `tests/system/<name>.rs`
//! (reach the shared kit as `crate::testkit::…`) and add `mod <name>;` below. Tests here run in
//! parallel in one process: give every test its own queues (a fresh `FakeOpenCti` does), bind
//! servers to port 0, never set process-wide environment variables, and never disturb the broker
//! (that goes to `tests/broker`). Fault injection under load goes to `tests/faults`.

#[path = "../testkit/mod.rs"]
mod testkit;

mod amqp_tls;
mod bundle_directory;
mod cli_check;
mod cli_enrich;
mod cli_graph;
mod config_reference_check;
mod config_schema_validate;
mod demo;
mod e2e_ops;
mod e2e_pipeline;
mod hunt;
mod indexer_cost;
mod indexer_fixture;
mod indexer_osmem;
mod indexer_tls;
mod listen_api;
mod listen_resolution;
mod opencti_headers;
mod opencti_tls;
mod ops_demo_loader;
mod pattern_search;
mod recall;
mod recall_v5;
mod runtime_cooldown;
mod runtime_promises;
mod runtime_requests;
mod runtime_shutdown;
mod search_fields;
mod stix_ids;
mod stix_oasis;
mod test_opencti;
mod test_opencti_hunt;
mod testkit_helpers;
mod wazuh5;
mod wazuh5_mixed;
mod wazuh5_twin;
