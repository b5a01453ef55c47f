//! STIX 2.1 patterning: parse an indicator's pattern ([`parse`]) into a typed tree ([`ast`]) and
//! translate it ([`translate`]) into an OpenSearch query over Wazuh alert fields, reusing the
//! field tables of [`crate::search::fields`] (one source of truth) and the escaping of
//! [`crate::search::escape`].
//!
//! Everything here is pure. What cannot be expressed faithfully over single alert documents is
//! either approximated with a note ([`Translation::notes`], shown on the work) or refused with a
//! [`PatternError`] — a query is never silently wider than the pattern.

pub mod ast;
mod cidr;
mod parser;
mod pcre;
mod translate;

pub use parser::{parse, MAX_DEPTH, MAX_PATTERN_LEN, MAX_TERMS};
pub use translate::{translate, Translation};

use crate::config::options::{IndicatorSearch, SearchOptions};
use crate::entity::IndicatorInfo;

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
         found in alerts); the indicator's based-on observables are still searched"
    )
}

/// What the pipeline does with an indicator's pattern (`WAZUH_INDICATOR_SEARCH`).
#[derive(Debug, Clone, PartialEq)]
pub enum IndicatorPattern {
    /// Not searched by pattern (`WAZUH_INDICATOR_SEARCH=based-on`).
    Skipped,
    /// Search with this query (the sightings are of the indicator).
    Search(Translation),
    /// The pattern cannot be searched: this message goes on the work. The based-on
    /// observables are still searched unless `WAZUH_INDICATOR_SEARCH=pattern`.
    NotSearchable(String),
}

/// Decides how an indicator is searched by its pattern.
///
/// ```
/// use connector_wazuh::config::options::SearchOptions;
/// use connector_wazuh::entity::IndicatorInfo;
/// use connector_wazuh::pattern::{plan_indicator, IndicatorPattern};
/// let ind = IndicatorInfo {
///     pattern: Some("[domain-name:value = 'evil.example']".into()),
///     pattern_type: Some("stix".into()),
///     ..IndicatorInfo::default()
/// };
/// assert!(matches!(plan_indicator(&ind, &SearchOptions::default()), IndicatorPattern::Search(_)));
/// ```
pub fn plan_indicator(ind: &IndicatorInfo, opts: &SearchOptions) -> IndicatorPattern {
    if opts.indicator_search == IndicatorSearch::BasedOn {
        return IndicatorPattern::Skipped;
    }
    let kind = ind.pattern_type.as_deref().unwrap_or("stix").trim();
    if !kind.eq_ignore_ascii_case("stix") {
        return IndicatorPattern::NotSearchable(unsupported_type_message(kind));
    }
    // Not trimmed: error columns must match the text the user sees in OpenCTI.
    let text = ind.pattern.as_deref().unwrap_or("");
    if text.trim().is_empty() {
        return IndicatorPattern::NotSearchable(
            "Indicator has no STIX pattern to search".to_string(),
        );
    }
    match query_for_pattern(text, opts) {
        Ok(t) => IndicatorPattern::Search(t),
        Err(e) => IndicatorPattern::NotSearchable(format!("Indicator pattern not searched: {e}")),
    }
}

/// Whether an indicator's based-on observables are searched (`based-on` or `both`).
pub fn searches_based_on(opts: &SearchOptions) -> bool {
    opts.indicator_search != IndicatorSearch::Pattern
}

/// One query for `WAZUH_INDICATOR_SEARCH=both`: alerts matching the pattern or any based-on
/// observable's query, each alert once (a `should` of the queries, so the indexer de-duplicates).
pub fn combine_queries(queries: Vec<serde_json::Value>) -> Option<serde_json::Value> {
    match queries.len() {
        0 => None,
        1 => queries.into_iter().next(),
        _ => Some(serde_json::json!({"bool": {"should": queries, "minimum_should_match": 1}})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(pattern: Option<&str>, kind: Option<&str>) -> IndicatorInfo {
        IndicatorInfo {
            pattern: pattern.map(str::to_string),
            pattern_type: kind.map(str::to_string),
            ..IndicatorInfo::default()
        }
    }

    #[test]
    fn indicator_plans() {
        let opts = SearchOptions::default();
        let p = "[ipv4-addr:value = '198.51.100.1']";
        assert!(matches!(
            plan_indicator(&ind(Some(p), Some("STIX")), &opts),
            IndicatorPattern::Search(_)
        ));
        match plan_indicator(&ind(Some("title: x"), Some("sigma")), &opts) {
            IndicatorPattern::NotSearchable(m) => assert!(m.contains("'sigma' is not supported")),
            other => panic!("{other:?}"),
        }
        match plan_indicator(&ind(Some("[process:pid = 1]"), Some("stix")), &opts) {
            IndicatorPattern::NotSearchable(m) => assert!(m.contains("process:pid"), "{m}"),
            other => panic!("{other:?}"),
        }
        match plan_indicator(&ind(Some("[a:b = "), Some("stix")), &opts) {
            IndicatorPattern::NotSearchable(m) => assert!(m.contains("line 1, column 8"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            plan_indicator(&ind(None, Some("stix")), &opts),
            IndicatorPattern::NotSearchable(_)
        ));
        let based_on = SearchOptions {
            indicator_search: IndicatorSearch::BasedOn,
            ..SearchOptions::default()
        };
        assert_eq!(
            plan_indicator(&ind(Some(p), Some("stix")), &based_on),
            IndicatorPattern::Skipped
        );
        assert!(searches_based_on(&based_on) && searches_based_on(&opts));
        let pattern_only = SearchOptions {
            indicator_search: IndicatorSearch::Pattern,
            ..SearchOptions::default()
        };
        assert!(!searches_based_on(&pattern_only));
    }

    #[test]
    fn combined_queries() {
        assert_eq!(combine_queries(vec![]), None);
        let a = serde_json::json!({"term": {"a": 1}});
        assert_eq!(combine_queries(vec![a.clone()]), Some(a.clone()));
        let both = combine_queries(vec![a.clone(), a.clone()]).unwrap();
        assert_eq!(both["bool"]["should"].as_array().map(Vec::len), Some(2));
        assert_eq!(both["bool"]["minimum_should_match"], 1);
    }
}
