//! The shared test kit of every harness (`tests/offline`, `tests/system`, `tests/faults`,
//! `tests/broker`): real RabbitMQ ([`rabbit`]), a real OpenSearch-compatible server ([`osmem`]), a
//! TLS/basic-auth front for it ([`tls_front`]), a test OpenCTI that validates every GraphQL
//! operation against OpenCTI's real schema ([`fake_opencti`]), the connector in process
//! ([`connector`]) or as the real binary ([`cli`], [`faults::Daemon`]), settings builders
//! ([`settings`]), and the fixtures of the knowledge ([`knowledge`]), end-to-end ([`e2e`]) and
//! fault ([`faults`]) tests.
#![allow(dead_code)]

pub mod cli;
pub mod connector;
pub mod demo;
pub mod e2e;
pub mod fake_opencti;
pub mod faults;
pub mod knowledge;
pub mod lucene;
pub mod oasis;
pub mod ops;
pub mod osmem;
pub mod platform;
pub mod rabbit;
pub mod reference_files;
pub mod settings;
pub mod tls_front;
pub mod wazuh5;
