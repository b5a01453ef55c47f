//! The set of indicators a hunter looks for: loaded page by page from the platform, kept current
//! with the changes since the last `updated_at` seen, and filtered by the same gates as an
//! enrichment (TLP, revocation, score, detection flag, validity).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::config::options::{KnowledgeOptions, Tlp};

/// An indicator as the hunt listing returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub id: String,
    pub pattern: String,
    pub pattern_type: String,
    pub revoked: bool,
    pub valid_until: Option<DateTime<Utc>>,
    pub score: Option<i64>,
    pub detection: Option<bool>,
    pub updated_at: String,
    /// `(standard_id, definition_type, definition)` of each marking.
    pub markings: Vec<(String, String, String)>,
}

/// One `indicators` node (`None`: not an indicator node; the listing is then refused loudly).
pub fn parse_node(node: &Value) -> Option<Listed> {
    let s = |k: &str| node.get(k).and_then(Value::as_str).map(String::from);
    Some(Listed {
        id: s("id")?,
        pattern: s("pattern").unwrap_or_default(),
        pattern_type: s("pattern_type").unwrap_or_else(|| "stix".into()),
        revoked: node
            .get("revoked")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        valid_until: s("valid_until")
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)),
        score: node.get("x_opencti_score").and_then(Value::as_i64),
        detection: node.get("x_opencti_detection").and_then(Value::as_bool),
        updated_at: s("updated_at").unwrap_or_default(),
        markings: node
            .get("objectMarking")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|m| {
                        let f = |k: &str| {
                            m.get(k)
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string()
                        };
                        (f("standard_id"), f("definition_type"), f("definition"))
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Why an indicator is not hunted, or `None` when it is. Fails closed like an enrichment: a
/// marking that is neither a TLP nor listed in `WAZUH_ALLOWED_MARKINGS` excludes it.
pub fn excluded(i: &Listed, k: &KnowledgeOptions, now: DateTime<Utc>) -> Option<String> {
    for (id, kind, definition) in &i.markings {
        let tlp = Tlp::from_marking_id(id).or_else(|| {
            kind.eq_ignore_ascii_case("TLP")
                .then(|| Tlp::parse(definition))
                .flatten()
        });
        match tlp {
            Some(t) if t > k.max_tlp => {
                return Some(format!("marking {} is above WAZUH_MAX_TLP", t.as_str()))
            }
            Some(_) => {}
            None if k.allowed_markings.contains(id) => {}
            None => {
                return Some(format!(
                    "marking {definition} is not a TLP (WAZUH_ALLOWED_MARKINGS)"
                ))
            }
        }
    }
    if i.valid_until.is_some_and(|v| v <= now) {
        return Some("it is no longer valid (valid_until)".into());
    }
    let info = crate::entity::IndicatorInfo {
        revoked: i.revoked,
        score: i.score,
        detection: i.detection,
        ..Default::default()
    };
    crate::knowledge::indicator_excluded(&info, k)
}

/// The `filters` of a listing: everything (`since: None`, the full load: only what can be
/// hunted now) or the changes after `since` (revocations and expiries included, so that they
/// leave the set).
pub fn filters(since: Option<&str>, k: &KnowledgeOptions, now: DateTime<Utc>) -> Value {
    let f = |key: &str, value: &str, op: &str| json!({"key": [key], "values": [value], "operator": op, "mode": "or"});
    let mut list = Vec::new();
    match since {
        Some(t) => list.push(f("updated_at", t, "gte")),
        None => {
            if k.ignore_revoked_indicators {
                list.push(f("revoked", "false", "eq"));
            }
            list.push(f(
                "valid_until",
                &now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                "gt",
            ));
        }
    }
    json!({"mode": "and", "filters": list, "filterGroups": []})
}

/// The hunted set: id → indicator, and the newest `updated_at` seen.
#[derive(Debug, Clone, Default)]
pub struct IndicatorSet {
    pub hunted: BTreeMap<String, Listed>,
    pub newest_update: Option<String>,
}

impl IndicatorSet {
    /// Applies listed nodes (a full load or a delta): hunted ones are added or replaced, excluded
    /// ones removed. Returns whether the hunted set changed.
    pub fn apply(&mut self, listed: Vec<Listed>, k: &KnowledgeOptions, now: DateTime<Utc>) -> bool {
        let mut changed = false;
        for i in listed {
            if self.newest_update.as_deref() < Some(i.updated_at.as_str()) {
                self.newest_update = Some(i.updated_at.clone());
            }
            if excluded(&i, k, now).is_some() {
                changed |= self.hunted.remove(&i.id).is_some();
            } else {
                let same = self
                    .hunted
                    .get(&i.id)
                    .is_some_and(|o| o.pattern == i.pattern && o.pattern_type == i.pattern_type);
                changed |= !same;
                self.hunted.insert(i.id.clone(), i);
            }
        }
        changed
    }

    /// Drops indicators whose validity ended since they were listed.
    pub fn expire(&mut self, now: DateTime<Utc>) -> bool {
        let before = self.hunted.len();
        self.hunted
            .retain(|_, i| i.valid_until.is_none_or(|v| v > now));
        before != self.hunted.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, revoked: bool, marking: &str, updated: &str) -> Value {
        json!({"id": id, "standard_id": format!("indicator--{id}"), "pattern": "[ipv4-addr:value = '1.2.3.4']", "pattern_type": "stix",
               "revoked": revoked, "valid_until": "2099-01-01T00:00:00.000Z", "x_opencti_score": 80, "x_opencti_detection": true,
               "updated_at": updated, "objectMarking": [{"standard_id": marking, "definition_type": "TLP", "definition": "x"}]})
    }

    fn opts() -> KnowledgeOptions {
        crate::pipeline::inspect::tests::settings().knowledge
    }

    #[test]
    fn gates_fail_closed_and_revocations_leave_the_set() {
        let now = Utc::now();
        let k = opts();
        let green = Tlp::Green.marking_id();
        let red = Tlp::Red.marking_id();
        let mut set = IndicatorSet::default();
        let listed: Vec<Listed> = [
            node("a", false, green, "2026-01-01T00:00:00.000Z"),
            node("b", false, red, "2026-01-02T00:00:00.000Z"),
            node(
                "c",
                false,
                "marking-definition--custom",
                "2026-01-03T00:00:00.000Z",
            ),
        ]
        .iter()
        .filter_map(parse_node)
        .collect();
        assert!(set.apply(listed, &k, now));
        assert_eq!(set.hunted.keys().collect::<Vec<_>>(), vec!["a"]);
        assert_eq!(
            set.newest_update.as_deref(),
            Some("2026-01-03T00:00:00.000Z")
        );
        let revoked = parse_node(&node("a", true, green, "2026-01-04T00:00:00.000Z")).unwrap();
        assert!(set.apply(vec![revoked], &k, now));
        assert!(set.hunted.is_empty());
    }

    #[test]
    fn expired_indicators_are_not_hunted() {
        let now = Utc::now();
        let mut n = node(
            "a",
            false,
            Tlp::Clear.marking_id(),
            "2026-01-01T00:00:00.000Z",
        );
        n["valid_until"] = json!("2020-01-01T00:00:00.000Z");
        let i = parse_node(&n).unwrap();
        assert!(excluded(&i, &opts(), now).unwrap().contains("valid_until"));
    }

    #[test]
    fn full_load_and_delta_filters() {
        let k = opts();
        let now = Utc::now();
        let full = filters(None, &k, now);
        let keys: Vec<&str> = full["filters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"][0].as_str().unwrap())
            .collect();
        assert_eq!(keys, vec!["revoked", "valid_until"]);
        let delta = filters(Some("2026-01-01T00:00:00.000Z"), &k, now);
        assert_eq!(delta["filters"][0]["key"][0], "updated_at");
        assert_eq!(delta["filters"][0]["operator"], "gte");
    }
}
