//! The request envelope (pure): time window in UTC, include/exclude/raw filters, rule
//! exclusion, sample-data exclusion, sorting, totals, size and bounded aggregations — compared
//! with the reference's envelope where it is kept.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use connector_wazuh::config::options::KnowledgeOptions;
use connector_wazuh::config::{FieldMatch, IndexerSettings, Secret, TimeBound};
use connector_wazuh::search::envelope::{self, SearchRequest};
use serde_json::{json, Value};

fn settings() -> IndexerSettings {
    IndexerSettings {
        username: "u".into(),
        password: Secret::new("p"),
        ..crate::testkit::settings::indexer("https://wazuh-indexer.example.org:9200")
    }
}

fn q() -> Value {
    json!({"bool": {"must": [{"term": {"data.vulnerability.cve": {"value": "CVE-2021-44228"}}}]}})
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

#[test]
fn reference_custom_settings_are_kept_with_utc_and_sort() {
    // Reference sample "opensearch_filter_variants_search_after_abs_and_include".
    let s = IndexerSettings {
        search_after: Some(TimeBound::Absolute(
            Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap(),
        )),
        include_match: vec![FieldMatch {
            field: "rule.groups".into(),
            query: "vulnerability-detector".into(),
        }],
        exclude_match: vec![
            FieldMatch {
                field: "data.integration".into(),
                query: "opencti".into(),
            },
            FieldMatch {
                field: "agent.id".into(),
                query: "000".into(),
            },
        ],
        limit: 200,
        index: "wazuh-alerts-4.x-*".into(),
        ..settings()
    };
    let r = SearchRequest::new(q(), &s, &KnowledgeOptions::default(), now());
    assert_eq!(r.index, "wazuh-alerts-4.x-*");
    let b = &r.body;
    assert_eq!(b["size"], 200);
    assert_eq!(b["track_total_hits"], true);
    assert_eq!(
        b["sort"],
        json!([{"@timestamp": {"order": "desc", "unmapped_type": "date"}}])
    );
    let filter = b["query"]["bool"]["filter"].as_array().unwrap();
    assert_eq!(filter[0], q());
    assert_eq!(
        filter[1],
        json!({"range": {"@timestamp": {"gte": "2024-01-02T03:04:05.000Z"}}})
    );
    assert_eq!(
        filter[2],
        json!({"match": {"rule.groups": "vulnerability-detector"}})
    );
    let must_not = b["query"]["bool"]["must_not"].as_array().unwrap();
    assert_eq!(
        must_not[0],
        json!({"match": {"data.integration": "opencti"}})
    );
    assert_eq!(must_not[1], json!({"match": {"agent.id": "000"}}));
    assert_eq!(must_not[2], json!({"exists": {"field": "@sampledata"}}));
}

#[test]
fn relative_window_is_utc() {
    let s = IndexerSettings {
        search_after: Some(TimeBound::Relative(Duration::from_secs(7 * 86400))),
        ..settings()
    };
    let r = SearchRequest::new(q(), &s, &KnowledgeOptions::default(), now());
    assert_eq!(
        r.body["query"]["bool"]["filter"][1]["range"]["@timestamp"]["gte"],
        "2026-11-21T12:00:00.000Z"
    );
    // A duration too large for the calendar gives no bound rather than a panic.
    assert_eq!(
        envelope::window_start(Some(&TimeBound::Relative(Duration::MAX)), now()),
        None
    );
}

#[test]
fn raw_filters_are_always_applied_fixing_the_reference() {
    // The reference ignored `filter` whenever include/exclude were set (§9.3 #1).
    let s = IndexerSettings {
        filter: vec![json!({"term": {"agent.id": "001"}})],
        ..settings()
    };
    let r = SearchRequest::new(q(), &s, &KnowledgeOptions::default(), now());
    let filter = r.body["query"]["bool"]["filter"].as_array().unwrap();
    assert!(filter.contains(&json!({"term": {"agent.id": "001"}})));
    assert!(r.body["query"]["bool"]["must_not"]
        .as_array()
        .unwrap()
        .contains(&json!({"match": {"data.integration": "opencti"}})));
}

#[test]
fn rule_exclusion_is_a_query_filter() {
    let k = KnowledgeOptions {
        rule_exclude_list: ["5710", "5712"].iter().map(|s| s.to_string()).collect(),
        ..KnowledgeOptions::default()
    };
    let s = IndexerSettings {
        exclude_sample_data: false,
        exclude_match: vec![],
        ..settings()
    };
    let r = SearchRequest::new(q(), &s, &k, now());
    assert_eq!(
        r.body["query"]["bool"]["must_not"],
        json!([{"terms": {"rule.id": ["5710", "5712"]}}])
    );
    let no_excl = SearchRequest::new(q(), &s, &KnowledgeOptions::default(), now());
    assert!(no_excl.body["query"]["bool"].get("must_not").is_none());
}

#[test]
fn aggregations_are_bounded() {
    // The plain search carries no aggregation, and the client's timeout.
    let r = SearchRequest::new(q(), &settings(), &KnowledgeOptions::default(), now());
    assert!(r.body.get("aggs").is_none());
    assert_eq!(r.body["track_total_hits"], true);
    assert_eq!(
        r.body["timeout"],
        envelope::duration_value(settings().timeout)
    );
    // The statistics request (sent only when the total exceeds the sample): the same query,
    // no hits, no total, one lean tree — agents → rules, span and newest sample per bucket.
    let st = r.stats_body();
    assert_eq!(st["query"], r.body["query"]);
    assert_eq!(
        (&st["size"], &st["track_total_hits"]),
        (&json!(0), &json!(false))
    );
    assert_eq!(st["timeout"], r.body["timeout"]);
    let aggs = &st["aggs"];
    assert_eq!(aggs.as_object().unwrap().len(), 1, "one bucket tree");
    assert_eq!(aggs["agents"]["terms"]["field"], "agent.id");
    assert_eq!(aggs["agents"]["terms"]["size"], envelope::MAX_AGENT_BUCKETS);
    let rules = &aggs["agents"]["aggs"]["rules"];
    assert_eq!(rules["terms"]["size"], envelope::MAX_RULES_PER_AGENT);
    assert_eq!(
        rules["aggs"]["ts"],
        json!({"stats": {"field": "@timestamp"}})
    );
    assert_eq!(
        rules["aggs"]["ts_alt"],
        json!({"stats": {"field": "timestamp"}})
    );
    assert_eq!(rules["aggs"]["sample"]["top_hits"]["size"], 1);
    // The exact fallback: same query and filters, no hits, statistics computed separately.
    let exact = r.exact_stats_body();
    assert_eq!(exact["query"], r.body["query"]);
    assert_eq!(exact["size"], 0);
    let aggs = &exact["aggs"];
    assert_eq!(aggs["rules"]["terms"]["size"], envelope::MAX_RULE_BUCKETS);
    assert_eq!(
        aggs["agents"]["aggs"]["first"],
        json!({"min": {"field": "@timestamp"}})
    );
    assert_eq!(
        aggs["agents"]["aggs"]["level"],
        json!({"max": {"field": "rule.level"}})
    );
    assert_eq!(aggs["agents"]["aggs"]["sample"]["top_hits"]["size"], 1);
}

/// Hunting's detection requests are narrowed like every search: their query and time range
/// stay first, the include/exclude matches, raw filters, excluded rules and sample data follow.
#[test]
fn detection_requests_are_narrowed_like_every_search() {
    let mut s = settings();
    s.include_match = vec![FieldMatch {
        field: "agent.name".into(),
        query: "web".into(),
    }];
    s.filter = vec![json!({"term": {"manager.name": "m1"}})];
    let k = KnowledgeOptions {
        rule_exclude_list: ["5710".to_string()].into_iter().collect(),
        ..KnowledgeOptions::default()
    };
    let mut body = json!({"query": {"bool": {"filter": [{"range": {"@timestamp": {"gte": "a", "lt": "b"}}}], "should": [{"terms": {"data.srcip": ["1.2.3.4"]}}], "minimum_should_match": 1}}});
    envelope::narrow(&mut body, &s, &k);
    let b = &body["query"]["bool"];
    assert_eq!(
        b["filter"][0],
        json!({"range": {"@timestamp": {"gte": "a", "lt": "b"}}})
    );
    assert_eq!(b["filter"][1], json!({"match": {"agent.name": "web"}}));
    assert_eq!(b["filter"][2], json!({"term": {"manager.name": "m1"}}));
    assert_eq!(b["should"], json!([{"terms": {"data.srcip": ["1.2.3.4"]}}]));
    let must_not = b["must_not"].to_string();
    for part in ["data.integration", "5710", "@sampledata"] {
        assert!(must_not.contains(part), "{part} missing in {must_not}");
    }
    assert_eq!(body["timeout"], json!(envelope::duration_value(s.timeout)));
}
