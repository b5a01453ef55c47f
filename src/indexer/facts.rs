//! The facts answer: for every alert of a search with more hits than its sample, only the few
//! fields its statistics need (time, agent, rule), each hit counted into the statistics as it
//! is parsed — there may be 10,000 of them and none is kept.
//!
//! Tolerant like the sample's parser (`Alert::from_source`): a field of an unexpected type
//! (a numeric agent id, a rule level given as text, an object where a keyword was expected)
//! is read as text where it can be and ignored where it cannot, so one odd alert never fails
//! the statistics of the others. Fields are read by hand-written visitors rather than serde's
//! `untagged` enums, which buffer each value and build an error message for every variant that
//! does not match — on a 10,000-hit answer that was a visible share of the parse.

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::response::{level, Metric};
use crate::alert::{Agent, Alert};

#[derive(Deserialize)]
pub(crate) struct FactsResponse {
    #[serde(default)]
    pub took: u64,
    #[serde(default)]
    pub timed_out: bool,
    #[serde(default)]
    pub hits: FactHits,
}

#[derive(Deserialize, Default)]
pub(crate) struct FactHits {
    #[serde(default)]
    pub hits: FactFold,
}

/// The statistics of the hits, and how many hits had no usable timestamp (then the statistics
/// cannot be exact from them).
#[derive(Default)]
pub(crate) struct FactFold {
    pub stats: crate::knowledge::stats::Accumulator,
    pub unusable: usize,
}

