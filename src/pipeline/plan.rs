//! Stage "plan" (pure): from the inspected entity to what is searched — the typed entity the
//! knowledge builder works on, the OpenSearch query, the `sighting_of` target and the notes that
//! explain approximations — or to the message that ends the work without a search.
//!
//! Observables are searched through [`query::build`]. Indicators are searched by their STIX
//! pattern ([`pattern::query_for_pattern`]), by **all** their based-on observables
//! ([`query::any_of`]), or both ORed into one query (`WAZUH_INDICATOR_SEARCH`), with identical
//! sub-queries removed. Nothing here does I/O: references are resolved beforehand by the caller.

use std::collections::HashMap;

use serde_json::Value;

use super::inspect::{labels, markings, Inspected};
use crate::config::options::IndicatorSearch;
use crate::config::Settings;
use crate::entity::{Entity, IndicatorInfo, Observable};
use crate::knowledge;
use crate::pattern;
use crate::search::observable::{self, ObservableError, OPENCTI_EXTENSION};
use crate::search::query;

/// What to search, and how the result becomes knowledge.
#[derive(Debug, Clone)]
pub struct SearchPlan {
    /// The entity the knowledge is about.
    pub entity: Entity,
    /// The typed observable (`None` when an Indicator is searched through several parts).
    pub observable: Option<Observable>,
    /// The entity's indicators as fetched (validity filters are applied by the knowledge stage).
    pub indicators: Vec<IndicatorInfo>,
    /// `sighting_of`: the entity, or the indicator when an indicator is searched by pattern.
    pub sighting_of: String,
    /// The query part of the search request.
    pub query: Value,
    /// Approximations and skipped parts, shown on the work.
    pub notes: Vec<String>,
}

/// Planning outcome.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Search, then build knowledge.
    Search(Box<SearchPlan>),
    /// Nothing to search; the work is completed with this message (not an error).
    Done(String),
}

/// Why planning failed (the work ends in error with this message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

