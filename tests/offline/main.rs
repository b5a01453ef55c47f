//! Tests that need no service: the pure core (search, pattern, knowledge, STIX, ids), the
//! configuration and its documentation, the operations server, the indexer client against small
//! local HTTP servers, and the binary's `config` command.
//!
//! Run: `cargo test --test offline [FILTER]`. To add a test file: create `tests/offline/<name>.rs`
//! (reach the shared kit as `crate::testkit::…`) and add `mod <name>;` below. A test here must not
//! need RabbitMQ, osmem-server or Python; those go to `tests/system`.

#[path = "../testkit/mod.rs"]
mod testkit;

mod config_cli;
mod config_docs;
mod config_reference;
mod config_schema;
mod graphql_operations;
mod indexer_errors;
mod knowledge_build;
mod knowledge_fields;
mod knowledge_golden;
mod knowledge_wcs;
mod listen_register;
mod ops_compose;
mod ops_dashboard;
mod ops_http;
mod pattern_corpus;
mod pattern_hostile;
mod search_envelope;
mod search_escaping;
mod search_reference;
mod stix_id_vectors;
mod stix_model;
mod stix_validate;
