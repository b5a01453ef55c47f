//! Query building: pure functions from a typed observable and the search options to an
//! OpenSearch query, the request envelope around it, plus the field tables, query-DSL clauses
//! and escaping they share with the STIX pattern translator.

pub mod dsl;
pub mod envelope;
pub mod escape;
pub mod fields;
pub mod ip;
pub mod lookup;
pub mod observable;
pub mod paths;
pub mod query;
pub mod registry;

use std::collections::HashMap;

use serde_json::Value;

use crate::config::options::SearchOptions;
use crate::entity::Observable;

/// Why an entity could not be searched (a clear, user-facing message; never a panic).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Observable(#[from] observable::ObservableError),
    #[error(transparent)]
    Query(#[from] query::QueryError),
}

/// STIX export → typed observable → query, in one call: `Ok(None)` means "no queryable data".
///
/// `refs` holds the resolved references listed by [`observable::ref_ids`]. The observable is
/// returned with the query because the vulnerability-state lookup
/// ([`envelope::SearchRequest::with_vulnerability_state`]) needs it.
pub fn plan(
    entity_type: &str,
    stix: &Value,
    refs: &HashMap<String, Value>,
    opts: &SearchOptions,
) -> Result<Option<(Observable, Value)>, SearchError> {
    let obs = observable::from_stix(entity_type, stix, refs)?;
    Ok(query::build(&obs, opts)?.map(|q| (obs, q)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plan_reports_errors_and_no_queryable_data() {
        let opts = SearchOptions::default();
        let none = HashMap::new();
        assert!(
            plan("IPv4-Addr", &json!({"value": "10.0.0.1"}), &none, &opts)
                .unwrap()
                .is_none()
        );
        let (obs, q) = plan("IPv4-Addr", &json!({"value": "8.8.8.8"}), &none, &opts)
            .unwrap()
            .unwrap();
        assert_eq!(
            obs,
            Observable::Ipv4Addr {
                value: "8.8.8.8".into()
            }
        );
        assert!(q["bool"]["must"].is_array());
        let e = plan("Indicator", &json!({}), &none, &opts).unwrap_err();
        assert_eq!(e.to_string(), "Indicator is not a supported entity type");
    }
}
