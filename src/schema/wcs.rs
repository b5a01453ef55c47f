//! Reading Wazuh 5 findings with the 4.x envelope: the request translation (envelope field names
//! → WCS field names) and the document normalisation (a finding's `wazuh.agent.*` /
//! `wazuh.rule.*` → the `agent` / `rule` the response parser and the alert type read).
//!
//! Both are pure functions of JSON. The translation renames only field positions (object keys,
//! `field` values, `_source` includes and `multi_match` field lists), never values searched for,
//! so an observable that happens to read `agent.id` is still searched as written.

use serde_json::{Map, Value};

use super::{keyword_level, V4, V5};

/// Envelope names of the 4.x profile and their WCS fields; the first WCS field is the one
/// queried, the others are also fetched (a finding's rule has a title and a description).
fn renames() -> [(&'static str, &'static [&'static str]); 8] {
    [
        (V4.agent_id, &[V5.agent_id]),
        (V4.agent_name, &[V5.agent_name]),
        (V4.agent_ip, &[V5.agent_ip]),
        (V4.rule_id, &[V5.rule_id]),
        (V4.rule_level, &[V5.rule_level]),
        (
            V4.rule_title,
            &["wazuh.rule.title", "wazuh.rule.description"],
        ),
        (V4.rule_groups, &[V5.rule_groups]),
        (
            "rule.mitre.id",
            &[
                "wazuh.rule.mitre.technique.id",
                "wazuh.rule.mitre.subtechnique.id",
            ],
        ),
    ]
}

fn renamed(name: &str) -> Option<&'static [&'static str]> {
    renames()
        .into_iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn rename_one(name: &str) -> String {
    renamed(name)
        .and_then(|v| v.first())
        .map_or_else(|| name.to_string(), |f| f.to_string())
}

/// A metric aggregation over the rule level (`{"max": {"field": "rule.level"}}`): keyword levels
/// cannot be aggregated numerically, so under 5.x it is dropped and the level comes from the
/// sampled alerts (the response parser falls back to them).
fn is_level_metric(v: &Value) -> bool {
    let Some(m) = v.as_object().filter(|m| m.len() == 1) else {
        return false;
    };
    m.iter().any(|(k, inner)| {
        matches!(k.as_str(), "max" | "min" | "avg" | "sum" | "stats")
            && inner.get("field").and_then(Value::as_str) == Some(V4.rule_level)
    })
}

/// The dashboard's sample data is marked by an `@sampledata` field in 4.x; WCS maps no such
/// field (its strict templates refuse it), and the 5.x sample generator tags its documents
/// `@sampledata` instead.
fn sample_data_marker() -> Value {
    serde_json::json!({"bool": {"should": [
        {"exists": {"field": "@sampledata"}},
        {"term": {"tags": {"value": "@sampledata"}}}
    ], "minimum_should_match": 1}})
}

fn is_sample_data_test(m: &Map<String, Value>) -> bool {
    m.len() == 1
        && m.get("exists")
            .and_then(|e| e.get("field"))
            .and_then(Value::as_str)
            == Some("@sampledata")
}

/// The request body `body` (written in 4.x envelope names) for a 5.x findings index.
pub fn request(body: &Value) -> Value {
    match body {
        Value::Object(m) if is_sample_data_test(m) => sample_data_marker(),
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            let mut dropped_level = false;
            for (k, v) in m {
                if is_level_metric(v) {
                    dropped_level = true;
                    continue;
                }
                let value = match (k.as_str(), v) {
                    ("field", Value::String(s)) => Value::String(rename_one(s)),
                    ("includes" | "fields" | "_source", Value::Array(a)) => {
                        Value::Array(a.iter().flat_map(expand).collect())
                    }
                    _ => request(v),
                };
                out.insert(rename_one(k), value);
            }
            if dropped_level {
                fetch_level_in_samples(&mut out);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(request).collect()),
        other => other.clone(),
    }
}

/// The newest-alert samples next to a dropped level metric also fetch the level, so that the
/// bucket's level comes from its sample (as in the lean tree).
fn fetch_level_in_samples(aggs: &mut Map<String, Value>) {
    for v in aggs.values_mut() {
        let includes = v
            .get_mut("top_hits")
            .and_then(|t| t.get_mut("_source"))
            .and_then(|s| s.get_mut("includes"))
            .and_then(Value::as_array_mut);
        if let Some(list) = includes {
            if !list.iter().any(|f| f == V5.rule_level) {
                list.push(Value::from(V5.rule_level));
            }
        }
    }
}

/// One entry of a field list, with every WCS field it stands for.
fn expand(v: &Value) -> Vec<Value> {
    match v.as_str().and_then(renamed) {
        Some(fields) => fields.iter().map(|f| Value::from(*f)).collect(),
        None => vec![v.clone()],
    }
}

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, p| cur.get(p))
}

