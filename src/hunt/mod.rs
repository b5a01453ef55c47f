//! Continuous hunting, the pure part: which of up to 100,000 indicators (STIX patterns) match
//! the alerts written in a time window, found with a few dozen indexer requests per window
//! instead of one query per indicator.
//!
//! A [`DetectionPlan`] is built once per indicator set ([`DetectionPlan::new`]):
//!
//! * An indicator whose pattern only says "one of these values was seen" (`=` or `IN` on an
//!   address, a domain, a URL, an e-mail or MAC address, a user agent, a file hash, a CVE,
//!   joined by `OR`) is **atomic**: its values are normalised (one spelling per value) and
//!   indexed. Per kind, the vocabulary ([`crate::vocabulary`]) names the fields that hold such
//!   values; the fields that hold the whole value get one `terms` clause each, listing every
//!   spelling of every value, in requests kept under OpenSearch's terms and clause limits. The
//!   fields that hold a value inside a longer string (lists, URLs, `ALG=hex` hash lists) get
//!   one `exists` request, and the hunt splits those strings itself.
//! * Any other STIX pattern is **complex**: its own query ([`crate::pattern::translate`]),
//!   named after the indicator, batched under the clause budget.
//! * The rest is skipped, with the reason (not STIX, unparsable, nothing in alerts holds it).
//!
//! Per window, [`DetectionPlan::requests`] gives the `_search` bodies (time filter, sorted for
//! paging by time ([`next_page`]), `_source` limited to the fields read back). For each hit,
//! [`DetectionPlan::attribute`] names the indicators it proves matched: the values of the
//! request's fields are normalised and looked up in the index (a value equal to an
//! indicator's, never a longer or shorter one), or the hit's `matched_queries` name the
//! complex patterns. What follows a detection (sightings, the full enrichment) is the shell's
//! ([`crate::runtime::hunt`]).
//!
//! Which indicators are hunted (the enrichment's gates over the platform's listing) is
//! [`indicators`]; which windows of alerts a cycle searches, and the checkpoint kept in the
//! connector state, [`window`].

mod attribute;
pub mod detect;
mod fields;
pub mod indicators;
pub mod window;

pub use detect::{next_page, DetectRequest, DetectionPlan, Huntable, PlanSummary};
pub use fields::{searchable_fields, vocabulary_patterns};

#[cfg(test)]
mod tests;
