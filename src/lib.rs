//! connector-wazuh: an OpenCTI internal-enrichment connector that looks observables and
//! indicators up in the Wazuh indexer and returns what it finds as STIX 2.1 knowledge.
//!
//! # Map
//!
//! A functional core (pure: no I/O, unit-tested) inside an imperative shell. The core never
//! imports the shell; within the shell each module imports only the core and the shell modules
//! listed before it.
//!
//! Core:
//! * [`vocabulary`] — the Wazuh field vocabulary: which alert fields hold each kind of value,
//!   per schema profile; search, pattern translation and context extraction all read it.
//! * [`config`] — settings: the option table, value parsers and the loader (environment, YAML).
//! * [`entity`] — the typed entity a request is about (observable, indicator, vulnerability).
//! * [`alert`] — Wazuh alerts and search results as the rest of the crate reads them.
//! * [`search`] — the indexer query for an entity (fields, escaping, the search envelope).
//! * [`pattern`] — STIX patterning: parser and translation into the query DSL.
//! * [`stix`] — the STIX model, deterministic ids and validation.
//! * [`schema`] — the Wazuh schema profiles (4.x alerts, 5.x WCS findings): envelope fields,
//!   level keywords, the 5.x request translation and document normalisation, detection.
//! * [`knowledge`] — alerts → STIX: systems, sightings, incidents, case, notes, context objects.
//! * [`hunt`] — continuous hunting: many indicators → a few batched searches per time window,
//!   and the indicators each hit proves matched.
//!
//! Shell:
//! * [`indexer`] — the OpenSearch client of the Wazuh indexer.
//! * [`amqp`] — RabbitMQ: connecting, consuming the listen queue, publishing with confirms.
//! * [`ops`] — Prometheus metrics, liveness/readiness flags and their HTTP server; the
//!   allocator's settings.
//! * [`pipeline`] — one request from entity to STIX objects (inspect, plan, search, knowledge);
//!   the OpenCTI reads it needs are a trait ([`pipeline::EntitySource`]).
//! * [`opencti`] — the GraphQL client (which implements that trait), its operations,
//!   registration and the request messages.
//! * [`runtime`] — the daemon: registration, heartbeat, consumer, delivery, work reports,
//!   continuous hunting ([`runtime::hunt`]), shutdown.
//! * [`cli`] — the operator commands `check`, `enrich` and `config`.
//!
//! `src/main.rs` parses the command line and calls [`runtime::run`] or a [`cli`] command.

pub mod alert;
pub mod amqp;
pub mod cli;
pub mod config;
pub mod entity;
pub mod hunt;
pub mod indexer;
pub mod knowledge;
pub mod opencti;
pub mod ops;
pub mod pattern;
pub mod pipeline;
pub mod runtime;
pub mod schema;
pub mod search;
pub mod stix;
pub mod vocabulary;
