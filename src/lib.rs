//! connector-wazuh: an OpenCTI internal-enrichment connector that looks observables up in the
//! Wazuh indexer and returns what it finds as STIX 2.1 knowledge.
//!
//! Layout — a functional core inside an imperative shell:
//! * core (pure): [`config`] types, [`entity`], [`alert`], [`search`] (query building),
//!   [`stix`] (model and deterministic ids), [`knowledge`] (sightings, incidents, notes, case,
//!   context objects), [`pattern`] (STIX patterning → query DSL);
//! * shell (I/O): [`indexer`] (OpenSearch client), [`opencti`] (GraphQL client, request
//!   messages), [`amqp`] (broker), [`runtime`] (daemon: registration, ping, consumer, work,
//!   delivery, shutdown), [`pipeline`] (one request from entity to bundle), [`ops`] (metrics,
//!   health, CLI helpers).

pub mod alert;
pub mod amqp;
pub mod cli;
pub mod config;
pub mod entity;
pub mod indexer;
pub mod knowledge;
pub mod opencti;
pub mod ops;
pub mod pattern;
pub mod pipeline;
pub mod runtime;
pub mod search;
pub mod stix;
