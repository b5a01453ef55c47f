//! [`EntitySource`] over the GraphQL client: the reads the pipeline makes on behalf of the
//! requesting user (impersonated with `opencti-applicant-id`).

use serde_json::{json, Value};

use super::client::{ApiError, OpenCtiClient, RequestContext};
use super::operations;
use crate::entity::IndicatorInfo;
use crate::pipeline::{
    BoxFut, Dependency, EnrichError, EntitySource, IndicatorWithObservables, ObservableRef,
};

fn ctx(applicant: Option<&str>) -> RequestContext {
    RequestContext {
        applicant_id: applicant.map(String::from),
        draft_id: None,
    }
}

fn to_enrich_error(e: ApiError) -> EnrichError {
    if e.is_transient() {
        EnrichError::unavailable(
            Dependency::OpenCti,
            format!("cannot read from OpenCTI: {e}"),
        )
    } else {
        EnrichError::permanent(format!("cannot read from OpenCTI: {e}"))
    }
}

/// An indicator as the pipeline sees it, from a GraphQL node or a STIX object (whose `id` is its
/// standard id).
pub fn indicator_info(n: &Value) -> IndicatorInfo {
    let s = |k: &str| n.get(k).and_then(Value::as_str).map(String::from);
    IndicatorInfo {
        standard_id: s("standard_id").or_else(|| s("id")).unwrap_or_default(),
        name: s("name").unwrap_or_default(),
        pattern: s("pattern"),
        pattern_type: s("pattern_type"),
        detection: n.get("x_opencti_detection").and_then(Value::as_bool),
        revoked: n.get("revoked").and_then(Value::as_bool).unwrap_or(false),
        score: n.get("x_opencti_score").and_then(Value::as_i64),
    }
}

fn nodes(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(|c| c.get("edges"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("node"))
}

impl EntitySource for OpenCtiClient {
    fn read_stix<'a>(
        &'a self,
        id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Option<Value>, EnrichError>> {
        Box::pin(async move {
            let d = self
                .query_retry(
                    operations::READ_STIX,
                    json!({ "id": id }),
                    Some(&ctx(applicant)),
                )
                .await
                .map_err(to_enrich_error)?;
            match d.get("stix").and_then(Value::as_str).map(str::trim) {
                None | Some("") => Ok(None),
                Some(s) => serde_json::from_str(s).map(Some).map_err(|e| {
                    EnrichError::permanent(format!(
                        "OpenCTI returned an unreadable STIX export of {id}: {e}"
                    ))
                }),
            }
        })
    }

    fn indicators_of<'a>(
        &'a self,
        observable_id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Vec<IndicatorInfo>, EnrichError>> {
        Box::pin(async move {
            let d = self
                .query_retry(
                    operations::READ_OBSERVABLE_INDICATORS,
                    json!({ "id": observable_id }),
                    Some(&ctx(applicant)),
                )
                .await
                .map_err(to_enrich_error)?;
            Ok(nodes(d.pointer("/stixCyberObservable/indicators"))
                .map(indicator_info)
                .collect())
        })
    }

    fn indicator<'a>(
        &'a self,
        id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Option<IndicatorWithObservables>, EnrichError>> {
        Box::pin(async move {
            let d = self
                .query_retry(
                    operations::READ_INDICATOR,
                    json!({ "id": id }),
                    Some(&ctx(applicant)),
                )
                .await
                .map_err(to_enrich_error)?;
            let Some(ind) = d.get("indicator").filter(|v| v.is_object()) else {
                return Ok(None);
            };
            let observables = nodes(ind.get("observables"))
                .map(|n| {
                    let s = |k: &str| {
                        n.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    ObservableRef {
                        id: s("id"),
                        standard_id: s("standard_id"),
                        entity_type: s("entity_type"),
                    }
                })
                .collect();
            Ok(Some(IndicatorWithObservables {
                indicator: indicator_info(ind),
                observables,
            }))
        })
    }

    fn tool_names(&self) -> BoxFut<'_, Result<Vec<String>, EnrichError>> {
        Box::pin(async move {
            let d = self
                .query_retry(operations::LIST_TOOLS, json!({}), None)
                .await
                .map_err(to_enrich_error)?;
            Ok(nodes(d.get("tools"))
                .filter_map(|n| n.get("name").and_then(Value::as_str).map(String::from))
                .collect())
        })
    }
}
