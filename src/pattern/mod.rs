//! STIX 2.1 patterning: parse an indicator's pattern ([`parse`]) into a typed tree ([`ast`]) and
//! translate it ([`translate`]) into an OpenSearch query over Wazuh alert fields, reusing the
//! field tables of [`crate::search::fields`] (one source of truth), the query clauses of
//! [`crate::search::dsl`] and the escaping of [`crate::search::escape`].
//!
//! Everything here is pure. What cannot be expressed faithfully over single alert documents is
//! either approximated with a note ([`Translation::notes`], shown on the work) or refused with a
//! [`PatternError`] — a query is never silently wider than the pattern.

pub mod ast;
pub mod atoms;
pub mod budget;
mod cidr;
mod fast;
mod matcher;
mod parser;
mod pcre;
mod target;
mod translate;

pub use fast::parse_simple;
pub use parser::{parse, MAX_DEPTH, MAX_PATTERN_LEN, MAX_TERMS};
pub(crate) use target::glob_match;
pub use translate::{translate, Translation};

use crate::config::options::SearchOptions;

/// Why a pattern cannot be searched.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatternError {
    /// The text is not a STIX 2.1 pattern; `excerpt` shows the line with a caret under `column`.
    #[error("invalid STIX pattern at line {line}, column {column}: {message}\n{excerpt}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
        excerpt: String,
    },
    /// The pattern is well-formed but meaningless (bad timestamp, bad CIDR, bad regexp…).
    #[error("invalid STIX pattern: {0}")]
    Invalid(String),
    /// The pattern is valid but asks for something Wazuh alerts cannot answer faithfully.
    #[error("STIX pattern not supported: {0}")]
    Unsupported(String),
    /// The pattern or its translation exceeds a size bound.
    #[error("STIX pattern too large: {0}")]
    TooLarge(String),
}

impl PatternError {
    pub(crate) fn invalid(m: impl Into<String>) -> Self {
        PatternError::Invalid(m.into())
    }
    pub(crate) fn unsupported(m: impl Into<String>) -> Self {
        PatternError::Unsupported(m.into())
    }
}

/// Parses and translates a pattern in one step (what the pipeline calls for an Indicator with
/// `pattern_type: stix`).
pub fn query_for_pattern(text: &str, opts: &SearchOptions) -> Result<Translation, PatternError> {
    translate(&parse(text)?, opts)
}

/// The work message for an indicator whose pattern type is not STIX.
pub fn unsupported_type_message(pattern_type: &str) -> String {
    let shown: String = pattern_type.chars().take(64).collect();
    format!(
        "Indicator pattern type '{shown}' is not supported: only STIX patterns can be searched in \
         Wazuh alerts (sigma, yara, snort, suricata, pcre… rules describe detections, not values \
         found in alerts)"
    )
}
