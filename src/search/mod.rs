//! Query building: pure functions from a typed observable and the search options to an
//! OpenSearch query (spec §3), the request envelope around it, plus the field tables and
//! escaping they share with the STIX pattern translator.

pub mod envelope;
pub mod escape;
pub mod fields;
pub mod ip;
pub mod observable;
pub mod query;