/// OpenCTI's entity type (`IPv4-Addr`, `StixFile`, `Indicator`, …) of a STIX 2.1 export: the
/// OpenCTI extension's `type` when present, else derived from the STIX `type`.
pub fn opencti_type(stix: &Value) -> Option<String> {
    if let Some(t) = stix
        .get("extensions")
        .and_then(|e| e.get(OPENCTI_EXTENSION))
        .and_then(|e| e.get("type"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        return Some(t.to_string());
    }
    if let Some(t) = stix.get("x_opencti_type").and_then(Value::as_str) {
        return Some(t.to_string());
    }
    let t = stix.get("type").and_then(Value::as_str)?;
    Some(
        match t {
            "ipv4-addr" => "IPv4-Addr",
            "ipv6-addr" => "IPv6-Addr",
            "domain-name" => "Domain-Name",
            "hostname" => "Hostname",
            "url" => "Url",
            "email-addr" => "Email-Addr",
            "mac-addr" => "Mac-Addr",
            "user-agent" => "User-Agent",
            "file" => "StixFile",
            "artifact" => "Artifact",
            "directory" => "Directory",
            "windows-registry-key" => "Windows-Registry-Key",
            "windows-registry-value-type" => "Windows-Registry-Value-Type",
            "process" => "Process",
            "user-account" => "User-Account",
            "network-traffic" => "Network-Traffic",
            "vulnerability" => "Vulnerability",
            "software" => "Software",
            "indicator" => "Indicator",
            other => other,
        }
        .to_string(),
    )
}

/// The knowledge stage's view of a STIX export.
pub fn entity_of(stix: &Value, fallback_id: &str) -> Entity {
    Entity {
        standard_id: stix
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or(fallback_id)
            .to_string(),
        entity_type: opencti_type(stix).unwrap_or_default(),
        stix: stix.clone(),
        markings: markings(stix),
        labels: labels(stix),
        created_by_ref: stix
            .get("created_by_ref")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

/// Resolved references (`parent_directory_ref`, `src_ref`, `dst_ref`) by STIX id.
pub type Refs = HashMap<String, Value>;

fn observable_of(entity: &Entity, refs: &Refs) -> Result<Observable, ObservableError> {
    observable::from_stix(&entity.entity_type, &entity.stix, refs)
}

fn observable_error(e: ObservableError) -> PlanError {
    PlanError(format!("Cannot search this entity: {e}"))
}

/// Plans the search of an observable, Vulnerability or Software.
pub fn plan_observable(
    settings: &Settings,
    inspected: &Inspected,
    refs: &Refs,
) -> Result<Plan, PlanError> {
    let entity = entity_of(&inspected.entity, &inspected.entity_id);
    let valid = knowledge::valid_indicators(&inspected.indicators, &settings.knowledge).len();
    if let Some(msg) = knowledge::observable_gate(&entity, valid, &settings.knowledge) {
        return Ok(Plan::Done(msg));
    }
    let obs = observable_of(&entity, refs).map_err(observable_error)?;
    let Some(q) = query::build(&obs, &settings.search)
        .map_err(|e| PlanError(format!("Cannot search this {}: {e}", entity.entity_type)))?
    else {
        return Ok(Plan::Done(format!(
            "{} has no queryable data",
            entity.entity_type
        )));
    };
    Ok(Plan::Search(Box::new(SearchPlan {
        sighting_of: entity.standard_id.clone(),
        entity,
        observable: Some(obs),
        indicators: inspected.indicators.clone(),
        query: q,
        notes: Vec::new(),
    })))
}

/// `(entity, observable, query)` of each based-on observable that has queryable data; the others
/// are named in `notes`.
fn based_on_queries(
    settings: &Settings,
    observables: &[Value],
    refs: &Refs,
    notes: &mut Vec<String>,
) -> Vec<(Entity, Observable, Value)> {
    let mut out = Vec::new();
    for stix in observables {
        let e = entity_of(stix, "");
        let shown = knowledge::entity_name_value(&e);
        match observable_of(&e, refs) {
            Err(err) => notes.push(format!("based-on observable {shown} not searched: {err}")),
            Ok(obs) => match query::build(&obs, &settings.search) {
                Ok(Some(q)) => out.push((e, obs, q)),
                Ok(None) => notes.push(format!(
                    "based-on observable {shown} not searched: it has no queryable data"
                )),
                Err(err) => notes.push(format!("based-on observable {shown} not searched: {err}")),
            },
        }
    }
    out
}

/// Plans the search of an Indicator (by pattern, based-on observables, or both).
pub fn plan_indicator(
    settings: &Settings,
    inspected: &Inspected,
    refs: &Refs,
) -> Result<Plan, PlanError> {
    let mode = settings.search.indicator_search;
    let use_pattern = matches!(mode, IndicatorSearch::Pattern | IndicatorSearch::Both);
    let use_based_on = matches!(mode, IndicatorSearch::BasedOn | IndicatorSearch::Both);
    let mut indicator_entity = entity_of(&inspected.entity, &inspected.entity_id);
    indicator_entity.entity_type = "Indicator".into();
    let info = inspected.indicators.first().cloned().unwrap_or_default();
    let pattern_text = info
        .pattern
        .clone()
        .or_else(|| {
            inspected
                .entity
                .get("pattern")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|p| !p.trim().is_empty());
    let pattern_type = info
        .pattern_type
        .clone()
        .or_else(|| {
            inspected
                .entity
                .get("pattern_type")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "stix".into());

    // The indicator itself passes the same gates as an observable's indicators.
    let excluded = knowledge::indicator_excluded(&info, &settings.knowledge);
    if let Some(why) = &excluded {
        if !settings.knowledge.create_obs_sightings {
            return Ok(Plan::Done(format!("Indicator ignored: {why}")));
        }
    }
    let mut notes = Vec::new();
    if let Some(why) = &excluded {
        if settings.knowledge.require_indicator_for_incidents {
            notes.push(format!(
                "no incident or case: the indicator does not count, {why}"
            ));
        }
    }
    let based = if use_based_on {
        based_on_queries(settings, &inspected.observables, refs, &mut notes)
    } else {
        Vec::new()
    };

    // The pattern part: a query, or why there is none.
    let mut pattern_query = None;
    let mut pattern_problem = None;
    if use_pattern {
        match &pattern_text {
            None => pattern_problem = Some("the indicator has no pattern".to_string()),
            Some(_) if !pattern_type.eq_ignore_ascii_case("stix") => {
                pattern_problem = Some(pattern::unsupported_type_message(&pattern_type));
            }
            // `[ipv4-addr:value = 'x']` over the observable x: the observable's own search finds
            // everything the pattern would, and planning it as that observable gives the same
            // sightings, incidents and case (same names, same ids) as enriching the observable.
            Some(text) if pattern_is_the_observable(text, &based) => {}
            Some(text) => match pattern::query_for_pattern(text, &settings.search) {
                Ok(t) => {
                    notes.extend(t.notes.into_iter().map(|n| format!("pattern: {n}")));
                    pattern_query = Some(t.query);
                }
                Err(e) => pattern_problem = Some(e.to_string()),
            },
        }
    }

    if pattern_query.is_none() && based.is_empty() {
        // Nothing searchable: say why, most specific first.
        let why = match (&pattern_problem, use_based_on, inspected.observables.is_empty()) {
            (Some(p), true, true) => format!("{p} (this indicator is not based on any observable)"),
            (Some(p), false, _) => format!("{p} (WAZUH_INDICATOR_SEARCH=pattern: based-on observables are not searched)"),
            (Some(p), true, false) => format!("{p}; {}", notes.join("; ")),
            (None, _, true) => "Indicator is not based on any observable and its pattern is not searched (WAZUH_INDICATOR_SEARCH=based-on)".to_string(),
            (None, _, false) => format!("Indicator has no queryable data: {}", notes.join("; ")),
        };
        return Ok(Plan::Done(why));
    }
    if let Some(p) = pattern_problem.filter(|_| use_pattern) {
        notes.insert(0, format!("pattern not searched: {p}"));
    }

    // One search: every distinct part ORed.
    let mut parts: Vec<Value> = Vec::new();
    for q in pattern_query
        .iter()
        .cloned()
        .chain(based.iter().map(|(_, _, q)| q.clone()))
    {
        if !parts.contains(&q) {
            parts.push(q);
        }
    }
    let q = if parts.len() == 1 {
        parts.remove(0)
    } else {
        query::any_of(parts)
    };

    // Only the based-on part, on exactly one observable: sightings of that observable (as the
    // reference does). Otherwise sightings of the indicator itself.
    if pattern_query.is_none() && based.len() == 1 {
        if let Some((entity, obs, _)) = based.into_iter().next() {
            return Ok(Plan::Search(Box::new(SearchPlan {
                sighting_of: entity.standard_id.clone(),
                entity,
                observable: Some(obs),
                indicators: inspected.indicators.clone(),
                query: q,
                notes,
            })));
        }
    }
    Ok(Plan::Search(Box::new(SearchPlan {
        sighting_of: indicator_entity.standard_id.clone(),
        entity: indicator_entity,
        observable: None,
        indicators: inspected.indicators.clone(),
        query: q,
        notes,
    })))
}

/// True when the pattern is a single equality on exactly the one based-on observable's value
/// (`value`, `name` or one of its `hashes`).
fn pattern_is_the_observable(text: &str, based: &[(Entity, Observable, Value)]) -> bool {
    let [(entity, _, _)] = based else {
        return false;
    };
    let Ok(parsed) = pattern::parse(text) else {
        return false;
    };
    let Some((path, value)) = parsed.single_equality() else {
        return false;
    };
    let stix = &entity.stix;
    if stix.get("type").and_then(Value::as_str) != Some(path.object_type.as_str()) {
        return false;
    }
    use pattern::ast::PathStep::Property;
    match path.steps.as_slice() {
        [Property(p)] if p == "value" || p == "name" => {
            stix.get(p).and_then(Value::as_str) == Some(value)
        }
        [Property(h), Property(alg)] if h == "hashes" => stix
            .get("hashes")
            .and_then(Value::as_object)
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(alg)))
            .and_then(|(_, v)| v.as_str())
            .is_some_and(|v| v.eq_ignore_ascii_case(value)),
        _ => false,
    }
}

/// Plans any inspected entity.
pub fn plan(settings: &Settings, inspected: &Inspected, refs: &Refs) -> Result<Plan, PlanError> {
    if inspected.entity_type == "indicator" {
        plan_indicator(settings, inspected, refs)
    } else {
        plan_observable(settings, inspected, refs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(tweak: impl FnOnce(&mut Settings)) -> Settings {
        let mut s = crate::pipeline::inspect::tests::settings();
        tweak(&mut s);
        s
    }

    const IND: &str = "indicator--a1b2c3d4-0000-4000-8000-000000000001";
    const IP: &str = "ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7";
    const DOM: &str = "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7";

    fn ip(v: &str) -> Value {
        json!({"type":"ipv4-addr","id":IP,"value":v})
    }
    fn dom() -> Value {
        json!({"type":"domain-name","id":DOM,"value":"example.com"})
    }

    fn observable_inspected(stix: Value, indicators: Vec<IndicatorInfo>) -> Inspected {
        Inspected {
            entity_id: stix["id"].as_str().unwrap().into(),
            entity_type: stix["type"].as_str().unwrap().into(),
            observables: vec![stix.clone()],
            entity: stix,
            indicators,
        }
    }

    fn indicator_inspected(
        pattern: Option<&str>,
        pattern_type: &str,
        obs: Vec<Value>,
    ) -> Inspected {
        let mut stix =
            json!({"type":"indicator","id":IND,"name":"bad","pattern_type":pattern_type});
        if let Some(p) = pattern {
            stix["pattern"] = json!(p);
        }
        Inspected {
            entity_id: IND.into(),
            entity_type: "indicator".into(),
            entity: stix,
            observables: obs,
            indicators: vec![IndicatorInfo {
                standard_id: IND.into(),
                name: "bad".into(),
                pattern: pattern.map(str::to_string),
                pattern_type: Some(pattern_type.into()),
                ..Default::default()
            }],
        }
    }

    fn search(p: Plan) -> SearchPlan {
        match p {
            Plan::Search(s) => *s,
            Plan::Done(m) => panic!("expected a search, got {m:?}"),
        }
    }
    fn done(p: Plan) -> String {
        match p {
            Plan::Done(m) => m,
            Plan::Search(s) => panic!("expected no search, got {s:?}"),
        }
    }

    #[test]
    fn opencti_types_come_from_the_extension_or_the_stix_type() {
        assert_eq!(opencti_type(&ip("1.2.3.4")).unwrap(), "IPv4-Addr");
        assert_eq!(opencti_type(&json!({"type":"file"})).unwrap(), "StixFile");
        let ext = json!({"type":"x","extensions":{OPENCTI_EXTENSION:{"type":"Hostname"}}});
        assert_eq!(opencti_type(&ext).unwrap(), "Hostname");
        assert_eq!(opencti_type(&json!({})), None);
    }

    #[test]
    fn observable_gets_its_query_and_is_its_own_sighting_target() {
        let s = settings(|_| {});
        let p = search(
            plan(
                &s,
                &observable_inspected(ip("8.8.8.8"), vec![]),
                &Refs::new(),
            )
            .unwrap(),
        );
        assert_eq!(p.sighting_of, IP);
        assert_eq!(p.entity.entity_type, "IPv4-Addr");
        assert_eq!(
            p.observable,
            Some(Observable::Ipv4Addr {
                value: "8.8.8.8".into()
            })
        );
        assert!(p.query.to_string().contains("8.8.8.8"));
    }

    #[test]
    fn no_queryable_data_and_no_indicators_end_without_search() {
        let s = settings(|_| {});
        // Private address ignored by default.
        let m = done(
            plan(
                &s,
                &observable_inspected(ip("10.1.2.3"), vec![]),
                &Refs::new(),
            )
            .unwrap(),
        );
        assert_eq!(m, "IPv4-Addr has no queryable data");
        let s = settings(|s| s.knowledge.create_obs_sightings = false);
        let m = done(
            plan(
                &s,
                &observable_inspected(ip("8.8.8.8"), vec![]),
                &Refs::new(),
            )
            .unwrap(),
        );
        assert_eq!(m, "Observable has no indicators");
        // A revoked indicator does not count.
        let revoked = IndicatorInfo {
            standard_id: IND.into(),
            revoked: true,
            ..Default::default()
        };
        let m = done(
            plan(
                &s,
                &observable_inspected(ip("8.8.8.8"), vec![revoked]),
                &Refs::new(),
            )
            .unwrap(),
        );
        assert_eq!(m, "Observable has no indicators");
    }

    #[test]
    fn unsupported_and_invalid_observables_are_errors() {
        let s = settings(|_| {});
        let e = plan(
            &s,
            &observable_inspected(json!({"type":"x-thing","id":"x-thing--1"}), vec![]),
            &Refs::new(),
        )
        .unwrap_err();
        assert!(e.0.contains("not a supported entity type"), "{e}");
        let e = plan(
            &s,
            &observable_inspected(ip("not-an-ip"), vec![]),
            &Refs::new(),
        )
        .unwrap_err();
        assert!(e.0.contains("not an IPv4 address"), "{e}");
    }

    #[test]
    fn stix_pattern_indicator_is_sighted_itself() {
        let s = settings(|_| {});
        let p = search(
            plan(
                &s,
                &indicator_inspected(Some("[ipv4-addr:value = '8.8.8.8']"), "stix", vec![]),
                &Refs::new(),
            )
            .unwrap(),
        );
        assert_eq!(p.sighting_of, IND);
        assert_eq!(p.entity.entity_type, "Indicator");
        assert!(p.observable.is_none());
        assert!(p.query.to_string().contains("8.8.8.8"));
    }

    #[test]
    fn both_parts_are_ored_and_deduplicated() {
        let s = settings(|_| {});
        let i = indicator_inspected(
            Some("[domain-name:value = 'evil.example']"),
            "stix",
            vec![ip("8.8.8.8"), dom()],
        );
        let p = search(plan(&s, &i, &Refs::new()).unwrap());
        let q = p.query.to_string();
        assert!(
            q.contains("evil.example") && q.contains("8.8.8.8") && q.contains("example.com"),
            "{q}"
        );
        assert_eq!(p.query["bool"]["should"].as_array().unwrap().len(), 3);
        assert_eq!(p.sighting_of, IND);
        // The same observable twice is searched once.
        let i = indicator_inspected(None, "stix", vec![ip("8.8.8.8"), ip("8.8.8.8")]);
        let p = search(
            plan(
                &settings(|s| s.search.indicator_search = IndicatorSearch::BasedOn),
                &i,
                &Refs::new(),
            )
            .unwrap(),
        );
        let single = query::build(
            &Observable::Ipv4Addr {
                value: "8.8.8.8".into(),
            },
            &s.search,
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.query, single);
    }

    #[test]
    fn based_on_only_with_one_observable_sights_the_observable() {
        let s = settings(|s| s.search.indicator_search = IndicatorSearch::BasedOn);
        let i = indicator_inspected(
            Some("[ipv4-addr:value = '1.1.1.1']"),
            "stix",
            vec![ip("8.8.8.8")],
        );
        let p = search(plan(&s, &i, &Refs::new()).unwrap());
        assert_eq!(p.sighting_of, IP);
        assert_eq!(p.indicators[0].standard_id, IND);
        assert!(!p.query.to_string().contains("1.1.1.1"));
    }

    #[test]
    fn a_pattern_that_is_its_observable_plans_as_that_observable() {
        // Default mode (both): `[ipv4-addr:value = '8.8.8.8']` based on 8.8.8.8 is enriched
        // exactly as the observable is, so both requests name (and id) the same incidents.
        let s = settings(|_| {});
        let i = indicator_inspected(
            Some("[ipv4-addr:value = '8.8.8.8']"),
            "stix",
            vec![ip("8.8.8.8")],
        );
        let p = search(plan(&s, &i, &Refs::new()).unwrap());
        assert_eq!(p.sighting_of, IP);
        assert_eq!(p.entity.entity_type, "IPv4-Addr");
        let obs = search(
            plan(
                &s,
                &observable_inspected(ip("8.8.8.8"), vec![]),
                &Refs::new(),
            )
            .unwrap(),
        );
        assert_eq!(p.query, obs.query);
        // File hashes compare without regard to case; another value is not the observable.
        let file = json!({"type":"file","id":"file--1","hashes":{"SHA-256":"AB".repeat(32)}});
        let i = indicator_inspected(
            Some(&format!("[file:hashes.'SHA-256' = '{}']", "ab".repeat(32))),
            "stix",
            vec![file.clone()],
        );
        assert_eq!(
            search(plan(&s, &i, &Refs::new()).unwrap()).sighting_of,
            "file--1"
        );
        for other in [
            "[ipv4-addr:value = '1.1.1.1']",
            "[ipv4-addr:value = '8.8.8.8' OR ipv4-addr:value = '1.1.1.1']",
            "[ipv4-addr:value != '8.8.8.8']",
            "[domain-name:value = '8.8.8.8']",
        ] {
            let i = indicator_inspected(Some(other), "stix", vec![ip("8.8.8.8")]);
            assert_eq!(
                search(plan(&s, &i, &Refs::new()).unwrap()).sighting_of,
                IND,
                "{other}"
            );
        }
    }

    #[test]
    fn an_indicator_request_passes_the_indicator_gates() {
        let revoked = |i: &mut Inspected| i.indicators[0].revoked = true;
        let mut i = indicator_inspected(Some("[ipv4-addr:value = '1.1.1.1']"), "stix", vec![]);
        revoked(&mut i);
        // Not searched at all when only indicators' sightings are wanted…
        let s = settings(|s| s.knowledge.create_obs_sightings = false);
        let m = done(plan(&s, &i, &Refs::new()).unwrap());
        assert!(
            m.contains("Indicator ignored") && m.contains("revoked"),
            "{m}"
        );
        // …otherwise searched, and the work says why no incident follows.
        let p = search(plan(&settings(|_| {}), &i, &Refs::new()).unwrap());
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("no incident") && n.contains("revoked")),
            "{:?}",
            p.notes
        );
        let s = settings(|s| s.knowledge.indicator_score_threshold = Some(60));
        let i = indicator_inspected(Some("[ipv4-addr:value = '1.1.1.1']"), "stix", vec![]);
        let p = search(plan(&s, &i, &Refs::new()).unwrap());
        assert!(
            p.notes.iter().any(|n| n.contains("score 50")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn pattern_only_ignores_based_on_observables() {
        let s = settings(|s| s.search.indicator_search = IndicatorSearch::Pattern);
        let i = indicator_inspected(
            Some("[ipv4-addr:value = '1.1.1.1']"),
            "stix",
            vec![ip("8.8.8.8")],
        );
        let p = search(plan(&s, &i, &Refs::new()).unwrap());
        assert!(p.query.to_string().contains("1.1.1.1"));
        assert!(!p.query.to_string().contains("8.8.8.8"));
    }

    #[test]
    fn sigma_indicator_gets_the_not_supported_message() {
        let s = settings(|_| {});
        let m = done(
            plan(
                &s,
                &indicator_inspected(Some("title: x"), "sigma", vec![]),
                &Refs::new(),
            )
            .unwrap(),
        );
        assert!(m.contains("'sigma' is not supported"), "{m}");
        assert!(m.contains("not based on any observable"), "{m}");
        // With a based-on observable the observable is searched and the work says why the
        // pattern was not.
        let p = search(
            plan(
                &s,
                &indicator_inspected(Some("title: x"), "sigma", vec![ip("8.8.8.8")]),
                &Refs::new(),
            )
            .unwrap(),
        );
        assert!(
            p.notes[0].contains("'sigma' is not supported"),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn invalid_pattern_without_observables_says_where() {
        let s = settings(|_| {});
        let m = done(
            plan(
                &s,
                &indicator_inspected(Some("[ipv4-addr:value = "), "stix", vec![]),
                &Refs::new(),
            )
            .unwrap(),
        );
        assert!(m.contains("invalid STIX pattern"), "{m}");
    }

    #[test]
    fn approximations_are_noted() {
        let s = settings(|_| {});
        let i = indicator_inspected(
            Some("[ipv4-addr:value = '8.8.8.8'] FOLLOWEDBY [domain-name:value = 'evil.example']"),
            "stix",
            vec![],
        );
        match plan(&s, &i, &Refs::new()).unwrap() {
            Plan::Search(p) => assert!(!p.notes.is_empty()),
            // Refusing is also acceptable for the translator; then the reason is given.
            Plan::Done(m) => assert!(m.contains("FOLLOWEDBY"), "{m}"),
        }
    }
}