/// A keyword (or the first of a list of keywords).
fn text_at(v: &Value, path: &str) -> Option<String> {
    match at(v, path)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Array(a) => a.iter().find_map(|x| x.as_str().map(str::to_string)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn texts_at(v: &Value, path: &str) -> Vec<Value> {
    match at(v, path) {
        Some(Value::String(s)) => vec![Value::from(s.as_str())],
        Some(Value::Array(a)) => a.iter().filter(|x| x.is_string()).cloned().collect(),
        _ => Vec::new(),
    }
}

/// The `agent` / `rule` envelope of a finding, from `wazuh.agent.*` / `wazuh.rule.*` (the
/// top-level ECS `agent.*` / `rule.*` when a document has no `wazuh.*` copy). The finding's
/// own fields stay as they are (notes and context objects read them); only the envelope keys
/// the connector reads are set.
pub fn source(mut doc: Value) -> Value {
    let pick = |wcs: &str, ecs: &str| text_at(&doc, wcs).or_else(|| text_at(&doc, ecs));
    let agent_id = pick(V5.agent_id, "agent.id");
    let agent_name = pick(V5.agent_name, "agent.name");
    let agent_ip = pick(V5.agent_ip, "agent.host.ip").or_else(|| text_at(&doc, "agent.ip"));
    let rule_id = pick(V5.rule_id, "rule.id");
    let level = match at(&doc, V5.rule_level).or_else(|| at(&doc, "rule.level")) {
        Some(Value::String(s)) => keyword_level(s),
        Some(Value::Number(n)) => n.as_f64().map(|n| n.clamp(0.0, 255.0) as u8),
        _ => None,
    };
    let title = pick("wazuh.rule.title", "rule.title")
        .or_else(|| pick("wazuh.rule.description", "rule.description"));
    let mut groups = texts_at(&doc, V5.rule_groups);
    if groups.is_empty() {
        groups = texts_at(&doc, "rule.groups");
    }
    let mut mitre: Vec<Value> = V5
        .mitre_ids
        .iter()
        .flat_map(|f| texts_at(&doc, f))
        .collect();
    if mitre.is_empty() {
        mitre = texts_at(&doc, "rule.mitre.id");
    }
    let Some(m) = doc.as_object_mut() else {
        return doc;
    };
    let mut agent = take_object(m, "agent");
    set(&mut agent, "id", agent_id.map(Value::from));
    set(&mut agent, "name", agent_name.map(Value::from));
    set(&mut agent, "ip", agent_ip.map(Value::from));
    m.insert("agent".into(), Value::Object(agent));
    let mut rule = take_object(m, "rule");
    set(&mut rule, "id", rule_id.map(Value::from));
    set(&mut rule, "level", level.map(Value::from));
    set(&mut rule, "description", title.map(Value::from));
    if !groups.is_empty() {
        rule.insert("groups".into(), Value::Array(groups));
    }
    if !mitre.is_empty() {
        let mut entry = take_object(&mut rule, "mitre");
        entry.insert("id".into(), Value::Array(mitre));
        rule.insert("mitre".into(), Value::Object(entry));
    }
    m.insert("rule".into(), Value::Object(rule));
    doc
}

/// `m[key]` taken out as an object (a new one when missing or of another type).
fn take_object(m: &mut Map<String, Value>, key: &str) -> Map<String, Value> {
    match m.remove(key) {
        Some(Value::Object(o)) => o,
        _ => Map::new(),
    }
}

fn set(m: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(key.to_string(), v);
    }
}

/// A `_search` response with every `_source` (hits and `top_hits` samples alike) normalised by
/// [`source`].
pub fn response(mut v: Value) -> Value {
    normalise_sources(&mut v);
    v
}

fn normalise_sources(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "_source" && x.is_object() {
                    *x = source(std::mem::take(x));
                } else {
                    normalise_sources(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(normalise_sources),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_fields_are_renamed_and_values_are_not() {
        let body = json!({
            "query": {"bool": {
                "filter": [{"term": {"source.ip": {"value": "agent.id"}}}],
                "must_not": [{"terms": {"rule.id": ["5710"]}}]
            }},
            "sort": [{"@timestamp": {"order": "desc"}}],
            "aggs": {"agents": {"terms": {"field": "agent.id"}, "aggs": {
                "level": {"max": {"field": "rule.level"}},
                "sample": {"top_hits": {"_source": {"includes": ["rule.description", "agent.ip"]}}}
            }}}
        });
        let t = request(&body);
        assert_eq!(
            t["query"]["bool"]["filter"][0]["term"]["source.ip"]["value"],
            "agent.id"
        );
        assert_eq!(
            t["query"]["bool"]["must_not"][0]["terms"]["wazuh.rule.id"],
            json!(["5710"])
        );
        assert_eq!(t["aggs"]["agents"]["terms"]["field"], "wazuh.agent.id");
        assert!(t["aggs"]["agents"]["aggs"].get("level").is_none());
        assert_eq!(
            t["aggs"]["agents"]["aggs"]["sample"]["top_hits"]["_source"]["includes"],
            json!([
                "wazuh.rule.title",
                "wazuh.rule.description",
                "wazuh.agent.host.ip",
                // The sample beside the dropped level fetches the level instead.
                "wazuh.rule.level"
            ])
        );
        assert_eq!(t["sort"], body["sort"]);
    }

    #[test]
    fn sample_data_is_recognised_by_its_5x_tag_too() {
        let t = request(&json!({"bool": {"must_not": [{"exists": {"field": "@sampledata"}}]}}));
        let should = &t["bool"]["must_not"][0]["bool"]["should"];
        assert_eq!(should[0], json!({"exists": {"field": "@sampledata"}}));
        assert_eq!(
            should[1],
            json!({"term": {"tags": {"value": "@sampledata"}}})
        );
        // Other `exists` tests are left alone.
        let other = json!({"exists": {"field": "source.ip"}});
        assert_eq!(request(&other), other);
    }

    #[test]
    fn a_finding_gets_the_alert_envelope() {
        let doc = json!({
            "@timestamp": "2026-11-27T10:00:00Z",
            "agent": {"type": "wazuh"},
            "wazuh": {
                "agent": {"id": "003", "name": "web-03", "host": {"ip": ["10.0.0.3", "fe80::1"]}},
                "rule": {"id": "7f0c…", "title": "Suspicious PowerShell", "level": "High",
                         "tags": ["attack.execution"],
                         "mitre": {"technique": {"id": ["T1059"]}, "subtechnique": {"id": ["T1059.001"]}}}
            },
            "source": {"ip": "198.51.100.7"}
        });
        let s = source(doc);
        assert_eq!(
            s["agent"],
            json!({"type": "wazuh", "id": "003", "name": "web-03", "ip": "10.0.0.3"})
        );
        assert_eq!(s["rule"]["level"], 12);
        assert_eq!(s["rule"]["description"], "Suspicious PowerShell");
        assert_eq!(s["rule"]["groups"], json!(["attack.execution"]));
        assert_eq!(s["rule"]["mitre"]["id"], json!(["T1059", "T1059.001"]));
        assert_eq!(
            s["wazuh"]["rule"]["level"], "High",
            "the finding keeps its own fields"
        );
        assert_eq!(s["source"]["ip"], "198.51.100.7");
    }

    #[test]
    fn hybrid_and_odd_documents_do_not_fail() {
        // The dashboard's sample generator writes ECS fields with a legacy numeric rule.
        let s = source(
            json!({"agent": {"id": "002", "name": "Amazon"}, "rule": {"id": "553", "level": 7, "description": "File deleted."}}),
        );
        assert_eq!(s["agent"]["id"], "002");
        assert_eq!(s["rule"]["level"], 7);
        assert_eq!(s["rule"]["description"], "File deleted.");
        let s = source(json!({"rule": "x", "wazuh": {"rule": {"level": "unheard-of"}}}));
        assert!(s["rule"].get("level").is_none());
        assert_eq!(source(json!([1])), json!([1]));
    }

    #[test]
    fn every_source_of_a_response_is_normalised() {
        let r = response(
            json!({"hits": {"hits": [{"_id": "a", "_source": {"wazuh": {"agent": {"id": "001"}}}}]},
            "aggregations": {"agents": {"buckets": [{"sample": {"hits": {"hits": [{"_source": {"wazuh": {"rule": {"level": "critical"}}}}]}}}]}}}),
        );
        assert_eq!(r["hits"]["hits"][0]["_source"]["agent"]["id"], "001");
        assert_eq!(
            r["aggregations"]["agents"]["buckets"][0]["sample"]["hits"]["hits"][0]["_source"]
                ["rule"]["level"],
            15
        );
    }
}
