//! Query building: pure functions from a typed observable and the search options to an
//! OpenSearch query (spec §3), plus the field tables and escaping they share with the STIX
//! pattern translator.

pub mod escape;
pub mod fields;