impl<'de> Deserialize<'de> for FactFold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fold;
        impl<'de> Visitor<'de> for Fold {
            type Value = FactFold;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of hits")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FactFold, A::Error> {
                let mut out = FactFold::default();
                while let Some(h) = seq.next_element::<FactHit>()? {
                    match fact_alert(h.source) {
                        Some(a) => out.stats.add(&a),
                        None => out.unusable += 1,
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_seq(Fold)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct FactHit {
    #[serde(rename = "_source", default)]
    pub source: FactSource,
}

/// A field read leniently: text, a number (kept as the indexer wrote it), or something else
/// (ignored).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field {
    Text(String),
    Number(serde_json::Number),
    Other,
}

impl Field {
    /// The field as text (numbers as written); `None` for anything else.
    fn text(self) -> Option<String> {
        match self {
            Field::Text(s) => Some(s),
            Field::Number(n) => Some(n.to_string()),
            Field::Other => None,
        }
    }

    /// The field as a number (numeric text parsed); `None` for anything else.
    fn number(&self) -> Option<f64> {
        match self {
            Field::Number(n) => n.as_f64(),
            Field::Text(t) => t.trim().parse::<f64>().ok(),
            Field::Other => None,
        }
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a keyword or a number")
            }
            fn visit_str<E>(self, v: &str) -> Result<Field, E> {
                Ok(Field::Text(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Field, E> {
                Ok(Field::Text(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Field, E> {
                Ok(Field::Number(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Field, E> {
                Ok(Field::Number(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Field, E> {
                Ok(serde_json::Number::from_f64(v).map_or(Field::Other, Field::Number))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_unit<E>(self) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// An object read leniently: anything else in its place counts as absent.
fn lenient_object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(T::default())
        }
        fn visit_str<E>(self, _: &str) -> Result<T, E> {
            Ok(T::default())
        }
        fn visit_u64<E>(self, _: u64) -> Result<T, E> {
            Ok(T::default())
        }
        fn visit_i64<E>(self, _: i64) -> Result<T, E> {
            Ok(T::default())
        }
        fn visit_f64<E>(self, _: f64) -> Result<T, E> {
            Ok(T::default())
        }
        fn visit_bool<E>(self, _: bool) -> Result<T, E> {
            Ok(T::default())
        }
        fn visit_unit<E>(self) -> Result<T, E> {
            Ok(T::default())
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct FactSource {
    #[serde(rename = "@timestamp", default)]
    pub ts: Option<Field>,
    #[serde(default)]
    pub timestamp: Option<Field>,
    #[serde(default, deserialize_with = "lenient_object")]
    pub agent: FactAgent,
    #[serde(default, deserialize_with = "lenient_object")]
    pub rule: FactRule,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct FactAgent {
    #[serde(default)]
    pub id: Option<Field>,
    #[serde(default)]
    pub name: Option<Field>,
    #[serde(default)]
    pub ip: Option<Field>,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct FactRule {
    #[serde(default)]
    pub id: Option<Field>,
    #[serde(default)]
    pub level: Option<Field>,
    #[serde(default)]
    pub description: Option<Field>,
}

fn text(f: Option<Field>) -> Option<String> {
    f.and_then(Field::text)
}

/// An alert of a facts answer, carrying no `_source` (statistics only); `None` without a
/// usable timestamp.
pub(crate) fn fact_alert(s: FactSource) -> Option<Alert> {
    // Times only as text: a number there is no time the statistics can place (the alert then
    // counts as unusable and the aggregations give the exact figures).
    let as_time = |f: Option<Field>| match f {
        Some(Field::Text(t)) => Some(t),
        _ => None,
    };
    let timestamp = as_time(s.ts)
        .or_else(|| as_time(s.timestamp))
        .filter(|t| !t.is_empty())?;
    let rule_level = s.rule.level.as_ref().and_then(Field::number);
    Some(Alert {
        doc_id: String::new(),
        index: String::new(),
        timestamp,
        alert_id: None,
        rule: crate::alert::Rule {
            id: text(s.rule.id).unwrap_or_default(),
            level: level(&Metric { value: rule_level }),
            description: text(s.rule.description).unwrap_or_default(),
            ..Default::default()
        },
        agent: Agent {
            id: text(s.agent.id).unwrap_or_default(),
            name: text(s.agent.name).unwrap_or_default(),
            ip: text(s.agent.ip),
        },
        source: crate::alert::Source::none(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(hits: &str) -> (FactFold, u64) {
        let body = format!(r#"{{"took": 3, "timed_out": false, "hits": {{"hits": [{hits}]}}}}"#);
        let r: FactsResponse = serde_json::from_str(&body).unwrap();
        (r.hits.hits, r.took)
    }

    #[test]
    fn keywords_and_numbers_are_read_either_way() {
        let (f, took) = fold(
            r#"{"_source": {"@timestamp": "2026-12-01T10:00:00.000Z",
                 "agent": {"id": "002", "name": "web-01", "ip": "10.0.0.2"},
                 "rule": {"id": 5710, "level": "10", "description": "sshd"}}},
               {"_source": {"timestamp": "2026-12-01T11:00:00.000Z",
                 "agent": {"id": 2, "name": "web-01"},
                 "rule": {"id": "5710", "level": 3.0, "description": "sshd: invalid user"}}}"#,
        );
        assert_eq!((took, f.unusable, f.stats.alerts()), (3, 0, 2));
        let (agents, rules) = f.stats.finish();
        // "002" and 2 are different agent ids as the indexer stores them.
        assert_eq!(agents.len(), 2);
        assert_eq!(rules.len(), 1);
        let r = &rules[0];
        assert_eq!((r.rule_id.as_str(), r.count, r.level), ("5710", 2, 10));
        assert_eq!(
            r.description, "sshd: invalid user",
            "the newest alert names the rule"
        );
    }

    #[test]
    fn an_odd_alert_never_fails_the_others() {
        let (f, _) = fold(
            r#"{"_source": {"@timestamp": "2026-12-01T10:00:00Z", "agent": "not an object",
                 "rule": {"id": {"nested": [1, 2]}, "level": true, "description": null}}},
               {"_source": {"@timestamp": "2026-12-01T10:00:01Z", "agent": {"id": ["a", "b"]},
                 "rule": [1, 2, 3]}},
               {"_source": {"@timestamp": 1764583200000, "rule": {"id": "1"}}},
               {"_source": {"@timestamp": "", "rule": {"id": "1"}}},
               {"_source": {"@timestamp": "2026-12-01T10:00:02Z", "agent": {"id": "001"},
                 "rule": {"id": "1", "level": 5}}}"#,
        );
        // A time that is not text, or is empty, cannot be placed: counted as unusable (the
        // aggregations then give the exact figures), the rest counted.
        assert_eq!((f.stats.alerts(), f.unusable), (3, 2));
        let (agents, rules) = f.stats.finish();
        assert_eq!(agents.iter().map(|a| a.count).sum::<u64>(), 3);
        assert!(rules.iter().any(|r| r.rule_id == "1" && r.level == 5));
        assert!(rules.iter().any(|r| r.rule_id.is_empty() && r.level == 0));
    }

    #[test]
    fn a_malformed_answer_is_still_an_error() {
        let r = serde_json::from_str::<FactsResponse>(r#"{"hits": {"hits": [{"_source": {"#);
        assert!(r.is_err());
        let r = serde_json::from_str::<FactsResponse>(r#"{"hits": {"hits": {"not": "a list"}}}"#);
        assert!(r.is_err());
    }
}
